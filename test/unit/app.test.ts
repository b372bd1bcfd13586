// The invocation flow (lib/lambda/app.ts) and its middleware (lib/lambda/middleware.ts) on fakes, no sockets:
// the order of the HTTP checks (source, size, signature, JSON) before any work, the webhook key re-read after a
// mismatch, the deadline each invocation gets, and the log and metrics lines around it.
// test/integration/handlers.test.ts runs the same through the real SDK and the emulator.

import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import { IpRateLimitBanError } from '../../lib/errors.ts';
import { type App, createApp, type Routes, route } from '../../lib/lambda/app.ts';
import { invocationLog } from '../../lib/lambda/middleware.ts';
import type { SecretReader } from '../../lib/lambda/secrets.ts';
import { routeSignature } from '../../lib/lambda/webhook-auth.ts';
import { loadEvent } from '../support/events.ts';

const NOW = 1_795_253_400_000;
const KEY = 'unit-test-webhook-key-0123456789';
const PASSPHRASE = 'unit-test-passphrase-0123';
const ENV = { WEBHOOK_SECRET_ID: 'webhook', BYBIT_SECRET_ID: 'exchange', STAGE: 'unit' };

/** An app on a fake clock and a fake Secrets Manager that counts its reads; every log line kept. */
function fakeApp(
  env: Record<string, string> = {},
  webhook: Record<string, unknown> = { webhookSecret: KEY },
) {
  let now = NOW;
  const reads: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const secrets = new Map<string, unknown>([
    ['webhook', webhook],
    ['exchange', { apiKey: 'K', apiSecret: 'S' }],
  ]);
  const secretsClient: SecretReader = {
    async send(command: GetSecretValueCommand) {
      const id = String(command.input.SecretId);
      reads.push(id);
      return { SecretString: JSON.stringify(secrets.get(id)) };
    },
  };
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const app = createApp({
    env: { ...ENV, ...env },
    secretsClient,
    clock,
    transport: async () => {
      throw new Error('no exchange in this test');
    },
    write: (line) => lines.push(JSON.parse(line)),
  });
  return {
    app,
    reads,
    lines,
    secrets,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const context = (remainingMs?: number, requestId = 'req-1'): Context =>
  ({
    awsRequestId: requestId,
    functionName: 'bybit-cancel-unit-cancel',
    ...(remainingMs === undefined ? {} : { getRemainingTimeInMillis: () => remainingMs }),
  }) as unknown as Context;

/** An HTTP API 2.0 request to POST /cancel, signed for its route with `key` at the fake clock's start. */
function signed(body: string, key = KEY, sourceIp = '52.89.214.238') {
  const event = loadEvent('http-v2-cancel.json');
  event.body = body;
  event.headers['x-timestamp'] = String(NOW);
  event.headers['x-signature'] = routeSignature(key, String(NOW), 'POST /cancel', body);
  event.requestContext.http.sourceIp = sourceIp;
  return event;
}

/** Routes whose work records what it was given. */
function recording(result: unknown = { ok: true }) {
  const calls: { kind: string; input: unknown; deadline: number }[] = [];
  const work =
    (kind: string) =>
    async (input: unknown, run: { deadline: number }): Promise<unknown> => {
      calls.push({ kind, input, deadline: run.deadline });
      if (result instanceof Error) throw result;
      return result;
    };
  const routes: Routes = {
    request: work('request'),
    schedule: work('schedule'),
    killSwitch: work('killSwitch'),
    operation: () => 'cancel',
  };
  return { routes, calls };
}

type Answer = { statusCode: number; body: string };
const bodyOf = (answer: unknown) => JSON.parse((answer as Answer).body);

describe('route, over HTTP', () => {
  it('serves a signed request: the work gets the parsed body; 200 and one "request served" line', async () => {
    const { app, lines } = fakeApp();
    const { routes, calls } = recording({ orderId: 'o1' });
    const answer = (await route(routes, () => app)(signed('{"symbol":"BTCUSDT"}'), context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(bodyOf(answer)).toEqual({ orderId: 'o1' });
    expect(calls.map((c) => [c.kind, c.input])).toEqual([['request', { symbol: 'BTCUSDT' }]]);
    expect(lines.find((l) => l.message === 'request served')).toMatchObject({
      level: 'info',
      statusCode: 200,
      authenticatedBy: 'signature',
      trigger: 'http',
    });
  });

  it('refuses a source outside the allowlist before reading any secret', async () => {
    const { app, reads, lines } = fakeApp({ WEBHOOK_ALLOWED_SOURCE_IPS: '203.0.113.0/24' });
    const { routes, calls } = recording();
    const handler = route(routes, () => app);
    const answer = (await handler(signed('{}', KEY, '198.51.100.7'), context())) as Answer;
    expect(answer.statusCode).toBe(403);
    expect(reads).toEqual([]);
    expect(calls).toEqual([]);
    expect(lines.find((l) => l.message === 'request refused')).toMatchObject({
      level: 'warn',
      statusCode: 403,
    });
    expect(((await handler(signed('{}', KEY, '203.0.113.7'), context())) as Answer).statusCode).toBe(200);
  });

  it('refuses a body over MAX_BODY_BYTES before reading any secret', async () => {
    const { app, reads } = fakeApp({ MAX_BODY_BYTES: '256' });
    const { routes, calls } = recording();
    const answer = (await route(routes, () => app)(signed(`"${'x'.repeat(300)}"`), context())) as Answer;
    expect(answer.statusCode).toBe(413);
    expect([reads, calls]).toEqual([[], []]);
  });

  it('refuses a forged signature without doing the work, and says so at warn', async () => {
    const { app, reads, lines } = fakeApp();
    const { routes, calls } = recording();
    const answer = (await route(routes, () => app)(
      signed('{}', 'another-key-0123456789abcdef'),
      context(),
    )) as Answer;
    expect(answer.statusCode).toBe(401);
    expect(calls).toEqual([]);
    expect(reads.every((id) => id === 'webhook')).toBe(true);
    expect(reads.length).toBeGreaterThan(0);
    expect(lines.find((l) => l.message === 'request refused')).toMatchObject({
      level: 'warn',
      statusCode: 401,
    });
  });

  it('answers 400 for a signed body that is not JSON, without doing the work', async () => {
    const { app } = fakeApp();
    const { routes, calls } = recording();
    const answer = (await route(routes, () => app)(signed('{"symbol":'), context())) as Answer;
    expect(answer.statusCode).toBe(400);
    expect(bodyOf(answer)).toMatchObject({ field: 'body' });
    expect(calls).toEqual([]);
  });

  it('answers a failed work with its status, logs it at error, and names the operation the body asked for', async () => {
    const { app, lines } = fakeApp();
    const { routes } = recording(new Error('boom'));
    const answer = (await route(routes, () => app)(signed('{}'), context(undefined, 'req-9'))) as Answer;
    expect(answer.statusCode).toBe(500);
    expect(bodyOf(answer)).toMatchObject({ operation: 'cancel', requestId: 'req-9' });
    expect(lines.find((l) => l.message === 'request refused')).toMatchObject({
      level: 'error',
      statusCode: 500,
    });
  });

  it('names the operation from the body when it is JSON, before it is authenticated, and none when it is not', async () => {
    const { app } = fakeApp();
    const { routes } = recording(new Error('boom'));
    const operation = (body: unknown) => (typeof body === 'object' && body !== null ? 'cancel' : 'unknown');
    const handler = route({ request: routes.request, operation }, () => app);
    expect(bodyOf(await handler(signed('{}'), context()))).toMatchObject({ operation: 'cancel' });
    const forged = await handler(signed('{"symbol":', 'another-key-0123456789abcdef'), context());
    expect(bodyOf(forged)).toMatchObject({ error: 'SignatureMismatchError' });
  });

  it('names no operation when the routes give none', async () => {
    const { app } = fakeApp();
    const { routes } = recording(new Error('boom'));
    const answer = await route({ request: routes.request }, () => app)(signed('{}'), context());
    expect(bodyOf(answer)).toMatchObject({ operation: 'unknown' });
  });

  it('takes the passphrase in passphrase mode and hands the work the body without it', async () => {
    const { app, lines } = fakeApp(
      { WEBHOOK_PASSPHRASE_MODE: 'true' },
      { webhookSecret: KEY, passphrase: PASSPHRASE },
    );
    const { routes, calls } = recording();
    const event = loadEvent('http-v2-cancel.json');
    delete event.headers['x-timestamp'];
    delete event.headers['x-signature'];
    event.body = JSON.stringify({ symbol: 'BTCUSDT', passphrase: PASSPHRASE });
    const answer = (await route(routes, () => app)(event, context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(calls[0]?.input).toEqual({ symbol: 'BTCUSDT' });
    expect(lines.find((l) => l.message === 'request served')).toMatchObject({
      authenticatedBy: 'passphrase',
    });
  });

  it('keeps a passphrase field of a signed request: only a passphrase that authenticated is removed', async () => {
    const { app } = fakeApp(
      { WEBHOOK_PASSPHRASE_MODE: 'true' },
      { webhookSecret: KEY, passphrase: PASSPHRASE },
    );
    const { routes, calls } = recording();
    await route(routes, () => app)(signed('{"passphrase":"x"}'), context());
    expect(calls[0]?.input).toEqual({ passphrase: 'x' });
  });
});

describe('the webhook key, read again after a mismatch', () => {
  it('reads it once more at the first mismatch, then at most once every 30 s', async () => {
    const { app, reads, advance } = fakeApp();
    const handler = route(recording().routes, () => app);
    const forged = () => signed('{}', 'another-key-0123456789abcdef');
    await handler(forged(), context());
    expect(reads).toEqual(['webhook', 'webhook']);
    await handler(forged(), context());
    advance(29_999);
    await handler(forged(), context());
    expect(reads).toHaveLength(2);
    advance(1);
    await handler(forged(), context());
    expect(reads).toHaveLength(3);
  });

  it('takes a key rotated since it was cached at the first mismatch', async () => {
    const { app, secrets } = fakeApp();
    const handler = route(recording().routes, () => app);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
    const rotated = 'rotated-webhook-key-0123456789ab';
    secrets.set('webhook', { webhookSecret: rotated, previousWebhookSecret: KEY });
    expect(((await handler(signed('{}', rotated), context())) as Answer).statusCode).toBe(200);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
  });

  it('reads nothing again for a refusal that is not a mismatch (a stale timestamp)', async () => {
    const { app, reads, advance } = fakeApp();
    advance(301_000);
    const answer = (await route(recording().routes, () => app)(signed('{}'), context())) as Answer;
    expect(answer.statusCode).toBe(401);
    expect(reads).toEqual(['webhook']);
  });
});

describe('route, the other triggers and the deadline', () => {
  it('hands a schedule its input, a kill-switch event its detail, a direct call its body', async () => {
    const { app } = fakeApp();
    const { routes, calls } = recording();
    const handler = route(routes, () => app);
    await handler(loadEvent('schedule.json'), context(60_000));
    await handler(loadEvent('kill-switch.json'), context(60_000));
    expect(await handler({ category: 'linear' }, context(60_000))).toEqual({ ok: true });
    expect(calls.map((c) => [c.kind, c.input])).toEqual([
      ['schedule', {}],
      ['killSwitch', { reason: 'drawdown limit hit' }],
      ['request', { category: 'linear' }],
    ]);
  });

  it('refuses a trigger it has no route for', async () => {
    const { app } = fakeApp();
    const handler = route({ request: recording().routes.request }, () => app);
    await expect(handler(loadEvent('schedule.json'), context())).rejects.toThrow(
      'this function does not handle schedule events',
    );
    await expect(handler(loadEvent('kill-switch.json'), context())).rejects.toThrow(
      'this function does not handle killSwitch events',
    );
  });

  it('gives the work the Lambda time left less the margin, and every secret read the same deadline', async () => {
    const { app } = fakeApp({ DEADLINE_MARGIN_MS: '2000' });
    const { routes, calls } = recording();
    // What a secret read during the work would be bounded by (the aftermath sets its own afterwards).
    const readDeadlines: (number | undefined)[] = [];
    const killSwitch = routes.killSwitch;
    routes.killSwitch = (input, run) => {
      readDeadlines.push(app.secrets.deadline);
      return killSwitch?.(input, run) as Promise<unknown>;
    };
    const handler = route(routes, () => app);
    await handler(loadEvent('kill-switch.json'), context(60_000));
    expect(calls[0]?.deadline).toBe(NOW + 58_000);
    expect(readDeadlines).toEqual([NOW + 58_000]);
    await handler(loadEvent('kill-switch.json'), context(1_000));
    expect(calls[1]?.deadline).toBe(NOW);
  });

  it('ends an HTTP request within API Gateway’s 30 s: 28 s at most, and 28 s when Lambda says nothing', async () => {
    const { app } = fakeApp({ DEADLINE_MARGIN_MS: '1000' });
    const { routes, calls } = recording();
    const handler = route(routes, () => app);
    await handler(signed('{}'), context(120_000));
    await handler(signed('{}'), context(10_000));
    await handler({ direct: true }, context());
    expect(calls.map((c) => c.deadline - NOW)).toEqual([28_000, 9_000, 27_000]);
  });
});

describe('createApp', () => {
  it('builds the budget, the schedule and the allowlist from the configuration', () => {
    const { app } = fakeApp({ BYBIT_IP_REQUESTS_PER_5S: '120', WEBHOOK_ALLOWED_SOURCE_IPS: '203.0.113.7' });
    expect(app.ipBudget.requestsPer5s).toBe(120);
    expect(app.config.deadMansSwitch.scheduleName).toBe('bybit-cancel-unit-dead-mans-switch');
    expect(() => app.admitSource('203.0.113.7')).not.toThrow();
    expect(() => app.admitSource('203.0.113.8')).toThrow('requests from this source address are not allowed');
    expect(app.webhookRereadAt).toBe(Number.NEGATIVE_INFINITY);
  });

  it('gives the exchange client the configured base URL and transport, and logs as the service', async () => {
    const urls: string[] = [];
    const app = createApp({
      env: { ...ENV, BYBIT_BASE_URL: 'http://exchange.test/' },
      transport: async (url) => {
        urls.push(url);
        return new Response(
          JSON.stringify({ retCode: 0, retMsg: 'OK', result: { timeSecond: '1' }, time: 1 }),
        );
      },
      write: () => undefined,
      secretsClient: {
        send: async () => ({ SecretString: JSON.stringify({ apiKey: 'K', apiSecret: 'S' }) }),
      },
    });
    await app.exchange.withAccount(undefined, (client) => client.serverTime());
    expect(urls).toEqual(['http://exchange.test/v5/market/time']);
    const lines: Record<string, unknown>[] = [];
    const logged = createApp({ env: ENV, write: (line) => lines.push(JSON.parse(line)) });
    logged.logger.info('hello');
    expect(lines).toEqual([expect.objectContaining({ service: 'bybit-cancel', message: 'hello' })]);
  });
});

describe('invocationLog', () => {
  /** Runs the middleware around `work` the way middy does, for an event; one middleware per container. */
  const containers = new WeakMap<App, ReturnType<typeof invocationLog>>();
  async function invoke(app: App, event: unknown, work: () => Promise<unknown>, requestId = 'req-1') {
    const middleware = containers.get(app) ?? invocationLog(() => app);
    containers.set(app, middleware);
    const ctx = context(30_000, requestId);
    const request = { event, context: ctx, response: undefined as unknown, error: undefined as unknown };
    await middleware.before?.(request as never);
    try {
      request.response = await work();
      await middleware.after?.(request as never);
    } catch (error) {
      request.error = error;
      await middleware.onError?.(request as never);
    }
  }
  const emf = (lines: Record<string, unknown>[]) => lines.filter((l) => '_aws' in l);

  it('marks the first invocation of a container cold and the next warm, and times each', async () => {
    const { app, lines, advance } = fakeApp();
    await invoke(app, { category: 'linear' }, async () => {
      advance(250);
      return { statusCode: 200, body: '{}' };
    });
    await invoke(app, { category: 'linear' }, async () => ({ ok: true }), 'req-2');
    const finished = lines.filter((l) => l.message === 'invocation finished');
    expect(finished).toEqual([
      expect.objectContaining({
        requestId: 'req-1',
        coldStart: true,
        durationMs: 250,
        statusCode: 200,
        function: 'bybit-cancel-unit-cancel',
      }),
      expect.objectContaining({ requestId: 'req-2', coldStart: false, durationMs: 0 }),
    ]);
    expect(finished[1]).not.toHaveProperty('statusCode');
    expect(emf(lines)).toHaveLength(2);
  });

  it('counts what the answer reports: a 5xx answer is a failure, a report’s cancelled orders are counted', async () => {
    const { app, lines } = fakeApp();
    await invoke(app, loadEvent('kill-switch.json'), async () => ({
      operation: 'killSwitch',
      cancelled: 7,
      remaining: 0,
    }));
    await invoke(app, { category: 'linear' }, async () => ({ statusCode: 503, body: '{}' }));
    expect(emf(lines)).toEqual([
      expect.objectContaining({ Operation: 'killSwitch', OrdersCancelled: 7, Failures: 0 }),
      expect.objectContaining({ Failures: 1 }),
    ]);
  });

  it('counts the IP budget waits and refusals of this invocation alone, not those of the container before it', async () => {
    const { app, lines } = fakeApp();
    await invoke(app, { category: 'linear' }, async () => {
      app.ipBudget.waits += 2;
      app.ipBudget.refuse(new IpRateLimitBanError('/v5/order/cancel-all'));
      return { ok: true };
    });
    await invoke(
      app,
      { category: 'linear' },
      async () => {
        app.ipBudget.waits += 1;
        return { ok: true };
      },
      'req-2',
    );
    expect(emf(lines)).toEqual([
      expect.objectContaining({ IpBudgetWaits: 2, IpRefusals: 1 }),
      expect.objectContaining({ IpBudgetWaits: 1 }),
    ]);
    // Written only when it happened: none in the second invocation.
    expect(emf(lines)[1]).not.toHaveProperty('IpRefusals');
  });

  it('logs a failure with its facts and counts it, under the operation its event names', async () => {
    const { app, lines, advance } = fakeApp();
    await invoke(app, loadEvent('kill-switch.json'), async () => {
      advance(40);
      throw new TypeError('x is undefined');
    });
    expect(lines.find((l) => l.message === 'invocation failed')).toMatchObject({ durationMs: 40 });
    expect(lines.find((l) => l.message === 'invocation failed')).toMatchObject({
      level: 'error',
      errorType: 'TypeError',
      errorMessage: 'x is undefined',
    });
    expect(emf(lines)).toEqual([expect.objectContaining({ Operation: 'killSwitch', Failures: 1 })]);
  });

  it.each([
    [{ action: 'drill' }, 'drill'],
    [{ action: 'sweep' }, 'sweep'],
    [loadEvent('schedule.json'), 'sweep'],
    [loadEvent('kill-switch.json'), 'killSwitch'],
    [{ category: 'linear' }, 'unknown'],
    [null, 'unknown'],
  ])('counts a failure of %j under %s', async (event, operation) => {
    const { app, lines } = fakeApp();
    await invoke(app, event, async () => {
      throw new Error('boom');
    });
    expect(emf(lines)).toEqual([expect.objectContaining({ Operation: operation, Failures: 1 })]);
  });
});
