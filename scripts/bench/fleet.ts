// Fleet kill switch behind one IP: the real cancel-all handler, warm, over 40 or 100 accounts, each with
// linear, spot and inverse orders, against the emulator with Bybit's IP limit on (600 requests per 5 s for
// every key, 403 and a ban past it). What it shows: the one budget per container keeps the whole fleet
// under the limit, and how close the wall time comes to what the budget allows at all.

import { IP_WINDOW_MS } from '../../lib/bybit/ip-budget.ts';
import { SECOND_LISTING_PAUSE_MS } from '../../lib/cancel/kill-switch.ts';
import { defaults } from '../../lib/lambda/config.ts';
import { lambdaContext, loadEvent } from '../../test/support/events.ts';
import { FLEET_BOOK_ORDERS, fleetBook } from '../../test/support/fleet.ts';
import { startRemoteStack } from './remote-stack.ts';

/** Per request, as from Singapore to Bybit's matching engine. */
export const LATENCY_MS = 50;
const CANCEL_ALL_PATH = '/v5/order/cancel-all';
/** The kill switch function's Lambda timeout (serverless.yml). */
const FUNCTION_TIMEOUT_MS = 60_000;
/** After the last window: a cancel-all, a listing, the pause, and the second listing. */
const TAIL_MS = 3 * LATENCY_MS + SECOND_LISTING_PAUSE_MS;
/** The warm-up invocation's traffic must have left the budget's window before the timed one. */
const WINDOW_GAP_MS = 5_500;

export interface FleetResult {
  accounts: number;
  ordersPerAccount: number;
  latencyMs: number;
  budgetPer5s: number;
  ms: number;
  ok: boolean;
  error?: string;
  requests: number;
  /** Requests per account: the mean and the busiest account. */
  perAccount: { mean: number; max: number };
  forbidden: number;
  /** From the invocation until every account's first cancel-all had reached the exchange. */
  firstWaveMs: number;
  /**
   * requests beyond the first window ÷ the budget's rate, plus the tail: one cancel-all, one listing, the
   * pause, and the second listing that confirms it (the run's own cancels were acknowledged).
   */
  boundMs: number;
  /** That tail: the round trips and the pause after the last window. */
  tailMs: number;
  /**
   * What a budget of N per 5 s allows exactly: within any 5 s, at most N requests, so the (kN + 1)-th goes
   * out k windows after the first. Plus the same tail.
   */
  windowBoundMs: number;
  left: number;
}

export async function measureFleet(accounts: number): Promise<FleetResult> {
  const names = Array.from({ length: accounts }, (_, i) => `sub${String(i + 1).padStart(3, '0')}`);
  const stack = await startRemoteStack({ accounts: names, emulator: { latencyMs: LATENCY_MS } });
  try {
    Object.assign(process.env, stack.env, { BYBIT_REQUEST_TIMEOUT_MS: '5000' });
    const { handler } = await import('../../handlers/cancel-all.ts');
    const invoke = handler as (event: unknown, context: unknown) => Promise<unknown>;
    const seedAll = async () => {
      for (const account of stack.accounts) await stack.addOrders(account.apiKey, fleetBook());
    };

    // Warm: the first invocation reads the secret and opens connections, as a container's first would.
    await seedAll();
    await invoke(loadEvent('kill-switch.json'), lambdaContext(FUNCTION_TIMEOUT_MS)).catch(() => undefined);
    await sleep(WINDOW_GAP_MS);
    await stack.reset();
    await seedAll();

    const budget = defaults.BYBIT_IP_REQUESTS_PER_5S;
    const started = Date.now();
    let ok = true;
    let error: string | undefined;
    try {
      await invoke(loadEvent('kill-switch.json'), lambdaContext(FUNCTION_TIMEOUT_MS));
    } catch (failure) {
      ok = false;
      error = `${(failure as Error).name}: ${(failure as Error).message.slice(0, 300)}`;
    }
    const ms = Date.now() - started;
    const log = await stack.requestLog();
    const perKey = new Map<string, number>();
    const firstCancelAll = new Map<string, number>();
    for (const r of log) {
      if (!r.apiKey) continue;
      perKey.set(r.apiKey, (perKey.get(r.apiKey) ?? 0) + 1);
      if (r.path === CANCEL_ALL_PATH && !firstCancelAll.has(r.apiKey)) firstCancelAll.set(r.apiKey, r.at);
    }
    const counts = [...perKey.values()];
    const rate = budget / 5000;
    return {
      accounts,
      ordersPerAccount: FLEET_BOOK_ORDERS,
      latencyMs: LATENCY_MS,
      budgetPer5s: budget,
      ms,
      ok,
      error,
      requests: log.length,
      perAccount: {
        mean: log.length / accounts,
        max: Math.max(...counts),
      },
      forbidden: log.filter((r) => r.httpStatus === 403).length,
      firstWaveMs:
        firstCancelAll.size === accounts ? Math.max(...firstCancelAll.values()) - started : Number.NaN,
      boundMs: Math.max(0, log.length - budget) / rate + TAIL_MS,
      tailMs: TAIL_MS,
      windowBoundMs: (Math.ceil(log.length / budget) - 1) * IP_WINDOW_MS + TAIL_MS,
      left: await stack.openCount(),
    };
  } finally {
    await stack.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
