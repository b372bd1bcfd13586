// Warm overhead: CPU time of one warm invocation, the network excluded: the real cancel handler and the
// peer handler, in this process, each cancelling one order per direct invocation against the emulator in
// a process of its own (zero latency, limits out of the way), measured with process.cpuUsage() deltas.

import { lambdaContext } from '../../test/support/events.ts';
import { startRemoteStack } from './remote-stack.ts';
import { median, percentile } from './stats.ts';

export const INVOCATIONS = 1000;
const WARMUP = 100;
const SYMBOL = 'BTCUSDT';

export interface WarmSide {
  /** CPU (user + system) per invocation, µs. */
  cpuMedianUs: number;
  cpuP99Us: number;
  wallMedianMs: number;
  failures: number;
}

export interface WarmResult {
  invocations: number;
  logLevel: string;
  ours: WarmSide;
  peer: WarmSide;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export async function measureWarm(): Promise<WarmResult> {
  const logLevel = 'info';
  const stack = await startRemoteStack({ accounts: ['main'], emulator: { rateLimits: 1_000_000 } });
  try {
    // The production log level: the log line each invocation writes is part of its cost.
    Object.assign(process.env, stack.env, { LOG_LEVEL: logLevel });
    const ours = (await import('../../handlers/cancel.ts')).handler as Handler;
    const peer = (await import('./peer-handler.ts')).handler as Handler;
    const apiKey = stack.accounts[0]?.apiKey as string;
    const total = WARMUP + INVOCATIONS;
    const seeds = Array.from({ length: 2 * total }, () => ({ category: 'linear' as const, symbol: SYMBOL }));
    const ids = await stack.addOrders(apiKey, seeds);

    const sides = {
      ours: { handler: ours, cpu: [] as number[], wall: [] as number[], failures: 0 },
      peer: { handler: peer, cpu: [] as number[], wall: [] as number[], failures: 0 },
    };
    for (let i = 0; i < total; i++) {
      // Alternate who goes first, so that garbage one leaves behind lands on both alike.
      const order = i % 2 === 0 ? (['ours', 'peer'] as const) : (['peer', 'ours'] as const);
      for (const name of order) {
        const side = sides[name];
        const event = { category: 'linear', symbol: SYMBOL, orderId: ids[2 * i + (name === 'ours' ? 0 : 1)] };
        const context = lambdaContext(30_000);
        const cpu = process.cpuUsage();
        const started = performance.now();
        try {
          await side.handler(event, context);
        } catch {
          side.failures++;
        }
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        if (i >= WARMUP) {
          side.cpu.push(used.user + used.system);
          side.wall.push(wall);
        }
      }
    }
    const summary = (side: (typeof sides)['ours']): WarmSide => ({
      cpuMedianUs: median(side.cpu),
      cpuP99Us: percentile(side.cpu, 99),
      wallMedianMs: median(side.wall),
      failures: side.failures,
    });
    return { invocations: INVOCATIONS, logLevel, ours: summary(sides.ours), peer: summary(sides.peer) };
  } finally {
    await stack.close();
  }
}
