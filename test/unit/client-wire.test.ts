// What the client puts on the wire for each endpoint (path, method, signature, body headers, query string),
// what a batch costs, and how it reads the answers back: per-item results, the exchange clock, one order by
// id, and a key's permissions, failing closed on every answer that lacks a documented field.

import { describe, expect, it, vi } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { RateLimitPacer } from '../../lib/bybit/pacer.ts';
import type { BybitApiError } from '../../lib/errors.ts';

const START = 1_700_000_000_000;

type Reply = { status?: number; body: unknown; headers?: Record<string, string> };

function scripted(replies: Reply[], options: { baseUrl?: string } = {}) {
  let clock = START;
  const sent: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
  const transport = async (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) => {
    sent.push({ url, ...init });
    const reply = replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status ?? 200, headers: reply.headers });
  };
  const now = () => clock;
  const sleep = async (ms: number) => {
    clock += ms;
  };
  const pacer = new RateLimitPacer({ now, sleep });
  const client = new BybitClient({
    credentials: { apiKey: 'KEY123', apiSecret: 'secret' },
    baseUrl: options.baseUrl ?? 'http://exchange.test',
    transport: transport as never,
    now,
    sleep,
    random: () => 1,
    pacer,
  });
  return { client, sent, pacer };
}

const ok = (result: unknown, extra: object = {}) => ({
  body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1, ...extra },
});
const five = (reply: Reply) => Array.from({ length: 5 }, () => reply);
const rejection = (promise: Promise<unknown>) => promise.catch((e: unknown) => e) as Promise<BybitApiError>;

describe('BybitClient on the wire', () => {
  it('strips every trailing slash of the base URL', async () => {
    const { client, sent } = scripted([ok({ orderId: 'o1', orderLinkId: '' })], {
      baseUrl: 'http://exchange.test//',
    });
    await client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' });
    expect(sent[0]?.url).toBe('http://exchange.test/v5/order/cancel');
  });

  it('posts a cancel-all as signed JSON to /v5/order/cancel-all, and takes an unpaged list', async () => {
    const { client, sent } = scripted([ok({ list: [{ orderId: 'a', orderLinkId: 'la' }] })]);
    expect(await client.cancelAll({ category: 'linear', settleCoin: 'USDT' })).toEqual([
      { orderId: 'a', orderLinkId: 'la' },
    ]);
    expect(sent[0]).toMatchObject({ url: 'http://exchange.test/v5/order/cancel-all', method: 'POST' });
    expect(sent[0]?.headers['Content-Type']).toBe('application/json');
    expect(sent[0]?.headers['X-BAPI-SIGN']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sends a GET without a body content type', async () => {
    const { client, sent } = scripted([ok({ list: [], nextPageCursor: '' })]);
    await client.openOrders({ category: 'spot' });
    expect(sent[0]?.method).toBe('GET');
    expect(sent[0]?.headers).not.toHaveProperty('Content-Type');
  });

  it('leaves undefined and null parameters out of the query string', async () => {
    const { client, sent } = scripted([ok({ list: [], nextPageCursor: '' })]);
    const params = { category: 'linear', symbol: undefined, baseCoin: null, settleCoin: 'USDT' };
    await client.openOrders(params as never);
    expect(sent[0]?.url).toBe('http://exchange.test/v5/order/realtime?category=linear&settleCoin=USDT');
  });

  it('asks /v5/user/query-api, signed', async () => {
    const { client, sent } = scripted([ok({ readOnly: 0, uta: 1, ips: ['*'], permissions: {} })]);
    await client.apiKeyInfo();
    expect(sent[0]).toMatchObject({ url: 'http://exchange.test/v5/user/query-api', method: 'GET' });
    expect(sent[0]?.headers['X-BAPI-SIGN']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('BybitClient batch cancel', () => {
  const items = [
    { symbol: 'BTCUSDT', orderId: 'a' },
    { symbol: 'BTCUSDT', orderLinkId: 'lb' },
    { symbol: 'BTCUSDT', orderId: 'c' },
    { symbol: 'BTCUSDT', orderLinkId: 'ld' },
  ];
  const answer = ok(
    {
      list: [
        { orderId: 'a', orderLinkId: 'la' },
        { orderId: 'b', orderLinkId: '' },
        { orderId: 'c', orderLinkId: '' },
      ],
    },
    { retExtInfo: { list: [{ code: 0, msg: 'OK' }] } },
  );

  it('posts signed JSON to /v5/order/cancel-batch', async () => {
    const { client, sent } = scripted([answer]);
    await client.cancelBatch({ category: 'linear', request: items });
    expect(sent[0]).toMatchObject({ url: 'http://exchange.test/v5/order/cancel-batch', method: 'POST' });
    expect(sent[0]?.headers['X-BAPI-SIGN']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('takes one rate-limit unit per order, but one per request for option', async () => {
    const { client, pacer } = scripted([answer, answer]);
    const acquire = vi.spyOn(pacer, 'acquire');
    await client.cancelBatch({ category: 'linear', request: items });
    await client.cancelBatch({ category: 'option', request: items });
    expect(acquire.mock.calls.map(([endpoint, category, cost]) => [endpoint, category, cost])).toEqual([
      ['cancel-batch', 'linear', 4],
      ['cancel-batch', 'option', 1],
    ]);
  });

  it('fills ids from the answer or the request, and fails an item the exchange did not answer', async () => {
    const { client } = scripted([answer]);
    const results = await client.cancelBatch({ category: 'linear', request: items });
    expect(results).toEqual([
      { symbol: 'BTCUSDT', orderId: 'a', orderLinkId: 'la', code: 0, msg: 'OK' },
      // An answer without a per-item code is a success; no answer at all is a failure.
      { symbol: 'BTCUSDT', orderId: 'b', orderLinkId: 'lb', code: 0, msg: 'OK' },
      { symbol: 'BTCUSDT', orderId: 'c', orderLinkId: '', code: 0, msg: 'OK' },
      { symbol: 'BTCUSDT', orderId: '', orderLinkId: 'ld', code: -1, msg: 'no answer for this item' },
    ]);
  });

  it('never takes a batch without result.list as cancelled, even with per-item codes', async () => {
    const { client } = scripted(five(ok({}, { retExtInfo: { list: [{ code: 0, msg: 'OK' }] } })));
    await expect(client.cancelBatch({ category: 'linear', request: items.slice(0, 1) })).rejects.toThrow(
      /result.list/,
    );
  });
});

describe('BybitClient reading answers without their documented fields', () => {
  it.each([
    ['null', null],
    ['a string', 'OK'],
    ['a number', 1],
    ['an array', [{ orderId: 'o1' }]],
  ])('says a cancel whose result is %s has no result object', async (_, result) => {
    const { client } = scripted(five(ok(result)));
    const error = await rejection(
      client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' }),
    );
    expect(error.message).toContain('malformed answer: result is missing or not an object');
  });
});

describe('BybitClient.serverTime', () => {
  it('reads the time unsigned from /v5/market/time', async () => {
    const { client, sent } = scripted([ok({ timeSecond: '1700000001' }, { time: 1_700_000_001_234 })]);
    expect(await client.serverTime()).toBe(1_700_000_001_234);
    expect(sent[0]?.url).toBe('http://exchange.test/v5/market/time');
    expect(sent[0]?.headers).not.toHaveProperty('X-BAPI-SIGN');
    expect(sent[0]?.headers).not.toHaveProperty('X-BAPI-API-KEY');
  });

  it('falls back on result.timeNano, then result.timeSecond', async () => {
    const { client } = scripted([
      ok({ timeNano: '1700000001234567890', timeSecond: '1700000001' }, { time: undefined }),
      ok({ timeSecond: '1700000002' }, { time: undefined }),
    ]);
    expect(await client.serverTime()).toBe(1_700_000_001_234);
    expect(await client.serverTime()).toBe(1_700_000_002_000);
  });

  it('rejects an answer that carries no time', async () => {
    const { client } = scripted([ok({}, { time: undefined })]);
    const error = await rejection(client.serverTime());
    expect(error).toMatchObject({ name: 'BybitApiError', endpoint: 'time', retCode: -1 });
    expect(error.message).toContain('no time in answer');
  });
});

describe('BybitClient.orderById', () => {
  const order = {
    orderId: 'o1',
    orderLinkId: 'link-1',
    symbol: 'BTCUSDT',
    orderStatus: 'New',
    qty: '2',
    cumExecQty: '0',
    leavesQty: '2',
    updatedTime: '1700000000000',
  };
  const byLink = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-1' } as const;
  const listing = (list: unknown) => [ok({ category: 'linear', list, nextPageCursor: '' })];

  it('asks by orderLinkId when no orderId is given, and returns that order', async () => {
    const { client, sent } = scripted(listing([order]));
    expect(await client.orderById(byLink)).toEqual(order);
    expect(sent[0]?.url).toBe(
      'http://exchange.test/v5/order/realtime?category=linear&symbol=BTCUSDT&orderLinkId=link-1',
    );
  });

  it.each([
    ['no list', [ok({ category: 'linear' })], 'no list in the answer'],
    ['another orderLinkId', listing([{ ...order, orderLinkId: 'link-2' }]), 'the answer lists another order'],
    ['an empty orderId', listing([{ ...order, orderId: '' }]), 'an order lacks orderId or orderStatus'],
    [
      'an empty orderStatus',
      listing([{ ...order, orderStatus: '' }]),
      'an order lacks orderId or orderStatus',
    ],
    [
      'two fields missing',
      listing([{ ...order, qty: undefined, leavesQty: 2 }]),
      'an order lacks qty, leavesQty',
    ],
  ])('fails closed on an answer with %s, and says what is wrong', async (_, replies, detail) => {
    const { client } = scripted(replies);
    const error = await rejection(client.orderById(byLink));
    expect(error).toMatchObject({ name: 'BybitApiError', endpoint: 'realtime', retCode: -1 });
    expect(error.retMsg).toBe(`malformed answer: ${detail}`);
  });
});

describe('BybitClient.apiKeyInfo', () => {
  const key = { readOnly: 1, uta: 0, ips: ['1.2.3.4'], permissions: { Spot: ['SpotTrade'] } };

  it('takes a read-only key of a classic account, without the optional fields', async () => {
    const { client } = scripted([ok(key)]);
    const info = await client.apiKeyInfo();
    expect(info).toEqual(key);
    expect(Object.keys(info).sort()).toEqual(['ips', 'permissions', 'readOnly', 'uta']);
  });

  it.each([
    ['ips', { ...key, ips: ['1.2.3.4', 5] }],
    ['deadlineDay', { ...key, deadlineDay: 'soon' }],
    [`permissions.${'G'.repeat(40)}`, { ...key, permissions: { ['G'.repeat(60)]: 'all' } }],
  ])('rejects an answer without a valid %s', async (field, result) => {
    const { client } = scripted([ok(result)]);
    const error = await rejection(client.apiKeyInfo());
    expect(error).toMatchObject({ name: 'BybitApiError', endpoint: 'query-api', retCode: -1 });
    expect(error.retMsg).toBe(`answer lacks a valid ${field}`);
  });
});
