// Confirmed cancel: what reading the order back costs. The real cancel handler, warm, cancelling a resting
// order by direct invocation (cancel, then the by-id read that shows it Cancelled), against one bare cancel
// request from the same client, in the same process and run, alternating, with the emulator in a process of
// its own adding a fixed latency to every request.

import { BybitClient } from '../../lib/bybit/client.ts';
import { lambdaContext } from '../../test/support/events.ts';
import { startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';

/** Per-request latencies: a region next to the exchange's matching engine, and a distant one. */
export const LATENCIES_MS = [5, 50] as const;
export const SAMPLES = 100;
export const WARMUP = 10;
const SYMBOL = 'BTCUSDT';

export interface ConfirmedCancelRow {
  latencyMs: number;
  /** Median wall time of the handler's confirmed cancel. */
  confirmedMs: number;
  /** Median wall time of one bare cancel request. */
  bareMs: number;
  /** Exchange requests per confirmed cancel (median). */
  requestsPerCancel: number;
  confirmed: number;
  failures: number;
}

export interface ConfirmedCancelResult {
  samples: number;
  warmup: number;
  rows: ConfirmedCancelRow[];
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export async function measureConfirmedCancel(): Promise<ConfirmedCancelResult> {
  const stack = await startRemoteStack({ accounts: ['main'], emulator: { rateLimits: 1_000_000 } });
  try {
    Object.assign(process.env, stack.env, { LOG_LEVEL: 'info' });
    const handler = (await import('../../handlers/cancel.ts')).handler as Handler;
    const account = stack.accounts[0];
    if (!account?.apiSecret) throw new Error('the bench account has no HMAC secret');
    const bare = new BybitClient({
      credentials: { apiKey: account.apiKey, apiSecret: account.apiSecret },
      baseUrl: stack.env.BYBIT_BASE_URL,
    });
    const rows: ConfirmedCancelRow[] = [];
    for (const latencyMs of LATENCIES_MS) {
      await stack.reset();
      await stack.setRateLimits(1_000_000);
      await stack.setLatency(latencyMs);
      const total = WARMUP + SAMPLES;
      const ids = await stack.addOrders(
        account.apiKey,
        Array.from({ length: 2 * total }, () => ({ category: 'linear' as const, symbol: SYMBOL })),
      );
      const confirmedMs: number[] = [];
      const bareMs: number[] = [];
      const requests: number[] = [];
      let confirmed = 0;
      let failures = 0;
      for (let i = 0; i < total; i++) {
        const [ours, theirs] = [ids[2 * i] as string, ids[2 * i + 1] as string];
        // Alternate who goes first, so that neither always finds the connection pool warmer.
        const runs = [
          async () => {
            await stack.resetRequests();
            const started = performance.now();
            const result = (await handler(
              { category: 'linear', symbol: SYMBOL, orderId: ours },
              lambdaContext(30_000),
            ).catch(() => undefined)) as { confirmed?: boolean; orderStatus?: string } | undefined;
            const elapsed = performance.now() - started;
            const stats = await stack.requestStats(account.apiKey);
            if (i >= WARMUP) {
              confirmedMs.push(elapsed);
              requests.push(stats.total);
              if (result?.confirmed && result.orderStatus === 'Cancelled') confirmed++;
              else failures++;
            }
          },
          async () => {
            const started = performance.now();
            const ok = await bare.cancelOrder({ category: 'linear', symbol: SYMBOL, orderId: theirs }).then(
              () => true,
              () => false,
            );
            const elapsed = performance.now() - started;
            if (i >= WARMUP) {
              bareMs.push(elapsed);
              if (!ok) failures++;
            }
          },
        ];
        if (i % 2 === 1) runs.reverse();
        for (const run of runs) await run();
      }
      rows.push({
        latencyMs,
        confirmedMs: median(confirmedMs),
        bareMs: median(bareMs),
        requestsPerCancel: median(requests),
        confirmed,
        failures,
      });
    }
    return { samples: SAMPLES, warmup: WARMUP, rows };
  } finally {
    await stack.close();
  }
}
