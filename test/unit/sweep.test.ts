// The stale-order sweep on an in-memory exchange: which orders it selects, which lane cancels them, how
// per-item answers are settled, and what the report says. test/integration/sweep.test.ts runs it end to end.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type {
  BatchItemResult,
  Category,
  InstrumentsParams,
  OpenOrder,
  OpenOrdersParams,
} from '../../lib/bybit/types.ts';
import { SettleCoinDiscovery } from '../../lib/cancel/coverage.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { type Coverage, spotKindOf } from '../../lib/cancel/scopes.ts';
import { type SweepOptions, type SweepReport, sweepStaleOrders } from '../../lib/cancel/sweep.ts';
import type { Clock } from '../../lib/clock.ts';
import {
  BybitApiError,
  ExchangeUnavailableError,
  type IncompleteCancelError,
  OrderNotOpenError,
} from '../../lib/errors.ts';

const NOW = 10_000_000_000;
const HOUR = 3_600_000;

interface Order extends OpenOrder {
  category: Category;
  /** Linear orders only. */
  settleCoin?: string;
}

interface Behaviour {
  /** Per-item code a batch answers for an order (default 0), by orderId; a list is consumed one per try. */
  batchCodes?: Record<string, number[]>;
  /** A single cancel of these orders is refused as gone / fails like this. */
  singleErrors?: Record<string, Error>;
  /** Cancels of these orders are acknowledged but leave them open, this many times. */
  survive?: Record<string, number>;
  capacity?: number;
  /** The linear settle coins instruments-info lists (default USDT); an Error when it fails. */
  listed?: string[] | Error;
  /** A batch naming one of these orders fails like this, once per error listed. */
  batchErrors?: Record<string, Error[]>;
  /** Listings of open orders fail like this, one error per listing (undefined: answered). */
  listErrors?: (Error | undefined)[];
}

function exchangeWith(orders: Order[], behaviour: Behaviour = {}) {
  const open = [...orders];
  const log: { method: string; params: unknown }[] = [];
  const callOptions: { method: string; options: unknown }[] = [];
  const singles = { inFlight: 0, max: 0 };
  const cancel = (orderId: string) => {
    const left = behaviour.survive?.[orderId] ?? 0;
    if (left > 0) {
      (behaviour.survive as Record<string, number>)[orderId] = left - 1;
      return;
    }
    const at = open.findIndex((o) => o.orderId === orderId);
    if (at >= 0) open.splice(at, 1);
  };
  const client = {
    pacer: { capacity: () => behaviour.capacity ?? 20 },
    async openOrders(params: OpenOrdersParams) {
      log.push({ method: 'openOrders', params });
      const failed = behaviour.listErrors?.shift();
      if (failed) throw failed;
      const list = open
        .filter(
          (o) =>
            o.category === params.category &&
            (params.settleCoin === undefined || o.settleCoin === params.settleCoin) &&
            (params.orderFilter === undefined || spotKindOf(o) === params.orderFilter),
        )
        .map(({ category, settleCoin, ...o }) => o);
      return { category: params.category, list, nextPageCursor: '' };
    },
    async instrumentsInfo(params: InstrumentsParams) {
      log.push({ method: 'instrumentsInfo', params });
      const listed = behaviour.listed ?? ['USDT'];
      if (listed instanceof Error) throw listed;
      const list =
        params.status === 'PreLaunch'
          ? []
          : listed.map((coin) => ({
              symbol: `BTC${coin}`,
              status: 'Trading',
              baseCoin: 'BTC',
              settleCoin: coin,
            }));
      return { list, nextPageCursor: '' };
    },
    async cancelBatch(
      params: { category: Category; request: { symbol: string; orderId: string }[] },
      options?: unknown,
    ) {
      log.push({ method: 'cancelBatch', params });
      callOptions.push({ method: 'cancelBatch', options });
      for (const { orderId } of params.request) {
        const error = behaviour.batchErrors?.[orderId]?.shift();
        if (error) throw error;
      }
      return params.request.map(({ symbol, orderId }): BatchItemResult => {
        const code = behaviour.batchCodes?.[orderId]?.shift() ?? 0;
        if (code === 0) cancel(orderId);
        return { symbol, orderId, orderLinkId: '', code, msg: code === 0 ? 'OK' : `code ${code}` };
      });
    },
    async cancelOrder(params: { orderId: string }, options?: unknown) {
      log.push({ method: 'cancelOrder', params });
      callOptions.push({ method: 'cancelOrder', options });
      singles.max = Math.max(singles.max, ++singles.inFlight);
      await null;
      singles.inFlight--;
      const error = behaviour.singleErrors?.[params.orderId];
      if (error) throw error;
      cancel(params.orderId);
      return { orderId: params.orderId, orderLinkId: '' };
    },
  } as unknown as BybitClient;
  const exchange = {
    discovery: new SettleCoinDiscovery({ now: () => NOW }),
    accountNames: async () => ['main'],
    anyClient: async () => client,
    withAccount: async <T>(_: string, work: (c: BybitClient, n: string) => Promise<T>) =>
      work(client, 'main'),
  } as unknown as Exchange;
  return { exchange, open, log, callOptions, singles };
}

const order = (orderId: string, ageMs: number, extra: Partial<Order> = {}): Order => ({
  orderId,
  orderLinkId: `bot-${orderId}`,
  symbol: 'BTCUSDT',
  orderStatus: 'New',
  createdTime: String(NOW - ageMs),
  category: 'linear',
  ...(extra.category && extra.category !== 'linear' ? {} : { settleCoin: 'USDT' }),
  ...extra,
});

const clock = (): Clock => {
  let time = NOW;
  return {
    now: () => time,
    sleep: async (ms) => {
      time += ms;
    },
  };
};

const LINEAR: Coverage = { categories: ['linear'], linearSettleCoins: ['USDT'], inverseCoins: [] };
const options = (extra: Partial<SweepOptions> = {}): SweepOptions => ({
  maxAgeMs: HOUR,
  linkIdPrefix: 'bot-',
  dryRun: false,
  ...extra,
});
const run = (exchange: Exchange, extra: Partial<SweepOptions> = {}, coverage = LINEAR) =>
  sweepStaleOrders(exchange, coverage, options(extra), NOW + 60_000, clock());
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the sweep to fail');
    },
    (error: IncompleteCancelError) => error,
  );

describe('sweepStaleOrders', () => {
  it('cancels only orders older than the max age whose orderLinkId has the prefix', async () => {
    const { exchange, open } = exchangeWith([
      order('old', 2 * HOUR),
      order('edge', HOUR),
      order('fresh', HOUR - 1),
      order('manual', 2 * HOUR, { orderLinkId: 'manual-1' }),
    ]);
    const report = await run(exchange);
    expect(open.map((o) => o.orderId).sort()).toEqual(['edge', 'fresh', 'manual']);
    expect(report).toMatchObject({ ok: true, dryRun: false, stale: 1, cancelled: 1, remaining: 0 });
    expect(report.scopes[0]).toMatchObject({
      account: 'main',
      scope: 'linear settleCoin=USDT',
      open: 4,
      stale: 1,
    });
  });

  it('selects every old order when no prefix is set', async () => {
    const { exchange, open } = exchangeWith([
      order('a', 2 * HOUR),
      order('b', 2 * HOUR, { orderLinkId: 'manual-1' }),
      order('c', 0),
    ]);
    await run(exchange, { linkIdPrefix: '' });
    expect(open.map((o) => o.orderId)).toEqual(['c']);
  });

  it('only reports in a dry run: what would go, up to 100, and nothing cancelled', async () => {
    const orders = Array.from({ length: 120 }, (_, i) => order(`o${i}`, 2 * HOUR));
    const { exchange, open, log } = exchangeWith(orders);
    const report = await run(exchange, { dryRun: true });
    expect(open).toHaveLength(120);
    expect(log.filter((l) => l.method.startsWith('cancel'))).toEqual([]);
    expect(report).toMatchObject({ ok: true, dryRun: true, stale: 120, cancelled: 0 });
    const scope = report.scopes[0];
    expect(scope?.verified).toBe(true);
    expect(scope?.wouldCancel).toHaveLength(100);
    expect(scope?.wouldCancel?.[0]).toEqual({
      symbol: 'BTCUSDT',
      orderId: 'o0',
      orderLinkId: 'bot-o0',
      createdTime: String(NOW - 2 * HOUR),
    });
  });

  it('sends batches no larger than the batch limit or the window, through both lanes', async () => {
    const orders = Array.from({ length: 45 }, (_, i) => order(`o${i}`, 2 * HOUR));
    const { exchange, log } = exchangeWith(orders, { capacity: 8 });
    const report = await run(exchange);
    const batches = log.filter((l) => l.method === 'cancelBatch');
    const sizes = batches.map((b) => (b.params as { request: unknown[] }).request.length);
    expect(Math.max(...sizes)).toBe(8);
    const singles = log.filter((l) => l.method === 'cancelOrder').length;
    expect(sizes.reduce((a, b) => a + b, 0) + singles).toBe(45);
    expect(report.scopes[0]?.requests).toEqual({ batch: batches.length, single: singles });
    expect(report.cancelled).toBe(45);
  });

  it('cancels spot orders of other kinds one by one with their orderFilter, never by batch', async () => {
    const spot = { categories: ['spot'] as Category[], linearSettleCoins: [], inverseCoins: [] };
    const { exchange, open, log } = exchangeWith([
      order('tp', 2 * HOUR, { category: 'spot', stopOrderType: 'tpslOrder' }),
      order('plain', 2 * HOUR, { category: 'spot', stopOrderType: '' }),
    ]);
    await run(exchange, {}, spot);
    expect(open).toEqual([]);
    // The widest spot listing: no orderFilter, every kind at once.
    expect(log.filter((l) => l.method === 'openOrders').map((l) => l.params)).toContainEqual(
      expect.objectContaining({ category: 'spot', orderFilter: undefined }),
    );
    const batched = log
      .filter((l) => l.method === 'cancelBatch')
      .flatMap((l) => (l.params as { request: { orderId: string }[] }).request.map((r) => r.orderId));
    expect(batched).not.toContain('tp');
    const tp = log.find((l) => (l.params as { orderId?: string }).orderId === 'tp');
    expect(tp).toEqual({
      method: 'cancelOrder',
      params: { category: 'spot', symbol: 'BTCUSDT', orderId: 'tp', orderFilter: 'tpslOrder' },
    });
  });

  it('counts "already gone" answers, retries retryable ones, and reports refused ones', async () => {
    const orders = [order('gone', 2 * HOUR), order('busy', 2 * HOUR), order('refused', 2 * HOUR)];
    const { exchange, open } = exchangeWith(orders, {
      capacity: 1,
      batchCodes: { gone: [110001], busy: [10006, 10006], refused: [110017, 110017, 110017, 110017, 110017] },
      singleErrors: {
        gone: new OrderNotOpenError('cancel', 110001, 'order not exists'),
        refused: new BybitApiError('cancel', 110017, 'reduce-only', 'rejected'),
      },
    });
    const error = await failure(run(exchange));
    const report = error.report as unknown as SweepReport;
    const scope = report.scopes[0];
    expect(open.map((o) => o.orderId)).toEqual(['refused']);
    expect(scope?.alreadyGone).toBeGreaterThan(0);
    expect(scope?.failed.map((f) => f.orderId)).toContain('refused');
    expect(scope?.failed.find((f) => f.orderId === 'refused')?.code).toBe(110017);
    expect(error.message).toContain(
      'reasons: main: linear settleCoin=USDT: 1 refused (first: 110017 code 110017)',
    );
  });

  it('reports a spot order whose single cancel is refused and goes on with the others of its lane', async () => {
    const spot = { categories: ['spot'] as Category[], linearSettleCoins: [], inverseCoins: [] };
    const kinds = ['OcoOrder', 'tpslOrder', 'StopOrder', 'tpslOrder'];
    const orders = kinds.map((stopOrderType, i) =>
      order(`s${i}`, 2 * HOUR, { category: 'spot', stopOrderType }),
    );
    const { exchange, open, log } = exchangeWith(orders, {
      capacity: 1,
      singleErrors: { s0: new BybitApiError('cancel', 10001, 'orderFilter not supported', 'rejected') },
    });
    const error = await failure(run(exchange, {}, spot));
    const scope = (error.report as unknown as SweepReport).scopes[0];
    expect(open.map((o) => o.orderId)).toEqual(['s0']);
    expect(scope?.failed).toEqual([{ orderId: 's0', code: 10001, msg: 'orderFilter not supported' }]);
    expect(scope?.error).toBeUndefined();
    // Refused once a round (the fifth round only lists), not retried in a loop.
    const tries = log.filter((l) => (l.params as { orderId?: string }).orderId === 's0');
    expect(tries.length).toBe(4);
  });

  it('stops the single lane on a refused key and reports it', async () => {
    const spot = { categories: ['spot'] as Category[], linearSettleCoins: [], inverseCoins: [] };
    const orders = [order('a', 2 * HOUR, { category: 'spot', stopOrderType: 'tpslOrder' })];
    const { exchange } = exchangeWith(orders, {
      singleErrors: { a: new BybitApiError('cancel', 10003, 'API key is invalid', 'credentials') },
    });
    const error = await failure(run(exchange, {}, spot));
    const scope = (error.report as unknown as SweepReport).scopes[0];
    expect(scope?.failed).toEqual([]);
    expect(scope?.error?.errorMessage).toContain('10003');
    expect(scope?.verified).toBe(false);
    expect(error.message).toContain('retCode 10003');
  });

  it('cancels again what the listing still shows after an acknowledged cancel, up to five rounds', async () => {
    const { exchange, open } = exchangeWith([order('late', 2 * HOUR)], { survive: { late: 2 }, capacity: 1 });
    const report = await run(exchange);
    expect(open).toEqual([]);
    expect(report).toMatchObject({ ok: true, cancelled: 1, remaining: 0 });
  });

  it('fails naming the scope when an order survives every round, and counts it as remaining', async () => {
    const { exchange, open } = exchangeWith([order('stuck', 2 * HOUR), order('ok', 2 * HOUR)], {
      survive: { stuck: 100 },
      capacity: 1,
    });
    const error = await failure(run(exchange));
    const report = error.report as unknown as SweepReport & { failedScopes: string[] };
    expect(open.map((o) => o.orderId)).toEqual(['stuck']);
    expect(report).toMatchObject({ ok: false, stale: 2, cancelled: 1, remaining: 1 });
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT']);
    expect(error.message).toContain('main: linear settleCoin=USDT: orders still open');
  });

  it('sweeps the linear settle coins the exchange lists, not only the configured ones', async () => {
    const { exchange, open } = exchangeWith(
      [order('usdt', 2 * HOUR), order('usdc', 2 * HOUR, { settleCoin: 'USDC', symbol: 'BTCPERP' })],
      { listed: ['USDC', 'USDT'] },
    );
    const report = await run(exchange);
    expect(open).toEqual([]);
    expect(report.coverage).toMatchObject({
      linearSettleCoins: ['USDT', 'USDC'],
      discovered: ['USDC'],
      confirmed: true,
    });
    expect(report.scopes.map((s) => [s.scope, s.stale, s.cancelled])).toEqual([
      ['linear settleCoin=USDT', 1, 1],
      ['linear settleCoin=USDC', 1, 1],
    ]);
  });

  it('lists inverse, spot and option with no filter: every coin and every kind', async () => {
    const all = {
      categories: ['inverse', 'spot', 'option'] as Category[],
      linearSettleCoins: [],
      inverseCoins: ['BTC'],
    };
    const { exchange, open, log } = exchangeWith([
      order('eth', 2 * HOUR, { category: 'inverse', symbol: 'ETHUSD' }),
      order('oco', 2 * HOUR, { category: 'spot', stopOrderType: 'OcoOrder' }),
      order('opt', 2 * HOUR, { category: 'option', symbol: 'BTC-30DEC26-90000-C' }),
    ]);
    const report = await run(exchange, {}, all);
    expect(open).toEqual([]);
    expect(report.scopes.map((s) => s.scope)).toEqual(['inverse', 'spot', 'option']);
    const listings = log.filter((l) => l.method === 'openOrders').map((l) => l.params as OpenOrdersParams);
    for (const listing of listings) {
      expect(listing.baseCoin).toBeUndefined();
      expect(listing.orderFilter).toBeUndefined();
    }
    // Without linear there is nothing to discover.
    expect(log.some((l) => l.method === 'instrumentsInfo')).toBe(false);
  });

  it('fails when the exchange did not confirm the settle coins, after sweeping the configured ones', async () => {
    const down = new ExchangeUnavailableError('instruments', 3, 'HTTP 503');
    const { exchange, open } = exchangeWith([order('old', 2 * HOUR)], { listed: down });
    const error = await failure(run(exchange));
    const report = error.report as unknown as SweepReport & { failedScopes: string[] };
    expect(open).toEqual([]);
    expect(report).toMatchObject({ ok: false, stale: 1, cancelled: 1, remaining: 0 });
    expect(report.coverage).toMatchObject({ linearSettleCoins: ['USDT'], confirmed: false });
    expect(report.failedScopes).toEqual(['coverage: linear settle coins not confirmed by the exchange']);
    expect(error.message).toContain('coverage: instruments unavailable after 3 attempt(s): HTTP 503');
  });

  it('reports an account whose key is refused as one failed entry', async () => {
    const refused = new BybitApiError('realtime', 10003, 'API key is invalid.', 'credentials');
    const { exchange: listing } = exchangeWith([]);
    const exchange = {
      discovery: new SettleCoinDiscovery(),
      accountNames: async () => ['main'],
      anyClient: () => listing.anyClient(),
      withAccount: async () => {
        throw refused;
      },
    } as unknown as Exchange;
    const error = await failure(run(exchange));
    const report = error.report as unknown as SweepReport;
    expect(report.scopes).toEqual([
      expect.objectContaining({
        account: 'main',
        scope: '*',
        verified: false,
        error: expect.objectContaining({ retCode: 10003 }),
      }),
    ]);
  });
});

describe('sweepStaleOrders: selection, lanes, rounds and what the report says', () => {
  const LINEAR_TWO: Coverage = {
    categories: ['linear'],
    linearSettleCoins: ['USDT', 'USDC'],
    inverseCoins: [],
  };
  const SPOT: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
  const busyError = () => new BybitApiError('cancel', 10006, 'too many visits', 'retryable');
  const refusedKey = () => new BybitApiError('cancel', 10003, 'API key is invalid', 'credentials');
  const withDeadline = (exchange: Exchange, deadline: number, at = clock()) =>
    sweepStaleOrders(exchange, LINEAR, options(), deadline, at);
  const listings = (log: { method: string }[]) => log.filter((l) => l.method === 'openOrders').length;

  it('sweeps only the categories asked for', async () => {
    const both: Coverage = { categories: ['linear', 'spot'], linearSettleCoins: ['USDT'], inverseCoins: [] };
    const { exchange, open } = exchangeWith([
      order('lin', 2 * HOUR),
      order('spt', 2 * HOUR, { category: 'spot', stopOrderType: '' }),
    ]);
    const report = await run(exchange, { categories: ['spot'] }, both);
    expect(report.scopes.map((s) => s.scope)).toEqual(['spot']);
    expect(open.map((o) => o.orderId)).toEqual(['lin']);
  });

  it('fails when one scope of several keeps an order, and counts it', async () => {
    const { exchange } = exchangeWith(
      [order('stuck', 2 * HOUR), order('fine', 2 * HOUR, { settleCoin: 'USDC', symbol: 'BTCPERP' })],
      { survive: { stuck: 100 }, listed: ['USDC', 'USDT'] },
    );
    const error = await failure(run(exchange, {}, LINEAR_TWO));
    const report = error.report as unknown as SweepReport & { failedScopes: string[] };
    expect(report).toMatchObject({ ok: false, stale: 2, cancelled: 1, remaining: 1 });
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT']);
  });

  it('lists again after a listing fails, and leaves an unlisted scope out of the remaining count', async () => {
    const down = new ExchangeUnavailableError('realtime', 3, 'HTTP 503');
    const { exchange, log } = exchangeWith([order('a', 2 * HOUR)], {
      survive: { a: 100 },
      listErrors: [undefined, down, down, down, down],
    });
    const error = await failure(run(exchange));
    const report = error.report as unknown as SweepReport & { failedScopes: string[] };
    // Round 1 lists and cancels; rounds 2 to 5 only try to list again.
    expect(listings(log)).toBe(5);
    expect(report.scopes[0]).toMatchObject({ verified: false, remaining: 1, stale: 1 });
    expect(report.scopes[0]?.error?.errorMessage).toContain('HTTP 503');
    expect(report).toMatchObject({ ok: false, remaining: 0 });
    expect(report.failedScopes).toEqual(['main: linear settleCoin=USDT']);
  });

  it('stops listing a scope once the exchange refuses the key', async () => {
    const { exchange, log } = exchangeWith([order('a', 2 * HOUR)], {
      survive: { a: 100 },
      listErrors: [undefined, refusedKey(), undefined, undefined, undefined],
    });
    const error = await failure(run(exchange));
    expect(listings(log)).toBe(2);
    expect((error.report as unknown as SweepReport).scopes[0]).toMatchObject({ verified: false });
  });

  it('lists no more once nothing selected is open, and reports the time it took', async () => {
    const { exchange, log } = exchangeWith([order('a', 2 * HOUR)]);
    const at = clock();
    const report = await withDeadline(exchange, NOW + 60_000, at);
    expect(listings(log)).toBe(2);
    // one pause, after the round that cancelled
    expect(report.durationMs).toBe(50);
    expect(at.now() - NOW).toBe(50);
  });

  it('starts no cancel round the pause and the next listing could not fit before the deadline', async () => {
    const { exchange, log, open } = exchangeWith([order('a', 2 * HOUR)]);
    const error = await failure(withDeadline(exchange, NOW + 100));
    expect(log.filter((l) => l.method.startsWith('cancel'))).toEqual([]);
    expect(open).toHaveLength(1);
    expect((error.report as unknown as SweepReport).scopes[0]).toMatchObject({ stale: 1, remaining: 1 });
  });

  it('goes round again after a batch the exchange could not take', async () => {
    const { exchange, open, log } = exchangeWith([order('a', 2 * HOUR)], {
      batchErrors: { a: [new ExchangeUnavailableError('cancel-batch', 3, 'HTTP 503')] },
    });
    const report = await run(exchange);
    expect(open).toEqual([]);
    expect(report).toMatchObject({ ok: true, cancelled: 1 });
    expect(log.filter((l) => l.method === 'cancelBatch')).toHaveLength(2);
  });

  it('stops a scope whose batch is refused for the key, keeping the order to report', async () => {
    const { exchange, open, log } = exchangeWith([order('a', 2 * HOUR)], {
      batchErrors: { a: [refusedKey(), refusedKey(), refusedKey(), refusedKey()] },
    });
    const error = await failure(run(exchange));
    const scope = (error.report as unknown as SweepReport).scopes[0];
    expect(open).toHaveLength(1);
    expect(log.filter((l) => l.method === 'cancelBatch')).toHaveLength(1);
    expect(scope).toMatchObject({ verified: false, remaining: 1 });
    expect(scope?.error?.errorMessage).toContain('10003');
  });

  it('goes on when another lane took the orders of a lane that stopped', async () => {
    // capacity 1: two batch lanes take a and b, the single lane takes c; a's batch is refused once, and
    // the second batch lane cancels a while the single lane finishes c: nothing is left queued.
    const { exchange, open, log } = exchangeWith(
      [order('a', 2 * HOUR), order('b', 2 * HOUR), order('c', 2 * HOUR)],
      { capacity: 1, batchErrors: { a: [refusedKey()] } },
    );
    const report = await run(exchange);
    expect(open).toEqual([]);
    expect(report).toMatchObject({ ok: true, cancelled: 3 });
    expect(listings(log)).toBe(2);
  });

  it('sends single cancels of non-spot orders with no orderFilter, and helps the batch lane with them', async () => {
    const orders = Array.from({ length: 10 }, (_, i) =>
      order(`o${i}`, 2 * HOUR, i % 2 ? { stopOrderType: 'Stop' } : {}),
    );
    const { exchange, log } = exchangeWith(orders, { capacity: 2 });
    await run(exchange);
    const singles = log.filter((l) => l.method === 'cancelOrder');
    expect(singles.length).toBeGreaterThan(0);
    for (const single of singles)
      expect((single.params as { orderFilter?: string }).orderFilter).toBeUndefined();
  });

  it('sends plain spot orders by batch', async () => {
    const { exchange, log } = exchangeWith([
      order('tp', 2 * HOUR, { category: 'spot', stopOrderType: 'tpslOrder' }),
      order('plain', 2 * HOUR, { category: 'spot', stopOrderType: '' }),
    ]);
    await run(exchange, {}, SPOT);
    const batched = log
      .filter((l) => l.method === 'cancelBatch')
      .flatMap((l) => (l.params as { request: { orderId: string }[] }).request.map((r) => r.orderId));
    expect(batched).toEqual(['plain']);
  });

  it('runs as many single cancels at once as the window holds', async () => {
    const orders = Array.from({ length: 6 }, (_, i) =>
      order(`s${i}`, 2 * HOUR, { category: 'spot', stopOrderType: 'tpslOrder' }),
    );
    const { exchange, singles } = exchangeWith(orders, { capacity: 3 });
    await run(exchange, {}, SPOT);
    expect(singles.max).toBe(3);
  });

  it('retries an order the exchange is too busy for five times a round, then reports it', async () => {
    const { exchange, log } = exchangeWith([order('busy', 2 * HOUR)], {
      capacity: 1,
      batchCodes: { busy: Array(100).fill(10006) },
      singleErrors: { busy: busyError() },
    });
    const error = await failure(run(exchange));
    const scope = (error.report as unknown as SweepReport).scopes[0];
    const tries = log.filter((l) => l.method.startsWith('cancel'));
    // 4 cancel rounds × 5 attempts; the fifth round only lists
    expect(tries).toHaveLength(20);
    expect(scope?.failed).toEqual([{ orderId: 'busy', code: 10006, msg: 'code 10006' }]);
  });

  it('cancels in the round an order the exchange was busy for a few times', async () => {
    const { exchange, log } = exchangeWith([order('busy', 2 * HOUR)], {
      capacity: 1,
      batchCodes: { busy: [10006, 10006, 10006, 10006] },
    });
    const report = await run(exchange);
    expect(report).toMatchObject({ ok: true, cancelled: 1 });
    expect(listings(log)).toBe(2);
  });

  it('passes the deadline to every cancel', async () => {
    const orders = [
      order('tp', 2 * HOUR, { category: 'spot', stopOrderType: 'tpslOrder' }),
      order('plain', 2 * HOUR, { category: 'spot', stopOrderType: '' }),
    ];
    const { exchange, callOptions } = exchangeWith(orders);
    await run(exchange, {}, SPOT);
    expect(callOptions.map((c) => c.method).sort()).toEqual(['cancelBatch', 'cancelOrder']);
    for (const call of callOptions) expect(call.options).toEqual({ deadline: NOW + 60_000 });
  });
});

describe('sweepStaleOrders: whose orders it takes, and how it counts them', () => {
  it('leaves the orders a strategy or a bot placed to them, and counts them as placed by the exchange', async () => {
    const { exchange, open } = exchangeWith([
      order('mine', 2 * HOUR),
      order('twap', 2 * HOUR, { createType: 'CreateByTWAP' }),
      order('grid', 2 * HOUR, { createType: 'CreateByFGridBot' }),
    ]);
    const report = await run(exchange, { linkIdPrefix: '' });
    expect(open.map((o) => o.orderId)).toEqual(['twap', 'grid']);
    expect(report.scopes[0]).toMatchObject({ open: 3, placedByExchange: 2, stale: 1, cancelled: 1 });
  });

  it('selects nothing with a prefix no orderLinkId can start with (a space and "!")', async () => {
    const { exchange, open } = exchangeWith([
      order('a', 2 * HOUR),
      order('b', 2 * HOUR, { orderLinkId: '' }),
    ]);
    const report = await run(exchange, { linkIdPrefix: 'Stryker was here!' });
    expect(open).toHaveLength(2);
    expect(report).toMatchObject({ ok: true, stale: 0, cancelled: 0 });
  });

  it('tells the orders it cancelled from those gone meanwhile, while one stays open', async () => {
    const { exchange, open } = exchangeWith(
      [order('a', 2 * HOUR), order('filled', 2 * HOUR), order('stuck', 2 * HOUR)],
      { batchCodes: { filled: [110001] }, survive: { stuck: 99 } },
    );
    // The exchange answers "not found" for an order that filled before the cancel reached it.
    const client = (await exchange.anyClient()) as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    const batch = client.cancelBatch?.bind(client) as (...a: unknown[]) => Promise<unknown>;
    client.cancelBatch = async (...args) => {
      const answer = await batch(...args);
      const at = open.findIndex((o) => o.orderId === 'filled');
      if (at >= 0) open.splice(at, 1);
      return answer;
    };
    const error = await failure(run(exchange));
    const [scope] = (error.report as unknown as SweepReport).scopes;
    expect(scope).toMatchObject({ stale: 3, cancelled: 1, goneMeanwhile: 1, remaining: 1, verified: true });
    expect(open.map((o) => o.orderId)).toEqual(['stuck']);
  });
});
