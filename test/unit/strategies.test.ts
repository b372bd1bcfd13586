// The strategy phase on a scripted client: how strategies are listed (every category, every page, in as
// few requests as the docs allow), stopped, listed again, and reported; and who placed an order.

import { describe, expect, it } from 'vitest';
import { BybitClient, type CallOptions } from '../../lib/bybit/client.ts';
import { IpBudget } from '../../lib/bybit/ip-budget.ts';
import type { OpenOrder, Strategy, StrategyListParams, StrategyPage } from '../../lib/bybit/types.ts';
import { SettleCoinDiscovery } from '../../lib/cancel/coverage.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { placerOf } from '../../lib/cancel/placers.ts';
import {
  botWarnings,
  canTrade,
  liveStrategies,
  type StrategyPhase,
  StrategyWatch,
  strategyReasons,
} from '../../lib/cancel/strategies.ts';
import type { Clock } from '../../lib/clock.ts';
import { BybitApiError, ExchangeUnavailableError } from '../../lib/errors.ts';

const strategy = (strategyId: string, status: number, extra: Partial<Strategy> = {}): Strategy => ({
  strategyId,
  strategyType: 'twap',
  category: 'UTA_USDT',
  symbol: 'BTCUSDT',
  status,
  ...extra,
});

/**
 * A strategy list as strategy-list.mdx documents it: filters optional, `status` one value, pages of
 * `pageSize`; a stop ends a strategy (3) unless `refuse` says otherwise or `lag` keeps it listed a while.
 */
function exchange(
  strategies: Strategy[],
  options: { refuse?: Record<string, Error>; lag?: number; listError?: Error } = {},
) {
  const lists: StrategyListParams[] = [];
  const stops: string[] = [];
  const calls: { method: string; call?: CallOptions }[] = [];
  const pending = new Map<string, number>();
  const client = {
    async strategies(params: StrategyListParams, call?: CallOptions): Promise<StrategyPage> {
      lists.push(params);
      calls.push({ method: 'strategies', call });
      if (options.listError) throw options.listError;
      for (const [id, left] of pending) {
        if (left > 0) pending.set(id, left - 1);
        else {
          pending.delete(id);
          const s = strategies.find((x) => x.strategyId === id) as Strategy;
          s.status = 3;
        }
      }
      const matching = strategies.filter((s) => !params.status || String(s.status) === params.status);
      const from = Number(params.cursor ?? 0);
      const size = params.pageSize ?? 20;
      const page = matching.slice(from, from + size);
      const next = from + size < matching.length ? String(from + size) : '';
      return { list: page.map((s) => ({ ...s })), nextCursor: next };
    },
    async stopStrategy(strategyId: string, call?: CallOptions) {
      stops.push(strategyId);
      calls.push({ method: 'stopStrategy', call });
      const refusal = options.refuse?.[strategyId];
      if (refusal) throw refusal;
      const s = strategies.find((x) => x.strategyId === strategyId);
      if (!s || !canTrade(s))
        throw new BybitApiError('strategy-stop', 60062, 'Strategy has been terminated', 'rejected');
      if (options.lag) pending.set(strategyId, pending.get(strategyId) ?? options.lag);
      else s.status = 3;
      return { strategyId };
    },
  } as unknown as BybitClient;
  return { client, lists, stops, calls };
}

function ticking(): Clock & { time: number } {
  const clock = {
    time: 1_000_000,
    now: () => {
      clock.time += 7;
      return clock.time;
    },
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

/** Waits for a phase to end. */
async function over(phase: StrategyPhase) {
  await phase.done;
  return phase;
}

/** Runs a phase to its end. */
function settle(watch: StrategyWatch, client: BybitClient, deadline = 2_000_000, clock = ticking()) {
  return over(watch.start(client, deadline, clock));
}

describe('liveStrategies', () => {
  it('lists every category and status in one request when the history fits one page', async () => {
    const { client, lists } = exchange([
      strategy('a', 2),
      strategy('b', 3),
      strategy('c', 6),
      strategy('d', 5),
    ]);
    const live = await liveStrategies(client, {});
    expect(live.map((s) => s.strategyId)).toEqual(['a', 'c', 'd']);
    expect(lists).toEqual([{ pageSize: 50 }]);
  });

  it('reads a longer history by status 2, 5 and 6, every page, instead of paging through what ended', async () => {
    const ended = Array.from({ length: 60 }, (_, i) => strategy(`old${i}`, 3));
    const running = Array.from({ length: 70 }, (_, i) => strategy(`run${i}`, 2));
    const { client, lists } = exchange([...ended, ...running, strategy('wait', 6)]);
    const live = await liveStrategies(client, {});
    expect(live).toHaveLength(71);
    expect(new Set(live.map((s) => s.strategyId)).size).toBe(71);
    expect(lists).toEqual([
      { pageSize: 50 },
      { status: '2', pageSize: 50 },
      { status: '5', pageSize: 50 },
      { status: '6', pageSize: 50 },
      { status: '2', pageSize: 50, cursor: '50' },
    ]);
  });

  it('takes a status the docs do not name for one that can still trade', () => {
    expect(canTrade(strategy('x', 7))).toBe(true);
    expect(canTrade(strategy('x', 4))).toBe(false);
  });
});

describe('StrategyWatch', () => {
  it('stops every strategy that can trade, at first-wave priority, lists again, and reports each', async () => {
    const { client, stops, calls } = exchange([
      strategy('run', 2),
      strategy('paused', 5, { strategyType: 'iceberg' }),
      strategy('armed', 6, { strategyType: 'chaseOrder', symbol: 'ETHUSDT' }),
      strategy('done', 3),
    ]);
    const watch = new StrategyWatch(['linear']);
    const phase = await settle(watch, client);
    expect(phase.quiet).toBe(true);
    expect(watch.clear).toBe(true);
    expect(stops.sort()).toEqual(['armed', 'paused', 'run']);
    expect(calls.every((c) => c.call?.priority === 'first-wave')).toBe(true);
    const report = watch.report('main');
    expect(report).toMatchObject({ account: 'main', remaining: [], verified: true });
    expect(report.found.map((s) => s.strategyId)).toEqual(['run', 'paused', 'armed']);
    expect(report.stopped).toContainEqual({
      strategyId: 'armed',
      strategyType: 'chaseOrder',
      category: 'UTA_USDT',
      symbol: 'ETHUSDT',
      status: 6,
      statusName: 'untriggered',
    });
    expect(report.stopped).toHaveLength(3);
  });

  it('settles at once when none can trade, with a single listing', async () => {
    const { client, lists } = exchange([strategy('done', 3)]);
    const watch = new StrategyWatch(['linear']);
    await settle(watch, client);
    expect(lists).toHaveLength(1);
    expect(watch.report('a')).toEqual({
      account: 'a',
      found: [],
      stopped: [],
      remaining: [],
      verified: true,
    });
  });

  it('names a strategy whose stop is refused, and does not send that stop again until the deadline', async () => {
    const refused = new BybitApiError('strategy-stop', 60072, 'Strategy status modify failed', 'rejected');
    const { client, stops } = exchange([strategy('stuck', 2), strategy('fine', 2)], {
      refuse: { stuck: refused },
    });
    const watch = new StrategyWatch(['linear']);
    const clock = ticking();
    await settle(watch, client, clock.time + 60_000, clock);
    expect(stops.sort()).toEqual(['fine', 'stuck']);
    expect(watch.clear).toBe(false);
    const report = watch.report('main');
    expect(report.remaining).toEqual([
      expect.objectContaining({
        strategyId: 'stuck',
        statusName: 'running',
        why: expect.stringContaining('60072'),
      }),
    ]);
    expect(report.stopped.map((s) => s.strategyId)).toEqual(['fine']);
    expect(strategyReasons(report)).toEqual([
      expect.stringMatching(
        /^main: strategy stuck \(twap UTA_USDT BTCUSDT, running\) can still trade: its stop failed/,
      ),
    ]);
    // Given up well before the deadline.
    expect(clock.time).toBeLessThan(1_000_000 + 10_000);
  });

  it('sends a stop again after a transient failure', async () => {
    const { client, stops } = exchange([strategy('s', 2)], {
      refuse: { s: new ExchangeUnavailableError('strategy-stop', 5, 'HTTP 503') },
    });
    const watch = new StrategyWatch(['linear']);
    const clock = ticking();
    await settle(watch, client, clock.time + 2_000, clock);
    expect(stops.length).toBeGreaterThan(2);
    expect(watch.report('a').remaining[0]?.why).toContain('HTTP 503');
  });

  it('counts a strategy that had already ended (60062) as stopped once the list shows it ended', async () => {
    const s = strategy('s', 2);
    const { client } = exchange([s]);
    const inner = client.stopStrategy.bind(client);
    (client as { stopStrategy: typeof inner }).stopStrategy = async (id, call) => {
      s.status = 3;
      return inner(id, call);
    };
    const watch = new StrategyWatch(['linear']);
    await settle(watch, client);
    expect(watch.clear).toBe(true);
    expect(watch.report('a').stopped.map((x) => x.strategyId)).toEqual(['s']);
  });

  it('lists again until a stop the exchange acknowledged has taken effect', async () => {
    const { client, lists } = exchange([strategy('slow', 2)], { lag: 2 });
    const watch = new StrategyWatch(['linear']);
    const clock = ticking();
    const phase = watch.start(client, clock.time + 60_000, clock);
    await phase.ready;
    // Ready after the first listing that followed the stops, while the strategy still runs: not quiet.
    expect(phase.quiet).toBe(false);
    await over(phase);
    expect(watch.clear).toBe(true);
    expect(lists.length).toBeGreaterThanOrEqual(4);
  });

  it('fails closed when the list cannot be read: not verified, with the error', async () => {
    const { client } = exchange([], {
      listError: new BybitApiError('strategy-list', 10005, 'Permission denied', 'credentials'),
    });
    const watch = new StrategyWatch(['linear']);
    const phase = await settle(watch, client);
    expect(phase.quiet).toBe(true);
    expect(watch.clear).toBe(false);
    const report = watch.report('a');
    expect(report).toMatchObject({ verified: false, error: { retCode: 10005 } });
    expect(strategyReasons(report)[0]).toContain('a: strategies: the strategy list could not be read');
  });

  it('gives up on a list that keeps failing after three listings, long before the deadline', async () => {
    const { client, lists } = exchange([], {
      listError: new ExchangeUnavailableError('strategy-list', 5, 'HTTP 503'),
    });
    const watch = new StrategyWatch(['linear']);
    const clock = ticking();
    const phase = watch.start(client, clock.time + 60_000, clock);
    await phase.done;
    expect(lists).toHaveLength(3);
    expect(clock.time).toBeLessThan(1_000_000 + 1_000);
    // No strategy was ever seen able to trade: order verification need not wait for it.
    expect(phase.quiet).toBe(true);
    expect(watch.report('a')).toMatchObject({
      verified: false,
      error: { errorType: 'ExchangeUnavailableError' },
    });
    expect(strategyReasons(watch.report('a'))[0]).toContain('HTTP 503');
  });

  it('keeps order verification waiting while strategies it saw able to trade cannot be confirmed stopped', async () => {
    const s = strategy('s', 2);
    const { client } = exchange([s], { lag: 1000 });
    const inner = client.strategies.bind(client);
    let listings = 0;
    (client as { strategies: typeof inner }).strategies = async (params, call) => {
      if (++listings > 1) throw new ExchangeUnavailableError('strategy-list', 5, 'HTTP 503');
      return inner(params, call);
    };
    const watch = new StrategyWatch(['linear']);
    const clock = ticking();
    const phase = watch.start(client, clock.time + 60_000, clock);
    await phase.ready;
    expect(phase.quiet).toBe(false);
    await phase.done;
    expect(watch.report('a').remaining.map((x) => x.strategyId)).toEqual(['s']);
    expect(watch.clear).toBe(false);
  });

  it('stops only the strategies of the categories a narrowed run covers, and those of categories it cannot map', async () => {
    const { client, stops } = exchange([
      strategy('perp', 2, { category: 'UTA_USDT' }),
      strategy('spot', 2, { category: 'UTA_SPOT' }),
      strategy('inverse', 6, { category: 'UTA_INVERSE_FUTURE' }),
      strategy('new', 2, { category: 'UTA_SOMETHING_NEW' }),
    ]);
    const watch = new StrategyWatch(['spot', 'inverse']);
    await settle(watch, client);
    expect(stops.sort()).toEqual(['inverse', 'new', 'spot']);
  });

  it('reports the bots whose orders the listings showed, and warns a person to close them', () => {
    const watch = new StrategyWatch(['linear']);
    const order = (orderId: string, symbol: string, createType: string) =>
      ({ orderId, orderLinkId: '', symbol, orderStatus: 'New', createdTime: '0', createType }) as OpenOrder;
    const phase = watch.start(exchange([]).client, 2_000_000, ticking());
    phase.noteOrders([
      order('1', 'BTCUSDT', 'CreateByFGridBot'),
      order('2', 'ETHUSDT', 'CreateByFGridBot'),
      order('2', 'ETHUSDT', 'CreateByFGridBot'),
      order('3', 'BTCUSDT', 'CreateByTWAP'),
      order('4', 'BTCUSDT', 'CreateByUser'),
    ]);
    const report = watch.report('main');
    expect(report.botOrders).toEqual([
      { createType: 'CreateByFGridBot', bot: 'futures grid bot', symbols: ['BTCUSDT', 'ETHUSDT'], orders: 2 },
    ]);
    const [warning] = botWarnings(report);
    expect(warning).toContain(
      'main: 2 order(s) placed by a futures grid bot (CreateByFGridBot) on BTCUSDT, ETHUSDT',
    );
    expect(warning).toContain('may place them again');
    expect(warning).toContain('close it in the Bybit app');
  });
});

describe('placerOf', () => {
  it('names strategies and bots by createType (docs/v5/enum.mdx), and nobody else', () => {
    expect(placerOf({ createType: 'CreateByTWAP' })).toEqual({
      kind: 'strategy',
      name: 'TWAP strategy',
      createType: 'CreateByTWAP',
    });
    expect(placerOf({ createType: 'CreateByIceBerg' })?.kind).toBe('strategy');
    expect(placerOf({ createType: 'CreateByChaseOrder' })?.kind).toBe('strategy');
    expect(placerOf({ createType: 'CreateByMartingaleBot' })).toMatchObject({
      kind: 'bot',
      name: 'futures martingale bot',
    });
    expect(placerOf({ createType: 'CloseByFGridBot' })?.kind).toBe('bot');
    expect(placerOf({ createType: 'CreateByUser' })).toBeUndefined();
    expect(placerOf({ createType: 'constructor' })).toBeUndefined();
    // Spot orders carry no createType.
    expect(placerOf({})).toBeUndefined();
  });
});

describe('the strategy phase in the kill switch', () => {
  it('queues its listing beside the first cancel-alls at first-wave priority, never in front of them', async () => {
    const paths: string[] = [];
    const answers: Record<string, unknown> = {
      '/v5/order/cancel-all': { list: [], success: '1' },
      '/v5/order/realtime': { list: [], nextPageCursor: '' },
      '/v5/strategy/list': { list: [], nextCursor: '' },
    };
    const transport = async (url: string) => {
      const path = new URL(url).pathname;
      paths.push(path);
      return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result: answers[path] }));
    };
    // One request at a time: the order requests leave in is the order the budget hands out its units.
    const ipBudget = new IpBudget({ maxInFlight: 1 });
    const client = new BybitClient({
      credentials: { apiKey: 'KEY', apiSecret: 'secret' },
      baseUrl: 'http://exchange.test',
      transport: transport as unknown as typeof fetch,
      ipBudget,
    });
    const exchange = {
      discovery: new SettleCoinDiscovery(),
      accountNames: async () => ['main'],
      withAccount: async <T>(_: string, work: (c: BybitClient, n: string) => Promise<T>) =>
        work(client, 'main'),
    } as unknown as Exchange;

    const report = await killSwitch(
      exchange,
      { categories: ['spot', 'option'], linearSettleCoins: [], inverseCoins: [] },
      {},
      Date.now() + 10_000,
    );

    expect(report.ok).toBe(true);
    // Six cancel-alls (five spot kinds, option), then the strategy list, then the verification listings.
    expect(paths.slice(0, 7)).toEqual([...Array(6).fill('/v5/order/cancel-all'), '/v5/strategy/list']);
    expect(paths.slice(7).sort()).toEqual(['/v5/order/realtime', '/v5/order/realtime']);
  });
});

/** A clock that stands still unless slept or moved by hand. */
function frozen(at = 1_000_000): Clock & { time: number } {
  const clock = {
    time: at,
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

/** A client whose strategy list answers `pages(params, n)` for the n-th request (from 0). */
function paged(pages: (params: StrategyListParams, n: number) => StrategyPage) {
  const lists: StrategyListParams[] = [];
  const client = {
    async strategies(params: StrategyListParams) {
      lists.push(params);
      return pages(params, lists.length - 1);
    },
  } as unknown as BybitClient;
  return { client, lists };
}

describe('liveStrategies: a history longer than one page', () => {
  const full = { list: [strategy('first', 2)], nextCursor: 'more' };

  it('fails, naming it, when the exchange answers the cursor it was sent', async () => {
    const { client, lists } = paged((p) => (p.status ? { list: [], nextCursor: 'again' } : full));
    await expect(liveStrategies(client, {})).rejects.toThrow(
      'strategy list: the exchange returned the same cursor twice',
    );
    expect(lists.filter((p) => p.status === '2')).toEqual([
      { status: '2', pageSize: 50 },
      { status: '2', pageSize: 50, cursor: 'again' },
    ]);
  });

  it('reads 100 pages of a status at most, then fails naming the limit', async () => {
    const { client, lists } = paged((p, n) => (p.status ? { list: [], nextCursor: `c${n}` } : full));
    await expect(liveStrategies(client, {})).rejects.toThrow('strategy list: more than 100 pages');
    expect(lists.filter((p) => p.status === '5')).toHaveLength(100);
  });

  it('leaves out a strategy a status listing shows as ended', async () => {
    const { client } = paged((p) =>
      p.status === '2'
        ? { list: [strategy('running', 2), strategy('ended', 3)], nextCursor: '' }
        : p.status
          ? { list: [], nextCursor: '' }
          : full,
    );
    expect((await liveStrategies(client, {})).map((s) => s.strategyId)).toEqual(['first', 'running']);
  });
});

describe('StrategyWatch: deadlines, readiness and what the report says', () => {
  it('sends no stop without the time to list after it, and says so', async () => {
    const { client, stops, lists } = exchange([strategy('s', 2)]);
    const watch = new StrategyWatch(['linear']);
    const clock = frozen();
    // The 50 ms margin reaches the deadline right after the first listing.
    await settle(watch, client, clock.time + 50, clock);
    expect(lists).toHaveLength(1);
    expect(stops).toEqual([]);
    const report = watch.report('main');
    expect(report).toMatchObject({ verified: true, stopped: [] });
    expect(report.remaining.map((s) => s.why)).toEqual(['no stop could be sent before the deadline']);
  });

  it('ends unconfirmed when a stop the exchange acknowledged leaves no time for the next pause and listing', async () => {
    const { client, stops, lists } = exchange([strategy('slow', 2)], { lag: 1000 });
    const watch = new StrategyWatch(['linear']);
    const clock = frozen();
    // Round 3 would pause 50 ms and keep a 50 ms margin: that reaches the deadline.
    await settle(watch, client, clock.time + 100, clock);
    expect(lists).toHaveLength(2);
    expect(stops).toEqual(['slow', 'slow']);
    expect(clock.time).toBe(1_000_000);
    const report = watch.report('main');
    expect(report).toMatchObject({ verified: false, stopped: [] });
    expect('error' in report).toBe(false);
    expect(strategyReasons(report)).toEqual([
      'main: strategy slow (twap UTA_USDT BTCUSDT, running) can still trade: its stop was acknowledged, but no listing confirmed that it ended',
      'main: strategies: the strategy list could not be read, so no stop is confirmed: no listing answered after the last stop',
    ]);
  });

  it('names a strategy still listed after its acknowledged stop, once a refused stop has gone through', async () => {
    const s = strategy('slow', 2);
    const { client, stops, lists } = exchange([s], { lag: 1000 });
    const clock = frozen();
    const list = client.strategies.bind(client);
    const stop = client.stopStrategy.bind(client);
    // Each listing takes 60 ms; the first stop is refused for a moment, the next ones are acknowledged.
    (client as { strategies: typeof list }).strategies = async (params, call) => {
      clock.time += 60;
      return list(params, call);
    };
    (client as { stopStrategy: typeof stop }).stopStrategy = async (id, call) => {
      if (stops.length === 0) {
        stops.push(id);
        throw new ExchangeUnavailableError('strategy-stop', 5, 'HTTP 503');
      }
      return stop(id, call);
    };
    const watch = new StrategyWatch(['linear']);
    await settle(watch, client, clock.time + 250, clock);
    expect(lists).toHaveLength(3);
    expect(stops).toEqual(['slow', 'slow']);
    const report = watch.report('main');
    expect(report).toMatchObject({ verified: true, stopped: [], found: [{ strategyId: 'slow' }] });
    expect(report.remaining.map((x) => x.why)).toEqual([
      'its stop was acknowledged, yet it was still listed at the end',
    ]);
  });

  it('gives up on a failed list at once when no time is left for another listing', async () => {
    const { client, lists } = exchange([], {
      listError: new ExchangeUnavailableError('strategy-list', 5, 'HTTP 503'),
    });
    const watch = new StrategyWatch(['linear']);
    const clock = frozen();
    await settle(watch, client, clock.time + 50, clock);
    expect(lists).toHaveLength(1);
    expect(watch.report('main')).toMatchObject({
      verified: false,
      error: { errorType: 'ExchangeUnavailableError' },
    });
  });

  it('is not ready for order verification while its first listing has failed and the next is out', async () => {
    let calls = 0;
    let answer: (page: StrategyPage) => void = () => undefined;
    const client = {
      strategies: async () => {
        if (++calls === 1) throw new ExchangeUnavailableError('strategy-list', 5, 'HTTP 503');
        return new Promise<StrategyPage>((resolve) => {
          answer = resolve;
        });
      },
    } as unknown as BybitClient;
    const phase = new StrategyWatch(['linear']).start(client, 2_000_000, frozen());
    let ready = false;
    phase.ready.then(() => {
      ready = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    expect(ready).toBe(false);
    answer({ list: [], nextCursor: '' });
    await phase.done;
    expect(ready).toBe(true);
  });

  it('is not ready for order verification while the stops of its first listing are out', async () => {
    const { client, stops } = exchange([strategy('s', 2)]);
    const stop = client.stopStrategy.bind(client);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    (client as { stopStrategy: typeof stop }).stopStrategy = async (id, call) => {
      await held;
      return stop(id, call);
    };
    const phase = new StrategyWatch(['linear']).start(client, 2_000_000, frozen());
    let ready = false;
    phase.ready.then(() => {
      ready = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ready).toBe(false);
    expect(phase.quiet).toBe(false);
    release();
    await phase.done;
    expect(stops).toEqual(['s']);
    expect(ready).toBe(true);
    expect(phase.quiet).toBe(true);
  });

  it('reports the symbols a bot traded on in order, whatever order its orders were listed in', () => {
    const watch = new StrategyWatch(['linear']);
    const order = (orderId: string, symbol: string) =>
      ({
        orderId,
        orderLinkId: '',
        symbol,
        orderStatus: 'New',
        createdTime: '0',
        createType: 'CreateByMartingaleBot',
      }) as OpenOrder;
    watch
      .start(exchange([]).client, 2_000_000, ticking())
      .noteOrders([order('1', 'XRPUSDT'), order('2', 'ADAUSDT')]);
    expect(watch.report('main').botOrders).toEqual([
      {
        createType: 'CreateByMartingaleBot',
        bot: 'futures martingale bot',
        symbols: ['ADAUSDT', 'XRPUSDT'],
        orders: 2,
      },
    ]);
  });
});
