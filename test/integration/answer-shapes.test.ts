// Answers Bybit really sends that its docs show only in examples or in older versions, read end to end
// through the real handler: `stopOrderType: "UNKNOWN"` on a plain order, and a spot cancel-all answered
// `{"success": "1"}` with no list.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CancelScopeResult } from '../../lib/cancel/cancel-order.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => stack.emulator.reset());

const apiKey = () => stack.accounts[0]?.apiKey as string;
const cancelAllCalls = (category?: string) =>
  stack.emulator.requests.filter(
    (r) => r.path === '/v5/order/cancel-all' && (category === undefined || r.category === category),
  );
const scoped = (params: Record<string, string>, remainingMs = 30_000) =>
  cancelAll(params, lambdaContext(remainingMs)) as Promise<CancelScopeResult>;

describe('a plain order answered with stopOrderType "UNKNOWN" (docs/v5/order/open-order.mdx example)', () => {
  beforeEach(() => stack.emulator.setShapes({ plainStopOrderType: 'UNKNOWN' }));

  it('is cancelled and verified by a scoped cancel-all with orderFilter Order, even when the first cancel misses it', async () => {
    const [plain, conditional] = stack.emulator.addOrders(apiKey(), [
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT', kind: 'StopOrder' },
    ]);
    // The listing shows it as Bybit does: a plain limit order whose stopOrderType says UNKNOWN.
    stack.emulator.setSurvivors({ orderIds: [plain?.orderId as string], times: 1 });

    const result = await scoped({ category: 'linear', settleCoin: 'USDT', orderFilter: 'Order' });

    expect(result).toMatchObject({ operation: 'cancelAll', remaining: 0 });
    expect(stack.emulator.order(plain?.orderId as string)?.orderStatus).toBe('Cancelled');
    // The conditional order is outside an Order cancel-all.
    expect(stack.emulator.order(conditional?.orderId as string)?.orderStatus).toBe('Untriggered');
    expect(cancelAllCalls()).toHaveLength(2);
  });

  it('is left to a scoped StopOrder cancel-all, which clears the conditional orders with one call', async () => {
    const [plain, conditional] = stack.emulator.addOrders(apiKey(), [
      { category: 'inverse', symbol: 'BTCUSD' },
      { category: 'inverse', symbol: 'BTCUSD', kind: 'StopOrder' },
    ]);

    const result = await scoped({ category: 'inverse', symbol: 'BTCUSD', orderFilter: 'StopOrder' }, 5_000);

    expect(result).toMatchObject({ operation: 'cancelAll', remaining: 0, cancelled: 1 });
    expect(stack.emulator.order(conditional?.orderId as string)?.orderStatus).toBe('Cancelled');
    expect(stack.emulator.order(plain?.orderId as string)?.orderStatus).toBe('New');
    expect(cancelAllCalls()).toHaveLength(1);
  });

  it('on spot, goes back to the plain kind when it survives the first wave of a kill switch', async () => {
    const [plain] = stack.emulator.addOrders(apiKey(), [{ category: 'spot', symbol: 'BTCUSDT' }]);
    stack.emulator.setSurvivors({ orderIds: [plain?.orderId as string], times: 1 });

    const report = (await cancelAll(loadEvent('kill-switch.json'), lambdaContext())) as KillSwitchReport;

    expect(report.ok).toBe(true);
    expect(stack.emulator.openOrders()).toEqual([]);
    // Five first-wave calls (one per spot kind), then one for the plain kind only, not all five again.
    expect(cancelAllCalls('spot')).toHaveLength(6);
  });
});

describe('a spot cancel-all answered {"success": "1"} without a list (the documented spot answer until 2024-02)', () => {
  beforeEach(() => stack.emulator.setShapes({ spotCancelAll: 'successOnly' }));

  it('is one acknowledgement per kind in a kill switch: sent once, and the listing decides', async () => {
    stack.emulator.addOrders(
      apiKey(),
      (['Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'BidirectionalTpslOrder'] as const).map((kind) => ({
        category: 'spot' as const,
        symbol: 'ETHUSDT',
        kind,
      })),
    );

    const report = (await cancelAll(loadEvent('kill-switch.json'), lambdaContext())) as KillSwitchReport;

    expect(report.ok).toBe(true);
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(cancelAllCalls('spot')).toHaveLength(5);
    expect(report.scopes.find((s) => s.scope === 'spot')).toMatchObject({ remaining: 0, verified: true });
    // Cancels acknowledged without ids are cancels all the same: an empty page after them is proven by a
    // second one, as after named ones (Bybit cancels asynchronously).
    const spotListings = stack.emulator.requests.filter(
      (r) => r.path === '/v5/order/realtime' && r.category === 'spot',
    );
    expect(spotListings).toHaveLength(2);
  });

  it('is sent once by a scoped cancel-all, which answers 200 once the listing shows the scope clear', async () => {
    stack.emulator.addOrders(apiKey(), [{ category: 'spot', symbol: 'BTCUSDT' }]);
    const result = await scoped({ category: 'spot', symbol: 'BTCUSDT' });
    expect(result).toMatchObject({ operation: 'cancelAll', remaining: 0 });
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(cancelAllCalls()).toHaveLength(1);
  });
});
