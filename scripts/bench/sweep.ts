// Sweep throughput: the real cancel handler on its schedule, sweeping 1,000 stale orders out of 2,000 open
// in one linear scope at 10 cancels/s per endpoint, next to the naive peer's one-cancel-per-order loop on
// another account (rate limits are per UID, so the two do not share a budget) over the same book.

import { randomBytes } from 'node:crypto';
import type { OrderSeed } from '../../test/emulator/index.ts';
import { lambdaContext, loadEvent } from '../../test/support/events.ts';
import { peerClient, peerSweep } from './peer.ts';
import { type RequestStats, startRemoteStack } from './remote-stack.ts';

export const OPEN_ORDERS = 2000;
export const STALE_ORDERS = 1000;
/** Per UID and endpoint, the documented default for linear cancel and cancel-batch (one unit per order). */
export const CANCEL_RATE = 10;
const MAX_AGE_SECONDS = 3600;
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];
/** The cancel function's Lambda timeout (serverless.yml). */
const FUNCTION_TIMEOUT_MS = 120_000;

interface SweepReport {
  ok: boolean;
  cancelled: number;
  remaining: number;
  scopes: { requests: { batch: number; single: number }; failed: unknown[] }[];
}

export interface SweepSide {
  ms: number;
  stale: number;
  cleared: number;
  left: number;
  requests: RequestStats;
  /** Envelope-level 10006 answers. */
  rateLimited: number;
  /** Order attempts beyond one per stale order (over-budget batch items come back one by one as 10006). */
  itemRetries: number;
  error?: string;
}

export interface SweepResult {
  open: number;
  stale: number;
  cancelRate: number;
  /** Batch and single cancels have separate budgets: 2 × rate orders/s at best. */
  boundMs: number;
  ours: SweepSide;
  peer: SweepSide;
}

/** Half stale (over two hours old), half fresh (seconds old), interleaved across symbols and pages. */
function seeds(now: number, prefix: string): OrderSeed[] {
  return Array.from({ length: OPEN_ORDERS }, (_, i) => ({
    category: 'linear',
    symbol: SYMBOLS[i % SYMBOLS.length] as string,
    orderLinkId: `${prefix}-${i}`,
    createdTime: i % 2 === 0 ? now - 2 * MAX_AGE_SECONDS * 1000 - i : now - i,
  }));
}

export async function measureSweep(): Promise<SweepResult> {
  const stack = await startRemoteStack({
    accounts: ['main'],
    // Realtime (listing) keeps its documented 50/s: the bound is about the cancel budgets.
    emulator: { rateLimits: { cancel: CANCEL_RATE, 'cancel-batch': CANCEL_RATE, 'cancel-all': CANCEL_RATE } },
    env: {
      SCOPE_CATEGORIES: 'linear',
      SCOPE_LINEAR_SETTLE_COINS: 'USDT',
      STALE_ORDER_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
    },
  });
  try {
    Object.assign(process.env, stack.env);
    const { handler } = await import('../../handlers/cancel.ts');
    const invoke = handler as (event: unknown, context: unknown) => Promise<unknown>;
    const ours = stack.accounts[0]?.apiKey as string;
    // The peer's account is on the exchange only, not in the function's secret: the sweep must not see it.
    const peerAccount = {
      uid: '200001',
      apiKey: `peer-${randomBytes(6).toString('hex')}`,
      apiSecret: randomBytes(18).toString('hex'),
    };
    await stack.addAccount(peerAccount);
    const peer = peerClient(peerAccount.apiKey, peerAccount.apiSecret, stack.env.BYBIT_BASE_URL as string);

    // A warm function: the first (empty) sweep reads the secret and opens the connection.
    await invoke(loadEvent('schedule.json'), lambdaContext(FUNCTION_TIMEOUT_MS));
    await stack.reset();
    const now = Date.now();
    await stack.addOrders(ours, seeds(now, 'ours'));
    await stack.addOrders(peerAccount.apiKey, seeds(now, 'peer'));

    const oursRun = (async (): Promise<
      Omit<SweepSide, 'requests' | 'rateLimited' | 'itemRetries' | 'left'>
    > => {
      const started = performance.now();
      try {
        const report = (await invoke(
          loadEvent('schedule.json'),
          lambdaContext(FUNCTION_TIMEOUT_MS),
        )) as SweepReport;
        return { ms: performance.now() - started, stale: STALE_ORDERS, cleared: report.cancelled };
      } catch (error) {
        const report = (error as { report?: SweepReport }).report;
        return {
          ms: performance.now() - started,
          stale: STALE_ORDERS,
          cleared: report?.cancelled ?? 0,
          error: `${(error as Error).name}: ${(error as Error).message}`,
        };
      }
    })();
    const peerRun = (async () => {
      const started = performance.now();
      const outcome = await peerSweep(peer, {
        settleCoin: 'USDT',
        maxAgeMs: MAX_AGE_SECONDS * 1000,
        deadline: Date.now() + FUNCTION_TIMEOUT_MS,
      });
      return { ms: performance.now() - started, outcome };
    })();
    const [oursDone, peerDone] = await Promise.all([oursRun, peerRun]);

    const side = async (
      apiKey: string,
      stale: number,
    ): Promise<Pick<SweepSide, 'requests' | 'rateLimited' | 'itemRetries' | 'left'>> => {
      const requests = await stack.requestStats(apiKey);
      const singles = requests.byPath['/v5/order/cancel'] ?? 0;
      const staleLeft = (await stack.openCount(apiKey)) - (OPEN_ORDERS - stale);
      return {
        requests,
        rateLimited: requests.byRetCode['10006'] ?? 0,
        itemRetries: requests.batchItems + singles - stale,
        left: staleLeft,
      };
    };
    return {
      open: OPEN_ORDERS,
      stale: STALE_ORDERS,
      cancelRate: CANCEL_RATE,
      boundMs: (STALE_ORDERS / (2 * CANCEL_RATE)) * 1000,
      ours: { ...oursDone, ...(await side(ours, STALE_ORDERS)) },
      peer: {
        ms: peerDone.ms,
        stale: peerDone.outcome.stale,
        cleared: peerDone.outcome.cancelled,
        ...(await side(peerAccount.apiKey, STALE_ORDERS)),
      },
    };
  } finally {
    await stack.close();
  }
}
