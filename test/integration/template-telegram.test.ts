// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is CloudFormation Fn::Sub syntax, not JavaScript.
// The telegram function as the packaged CloudFormation template deploys it: behind `POST /telegram`, outside the
// exchange functions (no VPC, no share of the IP budget), with a role of its own that may do exactly what its
// commands need: read the Telegram secret (only when one is configured), its own records and what /status
// reads, put the kill-switch event and no other, start the reset, drill and heartbeat functions and its own
// jobs; never read an exchange key or the webhook key, never write a record of another function.

import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type PackagedService, packageService } from '../support/bundle.ts';
import { functionEnv } from '../support/reporting.ts';
import {
  type Json,
  list,
  type PolicyStatement,
  roleStatements,
  type TemplateResource,
} from '../support/template.ts';

const packaged = inject('packaged');
const template = packaged.template as { Resources: Record<string, TemplateResource> };
const properties = (id: string) => template.Resources[id]?.Properties as Json;
const env = functionEnv(packaged.template, 'TelegramLambdaFunction') as Record<string, unknown>;

/** A CloudFormation value as text: `{Ref: X}` → `<X>`, `{Fn::GetAtt: [X, Arn]}` → `<X.Arn>`, Fn::Sub's placeholders as `<…>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Ref' in v) return `<${v.Ref}>`;
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Sub' in v) return String(v['Fn::Sub']).replace(/\$\{([^}]+)\}/g, '<$1>');
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  return JSON.stringify(value);
}

const arnOf = (kind: string, name: string) =>
  `arn:<AWS::Partition>:${kind}:<AWS::Region>:<AWS::AccountId>:${name}`;
const functionArn = (name: unknown) => arnOf('lambda', `function:${name}`);
const roleId = () => flatten(properties('TelegramLambdaFunction').Role).replace(/^<(.+)\.Arn>$/, '$1');
const statements = (): PolicyStatement[] => roleStatements(packaged.template, roleId());
const actionsOf = (all: PolicyStatement[]) => all.flatMap((s) => list(s.Action)).sort();
const withAction = (all: PolicyStatement[], prefix: string) =>
  all.filter((s) => list(s.Action).some((a) => a.startsWith(prefix)));

describe('the telegram function', () => {
  it('serves POST /telegram, with a role of its own, outside the VPC and the IP budget of the exchange functions', () => {
    const route = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties?.RouteKey === 'POST /telegram',
    );
    const integration = flatten(route?.Properties?.Target).replace(/^integrations\/<(.+)>$/, '$1');
    expect(flatten(properties(integration).IntegrationUri)).toBe('<TelegramLambdaFunction.Arn>');
    expect(roleId()).toBe('TelegramRole');
    expect(template.Resources.TelegramRole?.Type).toBe('AWS::IAM::Role');
    const fn = properties('TelegramLambdaFunction');
    expect(fn.VpcConfig).toBeUndefined();
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    // Its own jobs are never retried (a job could send twice, or reset twice).
    const config = Object.values(template.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        flatten(r.Properties?.FunctionName) === '<TelegramLambdaFunction>',
    );
    expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
  });

  it('is told the names of the functions it starts, as the template deploys them', () => {
    const name = (id: string) => properties(id).FunctionName;
    expect(env.TELEGRAM_FUNCTION_NAME).toBe(name('TelegramLambdaFunction'));
    expect(env.DRILL_FUNCTION_NAME).toBe(name('DrillLambdaFunction'));
    expect(env.HEARTBEAT_FUNCTION_NAME).toBe(name('HeartbeatLambdaFunction'));
    expect(env.RESET_FUNCTION_NAME).toBe(name('ResetLambdaFunction'));
  });
});

describe("the telegram function's role", () => {
  it('may do exactly this, and nothing else', () => {
    expect(actionsOf(statements())).toEqual([
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'events:PutEvents',
      'lambda:InvokeFunction',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'scheduler:GetSchedule',
      'sqs:SendMessage',
    ]);
    for (const s of statements()) {
      expect(s.Effect).toBe('Allow');
      // Every resource named: no wildcard in place of a resource, an account or a name.
      for (const resource of list(s.Resource)) expect(flatten(resource)).not.toMatch(/^\*$|::\*|:\*:|\/\*$/);
    }
  });

  it('writes its own log group only', () => {
    const [logs, ...more] = withAction(statements(), 'logs:');
    expect(more).toEqual([]);
    expect(list(logs?.Resource).map(flatten)).toEqual([
      arnOf('logs', `log-group:/aws/lambda/${properties('TelegramLambdaFunction').FunctionName}:*`),
    ]);
  });

  it('reads and writes its own records of the state table, and only reads what /status reads', () => {
    const table = withAction(statements(), 'dynamodb:');
    for (const s of table) expect(list(s.Resource).map(flatten)).toEqual(['<StateTable.Arn>']);
    const write = table.find((s) => list(s.Action).includes('dynamodb:PutItem'));
    expect(list(write?.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(write?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['telegram-update#*', 'nonce#*'] },
    });
    const read = table.find((s) => !list(s.Action).includes('dynamodb:PutItem'));
    const status = withAction(roleStatements(packaged.template, 'StatusRole'), 'dynamodb:');
    expect(read).toEqual(status[0]);
  });

  it('puts the kill-switch event, the one the kill-switch rule matches, on the default bus, and no other', () => {
    const [put, ...more] = withAction(statements(), 'events:');
    expect(more).toEqual([]);
    expect(list(put?.Action)).toEqual(['events:PutEvents']);
    expect(list(put?.Resource).map(flatten)).toEqual([arnOf('events', 'event-bus/default')]);
    const rule = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern,
    )?.Properties?.EventPattern as { source: string[]; 'detail-type': string[] };
    expect(put?.Condition).toEqual({
      StringEquals: { 'events:source': rule.source[0], 'events:detail-type': rule['detail-type'][0] },
    });
    expect(rule.source).toEqual([env.KILL_SWITCH_SOURCE]);
  });

  it('starts the reset, drill and heartbeat functions and itself, and no other; reads the schedule only', () => {
    const [invoke, ...more] = withAction(statements(), 'lambda:');
    expect(more).toEqual([]);
    expect(list(invoke?.Action)).toEqual(['lambda:InvokeFunction']);
    // By the names the template gives the functions (by name: a reference to its own would be circular).
    expect(list(invoke?.Resource).map(flatten).sort()).toEqual(
      ['ResetLambdaFunction', 'DrillLambdaFunction', 'HeartbeatLambdaFunction', 'TelegramLambdaFunction']
        .map((id) => functionArn(properties(id).FunctionName))
        .sort(),
    );
    // Not the functions that cancel: a kill switch from Telegram goes through the kill-switch event only.
    for (const id of ['CancelAllLambdaFunction', 'CancelLambdaFunction', 'StatusLambdaFunction'])
      expect(list(invoke?.Resource).map(flatten)).not.toContain(functionArn(properties(id).FunctionName));
    const [schedule, ...others] = withAction(statements(), 'scheduler:');
    expect(others).toEqual([]);
    expect(list(schedule?.Action)).toEqual(['scheduler:GetSchedule']);
    expect(list(schedule?.Resource).map(flatten)).toEqual([
      arnOf('scheduler', `schedule/default/bybit-cancel-${env.STAGE}-dead-mans-switch`),
    ]);
  });

  it('reads no secret while TELEGRAM_SECRET_ID is empty: neither the exchange keys nor the webhook key', () => {
    expect(env.TELEGRAM_SECRET_ID).toBe('');
    expect(withAction(statements(), 'secretsmanager:')).toEqual([]);
    expect(withAction(statements(), 'kms:')).toEqual([]);
  });

  describe('with TELEGRAM_SECRET_ID set (as an ARN), a master key for the halt and a customer-managed key for the secrets', () => {
    const secretArn = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:bybit-cancel/prod/telegram';
    const masterSecretId = 'bybit-cancel/prod/halt-master';
    const keyArn = 'arn:aws:kms:ap-southeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    let variant: PackagedService;
    beforeAll(async () => {
      variant = await packageService([
        `--param=TELEGRAM_SECRET_ID=${secretArn}`,
        `--param=HALT_MASTER_SECRET_ID=${masterSecretId}`,
        `--param=SECRETS_KMS_KEY_ARN=${keyArn}`,
      ]);
    }, 180_000);

    it('reads that secret and no other (no exchange, webhook or master key), and may decrypt it through Secrets Manager', () => {
      const own = roleStatements(variant.template, 'TelegramRole');
      const secrets = withAction(own, 'secretsmanager:');
      expect(actionsOf(secrets)).toEqual(['secretsmanager:GetSecretValue']);
      expect(secrets.flatMap((s) => list(s.Resource).map(flatten)).sort()).toEqual(
        [secretArn, `${secretArn}-??????`].sort(),
      );
      const variantEnv = functionEnv(variant.template, 'TelegramLambdaFunction');
      // Neither the exchange keys, nor the webhook key, nor the master key (the others' roles read them).
      for (const other of [variantEnv.BYBIT_SECRET_ID, variantEnv.WEBHOOK_SECRET_ID, masterSecretId]) {
        expect(JSON.stringify(own)).not.toContain(String(other));
        expect(JSON.stringify(variant.template)).toContain(String(other));
      }
      const kms = (variant.template.Resources as Record<string, TemplateResource>).SecretsKmsDecryptPolicy
        ?.Properties as Json;
      // The telegram role decrypts only when it has a secret to read: here it has.
      expect(list(kms.Roles)).toContainEqual({
        'Fn::If': ['HasTelegramSecret', { Ref: 'TelegramRole' }, { Ref: 'AWS::NoValue' }],
      });
      expect((variant.template as { Conditions: Json }).Conditions.HasTelegramSecret).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [secretArn, ''] }],
      });
    });
  });
});
