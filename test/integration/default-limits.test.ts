// Runs under the exchange's documented default limits (docs/v5/rate-limit), as production meets them: a
// cold client (a new Lambda container) bursting at the emulator, and a kill switch and a sweep through the
// real handlers with network latency and cancels that take effect late (acknowledged, still listed once).
// Other files raise the emulator's limits where they test something else; none of these do.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { everythingScopes } from '../../lib/cancel/scopes.ts';
import type { SweepReport } from '../../lib/cancel/sweep.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import type { OrderSeed } from '../emulator/index.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { linearBook, mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancel: (event: unknown, context: unknown) => Promise<unknown>;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;
const HOUR = 3_600_000;
const LATENCY_MS = 25;

beforeAll(async () => {
  stack = await startStack({
    accounts: ['main', 'hedge'],
    env: { STALE_ORDER_MAX_AGE_SECONDS: '3600', STALE_ORDER_LINK_ID_PREFIX: 'bot-' },
  });
  Object.assign(process.env, stack.env);
  cancel = (await import('../../handlers/cancel.ts')).handler as typeof cancel;
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => {
  // reset() restores the documented default limits, no latency, no survivors, no faults.
  stack.emulator.reset();
  stack.secrets.reset();
  stack.writeExchangeSecret();
  // A key revoked by one test is valid again for the next.
  for (const a of stack.accounts)
    stack.emulator.addAccount({ uid: a.uid, apiKey: a.apiKey, apiSecret: a.apiSecret });
});

const account = (name: string) => stack.accounts.find((a) => a.name === name) as LocalStack['accounts'][0];
const key = (name: string) => account(name).apiKey;
/** A client as a new Lambda container has one: its pacer has seen no answer yet. */
const coldClient = () =>
  new BybitClient({
    credentials: { apiKey: key('main'), apiSecret: account('main').apiSecret as string },
    baseUrl: stack.emulator.url,
  });
const refusedForRate = () => stack.emulator.requests.filter((r) => r.retCode === 10006);

describe('a cold burst against the default limits', () => {
  it('spaces option cancel-alls to one a second (the option default), so none is refused with 10006', async () => {
    const client = coldClient();
    await Promise.all(Array.from({ length: 3 }, () => client.cancelAll({ category: 'option' })));
    const calls = stack.emulator.requests.filter((r) => r.path === '/v5/order/cancel-all');
    expect(calls).toHaveLength(3);
    expect(refusedForRate()).toEqual([]);
  });

  it('counts a futures batch as one unit per order: three batches of 10 are not sent in one second', async () => {
    const orders = stack.emulator.addOrders(key('main'), linearBook(30));
    const client = coldClient();
    const batches = [0, 10, 20].map((from) =>
      client.cancelBatch({
        category: 'linear',
        request: orders.slice(from, from + 10).map(({ symbol, orderId }) => ({ symbol, orderId })),
      }),
    );
    const items = (await Promise.all(batches)).flat();
    expect(items.filter((i) => i.code !== 0)).toEqual([]);
    expect(refusedForRate()).toEqual([]);
    expect(stack.emulator.openOrders(key('main'))).toEqual([]);
  });

  it('counts a spot batch as one unit per order against its 20 a second', async () => {
    const seeds: OrderSeed[] = Array.from({ length: 30 }, () => ({ category: 'spot', symbol: 'BTCUSDT' }));
    const orders = stack.emulator.addOrders(key('main'), seeds);
    const client = coldClient();
    const items = (
      await Promise.all(
        [0, 10, 20].map((from) =>
          client.cancelBatch({
            category: 'spot',
            request: orders.slice(from, from + 10).map(({ symbol, orderId }) => ({ symbol, orderId })),
          }),
        ),
      )
    ).flat();
    expect(items.filter((i) => i.code !== 0)).toEqual([]);
    expect(refusedForRate()).toEqual([]);
  });

  it('paces a burst of single cancels to ten a second without a 10006', async () => {
    const orders = stack.emulator.addOrders(key('main'), linearBook(25));
    const client = coldClient();
    await Promise.all(
      orders.map(({ symbol, orderId }) => client.cancelOrder({ category: 'linear', symbol, orderId })),
    );
    expect(refusedForRate()).toEqual([]);
    expect(stack.emulator.openOrders(key('main'))).toEqual([]);
  });
});

describe('the kill switch under the default limits, with latency and late cancels', () => {
  it('clears 700 orders of every kind over two accounts and says so truthfully', async () => {
    stack.emulator.setLatency(LATENCY_MS);
    // A fifth of the orders stay listed after their first acknowledged cancel (Bybit cancels asynchronously).
    stack.emulator.setSurvivors({ rate: 0.2, times: 1, seed: 17 });
    stack.emulator.addOrders(key('main'), [...linearBook(550), ...mixedBook(50)]);
    stack.emulator.addOrders(key('hedge'), mixedBook(100));
    const report = (await cancelAll(
      loadEvent('kill-switch.json'),
      lambdaContext(60_000),
    )) as KillSwitchReport;
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(report).toMatchObject({ ok: true, remaining: 0, failedScopes: [] });
    expect(refusedForRate()).toEqual([]);
    // Late cancels took more than one round: more cancel requests went out than there are scopes.
    const cancels = stack.emulator.requests.filter((r) => r.path.startsWith('/v5/order/cancel'));
    expect(cancels.length).toBeGreaterThan(report.scopes.length + 1);
  });

  it('fails fast on a revoked key, in seconds rather than at the deadline, and still clears the other account', async () => {
    stack.emulator.setLatency(LATENCY_MS);
    stack.emulator.addOrders(key('main'), mixedBook(40));
    stack.emulator.addOrders(key('hedge'), mixedBook(40));
    stack.emulator.revokeKey(key('main'));
    const timeLeftMs = 20_000;
    const error = (await cancelAll(loadEvent('kill-switch.json'), lambdaContext(timeLeftMs)).catch(
      (e: unknown) => e,
    )) as IncompleteCancelError;
    expect(error.name).toBe('IncompleteCancelError');
    const report = error.report as unknown as KillSwitchReport;
    // Every scope of main fails on the refused key; hedge's scopes clear.
    const mainScopes = report.scopes.filter((s) => s.account === 'main');
    expect(mainScopes.length).toBeGreaterThan(0);
    for (const scope of mainScopes) expect(scope.error).toMatchObject({ retCode: 10003 });
    // Its strategy list is refused too: what it cannot see, it cannot vouch for.
    expect(report.failedScopes).toEqual([...mainScopes.map((s) => `main: ${s.scope}`), 'main: strategies']);
    expect(report.strategies.find((s) => s.account === 'main')).toMatchObject({
      verified: false,
      error: { retCode: 10003 },
    });
    expect(stack.emulator.openOrders(key('hedge'))).toEqual([]);
    // The first wave (the configured cancel-alls and the unfiltered inverse listing), refused, and as much
    // again after re-reading the secret: no round after that.
    const firstWave = everythingScopes(loadConfig({}).scope).length + 1;
    const refused = stack.emulator.requests.filter((r) => r.apiKey === key('main'));
    expect(refused.length).toBeLessThanOrEqual(2 * firstWave);
    expect(report.durationMs).toBeLessThan(timeLeftMs / 4);
  }, 40_000);
});

describe('the sweep under the default limits, with latency and late cancels', () => {
  it('cancels every stale bot order, re-cancels the late ones, and leaves the rest alone', async () => {
    stack.emulator.setLatency(LATENCY_MS);
    stack.emulator.setSurvivors({ rate: 0.2, times: 1, seed: 23 });
    const old = Date.now() - 2 * HOUR;
    const stale = stack.emulator.addOrders(key('main'), [
      ...linearBook(160, { linkIdPrefix: 'bot-', createdTime: old }),
      ...Array.from({ length: 30 }, (_, i) => ({
        category: 'spot' as const,
        symbol: 'BTCUSDT',
        orderLinkId: `bot-spot-${i}`,
        createdTime: old,
      })),
      { category: 'option', symbol: 'BTC-27DEC26-100000-C', orderLinkId: 'bot-opt-1', createdTime: old },
    ]);
    const kept = [
      ...stack.emulator.addOrders(key('main'), linearBook(20, { linkIdPrefix: 'manual-', createdTime: old })),
      ...stack.emulator.addOrders(
        key('main'),
        linearBook(20, { linkIdPrefix: 'bot-', offset: 900, createdTime: Date.now() - 60_000 }),
      ),
    ];
    const report = (await cancel(loadEvent('schedule.json'), lambdaContext(120_000))) as SweepReport;
    expect(report).toMatchObject({ ok: true, stale: stale.length, cancelled: stale.length, remaining: 0 });
    const open = new Set(stack.emulator.openOrders().map((o) => o.orderId));
    expect(stale.filter((o) => open.has(o.orderId))).toEqual([]);
    expect(kept.filter((o) => !open.has(o.orderId))).toEqual([]);
    expect(refusedForRate()).toEqual([]);
  }, 60_000);
});
