// The halt through the real handlers and the state table the packaged template declares (dynalite, through the
// real DynamoDB client): every kind of kill switch (an EventBridge event, a signed webhook, the dead man's
// switch firing through the Scheduler, the CLI's event) halts the accounts it covers; a heartbeat for a halted
// account answers 423 and makes no Scheduler call; a reset (direct, or a signed POST /reset) restores the keys
// and clears the halt; status shows it; the messages reach the reports topic.

import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { keyFingerprint, maskKey } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import type { StackStatus } from '../../lib/lambda/status.ts';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { type ReportingStack, startReporting } from '../support/reporting.ts';
import { type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, type StackAccount, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const template = inject('packaged').template;
/** A schedule 120 s ahead fires after 1.2 s. */
const TIME_SCALE = 0.01;
const MONTH_AGO = Date.now() - 30 * 86_400_000;
const BOT = { apiKey: 'key-halt-bot-8c1e5a0b7d', apiSecret: 'halt-bot-secret-0123456789ab' };

let stack: LocalStack;
let reporting: ReportingStack;
let scheduler: SchedulerEndpoint;
let desk: StackAccount;
let cancelAll: Handler;
let heartbeat: Handler;
let reset: Handler;
let status: Handler;
const fired: unknown[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: ['desk', 'fund'], subAccounts: ['desk'] });
  reporting = await startReporting(template, stack.secrets);
  scheduler = await startScheduler({
    region: 'ap-southeast-1',
    timeScale: TIME_SCALE,
    onFire: async (event) => {
      fired.push(await cancelAll(event, lambdaContext(30_000)).catch((error: Error) => error));
    },
  });
  desk = stack.accounts.find((a) => a.name === 'desk') as StackAccount;
  registerSecret('apiKey', BOT.apiKey);
  registerSecret('apiSecret', BOT.apiSecret);
  stack.emulator.addAccount({ uid: desk.uid, parentUid: stack.master?.uid, ...BOT });
  Object.assign(process.env, stack.env, reporting.env, {
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
    DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/dead-mans-switch',
    // The passphrase never opens /reset, even where it is allowed.
    WEBHOOK_PASSPHRASE_MODE: 'true',
  });
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  heartbeat = (await import('../../handlers/heartbeat.ts')).handler as Handler;
  reset = (await import('../../handlers/reset.ts')).handler as Handler;
  status = (await import('../../handlers/status.ts')).handler as Handler;
});
afterAll(async () => {
  await Promise.all([scheduler.close(), reporting.close(), stack.close()]);
});
beforeEach(async () => {
  // Nothing halted, nothing armed, every key as it was.
  await reset(loadEvent('direct-reset.json'), lambdaContext()).catch(() => undefined);
  await reset({ accounts: ['fund'] }, lambdaContext()).catch(() => undefined);
  await heartbeat(signed('http-v2-heartbeat.json', { disarm: true }), lambdaContext());
  stack.emulator.reset();
  stack.emulator.setKey(BOT.apiKey, { createdAt: MONTH_AGO, ips: ['127.0.0.1'] });
  scheduler.reset();
  reporting.sns.reset();
  fired.length = 0;
});

const signed = (name: string, body: unknown) => signedHttpEvent(name, body, stack.webhookSecret);
const beat = async (body: unknown) =>
  (await heartbeat(signed('http-v2-heartbeat.json', body), lambdaContext())) as APIGatewayProxyResult;
const bodyOf = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const scheduleName = () => `bybit-cancel-${reporting.stage}-dead-mans-switch`;
const event = (detail: Record<string, unknown>): AnyEvent => ({
  ...loadEvent('kill-switch.json'),
  id: crypto.randomUUID(),
  detail,
});

/** Each way a kill switch fires, covering `desk`. */
const killSwitches: [string, string, () => Promise<unknown>][] = [
  ['an EventBridge event', 'killSwitch', () => cancelAll(event({ reason: 'drawdown' }), lambdaContext())],
  [
    'a signed webhook',
    'killSwitch',
    async () => {
      const response = (await cancelAll(
        signed('http-v2-kill-switch.json', { reason: 'webhook' }),
        lambdaContext(),
      )) as APIGatewayProxyResult;
      expect(response.statusCode).toBe(200);
      return bodyOf(response);
    },
  ],
  [
    "the dead man's switch",
    'deadMansSwitch',
    async () => {
      const next = scheduler.nextFire(20_000);
      // A bot that arms with a short ttl, then goes quiet.
      expect((await beat({ ttlSeconds: 120, reason: 'bot-1' })).statusCode).toBe(200);
      await next;
      return fired.at(-1);
    },
  ],
  [
    'the CLI’s event',
    'cli',
    () => cancelAll(event({ origin: 'cli', reason: 'npm run kill-switch by ana@desk-3' }), lambdaContext()),
  ],
];

describe('after any kill switch', () => {
  it.each(killSwitches)(
    'a heartbeat for a covered account answers 423 and the schedule is unchanged (%s)',
    async (_, origin, fire) => {
      // A bot's dead man's switch, armed before the kill switch (the dead man's switch arms its own, shorter).
      if (origin !== 'deadMansSwitch') expect((await beat({ ttlSeconds: 3600 })).statusCode).toBe(200);
      const report = (await fire()) as KillSwitchReport;
      expect(report).toMatchObject({ operation: 'killSwitch', ok: true });
      expect(report.halt?.set).toBe(true);
      const armed = scheduler.get(scheduleName());
      // Still armed after the kill switch; the one that fired deleted itself.
      expect(armed === undefined).toBe(origin === 'deadMansSwitch');
      const calls = scheduler.calls.length;

      const refused = await beat({ ttlSeconds: 300, accounts: ['desk'] });
      expect(refused.statusCode).toBe(423);
      const answer = bodyOf(refused);
      expect(answer).toMatchObject({ halted: true, origin, accounts: ['desk'] });
      expect(Date.parse(answer.since)).toBeGreaterThan(Date.now() - 60_000);
      expect(typeof answer.reason).toBe('string');
      // No Scheduler call, and the schedule exactly as it was (or still absent).
      expect(scheduler.calls.length).toBe(calls);
      expect(scheduler.get(scheduleName())).toEqual(armed);
      expect((await beat({ disarm: true })).statusCode).toBe(423);
      expect(scheduler.calls.length).toBe(calls);
    },
  );

  it('refuses a heartbeat naming no account while any account is halted, and lets one for another account through', async () => {
    await cancelAll(event({ accounts: ['desk'], reason: 'desk only' }), lambdaContext());
    const armedBefore = await beat({ ttlSeconds: 600, accounts: ['fund'] });
    expect(armedBefore.statusCode).toBe(200);
    expect(bodyOf(armedBefore)).toMatchObject({ armed: true });
    const calls = scheduler.calls.length;
    const everything = await beat({ ttlSeconds: 600 });
    expect(everything.statusCode).toBe(423);
    expect(bodyOf(everything)).toMatchObject({ accounts: ['desk'], reason: 'desk only' });
    expect(scheduler.calls.length).toBe(calls);
  });

  it('records since, origin, reason and the event id in the halt partition, and makes the bot’s key read-only', async () => {
    const fire = event({ origin: 'cli', reason: 'runaway bot' });
    const report = (await cancelAll(fire, lambdaContext())) as KillSwitchReport;
    expect(report.halt?.accounts.find((a) => a.account === 'desk')).toMatchObject({
      mode: 'enforced',
      flipped: [maskKey(BOT.apiKey)],
      failed: [],
    });
    expect(stack.emulator.keySettings(BOT.apiKey)).toMatchObject({ readOnly: true, ips: ['127.0.0.1'] });
    const items = await reporting.items('halt');
    const values = items.map((i) => i.value as Record<string, unknown>);
    const deskHalt = values.find((v) => v.kind === 'halt' && v.account === 'desk');
    expect(deskHalt).toMatchObject({
      origin: 'cli',
      reason: 'runaway bot',
      eventId: fire.id,
      subUid: desk.uid,
    });
    expect(values.find((v) => v.kind === 'halt' && v.account === 'fund')).toMatchObject({
      origin: 'cli',
      eventId: fire.id,
    });
    const key = items.find((i) => i.sk === `desk#key#${keyFingerprint(BOT.apiKey)}`)?.value;
    expect(key).toMatchObject({
      readOnly: false,
      ips: ['127.0.0.1'],
      flipped: true,
      key: maskKey(BOT.apiKey),
    });
    // The table holds no key, only its fingerprint and its masked form.
    expect(JSON.stringify(items)).not.toContain(BOT.apiKey);

    // The message says which accounts are halted, which keys were flipped, and how to reset.
    const [message] = reporting.sns.published();
    expect(message?.message).toContain('Halted (trading stays stopped until a person resets it):');
    expect(message?.message).toContain(`- desk: 1 key made read-only (${maskKey(BOT.apiKey)})`);
    expect(message?.message).toContain('- fund: cooperative only');
    expect(message?.message).toContain(`npm run kill-switch -- --reset --stage ${reporting.stage}`);
    expect(message?.message).not.toContain(BOT.apiKey);
  });

  it('sets no halt on "halt": false, and a heartbeat is heard', async () => {
    const report = (await cancelAll(event({ halt: false }), lambdaContext())) as KillSwitchReport;
    expect(report.halt).toEqual({ set: false, why: 'the kill switch said "halt": false', accounts: [] });
    expect(await reporting.items('halt')).toEqual([]);
    expect((await beat({ ttlSeconds: 300 })).statusCode).toBe(200);
  });

  it('never lets the halt’s writes hold the first wave: every first-wave cancel-all is sent before a slow table answers', async () => {
    const slow = await slowDynamo(reporting.dynamo.url, 400);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = slow.url;
    try {
      const fresh = await freshHandler('cancel-all');
      const report = (await fresh(event({ accounts: ['desk'] }), lambdaContext())) as KillSwitchReport;
      expect(report).toMatchObject({ ok: true });
      const firstHaltWrite = slow.answered.find((a) => a.target === 'PutItem' && a.halt);
      expect(firstHaltWrite).toBeDefined();
      const firstWave = stack.emulator.requests.filter((r) => r.path === '/v5/order/cancel-all');
      // linear USDT and USDC, inverse BTC and ETH, spot's five kinds, option: the configured first wave.
      expect(firstWave.length).toBeGreaterThanOrEqual(10);
      expect(Math.max(...firstWave.slice(0, 10).map((r) => r.at))).toBeLessThan(firstHaltWrite?.at as number);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = reporting.dynamo.url;
      await slow.close();
    }
  });
});

describe('reset', () => {
  it('restores the flipped key with its IPs, clears the halt and says so; a second reset does nothing and says so', async () => {
    await cancelAll(event({ accounts: ['desk'] }), lambdaContext());
    expect(stack.emulator.keySettings(BOT.apiKey).readOnly).toBe(true);
    reporting.sns.reset();

    const first = await reset({ accounts: ['desk'], by: 'ana at the desk' }, lambdaContext());
    expect(first).toEqual({
      operation: 'reset',
      ok: true,
      by: 'ana at the desk',
      message: 'reset 1 account(s): 1 key(s) made read-write again',
      accounts: [
        { account: 'desk', restored: [maskKey(BOT.apiKey)], leftAlone: [], failed: [], cleared: true },
      ],
    });
    expect(stack.emulator.keySettings(BOT.apiKey)).toMatchObject({ readOnly: false, ips: ['127.0.0.1'] });
    expect(await reporting.items('halt')).toEqual([]);
    expect((await beat({ ttlSeconds: 300, accounts: ['desk'] })).statusCode).toBe(200);
    const [message] = reporting.sns.published();
    expect(message?.subject).toBe(`Halt reset: desk - 1 key made read-write again (${reporting.stage})`);
    expect(message?.message).toContain('Reset by: ana at the desk');

    const second = await reset({ accounts: ['desk'] }, lambdaContext());
    expect(second).toMatchObject({ ok: true, message: 'nothing to reset: desk is not halted', accounts: [] });
    expect(reporting.sns.published()).toHaveLength(1);
  });

  it('answers a signed POST /reset with what it restored; the passphrase and an unsigned body are refused', async () => {
    await cancelAll(event({ accounts: ['desk'] }), lambdaContext());
    const byPassphrase = loadEvent('http-v2-reset.json');
    byPassphrase.body = JSON.stringify({ accounts: ['desk'], passphrase: stack.passphrase });
    delete byPassphrase.headers['x-timestamp'];
    delete byPassphrase.headers['x-signature'];
    expect(((await reset(byPassphrase, lambdaContext())) as APIGatewayProxyResult).statusCode).toBe(401);
    expect(stack.emulator.keySettings(BOT.apiKey).readOnly).toBe(true);

    const answered = (await reset(
      signed('http-v2-reset.json', { accounts: ['desk'], by: 'ops webhook' }),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(answered.statusCode).toBe(200);
    expect(bodyOf(answered)).toMatchObject({
      operation: 'reset',
      ok: true,
      accounts: [{ account: 'desk', restored: [maskKey(BOT.apiKey)], cleared: true }],
    });
    expect(stack.emulator.keySettings(BOT.apiKey).readOnly).toBe(false);
    // The master-key check is the drill's, by direct invocation only: over HTTP it is an unknown field.
    const check = (await reset(
      signed('http-v2-reset.json', { check: 'master' }),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(check.statusCode).toBe(400);
    expect(bodyOf(check)).toMatchObject({ field: 'check' });
  });

  it('shows the halt in the status, which needs attention until the reset', async () => {
    await cancelAll(event({ origin: 'cli', reason: 'runaway bot', accounts: ['desk'] }), lambdaContext());
    const halted = JSON.parse(
      ((await status(signed('http-v2-status.json', {}), lambdaContext())) as APIGatewayProxyResult).body,
    ) as StackStatus;
    expect(halted.ok).toBe(false);
    expect(halted.halt).toMatchObject({
      halted: true,
      accounts: [
        { account: 'desk', origin: 'cli', reason: 'runaway bot', mode: 'enforced', keysReadOnly: 1 },
      ],
    });
    expect(halted.attention[0]).toMatch(
      /^trading is halted on desk since .+ \(cli: runaway bot\): find out why, then reset/,
    );
    await reset({}, lambdaContext());
    const clear = JSON.parse(
      ((await status(signed('http-v2-status.json', {}), lambdaContext())) as APIGatewayProxyResult).body,
    ) as StackStatus;
    expect(clear.halt).toEqual({ halted: false, accounts: [] });
  });
});

/** A handler module imported afresh, so that its clients follow the endpoint settings as they are now. */
async function freshHandler(name: string): Promise<Handler> {
  const { vi } = await import('vitest');
  vi.resetModules();
  return (await import(`../../handlers/${name}.ts`)).handler as Handler;
}

interface SlowDynamo {
  url: string;
  /** When each request was answered, its operation, and whether it wrote the halt partition. */
  answered: { at: number; target: string; halt: boolean }[];
  close(): Promise<void>;
}

/** A proxy in front of DynamoDB that holds every write to the halt partition `delayMs` before passing it on. */
async function slowDynamo(target: string, delayMs: number): Promise<SlowDynamo> {
  const answered: SlowDynamo['answered'] = [];
  const upstream = new URL(target);
  const server: Server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation =
      String(incoming.headers['x-amz-target'] ?? '')
        .split('.')
        .at(-1) ?? '';
    const halt = /"pk":\{"S":"halt"\}/.test(body.toString());
    if (halt && operation === 'PutItem') await new Promise((resolve) => setTimeout(resolve, delayMs));
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (response) => {
        answered.push({ at: Date.now(), target: operation, halt });
        outgoing.writeHead(response.statusCode ?? 500, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
