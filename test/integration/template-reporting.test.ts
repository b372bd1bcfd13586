// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is CloudFormation Fn::Sub syntax, not JavaScript.
// The stack's memory and voice, asserted on the packaged CloudFormation template: the state table, the reports
// topic and who subscribes, the dashboard (every metric it shows is one the functions write), the alarms that
// watch the drill, the notifications and the table, and least privilege on each for every function. The
// packaged bundles then run against loopback stand-ins named as the template names them.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METRIC_NAMES } from '../../lib/lambda/metrics.ts';
import { type RunRecord, recordKeys } from '../../lib/lambda/records.ts';
import { STATE_ATTRIBUTES, stateTableDefinition } from '../../lib/lambda/state.ts';
import { invokeBundle, type PackagedService, packageService } from '../support/bundle.ts';
import { loadEvent, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { functionEnv, type ReportingStack, startReporting } from '../support/reporting.ts';
import { inspectOutput } from '../support/secret-hygiene.ts';
import { type LocalStack, startStack } from '../support/stack.ts';
import {
  type Json,
  leadingKeys,
  list,
  type TemplateResource as Resource,
  resourcesOfType,
  roleStatements,
  type PolicyStatement as Statement,
} from '../support/template.ts';

const service = inject('packaged');
const template = service.template as { Resources: Record<string, Resource> };
const ofType = (type: string) => resourcesOfType(service.template, type);
const ref = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;
const getAtt = (value: unknown) => list((value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']);
const env = functionEnv(service.template, 'CancelAllLambdaFunction');
const tableId = ref(env.STATE_TABLE) as string;
const topicId = ref(env.REPORTS_TOPIC_ARN) as string;
const table = template.Resources[tableId]?.Properties as Json;
const topic = template.Resources[topicId]?.Properties as Json;

const statementsOf = (roleId: string) => roleStatements(service.template, roleId);
const roleOf = (functionId: string) => {
  const role = template.Resources[functionId]?.Properties?.Role;
  return (ref(role) ?? getAtt(role)[0]) as string;
};
const roles = ofType('AWS::IAM::Role').map(([id]) => id);
/** The roles of the functions that report (cancel, cancelAll, drill, reset), as the template gives them. */
const REPORTING_ROLES = [
  'CancelLambdaFunction',
  'CancelAllLambdaFunction',
  'DrillLambdaFunction',
  'ResetLambdaFunction',
].map(roleOf);
const touching = (statements: Statement[], service: string) =>
  statements.filter((s) => list(s.Action).some((a) => a.startsWith(`${service}:`)));

describe('the state table', () => {
  it('is the table the functions are given, keyed as lib/lambda/state.ts reads it, on demand, recoverable, encrypted, with a TTL', () => {
    expect(template.Resources[tableId]?.Type).toBe('AWS::DynamoDB::Table');
    const definition = stateTableDefinition(table.TableName as string);
    expect(table).toMatchObject({
      TableName: `bybit-cancel-${env.STAGE}-state`,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: definition.KeySchema,
      AttributeDefinitions: definition.AttributeDefinitions,
      TimeToLiveSpecification: { AttributeName: STATE_ATTRIBUTES.ttl, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
  });

  it('lets each function use only its own partitions: the exchange functions their records and names, the webhook ones their signatures; the halts to the kill switch and the reset, a read of them to the status, the heartbeat and telegram; the updates and confirmations of telegram', () => {
    /**
     * A role's state-table statements as [actions, leading keys], each on the table; a condition beside the
     * leading keys (which function of a shared role) as a third item.
     */
    const rights = (role: string) =>
      touching(statementsOf(role), 'dynamodb').map((s) => {
        expect(getAtt(s.Resource)).toEqual([tableId, 'Arn']);
        const {
          'ForAllValues:StringLike': _like,
          'ForAllValues:StringEquals': _equals,
          ...other
        } = s.Condition ?? {};
        const right = [list(s.Action).sort(), leadingKeys(s)];
        return Object.keys(other).length > 0 ? [...right, other] : right;
      });
    const cancelAllArn = {
      'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${String(
        template.Resources.CancelAllLambdaFunction?.Properties?.FunctionName,
      )}`,
    };
    const records = [
      ['dynamodb:GetItem', 'dynamodb:PutItem'],
      ['accounts', 'drills', 'event#*', 'last', 'signature#*'],
    ];
    // Only to give a signature back after a failure.
    const giveBack = [['dynamodb:DeleteItem'], ['signature#*']];
    // Each signed request served once (lib/lambda/replay.ts).
    const signatures = [['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], ['signature#*']];
    // cancel and cancelAll serve webhooks: each has a role of its own (cancelAll's is the shared one).
    expect(rights(roleOf('CancelLambdaFunction'))).toEqual([records, giveBack]);
    // The kill switch starts halts and writes each key ahead of its flip; it never deletes one. The role's
    // statement names cancelAll, should another function ever share the role.
    expect(rights(roleOf('CancelAllLambdaFunction'))).toEqual([
      records,
      giveBack,
      [
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        ['halt'],
        { ArnEquals: { 'lambda:SourceFunctionArn': cancelAllArn } },
      ],
    ]);
    // No HTTP request reaches the drill: it takes no signature.
    expect(rights(roleOf('DrillLambdaFunction'))).toEqual([
      [
        ['dynamodb:GetItem', 'dynamodb:PutItem'],
        ['accounts', 'drills', 'event#*', 'last'],
      ],
    ]);
    // The reset reads the halts, rewrites a key's entry and deletes them; records itself as the last reset.
    expect(rights(roleOf('ResetLambdaFunction'))).toEqual([
      [['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], ['halt']],
      [['dynamodb:PutItem'], ['last']],
      signatures,
    ]);
    expect(rights(roleOf('StatusLambdaFunction'))).toEqual([
      [
        ['dynamodb:GetItem', 'dynamodb:Query'],
        ['drills', 'halt', 'last'],
      ],
      signatures,
    ]);
    expect(rights(roleOf('HeartbeatLambdaFunction'))).toEqual([
      [
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        ['dead-mans-switch', 'signature#*'],
      ],
      [['dynamodb:GetItem'], ['accounts']],
      // A heartbeat for a halted account answers 423 and changes nothing.
      [['dynamodb:Query'], ['halt']],
    ]);
    // The telegram function: each update and each confirmation taken once, and a read of what /status reads.
    expect(rights(roleOf('TelegramLambdaFunction'))).toEqual([
      [
        ['dynamodb:GetItem', 'dynamodb:PutItem'],
        ['nonce#*', 'telegram-update#*'],
      ],
      [
        ['dynamodb:GetItem', 'dynamodb:Query'],
        ['drills', 'halt', 'last'],
      ],
    ]);
    const users = [
      ...REPORTING_ROLES,
      roleOf('StatusLambdaFunction'),
      roleOf('HeartbeatLambdaFunction'),
      roleOf('TelegramLambdaFunction'),
    ];
    for (const role of roles.filter((r) => !users.includes(r))) {
      expect(touching(statementsOf(role), 'dynamodb'), role).toEqual([]);
    }
  });
});

describe('the reports topic', () => {
  it('is encrypted with the stack key, as the alarm topic is, and the functions may publish only to it, using the key through SNS only', () => {
    expect(template.Resources[topicId]?.Type).toBe('AWS::SNS::Topic');
    expect(topic.TopicName).toBe(`bybit-cancel-${env.STAGE}-reports`);
    const alarmTopic = template.Resources.AlarmTopic?.Properties as Json;
    expect(ref(topic.KmsMasterKeyId)).toBe(ref(alarmTopic.KmsMasterKeyId));
    for (const role of REPORTING_ROLES) {
      const shared = statementsOf(role);
      const publish = touching(shared, 'sns');
      expect(publish, role).toHaveLength(1);
      expect(list(publish[0]?.Action)).toEqual(['sns:Publish']);
      expect(ref(publish[0]?.Resource)).toBe(topicId);
      const kms = touching(shared, 'kms');
      expect(kms, role).toHaveLength(1);
      expect(list(kms[0]?.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(getAtt(kms[0]?.Resource)).toEqual([ref(topic.KmsMasterKeyId), 'Arn']);
      expect(JSON.stringify(kms[0]?.Condition)).toContain('sns.${AWS::Region}.amazonaws.com');
    }
    for (const role of roles.filter((r) => !REPORTING_ROLES.includes(r))) {
      expect(touching(statementsOf(role), 'sns'), role).toEqual([]);
    }
  });

  it('grants no Telegram secret while TELEGRAM_SECRET_ID is empty', () => {
    expect(env.TELEGRAM_SECRET_ID).toBe('');
    const secrets = touching(statementsOf('IamRoleLambdaExecution'), 'secretsmanager');
    expect(JSON.stringify(secrets)).not.toMatch(/telegram/i);
  });

  describe('with ALARM_EMAIL and TELEGRAM_SECRET_ID set', () => {
    let packaged: PackagedService;
    beforeAll(async () => {
      packaged = await packageService([
        '--param=ALARM_EMAIL=ops@example.com',
        '--param=TELEGRAM_SECRET_ID=bybit-cancel/dev/telegram',
      ]);
    }, 180_000);

    it('subscribes the alarm e-mail to the reports (REPORT_EMAIL defaults to ALARM_EMAIL) and grants the Telegram secret, exactly', () => {
      const all = packaged.template.Resources as Record<string, Resource>;
      const subscriptions = Object.values(all).filter(
        (r) => r.Type === 'AWS::SNS::Subscription' && ref(r.Properties?.TopicArn) === topicId,
      );
      expect(subscriptions).toHaveLength(1);
      expect(subscriptions[0]?.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
      const role = all.IamRoleLambdaExecution?.Properties as {
        Policies: { PolicyDocument: { Statement: Statement[] } }[];
      };
      const secretResources = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
        .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => list(s.Resource).map((r) => JSON.stringify(r)));
      expect(secretResources.filter((r) => r.includes('telegram'))).toEqual([
        JSON.stringify({
          'Fn::Sub':
            'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:bybit-cancel/dev/telegram-??????',
        }),
      ]);
    });
  });
});

describe('the dashboard and the alarms', () => {
  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  const dashboardBody = dashboards[0]?.[1].Properties?.DashboardBody as { 'Fn::Sub': string } | undefined;
  const body = JSON.parse(dashboardBody?.['Fn::Sub'] ?? '{"widgets":[]}') as {
    widgets: { type: string; properties: Json }[];
  };
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties as Json] as const);

  it(`is named bybit-cancel-<stage> and shows only metrics the functions write, in their namespace`, () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.[1].Properties?.DashboardName).toBe(`bybit-cancel-${env.STAGE}`);
    const shown = body.widgets
      .filter((w) => w.type === 'metric')
      .flatMap((w) => w.properties.metrics as unknown[][])
      .map((m) => [m[0], m[1]]);
    expect(new Set(shown.map(([namespace]) => namespace))).toEqual(new Set([env.METRICS_NAMESPACE]));
    const names = new Set(shown.map(([, name]) => name));
    for (const name of names) expect(METRIC_NAMES).toContain(name);
    // What the issue asks to see.
    for (const name of [
      'Runs',
      'Failures',
      'Duration',
      'OrdersCancelled',
      'OrdersLeftOpen',
      'DrillProblems',
      'DrillWarnings',
      'IpBudgetWaits',
      'IpRefusals',
      'NotifyFailures',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('lists every alarm, and the last reports of the functions that write them', () => {
    const widget = body.widgets.find((w) => w.type === 'alarm');
    const listed = ((widget?.properties.alarms ?? []) as string[]).map((arn) => arn.split(':alarm:')[1]);
    expect(listed.sort()).toEqual(alarms.map(([, a]) => a.AlarmName as string).sort());
    const log = body.widgets.find((w) => w.type === 'log');
    for (const fn of ['cancelAll', 'drill', 'reset'])
      expect(log?.properties.query).toContain(`SOURCE '/aws/lambda/bybit-cancel-${env.STAGE}-${fn}'`);
    expect(log?.properties.query).toContain('filter message = "report"');
  });

  it('alarms when no drill has reported for 26 hours, missing data breaching, and points at the drill log group', () => {
    const [, alarm] = alarms.find(([id]) => id === 'DrillMissingAlarm') ?? [];
    expect(alarm).toMatchObject({
      Namespace: env.METRICS_NAMESPACE,
      MetricName: 'Runs',
      Dimensions: [{ Name: 'Operation', Value: 'drill' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      ActionsEnabled: true,
    });
    expect(Number(alarm?.Period) * Number(alarm?.EvaluationPeriods)).toBe(26 * 3600);
    expect(alarm?.DatapointsToAlarm).toBe(alarm?.EvaluationPeriods);
    expect(list(alarm?.AlarmActions).map(ref)).toEqual(['AlarmTopic']);
    const drillGroup = `/aws/lambda/bybit-cancel-${env.STAGE}-drill`;
    expect(alarm?.AlarmDescription).toContain(drillGroup);
    const [, drillFailed] = alarms.find(([id]) => id === 'KillSwitchDrillFailedAlarm') ?? [];
    expect(drillFailed?.AlarmDescription).toContain(drillGroup);
    expect(drillFailed?.AlarmDescription).not.toContain('cancelAll logs');
  });

  it('alarms on every failed run of an operation that changes the exchange, each on its own Failures', () => {
    const watched = alarms
      .filter(([, a]) => a.MetricName === 'Failures' && a.Namespace === env.METRICS_NAMESPACE)
      .map(([, a]) => (a.Dimensions as { Value: string }[] | undefined)?.[0]?.Value);
    // A reset that failed leaves its accounts halted: nobody can trade there until it is fixed.
    for (const operation of ['killSwitch', 'cancel', 'cancelAll', 'reset'])
      expect(watched).toContain(operation);
    const [, reset] = alarms.find(([, a]) => a.AlarmName === `bybit-cancel-${env.STAGE}-reset-failed`) ?? [];
    expect(reset).toMatchObject({ Statistic: 'Sum', Threshold: 1, Period: 60 });
    expect(list(reset?.AlarmActions).map(ref)).toEqual(['AlarmTopic']);
  });

  it.each([
    ['NotifyFailures', 'notification failed'],
    ['StateFailures', 'state table call failed'],
  ])('alarms on %s, the whole stack at once, to the alarm topic', (metric, logged) => {
    const matching = alarms.filter(([, a]) => a.MetricName === metric);
    expect(matching).toHaveLength(1);
    const [[, alarm]] = matching as [[string, Json]];
    expect(alarm).toMatchObject({ Namespace: env.METRICS_NAMESPACE, Statistic: 'Sum', Threshold: 1 });
    expect(alarm.Dimensions).toBeUndefined();
    expect(list(alarm.AlarmActions).map(ref)).toEqual(['AlarmTopic']);
    expect(alarm.AlarmDescription).toContain(logged);
  });
});

describe('the packaged bundles, against stand-ins named as the template names them', () => {
  let stack: LocalStack;
  let reporting: ReportingStack;
  beforeAll(async () => {
    stack = await startStack({ accounts: ['main'] });
    reporting = await startReporting(service.template, stack.secrets);
  });
  afterAll(async () => {
    await reporting.close();
    await stack.close();
  });

  /** The function's environment from the template, its Refs made the stand-ins' names. */
  const envFor = (functionId: string) => {
    const variables = functionEnv(service.template, functionId);
    const plain = Object.fromEntries(
      Object.entries(variables).filter(([, v]) => typeof v === 'string'),
    ) as Record<string, string>;
    return { ...plain, ...stack.env, ...reporting.env };
  };

  it('leave the AWS SDK clients to the runtime', async () => {
    const { readFileSync } = await import('node:fs');
    const bundle = readFileSync(
      join(service.functions.cancelAll as string, 'handlers', 'cancel-all.mjs'),
      'utf8',
    );
    expect(bundle).toContain('@aws-sdk/client-dynamodb');
    expect(bundle).toContain('@aws-sdk/client-sns');
    // Only the SDK itself holds these: they would mean it was bundled.
    expect(bundle).not.toContain('DynamoDB_20120810');
    expect(bundle).not.toContain('2010-03-31');
  });

  it('cancelAll records its kill switch under the event id and publishes one message; status answers it', async () => {
    stack.emulator.addOrders(stack.accounts[0]?.apiKey as string, mixedBook(8));
    const event = loadEvent('kill-switch.json');
    event.id = crypto.randomUUID();
    const fired = await invokeBundle(
      join(service.functions.cancelAll as string, 'handlers', 'cancel-all.mjs'),
      event,
      envFor('CancelAllLambdaFunction'),
    );
    for (const line of fired.logs) inspectOutput('log', line);
    expect(fired.result).toMatchObject({ ok: true, remaining: 0 });
    const record = (await reporting.state.get<RunRecord>(recordKeys.event(event.id)))?.value;
    expect(record).toMatchObject({ operation: 'killSwitch', ok: true, report: { cancelled: 8 } });
    expect(reporting.sns.published()).toHaveLength(1);
    expect(reporting.telegram.sent()).toHaveLength(reporting.chatIds.length);

    const answered = await invokeBundle(
      join(service.functions.status as string, 'handlers', 'status.mjs'),
      signedHttpEvent('http-v2-status.json', {}, stack.webhookSecret),
      { ...envFor('StatusLambdaFunction'), AWS_ENDPOINT_URL_SCHEDULER: 'http://127.0.0.1:9' },
    );
    for (const line of answered.logs) inspectOutput('log', line);
    const response = answered.result as { statusCode: number; body: string };
    expect(response.statusCode).toBe(200);
    const status = JSON.parse(response.body);
    expect(status.lastKillSwitch).toMatchObject({ ok: true, cancelled: 8, eventId: event.id });
    // No Scheduler answers here: that part says so, the others still answer.
    expect(status.deadMansSwitch.error).toMatch(/GetSchedule/);
    expect(status.ok).toBe(false);
  });
});
