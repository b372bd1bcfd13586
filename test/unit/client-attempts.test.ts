// How the client spends a call's attempts and deadline: what is retried and what fails at once, where the
// deadline cuts an attempt or a backoff, the clock resync, and how long an IP unit stays taken.

import { describe, expect, it, vi } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { RateLimitPacer } from '../../lib/bybit/pacer.ts';
import {
  DeadlineExceededError,
  type ExchangeUnavailableError,
  IpRateLimitBanError,
} from '../../lib/errors.ts';

const START = 1_700_000_000_000;

type Reply =
  | { status?: number; body: unknown; headers?: Record<string, string>; takesMs?: number }
  | Error
  | undefined;

function scripted(replies: Reply[], options: Partial<ConstructorParameters<typeof BybitClient>[0]> = {}) {
  let clock = START;
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const slept: number[] = [];
  const transport = async (url: string, init: { headers: Record<string, string> }) => {
    sent.push({ url, headers: init.headers });
    if (replies.length === 0) throw new Error('no more scripted replies');
    const reply = replies.shift();
    if (reply === undefined || reply instanceof Error) throw reply;
    clock += reply.takesMs ?? 0;
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(body, { status: reply.status ?? 200, headers: reply.headers });
  };
  const client = new BybitClient({
    credentials: { apiKey: 'KEY123', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: transport as never,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    random: () => 1,
    ...options,
  });
  return { client, sent, slept, now: () => clock };
}

const ok = (result: unknown = { orderId: 'o1', orderLinkId: '' }) => ({
  body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1 },
});
const fail = (retCode: number, headers?: Record<string, string>) => ({
  body: { retCode, retMsg: 'failed', result: {}, retExtInfo: {}, time: 1 },
  headers,
});
const cancel = { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;
const rejection = (promise: Promise<unknown>) =>
  promise.catch((e: unknown) => e) as Promise<ExchangeUnavailableError>;
const timeout = () => Object.assign(new Error('timed out'), { name: 'TimeoutError' });

describe('BybitClient attempts against the deadline', () => {
  it('still sends with exactly the minimum attempt time left', async () => {
    const { client, sent } = scripted([ok()]);
    await client.cancelOrder(cancel, { deadline: START + 25 });
    expect(sent).toHaveLength(1);
  });

  it('names the call, not a queue, when too little time is left to send', async () => {
    const { client, sent } = scripted([ok()]);
    const error = await rejection(client.cancelOrder(cancel, { deadline: START + 5 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.endpoint).toBe('cancel');
    expect(sent).toHaveLength(0);
  });

  it('retries after a backoff that leaves exactly the minimum attempt time', async () => {
    // random() = 1: the first backoff is the whole 100 ms, leaving 25 ms.
    const { client, sent } = scripted([{ status: 503, body: '' }, ok()]);
    await client.cancelOrder(cancel, { deadline: START + 125 });
    expect(sent).toHaveLength(2);
  });

  it('reports a timeout as the deadline when the deadline is exactly one request timeout away', async () => {
    const { client } = scripted([timeout()], { maxAttempts: 1 });
    const error = await rejection(client.cancelOrder(cancel, { deadline: START + 5000 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it('keeps the timeout and the network error as the cause of what it reports', async () => {
    const cut = timeout();
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    const { client } = scripted([cut, reset], { maxAttempts: 1 });
    expect((await rejection(client.cancelOrder(cancel, { deadline: START + 1000 }))).cause).toBe(cut);
    expect((await rejection(client.cancelOrder(cancel))).cause).toBe(reset);
  });

  it('reports a rejection without a reason as a plain network error', async () => {
    const { client } = scripted([undefined], { maxAttempts: 1 });
    const error = await rejection(client.cancelOrder(cancel));
    expect(error.message).toBe('cancel unavailable after 1 attempt(s): network error');
  });

  it('retries with real timers when no sleep is given', { timeout: 3000 }, async () => {
    const replies: Reply[] = [{ status: 503, body: '' }, ok()];
    const { client, sent } = scripted(replies, { sleep: undefined, now: undefined, random: () => 0 });
    await client.cancelOrder(cancel);
    expect(sent).toHaveLength(2);
  });
});

describe('BybitClient aborting a request that hangs', () => {
  const hanging = (answerAfterMs: number) => (_url: string, init: { signal: AbortSignal }) =>
    new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => resolve(new Response(JSON.stringify(ok().body))), answerAfterMs);
      init.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(init.signal.reason);
      });
    });

  it('aborts it when the deadline comes before the request timeout', async () => {
    const { client } = scripted([], { transport: hanging(1000) as never, requestTimeoutMs: 3000 });
    const error = await rejection(client.cancelOrder(cancel, { deadline: START + 40 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it('waits for a slow answer that comes within the timeout', async () => {
    const { client } = scripted([], { transport: hanging(30) as never });
    expect(await client.cancelOrder(cancel)).toEqual({ orderId: 'o1', orderLinkId: '' });
  });
});

describe('BybitClient on what is retried', () => {
  it('retries HTTP 500', async () => {
    const { client, sent } = scripted([{ status: 500, body: '' }, ok()]);
    await client.cancelOrder(cancel);
    expect(sent).toHaveLength(2);
  });

  it('never retries HTTP 400, and names the status', async () => {
    const { client, sent } = scripted([{ status: 400, body: '' }, ok()]);
    const error = await rejection(client.cancelOrder(cancel));
    expect(error).toMatchObject({ httpStatus: 400, attempts: 1 });
    expect(error.message).toContain('HTTP 400');
    expect(sent).toHaveLength(1);
  });

  it('neither waits nor retries after a 403, in this call or the next', async () => {
    const { client, sent, slept } = scripted([{ status: 403, body: '403, access too frequent' }, ok(), ok()]);
    await rejection(client.cancelOrder(cancel));
    await rejection(client.cancelOrder(cancel));
    expect(slept).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it('takes a 403 that says "too frequent" for the ban, whatever else its page says', async () => {
    const { client } = scripted([{ status: 403, body: 'too frequent; not served in your country' }]);
    expect(await rejection(client.cancelOrder(cancel))).toBeInstanceOf(IpRateLimitBanError);
  });

  it('passes on an empty retMsg when the answer has none', async () => {
    const { client } = scripted([{ body: { retCode: 10003, result: {} } }]);
    expect(await rejection(client.cancelOrder(cancel))).toMatchObject({ retCode: 10003, retMsg: '' });
  });

  it('waits for the announced reset after a 10006, even on an unpaced public call', async () => {
    const reset = { 'X-Bapi-Limit-Reset-Timestamp': String(START + 800) };
    const page = ok({ list: [], nextPageCursor: '' });
    const { client, now } = scripted([fail(10006, reset), page]);
    await client.instrumentsInfo({ category: 'linear' });
    expect(now()).toBeGreaterThanOrEqual(START + 800);
  });

  it('does not wait for the reset after another retryable code', async () => {
    const reset = { 'X-Bapi-Limit-Reset-Timestamp': String(START + 800) };
    const page = ok({ list: [], nextPageCursor: '' });
    const { client, slept } = scripted([fail(10016, reset), page]);
    await client.instrumentsInfo({ category: 'linear' });
    expect(slept).toEqual([100]);
  });

  it('fails at once, sending nothing, when the pacer has no room before the deadline', async () => {
    const full = new DeadlineExceededError('cancel (paced)');
    const pacer = { acquire: vi.fn(async () => Promise.reject(full)), release: vi.fn() };
    const { client, sent, slept } = scripted([ok()], { pacer: pacer as unknown as RateLimitPacer });
    expect(await rejection(client.cancelOrder(cancel))).toBe(full);
    expect(pacer.acquire).toHaveBeenCalledTimes(1);
    expect(sent).toHaveLength(0);
    expect(slept).toEqual([]);
  });

  it('fails at once, sending nothing, when the IP budget has no unit before the deadline', async () => {
    const { client, sent } = scripted([ok()]);
    const queued = new DeadlineExceededError('IP budget (queued)');
    const acquire = vi.spyOn(client.ipBudget, 'acquire').mockRejectedValue(queued);
    expect(await rejection(client.cancelOrder(cancel))).toBe(queued);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(sent).toHaveLength(0);
  });
});

describe('BybitClient IP units', () => {
  it('frees an answered request at once, and holds an unanswered one one more timeout', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    const { client } = scripted([ok(), reset], { maxAttempts: 1 });
    const release = vi.spyOn(client.ipBudget, 'release');
    await client.cancelOrder(cancel);
    await rejection(client.cancelOrder(cancel));
    expect(release.mock.calls.map(([, unansweredMs]) => unansweredMs)).toEqual([0, 5000]);
  });
});

describe('BybitClient clock resync', () => {
  const clockRefused = fail(10002);

  it('does not count the resync retry as an attempt', async () => {
    const time = { body: { retCode: 0, retMsg: 'OK', result: {}, time: START } };
    const { client } = scripted([clockRefused, time, ok()], { maxAttempts: 1 });
    expect(await client.cancelOrder(cancel)).toEqual({ orderId: 'o1', orderLinkId: '' });
  });

  it('sets the offset from the midpoint of the time request', async () => {
    const serverNow = START + 60_000;
    const time = { body: { retCode: 0, retMsg: 'OK', result: {}, time: serverNow }, takesMs: 200 };
    const { client, sent } = scripted([clockRefused, time, ok()]);
    await client.cancelOrder(cancel);
    // Sent at START, answered at START + 200: the exchange read serverNow at START + 100.
    expect(Number(sent[2]?.headers['X-BAPI-TIMESTAMP'])).toBe(START + 200 + (serverNow - (START + 100)));
  });

  it('asks the time at the call priority and within its deadline', async () => {
    const time = { body: { retCode: 0, retMsg: 'OK', result: {}, time: START } };
    const { client } = scripted([clockRefused, time, ok()]);
    const acquire = vi.spyOn(client.ipBudget, 'acquire');
    const deadline = START + 10_000;
    await client.cancelOrder(cancel, { deadline, priority: 'first-wave' });
    expect(acquire.mock.calls.map(([, priority, d]) => [priority, d])).toEqual([
      ['first-wave', deadline],
      ['first-wave', deadline],
      ['first-wave', deadline],
    ]);
  });
});
