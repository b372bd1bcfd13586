// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is CloudFormation Fn::Sub syntax, not JavaScript.
import { beforeAll, describe, expect, it } from 'vitest';
import { validateTemplate } from '../support/cfn-spec.ts';

// The shape Serverless Framework packages: a function, its execution role and its log group.
const validTemplate = {
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { Stage: { Type: 'String', Default: 'dev' } },
  Resources: {
    CancelLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: '/aws/lambda/bybit-cancel-dev-cancel', RetentionInDays: 14 },
    },
    IamRoleLambdaExecution: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
          ],
        },
        Policies: [
          {
            PolicyName: { 'Fn::Join': ['-', ['bybit-cancel', { Ref: 'Stage' }, 'lambda']] },
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*' }],
                },
              ],
            },
          },
        ],
      },
    },
    CancelLambdaFunction: {
      Type: 'AWS::Lambda::Function',
      DependsOn: ['CancelLogGroup'],
      Properties: {
        Code: { S3Bucket: 'deployment-bucket', S3Key: 'cancel.zip' },
        Handler: 'handlers/cancel.handler',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 10,
        Role: { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] },
        Environment: { Variables: { SECRET_ID: 'bybit/main' } },
        LoggingConfig: { LogGroup: { Ref: 'CancelLogGroup' } },
      },
    },
  },
  Outputs: {
    CancelFunctionArn: { Value: { 'Fn::GetAtt': 'CancelLambdaFunction.Arn' } },
  },
};

/** A fresh copy of the valid template with one resource's properties changed. */
function withFunction(change: (properties: Record<string, unknown>) => void): typeof validTemplate {
  const template = structuredClone(validTemplate);
  change(template.Resources.CancelLambdaFunction.Properties as Record<string, unknown>);
  return template;
}

describe('validateTemplate', () => {
  beforeAll(async () => {
    // Prepare: the first call loads the spec database; keep that out of the individual tests' time.
    await validateTemplate({ Resources: {} });
  });

  it('reports no problems for a valid Lambda function, IAM role and log group', async () => {
    // Act
    const problems = await validateTemplate(validTemplate);

    // Assess
    expect(problems).toEqual([]);
  });

  it('reports an unknown resource type', async () => {
    // Prepare
    const template = structuredClone(validTemplate);
    Object.assign(template.Resources, { Topic: { Type: 'AWS::SNS::Topik' } });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      { resource: 'Topic', path: 'Resources.Topic.Type', message: 'unknown resource type "AWS::SNS::Topik"' },
    ]);
  });

  it('reports a misspelled property and suggests the real name', async () => {
    // Prepare
    const template = withFunction((properties) => {
      properties.Runtimee = properties.Runtime;
      delete properties.Runtime;
    });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'CancelLambdaFunction',
        path: 'Resources.CancelLambdaFunction.Properties.Runtimee',
        message: 'unknown property "Runtimee" for AWS::Lambda::Function (did you mean "Runtime"?)',
      },
    ]);
  });

  it('reports a missing required property', async () => {
    // Prepare
    const template = withFunction((properties) => {
      delete properties.Role;
    });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'CancelLambdaFunction',
        path: 'Resources.CancelLambdaFunction.Properties.Role',
        message: 'missing required property "Role" for AWS::Lambda::Function',
      },
    ]);
  });

  it('reports misspelled and missing properties inside nested property types', async () => {
    // Prepare
    const template = withFunction((properties) => {
      properties.Code = { S3Buckett: 'deployment-bucket', S3Key: 'cancel.zip' };
    });
    const policy = template.Resources.IamRoleLambdaExecution.Properties.Policies[0] as Record<
      string,
      unknown
    >;
    delete policy.PolicyName;

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'IamRoleLambdaExecution',
        path: 'Resources.IamRoleLambdaExecution.Properties.Policies.0.PolicyName',
        message: 'missing required property "PolicyName" for property type Policy',
      },
      {
        resource: 'CancelLambdaFunction',
        path: 'Resources.CancelLambdaFunction.Properties.Code.S3Buckett',
        message: 'unknown property "S3Buckett" for property type Code (did you mean "S3Bucket"?)',
      },
    ]);
  });

  it('skips nested checks where the value is an intrinsic function', async () => {
    // Prepare
    const template = withFunction((properties) => {
      properties.Code = { 'Fn::If': ['UseImage', { ImageUri: 'x' }, { Ref: 'AWS::NoValue' }] };
    });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([]);
  });

  it('reports a Ref to a resource or parameter that does not exist', async () => {
    // Prepare
    const template = withFunction((properties) => {
      properties.LoggingConfig = { LogGroup: { Ref: 'MissingLogGroup' } };
    });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'CancelLambdaFunction',
        path: 'Resources.CancelLambdaFunction.Properties.LoggingConfig.LogGroup',
        message: 'Ref target "MissingLogGroup" is not a resource or parameter in this template',
      },
    ]);
  });

  it('reports a DependsOn target that does not exist', async () => {
    // Prepare
    const template = structuredClone(validTemplate);
    template.Resources.CancelLambdaFunction.DependsOn = ['CancelLogGroup', 'IamRolePolicy'];

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'CancelLambdaFunction',
        path: 'Resources.CancelLambdaFunction.DependsOn.1',
        message: 'DependsOn target "IamRolePolicy" is not a resource in this template',
      },
    ]);
  });

  it('reports dangling Fn::GetAtt and Fn::Sub targets, unknown attributes and pseudo parameters', async () => {
    // Prepare
    const template = withFunction((properties) => {
      properties.Role = { 'Fn::GetAtt': ['IamRole', 'Arn'] };
      properties.KmsKeyArn = { 'Fn::GetAtt': ['CancelLogGroup', 'Arnn'] };
      properties.Description = {
        'Fn::Sub': ['${Missing.Arn} in ${AWS::Regoin} ${Local} ${!Literal}', { Local: 'x' }],
      };
    });

    // Act
    const messages = (await validateTemplate(template)).map(({ resource, message }) => ({
      resource,
      message,
    }));

    // Assess
    expect(messages).toEqual([
      {
        resource: 'CancelLambdaFunction',
        message: 'Fn::GetAtt target "IamRole" is not a resource in this template',
      },
      {
        resource: 'CancelLambdaFunction',
        message: 'Fn::GetAtt attribute "Arnn" does not exist on AWS::Logs::LogGroup (did you mean "Arn"?)',
      },
      {
        resource: 'CancelLambdaFunction',
        message: 'Fn::Sub ${Missing.Arn}: Fn::GetAtt target "Missing" is not a resource in this template',
      },
      {
        resource: 'CancelLambdaFunction',
        message: 'Fn::Sub ${AWS::Regoin}: Ref to unknown pseudo parameter "AWS::Regoin"',
      },
    ]);
  });

  it('checks references in outputs and accepts custom resources with any properties', async () => {
    // Prepare
    const template = structuredClone(validTemplate);
    Object.assign(template.Resources, {
      Seed: {
        Type: 'Custom::Seed',
        Properties: { ServiceToken: 'arn:aws:lambda:x', Anything: { Nested: 1 } },
      },
    });
    Object.assign(template.Outputs, { Gone: { Value: { Ref: 'GoneFunction' } } });

    // Act
    const problems = await validateTemplate(template);

    // Assess
    expect(problems).toEqual([
      {
        resource: 'Gone',
        path: 'Outputs.Gone.Value',
        message: 'Ref target "GoneFunction" is not a resource or parameter in this template',
      },
    ]);
  });
});
