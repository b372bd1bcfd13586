// Deployment security, asserted on the packaged CloudFormation template (packaged once per run by the global
// setup, test/support/package-once.ts): least privilege, no secret in the template or the environment, a
// throttled HTTP API, the request size limit, the routes and rules the functions expect, and somewhere for
// failed invocations to go. The size limit is also exercised on the packaged bundles themselves.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scheduleName } from '../../lib/cancel/dead-mans-switch.ts';
import { invokeBundle, type PackagedService, packageService } from '../support/bundle.ts';
import { validateTemplate } from '../support/cfn-spec.ts';
import { signedHttpEvent } from '../support/events.ts';
import { startScheduler } from '../support/scheduler.ts';
import { inspectOutput } from '../support/secret-hygiene.ts';
import { type LocalStack, startStack } from '../support/stack.ts';
import { EXCHANGE_FUNCTIONS } from '../support/template.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties?: Json;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Json;
}

const service = inject('packaged');
const template = service.template as { Resources: Record<string, Resource> };
const resources = Object.entries(template.Resources);

const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A template value as one readable string: Ref and GetAtt become `<…>`, Join and Sub are applied. */
function flatten(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    const v = value as Json;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${list(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Sub' in v) return flatten(list(v['Fn::Sub'])[0]).replace(/\$\{([^}]+)\}/g, '<$1>');
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
  }
  return JSON.stringify(value);
}

/** Every statement of every identity policy (the functions' role) in the template. */
function roleStatements(): Statement[] {
  const fromRoles = ofType('AWS::IAM::Role').flatMap(([, role]) =>
    list(role.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) =>
      list(p.PolicyDocument.Statement),
    ),
  );
  const fromPolicies = [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')].flatMap(
    ([, p]) => list((p.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement),
  );
  return [...fromRoles, ...fromPolicies];
}

const functions = ofType('AWS::Lambda::Function');
function envOf(logicalId: string): Record<string, string> {
  const environment = template.Resources[logicalId]?.Properties?.Environment as
    | { Variables: Record<string, string> }
    | undefined;
  return environment?.Variables ?? {};
}
const functionId = (name: 'cancel' | 'cancelAll' | 'heartbeat' | 'status' | 'reset') =>
  `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
/** The role a function runs as (its logical id). */
const roleIdOf = (functionLogicalId: string) =>
  flatten(template.Resources[functionLogicalId]?.Properties?.Role).replace(/^<(.+)\.Arn>$/, '$1');
/** The statements of a role's inline policies. */
const policyOf = (roleId: string) =>
  list(
    template.Resources[roleId]?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[],
  ).flatMap((p) => list(p.PolicyDocument.Statement));

describe('the packaged CloudFormation template', () => {
  it('passes the offline resource-specification check with zero problems', async () => {
    expect(await validateTemplate(template)).toEqual([]);
  });

  it('has the seven functions, all reading the same two secret ids', () => {
    expect(functions.map(([id]) => id).sort()).toEqual([
      'CancelAllLambdaFunction',
      'CancelLambdaFunction',
      'DrillLambdaFunction',
      'HeartbeatLambdaFunction',
      'ResetLambdaFunction',
      'StatusLambdaFunction',
      'TelegramLambdaFunction',
    ]);
    const ids = functions.map(([id]) => [envOf(id).BYBIT_SECRET_ID, envOf(id).WEBHOOK_SECRET_ID]);
    expect(new Set(ids.map((pair) => pair.join(' '))).size).toBe(1);
  });
});

describe('least privilege', () => {
  const statements = roleStatements();
  const { BYBIT_SECRET_ID, WEBHOOK_SECRET_ID } = envOf('CancelLambdaFunction');
  const secretArn = (id: string) =>
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${id}-??????`;

  it('allows GetSecretValue on exactly the two configured secrets, and nothing else of Secrets Manager', () => {
    const secretStatements = statements.filter((s) =>
      list(s.Action).some((a) => a.toLowerCase().startsWith('secretsmanager:')),
    );
    expect([...new Set(secretStatements.flatMap((s) => list(s.Action)))]).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
    expect([...new Set(secretStatements.flatMap((s) => list(s.Resource).map(flatten)))].sort()).toEqual(
      [secretArn(BYBIT_SECRET_ID as string), secretArn(WEBHOOK_SECRET_ID as string)].sort(),
    );
  });

  it('allows no wildcard action, and a "*" resource only to CloudWatch Logs', () => {
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of list(s.Action)) expect(action).not.toMatch(/^\*$|:\*$/);
      const resources = list(s.Resource).map(flatten);
      if (resources.some((r) => r === '*')) {
        expect(list(s.Action).every((a) => a.startsWith('logs:'))).toBe(true);
      }
    }
  });

  it('lets only API Gateway and EventBridge invoke the functions, each from its own source ARN (and the bot its heartbeat)', () => {
    // The heartbeat's IAM path: the principal HEARTBEAT_INVOKER_ARN names, on that function, only when one is
    // named (template-heartbeat.test.ts packages one).
    const [invoker, ...others] = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => (p as { Condition?: string }).Condition === 'HasHeartbeatInvoker',
    );
    expect(others).toEqual([]);
    expect(flatten(invoker?.[1].Properties?.FunctionName)).toBe('<HeartbeatLambdaFunction.Arn>');
    const permissions = ofType('AWS::Lambda::Permission').filter(([id]) => id !== invoker?.[0]);
    expect(permissions.length).toBeGreaterThanOrEqual(4);
    for (const [, p] of permissions) {
      expect(['apigateway.amazonaws.com', 'events.amazonaws.com']).toContain(p.Properties?.Principal);
      expect(p.Properties?.Action).toBe('lambda:InvokeFunction');
      expect(flatten(p.Properties?.SourceArn)).toMatch(/^(arn:|<)/);
    }
    // No public function URL.
    expect(ofType('AWS::Lambda::Url')).toEqual([]);
  });
});

describe('secrets stay out of the deployment', () => {
  const text = JSON.stringify(template);

  it('holds no key, secret value, signature or secret resource in the template', () => {
    expect(text).not.toMatch(/PRIVATE KEY|SecretString|SecretBinary/);
    expect(text).not.toMatch(/"(apiKey|apiSecret|privateKey|webhookSecret|passphrase)"/);
    // An HMAC secret or a hex signature would be a long run of hex digits.
    expect(text).not.toMatch(/[0-9a-f]{32,}/i);
    expect(ofType('AWS::SecretsManager::Secret')).toEqual([]);
  });

  it('gives the functions secret ids only, the real exchange over HTTPS, and no local endpoint', () => {
    for (const [id] of functions) {
      const env = envOf(id);
      // Every setting whose name speaks of a secret holds a secret's id, or a number or flag about secrets.
      const secretish = Object.keys(env).filter((name) =>
        /SECRET|PASSPHRASE|PRIVATE|API_?KEY|TOKEN|PASSWORD/.test(name),
      );
      expect(secretish).toEqual(expect.arrayContaining(['BYBIT_SECRET_ID', 'WEBHOOK_SECRET_ID']));
      for (const name of secretish) {
        // The Telegram and master secrets are optional: empty unless TELEGRAM_SECRET_ID, HALT_MASTER_SECRET_ID is set.
        if (name === 'TELEGRAM_SECRET_ID' || name === 'HALT_MASTER_SECRET_ID') expect(env[name]).toBe('');
        else if (name.endsWith('_SECRET_ID')) expect(env[name]).toMatch(/^[\w/+=.@-]{1,512}$/);
        else expect(env[name]).toMatch(/^(\d+|true|false)$/);
      }
      expect(env.WEBHOOK_PASSPHRASE_MODE).toBe('false');
      expect(env.BYBIT_BASE_URL).toMatch(/^https:\/\//);
      expect(Object.keys(env).filter((name) => name.startsWith('AWS_'))).toEqual([]);
      expect(JSON.stringify(env)).not.toMatch(/127\.0\.0\.1|localhost/);
    }
  });

  it('names the master secret to the functions that halt or reset, and to no other', () => {
    const told = functions.filter(([id]) => 'HALT_MASTER_SECRET_ID' in envOf(id)).map(([id]) => id);
    expect(told.sort()).toEqual(['CancelAllLambdaFunction', 'ResetLambdaFunction']);
  });
});

describe('the HTTP API', () => {
  it('is throttled on every route', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const settings = stages[0]?.[1].Properties?.DefaultRouteSettings as Record<string, number>;
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingBurstLimit).toBeGreaterThan(0);
  });

  it('serves exactly POST /cancel, /cancel-all, /heartbeat, /status, /reset and /telegram, each by its own function', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => {
      const integrationId = flatten(r.Properties?.Target).replace(/^integrations\/<(.+)>$/, '$1');
      const integration = template.Resources[integrationId]?.Properties;
      return [r.Properties?.RouteKey, flatten(integration?.IntegrationUri)];
    });
    expect(routes.sort()).toEqual([
      ['POST /cancel', '<CancelLambdaFunction.Arn>'],
      ['POST /cancel-all', '<CancelAllLambdaFunction.Arn>'],
      ['POST /heartbeat', '<HeartbeatLambdaFunction.Arn>'],
      ['POST /reset', '<ResetLambdaFunction.Arn>'],
      ['POST /status', '<StatusLambdaFunction.Arn>'],
      ['POST /telegram', '<TelegramLambdaFunction.Arn>'],
    ]);
  });

  it('passes the size limit to every function', () => {
    for (const [id] of functions) expect(Number(envOf(id).MAX_BODY_BYTES)).toBe(16 * 1024);
  });
});

describe('the size limit, enforced by the packaged bundles', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack({ accounts: ['main'] });
  });
  afterAll(() => stack.close());

  /** A signed request whose body is exactly `bytes` long (its padding makes it a 400 once past the limit check). */
  const eventOf = (bytes: number) => {
    const head = '{"category":"linear","symbol":"BTCUSDT","orderId":"o-1","padding":"';
    const body = `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(bytes);
    return signedHttpEvent('http-v2-cancel.json', body, stack.webhookSecret);
  };

  it.each(['cancel', 'cancelAll'] as const)(
    '%s answers 413 one byte beyond MAX_BODY_BYTES, and reads the body at the limit',
    async (name) => {
      const env = { ...envOf(functionId(name)), ...stack.env };
      const limit = Number(env.MAX_BODY_BYTES);
      const file = join(
        service.functions[name] as string,
        'handlers',
        name === 'cancel' ? 'cancel.mjs' : 'cancel-all.mjs',
      );
      const statusOf = async (bytes: number) => {
        stack.secrets.reset();
        const outcome = await invokeBundle(file, eventOf(bytes), env);
        // The child's log lines and answer do not pass through this process: check them here.
        for (const line of outcome.logs) inspectOutput('log', line);
        inspectOutput('response', outcome.result);
        return (outcome.result as { statusCode: number }).statusCode;
      };
      expect(await statusOf(limit + 1)).toBe(413);
      expect(stack.secrets.reads()).toBe(0);
      expect(await statusOf(limit)).toBe(400);
      expect(stack.secrets.reads(stack.webhookSecretId)).toBe(1);
      expect(stack.emulator.requests).toHaveLength(0);
    },
  );
});

describe('events and failures', () => {
  it('invokes the kill switch on exactly the source and detail-type the function checks', () => {
    const env = envOf('CancelAllLambdaFunction');
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties?.EventPattern);
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1].Properties as Json;
    expect(rule.EventPattern).toEqual({
      source: [env.KILL_SWITCH_SOURCE],
      'detail-type': [env.KILL_SWITCH_DETAIL_TYPE],
    });
    const [target] = rule.Targets as Json[];
    expect(flatten(target?.Arn)).toBe('<CancelAllLambdaFunction.Arn>');
    expect(flatten((target?.DeadLetterConfig as Json)?.Arn)).toBe('<FailureQueue.Arn>');
    expect((target?.RetryPolicy as Json)?.MaximumRetryAttempts).toBeGreaterThan(0);
  });

  it("lets EventBridge write to the failure queue only from this stage's rules", () => {
    const [[, policy] = ['', {} as Resource]] = ofType('AWS::SQS::QueuePolicy');
    const statements = ((policy.Properties as Json).PolicyDocument as { Statement: Json[] }).Statement;
    const fromEvents = statements.filter((st) => (st.Principal as Json)?.Service === 'events.amazonaws.com');
    expect(fromEvents).toHaveLength(1);
    // Exactly the kill-switch rule: a wildcard would match the rules of every stage whose name starts with this one's.
    const condition = fromEvents[0]?.Condition as Json;
    expect(Object.keys(condition)).toEqual(['ArnEquals']);
    const source = flatten((condition.ArnEquals as Json)['aws:SourceArn']);
    expect(source).not.toContain('*');
    const killSwitchRule = ofType('AWS::Events::Rule').find(([, r]) => r.Properties?.EventPattern)?.[1];
    expect(source).toBe(
      `arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/${String(killSwitchRule?.Properties?.Name)}`,
    );
  });

  it('runs the sweep on a schedule, and the kill-switch drill daily, in a function of its own, with the input that marks it', () => {
    const schedules = ofType('AWS::Events::Rule')
      .filter(([, r]) => r.Properties?.ScheduleExpression)
      .map(([, r]) => r.Properties as Json);
    expect(schedules).toHaveLength(2);
    const target = (rule: Json) => (rule.Targets as Json[])[0] as Json;
    const sweep = schedules.find((r) => flatten(target(r).Arn) === '<CancelLambdaFunction.Arn>') as Json;
    expect(sweep.ScheduleExpression).toMatch(/^(rate|cron)\(/);
    expect(target(sweep).Input).toBeUndefined();
    const drill = schedules.find((r) => flatten(target(r).Arn) === '<DrillLambdaFunction.Arn>') as Json;
    expect(drill).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'ENABLED' });
    // What the function reads as the drill schedule (lib/lambda/triggers.ts, requests.ts parseDrillInput).
    expect(JSON.parse(String(target(drill).Input))).toEqual({ action: 'drill' });
  });

  it("alarms on a failed drill, from the function's metrics, to the alarm topic", () => {
    const alarm = template.Resources.KillSwitchDrillFailedAlarm?.Properties as Json;
    expect(alarm).toMatchObject({
      MetricName: 'Failures',
      Dimensions: [{ Name: 'Operation', Value: 'drill' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(flatten(alarm.Namespace)).toBe(flatten(envOf(functionId('cancelAll')).METRICS_NAMESPACE));
    expect((alarm.AlarmActions as unknown[]).map(flatten)).toEqual(['<AlarmTopic>']);
    expect(envOf(functionId('cancelAll')).KILL_SWITCH_DRILL_EXPIRY_DAYS).toBe('14');
  });

  it("sends failed asynchronous invocations of every exchange function (and of the Telegram jobs) to an encrypted queue the function's role may write to", () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties as Json);
    expect(configs.map((c) => flatten(c.FunctionName)).sort()).toEqual(
      [...EXCHANGE_FUNCTIONS, 'TelegramLambdaFunction'].map((id) => `<${id}>`).sort(),
    );
    for (const c of configs) {
      expect(
        flatten((c.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination),
      ).toBe('<FailureQueue.Arn>');
      // Lambda sends to the destination with the function's own role.
      const roleId = roleIdOf(flatten(c.FunctionName).replace(/^<(.+)>$/, '$1'));
      const sends = policyOf(roleId).filter((s) => list(s.Action).includes('sqs:SendMessage'));
      expect(
        sends.flatMap((s) => list(s.Resource).map(flatten)),
        roleId,
      ).toEqual(['<FailureQueue.Arn>']);
    }
    const queue = template.Resources.FailureQueue?.Properties as Json;
    expect(queue.SqsManagedSseEnabled === true || queue.KmsMasterKeyId !== undefined).toBe(true);
    expect(queue.MessageRetentionPeriod).toBeGreaterThanOrEqual(4 * 86_400);
  });
});

describe('the drill function', () => {
  const drill = template.Resources.DrillLambdaFunction?.Properties as Json;
  const drillRole = template.Resources.DrillRole?.Properties as
    | { Policies: { PolicyDocument: { Statement: Statement[] } }[] }
    | undefined;
  const statements = (drillRole?.Policies ?? []).flatMap((p) => list(p.PolicyDocument.Statement));

  it('runs an entry point that serves only the drill, with a role of its own', () => {
    expect(drill.Handler).toBe('handlers/drill.handler');
    expect(flatten(drill.Role)).toBe('<DrillRole.Arn>');
    expect(flatten(template.Resources.CancelAllLambdaFunction?.Properties?.Role)).not.toBe('<DrillRole.Arn>');
  });

  it('may read the exchange keys but never the webhook key; writes its own log, the failure queue and its reports, and asks the reset function only', () => {
    const { BYBIT_SECRET_ID, WEBHOOK_SECRET_ID } = envOf('DrillLambdaFunction');
    const secrets = statements
      .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => list(s.Resource).map(flatten));
    expect(secrets).toEqual([
      `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${BYBIT_SECRET_ID}-??????`,
    ]);
    expect(JSON.stringify(statements)).not.toContain(String(WEBHOOK_SECRET_ID));
    expect(statements.flatMap((s) => list(s.Action)).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'lambda:InvokeFunction',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sns:Publish',
      'sqs:SendMessage',
    ]);
    // Its reports: its own records and the account names it read only, never a signature (no request reaches it).
    const records = statements.find((s) => list(s.Action).includes('dynamodb:PutItem'));
    expect(records?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['event#*', 'last', 'drills', 'accounts'] },
    });
  });

  it('is what cancelAll hands a webhook drill to (and /drill from Telegram): only those roles may invoke it, and it has no HTTP route', () => {
    const invokes = Object.fromEntries(
      ofType('AWS::IAM::Role')
        .map(([id]): [string, string[]] => [
          id,
          policyOf(id)
            .filter((s) => list(s.Action).includes('lambda:InvokeFunction'))
            .flatMap((s) => list(s.Resource).map(flatten)),
        ])
        .filter(([, invoked]) => invoked.length > 0),
    );
    // The drill asks the reset function, which may read the master key, to check it (and may invoke nothing else).
    const reset = String(template.Resources.ResetLambdaFunction?.Properties?.FunctionName);
    // The telegram function runs /reset, /drill and /disarm, and its own jobs (template-telegram.test.ts).
    const byName = (id: string) =>
      `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${String(template.Resources[id]?.Properties?.FunctionName)}`;
    expect(invokes).toEqual({
      [roleIdOf('CancelAllLambdaFunction')]: ['<DrillLambdaFunction.Arn>'],
      DrillRole: [`arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${reset}`],
      TelegramRole: [
        'ResetLambdaFunction',
        'DrillLambdaFunction',
        'HeartbeatLambdaFunction',
        'TelegramLambdaFunction',
      ].map(byName),
    });
    expect(envOf('DrillLambdaFunction').MASTER_KEY_CHECK_FUNCTION).toBe(reset);
    // No other policy (a managed one, or a policy of its own) grants an invocation.
    const all = roleStatements().filter((s) => list(s.Action).some((a) => a.startsWith('lambda:')));
    expect(all).toHaveLength(3);
    expect(envOf('CancelAllLambdaFunction').DRILL_FUNCTION_NAME).toBe(String(drill.FunctionName));
    const integrations = ofType('AWS::ApiGatewayV2::Integration').map(([, i]) =>
      flatten(i.Properties?.IntegrationUri),
    );
    expect(integrations.some((uri) => uri.includes('DrillLambdaFunction'))).toBe(false);
  });
});

describe('the reset function', () => {
  const reset = template.Resources.ResetLambdaFunction?.Properties as Json;
  const statements = policyOf(roleIdOf('ResetLambdaFunction'));

  it('runs the reset entry point with a role of its own, one container at a time', () => {
    expect(reset.Handler).toBe('handlers/reset.handler');
    expect(roleIdOf('ResetLambdaFunction')).toBe('ResetRole');
    expect(reset.ReservedConcurrentExecutions).toBe(1);
  });

  it('may read the webhook key but never the exchange keys; its logs, the halts, its record and signatures, its reports and the failure queue only', () => {
    const { BYBIT_SECRET_ID, WEBHOOK_SECRET_ID } = envOf('ResetLambdaFunction');
    const secrets = statements
      .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => list(s.Resource).map(flatten));
    // The master key is granted only when HALT_MASTER_SECRET_ID names one (below), the Telegram secret likewise.
    expect(secrets).toEqual([
      `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${WEBHOOK_SECRET_ID}-??????`,
    ]);
    expect(JSON.stringify(statements)).not.toContain(String(BYBIT_SECRET_ID));
    // The state-table partitions of each right: template-reporting.test.ts.
    expect(statements.flatMap((s) => list(s.Action)).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:PutItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'kms:Decrypt',
      'kms:GenerateDataKey*',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sns:Publish',
      'sqs:SendMessage',
    ]);
    const logs = statements.filter((s) => list(s.Action).some((a) => a.startsWith('logs:')));
    expect(logs.flatMap((s) => list(s.Resource).map(flatten))).toEqual([
      `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/${String(reset.FunctionName)}:*`,
    ]);
  });
});

describe('throttled invocations', () => {
  it('alarm for every function, to the alarm topic, on the first one', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties as Json)
      .filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Throttles');
    const watched = alarms.map((a) => flatten((a.Dimensions as { Value: unknown }[])[0]?.Value)).sort();
    expect(watched).toEqual(functions.map(([id]) => `<${id}>`).sort());
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'FunctionName' }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect((alarm.AlarmActions as unknown[]).map(flatten)).toEqual(['<AlarmTopic>']);
      // It says who loses what: a webhook sender that does not resend (TradingView) loses the alert.
      expect(String(alarm.AlarmDescription)).toContain('TradingView does not resend');
    }
  });
});

describe("the dead man's switch", () => {
  const heartbeatEnv = envOf('HeartbeatLambdaFunction');
  const schedule = scheduleName(heartbeatEnv.STAGE as string);
  const scheduleArn = `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/default/${schedule}`;
  const defaultBus = 'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default';
  const heartbeatRoleId = roleIdOf('HeartbeatLambdaFunction');
  const schedulerRoleId = flatten(heartbeatEnv.DEAD_MANS_SWITCH_ROLE_ARN).replace(/^<(.+)\.Arn>$/, '$1');

  it('grants Scheduler rights on that schedule name only: changes to the heartbeat function, a read to the status and telegram ones', () => {
    expect(schedule).toBe(`bybit-cancel-${heartbeatEnv.STAGE}-dead-mans-switch`);
    const schedulerStatements = roleStatements().filter((s) =>
      list(s.Action).some((a) => a.toLowerCase().startsWith('scheduler:')),
    );
    expect(schedulerStatements).toHaveLength(3);
    const [changes] = schedulerStatements.filter((s) => !list(s.Action).includes('scheduler:GetSchedule'));
    expect(policyOf(heartbeatRoleId)).toContainEqual(changes);
    expect(list(changes?.Action).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
    ]);
    const reads = schedulerStatements.filter((s) => list(s.Action).includes('scheduler:GetSchedule'));
    expect(reads).toHaveLength(2);
    for (const read of reads) expect(list(read.Action)).toEqual(['scheduler:GetSchedule']);
    expect(policyOf('StatusRole')).toContainEqual(reads[0]);
    expect(policyOf('TelegramRole')).toContainEqual(reads[0]);
    for (const s of schedulerStatements) expect(list(s.Resource).map(flatten)).toEqual([scheduleArn]);
  });

  it("grants iam:PassRole on the scheduler's role only, and only to pass it to the scheduler", () => {
    const passes = roleStatements().filter((s) => list(s.Action).some((a) => /^iam:/i.test(a)));
    expect(passes).toHaveLength(1);
    expect(policyOf(heartbeatRoleId)).toContainEqual(passes[0]);
    expect(list(passes[0]?.Action)).toEqual(['iam:PassRole']);
    expect(list(passes[0]?.Resource).map(flatten)).toEqual([`<${schedulerRoleId}.Arn>`]);
    expect(passes[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  });

  it("lets the scheduler's role only put the kill-switch event on the bus, or in the failure queue", () => {
    const role = template.Resources[schedulerRoleId]?.Properties as Json;
    const trust = (role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    // Scheduler sets aws:SourceArn to the schedule group's ARN (its confused-deputy guidance), not the schedule's.
    expect(flatten((trust[0]?.Condition?.ArnEquals as Json)?.['aws:SourceArn'])).toBe(
      'arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule-group/default',
    );
    expect((trust[0]?.Condition?.StringEquals as Json)?.['aws:SourceAccount']).toEqual({
      Ref: 'AWS::AccountId',
    });
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = policyOf(schedulerRoleId);
    expect(statements).toHaveLength(2);
    expect(list(statements[0]?.Action)).toEqual(['events:PutEvents']);
    // The dead-letter queue of the schedule's target: Scheduler sends to it with this role.
    expect(list(statements[1]?.Action)).toEqual(['sqs:SendMessage']);
    expect(list(statements[1]?.Resource).map(flatten)).toEqual(['<FailureQueue.Arn>']);
    expect(flatten(heartbeatEnv.DEAD_MANS_SWITCH_DLQ_ARN)).toBe('<FailureQueue.Arn>');
    expect(list(statements[0]?.Resource).map(flatten)).toEqual([defaultBus]);
    expect(statements[0]?.Condition).toEqual({
      StringEquals: {
        'events:source': heartbeatEnv.KILL_SWITCH_SOURCE,
        'events:detail-type': heartbeatEnv.KILL_SWITCH_DETAIL_TYPE,
      },
    });
    expect(flatten(heartbeatEnv.DEAD_MANS_SWITCH_BUS_ARN)).toBe(defaultBus);
    // The kill-switch rule is on the default bus, so the event takes its retry policy and dead-letter queue.
    const rule = ofType('AWS::Events::Rule').find(([, r]) => r.Properties?.EventPattern)?.[1].Properties;
    expect(rule?.EventBusName ?? 'default').toBe('default');
  });

  it('gives the heartbeat function the webhook key only, its own logs, and no queue or exchange key', () => {
    const statements = policyOf(heartbeatRoleId);
    const actions = statements.flatMap((s) => list(s.Action)).sort();
    expect(actions).toEqual([
      // Its order, its signatures, a read of the account names and of the halts (template-heartbeat.test.ts).
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'iam:PassRole',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
      'secretsmanager:GetSecretValue',
    ]);
    const secrets = statements.filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(secrets.flatMap((s) => list(s.Resource).map(flatten))).toEqual([
      `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${heartbeatEnv.WEBHOOK_SECRET_ID}-??????`,
    ]);
    const logs = statements.filter((s) => list(s.Action).some((a) => a.startsWith('logs:')));
    expect(logs.flatMap((s) => list(s.Resource).map(flatten))).toEqual([
      `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/bybit-cancel-${heartbeatEnv.STAGE}-heartbeat:*`,
    ]);
    expect(Number(template.Resources.HeartbeatLambdaFunction?.Properties?.Timeout)).toBeLessThanOrEqual(28);
  });

  it('the packaged heartbeat bundle arms the schedule through the real Scheduler client', async () => {
    const stack = await startStack({ accounts: ['main'] });
    const scheduler = await startScheduler();
    try {
      const env = {
        ...heartbeatEnv,
        ...stack.env,
        AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
        DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
        DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/dead-mans-switch',
        DEAD_MANS_SWITCH_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-test-failures',
      };
      const event = signedHttpEvent('http-v2-heartbeat.json', { ttlSeconds: 300 }, stack.webhookSecret);
      const outcome = await invokeBundle(
        join(service.functions.heartbeat as string, 'handlers', 'heartbeat.mjs'),
        event,
        env,
      );
      for (const line of outcome.logs) inspectOutput('log', line);
      expect((outcome.result as { statusCode: number }).statusCode).toBe(200);
      expect(scheduler.get(schedule)).toMatchObject({
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { DeadLetterConfig: { Arn: env.DEAD_MANS_SWITCH_DLQ_ARN } },
      });
    } finally {
      await scheduler.close();
      await stack.close();
    }
  });
});

describe('alarms that reach someone', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Json);
  const notifiesTopic = (alarm: Json) => list(alarm.AlarmActions).map(flatten).includes('<AlarmTopic>');

  it("encrypts the alarm topic with this stack's own KMS key, whose policy lets CloudWatch use it", () => {
    const topic = template.Resources.AlarmTopic?.Properties as Json;
    // CloudWatch cannot publish to a topic under the AWS-managed alias/aws/sns key.
    expect(JSON.stringify(topic.KmsMasterKeyId)).not.toContain('alias/aws/sns');
    const keyId = flatten(topic.KmsMasterKeyId).replace(/^<(.+?)(\.Arn)?>$/, '$1');
    const key = template.Resources[keyId];
    expect(key?.Type).toBe('AWS::KMS::Key');
    const policy = key?.Properties?.KeyPolicy as { Statement: Statement[] } | undefined;
    const statements = policy?.Statement ?? [];
    const forCloudWatch = statements.filter(
      (st) => (st.Principal as Json)?.Service === 'cloudwatch.amazonaws.com' && st.Effect === 'Allow',
    );
    expect(forCloudWatch).toHaveLength(1);
    expect(list(forCloudWatch[0]?.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(key?.Properties?.EnableKeyRotation).toBe(true);
  });

  it.each(['cancel', 'cancelAll', 'killSwitch'])(
    'raises an alarm on Failures of operation %s (HTTP 5xx included), to the topic',
    (operation) => {
      const namespace = envOf('CancelLambdaFunction').METRICS_NAMESPACE;
      const matching = alarms.filter(
        (a) =>
          a.Namespace === namespace &&
          a.MetricName === 'Failures' &&
          list(a.Dimensions as Json[]).some((d) => d.Name === 'Operation' && d.Value === operation),
      );
      expect(matching).toHaveLength(1);
      const [alarm] = matching as [Json];
      expect(alarm).toMatchObject({ Statistic: 'Sum', Threshold: 1, TreatMissingData: 'notBreaching' });
      expect(notifiesTopic(alarm)).toBe(true);
    },
  );

  it('notifies on every new message in the failure queue, not once while it stays non-empty', () => {
    const onQueue = alarms.filter((a) => a.Namespace === 'AWS/SQS');
    expect(onQueue).toHaveLength(1);
    expect(onQueue[0]).toMatchObject({ MetricName: 'NumberOfMessagesSent', Statistic: 'Sum', Threshold: 1 });
    const [dimension] = (onQueue[0]?.Dimensions ?? []) as Json[];
    expect(flatten(dimension?.Value)).toBe('<FailureQueue.QueueName>');
    expect(notifiesTopic(onQueue[0] as Json)).toBe(true);
  });
});

describe('the failure metric of an HTTP 5xx, written by the packaged bundles', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startStack({ accounts: ['main'] });
    // A secret that is not JSON fails every request after authentication, before any report exists.
    stack.secrets.put(stack.exchangeSecretId, 'not json');
  });
  afterAll(() => stack.close());

  it.each([
    [
      'cancel',
      'cancel.mjs',
      'http-v2-cancel.json',
      { category: 'linear', symbol: 'BTCUSDT', orderId: '1838591702357416704' },
    ],
    ['cancelAll', 'cancel-all.mjs', 'http-v2-cancel-all.json', { category: 'spot' }],
    ['killSwitch', 'cancel-all.mjs', 'http-v2-kill-switch.json', {}],
  ] as const)('counts one failure under %s', async (operation, bundle, eventName, body) => {
    const name = operation === 'cancel' ? 'cancel' : 'cancelAll';
    const env = { ...envOf(functionId(name)), ...stack.env };
    const file = join(service.functions[name] as string, 'handlers', bundle);
    const outcome = await invokeBundle(file, signedHttpEvent(eventName, body, stack.webhookSecret), env);
    for (const line of outcome.logs) inspectOutput('log', line);
    const response = outcome.result as { statusCode: number; body: string };
    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(response.body)).toMatchObject({ operation });
    const emf = outcome.logs.map((l) => JSON.parse(l) as Json).find((l) => '_aws' in l);
    expect(emf).toMatchObject({ Operation: operation, Failures: 1 });
    expect((emf?._aws as Json)?.CloudWatchMetrics).toMatchObject([
      { Namespace: env.METRICS_NAMESPACE, Dimensions: [['Operation']] },
    ]);
  });
});

describe('bounded IAM resources', () => {
  const logGroups = ofType('AWS::Logs::LogGroup').map(([, g]) => String(g.Properties?.LogGroupName));

  it("names each function's own log group, so no other stage's log group matches", () => {
    // One per function (the functions themselves: above).
    expect(logGroups.sort()).toEqual(
      functions.map(([, fn]) => `/aws/lambda/${String(fn.Properties?.FunctionName)}`).sort(),
    );
    expect(logGroups).toContain('/aws/lambda/bybit-cancel-dev-reset');
    const logStatements = roleStatements().filter((s) => list(s.Action).some((a) => a.startsWith('logs:')));
    expect(logStatements.length).toBeGreaterThan(0);
    for (const statement of logStatements) {
      for (const resource of list(statement.Resource).map(flatten)) {
        const match = /:log-group:(.+?)(:\*){1,2}$/.exec(resource);
        expect(match, resource).not.toBeNull();
        expect(logGroups).toContain(match?.[1]);
      }
    }
  });

  it('gives each function a role of its own that may write its own log group and no other', () => {
    const byRole = new Map<string, string[]>();
    for (const [id, fn] of functions) {
      const group = `/aws/lambda/${String(fn.Properties?.FunctionName)}`;
      byRole.set(roleIdOf(id), [...(byRole.get(roleIdOf(id)) ?? []), group]);
    }
    // cancelAll keeps the role the framework writes; every other function has one named for it.
    expect([...byRole.keys()].sort()).toEqual([
      'CancelRole',
      'DrillRole',
      'HeartbeatRole',
      'IamRoleLambdaExecution',
      'ResetRole',
      'StatusRole',
      'TelegramRole',
    ]);
    for (const [roleId, groups] of byRole) {
      // One function per role: a shared role would let each write the other's log.
      expect(groups, roleId).toHaveLength(1);
      const statements = list(
        template.Resources[roleId]?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[],
      ).flatMap((p) => list(p.PolicyDocument.Statement));
      const named = statements
        .filter((s) => list(s.Action).some((a) => a.startsWith('logs:')))
        .flatMap((s) => list(s.Resource).map(flatten))
        .map((r) => /:log-group:(.+?)(:\*){1,2}$/.exec(r)?.[1]);
      expect(new Set(named), roleId).toEqual(new Set(groups));
    }
  });

  it('grants kms:Decrypt on no key unless SECRETS_KMS_KEY_ARN is set', () => {
    const conditions = (template as unknown as { Conditions: Json }).Conditions;
    expect(conditions.HasSecretsKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    expect((template.Resources.SecretsKmsDecryptPolicy as unknown as Json).Condition).toBe(
      'HasSecretsKmsKey',
    );
    const unconditional = roleStatements().filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(unconditional.every((s) => flatten(s.Resource) !== '*')).toBe(true);
  });

  describe('with the secrets given as ARNs, a master key and a customer-managed key', () => {
    const exchangeArn = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:prod/bybit-keys-AbCdEf';
    const webhookArn = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:prod/webhook';
    const masterArn = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:prod/bybit-master';
    const keyArn = 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    let packaged: PackagedService;
    beforeAll(async () => {
      packaged = await packageService([
        `--param=BYBIT_SECRET_ID=${exchangeArn}`,
        `--param=WEBHOOK_SECRET_ID=${webhookArn}`,
        `--param=HALT_MASTER_SECRET_ID=${masterArn}`,
        `--param=SECRETS_KMS_KEY_ARN=${keyArn}`,
      ]);
    }, 180_000);
    const resourcesOf = () => packaged.template.Resources as Record<string, Resource>;
    const statementsOf = (roleId: string) =>
      list(
        resourcesOf()[roleId]?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[],
      ).flatMap((p) => list(p.PolicyDocument.Statement));
    const readsSecrets = (s: Statement) => list(s.Action).includes('secretsmanager:GetSecretValue');

    it('allows GetSecretValue on exactly those secrets, with or without the random suffix', () => {
      const secretResources = statementsOf('IamRoleLambdaExecution')
        .filter((s) => readsSecrets(s) && s.Condition === undefined)
        .flatMap((s) => list(s.Resource).map(flatten));
      // A full ARN already ends in the suffix; a partial one does not. Either way, nothing but that secret.
      expect(secretResources.sort()).toEqual(
        [exchangeArn, `${exchangeArn}-??????`, webhookArn, `${webhookArn}-??????`].sort(),
      );
    });

    it('grants the master secret to the reset role and to cancelAll alone on the role it shares, nowhere else', () => {
      const grants = Object.entries(resourcesOf())
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .flatMap(([roleId]) =>
          statementsOf(roleId)
            .filter(
              (s) =>
                readsSecrets(s) &&
                list(s.Resource)
                  .map(flatten)
                  .some((r) => r.includes('bybit-master')),
            )
            .map((s) => [roleId, s] as const),
        );
      expect(grants.map(([roleId]) => roleId).sort()).toEqual(['IamRoleLambdaExecution', 'ResetRole']);
      for (const [, s] of grants) {
        expect(list(s.Resource).map(flatten).sort()).toEqual([masterArn, `${masterArn}-??????`]);
      }
      const [, shared] = grants.find(([roleId]) => roleId === 'IamRoleLambdaExecution') ?? [];
      const cancelAll = String(resourcesOf().CancelAllLambdaFunction?.Properties?.FunctionName);
      // Lambda sets lambda:SourceFunctionArn on every AWS call a function's code makes.
      expect(shared?.Condition).toEqual({
        ArnEquals: {
          'lambda:SourceFunctionArn': {
            'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${cancelAll}`,
          },
        },
      });
      const [, own] = grants.find(([roleId]) => roleId === 'ResetRole') ?? [];
      expect(own?.Condition).toBeUndefined();
      // And the reset role reads the webhook key besides, never the exchange keys.
      const resetSecrets = statementsOf('ResetRole')
        .filter(readsSecrets)
        .flatMap((s) => list(s.Resource).map(flatten));
      expect(resetSecrets.sort()).toEqual(
        [masterArn, `${masterArn}-??????`, webhookArn, `${webhookArn}-??????`].sort(),
      );
      // Only the functions that halt or reset are told its id.
      const told = Object.entries(resourcesOf())
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .filter(([, r]) => JSON.stringify(r.Properties?.Environment).includes(masterArn))
        .map(([id]) => id);
      expect(told.sort()).toEqual(['CancelAllLambdaFunction', 'ResetLambdaFunction']);
    });

    it('lets the drill role read the exchange secret given as an ARN, and still not the webhook key', () => {
      const role = resourcesOf().DrillRole?.Properties as {
        Policies: { PolicyDocument: { Statement: Statement[] } }[];
      };
      const secretResources = role.Policies.flatMap((p) => p.PolicyDocument.Statement)
        .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => list(s.Resource).map(flatten));
      expect(secretResources.sort()).toEqual([exchangeArn, `${exchangeArn}-??????`].sort());
    });

    it('grants kms:Decrypt on that key only, through Secrets Manager only, to the roles that read the secrets', () => {
      const conditions = (packaged.template as { Conditions: Json }).Conditions;
      expect(conditions.HasSecretsKmsKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [keyArn, ''] }] });
      const policy = resourcesOf().SecretsKmsDecryptPolicy?.Properties as Json;
      const readers = Object.entries(resourcesOf())
        .filter(([id, r]) => r.Type === 'AWS::IAM::Role' && statementsOf(id).some(readsSecrets))
        .map(([id]) => `<${id}>`);
      // Every function's role reads a secret (a function of its own role: above), but telegram's, which reads
      // only the Telegram secret, not set here (template-telegram.test.ts sets it): it gets the key only then.
      expect(readers).toHaveLength(functions.length - 1);
      expect(readers).not.toContain('<TelegramRole>');
      const roles = list(policy.Roles).map((r) =>
        JSON.stringify(r) ===
        JSON.stringify({ 'Fn::If': ['HasTelegramSecret', { Ref: 'TelegramRole' }, { Ref: 'AWS::NoValue' }] })
          ? undefined
          : flatten(r),
      );
      expect(roles.filter(Boolean).sort()).toEqual(readers.sort());
      expect(roles.filter((r) => r === undefined)).toHaveLength(1);
      const condition = (packaged.template as { Conditions: Json }).Conditions.HasTelegramSecret;
      expect(condition).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
      const [statement, ...others] = (policy.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(others).toEqual([]);
      expect(statement).toMatchObject({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn });
      const via = (statement?.Condition?.StringEquals as Json | undefined)?.['kms:ViaService'];
      expect(flatten(via)).toBe('secretsmanager.<AWS::Region>.amazonaws.com');
    });
  });
});
