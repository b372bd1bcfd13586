// The strategy endpoints and the answer shapes Bybit really sends, on a scripted transport: what is read,
// what fails closed, what is signed and paced, and that a final acknowledgement is sent once.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { IpBudget } from '../../lib/bybit/ip-budget.ts';
import { RateLimitPacer } from '../../lib/bybit/pacer.ts';
import { BybitApiError, ExchangeUnavailableError } from '../../lib/errors.ts';

interface Sent {
  method: string;
  url: string;
  body?: string;
  headers: Record<string, string>;
}

function scripted(results: unknown[], options: { ipBudget?: IpBudget } = {}) {
  let clock = 1_700_000_000_000;
  const sent: Sent[] = [];
  const transport = async (url: string, init: RequestInit) => {
    sent.push({
      method: String(init.method),
      url,
      body: init.body as string | undefined,
      headers: init.headers as Record<string, string>,
    });
    const next = results.shift();
    if (next === undefined) throw new Error('no more scripted answers');
    const envelope =
      typeof next === 'string' ? next : JSON.stringify({ retCode: 0, retMsg: 'OK', result: next });
    return new Response(envelope, { status: 200 });
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

/** The docs' example item (strategy-list.mdx): the E3 times and counts as strings, status an integer. */
const EXAMPLE = {
  strategyId: '119b6211-2611-461b-be5e-5ac557099e82',
  category: 'UTA_USDT',
  symbol: 'BTCUSDT',
  side: 'Buy',
  size: '0.05',
  duration: 1560,
  status: 3,
  executedStartTimeE3: '1773711467045',
  createdTimeE3: '1773711467045',
  triggerCount: '26',
  strategyType: 'twap',
  chasePercentE4: '0',
  triggerPrice: '0',
  orderType: 'UNKNOWN',
};

describe('BybitClient.strategies', () => {
  it('reads the docs example, whose int64 times come as strings', async () => {
    const { client, sent } = scripted([{ list: [EXAMPLE], nextCursor: '', prevCursor: '' }]);
    const page = await client.strategies({ pageSize: 50 });
    expect(page).toEqual({
      list: [
        {
          strategyId: EXAMPLE.strategyId,
          strategyType: 'twap',
          category: 'UTA_USDT',
          symbol: 'BTCUSDT',
          status: 3,
          side: 'Buy',
          triggerPrice: '0',
          createdTimeE3: 1773711467045,
        },
      ],
      nextCursor: '',
    });
    // A signed GET: the query string exactly as sent is what was signed.
    expect(sent[0]?.method).toBe('GET');
    expect(sent[0]?.url).toBe('http://exchange.test/v5/strategy/list?pageSize=50');
    expect(sent[0]?.headers['X-BAPI-SIGN']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads the table variant too: status and times as JSON integers, and status as a string of digits', async () => {
    const item = { ...EXAMPLE, status: '6', createdTimeE3: 1773711467045, triggerCount: 26 };
    const { client } = scripted([{ list: [item], nextCursor: 'abc' }]);
    const page = await client.strategies({});
    expect(page.list[0]).toMatchObject({ status: 6, createdTimeE3: 1773711467045 });
    expect(page.nextCursor).toBe('abc');
  });

  it.each([
    ['no list', { nextCursor: '' }, 'result.list is missing'],
    ['no nextCursor', { list: [] }, 'result.nextCursor is missing'],
    [
      'an item without strategyId',
      { list: [{ ...EXAMPLE, strategyId: '' }], nextCursor: '' },
      'lacks strategyId',
    ],
    [
      'an item without status',
      { list: [{ ...EXAMPLE, status: undefined }], nextCursor: '' },
      'lacks a status',
    ],
    [
      'a status that is no integer',
      { list: [{ ...EXAMPLE, status: 'running' }], nextCursor: '' },
      'lacks a status',
    ],
    ['an item without symbol', { list: [{ ...EXAMPLE, symbol: undefined }], nextCursor: '' }, 'lacks symbol'],
  ])('fails closed on an answer with %s, after retrying it', async (_, result, problem) => {
    const { client, sent } = scripted(Array(5).fill(result));
    const error = (await client.strategies({}).catch((e: unknown) => e)) as ExchangeUnavailableError;
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error.message).toContain(problem);
    expect(sent).toHaveLength(5);
  });
});

describe('BybitClient.stopStrategy', () => {
  it('posts the strategy id as the signed JSON body and returns the acknowledgement', async () => {
    const { client, sent } = scripted([{ strategyId: 's-1' }]);
    expect(await client.stopStrategy('s-1')).toEqual({ strategyId: 's-1' });
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: 'http://exchange.test/v5/strategy/stop',
      body: '{"strategyId":"s-1"}',
    });
    expect(sent[0]?.headers['Content-Type']).toBe('application/json');
  });

  it('throws the exchange refusal with its retCode, not retrying a rejection', async () => {
    const refusal = JSON.stringify({ retCode: 60072, retMsg: 'Strategy status modify failed', result: {} });
    const { client, sent } = scripted([refusal, refusal]);
    const error = (await client.stopStrategy('s-1').catch((e: unknown) => e)) as BybitApiError;
    expect(error).toBeInstanceOf(BybitApiError);
    expect(error).toMatchObject({ retCode: 60072, kind: 'rejected', endpoint: 'strategy-stop' });
    expect(sent).toHaveLength(1);
  });

  it('retries "Trading service unavailable" (60071) like any transient answer', async () => {
    const unavailable = JSON.stringify({ retCode: 60071, retMsg: 'Trading service unavailable', result: {} });
    const { client, sent } = scripted([unavailable, { strategyId: 's-1' }]);
    expect(await client.stopStrategy('s-1')).toEqual({ strategyId: 's-1' });
    expect(sent).toHaveLength(2);
  });

  it('counts against the IP budget and paces on its own per-UID window (list 200/s, stop 100/s)', async () => {
    const ipBudget = new IpBudget({ now: () => 0, sleep: async () => {} });
    const { client } = scripted([{ strategyId: 's-1' }, { list: [], nextCursor: '' }], { ipBudget });
    await client.stopStrategy('s-1');
    await client.strategies({});
    expect(ipBudget.sent).toBe(2);
    const pacer = new RateLimitPacer();
    expect(pacer.capacity('strategy-list', 'linear')).toBe(200);
    expect(pacer.capacity('strategy-stop', 'spot')).toBe(100);
    expect(RateLimitPacer.key('strategy-stop', 'spot')).toBe(RateLimitPacer.key('strategy-stop', 'linear'));
  });
});

describe('BybitClient.cancelAll: the answers Bybit sends', () => {
  it('takes a spot answer of {"success": "1"} without a list as a final acknowledgement, sent once', async () => {
    const { client, sent } = scripted([{ success: '1' }]);
    const answer = await client.cancelAll({ category: 'spot', orderFilter: 'tpslOrder' });
    expect([...answer, answer.named]).toEqual([false]);
    expect(sent).toHaveLength(1);
  });

  it('still fails closed on a spot answer with neither list nor success "1"', async () => {
    const { client, sent } = scripted(Array(5).fill({ success: '0' }));
    const error = await client.cancelAll({ category: 'spot' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(sent).toHaveLength(5);
  });

  it('fails closed on a futures answer without a list: only spot documented the success-only shape', async () => {
    const { client, sent } = scripted(Array(5).fill({ success: '1' }));
    const error = await client.cancelAll({ category: 'linear', settleCoin: 'USDT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(sent).toHaveLength(5);
  });
});
