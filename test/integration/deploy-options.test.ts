// The deploy-time options of issue 26, asserted on packaged templates (`serverless package` with the same
// --param flags a deploy takes) as CloudFormation would deploy them (test/support/cfn-conditions.ts):
//   - STATIC_IP: a VPC whose private subnets hold the functions that call Bybit, leaving through NAT
//     gateways with Elastic IPs, named in the outputs; none of it without the parameter;
//   - RESERVED_CONCURRENCY=false: no reservations, and shares that keep a 10-container account under 600;
//   - CANCEL_ALL_PROVISIONED_CONCURRENCY: initialised cancelAll environments behind the alias events reach.

import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../lib/lambda/config.ts';
import { packageService } from '../support/bundle.ts';
import { deployedTemplate, type Template } from '../support/cfn-conditions.ts';
import { validateTemplate } from '../support/cfn-spec.ts';
import { EXCHANGE_FUNCTIONS } from '../support/template.ts';

type Json = Record<string, unknown>;
type Resource = Template['Resources'][string];

const BYBIT_IP_LIMIT = 600;
/** The limit a new AWS account often starts with: every container of the account, ours or not. */
const SMALL_ACCOUNT_LIMIT = 10;
const PACKAGE_TIMEOUT_MS = 240_000;

const byDefault = inject('packaged').template as Template;
const ALL_FUNCTIONS = Object.keys(byDefault.Resources).filter(
  (id) => byDefault.Resources[id]?.Type === 'AWS::Lambda::Function',
);
/** The functions that call only AWS (heartbeat, status, telegram): outside the VPC, no share of the IP limit. */
const AWS_ONLY_FUNCTIONS = ALL_FUNCTIONS.filter(
  (id) => !(EXCHANGE_FUNCTIONS as readonly string[]).includes(id),
);
let oneAddress: Template;
let twoAddresses: Template;

beforeAll(async () => {
  // One at a time (bundle.ts serialises packaging across test files anyway).
  oneAddress = (
    await packageService(['--param=STATIC_IP=true', '--param=CANCEL_ALL_PROVISIONED_CONCURRENCY=1'])
  ).template as Template;
  twoAddresses = (await packageService(['--param=STATIC_IP=2', '--param=RESERVED_CONCURRENCY=false']))
    .template as Template;
}, PACKAGE_TIMEOUT_MS);

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const props = (r: Resource | undefined) => (r?.Properties ?? {}) as Json;
const ref = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
const getAtt = (value: unknown) => (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'];
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The zone index a subnet names (`!Select [i, !GetAZs ""]`). */
function zoneOf(subnet: Resource | undefined): number {
  const select = props(subnet).AvailabilityZone as { 'Fn::Select': [number, unknown] };
  return Number(select['Fn::Select'][0]);
}

/** The route table a subnet is associated with. */
function routeTableOf(t: Template, subnetId: string): string {
  const associations = ofType(t, 'AWS::EC2::SubnetRouteTableAssociation').filter(
    ([, a]) => ref(props(a).SubnetId) === subnetId,
  );
  expect(associations, `route table associations of ${subnetId}`).toHaveLength(1);
  return ref(props(associations[0]?.[1]).RouteTableId) as string;
}

/** Where a route table sends 0.0.0.0/0: `{ nat }` or `{ gateway }` (logical ids). */
function defaultRoute(t: Template, routeTable: string) {
  const routes = ofType(t, 'AWS::EC2::Route').filter(
    ([, r]) => ref(props(r).RouteTableId) === routeTable && props(r).DestinationCidrBlock === '0.0.0.0/0',
  );
  expect(routes, `default routes of ${routeTable}`).toHaveLength(1);
  const route = props(routes[0]?.[1]);
  return { nat: ref(route.NatGatewayId), gateway: ref(route.GatewayId) };
}

/** The statements of every inline policy of a role. */
function statementsOf(role: Resource | undefined): Json[] {
  const policies = list(props(role).Policies as { PolicyDocument: { Statement: Json[] } }[]);
  return policies.flatMap((p) => list(p.PolicyDocument.Statement));
}

/** What the function's role lets it do with EC2. */
function ec2Actions(t: Template, functionId: string): string[] {
  const roleId = getAtt(props(t.Resources[functionId]).Role)?.[0] as string;
  return statementsOf(t.Resources[roleId])
    .flatMap((s) => list(s.Action as string | string[]))
    .filter((a) => a.startsWith('ec2:'));
}

/** Every check that holds for any number of addresses. */
function checkStaticIp(packaged: Template, addresses: number) {
  const t = deployedTemplate(packaged);
  const [vpcs, gateways, eips, nats] = [
    ofType(t, 'AWS::EC2::VPC'),
    ofType(t, 'AWS::EC2::InternetGateway'),
    ofType(t, 'AWS::EC2::EIP'),
    ofType(t, 'AWS::EC2::NatGateway'),
  ];
  expect(vpcs).toHaveLength(1);
  expect(gateways).toHaveLength(1);
  expect(eips).toHaveLength(addresses);
  expect(nats).toHaveLength(addresses);
  const vpc = vpcs[0]?.[0] as string;
  const internetGateway = gateways[0]?.[0] as string;
  const attachments = ofType(t, 'AWS::EC2::VPCGatewayAttachment').map(([, a]) => props(a));
  expect(attachments.map((a) => [ref(a.VpcId), ref(a.InternetGatewayId)])).toEqual([[vpc, internetGateway]]);

  // The exchange functions: in two private subnets of two zones, with a security group of the VPC.
  const placements = EXCHANGE_FUNCTIONS.map((id) => props(t.Resources[id]).VpcConfig as Json | undefined);
  for (const [i, placement] of placements.entries()) expect(placement, EXCHANGE_FUNCTIONS[i]).toBeDefined();
  const privateSubnets = list(placements[0]?.SubnetIds).map(ref) as string[];
  for (const placement of placements) {
    expect(list(placement?.SubnetIds).map(ref)).toEqual(privateSubnets);
    const groups = list(placement?.SecurityGroupIds).map(ref) as string[];
    expect(groups).toHaveLength(1);
    expect(ref(props(t.Resources[groups[0] as string]).VpcId)).toBe(vpc);
  }
  for (const id of AWS_ONLY_FUNCTIONS) expect(props(t.Resources[id]).VpcConfig, id).toBeUndefined();
  expect(privateSubnets).toHaveLength(2);
  expect(new Set(privateSubnets.map((id) => zoneOf(t.Resources[id]))).size).toBe(2);

  // Each private subnet leaves through a NAT gateway of its zone (the one NAT with one address): a NAT
  // gateway in a public subnet, whose route goes to the internet gateway, holding an Elastic IP.
  const natsUsed = new Set<string>();
  for (const subnet of privateSubnets) {
    expect(ref(props(t.Resources[subnet]).VpcId)).toBe(vpc);
    const { nat, gateway } = defaultRoute(t, routeTableOf(t, subnet));
    expect(gateway, `${subnet} must not reach the internet gateway directly`).toBeUndefined();
    const natGateway = props(t.Resources[nat as string]);
    expect(t.Resources[nat as string]?.Type).toBe('AWS::EC2::NatGateway');
    const publicSubnet = ref(natGateway.SubnetId) as string;
    expect(privateSubnets).not.toContain(publicSubnet);
    expect(defaultRoute(t, routeTableOf(t, publicSubnet)).gateway).toBe(internetGateway);
    const [eip, attribute] = getAtt(natGateway.AllocationId) ?? [];
    expect(t.Resources[eip as string]?.Type).toBe('AWS::EC2::EIP');
    expect(attribute).toBe('AllocationId');
    if (addresses > 1) expect(zoneOf(t.Resources[publicSubnet])).toBe(zoneOf(t.Resources[subnet]));
    natsUsed.add(nat as string);
  }
  expect(natsUsed.size).toBe(addresses);

  // DynamoDB (the state table) through the free gateway endpoint, from both private route tables.
  const endpoints = ofType(t, 'AWS::EC2::VPCEndpoint').map(([, e]) => props(e));
  expect(endpoints).toHaveLength(1);
  expect(endpoints[0]).toMatchObject({ VpcEndpointType: 'Gateway' });
  expect(JSON.stringify(endpoints[0]?.ServiceName)).toContain('.dynamodb');
  expect(list(endpoints[0]?.RouteTableIds).map(ref).sort()).toEqual(
    privateSubnets.map((s) => routeTableOf(t, s)).sort(),
  );

  // Nothing comes in; out, HTTPS only.
  const group = props(t.Resources[ref(list(placements[0]?.SecurityGroupIds)[0]) as string]);
  expect(group.SecurityGroupIngress).toBeUndefined();
  expect(group.SecurityGroupEgress).toEqual([
    expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' }),
  ]);

  // The roles may manage the functions' network interfaces; "*" only where EC2 allows nothing narrower.
  for (const id of EXCHANGE_FUNCTIONS) {
    expect(ec2Actions(t, id)).toEqual(
      expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']),
    );
  }
  for (const id of AWS_ONLY_FUNCTIONS) expect(ec2Actions(t, id), id).toEqual([]);
  const ec2Statements = Object.values(t.Resources)
    .flatMap((r) => (r.Type === 'AWS::IAM::Role' ? statementsOf(r) : []))
    .filter((s) => list(s.Action as string[]).some((a) => a.startsWith('ec2:')));
  for (const s of ec2Statements.filter((st) => st.Resource === '*')) {
    for (const action of list(s.Action as string[])) expect(action).toMatch(/^ec2:Describe/);
  }

  // The output names every address, comma-separated as Bybit's key page takes them.
  const output = t.Outputs?.StaticIpAddresses?.Value as Json;
  const [separator, parts]: [string, unknown[]] =
    'Fn::Join' in output ? (output['Fn::Join'] as [string, unknown[]]) : [',', [output]];
  expect(separator).toBe(',');
  expect(parts.map(ref).sort()).toEqual(eips.map(([id]) => id).sort());
}

describe('STATIC_IP', () => {
  it('without it, the stack has no VPC, no NAT gateway, no address and no function in a VPC', () => {
    const t = deployedTemplate(byDefault);
    expect([...AWS_ONLY_FUNCTIONS].sort()).toEqual([
      'HeartbeatLambdaFunction',
      'StatusLambdaFunction',
      'TelegramLambdaFunction',
    ]);
    expect(Object.values(t.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    for (const id of ALL_FUNCTIONS) expect(props(t.Resources[id]).VpcConfig, id).toBeUndefined();
    for (const id of ALL_FUNCTIONS) expect(ec2Actions(t, id), id).toEqual([]);
    expect(t.Outputs?.StaticIpAddresses).toBeUndefined();
    // Not deployed, and not merely hidden: no function refers to the network in the template either.
    for (const id of ALL_FUNCTIONS) expect(props(byDefault.Resources[id]).VpcConfig).toBeUndefined();
  });

  it('STATIC_IP=true: the template validates offline', async () => {
    expect(await validateTemplate(oneAddress)).toEqual([]);
  });

  it('STATIC_IP=true: the exchange functions leave through one NAT gateway and its Elastic IP, named in the outputs', () => {
    checkStaticIp(oneAddress, 1);
  });

  it('STATIC_IP=2: the template validates offline', async () => {
    expect(await validateTemplate(twoAddresses)).toEqual([]);
  });

  it('STATIC_IP=2: each zone leaves through its own NAT gateway and address, both in the outputs', () => {
    checkStaticIp(twoAddresses, 2);
  });

  it(
    'refuses a value it does not know before building anything',
    async () => {
      // Serverless prints its error on stdout and exits 1.
      const failure = await packageService(['--param=STATIC_IP=3']).catch(
        (error: { stdout?: string }) => error,
      );
      expect((failure as { stdout?: string }).stdout).toMatch(/STATIC_IP is "3": use false, true/);
    },
    PACKAGE_TIMEOUT_MS,
  );
});

/** Containers × budget per container, over the exchange functions, when every container exists at once. */
function shares(t: Template) {
  return EXCHANGE_FUNCTIONS.map((id) => {
    const properties = props(t.Resources[id]);
    const env = (properties.Environment as { Variables: Record<string, string> }).Variables;
    return {
      id,
      reserved: properties.ReservedConcurrentExecutions as number | undefined,
      share: loadConfig(env).ipRequestsPer5s,
    };
  });
}

describe('RESERVED_CONCURRENCY=false', () => {
  it('reserves nothing, for any function', () => {
    for (const [id, fn] of ofType(deployedTemplate(twoAddresses), 'AWS::Lambda::Function')) {
      expect(props(fn).ReservedConcurrentExecutions, id).toBeUndefined();
    }
  });

  it('cuts every exchange container to a share that 10 containers keep under 600 per address', () => {
    const unreserved = shares(deployedTemplate(twoAddresses));
    for (const { id, share } of unreserved) {
      // Every container of the account may be ours and leave through the same address.
      expect(SMALL_ACCOUNT_LIMIT * share, id).toBeLessThan(BYBIT_IP_LIMIT);
    }
    expect(unreserved.map((u) => u.share)).toEqual(EXCHANGE_FUNCTIONS.map(() => 50));
  });

  it('keeps the default reservations and shares otherwise (the arithmetic of docs/concepts/capacity.md)', () => {
    const total = shares(deployedTemplate(byDefault)).reduce(
      (sum, s) => sum + (s.reserved ?? 0) * s.share,
      0,
    );
    expect(total).toBe(520);
  });
});

describe('CANCEL_ALL_PROVISIONED_CONCURRENCY', () => {
  const aliasesOf = (t: Template) => ofType(deployedTemplate(t), 'AWS::Lambda::Alias');

  it('is 0 by default: no alias, no version, the events reach the function itself', () => {
    expect(aliasesOf(byDefault)).toEqual([]);
    expect(ofType(byDefault, 'AWS::Lambda::Version')).toEqual([]);
  });

  it('=1 keeps one cancelAll environment initialised, within its reservation, behind the alias every trigger reaches', () => {
    const t = deployedTemplate(oneAddress);
    const aliases = aliasesOf(oneAddress);
    expect(aliases).toHaveLength(1);
    const [aliasId, alias] = aliases[0] as [string, Resource];
    expect(ref(props(alias).FunctionName)).toBe('CancelAllLambdaFunction');
    expect(props(alias).ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 1 });
    const aliasName = props(alias).Name as string;
    // Provisioned environments are drawn from the reservation: containers × budget is unchanged.
    expect(props(t.Resources.CancelAllLambdaFunction).ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
    // The kill-switch rule, the HTTP route and the failure destination use the alias, not $LATEST.
    const rule = ofType(t, 'AWS::Events::Rule').find(([id]) => id.includes('cancelAll'))?.[1];
    expect(JSON.stringify(props(rule).Targets)).toContain(`"${aliasName}"`);
    const integration = props(t.Resources.HttpApiIntegrationCancelAll);
    expect(JSON.stringify(integration.IntegrationUri)).toContain(aliasName);
    expect(props(t.Resources.CancelAllLambdaEvConf).Qualifier).toBe(aliasName);
    expect(t.Resources.CancelAllLambdaEvConf?.DependsOn).toBe(aliasId);
  });
});
