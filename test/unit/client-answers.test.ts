// Answers the emulator does not give by default, on a scripted transport: an IP ban (403), overload (429),
// and a 200 that is not a Bybit envelope (a proxy's page, a truncated body). Which are retried, which stop
// everything at once, and what the caller is told.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import {
  DeadlineExceededError,
  ExchangeUnavailableError,
  IpBlockedRegionError,
  IpRateLimitBanError,
  IpRefusedError,
} from '../../lib/errors.ts';

type Reply = { status?: number; body: string; headers?: Record<string, string> } | Error;

function scripted(replies: Reply[], options: { maxAttempts?: number } = {}) {
  let clock = 1_700_000_000_000;
  let sent = 0;
  const slept: number[] = [];
  const fetch = async () => {
    sent++;
    const reply = replies.shift();
    if (!reply) throw new Error('no more scripted replies');
    if (reply instanceof Error) throw reply;
    return new Response(reply.body, { status: reply.status ?? 200, headers: reply.headers });
  };
  const client = new BybitClient({
    credentials: { apiKey: 'KEY', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: fetch as typeof globalThis.fetch,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    random: () => 1,
    ...options,
  });
  return { client, sent: () => sent, slept };
}

const OK = JSON.stringify({ retCode: 0, retMsg: 'OK', result: { orderId: 'o1', orderLinkId: '' }, time: 1 });
const cancel = { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;
const failure = (client: BybitClient) =>
  client.cancelOrder(cancel).catch((e: unknown) => e) as Promise<ExchangeUnavailableError>;

describe('BybitClient on answers outside the happy path', () => {
  it('stops at the first HTTP 403 (an IP ban is not lifted by retrying) and says so', async () => {
    const { client, sent } = scripted([{ status: 403, body: '403, access too frequent' }, { body: OK }]);
    const error = await failure(client);
    // Bybit's documented answer past the IP limit (docs/v5/rate-limit/rate-limit.mdx).
    expect(error).toBeInstanceOf(IpRateLimitBanError);
    expect(error).toBeInstanceOf(IpRefusedError);
    expect(error).toMatchObject({ httpStatus: 403, endpoint: 'cancel' });
    expect(error.message).toContain('HTTP 403');
    expect(error.message).toContain('10 minutes');
    expect(sent()).toBe(1);
  });

  it('names the ban when the 403 says the IP was too frequent', async () => {
    const { client } = scripted([{ status: 403, body: '403, access too frequent' }]);
    const error = await failure(client);
    expect(error).toBeInstanceOf(IpRateLimitBanError);
    expect(error).not.toBeInstanceOf(IpBlockedRegionError);
  });

  it('names a blocked region when the 403 page says the country is not served', async () => {
    const { client } = scripted([{ status: 403, body: '<html>access from your country is blocked</html>' }]);
    const error = await failure(client);
    expect(error).toBeInstanceOf(IpBlockedRegionError);
    expect(error).not.toBeInstanceOf(IpRateLimitBanError);
    expect(error.message).toContain('blocked region');
  });

  it('sends nothing more through the shared IP budget after a 403, for any client', async () => {
    const { client, sent } = scripted([
      { status: 403, body: '403, access too frequent' },
      { body: OK },
      { body: OK },
    ]);
    const first = await failure(client);
    const again = await failure(client);
    let otherSent = 0;
    const other = new BybitClient({
      credentials: { apiKey: 'OTHER', apiSecret: 'other' },
      baseUrl: 'http://exchange.test',
      transport: (async () => {
        otherSent++;
        return new Response(OK);
      }) as typeof globalThis.fetch,
      ipBudget: client.ipBudget,
    });
    const otherError = await other.cancelOrder(cancel).catch((e: unknown) => e);
    expect(again).toBe(first);
    expect(otherError).toBe(first);
    expect(sent()).toBe(1);
    expect(otherSent).toBe(0);
  });

  it('retries HTTP 429 with backoff and succeeds', async () => {
    const { client, sent, slept } = scripted([
      { status: 429, body: '' },
      { status: 429, body: '' },
      { body: OK },
    ]);
    expect(await client.cancelOrder(cancel)).toEqual({ orderId: 'o1', orderLinkId: '' });
    expect(sent()).toBe(3);
    // Exponential backoff from 100 ms (random() = 1 takes the whole interval).
    expect(slept).toEqual([100, 200]);
  });

  it('caps the backoff at 2 s', async () => {
    const { client, slept } = scripted(
      Array.from({ length: 7 }, () => ({ status: 503, body: '' })),
      { maxAttempts: 7 },
    );
    await failure(client);
    expect(slept).toEqual([100, 200, 400, 800, 1600, 2000]);
  });

  it.each([
    ['an HTML page', '<html><body>502 Bad Gateway</body></html>'],
    ['a truncated body', '{"retCode":0,"retMsg":"OK","res'],
    ['JSON without retCode', '{"result":{"list":[]}}'],
    ['JSON null', 'null'],
    ['an empty body', ''],
  ])('retries a 200 carrying %s, then reports it as not a Bybit envelope', async (_, body) => {
    const { client, sent } = scripted(Array.from({ length: 5 }, () => ({ body })));
    const error = await failure(client);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error.message).toContain('answer is not a Bybit envelope');
    expect(error.attempts).toBe(5);
    expect(sent()).toBe(5);
  });

  it('accepts the envelope once a retry gets one', async () => {
    const { client } = scripted([{ body: '<html></html>' }, { body: OK }]);
    expect(await client.cancelOrder(cancel)).toMatchObject({ orderId: 'o1' });
  });

  it('names a network error by its code', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    const { client } = scripted([reset], { maxAttempts: 1 });
    const error = await failure(client);
    expect(error.message).toContain('network error ECONNRESET');
  });

  it('names a node:http network error by its own code', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const { client } = scripted([refused], { maxAttempts: 1 });
    const error = await failure(client);
    expect(error.message).toContain('network error ECONNREFUSED');
  });

  it('reports a request that outlived its own timeout as unavailable while the deadline is far', async () => {
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    const { client } = scripted([timeout], { maxAttempts: 1 });
    const error = await failure(client);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error.message).toContain('no answer within 5000 ms');
  });

  it('reports a request cut short by the deadline as the deadline', async () => {
    const timeout = Object.assign(new Error('aborted'), { name: 'AbortError' });
    const { client } = scripted([timeout], { maxAttempts: 1 });
    const error = await client
      .cancelOrder(cancel, { deadline: 1_700_000_000_000 + 1000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });
});
