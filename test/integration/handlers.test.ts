// The handlers from source, invoked with the events in events/, against the exchange emulator and the
// Secrets Manager endpoint on loopback through the real AWS SDK client.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancel: (event: unknown, context: unknown) => Promise<unknown>;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;
const output: string[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env, { LOG_LEVEL: 'info' });
  // Capture the functions' log lines (they write JSON lines to stdout) to check what they contain.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  cancel = (await import('../../handlers/cancel.ts')).handler as typeof cancel;
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.secrets.reset();
});

const apiKey = () => stack.accounts[0]?.apiKey as string;
const invoke = async (handler: typeof cancel, event: AnyEvent) =>
  (await handler(event, lambdaContext())) as APIGatewayProxyResult;
const bodyOf = (response: APIGatewayProxyResult) => JSON.parse(response.body);
const signed = (name: string, body: unknown, options = {}) =>
  signedHttpEvent(name, body, stack.webhookSecret, options);
const exchangeReads = () => stack.secrets.reads(stack.exchangeSecretId);

function seed() {
  return stack.emulator.addOrders(apiKey(), [
    { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' },
    { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-2' },
    { category: 'linear', symbol: 'ETHUSDT', orderLinkId: 'tv-eth-1' },
    { category: 'spot', symbol: 'ETHUSDT', orderId: '1838591702357416704' },
    { category: 'spot', symbol: 'ETHUSDT', kind: 'tpslOrder' },
  ]);
}

describe('POST /cancel', () => {
  it.each([
    ['HTTP API payload 2.0', 'http-v2-cancel.json', false],
    ['REST API payload 1.0', 'http-v1-cancel.json', false],
    ['a base64-encoded body', 'http-v2-cancel.json', true],
  ])('cancels the order for %s', async (_, name, base64) => {
    seed();
    const body = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' };
    const response = await invoke(cancel, signed(name, body, { base64 }));
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({
      orderLinkId: 'tv-btc-long-1',
      orderStatus: 'Cancelled',
      confirmed: true,
    });
    const open = stack.emulator.openOrders(apiKey()).map((o) => o.orderLinkId);
    expect(open).not.toContain('tv-btc-long-1');
    expect(open).toContain('tv-btc-long-2');
  });

  it('cancels on a direct invocation and returns the result itself', async () => {
    seed();
    const result = await cancel(loadEvent('direct-cancel.json'), lambdaContext());
    expect(result).toMatchObject({ orderId: '1838591702357416704', category: 'spot' });
    expect(stack.emulator.openOrders(apiKey()).map((o) => o.orderId)).not.toContain('1838591702357416704');
  });

  it('throws OrderNotFoundError on a direct invocation for an order the exchange never had', async () => {
    await expect(cancel(loadEvent('direct-cancel.json'), lambdaContext())).rejects.toMatchObject({
      name: 'OrderNotFoundError',
      retCode: 170213,
    });
  });
});

describe('POST /cancel reads the order back', () => {
  const btc = { category: 'linear', symbol: 'BTCUSDT' } as const;
  const post = (body: unknown, remainingMs?: number) =>
    cancel(signed('http-v2-cancel.json', body), lambdaContext(remainingMs)) as Promise<APIGatewayProxyResult>;
  const reads = () => stack.emulator.requests.filter((r) => r.path === '/v5/order/realtime');

  it('answers 200 Cancelled, confirmed, for a resting order', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [{ ...btc, orderLinkId: 'rest-1', qty: '0.5' }]);

    const response = await post({ ...btc, orderLinkId: 'rest-1' });

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({
      operation: 'cancel',
      account: 'default',
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: order?.orderId,
      orderLinkId: 'rest-1',
      orderStatus: 'Cancelled',
      cumExecQty: '0',
      confirmed: true,
    });
    expect(reads()).toHaveLength(1);
  });

  it('answers 200 Filled with the whole quantity, already closed, when a fill lands just before the cancel', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [{ ...btc, qty: '0.75' }]);
    stack.emulator.fillBeforeCancel(order?.orderId as string);

    const response = await post({ ...btc, orderId: order?.orderId });

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({
      orderId: order?.orderId,
      orderStatus: 'Filled',
      cumExecQty: '0.75',
      confirmed: true,
      alreadyClosed: true,
    });
  });

  it('answers 200 already closed for an order cancelled earlier', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [{ ...btc, orderLinkId: 'twice' }]);
    const first = await post({ ...btc, orderLinkId: 'twice' });

    const second = await post({ ...btc, orderLinkId: 'twice' });

    expect(bodyOf(first)).not.toHaveProperty('alreadyClosed');
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toMatchObject({
      orderId: order?.orderId,
      orderStatus: 'Cancelled',
      cumExecQty: '0',
      confirmed: true,
      alreadyClosed: true,
    });
  });

  it('answers 404 for an order id the exchange never had, after reading it back', async () => {
    const response = await post({ ...btc, orderId: '9000000000000000001' });

    expect(response.statusCode).toBe(404);
    expect(bodyOf(response)).toMatchObject({ error: 'OrderNotFoundError', retCode: 110001 });
    expect(reads()).toHaveLength(1);
  });

  it.each([
    ['linear', 'BTCUSDT', 'Cancelled'],
    ['spot', 'ETHUSDT', 'PartiallyFilledCanceled'],
  ] as const)(
    'shows a partial fill before a %s cancel (%s) as %s with the executed quantity',
    async (category, symbol, status) => {
      const [order] = stack.emulator.addOrders(apiKey(), [{ category, symbol, qty: '2' }]);
      stack.emulator.fillBeforeCancel(order?.orderId as string, '0.5');

      const response = await post({ category, symbol, orderId: order?.orderId });

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toMatchObject({ orderStatus: status, cumExecQty: '0.5', confirmed: true });
      expect(bodyOf(response)).not.toHaveProperty('alreadyClosed');
    },
  );

  it('keeps reading until a cancel that lands late shows Cancelled', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [btc]);
    stack.emulator.setCancelDelay(120);

    const response = await post({ ...btc, orderId: order?.orderId });

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({ orderStatus: 'Cancelled', confirmed: true });
    expect(reads().length).toBeGreaterThan(1);
  });

  it('answers 202 unconfirmed with the last status seen when the order still shows open at the deadline', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [btc]);
    stack.emulator.setSurvivors({ orderIds: [order?.orderId as string] });

    // 1.5 s of margin is kept (DEADLINE_MARGIN_MS): about 2.5 s of reading, room for more than two reads on a
    // loaded machine (a CI run saw only two within one second).
    const response = await post({ ...btc, orderId: order?.orderId }, 4000);

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toMatchObject({ orderId: order?.orderId, orderStatus: 'New', confirmed: false });
    expect(reads().length).toBeGreaterThan(2);
  });

  it('answers 202 unconfirmed after a few reads when the exchange says "not found" but lists the order open', async () => {
    // A spot TP/SL order is found only under its own orderFilter: without it the cancel says 170213.
    const [tpsl] = stack.emulator.addOrders(apiKey(), [
      { category: 'spot', symbol: 'ETHUSDT', kind: 'tpslOrder' },
    ]);

    const response = await post({ category: 'spot', symbol: 'ETHUSDT', orderId: tpsl?.orderId });

    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toMatchObject({ orderStatus: 'Untriggered', confirmed: false });
    expect(bodyOf(response)).not.toHaveProperty('alreadyClosed');
    expect(reads()).toHaveLength(5);
  });

  it('answers 200 Filled, not already closed, when the order fills after the cancel was acknowledged', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [{ ...btc, qty: '3' }]);
    stack.emulator.setCancelDelay(300);
    const filling = new Promise<void>((resolve) =>
      setTimeout(() => {
        stack.emulator.fillOrder(order?.orderId as string);
        resolve();
      }, 60),
    );

    const response = await post({ ...btc, orderId: order?.orderId });
    await filling;

    expect(bodyOf(response)).toMatchObject({ orderStatus: 'Filled', cumExecQty: '3', confirmed: true });
    expect(bodyOf(response)).not.toHaveProperty('alreadyClosed');
  });

  it('returns the same answer on a direct invocation', async () => {
    const [order] = stack.emulator.addOrders(apiKey(), [{ ...btc, qty: '0.1' }]);
    stack.emulator.fillBeforeCancel(order?.orderId as string);

    const result = await cancel({ ...btc, orderId: order?.orderId }, lambdaContext());

    expect(result).toEqual({
      operation: 'cancel',
      account: 'default',
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: order?.orderId,
      orderLinkId: '',
      orderStatus: 'Filled',
      cumExecQty: '0.1',
      confirmed: true,
      alreadyClosed: true,
    });
  });
});

describe('POST /cancel-all', () => {
  it.each([
    ['HTTP API payload 2.0', 'http-v2-cancel-all.json'],
    ['REST API payload 1.0', 'http-v1-cancel-all.json'],
  ])('cancels every order of the scope for %s and verifies it', async (_, name) => {
    seed();
    const response = await invoke(cancelAll, signed(name, { category: 'linear', symbol: 'BTCUSDT' }));
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({ scope: 'linear symbol=BTCUSDT', cancelled: 2, remaining: 0 });
    expect(stack.emulator.openOrders(apiKey(), { category: 'linear' }).map((o) => o.symbol)).toEqual([
      'ETHUSDT',
    ]);
  });

  it('cancels spot TP/SL orders on a direct invocation with orderFilter', async () => {
    seed();
    const result = await cancelAll(loadEvent('direct-cancel-all.json'), lambdaContext());
    expect(result).toMatchObject({ cancelled: 1, remaining: 0 });
    expect(stack.emulator.openOrders(apiKey(), { category: 'spot' }).map((o) => o.kind)).toEqual(['Order']);
  });

  it('cancels everything when the body has no category (the kill switch over HTTPS)', async () => {
    seed();
    const response = await invoke(cancelAll, signed('http-v2-kill-switch.json', { reason: 'manual' }));
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({ ok: true, cancelled: 5, remaining: 0 });
    expect(stack.emulator.openOrders(apiKey())).toHaveLength(0);
  });
});

describe('requests refused before the exchange', () => {
  const valid = { category: 'linear', symbol: 'BTCUSDT', orderId: '1838591702357416704' };
  const unauthenticated: [string, () => AnyEvent][] = [
    ['no signature headers', () => ({ ...loadEvent('http-v2-cancel.json'), body: JSON.stringify(valid) })],
    ['a wrong signature', () => signed('http-v2-cancel.json', valid, { signature: 'a'.repeat(64) })],
    [
      'a signature by another key',
      () => signedHttpEvent('http-v2-cancel.json', valid, 'another-webhook-key-0123456789'),
    ],
    // The secret holds no previous key: a missing key must never act as the empty one.
    ['a signature by the empty key', () => signedHttpEvent('http-v2-cancel.json', valid, '')],
    // Read the clock when the event is made: a time taken earlier drifts by however long setup took.
    ['a timestamp 301 s old', () => signed('http-v2-cancel.json', valid, { now: Date.now() - 301_000 })],
    ['a timestamp 301 s ahead', () => signed('http-v2-cancel.json', valid, { now: Date.now() + 301_000 })],
    [
      'a body changed after signing',
      () => ({
        ...signed('http-v2-cancel.json', valid),
        body: JSON.stringify({ ...valid, symbol: 'ETHUSDT' }),
      }),
    ],
    [
      'a REST 1.0 event signed wrongly',
      () => signed('http-v1-cancel.json', valid, { signature: '0'.repeat(64) }),
    ],
  ];
  it.each(unauthenticated)(
    'answers 401 to %s, with no exchange request and no exchange-secret read',
    async (_, make) => {
      const response = await invoke(cancel, make());
      expect(response.statusCode).toBe(401);
      expect(stack.emulator.requests).toHaveLength(0);
      expect(exchangeReads()).toBe(0);
    },
  );

  const invalid: [string, unknown, string][] = [
    ['an unknown category', { ...valid, category: 'futures' }, 'category'],
    ['a lowercase symbol', { ...valid, symbol: 'btcusdt' }, 'symbol'],
    ['neither orderId nor orderLinkId', { category: 'linear', symbol: 'BTCUSDT' }, 'orderId'],
    ['orderFilter on a linear cancel', { ...valid, orderFilter: 'StopOrder' }, 'orderFilter'],
    ['a numeric orderId', { ...valid, orderId: 42 }, 'orderId'],
    ['an unknown field', { ...valid, orderID: 'x' }, 'orderID'],
    ['a JSON array', [valid], 'body'],
    ['invalid JSON', '{"category": "linear",', 'body'],
  ];
  it.each(invalid)('answers 400 naming the field for %s', async (_, body, field) => {
    const response = await invoke(cancel, signed('http-v2-cancel.json', body));
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ error: 'ValidationError', field });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(exchangeReads()).toBe(0);
  });

  it.each([
    ['linear cancel-all without a symbol, baseCoin or settleCoin', { category: 'linear' }, 'symbol'],
    ['inverse cancel-all without a scope', { category: 'inverse', orderFilter: 'Order' }, 'symbol'],
    ['spot cancel-all with a settleCoin', { category: 'spot', settleCoin: 'USDT' }, 'settleCoin'],
    ['a symbol without a category', { symbol: 'BTCUSDT' }, 'symbol'],
    [
      'stopOrderType without orderFilter StopOrder',
      { category: 'linear', symbol: 'BTCUSDT', stopOrderType: 'Stop' },
      'stopOrderType',
    ],
  ])('answers 400 to %s', async (_, body, field) => {
    const response = await invoke(cancelAll, signed('http-v2-cancel-all.json', body));
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ field });
    expect(stack.emulator.requests).toHaveLength(0);
    expect(exchangeReads()).toBe(0);
  });

  it('answers 413 to a body over 16 KiB before authenticating it', async () => {
    const body = JSON.stringify({ ...valid, orderLinkId: 'x'.repeat(17 * 1024) });
    const response = await invoke(cancel, signed('http-v2-cancel.json', body));
    expect(response.statusCode).toBe(413);
    expect(stack.secrets.reads()).toBe(0);
  });
});

describe('exchange failures', () => {
  const body = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' };

  it('answers 502 with the exchange retCode and retMsg, scrubbed of the key', async () => {
    seed();
    stack.emulator.failNext('invalidKey', 1);
    const response = await invoke(cancel, signed('http-v2-cancel.json', body));
    expect(response.statusCode).toBe(502);
    expect(bodyOf(response)).toMatchObject({ retCode: 10003 });
    expect(response.body).not.toContain(apiKey());
    // A refused key triggers exactly one fresh read, in case it was rotated; the same key is not retried.
    expect(exchangeReads()).toBe(1);
    expect(stack.emulator.requests).toHaveLength(1);
  });

  it('answers 503 when the exchange keeps failing', async () => {
    stack.emulator.setFaults({ rate: 1, kinds: ['http5xx'] });
    const response = await invoke(cancel, signed('http-v2-cancel.json', body));
    expect(response.statusCode).toBe(503);
    expect(bodyOf(response).error).toBe('ExchangeUnavailableError');
  });

  it('answers 504 when the exchange does not answer in time', async () => {
    stack.emulator.setFaults({ rate: 1, kinds: ['timeout'] });
    const response = (await cancel(
      signed('http-v2-cancel.json', body),
      lambdaContext(3500),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(504);
  });

  it('never puts a stack trace, key or signature in a response: each field is one it names', async () => {
    stack.emulator.failNext('invalidKey', 1);
    const [refused, invalid, forged] = [
      await invoke(cancel, signed('http-v2-cancel.json', body)),
      await invoke(cancel, signed('http-v2-cancel.json', '{')),
      await invoke(cancel, signed('http-v2-cancel.json', body, { signature: 'f'.repeat(64) })),
    ];
    const requestId = expect.stringMatching(/^[\w-]+$/);
    expect(refused?.statusCode).toBe(502);
    expect(bodyOf(refused as APIGatewayProxyResult)).toEqual({
      error: 'BybitApiError',
      message: 'the exchange refused the request',
      operation: 'cancel',
      requestId,
      retCode: 10003,
      retMsg: expect.any(String),
    });
    expect(invalid?.statusCode).toBe(400);
    expect(bodyOf(invalid as APIGatewayProxyResult)).toEqual({
      error: 'ValidationError',
      field: 'body',
      message: 'the body is not valid JSON',
      operation: 'cancel',
      requestId,
    });
    expect(forged?.statusCode).toBe(401);
    expect(bodyOf(forged as APIGatewayProxyResult)).toEqual({
      error: 'SignatureMismatchError',
      message: 'x-signature does not match: sign "<x-timestamp>.POST /cancel.<body>"',
      operation: 'cancel',
      requestId,
    });
    // The one free-text field is the exchange's own message: no stack frame in it either.
    const retMsg = bodyOf(refused as APIGatewayProxyResult).retMsg as string;
    expect(retMsg).not.toMatch(/\n\s+at |\.ts:\d+/);
    for (const response of [refused, invalid, forged]) {
      for (const secret of [apiKey(), stack.accounts[0]?.apiSecret as string, stack.webhookSecret]) {
        expect(response?.body).not.toContain(secret);
      }
    }
  });
});

describe('secrets', () => {
  it('reads each secret exactly once over 100 warm invocations of a new container', async () => {
    vi.resetModules();
    const fresh = (await import('../../handlers/cancel.ts')).handler as typeof cancel;
    for (let i = 0; i < 100; i++) {
      const body = { category: 'linear', symbol: 'BTCUSDT', orderId: String(9_000_000_000_000 + i) };
      const response = await invoke(fresh, signed('http-v2-cancel.json', body));
      expect(response.statusCode).toBe(404);
    }
    // Each: the cancel, then the read-back that finds nothing.
    expect(stack.emulator.requests).toHaveLength(200);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(1);
    expect(exchangeReads()).toBe(1);
  });

  it('uses a rotated key after the exchange refuses the old one', async () => {
    seed();
    const account = stack.accounts[0];
    if (!account) throw new Error('no account');
    const old = account.apiKey;
    stack.emulator.revokeKey(old);
    account.apiKey = `${old}-rotated`;
    stack.emulator.addAccount({ uid: account.uid, apiKey: account.apiKey, apiSecret: account.apiSecret });
    stack.writeExchangeSecret();
    const response = await invoke(
      cancel,
      signed('http-v2-cancel.json', { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' }),
    );
    expect(response.statusCode).toBe(200);
    expect(exchangeReads()).toBe(1);
    expect(stack.emulator.requests.map((r) => r.retCode)).toEqual([10003, 0, 0]);
  });
});

describe('logs', () => {
  it('carry the request id and never a key, secret or signature', async () => {
    // This test's own invocations: a cancel, a refused signature, a refused key, a bad body.
    const from = output.length;
    seed();
    stack.emulator.failNext('invalidKey', 1);
    const body = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' };
    const statuses = [
      await invoke(cancel, signed('http-v2-cancel.json', body)),
      await invoke(cancel, signed('http-v2-cancel.json', body)),
      await invoke(cancel, signed('http-v2-cancel.json', body, { signature: 'f'.repeat(64) })),
      await invoke(cancel, signed('http-v2-cancel.json', '{')),
    ].map((r) => r.statusCode);
    expect(statuses).toEqual([502, 200, 401, 400]);
    const lines = output
      .slice(from)
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Each invocation: at least its outcome line, its end line and its metrics line.
    expect(lines.length).toBeGreaterThanOrEqual(4 * 3);
    expect(lines.filter((l) => typeof l.requestId !== 'string')).toEqual([]);
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(4);
    const text = JSON.stringify(lines);
    for (const secret of [
      apiKey(),
      stack.accounts[0]?.apiSecret as string,
      stack.webhookSecret,
      stack.passphrase,
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
