// The composition root's other paths (lib/lambda/app.ts) on fakes, no sockets: the signature taken once in the
// state table (a replay is a 409, a 5xx gives it back, an unreachable table is served and counted), the routes
// that refuse HTTP, authenticate themselves or answer direct calls as HTTP, the settings an operation ignores,
// the halt setup, the stale secret, and the provisioned warm-up. app.test.ts covers the plain HTTP flow.

import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import { AuthenticationError, IpRateLimitBanError } from '../../lib/errors.ts';
import { createApp, currentApp, haltSetup, type Routes, route, warmUp } from '../../lib/lambda/app.ts';
import type { LambdaSender } from '../../lib/lambda/functions.ts';
import type { SnsSender } from '../../lib/lambda/notify.ts';
import { signatureKey } from '../../lib/lambda/replay.ts';
import type { SecretReader } from '../../lib/lambda/secrets.ts';
import type { StateClient } from '../../lib/lambda/state.ts';
import { routeSignature, webhookSignature } from '../../lib/lambda/webhook-auth.ts';
import { loadEvent } from '../support/events.ts';

const NOW = 1_795_253_400_000;
const KEY = 'unit-test-webhook-key-0123456789';
const PASSPHRASE = 'unit-test-passphrase-0123';
const ENV = { WEBHOOK_SECRET_ID: 'webhook', BYBIT_SECRET_ID: 'exchange', STAGE: 'unit' };
const TABLE = 'bybit-cancel-unit-state';

type Sent = { name: string; input: Record<string, unknown> };

/** A DynamoDB stand-in over a map: PutItem (conditional or not), GetItem, DeleteItem; `fails` picks calls to fail. */
function fakeState(fails: (sent: Sent) => boolean = () => false) {
  const items = new Map<string, Record<string, { S: string }>>();
  const sent: Sent[] = [];
  const id = (key: Record<string, { S: string }>) => `${key.pk?.S}|${key.sk?.S}`;
  const client = {
    send: async (command: { input: Record<string, unknown>; constructor: { name: string } }) => {
      const entry = { name: command.constructor.name, input: command.input };
      sent.push(entry);
      if (fails(entry)) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      const input = command.input as {
        Item: Record<string, { S: string }>;
        Key: Record<string, { S: string }>;
        ConditionExpression?: string;
      };
      if (entry.name === 'PutItemCommand') {
        const key = id(input.Item);
        if (input.ConditionExpression && items.has(key))
          throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
        items.set(key, input.Item);
        return {};
      }
      if (entry.name === 'GetItemCommand') {
        const item = items.get(id(input.Key));
        return item ? { Item: item } : {};
      }
      if (entry.name === 'DeleteItemCommand') items.delete(id(input.Key));
      return {};
    },
  } as unknown as StateClient;
  return { client, sent, items };
}

/** An app on a fake clock, a fake Secrets Manager (reads counted; `failing` ids throw) and every log line kept. */
function fakeApp(
  env: Record<string, string> = {},
  options: {
    webhook?: Record<string, unknown>;
    stateClient?: StateClient;
    transport?: (url: string) => Promise<Response>;
    snsClient?: SnsSender;
    lambdaClient?: LambdaSender;
    /** The exchange secret's value (one key pair unless given). */
    exchange?: unknown;
  } = {},
) {
  let now = NOW;
  const reads: string[] = [];
  const failing = new Set<string>();
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const secrets = new Map<string, unknown>([
    ['webhook', options.webhook ?? { webhookSecret: KEY }],
    ['exchange', options.exchange ?? { apiKey: 'K', apiSecret: 'S' }],
    ['master', { apiKey: 'MK', apiSecret: 'MS' }],
  ]);
  const secretsClient: SecretReader = {
    async send(command: GetSecretValueCommand) {
      const secretId = String(command.input.SecretId);
      reads.push(secretId);
      if (failing.has(secretId)) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      return { SecretString: JSON.stringify(secrets.get(secretId)) };
    },
  };
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const app = createApp({
    env: { ...ENV, ...env },
    secretsClient,
    clock,
    ...(options.stateClient ? { stateClient: options.stateClient } : {}),
    ...(options.snsClient ? { snsClient: options.snsClient } : {}),
    ...(options.lambdaClient ? { lambdaClient: options.lambdaClient } : {}),
    transport:
      options.transport ??
      (async () => {
        throw new Error('no exchange in this test');
      }),
    write: (line) => {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return {
    app,
    reads,
    failing,
    lines,
    raw,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const context = (remainingMs = 60_000, requestId = 'req-1', logGroupName?: string): Context =>
  ({
    awsRequestId: requestId,
    functionName: 'bybit-cancel-unit-cancel',
    getRemainingTimeInMillis: () => remainingMs,
    ...(logGroupName ? { logGroupName } : {}),
  }) as unknown as Context;

/** An HTTP API 2.0 request to POST /cancel, signed for its route with KEY at the fake clock's start. */
function signed(body: string) {
  const event = loadEvent('http-v2-cancel.json');
  event.body = body;
  event.headers['x-timestamp'] = String(NOW);
  event.headers['x-signature'] = routeSignature(KEY, String(NOW), 'POST /cancel', body);
  return event;
}

/** An HTTP API 2.0 request to POST /cancel carrying the passphrase in its body, no signature headers. */
function withPassphrase(body: Record<string, unknown>) {
  const event = loadEvent('http-v2-cancel.json');
  delete event.headers['x-timestamp'];
  delete event.headers['x-signature'];
  event.body = JSON.stringify({ ...body, passphrase: PASSPHRASE });
  return event;
}

/** Routes whose request work records its input and returns `result` (or throws it). */
function recording(result: unknown = { ok: true }, extra: Partial<Routes> = {}) {
  const calls: unknown[] = [];
  const routes: Routes = {
    request: async (input) => {
      calls.push(input);
      if (result instanceof Error) throw result;
      return result;
    },
    operation: () => 'cancel',
    ...extra,
  };
  return { routes, calls };
}

type Answer = { statusCode: number; body: string };
const bodyOf = (answer: unknown) => JSON.parse((answer as Answer).body);
const messages = (lines: Record<string, unknown>[]) => lines.map((l) => l.message);
const signatureItem = (event: ReturnType<typeof signed>) => {
  const key = signatureKey(event.headers['x-signature'] as string);
  return `${key.pk}|${key.sk}`;
};

describe('route, a signature served once', () => {
  it('takes the signature in the state table: the same request again is a 409 naming the first, not done twice', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const { routes, calls } = recording();
    const handler = route(routes, () => app);
    const event = signed('{"symbol":"BTCUSDT"}');

    const first = (await handler(event, context(60_000, 'req-1'))) as Answer;
    const again = (await handler(signed('{"symbol":"BTCUSDT"}'), context(60_000, 'req-2'))) as Answer;

    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(409);
    expect(bodyOf(again)).toMatchObject({ error: 'DuplicateRequestError', requestId: 'req-2' });
    expect(JSON.stringify(bodyOf(again))).toContain('req-1');
    expect(calls).toEqual([{ symbol: 'BTCUSDT' }]);
    expect(state.items.get(signatureItem(event))?.value).toEqual({
      S: JSON.stringify({ route: 'POST /cancel', requestId: 'req-1', at: new Date(NOW).toISOString() }),
    });
  });

  it('gives the signature back after a 5xx, so that the same request may be sent again', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    let failures = 1;
    const handler = route(
      {
        request: async () => {
          if (failures-- > 0) throw new Error('exchange down');
          return { ok: true };
        },
        operation: () => 'cancel',
      },
      () => app,
    );
    const event = signed('{}');

    expect(((await handler(event, context())) as Answer).statusCode).toBe(500);
    expect(state.items.has(signatureItem(event))).toBe(false);
    expect(state.sent.filter((s) => s.name === 'DeleteItemCommand').map((s) => s.input.Key)).toEqual([
      {
        pk: { S: signatureKey(event.headers['x-signature'] as string).pk },
        sk: { S: signatureKey(event.headers['x-signature'] as string).sk },
      },
    ]);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
  });

  it('keeps the signature after a 4xx: the request is not sent again', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const { routes } = recording(new AuthenticationError('refused by the work'));
    const event = signed('{}');
    expect(((await route(routes, () => app)(event, context())) as Answer).statusCode).toBe(401);
    expect(state.items.has(signatureItem(event))).toBe(true);
    expect(state.sent.filter((s) => s.name === 'DeleteItemCommand')).toEqual([]);
  });

  it('serves the request unchecked when the table cannot take the signature, logging and counting it', async () => {
    const state = fakeState((s) => s.name === 'PutItemCommand' && 'ConditionExpression' in s.input);
    const { app, lines } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const { routes, calls } = recording();

    const answer = (await route(routes, () => app)(signed('{}'), context())) as Answer;

    expect(answer.statusCode).toBe(200);
    expect(calls).toEqual([{}]);
    expect(app.reported.stateFailures).toBe(1);
    expect(lines.find((l) => l.message === 'state table call failed')).toMatchObject({
      level: 'error',
      what: 'take the signature (the request was served without the replay check)',
      errorType: 'StateError',
    });
  });

  it('logs and counts a signature it could not give back, and still answers the 5xx', async () => {
    const state = fakeState((s) => s.name === 'DeleteItemCommand');
    const { app, lines } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const { routes } = recording(new Error('exchange down'));

    const answer = (await route(routes, () => app)(signed('{}'), context())) as Answer;

    expect(answer.statusCode).toBe(500);
    expect(app.reported.stateFailures).toBe(1);
    expect(lines.filter((l) => l.message === 'state table call failed')).toEqual([
      expect.objectContaining({ what: 'give the signature back after a failure', errorType: 'StateError' }),
    ]);
  });

  it('takes nothing without a state table', async () => {
    const { app } = fakeApp();
    const { routes, calls } = recording();
    const handler = route(routes, () => app);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it('logs and counts account names it could not record after the work', async () => {
    const state = fakeState((s) => s.name === 'GetItemCommand');
    const { app, lines } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const handler = route(
      {
        request: async () => {
          app.accountNames.parsed(['main']);
          return { ok: true };
        },
      },
      () => app,
    );
    await handler({ category: 'linear' }, context());
    expect(app.reported.stateFailures).toBe(1);
    expect(lines.filter((l) => l.message === 'state table call failed')).toEqual([
      expect.objectContaining({ level: 'error', what: 'record the account names', errorType: 'StateError' }),
    ]);
  });
});

describe('route, the passphrase and signed-only routes', () => {
  it('refuses a drill started with the passphrase: it needs a signed request', async () => {
    const { app } = fakeApp(
      { WEBHOOK_PASSPHRASE_MODE: 'true' },
      { webhook: { webhookSecret: KEY, passphrase: PASSPHRASE } },
    );
    const { routes, calls } = recording({ ok: true }, { operation: () => 'drillStart' });
    const answer = (await route(routes, () => app)(withPassphrase({}), context())) as Answer;
    expect(answer.statusCode).toBe(401);
    expect(bodyOf(answer)).toMatchObject({
      error: 'AuthenticationError',
      message: 'drill needs a signed request: the passphrase cannot start it',
    });
    expect(calls).toEqual([]);
  });

  it('refuses the passphrase on a signed-only route before any secret read', async () => {
    const { app, reads } = fakeApp(
      { WEBHOOK_PASSPHRASE_MODE: 'true' },
      { webhook: { webhookSecret: KEY, passphrase: PASSPHRASE } },
    );
    const { routes, calls } = recording({ ok: true }, { signedOnly: true });
    const answer = (await route(routes, () => app)(withPassphrase({}), context())) as Answer;
    expect(answer.statusCode).toBe(401);
    expect(bodyOf(answer).message).toBe(
      'POST /cancel accepts only a signed request (x-timestamp, x-signature); never the passphrase',
    );
    expect(reads).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('serves a signed request on a signed-only route, and refuses one with either header alone after reading the key', async () => {
    const { app, reads } = fakeApp();
    const { routes, calls } = recording({ ok: true }, { signedOnly: true });
    const handler = route(routes, () => app);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
    for (const header of ['x-timestamp', 'x-signature']) {
      const event = signed('{}');
      delete event.headers[header];
      const answer = (await handler(event, context())) as Answer;
      expect(answer.statusCode).toBe(401);
      expect(bodyOf(answer).message).toBe('x-timestamp and x-signature headers are required');
    }
    expect(calls).toHaveLength(1);
    expect(reads[0]).toBe('webhook');
  });
});

describe('route, routes that are not the plain HTTP flow', () => {
  it('refuses an HTTP event on a function no HTTP route reaches, before any secret read', async () => {
    const { app, reads } = fakeApp();
    const { routes, calls } = recording({ ok: true }, { http: false });
    await expect(route(routes, () => app)(signed('{}'), context())).rejects.toThrow(
      'this function does not handle HTTP requests',
    );
    expect([reads, calls]).toEqual([[], []]);
  });

  it('hands a self-authenticating route the request and answers what it answers, with no secret read', async () => {
    const { app, reads, lines } = fakeApp();
    const seen: string[] = [];
    const handler = route(
      {
        request: async () => ({}),
        webhook: async (trigger, run) => {
          seen.push(`${trigger.route} ${run.requestId}`);
          return { statusCode: 204, body: '' };
        },
      },
      () => app,
    );
    expect(await handler(signed('{}'), context(60_000, 'req-7'))).toEqual({ statusCode: 204, body: '' });
    expect(seen).toEqual(['POST /cancel req-7']);
    expect(reads).toEqual([]);
    expect(lines.find((l) => l.message === 'request served')).toMatchObject({
      level: 'info',
      statusCode: 204,
    });
  });

  it('answers a self-authenticating route that throws with its status: 5xx at error, 4xx at warn', async () => {
    const cases: [Error, number, string, string][] = [
      [new Error('boom'), 500, 'error', 'InternalError'],
      [new AuthenticationError('wrong secret token'), 401, 'warn', 'AuthenticationError'],
    ];
    for (const [error, statusCode, level, answered] of cases) {
      const { app, lines } = fakeApp();
      const handler = route(
        {
          request: async () => ({}),
          webhook: async () => {
            throw error;
          },
        },
        () => app,
      );
      const answer = (await handler(signed('{}'), context(60_000, 'req-8'))) as Answer;
      expect(answer.statusCode).toBe(statusCode);
      expect(bodyOf(answer)).toMatchObject({ requestId: 'req-8', error: answered });
      expect(lines.find((l) => l.message === 'request refused')).toMatchObject({
        level,
        statusCode,
        errorType: error.name,
      });
    }
  });

  it('answers a direct call as HTTP would when the route says so: the status beside the body', async () => {
    const { app } = fakeApp();
    const { routes, calls } = recording({ armed: true }, { directAnswers: true });
    expect(await route(routes, () => app)({ beat: 1 }, context())).toEqual({ statusCode: 200, armed: true });
    expect(calls).toEqual([{ beat: 1 }]);
  });

  it('answers a failed direct call with its status and logs it: 5xx at error, 4xx at warn, never a throw', async () => {
    const cases: [Error, number, string, string][] = [
      [new Error('boom'), 500, 'error', 'InternalError'],
      [new AuthenticationError('not yours'), 401, 'warn', 'AuthenticationError'],
    ];
    for (const [error, statusCode, level, answered] of cases) {
      const { app, lines } = fakeApp();
      const { routes } = recording(error, { directAnswers: true });
      const answer = (await route(routes, () => app)({}, context(60_000, 'req-3'))) as Record<
        string,
        unknown
      >;
      expect(answer).toMatchObject({
        statusCode,
        error: answered,
        requestId: 'req-3',
        operation: 'cancel',
      });
      expect(lines.find((l) => l.message === 'invocation refused')).toMatchObject({
        level,
        statusCode,
        errorType: error.name,
      });
    }
  });

  it('names a scheduled drill "drill" and a plain schedule "sweep"', async () => {
    const { app } = fakeApp();
    const operations: unknown[] = [];
    const handler = route(
      {
        request: async () => ({}),
        schedule: async (_, run) => {
          operations.push(run.operation);
          return {};
        },
      },
      () => app,
    );
    await handler({ action: 'drill' }, context());
    await handler(loadEvent('schedule.json'), context());
    expect(operations).toEqual(['drill', 'sweep']);
  });
});

describe('route, settings an operation does not read', () => {
  it('logs the malformed settings a direct call ignores once, and hands them to the work', async () => {
    const { app, lines } = fakeApp({ SWEEP_DRY_RUN: 'perhaps' });
    const ignored: string[][] = [];
    const handler = route(
      {
        request: async (_, run) => {
          ignored.push(run.ignoredSettings);
          return {};
        },
        operation: () => 'cancel',
      },
      () => app,
    );
    await handler({}, context());
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toHaveLength(1);
    expect(ignored[0]?.[0]).toMatch(/^setting .*SWEEP_DRY_RUN.*: ignored$/);
    const warned = lines.filter((l) => l.message === 'settings ignored');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 'warn' });
    expect(warned[0]?.ignored).toEqual([expect.stringContaining('SWEEP_DRY_RUN')]);
  });

  it('refuses a direct call whose operation reads a malformed setting, and ignores none when all are fine', async () => {
    const bad = fakeApp({ SWEEP_DRY_RUN: 'perhaps' });
    const { routes, calls } = recording({ ok: true }, { operation: () => 'sweep' });
    await expect(route(routes, () => bad.app)({}, context())).rejects.toThrow(/SWEEP_DRY_RUN/);
    expect(calls).toEqual([]);

    const good = fakeApp();
    const ignored: string[][] = [];
    await route(
      {
        request: async (_, run) => {
          ignored.push(run.ignoredSettings);
          return {};
        },
      },
      () => good.app,
    )({}, context());
    expect(ignored).toEqual([[]]);
    expect(messages(good.lines)).not.toContain('settings ignored');
  });
});

describe('route, the aftermath', () => {
  const recorded = (state: ReturnType<typeof fakeState>) =>
    state.sent
      .filter((s) => s.name === 'PutItemCommand' && !('ConditionExpression' in s.input))
      .map((s) => JSON.parse((s.input.Item as { value: { S: string } }).value.S));

  it("records the run with Lambda's log group, or the function's default group where a runner invents one", async () => {
    const cases: [string | undefined, string][] = [
      ['/aws/lambda/bybit-cancel-unit-custom', '/aws/lambda/bybit-cancel-unit-custom'],
      ['local-runner-group', '/aws/lambda/bybit-cancel-unit-cancel'],
      [undefined, '/aws/lambda/bybit-cancel-unit-cancel'],
    ];
    for (const [given, expected] of cases) {
      const state = fakeState();
      const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
      await route(recording().routes, () => app)({ category: 'linear' }, context(60_000, 'req-1', given));
      expect(recorded(state)).toEqual([
        expect.objectContaining({ operation: 'cancel', ok: true, requestId: 'req-1', logGroup: expected }),
      ]);
    }
  });

  it('logs the per-scope errors of a refused request in full beside the answer', async () => {
    const { app, lines } = fakeApp();
    const failure = Object.assign(new Error('partly failed'), {
      report: {
        scopes: [
          { account: 'main', scope: 'spot', error: { errorType: 'BybitApiError', retCode: 10006 } },
          { account: 'main', scope: 'option' },
        ],
      },
    });
    await route(recording(failure).routes, () => app)(signed('{}'), context());
    expect(lines.find((l) => l.message === 'request refused')).toMatchObject({
      level: 'error',
      statusCode: 500,
      scopes: [{ account: 'main', scope: 'spot', errorType: 'BybitApiError', retCode: 10006 }],
    });
    const plain = fakeApp();
    await route(recording(new Error('boom')).routes, () => plain.app)(signed('{}'), context());
    expect(plain.lines.find((l) => l.message === 'request refused')).not.toHaveProperty('scopes');
  });
});

describe('createApp', () => {
  it('counts a failed state call in this invocation’s StateFailures and logs what it was', () => {
    const { app, lines } = fakeApp();
    app.stateFailed('record the run', Object.assign(new Error('denied'), { name: 'StateError' }));
    app.stateFailed('record the run again', new Error('x'));
    expect(app.reported.stateFailures).toBe(2);
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'state table call failed',
      what: 'record the run',
      errorType: 'StateError',
      errorMessage: 'denied',
    });
  });

  it('serves the secret read before when a re-read fails, logging it and writing one stale-secret metric', async () => {
    const { app, failing, lines, raw, advance } = fakeApp({
      SECRET_CACHE_TTL_SECONDS: '60',
      METRICS_NAMESPACE: 'UnitNs',
    });
    expect(await app.secrets.getJson('webhook')).toEqual({ webhookSecret: KEY });
    advance(61_000);
    failing.add('webhook');
    expect(await app.secrets.getJson('webhook')).toEqual({ webhookSecret: KEY });
    expect(lines[0]).toMatchObject({
      level: 'warn',
      message: 'secret read failed: the value read before is served',
      secretId: 'webhook',
      ageMs: 61_000,
    });
    expect(JSON.parse(raw[1] as string)).toEqual({
      _aws: {
        Timestamp: NOW + 61_000,
        CloudWatchMetrics: [
          { Namespace: 'UnitNs', Dimensions: [[]], Metrics: [{ Name: 'SecretsServedStale', Unit: 'Count' }] },
        ],
      },
      SecretsServedStale: 1,
    });
    expect(raw).toHaveLength(2);
  });
});

describe('createApp, its production defaults and the clients it is given', () => {
  it('writes each log line to stdout as one line when no writer is given', () => {
    const app = createApp({ env: ENV, clock: { now: () => NOW, sleep: async () => undefined } });
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) =>
      written.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      app.logger.info('hello', { n: 1 });
    } finally {
      process.stdout.write = write;
    }
    expect(written).toHaveLength(1);
    expect(written[0]?.endsWith('}\n')).toBe(true);
    expect(JSON.parse(written[0] as string)).toMatchObject({ level: 'info', message: 'hello', n: 1 });
  });

  it('records the account names of the exchange secret the work read, for the heartbeat to check against', async () => {
    const state = fakeState();
    const { app } = fakeApp(
      { STATE_TABLE: TABLE },
      {
        stateClient: state.client,
        exchange: {
          accounts: { main: { apiKey: 'K', apiSecret: 'S' }, hedge: { apiKey: 'K2', apiSecret: 'S2' } },
        },
      },
    );
    await route({ request: async () => app.exchange.accountNames(), operation: () => 'cancel' }, () => app)(
      {},
      context(),
    );
    const item = state.items.get('accounts|names');
    expect(JSON.parse(item?.value?.S as string)).toMatchObject({ names: ['main', 'hedge'] });
  });

  it('invokes other functions through the Lambda client it is given', async () => {
    const sent: Record<string, unknown>[] = [];
    const lambdaClient = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command.input);
        return {};
      },
    } as unknown as LambdaSender;
    const { app } = fakeApp({}, { lambdaClient });
    await app.functions.start('bybit-cancel-unit-drill', { drill: true }, NOW + 1000);
    expect(sent).toMatchObject([{ FunctionName: 'bybit-cancel-unit-drill', InvocationType: 'Event' }]);
  });
});

describe('haltSetup', () => {
  it('is undefined without a state table: a halt nobody can read back would stop nothing', () => {
    expect(haltSetup(fakeApp().app)).toBeUndefined();
  });

  it('gives the halt records and the master key, read only when first needed', async () => {
    const { app, reads } = fakeApp(
      { STATE_TABLE: TABLE, HALT_MASTER_SECRET_ID: 'master' },
      { stateClient: fakeState().client },
    );
    const setup = haltSetup(app);
    expect(setup?.store).toBe(app.halts);
    expect(reads).toEqual([]);
    const master = await setup?.master?.();
    expect(master).toBeDefined();
    expect(master).toBe(await app.exchange.masterClient());
    expect(reads).toEqual(['master']);
  });

  it('has no master client when HALT_MASTER_SECRET_ID is unset', async () => {
    const { app, reads } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: fakeState().client });
    expect(await haltSetup(app)?.master?.()).toBeUndefined();
    expect(reads).toEqual([]);
  });
});

describe('currentApp', () => {
  it('builds the container’s app once and keeps it across invocations', () => {
    const first = currentApp();
    expect(currentApp()).toBe(first);
  });
});

describe('warmUp', () => {
  it('does nothing in an on-demand container: not even building the app', async () => {
    let built = 0;
    await warmUp(() => {
      built++;
      throw new Error('must not be built');
    }, 'on-demand');
    expect(built).toBe(0);
  });

  it('never throws when the app cannot be built (the first invocation reports it)', async () => {
    let built = 0;
    await expect(
      warmUp(() => {
        built++;
        throw new Error('bad configuration');
      }, 'provisioned-concurrency'),
    ).resolves.toBeUndefined();
    expect(built).toBe(1);
  });

  it('reads the keys, builds each client, tries the listing and loads the state SDK, then logs what it did', async () => {
    const state = fakeState();
    const urls: string[] = [];
    const { app, reads, lines } = fakeApp(
      { STATE_TABLE: TABLE },
      {
        stateClient: state.client,
        transport: async (url) => {
          urls.push(url);
          throw new Error('no exchange in this test');
        },
      },
    );
    const secretDeadlines: (number | undefined)[] = [];
    const getJson = app.secrets.getJson.bind(app.secrets);
    app.secrets.getJson = (id, options) => {
      secretDeadlines.push(app.secrets.deadline);
      return getJson(id, options);
    };

    await warmUp(() => app, 'provisioned-concurrency');

    expect(reads).toEqual(['exchange']);
    expect(secretDeadlines[0]).toBe(NOW + 5000);
    expect(app.secrets.deadline).toBeUndefined();
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.every((url) => url.includes('/v5/market/instruments-info'))).toBe(true);
    expect(state.sent).toEqual([]);
    expect(lines.find((l) => l.message === 'warmed up')).toMatchObject({
      level: 'info',
      accounts: 1,
      clients: 1,
      instrumentsListed: false,
      durationMs: 0,
    });
  });

  it('counts only the accounts whose client it could build: a malformed entry fails its own account alone', async () => {
    const { app, lines } = fakeApp(
      {},
      { exchange: { accounts: { main: { apiKey: 'K', apiSecret: 'S' }, broken: { apiKey: 'K2' } } } },
    );
    await warmUp(() => app, 'provisioned-concurrency');
    expect(lines.find((l) => l.message === 'warmed up')).toMatchObject({ accounts: 2, clients: 1 });
  });

  it('loads no state SDK without a state table, and still warms up', async () => {
    const { app, lines } = fakeApp();
    await warmUp(() => app, 'provisioned-concurrency');
    expect(lines.find((l) => l.message === 'warmed up')).toMatchObject({ accounts: 1, clients: 1 });
  });

  it('logs a failed warm-up at warn and clears the deadline it set; never throws', async () => {
    const { app, failing, lines, advance } = fakeApp();
    failing.add('exchange');
    const getJson = app.secrets.getJson.bind(app.secrets);
    app.secrets.getJson = (id, options) => {
      advance(30);
      return getJson(id, options);
    };
    await expect(warmUp(() => app, 'provisioned-concurrency')).resolves.toBeUndefined();
    expect(app.secrets.deadline).toBeUndefined();
    expect(lines.find((l) => l.message === 'warm-up failed; the first invocation tries again')).toMatchObject(
      {
        level: 'warn',
        errorType: 'SecretError',
        durationMs: 30,
      },
    );
    expect(messages(lines)).not.toContain('warmed up');
  });
});

describe('route, how a request authenticates', () => {
  const passphraseSecret = { webhook: { webhookSecret: KEY, passphrase: PASSPHRASE } };

  it('refuses the passphrase while WEBHOOK_PASSPHRASE_MODE is off, even when it is right', async () => {
    const { app } = fakeApp({}, passphraseSecret);
    const { routes, calls } = recording();
    const answer = (await route(routes, () => app)(withPassphrase({}), context())) as Answer;
    expect(answer.statusCode).toBe(401);
    expect(calls).toEqual([]);
  });

  it('starts a drill from a signed request in passphrase mode: only the passphrase cannot start it', async () => {
    const { app } = fakeApp({ WEBHOOK_PASSPHRASE_MODE: 'true' }, passphraseSecret);
    const { routes, calls } = recording({ ok: true }, { operation: () => 'drillStart' });
    const answer = (await route(routes, () => app)(signed('{}'), context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(calls).toEqual([{}]);
  });

  it('takes no signature in the state table for a passphrase request: it carries none', async () => {
    const state = fakeState();
    const { app, lines } = fakeApp(
      { WEBHOOK_PASSPHRASE_MODE: 'true', STATE_TABLE: TABLE },
      { ...passphraseSecret, stateClient: state.client },
    );
    const answer = (await route(recording().routes, () => app)(withPassphrase({}), context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(state.sent.filter((s) => 'ConditionExpression' in s.input)).toEqual([]);
    expect(messages(lines)).not.toContain('state table call failed');
  });

  it('dates a signed request by its x-timestamp, not by when it arrived', async () => {
    const { app } = fakeApp();
    const ats: number[] = [];
    const handler = route({ request: async (_, run) => ats.push(run.at) }, () => app);
    const event = signed('{}');
    event.headers['x-timestamp'] = String(NOW - 2000);
    event.headers['x-signature'] = routeSignature(KEY, String(NOW - 2000), 'POST /cancel', '{}');
    expect(((await handler(event, context())) as Answer).statusCode).toBe(200);
    expect(ats).toEqual([NOW - 2000]);
  });

  it('serves a signed request without a state table and counts no state failure: there is nothing to take', async () => {
    const { app, lines } = fakeApp();
    const answer = (await route(recording().routes, () => app)(signed('{}'), context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(app.reported.stateFailures).toBe(0);
    expect(messages(lines)).not.toContain('state table call failed');
  });

  /** POST /cancel signed the legacy way: `<timestamp>.<body>`, no route. */
  const legacy = (body: string) => {
    const event = signed(body);
    event.headers['x-signature'] = webhookSignature(KEY, String(NOW), body);
    return event;
  };

  it('takes the legacy signature where WEBHOOK_LEGACY_SIGNATURE allows it and the route is not route-bound only', async () => {
    const { app, lines } = fakeApp({ WEBHOOK_LEGACY_SIGNATURE: 'true' });
    const answer = (await route(recording().routes, () => app)(legacy('{}'), context())) as Answer;
    expect(answer.statusCode).toBe(200);
    expect(lines.find((l) => l.message === 'request served')).toMatchObject({
      authenticatedBy: 'legacySignature',
    });
  });

  it('refuses the legacy signature on a route-bound-only route, and everywhere once WEBHOOK_LEGACY_SIGNATURE is off', async () => {
    const on = fakeApp({ WEBHOOK_LEGACY_SIGNATURE: 'true' });
    const bound = recording({ ok: true }, { routeBoundOnly: true });
    expect(((await route(bound.routes, () => on.app)(legacy('{}'), context())) as Answer).statusCode).toBe(
      401,
    );
    expect(bound.calls).toEqual([]);

    const off = fakeApp({ WEBHOOK_LEGACY_SIGNATURE: 'false' });
    const plain = recording();
    expect(((await route(plain.routes, () => off.app)(legacy('{}'), context())) as Answer).statusCode).toBe(
      401,
    );
    expect(plain.calls).toEqual([]);
  });
});

describe('route, settings ignored on every trigger', () => {
  it('hands a signed request and a kill-switch event the malformed settings their operation does not read', async () => {
    const { app } = fakeApp({ SWEEP_DRY_RUN: 'perhaps' });
    const ignored: string[][] = [];
    const keep = async (_: unknown, run: { ignoredSettings: string[] }) => {
      ignored.push(run.ignoredSettings);
      return {};
    };
    const handler = route({ request: keep, killSwitch: keep, operation: () => 'cancel' }, () => app);
    expect(((await handler(signed('{}'), context())) as Answer).statusCode).toBe(200);
    await handler(loadEvent('kill-switch.json'), context());
    expect(ignored).toEqual([
      [expect.stringMatching(/^setting .*SWEEP_DRY_RUN.*: ignored$/)],
      [expect.stringMatching(/^setting .*SWEEP_DRY_RUN.*: ignored$/)],
    ]);
  });
});

describe('route, what the aftermath records and tells', () => {
  const TOPIC = 'arn:aws:sns:ap-southeast-1:123456789012:bybit-cancel-unit-reports';
  /** The run records the aftermath wrote (unconditional puts of the `last` partition). */
  const records = (state: ReturnType<typeof fakeState>) =>
    state.sent
      .filter((s) => s.name === 'PutItemCommand' && !('ConditionExpression' in s.input))
      .map((s) => s.input.Item as Record<string, { S: string }>)
      .filter((item) => item.pk?.S !== 'accounts')
      .map((item) => JSON.parse(item.value?.S as string));
  /** An SNS stand-in that keeps what it was asked to publish, or fails every publish. */
  const fakeSns = (fail = false) => {
    const published: Record<string, unknown>[] = [];
    const client = {
      send: async (command: { input: Record<string, unknown> }) => {
        if (fail) throw Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' });
        published.push(command.input);
        return { MessageId: 'm-1' };
      },
    } as unknown as SnsSender;
    return { client, published };
  };

  it('hands a kill switch the id of the EventBridge event that fired it', async () => {
    const { app } = fakeApp();
    const ids: (string | undefined)[] = [];
    const handler = route(
      {
        request: async () => ({}),
        killSwitch: async (_, run) => {
          ids.push(run.eventId);
          return { ok: true };
        },
      },
      () => app,
    );
    await handler(loadEvent('kill-switch.json'), context());
    expect(ids).toEqual(['7bf73129-1428-4cd3-a780-95db273d1602']);
  });

  it('records nothing for a request refused before its work ran', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const event = signed('{}');
    event.headers['x-signature'] = 'f'.repeat(64);
    const { routes, calls } = recording();
    expect(((await route(routes, () => app)(event, context())) as Answer).statusCode).toBe(401);
    expect(calls).toEqual([]);
    expect(records(state)).toEqual([]);
  });

  it('records no sweep that a malformed setting refused before it ran', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE, SWEEP_DRY_RUN: 'perhaps' }, { stateClient: state.client });
    const { routes, calls } = recording({ ok: true }, { schedule: async () => ({ ok: true }) });
    await expect(route(routes, () => app)(loadEvent('schedule.json'), context())).rejects.toThrow(
      /SWEEP_DRY_RUN/,
    );
    expect(calls).toEqual([]);
    expect(records(state)).toEqual([]);
  });

  it('records what the work returned (not ok when it says so) and what it threw', async () => {
    const state = fakeState();
    const { app } = fakeApp({ STATE_TABLE: TABLE }, { stateClient: state.client });
    const report = { operation: 'cancelAll', ok: false, scopes: [] };
    await route(recording(report).routes, () => app)({}, context(60_000, 'req-1'));
    await expect(
      route(recording(new Error('boom')).routes, () => app)({}, context(60_000, 'req-2')),
    ).rejects.toThrow('boom');
    expect(records(state)).toEqual([
      expect.objectContaining({ requestId: 'req-1', ok: false, report }),
      expect.objectContaining({ requestId: 'req-2', ok: false, error: { type: 'Error', message: 'boom' } }),
    ]);
  });

  it('counts a notification that failed in this invocation’s NotifyFailures', async () => {
    const sns = fakeSns(true);
    const { app } = fakeApp({ REPORTS_TOPIC_ARN: TOPIC }, { snsClient: sns.client });
    await route({ request: async () => ({}), killSwitch: async () => ({ ok: true }) }, () => app)(
      loadEvent('kill-switch.json'),
      context(),
    );
    expect(app.reported.notifyFailures).toBe(1);
  });

  it('tells a person when Bybit refused the IP during this run, and not again on the next run', async () => {
    const sns = fakeSns();
    const { app } = fakeApp({ REPORTS_TOPIC_ARN: TOPIC }, { snsClient: sns.client });
    let refuse = true;
    const handler = route(
      {
        request: async () => {
          if (refuse) app.ipBudget.refuse(new IpRateLimitBanError('/v5/order/cancel-all'));
          return { ok: true };
        },
        operation: () => 'cancelAll',
      },
      () => app,
    );
    await handler({}, context(60_000, 'req-1'));
    expect(sns.published).toHaveLength(1);
    expect(String(sns.published[0]?.Message)).toContain('wait at least 10 minutes');
    refuse = false;
    await handler({}, context(60_000, 'req-2'));
    expect(sns.published).toHaveLength(1);
  });

  it('gives the aftermath what the function has left less 250 ms, and an HTTP one no more than 29.5 s from the start', async () => {
    const direct = fakeApp();
    await route(recording().routes, () => direct.app)({}, context(60_000));
    expect(direct.app.state.deadline).toBe(NOW + 60_000 - 250);

    const http = fakeApp();
    await route(recording().routes, () => http.app)(signed('{}'), context(60_000));
    expect(http.app.state.deadline).toBe(NOW + 29_500);

    const short = fakeApp();
    await route(recording().routes, () => short.app)(signed('{}'), context(10_000));
    expect(short.app.state.deadline).toBe(NOW + 10_000 - 250);
  });
});
