// The client-side pacer on a virtual clock: one rolling window per endpoint and category group, starting
// from Bybit's documented defaults and following the X-Bapi-Limit* headers.

import { describe, expect, it } from 'vitest';
import { plausibleLimits, RateLimitPacer } from '../../lib/bybit/pacer.ts';
import type { Category, Endpoint } from '../../lib/bybit/types.ts';
import { DeadlineExceededError } from '../../lib/errors.ts';

function virtual() {
  let time = 1_700_000_000_000;
  const slept: number[] = [];
  const pacer = new RateLimitPacer({
    now: () => time,
    sleep: async (ms) => {
      slept.push(ms);
      time += ms;
    },
  });
  return { pacer, slept, now: () => time, advance: (ms: number) => (time += ms) };
}

const FAR = Number.MAX_SAFE_INTEGER;

describe('RateLimitPacer', () => {
  it.each([
    ['cancel', 'linear', 10],
    ['cancel', 'spot', 20],
    ['cancel', 'option', 10],
    ['cancel-all', 'linear', 10],
    ['cancel-all', 'inverse', 10],
    ['cancel-all', 'spot', 20],
    ['cancel-all', 'option', 1],
    ['cancel-batch', 'linear', 10],
    ['cancel-batch', 'spot', 20],
    ['cancel-batch', 'option', 10],
    ['realtime', 'linear', 50],
    ['time', 'spot', 50],
  ] as [Endpoint, Category, number][])(
    'starts %s %s at the documented %i a second',
    (endpoint, category, limit) => {
      expect(new RateLimitPacer().capacity(endpoint, category)).toBe(limit);
    },
  );

  it('shares one window between linear and inverse, and one for all open-order listings', () => {
    expect(RateLimitPacer.key('cancel', 'inverse')).toBe(RateLimitPacer.key('cancel', 'linear'));
    expect(RateLimitPacer.key('cancel', 'spot')).not.toBe(RateLimitPacer.key('cancel', 'linear'));
    expect(RateLimitPacer.key('cancel-all', 'option')).toBe('cancel-all:option');
    expect(RateLimitPacer.key('realtime', 'spot')).toBe(RateLimitPacer.key('realtime', 'option'));
    expect(RateLimitPacer.key('time', 'linear')).toBe('time');
  });

  it('lets a full window through at once, then waits one window (plus slack) after the first answer', async () => {
    const { pacer, slept, now } = virtual();
    const start = now();
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await pacer.acquire('cancel', 'linear', 1, FAR));
    expect(slept).toEqual([]);
    for (const t of tickets) pacer.release(t);
    await pacer.acquire('cancel', 'linear', 1, FAR);
    expect(now() - start).toBe(1020);
  });

  it('polls every 10 ms while every unit is held by a request still in flight', async () => {
    let time = 0;
    const slept: number[] = [];
    let onSleep = () => {};
    const pacer = new RateLimitPacer({
      now: () => time,
      sleep: async (ms) => {
        slept.push(ms);
        time += ms;
        onSleep();
      },
    });
    const held = await pacer.acquire('cancel-all', 'option', 1, FAR);
    // The answer to the held request arrives during the third poll.
    onSleep = () => {
      if (slept.length === 3) pacer.release(held);
    };
    await pacer.acquire('cancel-all', 'option', 1, FAR);
    expect(slept.slice(0, 3)).toEqual([10, 10, 10]);
    expect(time).toBe(30 + 1020);
  });

  it('counts a batch as its cost in units', async () => {
    const { pacer, slept } = virtual();
    pacer.release(await pacer.acquire('cancel-batch', 'linear', 6, FAR));
    await pacer.acquire('cancel-batch', 'linear', 4, FAR);
    expect(slept).toEqual([]);
    await pacer.acquire('cancel-batch', 'linear', 1, FAR);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(1020);
  });

  it('lets a request larger than the window through once the window is empty', async () => {
    const { pacer } = virtual();
    const ticket = await pacer.acquire('cancel-batch', 'linear', 20, FAR);
    expect(ticket.cost).toBe(20);
  });

  it('throws DeadlineExceededError instead of waiting past the deadline', async () => {
    const { pacer, now } = virtual();
    pacer.release(await pacer.acquire('cancel-all', 'option', 1, FAR));
    const error = await pacer.acquire('cancel-all', 'option', 1, now() + 500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toContain('cancel-all (paced)');
  });

  it('adopts the limit the exchange announces', async () => {
    const { pacer } = virtual();
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 5, remaining: 4 });
    expect(pacer.capacity('cancel', 'linear')).toBe(5);
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 300, remaining: 299 });
    expect(pacer.capacity('cancel', 'linear')).toBe(300);
  });

  it('clamps an implausible announced limit instead of adopting it', async () => {
    const { pacer } = virtual();
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 1e9 });
    expect(pacer.capacity('cancel', 'linear')).toBe(5000);
    // Below one request is not a limit: the window keeps what it had instead of slowing to 1 a second.
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 0 });
    expect(pacer.capacity('cancel', 'linear')).toBe(5000);
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: Number.NaN });
    expect(pacer.capacity('cancel', 'linear')).toBe(5000);
  });

  it('bounds the announced headers to what Bybit can plausibly send', () => {
    const now = 1_700_000_000_000;
    expect(plausibleLimits({ limit: 7.9, remaining: 3, resetAt: now + 60_000 }, now)).toEqual({
      limit: 7,
      remaining: 3,
      resetAt: now + 2000,
    });
    expect(plausibleLimits({ limit: 10, remaining: 50 }, now)).toMatchObject({ limit: 10, remaining: 10 });
    expect(plausibleLimits({ limit: -3, remaining: -1, resetAt: now - 5 }, now)).toEqual({
      limit: undefined,
      remaining: 0,
      resetAt: now,
    });
    expect(plausibleLimits({ limit: Number.POSITIVE_INFINITY }, now)).toEqual({
      limit: undefined,
      remaining: undefined,
      resetAt: undefined,
    });
  });

  it('does not stall past the bounded reset when the exchange names a reset far ahead', async () => {
    const { pacer, now } = virtual();
    const start = now();
    pacer.release(await pacer.acquire('cancel-all', 'spot', 1, FAR), {
      limit: 2,
      remaining: 0,
      resetAt: start + 3_600_000,
    });
    // The first unit is ours, free after one window; the one someone else spent waits for the bounded reset.
    await pacer.acquire('cancel-all', 'spot', 1, FAR);
    expect(now() - start).toBe(1020);
    await pacer.acquire('cancel-all', 'spot', 1, FAR);
    expect(now() - start).toBe(2020);
  });

  it('holds back units someone else spent with the same key, until the reset the exchange names', async () => {
    const { pacer, now, slept } = virtual();
    const resetAt = now() + 300;
    // We sent one; the exchange has counted 8 of 10: seven were someone else's.
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 10, remaining: 2, resetAt });
    await pacer.acquire('cancel', 'linear', 1, FAR);
    await pacer.acquire('cancel', 'linear', 1, FAR);
    expect(slept).toEqual([]);
    await pacer.acquire('cancel', 'linear', 1, FAR);
    expect(now()).toBe(resetAt + 20);
  });

  it('holds unseen units for one window when the exchange names no reset', async () => {
    const { pacer, now } = virtual();
    const start = now();
    pacer.release(await pacer.acquire('cancel-all', 'spot', 1, FAR), { limit: 2, remaining: 0 });
    await pacer.acquire('cancel-all', 'spot', 1, FAR);
    expect(now() - start).toBe(1020);
  });

  it('ignores a release for a window it never opened', () => {
    const pacer = new RateLimitPacer();
    expect(() => pacer.release({ key: 'cancel:linear', cost: 1 })).not.toThrow();
  });
});

describe('RateLimitPacer, limits and answers', () => {
  it('adopts an announced limit of one request a second', async () => {
    const { pacer } = virtual();
    pacer.release(await pacer.acquire('cancel', 'linear', 1, FAR), { limit: 1, remaining: 0 });
    expect(pacer.capacity('cancel', 'linear')).toBe(1);
  });

  it('shares one query-api window across categories (10 a second for the key)', async () => {
    const { pacer, slept } = virtual();
    const categories: Category[] = ['linear', 'spot', 'option', 'inverse', 'spot'];
    for (let i = 0; i < 10; i++) await pacer.acquire('query-api', categories[i % 5] as Category, 1, FAR);
    expect(slept).toEqual([]);
    const error = await pacer
      .acquire('query-api', 'spot', 1, 1_700_000_000_000 + 500)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it('fails a request whose unit frees only at its deadline: it could not be sent in time', async () => {
    const { pacer, now } = virtual();
    pacer.release(await pacer.acquire('cancel-all', 'option', 1, FAR));
    const error = await pacer.acquire('cancel-all', 'option', 1, now() + 1020).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it("frees only the answered request's units: the others stay held while in flight", async () => {
    const { pacer, now } = virtual();
    const start = now();
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await pacer.acquire('cancel', 'linear', 1, FAR));
    pacer.release(tickets[0] as (typeof tickets)[number]);
    await pacer.acquire('cancel', 'linear', 1, FAR);
    expect(now() - start).toBe(1020);
    const error = await pacer.acquire('cancel', 'linear', 1, start + 3000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it("does not count a unit already free for our own when holding back someone else's", async () => {
    const { pacer, now, advance } = virtual();
    const start = now();
    pacer.release(await pacer.acquire('cancel-all', 'spot', 1, FAR));
    advance(10);
    const second = await pacer.acquire('cancel-all', 'spot', 1, FAR);
    advance(1010);
    // The first unit frees now; of the two the exchange counted, one (the second) is ours.
    pacer.release(second, { limit: 2, remaining: 0 });
    await pacer.acquire('cancel-all', 'spot', 1, FAR);
    expect(now() - start).toBe(2040);
  });

  it("holds someone else's units a full window when the named reset has already passed", async () => {
    const { pacer, now } = virtual();
    const start = now();
    pacer.release(await pacer.acquire('cancel-all', 'spot', 1, FAR), {
      limit: 2,
      remaining: 0,
      resetAt: start - 5,
    });
    await pacer.acquire('cancel-all', 'spot', 1, FAR);
    expect(now() - start).toBe(1020);
  });

  it('waits on a real timer when no sleep is injected', async () => {
    // Each reading of the clock moves it on 1 ms, so the wait is a few real milliseconds.
    let time = 1_700_000_000_000;
    const pacer = new RateLimitPacer({ now: () => time++ });
    pacer.release(await pacer.acquire('cancel-all', 'option', 1, FAR));
    time += 1015;
    const ticket = await pacer.acquire('cancel-all', 'option', 1, FAR);
    expect(ticket.key).toBe('cancel-all:option');
  }, 2000);
});
