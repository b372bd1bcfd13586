// Kill-switch latency: the real cancel-all handler, warm, answering the EventBridge kill-switch event over
// 3 accounts and the default scope, against the naive peer's sequential cancel-all loop; 50 ms per request.
// The handler records its report in a state table (dynalite) and publishes it to a reports topic (the SNS
// stand-in), both on loopback in the stack's process, as a deployed stack always does: the time is the whole
// invocation, and `aftermathMs` is the part after the kill switch's own report was final.
// The book is extended with coins no default setting names (inverse XRP, DOT, a SOL future; SOL options):
// the widest listings must find them. The ideal critical path: the 700-order scope's cancel-all and its
// repeat, the listing, and (its own cancels were acknowledged) the second listing after the pause. The same
// book with strategy orders on every account makes a second measurement: there the critical path is five
// request latencies and the pause (strategy list, stop, strategy list, then the order listing that must
// follow them, and its second listing).
// The first measurement also runs the same kill switch with the enforced halt on: the accounts are
// sub-accounts, each with a bot key beside the kill switch's own, which the master key makes read-only
// beside the first wave (there too the verification listing is followed by its second listing).

import { randomBytes } from 'node:crypto';
import { killSwitch, SECOND_LISTING_PAUSE_MS } from '../../lib/cancel/kill-switch.ts';
import { everythingScopes } from '../../lib/cancel/scopes.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import type { OrderSeed, StrategySeed } from '../../test/emulator/index.ts';
import { lambdaContext, loadEvent } from '../../test/support/events.ts';
import { MemoryHaltStore } from '../../test/support/halt-store.ts';
import { peerClient, peerKillSwitch } from './peer.ts';
import { type RemoteStack, startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';

export const LATENCY_MS = 50;
const RUNS = 7;
export const KILL_SWITCH_ACCOUNTS = ['alpha', 'beta', 'gamma'];
/** One scope over Bybit's 500-per-call cap, so the repeat is on the critical path. */
const LARGE_SCOPE_ORDERS = 700;
const FUTURES_CANCEL_ALL_CAP = 500;
/** The extended book: inverse coins outside SCOPE_INVERSE_COINS (the first wave cannot name them). */
const OUTSIDE_INVERSE = ['XRPUSD', 'DOTUSD', 'SOLUSDH27'];
const OUTSIDE_INVERSE_ORDERS = 9;
const OUTSIDE_OPTION_ORDERS = 2;
/** Our client remembers the option cancel-all window (1/s): a run starts after it has freed, as a real one would. */
export const WINDOW_GAP_MS = 1100;
/**
 * A state-table write in the region (DynamoDB PutItem/UpdateItem, a few ms at p50): the in-memory halt store
 * takes this long per write, so the write ahead of each flip counts on the halted path.
 */
const STORE_WRITE_MS = 10;

export interface KillSwitchResult {
  latencyMs: number;
  runs: number;
  accounts: number;
  scopesPerAccount: number;
  ordersPerRun: number;
  largestScope: number;
  /** Cancel-alls past 500 on the critical path. */
  repeats: number;
  /** The pause before the second listing that confirms an empty one after acknowledged cancels. */
  secondListingPauseMs: number;
  /**
   * One cancel-all + the repeats past 500 + the listing + the second listing, in request latencies, plus the
   * pause between the two listings.
   */
  idealMs: number;
  /** Orders per account on coins outside the configured lists (found by the widest listings). */
  outsideConfigured: number;
  ours: {
    ms: number[];
    medianMs: number;
    requests: number;
    left: number[];
    failures: string[];
    /** What the invocation took after the kill switch's report was final (log, record, notify), median. */
    aftermathMs?: number;
  };
  peer: { ms: number[]; medianMs: number; requests: number; left: number[]; failures: number };
  /** The same kill switch with the enforced halt on (absent in results of older runs). */
  halted?: HaltedResult;
}

export interface HaltedResult {
  /** Bot keys made read-only per run (one per account). */
  keysPerRun: number;
  storeWriteMs: number;
  /**
   * The critical path with the halt: per account, listing the sub UID's keys, the write ahead and the flip run
   * beside the first wave (cancel-all and its repeat past 500); the verification listing follows the longer,
   * and its second listing after the pause.
   */
  idealMs: number;
  ms: number[];
  medianMs: number;
  requests: number;
  left: number[];
  /** Keys still read-write after a run (should be none), worst run. */
  unflipped: number[];
  failures: string[];
}

/** Orders of every kind the default scope covers; the first account has one scope over the 500 cap. */
export function seedsFor(accountIndex: number): OrderSeed[] {
  const seeds: OrderSeed[] = [];
  const add = (
    category: OrderSeed['category'],
    symbols: string[],
    kinds: OrderSeed['kind'][],
    count: number,
  ) => {
    for (let i = 0; i < count; i++) {
      seeds.push({ category, symbol: symbols[i % symbols.length] as string, kind: kinds[i % kinds.length] });
    }
  };
  const linearUsdt = accountIndex === 0 ? LARGE_SCOPE_ORDERS : 30;
  add(
    'linear',
    ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
    ['Order', 'Order', 'Order', 'StopOrder', 'tpslOrder'],
    linearUsdt,
  );
  add('linear', ['BTCPERP', 'ETHPERP'], ['Order', 'StopOrder', 'tpslOrder'], 6);
  add('inverse', ['BTCUSD'], ['Order', 'StopOrder', 'tpslOrder'], 3);
  add('inverse', ['ETHUSD'], ['Order', 'StopOrder', 'tpslOrder'], 3);
  add('inverse', OUTSIDE_INVERSE, ['Order', 'StopOrder', 'tpslOrder'], OUTSIDE_INVERSE_ORDERS);
  add('option', ['SOL-27DEC26-200-C'], ['Order'], OUTSIDE_OPTION_ORDERS);
  for (const kind of ['Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'BidirectionalTpslOrder'] as const) {
    add('spot', ['BTCUSDT', 'ETHUSDC'], [kind], 4);
  }
  add('option', ['BTC-27DEC26-100000-C', 'ETH-27DEC26-5000-P-USDT'], ['Order'], 4);
  return seeds;
}

export async function measureKillSwitch(): Promise<KillSwitchResult> {
  const stack = await startRemoteStack(
    {
      accounts: KILL_SWITCH_ACCOUNTS,
      subAccounts: KILL_SWITCH_ACCOUNTS,
      emulator: { latencyMs: LATENCY_MS },
    },
    { reporting: true },
  );
  try {
    Object.assign(process.env, stack.env);
    const { handler } = await import('../../handlers/cancel-all.ts');
    const invoke = handler as Invoke;
    const scopes = everythingScopes(loadConfig({}).scope);
    const baseUrl = stack.env.BYBIT_BASE_URL as string;
    const peers = stack.accounts.map((a) => peerClient(a.apiKey, a.apiSecret as string, baseUrl));
    const seedAll = async () => {
      let count = 0;
      for (const [i, account] of stack.accounts.entries()) {
        count += (await stack.addOrders(account.apiKey, seedsFor(i))).length;
      }
      return count;
    };

    // A bot key beside the kill switch's own on every sub-account: what the halt makes read-only.
    const master = stack.master;
    if (!master) throw new Error('the stack has no master account');
    const bots = stack.accounts.map(() => ({
      apiKey: `key-bench-bot-${randomBytes(6).toString('hex')}`,
      apiSecret: randomBytes(18).toString('hex'),
    }));
    for (const [i, account] of stack.accounts.entries()) {
      await stack.addAccount({ uid: account.uid, parentUid: master.uid, ...(bots[i] as (typeof bots)[0]) });
    }
    // Bots trade on keys made long ago (a key made today may be a rotation of the kill switch's own).
    const createdAt = Date.now() - 30 * 86_400_000;
    const readWriteAgain = () => Promise.all(bots.map((b) => stack.setKey(b.apiKey, { createdAt })));
    await readWriteAgain();
    const { currentApp } = await import('../../lib/lambda/app.ts');
    const halted = async () => {
      const app = currentApp();
      const store = new MemoryHaltStore({ latencyMs: STORE_WRITE_MS });
      const setup = { store, master: () => app.exchange.masterClient() };
      const deadline = Date.now() + 60_000;
      return killSwitch(app.exchange, app.config.scope, { reason: 'bench' }, deadline, app.clock, setup);
    };

    // Warm both: the function's first invocation reads the secret and opens connections; so does the peer.
    await seedAll();
    await invoke(loadEvent('kill-switch.json'), lambdaContext(60_000));
    await stack.reset();
    await seedAll();
    await peerKillSwitch(peers, scopes);
    // And the halt: the master's secret, client and connection.
    await stack.reset();
    await seedAll();
    await halted();
    await readWriteAgain();

    const result: KillSwitchResult = {
      latencyMs: LATENCY_MS,
      runs: RUNS,
      accounts: KILL_SWITCH_ACCOUNTS.length,
      scopesPerAccount: scopes.length,
      ordersPerRun: 0,
      largestScope: LARGE_SCOPE_ORDERS,
      repeats: Math.floor(LARGE_SCOPE_ORDERS / FUTURES_CANCEL_ALL_CAP),
      secondListingPauseMs: SECOND_LISTING_PAUSE_MS,
      // The extended book's unnamed inverse coins take listing + cancel + two listings: four latencies, no
      // longer than the 700-order scope's cancel-all + repeat + two listings.
      idealMs:
        (3 + Math.floor(LARGE_SCOPE_ORDERS / FUTURES_CANCEL_ALL_CAP)) * LATENCY_MS + SECOND_LISTING_PAUSE_MS,
      outsideConfigured: OUTSIDE_INVERSE_ORDERS + OUTSIDE_OPTION_ORDERS,
      ours: { ms: [], medianMs: 0, requests: 0, left: [], failures: [] },
      peer: { ms: [], medianMs: 0, requests: 0, left: [], failures: 0 },
      halted: {
        keysPerRun: bots.length,
        storeWriteMs: STORE_WRITE_MS,
        // Verification after the longer of: cancel-all + repeats past 500, or key listing + write ahead + flip;
        // then, the run's own cancels having been acknowledged, the pause and the second listing.
        idealMs:
          Math.max(
            (1 + Math.floor(LARGE_SCOPE_ORDERS / FUTURES_CANCEL_ALL_CAP)) * LATENCY_MS,
            2 * LATENCY_MS + STORE_WRITE_MS,
          ) +
          2 * LATENCY_MS +
          SECOND_LISTING_PAUSE_MS,
        ms: [],
        medianMs: 0,
        requests: 0,
        left: [],
        unflipped: [],
        failures: [],
      },
    };
    const halt = result.halted as HaltedResult;
    const oursRequests: number[] = [];
    const peerRequests: number[] = [];
    const haltedRequests: number[] = [];
    const aftermath: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const ours = await timedRun(stack, invoke, seedAll);
      result.ordersPerRun = ours.orders;
      if (ours.failure) result.ours.failures.push(ours.failure);
      result.ours.ms.push(ours.ms);
      if (ours.aftermathMs !== undefined) aftermath.push(ours.aftermathMs);
      result.ours.left.push(ours.left);
      oursRequests.push(ours.stats.total);

      await stack.reset();
      await seedAll();
      const peerStarted = performance.now();
      const peer = await peerKillSwitch(peers, scopes);
      result.peer.ms.push(performance.now() - peerStarted);
      result.peer.left.push(await stack.openCount());
      result.peer.failures += peer.failures;
      peerRequests.push((await stack.requestStats()).total);

      await stack.reset();
      await seedAll();
      await readWriteAgain();
      await sleep(WINDOW_GAP_MS);
      const haltStarted = performance.now();
      let flipped = 0;
      try {
        const report = await halted();
        flipped = (report.halt?.accounts ?? []).reduce((n, a) => n + a.flipped.length, 0);
      } catch (error) {
        halt.failures.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
      halt.ms.push(performance.now() - haltStarted);
      halt.left.push(await stack.openCount());
      halt.unflipped.push(bots.length - flipped);
      haltedRequests.push((await stack.requestStats()).total);
    }
    halt.medianMs = median(halt.ms);
    halt.requests = median(haltedRequests);
    result.ours.medianMs = median(result.ours.ms);
    result.peer.medianMs = median(result.peer.ms);
    result.ours.requests = median(oursRequests);
    result.peer.requests = median(peerRequests);
    if (aftermath.length > 0) result.ours.aftermathMs = median(aftermath);
    return result;
  } finally {
    await stack.close();
  }
}

const ENDED_STRATEGIES = 10;
const LIVE_STRATEGIES = 3;

/**
 * The strategy orders of each account: a running chase (it places its order again 50 ms after a cancel), an
 * untriggered TWAP, a paused iceberg, and ten that ended, so that the listing reads a real history.
 */
function strategiesFor(): StrategySeed[] {
  const ended = Array.from({ length: ENDED_STRATEGIES }, (_, i) => ({
    category: 'UTA_USDT' as const,
    symbol: 'BTCUSDT',
    strategyType: 'twap' as const,
    status: 3 as const,
    createdTime: Date.now() - (i + 1) * 60_000,
  }));
  return [
    ...ended,
    { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'chaseOrder', replaceAfterMs: 50 },
    {
      category: 'UTA_SPOT',
      symbol: 'BTCUSDT',
      strategyType: 'twap',
      triggerPrice: '150000',
      lastPrice: '95000',
    },
    { category: 'UTA_INVERSE', symbol: 'BTCUSD', strategyType: 'iceberg' },
  ];
}

export interface StrategyKillSwitchResult {
  latencyMs: number;
  runs: number;
  accounts: number;
  ordersPerRun: number;
  /** Per account: strategies that can trade (running, paused, untriggered) and ones that ended. */
  strategiesPerAccount: { live: number; ended: number };
  /**
   * The critical path: strategy listing, stops, strategy listing again, then the order listing that may
   * only follow it (a running strategy re-places its child until stopped) and, the run's own cancels having
   * been acknowledged, the second listing after the pause: in request latencies, plus the pause.
   */
  idealMs: number;
  /** The pause before the second order listing. */
  secondListingPauseMs: number;
  ours: {
    ms: number[];
    medianMs: number;
    requests: number;
    strategyRequests: number;
    left: number[];
    strategiesLeft: number[];
    failures: string[];
  };
}

/** The same kill switch on the same book, with strategy orders on every account: ours only (the peer has no notion of them). */
export async function measureKillSwitchWithStrategies(): Promise<StrategyKillSwitchResult> {
  const stack = await startRemoteStack(
    { accounts: KILL_SWITCH_ACCOUNTS, emulator: { latencyMs: LATENCY_MS } },
    { reporting: true },
  );
  try {
    Object.assign(process.env, stack.env);
    const { handler } = await import('../../handlers/cancel-all.ts');
    const invoke = handler as Invoke;
    const seedAll = async () => {
      let count = 0;
      for (const [i, account] of stack.accounts.entries()) {
        count += (await stack.addOrders(account.apiKey, seedsFor(i))).length;
        const ids = await stack.addStrategies(account.apiKey, strategiesFor());
        // The iceberg (the last one) pauses, as when the price passes its limit.
        await stack.pauseStrategy(ids.at(-1) as string);
      }
      return count;
    };
    await seedAll();
    await invoke(loadEvent('kill-switch.json'), lambdaContext(60_000));

    const result: StrategyKillSwitchResult = {
      latencyMs: LATENCY_MS,
      runs: RUNS,
      accounts: KILL_SWITCH_ACCOUNTS.length,
      ordersPerRun: 0,
      strategiesPerAccount: { live: LIVE_STRATEGIES, ended: ENDED_STRATEGIES },
      idealMs: 5 * LATENCY_MS + SECOND_LISTING_PAUSE_MS,
      secondListingPauseMs: SECOND_LISTING_PAUSE_MS,
      ours: {
        ms: [],
        medianMs: 0,
        requests: 0,
        strategyRequests: 0,
        left: [],
        strategiesLeft: [],
        failures: [],
      },
    };
    const requests: number[] = [];
    const strategyRequests: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { orders, failure, ms, left, stats } = await timedRun(stack, invoke, seedAll);
      result.ordersPerRun = orders;
      if (failure) result.ours.failures.push(failure);
      result.ours.ms.push(ms);
      result.ours.left.push(left);
      result.ours.strategiesLeft.push(await stack.liveStrategyCount());
      requests.push(stats.total);
      const { byPath } = stats;
      strategyRequests.push((byPath['/v5/strategy/list'] ?? 0) + (byPath['/v5/strategy/stop'] ?? 0));
    }
    result.ours.medianMs = median(result.ours.ms);
    result.ours.requests = median(requests);
    result.ours.strategyRequests = median(strategyRequests);
    return result;
  } finally {
    await stack.close();
  }
}

type Invoke = (event: unknown, context: unknown) => Promise<unknown>;

/** One timed invocation of the handler on a freshly seeded book, started with the option cancel-all window free. */
async function timedRun(stack: RemoteStack, invoke: Invoke, seedAll: () => Promise<number>) {
  await stack.reset();
  const orders = await seedAll();
  await sleep(WINDOW_GAP_MS);
  const event = loadEvent('kill-switch.json');
  const context = lambdaContext(60_000);
  const started = performance.now();
  let failure: string | undefined;
  let report: { durationMs?: number } | undefined;
  try {
    report = (await invoke(event, context)) as typeof report;
  } catch (error) {
    failure = `${(error as Error).name}: ${(error as Error).message}`;
    report = (error as { report?: typeof report }).report;
  }
  const ms = performance.now() - started;
  // The part after the report was final: logging it, recording it, publishing its message.
  const aftermathMs = typeof report?.durationMs === 'number' ? ms - report.durationMs : undefined;
  return {
    orders,
    ms,
    aftermathMs,
    failure,
    left: await stack.openCount(),
    stats: await stack.requestStats(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
