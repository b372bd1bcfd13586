// `npm run kill-switch` against a deployed stage, end to end on loopback, with every name taken from the packaged
// CloudFormation template: the command (a child process, the real AWS SDK clients) puts the event on an
// EventBridge stand-in that serves the template's rule and hands the event, as the bus would, to the real
// cancelAll handler; the handler cancels on the exchange emulator and records its report in the template's
// state table (dynalite); the command waits for that record and prints it. `--status` reads the same table
// and a Scheduler endpoint, and a signed POST /status answers the same.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { armPlan, scheduleName } from '../../lib/cancel/dead-mans-switch.ts';
import { StateHaltStore } from '../../lib/lambda/halts.ts';
import { when } from '../../lib/lambda/messages.ts';
import { EventBridgeSchedule } from '../../lib/lambda/scheduler.ts';
import type { StackStatus } from '../../lib/lambda/status.ts';
import { type FakeEventBridge, startEventBridge, templateRule } from '../support/eventbridge.ts';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { childEnv, runScript } from '../support/local-run.ts';
import { mixedBook } from '../support/orders.ts';
import { type ReportingStack, startReporting } from '../support/reporting.ts';
import { type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const template = inject('packaged').template;
const rule = templateRule(template);
const TIMEOUT_MS = 60_000;
/** The bus hands the event on after this long, so that the command has to wait for the report. */
const DELIVERY_DELAY_MS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'bybit-cancel-cli-'));

let stack: LocalStack;
let reporting: ReportingStack;
let events: FakeEventBridge;
let scheduler: SchedulerEndpoint;
let cancelAll: Handler;
let drill: Handler;
let status: Handler;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
  reporting = await startReporting(template, stack.secrets);
  scheduler = await startScheduler({ region: 'ap-southeast-1' });
  Object.assign(process.env, stack.env, reporting.env, {
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    // The passphrase must never open /status, even where it is allowed.
    WEBHOOK_PASSPHRASE_MODE: 'true',
  });
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  // The drill runs on the drill function (handlers/drill.ts).
  drill = (await import('../../handlers/drill.ts')).handler as Handler;
  status = (await import('../../handlers/status.ts')).handler as Handler;
  const functionName = `bybit-cancel-${reporting.stage}-cancelAll`;
  events = await startEventBridge({
    rules: [rule],
    onEvent: (event) => {
      setTimeout(() => {
        cancelAll(event, lambdaContext(8000, functionName)).catch(() => undefined);
      }, DELIVERY_DELAY_MS);
    },
  });
});
afterAll(async () => {
  await Promise.all([events.close(), scheduler.close(), reporting.close(), stack.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stack.emulator.reset();
  reporting.sns.reset();
  events.eventId = crypto.randomUUID();
});

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;

/** The command's AWS settings: the loopback endpoints, credentials that exist only here, no profile. */
function cliEnv(extra: Record<string, string> = {}) {
  return childEnv({
    ...extra,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
    AWS_ENDPOINT_URL_DYNAMODB: reporting.dynamo.url,
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    AWS_ACCESS_KEY_ID: 'AKIDKILLSWITCHCLI',
    AWS_SECRET_ACCESS_KEY: 'kill-switch-cli-test-only',
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  });
}

describe('npm run kill-switch -- --stage S (a deployed stage)', () => {
  it("finds the template's rule, waits for the event's report in the template's state table, prints the table, and exits 0 when all is clear", async () => {
    stack.emulator.addOrders(key('main'), mixedBook(30));
    stack.emulator.addOrders(key('hedge'), mixedBook(12));
    const result = await runScript(
      'kill-switch',
      ['--stage', reporting.stage, '--reason', 'drawdown limit hit'],
      TIMEOUT_MS,
      cliEnv(),
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Rule ${rule.Name} (ENABLED) sends it to bybit-cancel-${reporting.stage}-cancelAll`,
    );
    // Progress while it waits (dots when not on a terminal), then the record.
    expect(result.stdout).toMatch(
      new RegExp(`waiting for its report in ${reporting.tableName} \\(up to 150 s\\) …\\.* ✔ [\\d.]+ s`),
    );
    expect(result.stdout).toContain(
      `Kill switch ${events.eventId}, fired by npm run kill-switch: drawdown limit hit`,
    );
    expect(result.stdout).toMatch(/^ {2}account\s+cancelled\s+open\s+result$/m);
    expect(result.stdout).toMatch(/^ {2}main\s+30\s+0\s+✔ clear$/m);
    expect(result.stdout).toMatch(/^ {2}hedge\s+12\s+0\s+✔ clear$/m);
    expect(result.stdout).toContain('✔ Cancelled 42 order(s) in 2 account(s); nothing is left open');
    expect(stack.emulator.openOrders()).toHaveLength(0);
    // The same run reached a person, named as the command fired it.
    const [message] = reporting.sns.published();
    expect(message?.message).toContain('Fired by: npm run kill-switch');
  });

  it('exits 1 when the report says orders remain, and prints the ids still open', {
    timeout: 90_000,
  }, async () => {
    stack.emulator.addOrders(key('main'), mixedBook(10));
    const [stuck] = stack.emulator.addOrders(key('hedge'), [{ category: 'spot', symbol: 'ETHUSDT' }]);
    stack.emulator.setSurvivors({ orderIds: [stuck?.orderId as string] });
    const result = await runScript('kill-switch', ['--stage', reporting.stage], TIMEOUT_MS, cliEnv());

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}main\s+10\s+0\s+✔ clear$/m);
    expect(result.stdout).toMatch(/^ {2}hedge\s+\d+\s+1\s+✘ 1 open$/m);
    expect(result.stdout).toContain(`    open: spot ETHUSDT ${stuck?.orderId}`);
    expect(result.stderr).toContain('✘ 1 order(s) still open; failed: hedge: spot');
  });
});

describe('npm run kill-switch -- --drill --stage S (a deployed stage)', () => {
  /** Lambda's Invoke API on loopback, running the real handler as the function would, with its request id. */
  async function startLambda(): Promise<{ url: string; close: () => Promise<void> }> {
    const server: Server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const context = { ...lambdaContext(30_000, `bybit-cancel-${reporting.stage}-drill`) };
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amzn-requestid': context.awsRequestId,
      };
      try {
        const result = await drill(JSON.parse(Buffer.concat(chunks).toString()), context);
        response.writeHead(200, headers).end(JSON.stringify(result));
      } catch (error) {
        const { name, message } = error as Error;
        response
          .writeHead(200, { ...headers, 'x-amz-function-error': 'Unhandled' })
          .end(JSON.stringify({ errorType: name, errorMessage: message }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('prints a failed drill as a table, read from the state table by the invocation’s request id', async () => {
    const lambda = await startLambda();
    stack.emulator.setKey(key('hedge'), { expiresInDays: 3 });
    try {
      const result = await runScript(
        'kill-switch',
        ['--drill', '--stage', reporting.stage],
        TIMEOUT_MS,
        cliEnv({ AWS_ENDPOINT_URL_LAMBDA: lambda.url }),
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/waiting for bybit-cancel-\w+-drill \(up to 90 s\) …\.* ✔/);
      expect(result.stdout).toMatch(/^ {2}account\s+key\s+open orders\s+result$/m);
      expect(result.stdout).toMatch(/^ {2}hedge\s+expires in 3 d\s+.*✘ 1 problem\(s\)$/m);
      expect(result.stdout).toMatch(/^ {2}main\s+no expiry\s+.*✔ ok$/m);
      expect(result.stdout).toContain('  ✘ hedge: the key expires in 3 day(s)');
      expect(result.stderr).toContain('✘ 1 problem(s) in 1 of 2 account(s) (hedge)');
    } finally {
      stack.emulator.setKey(key('hedge'), { expiresInDays: null });
      await lambda.close();
    }
  });
});

describe('npm run kill-switch -- --status, and POST /status', () => {
  let firesAt: string;

  beforeAll(async () => {
    // An armed dead man's switch (as a heartbeat arms it, through the real Scheduler client) and a failed drill
    // (the drill schedule's event, with a key that expires in 3 days).
    const schedule = new EventBridgeSchedule({
      client: new SchedulerClient({
        endpoint: scheduler.url,
        region: 'ap-southeast-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local-scheduler' },
      }),
      name: scheduleName(reporting.stage),
      groupName: 'default',
      busArn: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
      roleArn: 'arn:aws:iam::123456789012:role/dead-mans-switch',
      source: 'bybit.killswitch',
      detailType: 'Kill Switch',
    });
    // No halt: the kill switches fired above halted what they covered; a person reset them.
    const halts = new StateHaltStore(reporting.state);
    for (const halt of await halts.list()) await halts.clear(halt.account);
    const plan = armPlan({ ttlSeconds: 3600, disarm: false, reason: 'grid bot' }, new Date());
    await schedule.arm(plan);
    firesAt = plan.firesAt.toISOString();
    stack.emulator.setKey(key('hedge'), { expiresInDays: 3 });
    await drill(loadEvent('schedule-drill.json'), lambdaContext(30_000, 'bybit-cancel-dev-drill')).catch(
      () => undefined,
    );
    stack.emulator.setKey(key('hedge'), { expiresInDays: null });
  });

  it("shows the armed dead man's switch with its time, and the failed drill with its problems; exits 1", async () => {
    const result = await runScript(
      'kill-switch',
      ['--status', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Stack bybit-cancel-${reporting.stage} in ap-southeast-1`);
    expect(result.stdout).toMatch(/^ {2}halt {15}none$/m);
    // Armed for an hour, from whole seconds: 60 min 0 s when the status is read within the same second.
    expect(result.stdout).toContain(`  dead man's switch  ARMED: fires at ${when(firesAt)} (in `);
    expect(result.stdout).toMatch(/ARMED: fires at .* \(in (59 min \d+ s|60 min 0 s)\)$/m);
    expect(result.stdout).toContain("its reason: dead man's switch: no heartbeat since");
    expect(result.stdout).toMatch(
      /^ {2}last drill {9}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: ✘ 1 problem\(s\)$/m,
    );
    expect(result.stdout).toMatch(/^ {4}✘ hedge: the key expires in 3 day\(s\) .*\[keyExpiresSoon\]$/m);
    expect(result.stderr).toMatch(/Needs attention: .*the last drill \(.+\) found 1 problem\(s\) on hedge/);
  });

  it('answers the same as JSON, from --status --json and from a signed POST /status; the passphrase never opens it', async () => {
    const cli = await runScript(
      'kill-switch',
      ['--status', '--json', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );
    expect(cli.code).toBe(1);
    const printed = JSON.parse(cli.stdout) as StackStatus;
    expect(printed).toMatchObject({
      operation: 'status',
      ok: false,
      deadMansSwitch: { armed: true, firesAt },
      lastDrill: { ok: false, problems: [{ account: 'hedge', code: 'keyExpiresSoon' }] },
    });

    const signed = signedHttpEvent('http-v2-status.json', {}, stack.webhookSecret);
    const response = (await status(signed, lambdaContext(10_000, 'bybit-cancel-dev-status'))) as {
      statusCode: number;
      body: string;
    };
    expect(response.statusCode).toBe(200);
    const answered = JSON.parse(response.body) as StackStatus;
    expect({ ...answered, checkedAt: '' }).toEqual({ ...printed, checkedAt: '' });

    const byPassphrase = loadEvent('http-v2-status.json');
    byPassphrase.body = JSON.stringify({ passphrase: stack.passphrase });
    delete byPassphrase.headers['x-timestamp'];
    delete byPassphrase.headers['x-signature'];
    const refused = (await status(byPassphrase, lambdaContext(10_000))) as {
      statusCode: number;
      body: string;
    };
    expect(refused.statusCode).toBe(401);
    expect(refused.body).not.toContain('deadMansSwitch');
  });
});
