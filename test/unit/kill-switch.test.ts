// The kill switch's report on an in-memory exchange: what it counts, what it names, and when it fails.
// The emulator runs (test/integration) show it clears real books; these pin the report's arithmetic, the
// widest listings it verifies with, and the settle coins it discovers.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type {
  CancelAllParams,
  CancelBatchParams,
  Category,
  InstrumentsParams,
  OpenOrder,
  OpenOrdersParams,
  Strategy,
} from '../../lib/bybit/types.ts';
import { SettleCoinDiscovery } from '../../lib/cancel/coverage.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { type KillSwitchReport, killSwitch, stragglerCalls } from '../../lib/cancel/kill-switch.ts';
import { type Coverage, scopeLabel, spotKindOf } from '../../lib/cancel/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import {
  BybitApiError,
  ExchangeUnavailableError,
  type IncompleteCancelError,
  SecretError,
} from '../../lib/errors.ts';

interface BookOrder extends OpenOrder {
  category: Category;
  settleCoin?: string;
  baseCoin?: string;
}

interface Placed {
  category: Category;
  count: number;
  settleCoin?: string;
  baseCoin?: string;
  symbol?: string;
  stopOrderType?: string;
  orderStatus?: string;
  /** How many of them no cancel removes. */
  stuck?: number;
}

/** A linear instrument as instruments-info lists it. */
const instrument = (symbol: string, settleCoin: string, curAuctionPhase?: string) => ({
  symbol,
  status: curAuctionPhase ? 'PreLaunch' : 'Trading',
  baseCoin: symbol.replace(settleCoin, ''),
  settleCoin,
  ...(curAuctionPhase ? { preListingInfo: { curAuctionPhase } } : {}),
});

interface Market {
  trading?: ReturnType<typeof instrument>[];
  preLaunch?: ReturnType<typeof instrument>[];
  /** instruments-info fails. */
  down?: Error;
}

/**
 * One account's book, cancelled and listed the way Bybit documents: a cancel-all removes what its selectors
 * match (spot one kind at a time, `Order` when none is named), a listing with no selector shows every coin
 * and kind. Orders marked stuck survive every cancel.
 */
function book(placed: Placed[], market: Market = { trading: [instrument('BTCUSDT', 'USDT')] }) {
  let n = 0;
  const open: BookOrder[] = placed.flatMap((p) =>
    Array.from({ length: p.count }, (_, i) => ({
      orderId: `o${n++}`,
      orderLinkId: i < (p.stuck ?? 0) ? 'stuck' : '',
      symbol: p.symbol ?? (p.category === 'linear' ? `BTC${p.settleCoin}` : `${p.baseCoin ?? 'BTC'}USD`),
      orderStatus: p.orderStatus ?? 'New',
      stopOrderType: p.stopOrderType ?? '',
      createdTime: '0',
      category: p.category,
      settleCoin: p.settleCoin,
      baseCoin: p.baseCoin,
    })),
  );
  const calls: { method: string; params: unknown }[] = [];
  /** Strategies that can still trade; a stop ends one. */
  const strategies: Strategy[] = [];
  const matches = (o: BookOrder, p: OpenOrdersParams | CancelAllParams, kindWhenNone?: string) =>
    o.category === p.category &&
    (!p.settleCoin || o.settleCoin === p.settleCoin) &&
    (!p.baseCoin || o.baseCoin === p.baseCoin) &&
    (!p.symbol || o.symbol === p.symbol) &&
    (p.category !== 'spot' ||
      !(p.orderFilter ?? kindWhenNone) ||
      spotKindOf(o) === (p.orderFilter ?? kindWhenNone));
  const remove = (gone: BookOrder[]) => {
    for (const o of gone) open.splice(open.indexOf(o), 1);
    return gone;
  };
  const client = {
    async cancelAll(params: CancelAllParams) {
      calls.push({ method: 'cancelAll', params });
      const gone = remove(open.filter((o) => matches(o, params, 'Order') && o.orderLinkId !== 'stuck'));
      return gone.map(({ orderId, orderLinkId }) => ({ orderId, orderLinkId }));
    },
    async cancelBatch(params: CancelBatchParams) {
      calls.push({ method: 'cancelBatch', params });
      return params.request.map(({ symbol, orderId }) => {
        const order = open.find((o) => o.orderId === orderId && o.orderLinkId !== 'stuck');
        if (order) remove([order]);
        return order
          ? { orderId, orderLinkId: '', symbol, code: 0, msg: 'OK' }
          : { orderId: orderId ?? '', orderLinkId: '', symbol, code: 110001, msg: 'order not exists' };
      });
    },
    async openOrders(params: OpenOrdersParams) {
      calls.push({ method: 'openOrders', params });
      const list = open
        .filter((o) => matches(o, params))
        .map(({ category, settleCoin, baseCoin, ...o }) => o);
      return { category: params.category, list, nextPageCursor: '' };
    },
    async strategies(params: unknown) {
      calls.push({ method: 'strategies', params });
      return { list: [...strategies], nextCursor: '' };
    },
    async stopStrategy(strategyId: string) {
      calls.push({ method: 'stopStrategy', params: strategyId });
      strategies.splice(
        strategies.findIndex((s) => s.strategyId === strategyId),
        1,
      );
      return { strategyId };
    },
    async instrumentsInfo(params: InstrumentsParams) {
      calls.push({ method: 'instrumentsInfo', params });
      if (market.down) throw market.down;
      const list = params.status === 'PreLaunch' ? (market.preLaunch ?? []) : (market.trading ?? []);
      return { list, nextPageCursor: '' };
    },
  } as unknown as BybitClient;
  return { client, open, calls, strategies };
}

function exchangeOf(accounts: Record<string, BybitClient>, rotated: Record<string, BybitClient> = {}) {
  const ran: string[] = [];
  const rotations: string[] = [];
  const exchange = {
    discovery: new SettleCoinDiscovery({ now: () => 0 }),
    accountNames: async () => Object.keys(accounts),
    anyClient: async () => Object.values(accounts)[0],
    withAccount: async <T>(name: string, work: (c: BybitClient, n: string) => Promise<T>) => {
      ran.push(name);
      return work(accounts[name] as BybitClient, name);
    },
    rotated: async (name: string) => {
      rotations.push(name);
      return rotated[name];
    },
  } as unknown as Exchange;
  return { exchange, ran, rotations };
}

const COVERAGE: Coverage = {
  categories: ['linear', 'option'],
  linearSettleCoins: ['USDT'],
  inverseCoins: [],
};

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
const reportOf = (error: IncompleteCancelError) => error.report as unknown as KillSwitchReport;

describe('killSwitch', () => {
  it('reports every account and widest listing, the totals, the coverage and the reason when everything clears', async () => {
    const main = book([
      { category: 'linear', settleCoin: 'USDT', count: 3 },
      { category: 'option', count: 2 },
    ]);
    const hedge = book([{ category: 'linear', settleCoin: 'USDT', count: 4 }]);
    const { exchange } = exchangeOf({ main: main.client, hedge: hedge.client });
    const clock = ticking();
    const report = await killSwitch(
      exchange,
      COVERAGE,
      { reason: 'drawdown', origin: 'deadMansSwitch', ignored: ['symbol'] },
      10_000_000,
      clock,
    );
    expect(report).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      reason: 'drawdown',
      origin: 'deadMansSwitch',
      ignored: ['symbol'],
      accounts: ['main', 'hedge'],
      cancelled: 9,
      remaining: 0,
      failedScopes: [],
      uncancellable: [],
      coverage: {
        categories: ['linear', 'option'],
        linearSettleCoins: ['USDT'],
        discovered: [],
        preMarketSymbols: [],
        confirmed: true,
      },
    });
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 3, remaining: 0, verified: true },
      { account: 'main', scope: 'option', cancelled: 2, remaining: 0, verified: true },
      { account: 'hedge', scope: 'linear settleCoin=USDT', cancelled: 4, remaining: 0, verified: true },
      { account: 'hedge', scope: 'option', cancelled: 0, remaining: 0, verified: true },
    ]);
    expect(main.open).toEqual([]);
    expect(hedge.open).toEqual([]);
    // Seven milliseconds a clock reading: the run took a handful of readings, not an epoch.
    expect(report.durationMs).toBeGreaterThan(0);
    expect(report.durationMs).toBeLessThan(10_000);
  });

  it('verifies spot and inverse with unfiltered listings, and cancels what the configuration missed', async () => {
    const main = book([
      { category: 'inverse', baseCoin: 'BTC', count: 2 },
      // A coin the configuration does not name: only the unfiltered inverse listing shows it.
      { category: 'inverse', baseCoin: 'ETH', count: 3 },
      { category: 'spot', symbol: 'BTCUSDT', count: 2 },
      { category: 'spot', symbol: 'BTCUSDT', stopOrderType: 'tpslOrder', count: 1 },
    ]);
    const { exchange } = exchangeOf({ main: main.client });
    const coverage: Coverage = {
      categories: ['inverse', 'spot'],
      linearSettleCoins: [],
      inverseCoins: ['BTC'],
    };
    const report = await killSwitch(exchange, coverage, {}, 10_000_000, ticking());
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'inverse', cancelled: 5, remaining: 0, verified: true },
      { account: 'main', scope: 'spot', cancelled: 3, remaining: 0, verified: true },
    ]);
    expect(main.open).toEqual([]);
    const listings = main.calls.filter((c) => c.method === 'openOrders').map((c) => c.params);
    for (const listing of listings as OpenOrdersParams[]) {
      expect(listing.baseCoin).toBeUndefined();
      expect(listing.orderFilter).toBeUndefined();
    }
    // The ETH orders went by symbol, in one cancel-all, not one by one.
    expect(main.calls).toContainEqual({
      method: 'cancelAll',
      params: { category: 'inverse', symbol: 'ETHUSD' },
    });
    expect(main.calls.some((c) => c.method === 'cancelBatch')).toBe(false);
    // Without linear there is nothing to discover.
    expect(main.calls.some((c) => c.method === 'instrumentsInfo')).toBe(false);
    expect(report.coverage.confirmed).toBe(true);
  });

  it('cancels and verifies the linear settle coins the exchange lists but the configuration does not name', async () => {
    const main = book(
      [
        { category: 'linear', settleCoin: 'USDT', count: 1 },
        { category: 'linear', settleCoin: 'USDC', count: 2 },
      ],
      { trading: [instrument('BTCUSDT', 'USDT'), instrument('BTCUSDC', 'USDC')] },
    );
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(exchange, COVERAGE, {}, 10_000_000, ticking());
    expect(report.ok).toBe(true);
    expect(report.coverage).toMatchObject({
      linearSettleCoins: ['USDT', 'USDC'],
      discovered: ['USDC'],
      confirmed: true,
    });
    expect(report.scopes.map((s) => [s.scope, s.cancelled])).toEqual([
      ['linear settleCoin=USDT', 1],
      ['option', 0],
      ['linear settleCoin=USDC', 2],
    ]);
    expect(main.open).toEqual([]);
  });

  it('fails on coverage the exchange did not confirm, after clearing the configured listings', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }], {
      down: new ExchangeUnavailableError('instruments', 3, 'HTTP 503'),
    });
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(main.open).toEqual([]);
    expect(report.scopes.every((s) => s.verified && s.remaining === 0)).toBe(true);
    expect(report.coverage).toMatchObject({ linearSettleCoins: ['USDT'], discovered: [], confirmed: false });
    expect(report.failedScopes).toEqual(['coverage: linear settle coins not confirmed by the exchange']);
    expect(error.message).toContain('coverage: instruments unavailable after 3 attempt(s): HTTP 503');
  });

  it('fails naming the listing still holding orders, with up to 20 of them, after clearing the rest', async () => {
    const main = book([
      { category: 'linear', settleCoin: 'USDT', count: 30, stuck: 25 },
      { category: 'option', count: 2 },
    ]);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(report).toMatchObject({
      ok: false,
      cancelled: 7,
      remaining: 25,
      failedScopes: ['main: linear settleCoin=USDT'],
      uncancellable: [],
    });
    const usdt = report.scopes[0];
    expect(usdt).toMatchObject({ scope: 'linear settleCoin=USDT', verified: true });
    expect(usdt?.remainingOrders).toHaveLength(20);
    expect(usdt?.remainingOrders?.[0]).toEqual({ symbol: 'BTCUSDT', orderId: 'o0', orderLinkId: 'stuck' });
    expect(usdt?.error).toBeUndefined();
    expect(report.scopes[1]).not.toHaveProperty('remainingOrders');
    // Stragglers of a settle coin go by one cancel-all of that coin, round after round.
    const stragglerCancels = main.calls.filter(
      (c) =>
        c.method === 'cancelAll' && JSON.stringify(c.params) === '{"category":"linear","settleCoin":"USDT"}',
    );
    expect(stragglerCancels.length).toBeGreaterThan(2);
    expect(error.message).toContain('at least 25 order(s) still open; failed: main: linear settleCoin=USDT');
  });

  it('names orders Bybit will not cancel now at once, instead of retrying them until the deadline', async () => {
    const main = book(
      [
        { category: 'spot', symbol: 'BTCUSDT', stopOrderType: 'BidirectionalTpslOrder', count: 1, stuck: 1 },
        { category: 'linear', settleCoin: 'USDT', symbol: 'NEWUSDT', count: 1, stuck: 1 },
      ],
      {
        trading: [instrument('BTCUSDT', 'USDT')],
        preLaunch: [instrument('NEWUSDT', 'USDT', 'CallAuctionNoCancel')],
      },
    );
    // Triggered: no longer cancellable.
    for (const o of main.open) if (o.category === 'spot') o.orderStatus = 'Triggered';
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const coverage: Coverage = {
      categories: ['linear', 'spot'],
      linearSettleCoins: ['USDT'],
      inverseCoins: [],
    };
    const error = await failure(killSwitch(exchange, coverage, {}, clock.now() + 60_000, clock));
    const report = reportOf(error);
    expect(report.uncancellable).toEqual([
      expect.objectContaining({
        account: 'main',
        category: 'linear',
        symbol: 'NEWUSDT',
        orderId: 'o1',
        why: expect.stringContaining('CallAuctionNoCancel'),
      }),
      expect.objectContaining({
        account: 'main',
        category: 'spot',
        symbol: 'BTCUSDT',
        orderId: 'o0',
        orderStatus: 'Triggered',
        why: expect.stringContaining('BidirectionalTpslOrder'),
      }),
    ]);
    expect(report.coverage.preMarketSymbols).toEqual(['NEWUSDT']);
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT', 'main: spot']);
    // Named, not retried until the deadline: the spot listing showed only such an order, so no cancel followed
    // it; the pre-market order is named once the phases are read (before the first wave's discovery has
    // settled, at the latest after one straggler cancel).
    const listings = main.calls
      .filter((c) => c.method === 'openOrders')
      .map((c) => c.params as OpenOrdersParams);
    expect(listings.filter((l) => l.category === 'spot')).toHaveLength(1);
    expect(listings.filter((l) => l.category === 'linear').length).toBeLessThanOrEqual(2);
    const spotCancels = main.calls.filter(
      (c) => c.method !== 'openOrders' && (c.params as { category: string }).category === 'spot',
    );
    expect(spotCancels).toHaveLength(5);
    expect(report.durationMs).toBeLessThan(1_000);
    expect(error.message).toContain('main: spot BTCUSDT o0: a triggered spot BidirectionalTpslOrder');
  });

  it('reports an account it does not know, and still clears the ones it knows', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const { exchange, ran } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(
      killSwitch(exchange, COVERAGE, { accounts: ['main', 'ghost'] }, clock.now() + 5_000, clock),
    );
    expect(ran).toEqual(['main']);
    expect(main.open).toEqual([]);
    const report = reportOf(error);
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

  it('fails every listing of an account whose key is refused when the secret holds no new key', async () => {
    const refused = new BybitApiError('open-orders', 10003, 'API key is invalid.', 'credentials');
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const listing = main.client.openOrders.bind(main.client);
    main.client.openOrders = async (params) => {
      if (params.category === 'linear') throw refused;
      return listing(params);
    };
    const { exchange, rotations } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(rotations).toEqual(['main']);
    expect(report.scopes[0]).toMatchObject({
      account: 'main',
      scope: 'linear settleCoin=USDT',
      verified: false,
      error: expect.objectContaining({ errorType: 'BybitApiError', retCode: 10003 }),
    });
    // The first wave's acknowledgements still count.
    expect(report.scopes[0]?.cancelled).toBe(2);
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT']);
  });

  it('runs the account once more with a rotated key, keeping what the refused key cancelled', async () => {
    const refused = new BybitApiError('open-orders', 10003, 'API key is invalid.', 'credentials');
    const old = book([
      { category: 'linear', settleCoin: 'USDT', count: 2 },
      { category: 'option', count: 1 },
    ]);
    old.client.openOrders = async () => {
      throw refused;
    };
    // The same account with its new key: one order the old key's cancel-all did not reach.
    const fresh = book([{ category: 'linear', settleCoin: 'USDT', count: 1 }]);
    const { exchange, rotations } = exchangeOf({ main: old.client }, { main: fresh.client });
    const report = await killSwitch(exchange, COVERAGE, {}, 10_000_000, ticking());
    expect(rotations).toEqual(['main']);
    expect(fresh.open).toEqual([]);
    expect(report.scopes).toEqual([
      // o0, o1 by the old key; o0 of the new book is acknowledged again under the same id.
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 2, remaining: 0, verified: true },
      { account: 'main', scope: 'option', cancelled: 1, remaining: 0, verified: true },
    ]);
  });

  it('keeps a listing that failed in its own report, next to the listings that cleared', async () => {
    const rejected = new BybitApiError('open-orders', 10001, 'params error', 'rejected');
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const listing = main.client.openOrders.bind(main.client);
    main.client.openOrders = async (params) => {
      if (params.category === 'option') throw rejected;
      return listing(params);
    };
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(report.failedScopes).toEqual(['main: option']);
    expect(report.scopes[0]).toMatchObject({ scope: 'linear settleCoin=USDT', cancelled: 2, verified: true });
    expect(report.scopes[1]).toMatchObject({ scope: 'option', verified: false, error: { retCode: 10001 } });
    // An unverified listing adds nothing to the remaining count: it is named instead.
    expect(report.remaining).toBe(0);
  });

  it('makes good a failed first-wave cancel-all: the listing shows the orders, a batch cancels them', async () => {
    const rejected = new BybitApiError('cancel-all', 10001, 'params error', 'rejected');
    const main = book([{ category: 'option', symbol: 'BTC-30DEC26-90000-C', count: 3 }]);
    const cancelAll = main.client.cancelAll.bind(main.client);
    main.client.cancelAll = async (params) => {
      if (params.category === 'option') throw rejected;
      return cancelAll(params);
    };
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(exchange, COVERAGE, {}, 10_000_000, ticking());
    expect(report.scopes[1]).toEqual({
      account: 'main',
      scope: 'option',
      cancelled: 3,
      remaining: 0,
      verified: true,
    });
    // Option allows one cancel-all a second: its stragglers go in one batch instead.
    expect(main.calls.filter((c) => c.method === 'cancelBatch')).toEqual([
      {
        method: 'cancelBatch',
        params: {
          category: 'option',
          request: ['o0', 'o1', 'o2'].map((orderId) => ({ symbol: 'BTC-30DEC26-90000-C', orderId })),
        },
      },
    ]);
  });

  it('narrows to the categories asked for', async () => {
    const main = book([
      { category: 'linear', settleCoin: 'USDT', count: 2 },
      { category: 'option', count: 1 },
    ]);
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(exchange, COVERAGE, { categories: ['option'] }, 10_000_000, ticking());
    expect(report.scopes.map((s) => s.scope)).toEqual(['option']);
    expect(main.open).toHaveLength(2);
    expect(main.open.every((o) => o.category === 'linear')).toBe(true);
  });
});

type Logged = { method: string; params: Record<string, unknown>; priority?: string };
type Call = { priority?: string; deadline?: number };

/**
 * Logs every call a book's client receives with its priority. `slow`: first-wave cancel-alls land a turn of
 * the event loop later (after the first-wave listings and discovery), as on a real exchange.
 */
function logged(b: ReturnType<typeof book>, slow = false) {
  const log: Logged[] = [];
  const c = b.client as unknown as Record<string, (p: unknown, call?: Call) => Promise<unknown>>;
  for (const method of ['cancelAll', 'cancelBatch', 'openOrders', 'instrumentsInfo']) {
    const inner = c[method]?.bind(c) as (p: unknown, call?: Call) => Promise<unknown>;
    c[method] = async (params, call) => {
      log.push({ method, params: params as Record<string, unknown>, priority: call?.priority });
      if (slow && method === 'cancelAll' && call?.priority === 'first-wave')
        await new Promise((r) => setImmediate(r));
      return inner(params, call);
    };
  }
  return log;
}

/** Replaces a client method: `answer` returns a value to use instead of the book's answer, or undefined. */
function intercept(
  b: ReturnType<typeof book>,
  method: 'cancelAll' | 'openOrders',
  answer: (params: Record<string, unknown>, call: Call | undefined, n: number) => unknown,
) {
  const c = b.client as unknown as Record<string, (p: unknown, call?: Call) => Promise<unknown>>;
  const inner = c[method]?.bind(c) as (p: unknown, call?: Call) => Promise<unknown>;
  let n = 0;
  c[method] = async (params, call) => {
    const instead = answer(params as Record<string, unknown>, call, n++);
    if (instead instanceof Error) throw instead;
    return instead === undefined ? inner(params, call) : instead;
  };
}

const cancelAlls = (log: Logged[]) =>
  log
    .filter((l) => l.method === 'cancelAll')
    .map((l) => `${scopeLabel(l.params as unknown as CancelAllParams)} ${l.priority}`)
    .sort();

/** A clock that stands still unless told to move; sleeping moves it. */
function frozen(at = 1_000_000) {
  const clock = {
    time: at,
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

/** Unfiltered inverse listings answer one order a page, with Bybit's cursor; a cursor it never gave is refused. */
function pagedInverse(b: ReturnType<typeof book>) {
  intercept(b, 'openOrders', (p) => {
    if (p.category !== 'inverse' || p.symbol || p.baseCoin) return undefined;
    const cursor = String(p.cursor ?? '');
    if (cursor && !/^c\d+$/.test(cursor)) return rejectedBy('open-orders');
    const at = cursor ? Number(cursor.slice(1)) : 0;
    const all = b.open.filter((o) => o.category === 'inverse');
    const list = all.slice(at, at + 1).map(({ category, settleCoin, baseCoin, ...o }) => o);
    return { category: 'inverse', list, nextPageCursor: at + 1 < all.length ? `c${at + 1}` : '' };
  });
}

const rejectedBy = (path: string) => new BybitApiError(path, 10001, 'params error', 'rejected');

describe('killSwitch: what it sends, and when', () => {
  it('sends the first wave as first-wave, cancels inverse coins the configuration missed at once, and verifies at verify priority', async () => {
    const main = book([
      { category: 'linear', settleCoin: 'USDT', count: 2 },
      { category: 'inverse', baseCoin: 'BTC', count: 1 },
      { category: 'inverse', baseCoin: 'ETH', count: 1 },
    ]);
    // The first-wave linear cancel-all is refused: the verification's straggler cancel makes it good.
    intercept(main, 'cancelAll', (p, call) =>
      p.category === 'linear' && call?.priority === 'first-wave' ? rejectedBy('cancel-all') : undefined,
    );
    const log = logged(main, true);
    const { exchange, rotations } = exchangeOf({ main: main.client });
    const coverage: Coverage = {
      categories: ['linear', 'inverse'],
      linearSettleCoins: ['USDT'],
      inverseCoins: ['BTC'],
    };
    const report = await killSwitch(exchange, coverage, {}, 10_000_000, ticking());
    expect(report.ok).toBe(true);
    expect(main.open).toEqual([]);
    expect(cancelAlls(log)).toEqual([
      'inverse baseCoin=BTC first-wave',
      // ETH is no configured coin: the first-wave inverse listing showed it, a cancel by symbol followed.
      'inverse symbol=ETHUSD first-wave',
      'linear settleCoin=USDT first-wave',
      'linear settleCoin=USDT verify',
    ]);
    const listings = log.filter((l) => l.method === 'openOrders');
    expect(listings.every((l) => l.priority === 'verify')).toBe(true);
    // The first-wave inverse listing, then two empty listings per verified listing (its own cancels were acknowledged).
    expect(listings.map((l) => l.params.category).sort()).toEqual([
      'inverse',
      'inverse',
      'inverse',
      'linear',
      'linear',
      'linear',
    ]);
    expect(report.scopes.map((s) => [s.scope, s.cancelled])).toEqual([
      ['linear settleCoin=USDT', 2],
      ['inverse', 2],
    ]);
    // Nothing was refused: the secret is not read again.
    expect(rotations).toEqual([]);
    // Discovery's two reads; an empty listing reads no auction phases.
    expect(log.filter((l) => l.method === 'instrumentsInfo')).toHaveLength(2);
  });

  it('pages the first-wave inverse listing while the first wave runs, from the first page', async () => {
    const main = book([
      { category: 'inverse', baseCoin: 'BTC', count: 1 },
      { category: 'inverse', baseCoin: 'ETH', count: 1 },
    ]);
    pagedInverse(main);
    const log = logged(main, true);
    const { exchange } = exchangeOf({ main: main.client });
    const coverage: Coverage = { categories: ['inverse'], linearSettleCoins: [], inverseCoins: ['BTC'] };
    const report = await killSwitch(exchange, coverage, {}, 10_000_000, ticking());
    expect(report.ok).toBe(true);
    expect(cancelAlls(log)).toEqual(['inverse baseCoin=BTC first-wave', 'inverse symbol=ETHUSD first-wave']);
    const cursors = log.filter((l) => l.method === 'openOrders').map((l) => l.params.cursor);
    // Two pages while the wave ran, then the verification's two empty listings (after acknowledged cancels).
    expect(cursors).toEqual(['', 'c1', '', '']);
  });

  it('stops paging the first-wave inverse listing once the first wave is back', async () => {
    const main = book([
      { category: 'inverse', baseCoin: 'BTC', count: 1 },
      { category: 'inverse', baseCoin: 'ETH', count: 1 },
    ]);
    pagedInverse(main);
    const log = logged(main);
    const { exchange } = exchangeOf({ main: main.client });
    // No inverse coin configured: no first wave to wait for.
    const coverage: Coverage = { categories: ['inverse'], linearSettleCoins: [], inverseCoins: [] };
    const report = await killSwitch(exchange, coverage, {}, 10_000_000, ticking());
    expect(report.ok).toBe(true);
    expect(main.open).toEqual([]);
    // Its first page went by symbol at once; the verification found the second page's.
    expect(cancelAlls(log)).toEqual(['inverse symbol=BTCUSD first-wave', 'inverse symbol=ETHUSD verify']);
  });

  it('names a pre-market order the discovery knows on the first listing, without cancelling it first', async () => {
    const main = book(
      [
        { category: 'linear', settleCoin: 'USDT', symbol: 'NEWUSDT', count: 1, stuck: 1 },
        { category: 'linear', settleCoin: 'USDT', symbol: 'BTCUSDT', count: 1, stuck: 1 },
      ],
      {
        trading: [instrument('BTCUSDT', 'USDT')],
        preLaunch: [instrument('NEWUSDT', 'USDT', 'CallAuctionNoCancel')],
      },
    );
    const log = logged(main, true);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    // Time for one listing and no cancel after it.
    const error = await failure(
      killSwitch(exchange, { ...COVERAGE, categories: ['linear'] }, {}, clock.time + 100, clock),
    );
    const report = reportOf(error);
    expect(report.uncancellable.map((u) => [u.symbol, u.orderId])).toEqual([['NEWUSDT', 'o0']]);
    expect(cancelAlls(log)).toEqual(['linear settleCoin=USDT first-wave']);
    expect(report.scopes).toEqual([
      expect.objectContaining({ scope: 'linear settleCoin=USDT', remaining: 2, verified: true }),
    ]);
    expect(report.remaining).toBe(2);
  });

  it('reads auction phases again when an order survives a cancel, naming a contract listed since discovery', async () => {
    // Listed after discovery read the pre-market contracts: only later reads show it.
    let reads = 0;
    const market: Market = {
      trading: [instrument('BTCUSDT', 'USDT')],
      get preLaunch() {
        return reads++ === 0 ? [] : [instrument('NEWUSDT', 'USDT', 'CallAuctionNoCancel')];
      },
    };
    const main = book(
      [{ category: 'linear', settleCoin: 'USDT', symbol: 'NEWUSDT', count: 1, stuck: 1 }],
      market,
    );
    const log = logged(main);
    const { exchange } = exchangeOf({ main: main.client });
    const report = reportOf(
      await failure(killSwitch(exchange, { ...COVERAGE, categories: ['linear'] }, {}, 1_060_000, ticking())),
    );
    expect(report.uncancellable.map((u) => u.symbol)).toEqual(['NEWUSDT']);
    // One straggler cancel, then the phases, then nothing more.
    expect(cancelAlls(log)).toEqual(['linear settleCoin=USDT first-wave', 'linear settleCoin=USDT verify']);
    const phaseReads = log.filter((l) => l.method === 'instrumentsInfo' && l.params.status === 'PreLaunch');
    expect(phaseReads).toHaveLength(2);
  });

  it('reads no auction phases for listings other than linear', async () => {
    const main = book([{ category: 'option', count: 2, stuck: 1 }]);
    const log = logged(main);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const report = reportOf(
      await failure(
        killSwitch(exchange, { ...COVERAGE, categories: ['option'] }, {}, clock.now() + 5_000, clock),
      ),
    );
    expect(report.scopes[0]).toMatchObject({ scope: 'option', cancelled: 1, remaining: 1, verified: true });
    expect(log.filter((l) => l.method === 'cancelBatch').length).toBeGreaterThan(1);
    expect(log.some((l) => l.method === 'instrumentsInfo')).toBe(false);
  });
});

describe('killSwitch: rounds, deadline and report', () => {
  it('still cancels the cancellable orders of a listing that also shows one Bybit will not cancel', async () => {
    const main = book([
      { category: 'spot', symbol: 'BTCUSDT', stopOrderType: 'BidirectionalTpslOrder', count: 1, stuck: 1 },
      { category: 'spot', symbol: 'BTCUSDT', count: 1 },
    ]);
    for (const o of main.open) if (o.stopOrderType) o.orderStatus = 'Triggered';
    // The first wave misses the plain order.
    intercept(main, 'cancelAll', (p, call) =>
      p.orderFilter === 'Order' && call?.priority === 'first-wave' ? rejectedBy('cancel-all') : undefined,
    );
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const coverage: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
    const report = reportOf(await failure(killSwitch(exchange, coverage, {}, clock.now() + 5_000, clock)));
    expect(main.open.map((o) => o.orderId)).toEqual(['o0']);
    expect(report.scopes[0]).toMatchObject({ scope: 'spot', cancelled: 1, remaining: 1, verified: true });
    expect(report.uncancellable.map((u) => u.orderId)).toEqual(['o0']);
  });

  it('counts no order of a listing whose last cancel had no time for a listing after it, and names it', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2, stuck: 2 }]);
    const clock = frozen();
    // The straggler cancel takes until past the deadline.
    intercept(main, 'cancelAll', (_p, call) => {
      if (call?.priority === 'verify') clock.time += 20_000;
      return undefined;
    });
    const { exchange } = exchangeOf({ main: main.client });
    const error = await failure(
      killSwitch(exchange, { ...COVERAGE, categories: ['linear'] }, {}, clock.time + 10_000, clock),
    );
    const report = reportOf(error);
    expect(report.scopes).toEqual([
      {
        account: 'main',
        scope: 'linear settleCoin=USDT',
        cancelled: 0,
        remaining: 2,
        verified: false,
        remainingOrders: [
          { symbol: 'BTCUSDT', orderId: 'o0', orderLinkId: 'stuck' },
          { symbol: 'BTCUSDT', orderId: 'o1', orderLinkId: 'stuck' },
        ],
      },
    ]);
    expect(report.remaining).toBe(0);
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT']);
    // No reason but the listing itself: nothing failed with an error, the coverage was confirmed.
    // No listing after the last cancel: no floor of open orders to give, and none is made up.
    expect(error.message).toBe(
      'not everything was cancelled: no scope could be verified by a listing, so how many orders are still open is unknown; failed: main: linear settleCoin=USDT',
    );
  });

  it('lists again after a listing the exchange could not answer', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    intercept(main, 'openOrders', (p, _c, n) =>
      p.category === 'linear' && n === 0
        ? new ExchangeUnavailableError('open-orders', 3, 'HTTP 503')
        : undefined,
    );
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(
      exchange,
      { ...COVERAGE, categories: ['linear'] },
      {},
      10_000_000,
      ticking(),
    );
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 2, remaining: 0, verified: true },
    ]);
  });

  it('does not wait for another listing when the next pause would reach the deadline', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    intercept(main, 'openOrders', (p, _c, n) =>
      p.category === 'linear' && n === 0
        ? new ExchangeUnavailableError('open-orders', 3, 'HTTP 503')
        : undefined,
    );
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    // The first pause (50 ms) and the 50 ms margin end exactly at the deadline.
    const error = await failure(
      killSwitch(exchange, { ...COVERAGE, categories: ['linear'] }, {}, clock.time + 100, clock),
    );
    expect(reportOf(error).scopes[0]).toMatchObject({
      verified: false,
      error: { errorType: 'ExchangeUnavailableError' },
    });
  });

  it('stops a listing at a straggler cancel the exchange refuses, and reports the refusal', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const log = logged(main);
    intercept(main, 'cancelAll', () => rejectedBy('cancel-all'));
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(
      killSwitch(exchange, { ...COVERAGE, categories: ['linear'] }, {}, clock.now() + 5_000, clock),
    );
    expect(reportOf(error).scopes[0]).toMatchObject({
      remaining: 2,
      verified: false,
      error: { retCode: 10001 },
    });
    expect(log.filter((l) => l.method === 'openOrders')).toHaveLength(1);
    expect(error.message).toContain(
      'reasons: main: linear settleCoin=USDT: cancel-all failed: retCode 10001 (params error)',
    );
  });

  it('reports a refused straggler cancel even when the calls before it succeeded', async () => {
    const main = book([
      { category: 'spot', symbol: 'BTCUSDT', count: 1, stuck: 1 },
      { category: 'spot', symbol: 'BTCUSDT', stopOrderType: 'tpslOrder', count: 1 },
    ]);
    // The first wave misses both kinds; of the straggler cancels (plain first), the tpslOrder one is refused.
    intercept(main, 'cancelAll', (p, call) =>
      call?.priority === 'first-wave' || p.orderFilter === 'tpslOrder' ? rejectedBy('cancel-all') : undefined,
    );
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const coverage: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
    const report = reportOf(await failure(killSwitch(exchange, coverage, {}, clock.now() + 5_000, clock)));
    expect(report.scopes[0]).toMatchObject({
      scope: 'spot',
      cancelled: 0,
      verified: false,
      error: { retCode: 10001 },
    });
  });

  it('counts only the batch items the exchange acknowledged', async () => {
    const main = book([{ category: 'option', count: 3, stuck: 1 }]);
    intercept(main, 'cancelAll', (p) => (p.category === 'option' ? rejectedBy('cancel-all') : undefined));
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const report = reportOf(
      await failure(
        killSwitch(exchange, { ...COVERAGE, categories: ['option'] }, {}, clock.now() + 5_000, clock),
      ),
    );
    expect(report).toMatchObject({ cancelled: 2, remaining: 1 });
  });

  it('reports an account whose key the secret holds malformed, and clears the others', async () => {
    const main = book([{ category: 'option', count: 1 }]);
    const { exchange } = exchangeOf({ main: main.client, broken: main.client });
    const run = exchange.withAccount.bind(exchange);
    exchange.withAccount = (async (name: string, work: never) =>
      name === 'broken'
        ? Promise.reject(new SecretError('exchange-secret', 'account "broken" holds no key pair'))
        : run(name, work)) as typeof exchange.withAccount;
    const clock = ticking();
    const error = await failure(killSwitch(exchange, COVERAGE, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(report.failedScopes).toEqual(['broken: *']);
    expect(report.scopes.at(-1)).toMatchObject({
      account: 'broken',
      scope: '*',
      verified: false,
      error: { errorType: 'SecretError' },
    });
  });
});

describe('stragglerCalls', () => {
  const options = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ orderId: `o${i}`, symbol: 'BTC-30DEC26-90000-C' }) as OpenOrder);
  it('cancels up to 200 option stragglers by batches of 20, more by one cancel-all', () => {
    const batches = stragglerCalls({ category: 'option' }, options(200));
    expect(batches).toHaveLength(10);
    expect(batches.every((b) => b.kind === 'batch' && b.orders.length === 20)).toBe(true);
    expect(stragglerCalls({ category: 'option' }, options(201))).toEqual([
      { kind: 'cancel-all', params: { category: 'option' } },
    ]);
  });
});

describe('killSwitch: whom it covers, and what its report names', () => {
  const LINEAR: Coverage = { ...COVERAGE, categories: ['linear'] };

  it("covers every account when a dead man's switch names accounts the secret does not hold, and names them", async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 1 }]);
    const hedge = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const { exchange, ran } = exchangeOf({ main: main.client, hedge: hedge.client });
    const report = await killSwitch(
      exchange,
      LINEAR,
      { origin: 'deadMansSwitch', accounts: ['main', 'ghost', 'typo'] },
      10_000_000,
      ticking(),
    );
    expect(report.accounts).toEqual(['main', 'hedge']);
    expect(ran).toEqual(['main', 'hedge']);
    expect(report.ignored).toEqual([
      `accounts "ghost", "typo" not in the secret: the dead man's switch covers every account`,
    ]);
    expect(hedge.open).toEqual([]);
    expect(report.cancelled).toBe(3);
  });

  it("keeps a dead man's switch to the accounts it names when the secret holds them all, and ignores nothing", async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 1 }]);
    const hedge = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const { exchange, ran } = exchangeOf({ main: main.client, hedge: hedge.client });
    const report = await killSwitch(
      exchange,
      LINEAR,
      { origin: 'deadMansSwitch', accounts: ['main'] },
      10_000_000,
      ticking(),
    );
    expect(report.accounts).toEqual(['main']);
    expect(ran).toEqual(['main']);
    expect('ignored' in report).toBe(false);
    expect(hedge.open).toHaveLength(2);
  });

  it('fails naming a strategy whose stop the exchange refuses, though its listing answered', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 1 }]);
    main.strategies.push({
      strategyId: 'twap-1',
      strategyType: 'twap',
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      status: 2,
    } as Strategy);
    const c = main.client as unknown as Record<string, unknown>;
    c.stopStrategy = async () => {
      throw rejectedBy('strategy-stop');
    };
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, LINEAR, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(report.ok).toBe(false);
    expect(report.strategies[0]).toMatchObject({ verified: true, remaining: [{ strategyId: 'twap-1' }] });
    expect(report.failedScopes).toEqual(['main: strategies']);
    expect(error.message).toContain(
      'main: strategy twap-1 (twap UTA_USDT BTCUSDT, running) can still trade: its stop failed:',
    );
    expect(main.open).toEqual([]);
    // The phase is over once the stop is refused for good: two empty listings prove the cancel, no more.
    expect(main.calls.filter((c) => c.method === 'openOrders')).toHaveLength(2);
  });

  it('names only the strategy when it still runs at the deadline, not the listing that showed nothing open', async () => {
    const main = book([]);
    main.strategies.push({
      strategyId: 'twap-1',
      strategyType: 'twap',
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      status: 2,
    } as Strategy);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stops = 0;
    const c = main.client as unknown as Record<string, unknown>;
    // Every stop fails for the moment; the second is still out when the order listing answers.
    c.stopStrategy = async () => {
      if (++stops === 2) await held;
      throw new ExchangeUnavailableError('strategy-stop', 3, 'HTTP 503');
    };
    intercept(main, 'openOrders', (_p, call) => {
      if (call?.priority === 'verify') setImmediate(release);
      return undefined;
    });
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    // Room for the stops, but not for a pause and another listing after the first.
    const report = reportOf(await failure(killSwitch(exchange, LINEAR, {}, clock.time + 100, clock)));
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 0, remaining: 0, verified: true },
    ]);
    expect(report.failedScopes).toEqual(['main: strategies']);
    expect(report.strategies[0]?.remaining.map((s) => s.strategyId)).toEqual(['twap-1']);
    expect(stops).toBe(2);
  });

  it('still needs the second empty listing after its cancels when the strategy list cannot be read', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let lists = 0;
    const c = main.client as unknown as Record<string, unknown>;
    // The strategy list fails every time; its third try is still out when the order listing answers.
    c.strategies = async () => {
      if (++lists === 3) await held;
      throw new ExchangeUnavailableError('strategy-list', 3, 'HTTP 503');
    };
    // Time moves only while an order listing is out (1 ms each); pauses take none.
    const clock = { time: 1_000_000, now: () => clock.time, sleep: async () => undefined };
    intercept(main, 'openOrders', (_p, call) => {
      if (call?.priority === 'verify') {
        clock.time += 1;
        setImmediate(release);
      }
      return undefined;
    });
    const { exchange } = exchangeOf({ main: main.client });
    // After the first empty listing, a pause (50 ms) and the margin (50 ms) reach the deadline.
    const report = reportOf(await failure(killSwitch(exchange, LINEAR, {}, clock.time + 101, clock)));
    expect(main.open).toEqual([]);
    expect(report.scopes[0]).toMatchObject({
      cancelled: 2,
      remaining: 0,
      verified: false,
      error: { errorType: 'DeadlineExceededError' },
    });
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT', 'main: strategies']);
    expect(lists).toBe(3);
  });

  it('names the leftovers something other than the user placed, by what placed them, with their createType', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 6, stuck: 6 }]);
    const placedBy = [
      'CreateByTWAP',
      'CreateByUser',
      'CreateByTWAP',
      'CreateByNewFeature',
      undefined,
      'CreateByUser',
    ];
    main.open.forEach((o, i) => {
      if (placedBy[i]) o.createType = placedBy[i];
    });
    const { exchange } = exchangeOf({ main: main.client });
    const clock = ticking();
    const error = await failure(killSwitch(exchange, LINEAR, {}, clock.now() + 5_000, clock));
    const report = reportOf(error);
    expect(report.scopes[0]?.remainingOrders).toEqual([
      { symbol: 'BTCUSDT', orderId: 'o0', orderLinkId: 'stuck', createType: 'CreateByTWAP' },
      { symbol: 'BTCUSDT', orderId: 'o1', orderLinkId: 'stuck', createType: 'CreateByUser' },
      { symbol: 'BTCUSDT', orderId: 'o2', orderLinkId: 'stuck', createType: 'CreateByTWAP' },
      { symbol: 'BTCUSDT', orderId: 'o3', orderLinkId: 'stuck', createType: 'CreateByNewFeature' },
      { symbol: 'BTCUSDT', orderId: 'o4', orderLinkId: 'stuck' },
      { symbol: 'BTCUSDT', orderId: 'o5', orderLinkId: 'stuck', createType: 'CreateByUser' },
    ]);
    expect(error.message).toBe(
      'not everything was cancelled: at least 6 order(s) still open; failed: main: linear settleCoin=USDT; reasons: ' +
        'main: linear settleCoin=USDT: 2 order(s) placed by a TWAP strategy (CreateByTWAP) still open: o0, o2; ' +
        'main: linear settleCoin=USDT: 1 order(s) placed by CreateByNewFeature still open: o3',
    );
  });

  it('says what placed an order Bybit will not cancel now', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', symbol: 'NEWUSDT', count: 2, stuck: 2 }], {
      trading: [instrument('BTCUSDT', 'USDT')],
      preLaunch: [instrument('NEWUSDT', 'USDT', 'CallAuctionNoCancel')],
    });
    (main.open[0] as BookOrder).createType = 'CreateByIceBerg';
    // The first-wave cancel-all lands after discovery, which names the pre-market contract.
    logged(main, true);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    const report = reportOf(await failure(killSwitch(exchange, LINEAR, {}, clock.time + 100, clock)));
    expect(report.uncancellable.map(({ orderId, createType }) => ({ orderId, createType }))).toEqual([
      { orderId: 'o0', createType: 'CreateByIceBerg' },
      { orderId: 'o1', createType: undefined },
    ]);
    expect('createType' in (report.uncancellable[1] as object)).toBe(false);
  });

  it('warns of a bot whose orders only the first-wave inverse listing showed', async () => {
    const main = book([{ category: 'inverse', baseCoin: 'ETH', count: 1 }]);
    (main.open[0] as BookOrder).createType = 'CreateByFGridBot';
    const { exchange } = exchangeOf({ main: main.client });
    const coverage: Coverage = { categories: ['inverse'], linearSettleCoins: [], inverseCoins: ['BTC'] };
    const report = await killSwitch(exchange, coverage, {}, 10_000_000, ticking());
    expect(main.open).toEqual([]);
    expect(report.warnings).toEqual([
      'main: 1 order(s) placed by a futures grid bot (CreateByFGridBot) on ETHUSD were cancelled like any order, but the bot may place them again: close it in the Bybit app (Bybit offers no way to list bots through its API)',
    ]);
  });

  it('warns of a bot whose orders a verification listing showed', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    (main.open[1] as BookOrder).createType = 'CloseByMartingaleBot';
    // The first wave misses them: only the verification listing sees them.
    intercept(main, 'cancelAll', (_p, call) => (call?.priority === 'first-wave' ? [] : undefined));
    const { exchange } = exchangeOf({ main: main.client });
    const report = await killSwitch(exchange, LINEAR, {}, 10_000_000, ticking());
    expect(main.open).toEqual([]);
    expect(report.warnings).toEqual([
      'main: 1 order(s) placed by a futures martingale bot (CloseByMartingaleBot) on BTCUSDT were cancelled like any order, but the bot may place them again: close it in the Bybit app (Bybit offers no way to list bots through its API)',
    ]);
  });

  it('fails a listing whose own cancels left no time for the second empty listing that proves them', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    // The first empty listing comes at once; the pause (50 ms) and the margin (50 ms) reach the deadline.
    const error = await failure(killSwitch(exchange, LINEAR, {}, clock.time + 100, clock));
    expect(main.open).toEqual([]);
    expect(reportOf(error).scopes).toEqual([
      {
        account: 'main',
        scope: 'linear settleCoin=USDT',
        cancelled: 2,
        remaining: 0,
        verified: false,
        error: {
          errorType: 'DeadlineExceededError',
          errorMessage: 'realtime (second empty listing): deadline reached before the exchange answered',
          endpoint: 'realtime (second empty listing)',
        },
      },
    ]);
    expect(main.calls.filter((c) => c.method === 'openOrders')).toHaveLength(1);
  });

  it('takes two empty listings as proof after a spot cancel-all acknowledged without naming orders', async () => {
    const main = book([{ category: 'spot', symbol: 'BTCUSDT', count: 2 }]);
    const c = main.client as unknown as Record<string, (p: unknown, call?: Call) => Promise<unknown>>;
    const inner = c.cancelAll?.bind(c) as (p: unknown, call?: Call) => Promise<unknown>;
    // Bybit's spot answer {"success": "1"}: the client reads it as no orders, tagged unnamed.
    c.cancelAll = async (params, call) => {
      await inner(params, call);
      return Object.assign([], { named: false as const });
    };
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    const coverage: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
    const report = await killSwitch(exchange, coverage, {}, clock.time + 10_000, clock);
    expect(main.open).toEqual([]);
    // No order was named, so none is counted; the proof is the same as after named ones.
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'spot', cancelled: 0, remaining: 0, verified: true },
    ]);
    expect(main.calls.filter((call) => call.method === 'openOrders')).toHaveLength(2);
  });

  it('takes a second empty listing, a short pause after the first, as proof of its own cancels', async () => {
    const main = book([{ category: 'linear', settleCoin: 'USDT', count: 2 }]);
    const { exchange } = exchangeOf({ main: main.client });
    const clock = frozen();
    const report = await killSwitch(exchange, LINEAR, {}, clock.time + 101, clock);
    expect(report.scopes).toEqual([
      { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 2, remaining: 0, verified: true },
    ]);
    expect(main.calls.filter((c) => c.method === 'openOrders')).toHaveLength(2);
    expect(clock.time).toBe(1_000_050);
  });
});
