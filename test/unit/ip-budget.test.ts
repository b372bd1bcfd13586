import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { IpBudget, type IpTicket, type Priority } from '../../lib/bybit/ip-budget.ts';
import {
  DeadlineExceededError,
  IpBlockedRegionError,
  IpRateLimitBanError,
  IpRefusedError,
} from '../../lib/errors.ts';
import { virtualTime as virtualClock } from '../support/virtual-time.ts';

const START = 1_700_000_000_000;

// Bybit's figures, written here and never taken from the product (docs/v5/rate-limit/rate-limit.mdx): "600
// requests within a 5-second window per IP"; after "403, access too frequent" "wait for at least 10 minutes".
const BYBIT_IP_WINDOW_MS = 5_000;
const BYBIT_BAN_MS = 10 * 60_000;

const virtualTime = () => virtualClock(START);

/** Queues a request that logs its grant and answers at once (so the next waiter's turn comes). */
function queue(budget: IpBudget, owner: string, priority: Priority, log: string[]) {
  return budget.acquire(owner, priority, FAR).then((ticket) => {
    log.push(`${owner}:${priority}`);
    budget.release(ticket);
  });
}

const FAR = Date.now() + 600_000;

describe('IpBudget', () => {
  it('grants one window at once, then nothing more until units free a window after their answers', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 10, maxInFlight: 100, ...time });
    const granted: IpTicket[] = [];
    for (let i = 0; i < 25; i++) void budget.acquire(`a${i}`, 'routine', FAR).then((t) => granted.push(t));
    await time.advance(0);
    expect(granted).toHaveLength(10);
    for (const ticket of granted) budget.release(ticket);
    await time.advance(BYBIT_IP_WINDOW_MS - 1);
    expect(granted).toHaveLength(10);
    await time.advance(100);
    expect(granted).toHaveLength(20);
  });

  it('keeps the unit of an unanswered request longer: it may still reach Bybit after we gave up on it', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...time });
    budget.release(await budget.acquire('a', 'routine', FAR), 1000);
    let granted = false;
    void budget.acquire('b', 'routine', FAR).then(() => {
      granted = true;
    });
    await time.advance(BYBIT_IP_WINDOW_MS + 500);
    expect(granted).toBe(false);
    await time.advance(1000);
    expect(granted).toBe(true);
  });

  it('never has more requests in flight than maxInFlight, and hands a freed socket to the next waiter', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 3, ...time });
    const granted: IpTicket[] = [];
    for (let i = 0; i < 6; i++) void budget.acquire('a', 'routine', FAR).then((t) => granted.push(t));
    await time.advance(0);
    expect(granted).toHaveLength(3);
    budget.release(granted[0] as IpTicket);
    await time.advance(0);
    expect(granted).toHaveLength(4);
  });

  it('derives the socket bound from the budget: one second of it', () => {
    expect(new IpBudget({ requestsPer5s: 400 }).maxInFlight).toBe(80);
  });

  it('serves queued requests by priority: first-wave before verify before routine before background', async () => {
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1 });
    const log: string[] = [];
    const blocker = await budget.acquire('x', 'routine', FAR);
    const waiting = [
      queue(budget, 'a', 'background', log),
      queue(budget, 'b', 'routine', log),
      queue(budget, 'c', 'verify', log),
      queue(budget, 'd', 'first-wave', log),
    ];
    budget.release(blocker);
    await Promise.all(waiting);
    expect(log).toEqual(['d:first-wave', 'c:verify', 'b:routine', 'a:background']);
  });

  it("serves accounts round-robin within a priority: one account's backlog does not delay another's", async () => {
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1 });
    const log: string[] = [];
    const blocker = await budget.acquire('x', 'verify', FAR);
    const waiting = [1, 2, 3, 4, 5].map(() => queue(budget, 'busy', 'verify', log));
    waiting.push(queue(budget, 'quiet', 'verify', log));
    budget.release(blocker);
    await Promise.all(waiting);
    expect(log.indexOf('quiet:verify')).toBe(1);
    expect(log).toHaveLength(6);
  });

  it('fails every queued request at once with the refusal, and every later one: still refused 9 min 59 s after the 403, free at 10 min', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 2, maxInFlight: 2, ...time });
    await budget.acquire('a', 'first-wave', FAR);
    await budget.acquire('b', 'first-wave', FAR);
    const queued = [budget.acquire('a', 'verify', FAR), budget.acquire('c', 'routine', FAR)];
    const ban = new IpRateLimitBanError('cancel-all');
    budget.refuse(ban);
    for (const waiter of queued) await expect(waiter).rejects.toBe(ban);
    await expect(budget.acquire('d', 'first-wave', FAR)).rejects.toBe(ban);
    await time.advance(BYBIT_BAN_MS - 1000);
    expect(budget.refused).toBe(ban);
    await expect(budget.acquire('d', 'first-wave', FAR)).rejects.toBe(ban);
    await time.advance(1000);
    expect(budget.refused).toBeUndefined();
  });

  it('fails a queued request whose deadline comes before a unit frees', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...time });
    const ticket = await budget.acquire('a', 'routine', FAR);
    budget.release(ticket);
    const late = budget.acquire('b', 'routine', START + 1000);
    const outcome = late.then(
      () => 'granted',
      (error) => error,
    );
    await time.advance(2000);
    expect(await outcome).toBeInstanceOf(DeadlineExceededError);
  });
});

type Reply = { status: number; body: string };

/** Clients on one budget, against a scripted exchange that counts what it was sent. */
function fleet(replies: Reply[], clients = 2) {
  const sent: string[] = [];
  const fetch = async (url: string | URL | Request) => {
    sent.push(String(url));
    const reply = replies.shift() ?? {
      status: 200,
      body: JSON.stringify({
        retCode: 0,
        retMsg: 'OK',
        result: { list: [], nextPageCursor: '' },
        time: START,
      }),
    };
    return new Response(reply.body, { status: reply.status });
  };
  const ipBudget = new IpBudget({ requestsPer5s: 100 });
  const make = (i: number) =>
    new BybitClient({
      credentials: { apiKey: `KEY${i}`, apiSecret: 'secret' },
      baseUrl: 'http://exchange.test',
      transport: fetch as typeof globalThis.fetch,
      ipBudget,
      random: () => 0.5,
    });
  return { clients: Array.from({ length: clients }, (_, i) => make(i)), sent, ipBudget };
}

const scope = { category: 'linear', settleCoin: 'USDT' } as const;

describe('BybitClient behind the IP budget', () => {
  it('stops every client of the budget after a 403 "access too frequent", with the ban named', async () => {
    const { clients, sent } = fleet([{ status: 403, body: '403 Forbidden: access too frequent' }]);
    const [first, second] = clients as [BybitClient, BybitClient];
    const error = await first.cancelAll(scope).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpRateLimitBanError);
    expect((error as Error).message).toBe(
      'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying',
    );
    await expect(second.openOrders(scope)).rejects.toBeInstanceOf(IpRateLimitBanError);
    await expect(second.serverTime()).rejects.toBeInstanceOf(IpRateLimitBanError);
    expect(sent).toHaveLength(1);
  });

  it('tells a blocked region from the ban, and does not retry it either', async () => {
    const body =
      '<html><body>The Amazon CloudFront distribution is configured to block access from your country.</body></html>';
    const { clients, sent } = fleet([{ status: 403, body }]);
    const error = await (clients[0] as BybitClient).cancelAll(scope).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpBlockedRegionError);
    expect((error as Error).message).toMatch(/HTTP 403, blocked region/);
    expect(sent).toHaveLength(1);
  });

  it("takes a 403 without Bybit's documented text for a refused request, not the ban: the budget stays open", async () => {
    // A firewall page in front of the API, refusing one request's content (the review's L7).
    const blocked = '<html><h1>403 ERROR</h1>Request blocked. Generated by cloudfront (CloudFront)</html>';
    for (const body of ['', 'Forbidden', blocked]) {
      const { clients, ipBudget, sent } = fleet([{ status: 403, body }]);
      const error = await (clients[0] as BybitClient).cancelAll(scope).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(IpRefusedError);
      expect(error).toMatchObject({ name: 'ExchangeUnavailableError', httpStatus: 403 });
      // Refused once, not retried, and the IP not closed: the next request of any client goes out.
      expect(sent).toHaveLength(1);
      expect(ipBudget.refused).toBeUndefined();
      await expect((clients[1] as BybitClient).openOrders(scope)).resolves.toMatchObject({ list: [] });
      expect(sent).toHaveLength(2);
    }
  });

  it('gives back a unit handed over just as a 403 lands: nothing is sent, and after the hold the budget grants again', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 10, maxInFlight: 1, ...time });
    const sent: string[] = [];
    const client = new BybitClient({
      credentials: { apiKey: 'KEY', apiSecret: 'secret' },
      baseUrl: 'http://exchange.test',
      transport: (async (url: string) => {
        sent.push(url);
        return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result: { timeNano: '1' }, time: 1 }));
      }) as unknown as typeof globalThis.fetch,
      ipBudget: budget,
      now: time.now,
      sleep: time.sleep,
    });
    const held = await budget.acquire('other account', 'routine', FAR);
    const caught = client.serverTime().catch((e: unknown) => e);
    await time.advance(0);
    // The only socket frees and goes to the queued request; a 403 lands before that request resumes.
    budget.release(held);
    const ban = new IpRateLimitBanError('cancel-all');
    budget.refuse(ban);
    expect(await caught).toBe(ban);
    await time.advance(BYBIT_BAN_MS);
    const after = outcomeOf(client.serverTime());
    await time.advance(60_000);
    expect(await after).toBe('granted');
    expect(sent).toHaveLength(1);
  });

  it('counts unsigned requests (the clock) against the budget too', async () => {
    const { clients, ipBudget } = fleet([]);
    await (clients[0] as BybitClient).serverTime();
    await (clients[1] as BybitClient).openOrders(scope);
    expect(ipBudget.sent).toBe(2);
  });
});

/** A virtual clock that also counts the wake-ups the budget asks for. */
function countedTime() {
  const time = virtualTime();
  const sleeps: number[] = [];
  return {
    time,
    sleeps,
    now: time.now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      return time.sleep(ms);
    },
  };
}

const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'granted',
    (error: unknown) => error,
  );

describe('IpBudget, queue and window details', () => {
  it('keeps the priority order after an account has been served: a later verify still goes before routine', async () => {
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1 });
    const log: string[] = [];
    const blocker = await budget.acquire('x', 'routine', FAR);
    const first = budget.acquire('a', 'verify', FAR);
    budget.release(blocker);
    const held = await first;
    const waiting = [queue(budget, 'c', 'routine', log), queue(budget, 'b', 'verify', log)];
    budget.release(held);
    await Promise.all(waiting);
    expect(log).toEqual(['b:verify', 'c:routine']);
  });

  it('keeps the priority order after a queued account has timed out', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1, ...time });
    const log: string[] = [];
    const blocker = await budget.acquire('x', 'routine', FAR);
    const late = outcomeOf(budget.acquire('a', 'verify', START + 1000));
    await time.advance(2000);
    expect(await late).toBeInstanceOf(DeadlineExceededError);
    const waiting = [queue(budget, 'c', 'routine', log), queue(budget, 'b', 'verify', log)];
    budget.release(blocker);
    await Promise.all(waiting);
    expect(log).toEqual(['b:verify', 'c:routine']);
  });

  it('fails a queued request at its deadline on real timers when no sleep is injected', async () => {
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1 });
    await budget.acquire('a', 'routine', FAR);
    const error = await budget.acquire('b', 'routine', Date.now() + 40).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  }, 2000);

  it('frees one socket only when a ticket is released twice', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 2, ...time });
    const a = await budget.acquire('a', 'routine', FAR);
    await budget.acquire('b', 'routine', FAR);
    budget.release(a);
    budget.release(a);
    let granted = 0;
    for (const owner of ['c', 'd']) void budget.acquire(owner, 'routine', FAR).then(() => granted++);
    await time.advance(0);
    expect(granted).toBe(1);
  });

  it('keeps the first refusal and its hold when a request already in flight answers 403 later', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 10, ...time });
    const first = new IpRateLimitBanError('cancel-all');
    budget.refuse(first);
    await time.advance(60_000);
    budget.refuse(new IpRateLimitBanError('open-orders'));
    await expect(budget.acquire('a', 'first-wave', FAR)).rejects.toBe(first);
    await time.advance(BYBIT_BAN_MS - 60_000);
    expect(budget.refused).toBeUndefined();
  });

  it('grants a window-bound waiter the moment a unit frees (one window plus 50 ms after the answer)', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...time });
    budget.release(await budget.acquire('a', 'routine', FAR));
    let granted = false;
    void budget.acquire('b', 'routine', FAR).then(() => {
      granted = true;
    });
    await time.advance(BYBIT_IP_WINDOW_MS + 49);
    expect(granted).toBe(false);
    await time.advance(1);
    expect(granted).toBe(true);
  });

  it('wakes a window-bound waiter when the oldest unit frees, not the newest', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 2, maxInFlight: 2, ...time });
    budget.release(await budget.acquire('a', 'routine', FAR));
    await time.advance(1000);
    budget.release(await budget.acquire('b', 'routine', FAR));
    let granted = false;
    void budget.acquire('c', 'routine', FAR).then(() => {
      granted = true;
    });
    await time.advance(BYBIT_IP_WINDOW_MS + 50 - 1000);
    expect(granted).toBe(true);
  });

  it('fails a queued request before its deadline passes, naming the IP budget', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...time });
    await budget.acquire('a', 'routine', FAR);
    const late = outcomeOf(budget.acquire('b', 'routine', START + 1000));
    let settled = false;
    void late.then(() => {
      settled = true;
    });
    await time.advance(1000);
    expect(settled).toBe(true);
    const error = await late;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).endpoint).toBe('IP budget (queued)');
  });

  it('still sends a request that has 25 ms left', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, ...time });
    await expect(budget.acquire('a', 'first-wave', START + 25)).resolves.toEqual({ released: false });
  });

  it('sets no timer when nobody waits, even with the window full', async () => {
    const clock = countedTime();
    const budget = new IpBudget({ requestsPer5s: 2, maxInFlight: 2, ...clock });
    const a = await budget.acquire('a', 'routine', FAR);
    const b = await budget.acquire('b', 'routine', FAR);
    budget.release(a);
    budget.release(b);
    expect(clock.sleeps).toEqual([]);
  });

  it('keeps one wake-up for many waiters on the same window, not one each', async () => {
    const clock = countedTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...clock });
    budget.release(await budget.acquire('a', 'routine', FAR));
    const granted: IpTicket[] = [];
    for (let i = 0; i < 50; i++) void budget.acquire(`w${i}`, 'routine', FAR).then((t) => granted.push(t));
    await clock.time.advance(0);
    expect(clock.sleeps).toHaveLength(1);
    await clock.time.advance(BYBIT_IP_WINDOW_MS + 50);
    expect(granted).toHaveLength(1);
  });
});
