// The kill switch's report on an in-memory exchange: what it counts, what it names, and when it fails.
// The emulator runs (test/integration) show it clears real books; these pin the report's arithmetic.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { OpenOrder, OpenOrdersParams } from '../../lib/bybit/types.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { type KillSwitchReport, killSwitch } from '../../lib/cancel/kill-switch.ts';
import { type Coverage, listingOf, type Scope } from '../../lib/cancel/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import { BybitApiError, type IncompleteCancelError } from '../../lib/errors.ts';

interface BookOrder extends OpenOrder {
  listing: string;
}

const listingKey = (p: OpenOrdersParams) =>
  JSON.stringify([p.category, p.symbol, p.baseCoin, p.settleCoin, p.orderFilter]);

/** One account's book: cancel-all removes what its scope lists, except orders marked stuck. */
function book(orders: { scope: Scope; count: number; stuck?: number }[], refuse?: BybitApiError) {
  let n = 0;
  const open: BookOrder[] = orders.flatMap(({ scope, count, stuck = 0 }) =>
    Array.from({ length: count }, (_, i) => ({
      orderId: `o${n++}`,
      orderLinkId: i < stuck ? 'stuck' : '',
      symbol: 'BTCUSDT',
      orderStatus: 'New',
      createdTime: '0',
      listing: listingKey(listingOf(scope)),
    })),
  );
  const client = {
    async cancelAll(scope: Scope) {
      if (refuse) throw refuse;
      const key = listingKey(listingOf(scope));
      const gone = open.filter((o) => o.listing === key && o.orderLinkId !== 'stuck');
      for (const o of gone) open.splice(open.indexOf(o), 1);
      return gone.map(({ orderId, orderLinkId }) => ({ orderId, orderLinkId }));
    },
    async openOrders(params: OpenOrdersParams) {
      const key = listingKey(params);
      return { category: params.category, list: open.filter((o) => o.listing === key), nextPageCursor: '' };
    },
  } as unknown as BybitClient;
  return { client, open };
}

function exchangeOf(accounts: Record<string, BybitClient>) {
  const ran: string[] = [];
  const exchange = {
    accountNames: async () => Object.keys(accounts),
    withAccount: async <T>(name: string, work: (c: BybitClient, n: string) => Promise<T>) => {
      ran.push(name);
      return work(accounts[name] as BybitClient, name);
    },
  } as unknown as Exchange;
  return { exchange, ran };
}

const COVERAGE: Coverage = {
  categories: ['linear', 'option'],
  linearSettleCoins: ['USDT'],
  inverseCoins: [],
};
const USDT: Scope = { category: 'linear', settleCoin: 'USDT' };
const OPTION: Scope = { category: 'option' };

/** A clock that moves 7 ms on every reading and sleeps in no time. */
function ticking(): Clock {
  let time = 1_000_000;
  return {
    now: () => {
      time += 7;
      return time;
    },
    sleep: async (ms) => {
      time += ms;
    },
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the kill switch to fail');
    },
    (error: IncompleteCancelError) => error,
  );

describe('killSwitch', () => {
  it('reports every account and scope, the totals and the reason when everything clears', async () => {
    const main = book([
      { scope: USDT, count: 3 },
      { scope: OPTION, count: 2 },
    ]);
    const hedge = book([{ scope: USDT, count: 4 }]);
    const { exchange } = exchangeOf({ main: main.client, hedge: hedge.client });
    const clock = ticking();
    const report = await killSwitch(exchange, COVERAGE, { reason: 'drawdown' }, 10_000_000, clock);
    expect(report).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      reason: 'drawdown',
      accounts: ['main', 'hedge'],
      cancelled: 9,
      remaining: 0,
      failedScopes: [],
    });
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 3, remaining: 0, verified: true },
      { account: 'main', scope: 'option', cancelled: 2, remaining: 0, verified: true },
      { account: 'hedge', scope: 'linear settleCoin=USDT', cancelled: 4, remaining: 0, verified: true },
      { account: 'hedge', scope: 'option', cancelled: 0, remaining: 0, verified: true },
    ]);
    // Seven milliseconds a clock reading: the run took a handful of readings, not an epoch.
    expect(report.durationMs).toBeGreaterThan(0);
    expect(report.durationMs).toBeLessThan(10_000);
  });

  it('fails naming the scope still holding orders, with up to 20 of them, after clearing the rest', async () => {
    const main = book([
      { scope: USDT, count: 30, stuck: 25 },
      { scope: OPTION, count: 2 },
    ]);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = error.report as unknown as KillSwitchReport;
    expect(report).toMatchObject({
      ok: false,
      cancelled: 7,
      remaining: 25,
      failedScopes: ['main: linear settleCoin=USDT'],
    });
    const usdt = report.scopes[0];
    expect(usdt?.remainingOrders).toHaveLength(20);
    expect(usdt?.remainingOrders?.[0]).toEqual({ symbol: 'BTCUSDT', orderId: 'o0', orderLinkId: 'stuck' });
    expect(usdt?.error).toBeUndefined();
    expect(report.scopes[1]).not.toHaveProperty('remainingOrders');
    expect(error.message).toContain('at least 25 order(s) still open; failed: main: linear settleCoin=USDT');
  });

  it('reports an account it does not know, and still clears the ones it knows', async () => {
    const main = book([{ scope: USDT, count: 2 }]);
    const { exchange, ran } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(
      killSwitch(exchange, COVERAGE, { accounts: ['main', 'ghost'] }, clock.now() + 5_000, clock),
    );
    expect(ran).toEqual(['main']);
    expect(main.open).toEqual([]);
    const report = error.report as unknown as KillSwitchReport;
    expect(report.failedScopes).toEqual(['ghost: *']);
    expect(report.scopes.at(-1)).toEqual({
      account: 'ghost',
      scope: '*',
      cancelled: 0,
      remaining: 0,
      verified: false,
      error: { errorType: 'UnknownAccount', errorMessage: 'no account "ghost" in the secret' },
    });
    expect(error.message).toContain('reasons: ghost: *: no account "ghost" in the secret');
  });

  it('fails the whole account at once on a refused key, so that the exchange can re-read the secret', async () => {
    const refused = new BybitApiError('cancel-all', 10003, 'API key is invalid.', 'credentials');
    const main = book([{ scope: USDT, count: 2 }], refused);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = error.report as unknown as KillSwitchReport;
    expect(report.scopes).toEqual([
      {
        account: 'main',
        scope: '*',
        cancelled: 0,
        remaining: 0,
        verified: false,
        error: expect.objectContaining({ errorType: 'BybitApiError', retCode: 10003 }),
      },
    ]);
  });

  it('keeps a rejected scope in its own report, next to the scopes that cleared', async () => {
    const rejected = new BybitApiError('cancel-all', 10001, 'params error', 'rejected');
    const main = book([{ scope: USDT, count: 2 }]);
    const base = main.client as unknown as Record<string, (scope: Scope) => Promise<unknown>>;
    const cancelAll = base.cancelAll?.bind(base) as (scope: Scope) => Promise<unknown>;
    base.cancelAll = async (scope: Scope) => {
      if (scope.category === 'option') throw rejected;
      return cancelAll(scope);
    };
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = error.report as unknown as KillSwitchReport;
    expect(report.failedScopes).toEqual(['main: option']);
    expect(report.scopes[0]).toMatchObject({ scope: 'linear settleCoin=USDT', cancelled: 2, verified: true });
    expect(report.scopes[1]).toMatchObject({ scope: 'option', verified: false, error: { retCode: 10001 } });
    // An unverified scope adds nothing to the remaining count: it is named instead.
    expect(report.remaining).toBe(0);
  });

  it('narrows to the categories asked for', async () => {
    const main = book([
      { scope: USDT, count: 2 },
      { scope: OPTION, count: 1 },
    ]);
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(exchange, COVERAGE, { categories: ['option'] }, 10_000_000, ticking());
    expect(report.scopes.map((s) => s.scope)).toEqual(['option']);
    expect(main.open).toHaveLength(2);
  });
});
