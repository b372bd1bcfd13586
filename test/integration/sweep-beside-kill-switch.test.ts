// A stale-order sweep and a kill switch over the same accounts at once, in two containers: each counts as
// cancelled only what its own cancels were acknowledged for, so the two add up to the book exactly; what the
// sweep found gone meanwhile is reported apart, and the metrics no longer count those orders twice.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { type SweepReport, sweepStaleOrders } from '../../lib/cancel/sweep.ts';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { createApp } from '../../lib/lambda/app.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const ACCOUNTS = ['sub01', 'sub02', 'sub03'];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ accounts: ACCOUNTS });
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());

describe('a sweep while a kill switch runs', () => {
  it('counts its own acknowledged cancels, and the orders the kill switch took as gone meanwhile', async () => {
    const old = Date.now() - 2 * 3600_000;
    for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(60, { createdTime: old }));
    const book = stack.emulator.openOrders().length;
    const container = (env: Record<string, string> = {}) =>
      createApp({ env: { ...stack.env, BYBIT_REQUEST_TIMEOUT_MS: '5000', ...env }, write: () => undefined });
    const ks = container();
    // The cancel function's budget: the sweep paces itself, so the kill switch overtakes it.
    const sw = container({ BYBIT_IP_REQUESTS_PER_5S: '40' });
    const deadline = Date.now() + 58_500;

    const [sweep, kill] = await Promise.all([
      sweepStaleOrders(
        sw.exchange,
        sw.config.scope,
        { ...sw.config.sweep, accounts: ACCOUNTS },
        deadline,
        sw.clock,
      ).catch((e: unknown) => e),
      killSwitch(ks.exchange, ks.config.scope, { accounts: ACCOUNTS }, deadline, ks.clock),
    ]);
    const swept = (sweep instanceof IncompleteCancelError ? sweep.report : sweep) as unknown as SweepReport;

    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(book).toBe(180);
    // Every order was cancelled once, by one of the two, and each counts only its own.
    expect(kill.cancelled + swept.cancelled).toBe(book);
    expect(swept.cancelled + swept.goneMeanwhile).toBe(swept.stale);
    expect(swept.goneMeanwhile).toBeGreaterThan(0);
  }, 90_000);
});
