// What the client sends and how it reads the edges of Bybit's answers: optional fields left out rather
// than read as present, malformed items refused with words naming what is wrong, an unsent request final,
// and an oversize answer's IP unit freed one window after it came.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { IpBudget, type IpTicket } from '../../lib/bybit/ip-budget.ts';
import { AnswerTooLargeError, ExchangeUnavailableError, RequestNotSentError } from '../../lib/errors.ts';

interface Sent {
  method: string;
  url: string;
  body?: string;
}

/** A client on a scripted exchange: each entry is a `result` (wrapped in an OK envelope) or a Response. */
function scripted(answers: unknown[], options: { ipBudget?: IpBudget; maxAttempts?: number } = {}) {
  let clock = 1_700_000_000_000;
  const sent: Sent[] = [];
  const transport = async (url: string, init: RequestInit) => {
    sent.push({ method: String(init.method), url, body: init.body as string | undefined });
    if (answers.length === 0) throw new Error('no more scripted answers');
    const next = answers.shift();
    if (next instanceof Response) return next;
    if (next instanceof Error) throw next;
    return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result: next, retExtInfo: {}, time: 1 }));
  };
  const client = new BybitClient({
    credentials: { apiKey: 'KEY', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: transport as unknown as typeof fetch,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 0,
    ...options,
  });
  return { client, sent };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => e,
  );

describe('BybitClient.createOrder', () => {
  it('posts the order to /v5/order/create', async () => {
    const { client, sent } = scripted([{ orderId: 'o1', orderLinkId: 'mine' }]);
    await client.createOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '1',
      orderLinkId: 'mine',
    });
    expect(sent).toEqual([
      expect.objectContaining({ method: 'POST', url: 'http://exchange.test/v5/order/create' }),
    ]);
  });
});

describe('BybitClient.tickers', () => {
  it('leaves out the prices a ticker does not carry, rather than answering them as present', async () => {
    const { client } = scripted([{ category: 'spot', list: [{ symbol: 'BTCUSDT', lastPrice: '50000' }] }]);
    const [ticker] = await client.tickers({ category: 'spot', symbol: 'BTCUSDT' });
    expect(Object.keys(ticker as object)).toEqual(['symbol', 'lastPrice']);
  });
});

describe('BybitClient.strategies: items Bybit did not send as documented', () => {
  /** A strategy item with the documented fields; `over` replaces or removes (undefined) fields. */
  const item = (over: Record<string, unknown> = {}) => {
    const base: Record<string, unknown> = {
      strategyId: 'S-1',
      strategyType: 'twap',
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      status: 3,
      ...over,
    };
    return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
  };

  it('answers only the optional fields the item carries', async () => {
    const { client } = scripted([{ list: [item()], nextCursor: '' }]);
    const page = await client.strategies({});
    expect(Object.keys(page.list[0] as object).sort()).toEqual([
      'category',
      'status',
      'strategyId',
      'strategyType',
      'symbol',
    ]);
  });

  it.each([
    ['a null item', null, 'malformed answer: a strategy is not an object'],
    ['a number for an item', 7, 'malformed answer: a strategy is not an object'],
    ['a symbol that is no string', item({ symbol: 42 }), 'malformed answer: strategy S-1 lacks symbol'],
    [
      'a status with text before its digits',
      item({ status: 'x6' }),
      'malformed answer: strategy S-1 lacks a status',
    ],
    [
      'a status with text after its digits',
      item({ status: '6x' }),
      'malformed answer: strategy S-1 lacks a status',
    ],
  ])('fails closed on %s, saying what is wrong', async (_, bad, words) => {
    const { client } = scripted([{ list: [bad], nextCursor: '' }], { maxAttempts: 1 });
    const error = await failure(client.strategies({}));
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect((error as Error).message).toBe(`strategy-list unavailable after 1 attempt(s): ${words}`);
  });

  it('names a long strategy id by its first 40 characters only', async () => {
    const id = `${'a'.repeat(40)}${'b'.repeat(60)}`;
    for (const over of [{ status: undefined }, { symbol: undefined }]) {
      const { client } = scripted([{ list: [item({ strategyId: id, ...over })], nextCursor: '' }], {
        maxAttempts: 1,
      });
      const error = (await failure(client.strategies({}))) as Error;
      expect(error.message).toMatch(/: strategy a{40} lacks (a status|symbol)$/);
    }
  });

  it('says the result is missing when the answer has none', async () => {
    const { client } = scripted([null], { maxAttempts: 1 });
    const error = (await failure(client.strategies({}))) as Error;
    expect(error.message).toBe(
      'strategy-list unavailable after 1 attempt(s): malformed answer: result is missing or not an object',
    );
  });
});

describe('BybitClient sub-account keys: the answers Bybit sends', () => {
  const listedKey = (over: Record<string, unknown> = {}) => ({
    apiKey: 'SUBKEY0123456789AB',
    ips: ['*'],
    permissions: { ContractTrade: ['Order'] },
    readOnly: false,
    ...over,
  });

  it('reads readOnly written as true or 0', async () => {
    const { client } = scripted([
      {
        result: [listedKey({ apiKey: 'TRUEKEY0123456789A', readOnly: true }), listedKey({ readOnly: 0 })],
        nextPageCursor: '',
      },
    ]);
    const { list } = await client.subApiKeys({ subMemberId: '1' });
    expect(list.map((k) => [k.apiKey, k.readOnly])).toEqual([
      ['TRUEKEY0123456789A', true],
      ['SUBKEY0123456789AB', false],
    ]);
  });

  it('still reports the ips of a key whose permissions it cannot read', async () => {
    const { client } = scripted([
      { result: [listedKey({ ips: ['10.0.0.1'], permissions: [] })], nextPageCursor: '' },
    ]);
    const { list } = await client.subApiKeys({ subMemberId: '1' });
    expect(list[0]).toMatchObject({ ips: ['10.0.0.1'], unreadable: 'permissions' });
  });

  it.each([
    [
      'a key without apiKey',
      { result: [{ ...listedKey(), apiKey: undefined }], nextPageCursor: '' },
      'a key lacks its apiKey',
    ],
    [
      'a key whose apiKey is a number',
      { result: [listedKey({ apiKey: 7 })], nextPageCursor: '' },
      'a key lacks its apiKey',
    ],
    ['no result', null, 'result is missing or not an object'],
  ])('refuses a listing with %s, saying so', async (_, result, words) => {
    const { client } = scripted([result], { maxAttempts: 1 });
    const error = (await failure(client.subApiKeys({ subMemberId: '1' }))) as Error;
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error.message).toBe(`sub-apikeys unavailable after 1 attempt(s): malformed answer: ${words}`);
  });

  it('reads an update answer that does not repeat the apiKey', async () => {
    const { client } = scripted([{ readOnly: 1, ips: ['*'], permissions: { Spot: ['SpotTrade'] } }]);
    const after = await client.updateSubApiKey({ apikey: 'SUBKEY0123456789AB', readOnly: 1, ips: '*' });
    expect(after).toEqual({
      apiKey: 'SUBKEY0123456789AB',
      readOnly: true,
      ips: ['*'],
      permissions: { Spot: ['SpotTrade'] },
    });
  });

  it('refuses an update answer without a result, saying so', async () => {
    const { client } = scripted([null], { maxAttempts: 1 });
    const error = (await failure(
      client.updateSubApiKey({ apikey: 'SUBKEY0123456789AB', readOnly: 1, ips: '*' }),
    )) as Error;
    expect(error.message).toBe(
      'update-sub-api unavailable after 1 attempt(s): malformed answer: result is missing or not an object',
    );
  });
});

describe('BybitClient: answers that are not an envelope', () => {
  it('tells a person a 403 from a firewall refused the request, not the IP', async () => {
    const { client } = scripted([new Response('Forbidden', { status: 403 })]);
    const error = (await failure(client.cancelAll({ category: 'linear', settleCoin: 'USDT' }))) as Error;
    expect(error.message).toBe(
      'cancel-all unavailable after 1 attempt(s): HTTP 403, the request was refused (not for the IP limit)',
    );
  });

  it('frees the IP unit of an oversize answer one window after it came: Bybit answered, so counted it', async () => {
    const held: number[] = [];
    class Recording extends IpBudget {
      override release(ticket: IpTicket, unansweredMs = 0): void {
        held.push(unansweredMs);
        super.release(ticket, unansweredMs);
      }
    }
    const ipBudget = new Recording({ requestsPer5s: 100, now: () => 1_700_000_000_000 });
    const { client } = scripted([new AnswerTooLargeError(1_000_000)], { ipBudget, maxAttempts: 1 });
    const error = await failure(client.cancelAll({ category: 'linear', settleCoin: 'USDT' }));
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(held).toEqual([0]);
  });

  it('makes a request Node refuses to build final at once, keeping what Node said as the cause', async () => {
    const refused = Object.assign(new TypeError('Invalid character in header content ["X-BAPI-API-KEY"]'), {
      code: 'ERR_INVALID_CHAR',
    });
    const { client, sent } = scripted([refused, refused, refused], { maxAttempts: 3 });
    const error = await failure(client.cancelAll({ category: 'linear', settleCoin: 'USDT' }));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect((error as Error).cause).toBe(refused);
    expect(sent).toHaveLength(1);
  });
});
