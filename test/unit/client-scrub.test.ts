// What the client passes on from the exchange's messages: Bybit echoes the signed string (which holds the
// API key) in some messages, and a message may name the key elsewhere too. Neither reaches an error.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { BybitApiError } from '../../lib/errors.ts';

const API_KEY = 'XKEY7e1f0c9a';

function answering(body: unknown) {
  const fetch = async () => new Response(JSON.stringify(body), { status: 200 });
  return new BybitClient({
    credentials: { apiKey: API_KEY, apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: fetch as typeof globalThis.fetch,
    sleep: async () => undefined,
  });
}

const refusal = (retMsg: string) => ({ retCode: 10003, retMsg, result: {}, retExtInfo: {}, time: 1 });
const cancel = { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;

describe('BybitClient message scrubbing', () => {
  it('replaces the API key wherever the message names it outside origin_string', async () => {
    const client = answering(refusal(`API key ${API_KEY} is invalid; key=${API_KEY}.`));
    const error = (await client.cancelOrder(cancel).catch((e: unknown) => e)) as BybitApiError;
    expect(error.retCode).toBe(10003);
    expect(error.retMsg).toBe('API key [api key] is invalid; key=[api key].');
    expect(error.message).not.toContain(API_KEY);
  });

  it('redacts the signed string and the key around it', async () => {
    const message = `error sign! origin_string[1700000000000${API_KEY}5000{}] for ${API_KEY}`;
    const client = answering(refusal(message));
    const error = (await client.cancelOrder(cancel).catch((e: unknown) => e)) as BybitApiError;
    expect(error.retMsg).toBe('error sign! origin_string[redacted] for [api key]');
  });

  it('redacts an origin_string cut off before its closing bracket', async () => {
    const client = answering(refusal(`error sign! origin_string[1700000000000${API_KEY}5000{"cat`));
    const error = (await client.cancelOrder(cancel).catch((e: unknown) => e)) as BybitApiError;
    expect(error.retMsg).toBe('error sign! origin_string[redacted]');
  });

  it('scrubs per-item batch messages the same way', async () => {
    const client = answering({
      retCode: 0,
      retMsg: 'OK',
      result: { list: [{ orderId: 'a', orderLinkId: '' }] },
      retExtInfo: { list: [{ code: 10003, msg: `key ${API_KEY} refused` }] },
      time: 1,
    });
    const [item] = await client.cancelBatch({
      category: 'linear',
      request: [{ symbol: 'BTCUSDT', orderId: 'a' }],
    });
    expect(item?.msg).toBe('key [api key] refused');
  });

  it('keeps at most 300 characters of a message', async () => {
    const client = answering(refusal('x'.repeat(1000)));
    const error = (await client.cancelOrder(cancel).catch((e: unknown) => e)) as BybitApiError;
    expect(error.retMsg).toHaveLength(300);
  });
});
