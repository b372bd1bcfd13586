// A local Serverless plugin for STATIC_IP (serverless.yml, custom.staticIp): the functions that call Bybit
// run in the stack's private subnets, so they leave through the NAT gateways' Elastic IPs, the addresses the
// keys are bound to. The network itself is plain CloudFormation in serverless.yml, under the StaticIp
// condition. What YAML cannot say conditionally is done here, at package time, from the same setting:
//   - each exchange function's `vpc` (subnets and security group). Set before the functions are compiled,
//     so that it is part of the function's configuration hash: with provisioned concurrency, turning
//     STATIC_IP on or off then publishes a new version, and the alias the events reach moves to it;
//   - their roles' rights on the network interfaces Lambda creates for them (the Lambda developer guide's
//     list, scoped to this account and region where EC2 allows it; Describe* only works on "*");
//   - a value other than false, true, 1 or 2 fails the package instead of deploying something else.
'use strict';

/**
 * STATIC_IP values: the number of Elastic IPs (and NAT gateways) each one creates. Spelled exactly so: the
 * StaticIp condition in serverless.yml compares the same text with "false".
 */
const ADDRESSES = { false: 0, true: 1, 1: 1, 2: 2 };
const SUBNETS = ['StaticIpPrivateSubnetA', 'StaticIpPrivateSubnetB'];
const SECURITY_GROUP = 'StaticIpFunctionSecurityGroup';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const EC2_ANY = 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*';

/** The number of addresses STATIC_IP asks for; throws on anything else. */
function addressCount(value, ServerlessError) {
  const count = Object.hasOwn(ADDRESSES, String(value)) ? ADDRESSES[String(value)] : undefined;
  if (count === undefined) {
    throw new ServerlessError(
      `STATIC_IP is "${value}": use false, true (one address, one NAT gateway) or 2 (two addresses, one NAT gateway per zone)`,
    );
  }
  return count;
}

class StaticIp {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // A wrong value fails before anything is built.
      'before:package:initialize': () => this.settings(),
      'before:package:compileFunctions': () => this.placeFunctions(),
      // After the stack's own resources (roles of its own) are merged into the template.
      'before:aws:package:finalize:saveServiceState': () => this.grantNetworkInterfaces(),
    };
  }

  settings() {
    const custom = this.serverless.service.custom?.staticIp ?? {};
    return {
      count: addressCount(custom.addresses ?? false, this.serverless.classes.Error),
      functions: custom.functions ?? [],
    };
  }

  placeFunctions() {
    const { count, functions } = this.settings();
    if (count === 0) return;
    for (const name of functions) {
      const fn = this.serverless.service.getFunction(name);
      if (fn.vpc || this.serverless.service.provider.vpc) {
        throw new this.serverless.classes.Error(
          `STATIC_IP builds the VPC of function "${name}" itself: remove its vpc (or provider.vpc) setting`,
        );
      }
      fn.vpc = {
        securityGroupIds: [{ Ref: SECURITY_GROUP }],
        subnetIds: SUBNETS.map((id) => ({ Ref: id })),
      };
    }
  }

  grantNetworkInterfaces() {
    const { count, functions } = this.settings();
    if (count === 0) return;
    const { service } = this.serverless;
    const naming = this.serverless.getProvider('aws').naming;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const roles = new Set(
      functions.map((name) => {
        const role = resources[naming.getLambdaLogicalId(name)]?.Properties?.Role;
        const id = role?.['Fn::GetAtt']?.[0];
        if (!resources[id]) {
          throw new this.serverless.classes.Error(
            `STATIC_IP: function "${name}" runs as a role outside this stack; give it the network-interface rights of a VPC function yourself`,
          );
        }
        return id;
      }),
    );
    for (const id of roles) {
      const properties = resources[id].Properties;
      properties.Policies = [
        ...(properties.Policies ?? []),
        {
          PolicyName: `${service.service}-${this.serverless.getProvider('aws').getStage()}-network-interfaces`,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: [
                  'ec2:CreateNetworkInterface',
                  'ec2:DeleteNetworkInterface',
                  'ec2:AssignPrivateIpAddresses',
                  'ec2:UnassignPrivateIpAddresses',
                ],
                Resource: { 'Fn::Sub': EC2_ANY },
              },
              {
                Effect: 'Allow',
                Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
                Resource: '*',
              },
            ],
          },
        },
      ];
    }
  }
}

module.exports = StaticIp;
module.exports.addressCount = addressCount;
