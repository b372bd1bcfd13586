import { describe, expect, it } from 'vitest';
import { IpBudget, type IpTicket } from '../../lib/bybit/ip-budget.ts';
import { DeadlineExceededError, IpRateLimitBanError } from '../../lib/errors.ts';
import { virtualTime as virtualClock } from '../support/virtual-time.ts';

const START = 1_700_000_000_000;
const FAR = START + 600_000;

const virtualTime = () => virtualClock(START);

/** A clock the test sets by hand; the budget's wake-ups never fire, so only its own pumps act. */
function handClock() {
  let clock = START;
  return {
    now: () => clock,
    sleep: () => new Promise<void>(() => undefined),
    set(at: number) {
      clock = at;
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records how a waiter ended: its ticket, or the error it failed with. */
function watch(promise: Promise<IpTicket>) {
  const state: { ticket?: IpTicket; error?: unknown } = {};
  promise.then(
    (ticket) => {
      state.ticket = ticket;
    },
    (error: unknown) => {
      state.error = error;
    },
  );
  return state;
}

describe('IpBudget, queued requests that outlive a timed-out neighbour', () => {
  it('keeps serving the waiters whose deadline has not come when another in their priority times out', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1, ...time });
    const blocker = await budget.acquire('x', 'routine', FAR);
    const early = watch(budget.acquire('a', 'routine', START + 1000));
    const patient = watch(budget.acquire('b', 'routine', FAR));
    const sameAccount = watch(budget.acquire('a', 'routine', FAR));
    await time.advance(2000);
    expect(early.error).toBeInstanceOf(DeadlineExceededError);
    expect(patient).toEqual({});
    expect(sameAccount).toEqual({});
    budget.release(blocker);
    await time.advance(0);
    // Account 'a' keeps its turn with its next request; 'b' follows.
    expect(sameAccount.ticket).toEqual({ released: false });
    expect(patient).toEqual({});
    budget.release(sameAccount.ticket as IpTicket);
    await time.advance(0);
    expect(patient.ticket).toEqual({ released: false });
  });

  it('still fails the next queued deadline after an earlier waiter of the same priority timed out', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1, ...time });
    await budget.acquire('x', 'routine', FAR);
    const first = watch(budget.acquire('a', 'routine', START + 1000));
    const second = watch(budget.acquire('b', 'routine', START + 3000));
    const last = watch(budget.acquire('c', 'routine', FAR));
    await time.advance(2000);
    expect(first.error).toBeInstanceOf(DeadlineExceededError);
    expect(second).toEqual({});
    await time.advance(1000);
    expect(second.error).toBeInstanceOf(DeadlineExceededError);
    expect(last).toEqual({});
  });

  it('grants a queued request that has exactly 25 ms left when a unit frees', async () => {
    const clock = handClock();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1, ...clock });
    const blocker = await budget.acquire('x', 'routine', FAR);
    const soon = watch(budget.acquire('a', 'routine', START + 990));
    const edge = watch(budget.acquire('b', 'routine', START + 1000));
    clock.set(START + 960);
    budget.release(blocker);
    await settle();
    expect(soon.ticket).toEqual({ released: false });
    // 'a' was served, so the lane may still think a deadline 15 ms away is queued: it looks, and finds
    // 'b' with 25 ms left, enough to send.
    clock.set(START + 975);
    budget.release(soon.ticket as IpTicket);
    await settle();
    expect(edge.ticket).toEqual({ released: false });
  });
});

describe('IpBudget, units given back unsent', () => {
  it('hands a socket given back to the next waiter at once', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 1, ...time });
    const held = await budget.acquire('a', 'routine', FAR);
    const waiting = watch(budget.acquire('b', 'routine', FAR));
    await time.advance(0);
    expect(waiting).toEqual({});
    budget.giveBack(held);
    await time.advance(0);
    expect(waiting.ticket).toEqual({ released: false });
  });

  it('takes a unit back once when it is given back twice, or given back and then released', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 100, maxInFlight: 2, ...time });
    const a = await budget.acquire('a', 'routine', FAR);
    await budget.acquire('b', 'routine', FAR);
    expect(budget.sent).toBe(2);
    budget.giveBack(a);
    budget.giveBack(a);
    budget.release(a);
    expect(budget.sent).toBe(1);
    let granted = 0;
    for (const owner of ['c', 'd']) void budget.acquire(owner, 'routine', FAR).then(() => granted++);
    await time.advance(0);
    expect(granted).toBe(1);
    expect(budget.sent).toBe(2);
  });
});

describe('IpBudget metrics', () => {
  it('counts as a wait only the request that had to queue for a unit', async () => {
    const time = virtualTime();
    const budget = new IpBudget({ requestsPer5s: 1, maxInFlight: 1, ...time });
    const ticket = await budget.acquire('a', 'routine', FAR);
    expect(budget.waits).toBe(0);
    const queued = watch(budget.acquire('b', 'routine', FAR));
    expect(budget.waits).toBe(1);
    budget.release(ticket);
    await time.advance(6000);
    expect(queued.ticket).toEqual({ released: false });
    expect(budget.waits).toBe(1);
  });

  it('counts a 403 that starts a hold once, not the later 403s of requests already in flight', () => {
    const budget = new IpBudget({ requestsPer5s: 10, now: () => START });
    expect(budget.refusals).toBe(0);
    budget.refuse(new IpRateLimitBanError('cancel-all'));
    expect(budget.refusals).toBe(1);
    budget.refuse(new IpRateLimitBanError('open-orders'));
    expect(budget.refusals).toBe(1);
  });
});
