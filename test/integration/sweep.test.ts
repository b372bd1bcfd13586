// The stale-order sweep through the real handler and the schedule events, against the emulator.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../lib/cancel/sweep.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { linearBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancel: (event: unknown, context: unknown) => Promise<unknown>;
const HOUR = 3_600_000;

beforeAll(async () => {
  stack = await startStack({
    accounts: ['main', 'manual'],
    env: { STALE_ORDER_MAX_AGE_SECONDS: '3600', STALE_ORDER_LINK_ID_PREFIX: 'bot-' },
  });
  Object.assign(process.env, stack.env);
  cancel = (await import('../../handlers/cancel.ts')).handler as typeof cancel;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  // Generous limits: this file is about selection and batching; pacing has its own tests.
  stack.emulator.setRateLimits(1_000);
});

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;

/** In `main`: 130 stale bot orders, 40 stale manual orders, 90 fresh bot orders; spot TP/SL too. */
function seed() {
  const old = Date.now() - 2 * HOUR;
  const stale = stack.emulator.addOrders(key('main'), [
    ...linearBook(130, { linkIdPrefix: 'bot-', createdTime: old }),
    { category: 'spot', symbol: 'BTCUSDT', kind: 'tpslOrder', orderLinkId: 'bot-tpsl-1', createdTime: old },
    { category: 'inverse', symbol: 'BTCUSD', orderLinkId: 'bot-inv-1', createdTime: old },
  ]);
  stack.emulator.addOrders(key('main'), [
    ...linearBook(40, { linkIdPrefix: 'manual-', createdTime: old }),
    ...linearBook(90, { linkIdPrefix: 'bot-', offset: 1000, createdTime: Date.now() - 60_000 }),
  ]);
  stack.emulator.addOrders(
    key('manual'),
    linearBook(20, { linkIdPrefix: 'bot-', offset: 5000, createdTime: old }),
  );
  return stale;
}

const staleIn = (name: string) =>
  stack.emulator
    .openOrders(key(name))
    .filter((o) => o.orderLinkId.startsWith('bot-') && o.createdTime < Date.now() - HOUR);

describe('scheduled stale-order sweep', () => {
  it('cancels exactly the stale orders with the prefix, each once: full batches of 20 (ceil(stale / 20) at most), the rest one by one', async () => {
    const stale = seed();
    const before = stack.emulator.openOrders().length;
    const report = (await cancel(loadEvent('schedule.json'), lambdaContext())) as SweepReport;
    expect(staleIn('main')).toHaveLength(0);
    expect(staleIn('manual')).toHaveLength(0);
    expect(stack.emulator.openOrders()).toHaveLength(before - stale.length - 20);
    expect(report).toMatchObject({ ok: true, dryRun: false, stale: 152, cancelled: 152, remaining: 0 });
    // Two lanes share the work: batches of up to 20 from the front (Bybit's limit for linear,
    // docs/v5/order/batch-cancel.mdx), single cancels from the back. Each stale order goes exactly once.
    const mainLinear = (path: string) =>
      stack.emulator.requests.filter(
        (r) => r.path === path && r.uid === stack.accounts[0]?.uid && r.category === 'linear',
      );
    const batches = mainLinear('/v5/order/cancel-batch').map((r) => r.batchSize as number);
    const singles = mainLinear('/v5/order/cancel').length;
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(130 / 20));
    expect(batches.slice(0, -1)).toEqual(Array(batches.length - 1).fill(20));
    expect(batches.reduce((a, b) => a + b, 0) + singles).toBe(130);
    const perScope = report.scopes.find((s) => s.account === 'main' && s.scope === 'linear settleCoin=USDT');
    expect(perScope).toMatchObject({ open: 260, stale: 130, cancelled: 130, remaining: 0 });
    expect(perScope?.requests).toEqual({ batch: batches.length, single: singles });
    // The spot TP/SL order needs its kind named: it goes through a single cancel with orderFilter.
    expect(stack.emulator.requests.some((r) => r.path === '/v5/order/cancel' && r.category === 'spot')).toBe(
      true,
    );
  });

  it('lists what it would cancel and cancels nothing in a dry run (schedule with constant input)', async () => {
    const stale = new Set(seed().map((o) => o.orderId));
    const before = stack.emulator.openOrders().length;
    const report = (await cancel(loadEvent('schedule-sweep-input.json'), lambdaContext())) as SweepReport;
    expect(stack.emulator.openOrders()).toHaveLength(before);
    expect(report).toMatchObject({ dryRun: true, stale: 152, cancelled: 0 });
    const main = report.scopes.find((s) => s.account === 'main' && s.scope === 'linear settleCoin=USDT');
    // 130 stale there; a dry run names the first 100.
    expect(main?.wouldCancel).toHaveLength(100);
    expect(main?.wouldCancel?.filter((o) => stale.has(o.orderId))).toHaveLength(100);
    expect(main?.wouldCancel?.filter((o) => o.orderLinkId.startsWith('bot-'))).toHaveLength(100);
    // Reads only: no POST at all, and no cancel path, whatever else (instruments, coins) it had to read.
    const requests = stack.emulator.requests;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(requests.filter((r) => r.path.includes('cancel'))).toEqual([]);
    expect(requests.filter((r) => r.path === '/v5/order/realtime').length).toBeGreaterThan(0);
  });

  it('counts orders that are already gone as done and retries items that are still processing', async () => {
    seed();
    stack.emulator.setFaults({
      rate: 0.3,
      kinds: ['processing'],
      paths: ['/v5/order/cancel-batch'],
      seed: 11,
    });
    const report = (await cancel(loadEvent('schedule.json'), lambdaContext())) as SweepReport;
    expect(report.ok).toBe(true);
    expect(staleIn('main')).toHaveLength(0);
  });

  it('fails and reports what remains when it runs out of time', async () => {
    seed();
    stack.emulator.setRateLimits(2);
    const error = (await cancel(loadEvent('schedule.json'), lambdaContext(4_000)).catch(
      (e: unknown) => e,
    )) as IncompleteCancelError;
    expect(error.name).toBe('IncompleteCancelError');
    const left = staleIn('main').length + staleIn('manual').length;
    expect(left).toBeGreaterThan(0);
    // Every scope still holding a stale order is named; the count is a floor where a scope could not be listed.
    const holding = new Set(
      [...staleIn('main'), ...staleIn('manual')].map(
        (o) => `${o.uid === stack.accounts[0]?.uid ? 'main' : 'manual'}: linear settleCoin=USDT`,
      ),
    );
    expect(holding.size).toBeGreaterThan(0);
    for (const scope of holding) expect(error.report.failedScopes).toContain(scope);
    expect(error.report.remaining).toBeLessThanOrEqual(left);
    // A floor when some scope was verified and shows orders; never "at least 0" (then it names what it
    // could not verify).
    expect(error.message).toMatch(/at least [1-9]\d* order|could not be verified by a listing/);
    expect(error.message).not.toContain('at least 0 ');
  });
});
