// The dead man's switch cannot be turned against its owner (security review 2026-12-05: M1, M4, M5, L1, L2, L3):
// the production triggers (handlers/*.ts) in containers of their own (test/support/functions.ts), the real SDK
// clients against the exchange emulator, Secrets Manager, the state table the packaged template declares
// (dynalite) and the Scheduler endpoint on loopback. A schedule that fires delivers its kill-switch event to a
// fresh cancelAll container, as the bus and the kill-switch rule would.

import { createServer, type Socket } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { cancelAllRoutes } from '../../handlers/cancel-all.ts';
import { heartbeatRoutes } from '../../handlers/heartbeat.ts';
import { statusRoutes } from '../../handlers/status.ts';
import { parseAtExpression, UNCHECKED_HALTS_WARNING } from '../../lib/cancel/dead-mans-switch.ts';
import { StateHaltStore } from '../../lib/lambda/halts.ts';
import { PARTITIONS, recordKeys } from '../../lib/lambda/records.ts';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { container } from '../support/functions.ts';
import { runScript } from '../support/local-run.ts';
import { mixedBook } from '../support/orders.ts';
import { type ReportingStack, startReporting } from '../support/reporting.ts';
import { type ScheduledEvent, type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const template = inject('packaged').template;
/** Where the schedule puts its event, as the stack names them (the local endpoint only keeps them). */
const TARGETS = {
  DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
  DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/bybit-cancel-dev-dead-mans-switch-scheduler',
  DEAD_MANS_SWITCH_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-dev-failures',
};
/** TradingView's published webhook addresses (docs/guides/tradingview.md). */
const TRADINGVIEW = '52.89.214.238,34.212.75.30,54.218.53.128,52.32.178.7';

let stack: LocalStack;
let reporting: ReportingStack;
let scheduler: SchedulerEndpoint;
let schedule: string;
/** What a fired schedule's kill switch answered, in order. */
const fired: unknown[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
  reporting = await startReporting(template, stack.secrets);
  schedule = `bybit-cancel-${reporting.stage}-dead-mans-switch`;
  // A schedule 120 s ahead fires after 1.2 s; a fresh cancelAll container runs its event.
  scheduler = await startScheduler({
    region: 'ap-southeast-1',
    timeScale: 0.01,
    onFire: async (event: ScheduledEvent) => {
      const cancelAll = container({ env: env() }).run(cancelAllRoutes);
      fired.push(await cancelAll(event, lambdaContext(60_000)).catch((error: Error) => error));
    },
  });
  // The SDK clients read their endpoints from the environment.
  Object.assign(process.env, stack.env, reporting.env, { AWS_ENDPOINT_URL_SCHEDULER: scheduler.url });
});
afterAll(async () => {
  await scheduler.close();
  await reporting.close();
  await stack.close();
});
beforeEach(async () => {
  stack.emulator.reset();
  stack.secrets.reset();
  stack.writeExchangeSecret();
  stack.secrets.put(stack.webhookSecretId, {
    webhookSecret: stack.webhookSecret,
    passphrase: stack.passphrase,
  });
  scheduler.reset();
  fired.length = 0;
  // Each test starts on a fresh deploy: no order of heartbeats, no account names recorded, no halt (the kill
  // switches of the tests before halted what they covered).
  await reporting.state.delete(recordKeys.heartbeatTurn());
  await reporting.state.delete(recordKeys.accounts());
  const halts = new StateHaltStore(reporting.state);
  for (const halt of await halts.list()) await halts.clear(halt.account);
});

/** The functions' environment on the loopback stack. */
const env = (extra: Record<string, string> = {}) => ({
  ...stack.env,
  ...reporting.env,
  ...TARGETS,
  LOG_LEVEL: 'info',
  ...extra,
});
const status = (response: unknown) => (response as { statusCode: number }).statusCode;
const body = (response: unknown) => JSON.parse((response as { body: string }).body);
const beat = (payload: unknown, options: { now?: number; legacy?: boolean } = {}) =>
  signedHttpEvent('http-v2-heartbeat.json', payload, stack.webhookSecret, options);
const firesAt = () => parseAtExpression(scheduler.get(schedule)?.ScheduleExpression ?? '')?.getTime();
const apiKey = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const exchangeCalls = () => stack.emulator.requests.length;
const signatures = async () => (await reporting.dynamo.client.send(scanAll())).Items ?? [];

/** The same captured request (headers and body) sent to another route of the same API. */
function reroute(event: AnyEvent, path: string): AnyEvent {
  const copy = structuredClone(event);
  copy.rawPath = path;
  copy.routeKey = `POST ${path}`;
  copy.requestContext.routeKey = `POST ${path}`;
  copy.requestContext.http.path = path;
  return copy;
}

/** A request without signature headers, with the passphrase in its body, from a TradingView address. */
function alert(name: string, payload: object): AnyEvent {
  const event = loadEvent(name);
  delete event.headers['x-timestamp'];
  delete event.headers['x-signature'];
  event.requestContext.http.sourceIp = '52.89.214.238';
  event.body = JSON.stringify({ ...payload, passphrase: stack.passphrase });
  return event;
}

/** Every item of the state table (the test reads the whole of it). */
function scanAll() {
  return new ScanCommand({ TableName: reporting.tableName });
}

describe('M1: a signature is good on its own route only', () => {
  it.each([{}, { reason: 'grid bot on vps-1' }, { accounts: ['main'] }])(
    'a heartbeat %j sent again to /cancel-all is refused, and nothing is cancelled',
    async (payload) => {
      for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(15));
      const bot = container({ env: env() });
      const captured = beat(payload);
      expect(body(await bot.run(heartbeatRoutes)(structuredClone(captured), lambdaContext())).armed).toBe(
        true,
      );
      // With the legacy signature allowed (the default): the heartbeat's signature covers its route.
      const replay = await bot.run(cancelAllRoutes)(reroute(captured, '/cancel-all'), lambdaContext(60_000));
      expect(status(replay)).toBe(401);
      expect(body(replay)).toMatchObject({ error: 'SignatureMismatchError' });
      expect(stack.emulator.openOrders()).toHaveLength(30);
      expect(exchangeCalls()).toBe(0);
    },
  );

  it('a kill switch sent again to /heartbeat is refused, route-bound or legacy, and arms nothing', async () => {
    const heartbeat = container({ env: env() }).run(heartbeatRoutes);
    for (const legacy of [false, true]) {
      const captured = signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret, { legacy });
      const replay = await heartbeat(reroute(captured, '/heartbeat'), lambdaContext());
      expect(status(replay)).toBe(401);
    }
    expect(scheduler.calls).toEqual([]);
    expect(scheduler.get(schedule)).toBeUndefined();
  });

  it('/cancel-all takes the legacy signature until WEBHOOK_LEGACY_SIGNATURE=false; /heartbeat and /status never', async () => {
    stack.emulator.addOrders(apiKey('main'), mixedBook(4));
    const legacy = (name: string, payload: object) =>
      signedHttpEvent(name, payload, stack.webhookSecret, { legacy: true });
    const scope = { category: 'spot', account: 'main' };
    const allowed = container({ env: env() });
    expect(
      status(await allowed.run(cancelAllRoutes)(legacy('http-v2-cancel-all.json', scope), lambdaContext())),
    ).toBe(200);
    expect(allowed.lines.some((l) => l.includes('"authenticatedBy":"legacySignature"'))).toBe(true);
    expect(
      status(await allowed.run(heartbeatRoutes)(legacy('http-v2-heartbeat.json', {}), lambdaContext())),
    ).toBe(401);
    expect(status(await allowed.run(statusRoutes)(legacy('http-v2-status.json', {}), lambdaContext()))).toBe(
      401,
    );
    const strict = container({ env: env({ WEBHOOK_LEGACY_SIGNATURE: 'false' }) });
    const refused = await strict.run(cancelAllRoutes)(
      legacy('http-v2-cancel-all.json', scope),
      lambdaContext(),
    );
    expect(status(refused)).toBe(401);
    // The route-bound signature is taken either way.
    const bound = signedHttpEvent('http-v2-cancel-all.json', scope, stack.webhookSecret);
    expect(status(await strict.run(cancelAllRoutes)(bound, lambdaContext()))).toBe(200);
    expect(scheduler.calls).toEqual([]);
  });

  it('npm run sign --path /heartbeat prints a signature /heartbeat takes and /cancel-all refuses', async () => {
    for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(6));
    const result = await runScript(
      'sign',
      ['{}', '--path', '/heartbeat', '--secret', stack.webhookSecret],
      30_000,
    );
    expect(result.code).toBe(0);
    const header = (name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(result.stdout)?.[1] as string;
    const signedBySign = (name: string) => {
      const event = loadEvent(name);
      event.headers['x-timestamp'] = header('x-timestamp');
      event.headers['x-signature'] = header('x-signature');
      event.body = '{}';
      return event;
    };
    const functions = container({ env: env() });
    const killSwitch = await functions.run(cancelAllRoutes)(
      signedBySign('http-v2-kill-switch.json'),
      lambdaContext(),
    );
    expect(status(killSwitch)).toBe(401);
    expect(stack.emulator.openOrders()).toHaveLength(12);
    expect(exchangeCalls()).toBe(0);
    const heartbeat = await functions.run(heartbeatRoutes)(
      signedBySign('http-v2-heartbeat.json'),
      lambdaContext(),
    );
    expect(status(heartbeat)).toBe(200);
    expect(body(heartbeat)).toMatchObject({ armed: true, ttlSeconds: 300 });
  });
});

describe('L2: each signature is served once', () => {
  it('a replayed kill switch is a duplicate (409) naming the first request id, and reaches no exchange', async () => {
    stack.emulator.addOrders(apiKey('main'), mixedBook(10));
    const cancelAll = container({ env: env() }).run(cancelAllRoutes);
    const captured = signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret);
    const first = lambdaContext(60_000);
    expect(status(await cancelAll(structuredClone(captured), first))).toBe(200);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    stack.emulator.addOrders(apiKey('main'), mixedBook(10));
    const calls = exchangeCalls();
    // Another container: the record is in the table, not in memory.
    const replay = await container({ env: env() }).run(cancelAllRoutes)(captured, lambdaContext(60_000));
    expect(status(replay)).toBe(409);
    expect(body(replay)).toMatchObject({
      error: 'DuplicateRequestError',
      firstRequestId: first.awsRequestId,
      operation: 'killSwitch',
    });
    expect(exchangeCalls()).toBe(calls);
    expect(stack.emulator.openOrders()).toHaveLength(10);
    // The table keeps a hash of the signature, never the signature itself.
    const text = JSON.stringify(await signatures());
    expect(text).toContain(PARTITIONS.signature);
    expect(text).not.toContain(captured.headers['x-signature']);
  });

  it('a disarm captured at t0 and replayed after the bot re-armed at t0 + 240 s is refused; the switch stays armed', async () => {
    const t0 = Date.now() - 290_000;
    const heartbeat = container({ env: env() }).run(heartbeatRoutes);
    const disarm = beat({ disarm: true }, { now: t0 });
    expect(body(await heartbeat(structuredClone(disarm), lambdaContext())).armed).toBe(false);
    expect(status(await heartbeat(beat({ ttlSeconds: 300 }, { now: t0 + 240_000 }), lambdaContext()))).toBe(
      200,
    );
    const armedUntil = firesAt();
    const replay = await heartbeat(disarm, lambdaContext());
    expect(status(replay)).toBe(409);
    expect(scheduler.get(schedule)).toBeDefined();
    expect(firesAt()).toBe(armedUntil);
  });

  it('a 24 h heartbeat captured at t0 and replayed at t0 + 299 s is refused; the schedule does not move', async () => {
    const t0 = Date.now() - 299_000;
    const heartbeat = container({ env: env() }).run(heartbeatRoutes);
    const captured = beat({ ttlSeconds: 86_400 }, { now: t0 });
    expect(status(await heartbeat(structuredClone(captured), lambdaContext()))).toBe(200);
    // The bot shortens it again a moment later.
    expect(status(await heartbeat(beat({ ttlSeconds: 300 }), lambdaContext()))).toBe(200);
    const shortened = firesAt() as number;
    expect(shortened).toBeLessThan(Date.now() + 400_000);
    expect(status(await heartbeat(captured, lambdaContext()))).toBe(409);
    expect(firesAt()).toBe(shortened);
  });

  it('a request that failed on our side gives its signature back: the same bytes are served once the fault is gone', async () => {
    stack.emulator.addOrders(apiKey('main'), mixedBook(6));
    stack.secrets.put(stack.exchangeSecretId, 'not json');
    const captured = signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret);
    const failed = await container({ env: env() }).run(cancelAllRoutes)(
      structuredClone(captured),
      lambdaContext(),
    );
    expect(status(failed)).toBeGreaterThanOrEqual(500);
    stack.writeExchangeSecret();
    const again = await container({ env: env() }).run(cancelAllRoutes)(captured, lambdaContext(60_000));
    expect(status(again)).toBe(200);
    expect(stack.emulator.openOrders()).toHaveLength(0);
  });

  it('with the state table gone, a kill switch and a heartbeat are still served, and StateFailures counts it', async () => {
    stack.emulator.addOrders(apiKey('main'), mixedBook(6));
    const gone = env({ STATE_TABLE: 'bybit-cancel-nowhere-state' });
    const cancelAll = container({ env: gone });
    const killSwitch = signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret);
    // Every order cancelled; the halt, which lives in the table, could not be set, and the answer says so.
    const answer = await cancelAll.run(cancelAllRoutes)(killSwitch, lambdaContext(60_000));
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(status(answer)).toBe(502);
    expect(body(answer)).toMatchObject({ remaining: 0, failedScopes: ['main: halt', 'hedge: halt'] });
    expect(cancelAll.metrics()).toEqual([expect.objectContaining({ Operation: 'killSwitch', Failures: 1 })]);
    expect(Number(cancelAll.metrics()[0]?.StateFailures)).toBeGreaterThanOrEqual(1);
    expect(cancelAll.lines.some((l) => l.includes('the request was served without the replay check'))).toBe(
      true,
    );
    // Never fire the dead man's switch over it: the heartbeat arms, unordered and unchecked, and says so.
    const heartbeat = container({ env: gone });
    const armed = await heartbeat.run(heartbeatRoutes)(beat({ ttlSeconds: 300 }), lambdaContext());
    expect(body(armed)).toMatchObject({ armed: true, warnings: [UNCHECKED_HALTS_WARNING] });
    expect(scheduler.get(schedule)).toBeDefined();
    // The signature not taken, the halts not read, and the turn not taken.
    expect(heartbeat.metrics()).toEqual([
      expect.objectContaining({ Operation: 'heartbeat', Failures: 0, StateFailures: 3 }),
    ]);
  });
});

describe('M4: the passphrase never reaches /heartbeat or /status', () => {
  it('from a TradingView address with passphrase mode and the allowlist on: refused before any secret, Scheduler or table call', async () => {
    const functions = container({
      env: env({ WEBHOOK_PASSPHRASE_MODE: 'true', WEBHOOK_ALLOWED_SOURCE_IPS: TRADINGVIEW }),
    });
    const heartbeat = functions.run(heartbeatRoutes);
    expect(status(await heartbeat(beat({ ttlSeconds: 300 }), lambdaContext()))).toBe(200); // the bot arms it
    const armedUntil = firesAt();
    const calls = scheduler.calls.length;
    const reads = stack.secrets.reads();
    const items = (await signatures()).length;
    for (const payload of [{ disarm: true }, { ttlSeconds: 86_400 }]) {
      const refused = await heartbeat(alert('http-v2-heartbeat.json', payload), lambdaContext());
      expect(status(refused)).toBe(401);
      expect(body(refused)).toMatchObject({ error: 'AuthenticationError', operation: 'heartbeat' });
    }
    const statusRefused = await functions.run(statusRoutes)(
      alert('http-v2-status.json', {}),
      lambdaContext(),
    );
    expect(status(statusRefused)).toBe(401);
    expect(scheduler.calls.length).toBe(calls);
    expect(firesAt()).toBe(armedUntil);
    expect(stack.secrets.reads()).toBe(reads);
    expect((await signatures()).length).toBe(items);
    // Counted as refused heartbeats (the heartbeat-refused alarm), not as heartbeats.
    const refusals = functions.metrics().filter((m) => m.Operation === 'heartbeat' && m.Refusals === 1);
    expect(refusals.map((m) => m.Runs)).toEqual([0, 0]);
    // What TradingView is for still works: a cancel-all with the passphrase.
    stack.emulator.addOrders(apiKey('main'), mixedBook(3));
    const tv = alert('http-v2-cancel-all.json', { category: 'spot', account: 'main' });
    expect(status(await functions.run(cancelAllRoutes)(tv, lambdaContext()))).toBe(200);
  });
});

describe('M5: a heartbeat names only accounts the exchange secret holds', () => {
  /** A run that reads the exchange secret (a scoped cancel-all), which records the account names. */
  const readSecret = async () => {
    const event = signedHttpEvent(
      'http-v2-cancel-all.json',
      { category: 'spot', account: 'main' },
      stack.webhookSecret,
    );
    expect(status(await container({ env: env() }).run(cancelAllRoutes)(event, lambdaContext()))).toBe(200);
  };

  it('once a function has read the secret, "Main" is answered 400 naming it, and nothing is armed', async () => {
    await readSecret();
    expect((await reporting.state.get(recordKeys.accounts()))?.value).toMatchObject({
      names: ['main', 'hedge'],
    });
    const heartbeat = container({ env: env() }).run(heartbeatRoutes);
    const refused = await heartbeat(beat({ ttlSeconds: 120, accounts: ['Main'] }), lambdaContext());
    expect(status(refused)).toBe(400);
    expect(body(refused)).toMatchObject({
      error: 'ValidationError',
      field: 'accounts',
      message: 'unknown account "Main": the exchange secret holds main, hedge',
    });
    expect(scheduler.calls).toEqual([]);
    // The names it does hold are armed, and echoed.
    const armed = await heartbeat(beat({ ttlSeconds: 120, accounts: ['hedge'] }), lambdaContext());
    expect(body(armed)).toMatchObject({ armed: true, accounts: ['hedge'] });
    expect(body(armed)).not.toHaveProperty('warnings');
  });

  it('records the names again when the secret changes, and only then', async () => {
    await readSecret();
    const written = await reporting.state.get(recordKeys.accounts());
    await readSecret();
    expect(await reporting.state.get(recordKeys.accounts())).toEqual(written);
    const main = stack.accounts[0] as { apiKey: string; apiSecret: string };
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: Object.fromEntries(
        ['main', 'hedge', 'grid'].map((n) => [n, { apiKey: main.apiKey, apiSecret: main.apiSecret }]),
      ),
    });
    await readSecret();
    expect((await reporting.state.get(recordKeys.accounts()))?.value).toMatchObject({
      names: ['main', 'hedge', 'grid'],
    });
    const armed = await container({ env: env() }).run(heartbeatRoutes)(
      beat({ ttlSeconds: 120, accounts: ['grid'] }),
      lambdaContext(),
    );
    expect(body(armed)).toMatchObject({ armed: true, accounts: ['grid'] });
  });

  it('on a fresh deploy it arms with a warning, and when it fires naming no known account it covers every account', async () => {
    stack.emulator.addOrders(apiKey('main'), mixedBook(20));
    stack.emulator.addOrders(apiKey('hedge'), mixedBook(5));
    const next = scheduler.nextFire(20_000);
    const armed = await container({ env: env() }).run(heartbeatRoutes)(
      beat({ ttlSeconds: 120, accounts: ['Main'] }),
      lambdaContext(),
    );
    expect(status(armed)).toBe(200);
    expect(body(armed)).toMatchObject({
      armed: true,
      accounts: ['Main'],
      warnings: [expect.stringContaining('could not be checked')],
    });
    await next;
    await expect.poll(() => fired.length, { timeout: 30_000 }).toBe(1);
    expect(fired[0]).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      origin: 'deadMansSwitch',
      accounts: ['main', 'hedge'],
      ignored: ['accounts "Main" not in the secret: the dead man\'s switch covers every account'],
    });
    expect(stack.emulator.openOrders()).toHaveLength(0);
  });
});

describe('L1: arm and disarm in the order they were made', () => {
  it('a disarm sent while a heartbeat is still moving the schedule waits for it, and its answer stays true', async () => {
    const a = container({ env: env() }).run(heartbeatRoutes); // two containers of the heartbeat function
    const b = container({ env: env() }).run(heartbeatRoutes);
    expect(status(await b(beat({ ttlSeconds: 300 }), lambdaContext()))).toBe(200); // armed a minute ago
    scheduler.hold('UpdateSchedule', 400); // the bot's last heartbeat meets a slow connection
    const answered: string[] = [];
    const last = a(beat({ ttlSeconds: 300 }), lambdaContext()).then((r) => {
      answered.push('heartbeat');
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const off = await b(beat({ disarm: true }), lambdaContext()); // the planned shutdown
    answered.push('disarm');
    expect(body(off)).toMatchObject({ armed: false, firesAt: null });
    expect(body(await last)).toMatchObject({ armed: true });
    // The disarm waited for the heartbeat in flight: it answered last, and its answer is still true.
    expect(answered).toEqual(['heartbeat', 'disarm']);
    expect(scheduler.get(schedule)).toBeUndefined();
    expect(scheduler.calls.map((c) => `${c.operation} ${c.status}`).slice(-2)).toEqual([
      'UpdateSchedule 200',
      'DeleteSchedule 200',
    ]);
  });

  it('a heartbeat made before the last disarm is refused (409) and does not re-arm', async () => {
    const heartbeat = container({ env: env() }).run(heartbeatRoutes);
    const made = Date.now();
    const late = beat({ ttlSeconds: 300 }, { now: made - 2000 }); // sent first, arrives last
    expect(body(await heartbeat(beat({ disarm: true }, { now: made }), lambdaContext()))).toMatchObject({
      armed: false,
    });
    const refused = await heartbeat(late, lambdaContext());
    expect(status(refused)).toBe(409);
    expect(body(refused)).toMatchObject({
      error: 'StaleHeartbeatError',
      newerAt: new Date(made).toISOString(),
      operation: 'heartbeat',
    });
    expect(scheduler.calls.filter((c) => c.operation !== 'DeleteSchedule')).toEqual([]);
    expect(scheduler.get(schedule)).toBeUndefined();
  });
});

describe('L3 and M3: a Scheduler that hangs or throttles', () => {
  it('a Scheduler that accepts and never answers: 503 with operation heartbeat by the deadline, not a Lambda timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_SCHEDULER = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const hung = container({ env: env() }); // the production SDK client, built on first use
      const started = Date.now();
      const answer = await hung.run(heartbeatRoutes)(beat({ ttlSeconds: 300 }), lambdaContext(10_000));
      expect(status(answer)).toBe(503);
      expect(body(answer)).toMatchObject({ error: 'SchedulerUnavailableError', operation: 'heartbeat' });
      // By the deadline (10 s less the 1.5 s margin), before Lambda would stop it.
      expect(Date.now() - started).toBeLessThan(9_900);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
      expect(hung.metrics()).toEqual([expect.objectContaining({ Operation: 'heartbeat', Failures: 1 })]);
    } finally {
      process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduler.url;
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  }, 30_000);

  it('a throttling Scheduler: 503 counted under Operation=heartbeat, which the heartbeat-failed alarm watches', async () => {
    const throttled = {
      send: async () =>
        Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
    };
    const functions = container({ env: env(), schedulerClient: throttled as never });
    const answer = await functions.run(heartbeatRoutes)(beat({ ttlSeconds: 300 }), lambdaContext());
    expect(status(answer)).toBe(503);
    expect(body(answer)).toMatchObject({ error: 'SchedulerUnavailableError', operation: 'heartbeat' });
    expect(functions.metrics()).toEqual([expect.objectContaining({ Operation: 'heartbeat', Failures: 1 })]);
    // The turn was given back unchanged: the bot's next heartbeat is not refused as stale.
    const next = await container({ env: env() }).run(heartbeatRoutes)(
      beat({ ttlSeconds: 300 }),
      lambdaContext(),
    );
    expect(status(next)).toBe(200);
  });
});

describe('the IAM path: a direct invocation', () => {
  it('is a heartbeat whose payload is the body, answered {statusCode, …}; refusals are answers too; no webhook key is read', async () => {
    const functions = container({ env: env() });
    const heartbeat = functions.run(heartbeatRoutes);
    const reads = stack.secrets.reads();
    expect(await heartbeat({ ttlSeconds: 300, reason: 'grid bot' }, lambdaContext())).toMatchObject({
      statusCode: 200,
      operation: 'heartbeat',
      armed: true,
      ttlSeconds: 300,
    });
    expect(JSON.parse(scheduler.get(schedule)?.Target.Input as string).reason).toMatch(/; grid bot$/);
    expect(await heartbeat({ ttlSeconds: 5 }, lambdaContext())).toMatchObject({
      statusCode: 400,
      error: 'ValidationError',
      field: 'ttlSeconds',
      operation: 'heartbeat',
    });
    expect(await heartbeat({ disarm: true }, lambdaContext())).toMatchObject({
      statusCode: 200,
      armed: false,
    });
    expect(scheduler.get(schedule)).toBeUndefined();
    expect(stack.secrets.reads()).toBe(reads);
    expect(functions.metrics().map((m) => [m.Operation, m.Runs, m.Refusals ?? 0])).toEqual([
      ['heartbeat', 1, 0],
      ['heartbeat', 0, 1],
      ['heartbeat', 1, 0],
    ]);
  });
});
