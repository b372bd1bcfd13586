// One order, and one scope's verified cancel-all, on a scripted client: what the caller gets back, and what
// is thrown when the scope does not clear.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import { cancelOrder, cancelScope } from '../../lib/cancel/cancel-order.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import type { Clock } from '../../lib/clock.ts';
import { BybitApiError, IncompleteCancelError } from '../../lib/errors.ts';

function exchangeWith(client: Partial<Record<keyof BybitClient, unknown>>) {
  const asked: (string | undefined)[] = [];
  const exchange = {
    withAccount: async <T>(name: string | undefined, work: (c: BybitClient, n: string) => Promise<T>) => {
      asked.push(name);
      return work(client as BybitClient, name ?? 'default');
    },
  } as unknown as Exchange;
  return { exchange, asked };
}

const clock: Clock = { now: () => 0, sleep: async () => undefined };
const stuck = { orderId: 's1', orderLinkId: '', symbol: 'BTCUSDT', orderStatus: 'New', createdTime: '0' };

describe('cancelOrder', () => {
  it('cancels on the named account and reports the acknowledgement, not a cancellation', async () => {
    const sent: unknown[] = [];
    const { exchange, asked } = exchangeWith({
      cancelOrder: async (params: unknown, call: unknown) => {
        sent.push(params, call);
        return { orderId: 'o1', orderLinkId: 'tv-1' };
      },
    });
    const result = await cancelOrder(
      exchange,
      { account: 'hedge', category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-1' },
      12_345,
    );
    expect(asked).toEqual(['hedge']);
    expect(sent).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-1' },
      { deadline: 12_345 },
    ]);
    expect(result).toEqual({
      operation: 'cancel',
      account: 'hedge',
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: 'o1',
      orderLinkId: 'tv-1',
      status: 'cancel acknowledged',
    });
  });
});

describe('cancelScope', () => {
  it('answers with the count once the listing shows the scope clear', async () => {
    const { exchange } = exchangeWith({
      cancelAll: async () => [{ orderId: 'a', orderLinkId: '' }],
      openOrders: async () => ({ category: 'spot', list: [], nextPageCursor: '' }),
    });
    const result = await cancelScope(
      exchange,
      undefined,
      { category: 'spot', orderFilter: 'tpslOrder' },
      1e12,
      clock,
    );
    expect(result).toEqual({
      operation: 'cancelAll',
      account: 'default',
      scope: 'spot orderFilter=tpslOrder',
      cancelled: 1,
      remaining: 0,
    });
  });

  it("throws the exchange's own error when that is why the scope did not clear", async () => {
    const refused = new BybitApiError('cancel-all', 10001, 'params error', 'rejected');
    const { exchange } = exchangeWith({
      cancelAll: async () => {
        throw refused;
      },
    });
    await expect(cancelScope(exchange, 'main', { category: 'option' }, 1e12, clock)).rejects.toBe(refused);
  });

  it('throws IncompleteCancelError naming the scope when orders are still listed at the deadline', async () => {
    const { exchange } = exchangeWith({
      cancelAll: async () => [],
      openOrders: async () => ({ category: 'option', list: [stuck], nextPageCursor: '' }),
    });
    const error = (await cancelScope(exchange, 'main', { category: 'option' }, 100, clock).catch(
      (e: unknown) => e,
    )) as IncompleteCancelError;
    expect(error).toBeInstanceOf(IncompleteCancelError);
    expect(error.report).toEqual({
      operation: 'cancelAll',
      account: 'main',
      scope: 'option',
      cancelled: 0,
      remaining: 1,
      failedScopes: ['option'],
    });
  });
});
