// Kill-switch latency: the real cancel-all handler, warm, answering the EventBridge kill-switch event over
// 3 accounts and the default scope, against the naive peer's sequential cancel-all loop; 50 ms per request.
// The book is extended with coins no default setting names (inverse XRP, DOT, a SOL future; SOL options):
// the widest listings must find them. The ideal critical path: the 700-order scope's cancel-all and its
// repeat, the listing, and (its own cancels were acknowledged) the second listing after the pause.

import { SECOND_LISTING_PAUSE_MS } from '../../lib/cancel/kill-switch.ts';
import { everythingScopes } from '../../lib/cancel/scopes.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import type { OrderSeed } from '../../test/emulator/index.ts';
import { lambdaContext, loadEvent } from '../../test/support/events.ts';
import { peerClient, peerKillSwitch } from './peer.ts';
import { startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';

export const LATENCY_MS = 50;
const RUNS = 7;
const ACCOUNTS = ['alpha', 'beta', 'gamma'];
/** One scope over Bybit's 500-per-call cap, so the repeat is on the critical path. */
const LARGE_SCOPE_ORDERS = 700;
const FUTURES_CANCEL_ALL_CAP = 500;
/** The extended book: inverse coins outside SCOPE_INVERSE_COINS (the first wave cannot name them). */
const OUTSIDE_INVERSE = ['XRPUSD', 'DOTUSD', 'SOLUSDH27'];
const OUTSIDE_INVERSE_ORDERS = 9;
const OUTSIDE_OPTION_ORDERS = 2;
/** Our client remembers the option cancel-all window (1/s): a run starts after it has freed, as a real one would. */
const WINDOW_GAP_MS = 1100;

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
  ours: { ms: number[]; medianMs: number; requests: number; left: number[]; failures: string[] };
  peer: { ms: number[]; medianMs: number; requests: number; left: number[]; failures: number };
}

/** Orders of every kind the default scope covers; the first account has one scope over the 500 cap. */
function seedsFor(accountIndex: number): OrderSeed[] {
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
  const stack = await startRemoteStack({ accounts: ACCOUNTS, emulator: { latencyMs: LATENCY_MS } });
  try {
    Object.assign(process.env, stack.env);
    const { handler } = await import('../../handlers/cancel-all.ts');
    const invoke = handler as (event: unknown, context: unknown) => Promise<unknown>;
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

    // Warm both: the function's first invocation reads the secret and opens connections; so does the peer.
    await seedAll();
    await invoke(loadEvent('kill-switch.json'), lambdaContext(60_000));
    await stack.reset();
    await seedAll();
    await peerKillSwitch(peers, scopes);

    const result: KillSwitchResult = {
      latencyMs: LATENCY_MS,
      runs: RUNS,
      accounts: ACCOUNTS.length,
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
    };
    const oursRequests: number[] = [];
    const peerRequests: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await stack.reset();
      result.ordersPerRun = await seedAll();
      await sleep(WINDOW_GAP_MS);
      const event = loadEvent('kill-switch.json');
      const context = lambdaContext(60_000);
      const started = performance.now();
      try {
        await invoke(event, context);
      } catch (error) {
        result.ours.failures.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
      result.ours.ms.push(performance.now() - started);
      result.ours.left.push(await stack.openCount());
      oursRequests.push((await stack.requestStats()).total);

      await stack.reset();
      await seedAll();
      const peerStarted = performance.now();
      const peer = await peerKillSwitch(peers, scopes);
      result.peer.ms.push(performance.now() - peerStarted);
      result.peer.left.push(await stack.openCount());
      result.peer.failures += peer.failures;
      peerRequests.push((await stack.requestStats()).total);
    }
    result.ours.medianMs = median(result.ours.ms);
    result.peer.medianMs = median(result.peer.ms);
    result.ours.requests = median(oursRequests);
    result.peer.requests = median(peerRequests);
    return result;
  } finally {
    await stack.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
