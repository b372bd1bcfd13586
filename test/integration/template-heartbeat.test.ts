// The dead man's switch as the packaged CloudFormation template deploys it (security review 2026-12-05, H1 and
// M3): the heartbeat's two paths (the IAM path granted to the principal HEARTBEAT_INVOKER_ARN names, on that
// function only; POST /heartbeat with a throttle of its own, or none at all with HEARTBEAT_HTTP=false), its
// role under both documented secret options (ids given as ARNs, SECRETS_KMS_KEY_ARN), its state-table rights,
// and the alarms on failed and refused heartbeats. The default package comes from the global setup; the
// variant with every option is packaged here.

import { beforeAll, describe, expect, inject, it } from 'vitest';
import { METRIC_NAMES } from '../../lib/lambda/metrics.ts';
import { PARTITIONS } from '../../lib/lambda/records.ts';
import { type PackagedService, packageService } from '../support/bundle.ts';
import { validateTemplate } from '../support/cfn-spec.ts';
import {
  type Json,
  leadingKeys,
  list,
  type PolicyStatement,
  resourcesOfType,
  roleStatements,
} from '../support/template.ts';

const WEBHOOK_ARN =
  'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:bybit-cancel/prod/webhook-AbCdEf';
const EXCHANGE_ARN =
  'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:bybit-cancel/prod/exchange-keys';
const KMS_KEY = 'arn:aws:kms:ap-southeast-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const BOT = 'arn:aws:iam::123456789012:role/grid-bot';

const standard = inject('packaged').template;
let careful: PackagedService;
beforeAll(async () => {
  // A deployment that uses every option the docs give for the heartbeat and the secrets.
  careful = await packageService([
    `--param=WEBHOOK_SECRET_ID=${WEBHOOK_ARN}`,
    `--param=BYBIT_SECRET_ID=${EXCHANGE_ARN}`,
    `--param=SECRETS_KMS_KEY_ARN=${KMS_KEY}`,
    `--param=HEARTBEAT_INVOKER_ARN=${BOT}`,
    '--param=HEARTBEAT_HTTP=false',
  ]);
}, 240_000);

/** A template value as one readable string: Ref and GetAtt become `<…>`, Sub's placeholders `<…>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    const v = value as Json;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${list(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Sub' in v) return flatten(list(v['Fn::Sub'])[0]).replace(/\$\{([^}]+)\}/g, '<$1>');
  }
  return JSON.stringify(value);
}
/** A function's environment as the template gives it. */
const envOf = (template: Json, logicalId: string) =>
  ((resources(template)[logicalId]?.Properties.Environment as { Variables?: Json } | undefined)?.Variables ??
    {}) as Json;
const resources = (template: Json) =>
  template.Resources as Record<string, { Type: string; Condition?: string; Properties: Json }>;
const heartbeatRole = (template: Json) =>
  flatten(resources(template).HeartbeatLambdaFunction?.Properties.Role).replace(/^<(.+)\.Arn>$/, '$1');
const secretsOf = (statements: PolicyStatement[]) =>
  statements
    .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => list(s.Resource).map(flatten))
    .sort();
const routeKeys = (template: Json) =>
  resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
    .map(([, r]) => String(r.Properties?.RouteKey))
    .sort();

describe('the IAM path: a principal the user names may invoke the heartbeat function, and no other', () => {
  const permissions = (template: Json) => resourcesOfType(template, 'AWS::Lambda::Permission');

  it('grants lambda:InvokeFunction to HEARTBEAT_INVOKER_ARN on the heartbeat function only', () => {
    const granted = permissions(careful.template).filter(([, p]) => p.Properties?.Principal === BOT);
    expect(granted).toHaveLength(1);
    const [, permission] = granted[0] as [string, { Condition?: string; Properties: Json }];
    expect(permission.Properties).toEqual({
      FunctionName: { 'Fn::GetAtt': ['HeartbeatLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: BOT,
    });
    expect(permission.Condition).toBe('HasHeartbeatInvoker');
    const conditions = careful.template.Conditions as Json;
    expect(conditions.HasHeartbeatInvoker).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [BOT, ''] }] });
    // Every other permission is a service's (API Gateway, EventBridge), none an IAM principal's.
    for (const [, p] of permissions(careful.template).filter(([, p]) => p.Properties?.Principal !== BOT))
      expect(String(p.Properties?.Principal)).toMatch(/\.amazonaws\.com$/);
    // No identity policy in the stack may invoke the heartbeat function either.
    const invokers = resourcesOfType(careful.template, 'AWS::IAM::Role')
      .flatMap(([id]) => roleStatements(careful.template, id))
      .filter((s) => list(s.Action).includes('lambda:InvokeFunction'))
      .flatMap((s) => list(s.Resource).map(flatten));
    expect(invokers).not.toContain('<HeartbeatLambdaFunction.Arn>');
  });

  it('grants nothing when HEARTBEAT_INVOKER_ARN is empty (the default)', () => {
    const conditions = standard.Conditions as Json;
    expect(conditions.HasHeartbeatInvoker).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    const invoker = permissions(standard).filter(([, p]) => p.Condition === 'HasHeartbeatInvoker');
    expect(invoker.map(([id]) => id)).toEqual(['HeartbeatInvokerPermission']);
  });

  it('refuses to package a principal that is no IAM role, user or account', async () => {
    const failure = (await packageService(['--param=HEARTBEAT_INVOKER_ARN=grid-bot']).then(
      () => ({}),
      (error: unknown) => error,
    )) as { stdout?: string; stderr?: string };
    expect(`${failure.stdout}${failure.stderr}`).toMatch(
      /HEARTBEAT_INVOKER_ARN is "grid-bot": use the ARN of an IAM role or user/,
    );
  }, 120_000);
});

describe('the HTTP path', () => {
  it('gives POST /heartbeat a route throttle of its own, from HEARTBEAT_HTTP_RATE_LIMIT and _BURST_LIMIT', () => {
    const stage = resourcesOfType(standard, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties as Json;
    expect(stage.RouteSettings).toEqual({
      'POST /heartbeat': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
    // Every other route keeps the stage's default bucket, one per route.
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    expect(routeKeys(standard)).toContain('POST /heartbeat');
  });

  it('is not there at all with HEARTBEAT_HTTP=false: no route, no route throttle, no API Gateway permission', () => {
    // Every other route stays (the exact set: template-security.test.ts).
    expect(routeKeys(careful.template)).toEqual(
      routeKeys(standard).filter((key) => key !== 'POST /heartbeat'),
    );
    const stage = resourcesOfType(careful.template, 'AWS::ApiGatewayV2::Stage')[0]?.[1].Properties as Json;
    expect(stage.RouteSettings).toBeUndefined();
    const onHeartbeat = resourcesOfType(careful.template, 'AWS::Lambda::Permission').filter(([, p]) =>
      flatten(p.Properties?.FunctionName).startsWith('<HeartbeatLambdaFunction'),
    );
    expect(onHeartbeat.map(([, p]) => p.Properties?.Principal)).toEqual([BOT]);
  });

  it('passes the offline resource-specification check either way', async () => {
    expect(await validateTemplate(standard)).toEqual([]);
    expect(await validateTemplate(careful.template)).toEqual([]);
  });
});

describe("the heartbeat's role under both documented secret options (M3)", () => {
  it('reads the webhook key given as an ARN, exactly as the shared role does, and never the exchange keys', () => {
    const role = heartbeatRole(careful.template);
    expect(secretsOf(roleStatements(careful.template, role))).toEqual(
      [WEBHOOK_ARN, `${WEBHOOK_ARN}-??????`].sort(),
    );
    const shared = secretsOf(roleStatements(careful.template, 'IamRoleLambdaExecution'));
    expect(shared).toEqual(expect.arrayContaining([WEBHOOK_ARN, `${WEBHOOK_ARN}-??????`]));
    // The status function's role, which the heartbeat's was copied from, the same.
    expect(secretsOf(roleStatements(careful.template, 'StatusRole'))).toEqual(
      [WEBHOOK_ARN, `${WEBHOOK_ARN}-??????`].sort(),
    );
  });

  it('reads the webhook key given as a name with the random suffix Secrets Manager adds', () => {
    const env = envOf(standard, 'HeartbeatLambdaFunction');
    expect(secretsOf(roleStatements(standard, heartbeatRole(standard)))).toEqual([
      `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${String(env.WEBHOOK_SECRET_ID)}-??????`,
    ]);
  });

  it('may decrypt with SECRETS_KMS_KEY_ARN, through Secrets Manager only, like every role that reads a secret', () => {
    const policy = resources(careful.template).SecretsKmsDecryptPolicy?.Properties as Json;
    expect(list(policy.Roles).map(flatten)).toContain(`<${heartbeatRole(careful.template)}>`);
    expect(list(policy.Roles).map(flatten)).toContain('<StatusRole>');
    const [statement] = list((policy.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
    expect(statement).toMatchObject({ Action: 'kms:Decrypt', Resource: KMS_KEY });
    expect(flatten((statement?.Condition?.StringEquals as Json | undefined)?.['kms:ViaService'])).toBe(
      'secretsmanager.<AWS::Region>.amazonaws.com',
    );
  });

  it('may use the state table for its order, the signatures it serves, a read of the account names and of the halts, nothing else', () => {
    const statements = roleStatements(standard, heartbeatRole(standard)).filter((s) =>
      list(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    const rights = statements.map((s) => [list(s.Action).sort(), leadingKeys(s)]);
    expect(rights).toEqual([
      [
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        [PARTITIONS.deadMansSwitch, `${PARTITIONS.signature}*`].sort(),
      ],
      [['dynamodb:GetItem'], [PARTITIONS.accounts]],
      // A heartbeat for a halted account answers 423 and changes nothing: it lists the halts, never writes one.
      [['dynamodb:Query'], [PARTITIONS.halt]],
    ]);
    for (const s of statements) expect(flatten(s.Resource)).toBe('<StateTable.Arn>');
  });
});

describe('alarms that watch the heartbeats', () => {
  const alarms = resourcesOfType(standard, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Json);
  const named = (suffix: string) => alarms.find((a) => String(a.AlarmName).endsWith(`-${suffix}`)) as Json;
  const namespace = envOf(standard, 'HeartbeatLambdaFunction').METRICS_NAMESPACE;

  it('heartbeat-failed: a 5xx under Operation=heartbeat, or a failed invocation of the function, within a minute', () => {
    const alarm = named('heartbeat-failed');
    const metrics = alarm.Metrics as Json[];
    const stat = (id: string) => (metrics.find((m) => m.Id === id)?.MetricStat as Json | undefined)?.Metric;
    expect(stat('failures')).toEqual({
      Namespace: namespace,
      MetricName: 'Failures',
      Dimensions: [{ Name: 'Operation', Value: 'heartbeat' }],
    });
    expect(stat('errors')).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'HeartbeatLambdaFunction' } }],
    });
    expect(metrics.filter((m) => m.ReturnData === true)).toEqual([
      expect.objectContaining({ Expression: 'FILL(failures, 0) + FILL(errors, 0)' }),
    ]);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(list(alarm.AlarmActions).map(flatten)).toEqual(['<AlarmTopic>']);
  });

  it('heartbeat-refused: three refused heartbeats (4xx) in five minutes, a metric the functions write', () => {
    const alarm = named('heartbeat-refused');
    expect(alarm).toMatchObject({
      Namespace: namespace,
      MetricName: 'Refusals',
      Dimensions: [{ Name: 'Operation', Value: 'heartbeat' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(METRIC_NAMES).toContain('Refusals');
    expect(list(alarm.AlarmActions).map(flatten)).toEqual(['<AlarmTopic>']);
  });
});
