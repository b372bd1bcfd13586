import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import {
  type BybitApiError,
  DeadlineExceededError,
  ExchangeUnavailableError,
  OrderNotOpenError,
} from '../../lib/errors.ts';

type Reply = { status?: number; body: unknown; headers?: Record<string, string> } | Error;

/** A scripted exchange on a virtual clock: each call takes the next reply; sleeping advances time. */
const START = 1_700_000_000_000;

function scripted(replies: Reply[]) {
  let clock = START;
  const sent: { url: string; init: RequestInit }[] = [];
  const slept: number[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), init: init ?? {} });
    const reply = replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    if (reply instanceof Error) throw reply;
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status ?? 200, headers: reply.headers });
  };
  const client = new BybitClient({
    credentials: { apiKey: 'KEY123', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: fetch as typeof globalThis.fetch,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    random: () => 0.5,
  });
  return { client, sent, slept, now: () => clock };
}

const ok = (result: unknown) => ({ body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1 } });
const fail = (retCode: number, retMsg = 'failed', headers?: Record<string, string>) => ({
  body: { retCode, retMsg, result: {}, retExtInfo: {}, time: 1 },
  headers,
});
const cancel = { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;

describe('BybitClient requests', () => {
  it('signs the exact body it sends, with the V5 headers', async () => {
    const { client, sent } = scripted([ok({ orderId: 'o1', orderLinkId: '' })]);
    await client.cancelOrder(cancel);
    const { url, init } = sent[0] ?? { url: '', init: {} };
    const headers = init.headers as Record<string, string>;
    expect(url).toBe('http://exchange.test/v5/order/cancel');
    expect(init.body).toBe('{"category":"linear","symbol":"BTCUSDT","orderId":"o1"}');
    expect(headers['X-BAPI-API-KEY']).toBe('KEY123');
    expect(headers['X-BAPI-RECV-WINDOW']).toBe('5000');
    expect(headers['X-BAPI-SIGN-TYPE']).toBe('2');
    expect(headers['X-BAPI-SIGN']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('puts GET parameters in the query string, skipping empty ones', async () => {
    const { client, sent } = scripted([ok({ list: [], nextPageCursor: '' })]);
    await client.openOrders({ category: 'linear', settleCoin: 'USDT', limit: 50, cursor: '' });
    expect(sent[0]?.url).toBe(
      'http://exchange.test/v5/order/realtime?category=linear&settleCoin=USDT&limit=50',
    );
    expect(sent[0]?.init.body).toBeUndefined();
  });

  it('aligns batch items with their per-item codes', async () => {
    const { client } = scripted([
      {
        body: {
          retCode: 0,
          retMsg: 'OK',
          result: {
            list: [
              { orderId: 'a', orderLinkId: '' },
              { orderId: 'b', orderLinkId: '' },
            ],
          },
          retExtInfo: {
            list: [
              { code: 0, msg: 'OK' },
              { code: 110001, msg: 'order not exists' },
            ],
          },
        },
      },
    ]);
    const items = await client.cancelBatch({
      category: 'linear',
      request: [
        { symbol: 'BTCUSDT', orderId: 'a' },
        { symbol: 'BTCUSDT', orderId: 'b' },
      ],
    });
    expect(items.map((i) => [i.orderId, i.code])).toEqual([
      ['a', 0],
      ['b', 110001],
    ]);
  });
});

describe('BybitClient retries', () => {
  it('retries HTTP 5xx, connection resets and retryable retCodes, then succeeds', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    const { client, sent } = scripted([
      { status: 502, body: 'bad gateway' },
      reset,
      fail(10016),
      ok({ orderId: 'o1' }),
    ]);
    await expect(client.cancelOrder(cancel)).resolves.toEqual({ orderId: 'o1', orderLinkId: undefined });
    expect(sent).toHaveLength(4);
  });

  it('waits until X-Bapi-Limit-Reset-Timestamp after a 10006', async () => {
    const resetAt = START + 800;
    const { client, now, sent } = scripted([
      fail(10006, 'Too many visits!', {
        'X-Bapi-Limit-Status': '0',
        'X-Bapi-Limit-Reset-Timestamp': String(resetAt),
      }),
      ok({ orderId: 'o1', orderLinkId: '' }),
    ]);
    await client.cancelOrder(cancel);
    expect(sent).toHaveLength(2);
    expect(now()).toBeGreaterThanOrEqual(resetAt);
  });

  it('never retries a parameter error or a rejected key', async () => {
    for (const code of [10001, 10003, 10004, 10005, 10010]) {
      const { client, sent } = scripted([fail(code), ok({})]);
      await expect(client.cancelOrder(cancel)).rejects.toMatchObject({
        name: 'BybitApiError',
        retCode: code,
      });
      expect(sent).toHaveLength(1);
    }
  });

  it('reports an order that is already gone as OrderNotOpenError, without retrying', async () => {
    const { client, sent } = scripted([fail(110001, 'order not exists or too late to cancel')]);
    const error = await client.cancelOrder(cancel).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderNotOpenError);
    expect(error).toMatchObject({ retCode: 110001, endpoint: 'cancel' });
    expect(sent).toHaveLength(1);
  });

  it('resynchronises the clock once on 10002 and retries with the corrected timestamp', async () => {
    const serverNow = START + 60_000;
    const { client, sent } = scripted([
      fail(10002, 'invalid request, please check your server timestamp or recv_window param'),
      {
        body: { retCode: 0, retMsg: 'OK', result: { timeSecond: String(serverNow / 1000) }, time: serverNow },
      },
      ok({ orderId: 'o1' }),
    ]);
    await client.cancelOrder(cancel);
    expect(sent[1]?.url).toBe('http://exchange.test/v5/market/time');
    const stamp = (i: number) => Number(new Headers(sent[i]?.init.headers).get('X-BAPI-TIMESTAMP'));
    const [first, retried] = [stamp(0), stamp(2)];
    expect(retried - first).toBeGreaterThan(59_000);
  });

  it('gives up after one resync when the clock is still refused', async () => {
    const { client, sent } = scripted([fail(10002), ok({ timeSecond: '1' }), fail(10002), ok({})]);
    await expect(client.cancelOrder(cancel)).rejects.toMatchObject({ retCode: 10002 });
    expect(sent).toHaveLength(3);
  });

  it('stops at maxAttempts with a typed error naming the endpoint', async () => {
    const { client, sent } = scripted(Array.from({ length: 9 }, () => ({ status: 503, body: '' })));
    const error = await client.cancelAll({ category: 'option' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error).toMatchObject({ endpoint: 'cancel-all', attempts: 5, httpStatus: 503 });
    expect(sent).toHaveLength(5);
  });

  it('does not start an attempt or a backoff that would end after the deadline', async () => {
    const harness = scripted([{ status: 503, body: '' }, ok({})]);
    const deadline = harness.now() + 30;
    const error = await harness.client.cancelOrder(cancel, { deadline }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(harness.sent).toHaveLength(1);
    expect(harness.now()).toBeLessThanOrEqual(deadline);
  });

  it('throws DeadlineExceededError when no time is left to send', async () => {
    const harness = scripted([ok({})]);
    const error = await harness.client
      .cancelOrder(cancel, { deadline: harness.now() + 5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(harness.sent).toHaveLength(0);
  });
});

describe('BybitClient errors', () => {
  it('scrubs the signed string Bybit echoes in a 10004 message', async () => {
    const { client } = scripted([
      fail(10004, 'error sign! origin_string[1700000000000KEY1235000{"category":"linear"}]'),
    ]);
    const error = (await client.cancelOrder(cancel).catch((e: unknown) => e)) as BybitApiError;
    expect(error.retMsg).toBe('error sign! origin_string[redacted]');
    expect(JSON.stringify(error) + error.message + error.stack).not.toContain('KEY123');
  });
});

describe('BybitClient reading one order back by id', () => {
  const query = { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;
  const closed = {
    orderId: 'o1',
    orderLinkId: 'link-1',
    symbol: 'BTCUSDT',
    orderStatus: 'Filled',
    qty: '2',
    cumExecQty: '2',
    leavesQty: '0',
    updatedTime: '1700000000000',
  };

  it('asks by orderId with the symbol, and returns the order with its quantities', async () => {
    const { client, sent } = scripted([ok({ category: 'linear', list: [closed], nextPageCursor: '' })]);

    const order = await client.orderById({ ...query, orderLinkId: 'link-1' });

    expect(sent[0]?.url).toBe(
      'http://exchange.test/v5/order/realtime?category=linear&symbol=BTCUSDT&orderId=o1',
    );
    expect(order).toEqual(closed);
  });

  it.each([
    ['after another order', (wanted: object, other: object) => [other, wanted]],
    ['before another order', (wanted: object, other: object) => [wanted, other]],
  ])('returns the order asked for when the answer lists it %s, never the other one', async (_, list) => {
    const open = { ...closed, orderId: 'o2', orderLinkId: 'link-2', orderStatus: 'New', cumExecQty: '0' };
    const byId = scripted([ok({ category: 'linear', list: list(closed, open), nextPageCursor: '' })]);
    expect(await byId.client.orderById(query)).toEqual(closed);
    const byLink = scripted([ok({ category: 'linear', list: list(closed, open), nextPageCursor: '' })]);
    const linkQuery = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-1' } as const;
    expect(await byLink.client.orderById(linkQuery)).toEqual(closed);
  });

  it('returns the newest of the orders a reused orderLinkId names (the exchange lists newest first)', async () => {
    const older = { ...closed, orderId: 'o0', orderStatus: 'Cancelled' };
    const { client } = scripted([ok({ category: 'linear', list: [closed, older], nextPageCursor: '' })]);
    expect(await client.orderById({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-1' })).toEqual(
      closed,
    );
  });

  it('returns undefined only when the answer lists no order', async () => {
    const { client } = scripted([ok({ category: 'linear', list: [], nextPageCursor: '' })]);

    expect(await client.orderById(query)).toBeUndefined();
  });

  it.each([
    ['no list', { category: 'linear' }],
    ['an order without cumExecQty', { list: [{ ...closed, cumExecQty: undefined }] }],
    ['an order without orderStatus', { list: [{ ...closed, orderStatus: '' }] }],
    ['a number where a string is documented', { list: [{ ...closed, leavesQty: 0 }] }],
    ['another order than the one asked for', { list: [{ ...closed, orderId: 'o2' }] }],
  ])('fails closed on an answer with %s, instead of reading it as "no such order"', async (_, result) => {
    const { client } = scripted([ok(result)]);

    const error = (await client.orderById(query).catch((e: unknown) => e)) as BybitApiError;

    expect(error.name).toBe('BybitApiError');
    expect(error.endpoint).toBe('realtime');
    expect(error.message).toContain('malformed answer');
  });
});

describe('BybitClient fails closed on answers without their documented fields', () => {
  const listing = { category: 'inverse' } as const;
  const envelope = (body: unknown) => ({ body });
  const malformed: [string, unknown][] = [
    ['retCode is a string', { retCode: '0', retMsg: 'OK', result: { list: [], nextPageCursor: '' } }],
    ['retCode is missing', { retMsg: 'OK', result: { list: [], nextPageCursor: '' } }],
    ['result is missing', { retCode: 0, retMsg: 'OK' }],
    ['result is null', { retCode: 0, retMsg: 'OK', result: null }],
    ['result.list is missing', { retCode: 0, retMsg: 'OK', result: { nextPageCursor: '' } }],
    ['result.list is an object', { retCode: 0, retMsg: 'OK', result: { list: {}, nextPageCursor: '' } }],
    ['nextPageCursor is missing', { retCode: 0, retMsg: 'OK', result: { list: [] } }],
    ['nextPageCursor is a number', { retCode: 0, retMsg: 'OK', result: { list: [], nextPageCursor: 0 } }],
  ];

  it.each(malformed)(
    'retries a listing whose %s, then throws instead of returning "no orders"',
    async (_, body) => {
      const { client, sent } = scripted(Array.from({ length: 5 }, () => envelope(body)));
      const error = await client.openOrders(listing).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExchangeUnavailableError);
      expect(sent).toHaveLength(5);
    },
  );

  it('accepts the listing once a retry brings the documented fields', async () => {
    const { client, sent } = scripted([
      envelope({ retCode: 0, retMsg: 'OK', result: {} }),
      ok({ list: [{ orderId: 'o1' }], nextPageCursor: '' }),
    ]);
    const page = await client.openOrders(listing);
    expect(page.list).toHaveLength(1);
    expect(sent).toHaveLength(2);
  });

  it('never takes a cancel-all without result.list as a cancelled list', async () => {
    const { client } = scripted(Array.from({ length: 5 }, () => ok({ success: '1' })));
    await expect(client.cancelAll({ category: 'option' })).rejects.toThrow(/result.list/);
  });

  it('never takes a cancel without the order id as an acknowledgement', async () => {
    const { client } = scripted(Array.from({ length: 5 }, () => ok({})));
    await expect(client.cancelOrder(cancel)).rejects.toThrow(/result.orderId/);
  });

  it('never takes a batch without per-item codes as cancelled', async () => {
    const { client } = scripted(Array.from({ length: 5 }, () => ok({ list: [{ orderId: 'o1' }] })));
    const batch = { category: 'linear' as const, request: [{ symbol: 'BTCUSDT', orderId: 'o1' }] };
    await expect(client.cancelBatch(batch)).rejects.toThrow(/retExtInfo.list/);
  });

  it('reads instruments-info unsigned, paged, and refuses a page without a cursor', async () => {
    const { client, sent } = scripted([
      ok({ category: 'linear', list: [{ symbol: 'BTCUSDT', settleCoin: 'USDT' }], nextPageCursor: 'n1' }),
      ...Array.from({ length: 5 }, () => ok({ list: [] })),
    ]);
    const page = await client.instrumentsInfo({ category: 'linear', limit: 1000 });
    expect(page).toEqual({ list: [{ symbol: 'BTCUSDT', settleCoin: 'USDT' }], nextPageCursor: 'n1' });
    expect(sent[0]?.url).toBe('http://exchange.test/v5/market/instruments-info?category=linear&limit=1000');
    expect(new Headers(sent[0]?.init.headers).has('X-BAPI-SIGN')).toBe(false);
    await expect(client.instrumentsInfo({ category: 'linear', cursor: 'n1' })).rejects.toThrow(
      /nextPageCursor/,
    );
  });
});
