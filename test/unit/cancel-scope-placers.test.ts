// One scope's cancel-all and one order's cancel, on the cases cancel-order.test.ts and clear-scope.test.ts
// leave out: strategy orders beside the user's, cancels acknowledged without ids, a request Node would not
// send, a cancel refused outright, and a read-back that names no ids.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { OpenOrder, OrderRef } from '../../lib/bybit/types.ts';
import { cancelOrder, cancelScope } from '../../lib/cancel/cancel-order.ts';
import { cancelledCount, clearScope, isFinal, UNNAMED_CANCELS } from '../../lib/cancel/clear-scope.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import type { Clock } from '../../lib/clock.ts';
import {
  BybitApiError,
  IncompleteCancelError,
  OrderNotOpenError,
  RequestNotSentError,
} from '../../lib/errors.ts';

const clock: Clock = { now: () => 0, sleep: async () => undefined };

function exchangeWith(client: Record<string, unknown>) {
  return {
    withAccount: async <T>(name: string | undefined, work: (c: BybitClient, n: string) => Promise<T>) =>
      work(client as unknown as BybitClient, name ?? 'default'),
  } as unknown as Exchange;
}

const order = (orderId: string, createType?: string): OpenOrder =>
  ({
    orderId,
    orderLinkId: `link-${orderId}`,
    symbol: 'BTCUSDT',
    orderStatus: 'New',
    createdTime: '0',
    ...(createType ? { createType } : {}),
  }) as OpenOrder;
const listing = (list: OpenOrder[]) => async () => ({ category: 'linear', list, nextPageCursor: '' });
const unnamed = (): OrderRef[] & { named: false } =>
  Object.assign([] as OrderRef[], { named: false as const });

describe('cancelScope with strategy orders and createType', () => {
  it('names a strategy’s orders beside a clear scope, not as remaining', async () => {
    const exchange = exchangeWith({
      cancelAll: async () => [{ orderId: 'u1', orderLinkId: '' }],
      openOrders: listing([order('s1', 'CreateByTWAP'), order('s2', 'CreateByIceBerg')]),
    });
    expect(
      await cancelScope(exchange, 'desk', { category: 'linear', settleCoin: 'USDT' }, 1e12, clock),
    ).toEqual({
      operation: 'cancelAll',
      account: 'desk',
      scope: 'linear settleCoin=USDT',
      cancelled: 1,
      remaining: 0,
      strategyOrders: [
        { symbol: 'BTCUSDT', orderId: 's1', orderLinkId: 'link-s1', createType: 'CreateByTWAP' },
        { symbol: 'BTCUSDT', orderId: 's2', orderLinkId: 'link-s2', createType: 'CreateByIceBerg' },
      ],
    });
  });

  it('lists what is left with its placer, a bot’s and the user’s alike, and the strategy orders apart', async () => {
    const exchange = exchangeWith({
      cancelAll: async () => [],
      openOrders: listing([order('b1', 'CreateByFGridBot'), order('u1'), order('s1', 'CreateByChaseOrder')]),
    });
    const error = (await cancelScope(
      exchange,
      'desk',
      { category: 'linear', settleCoin: 'USDT' },
      100,
      clock,
    ).catch((e: unknown) => e)) as IncompleteCancelError;
    expect(error).toBeInstanceOf(IncompleteCancelError);
    expect(error.report).toEqual({
      operation: 'cancelAll',
      account: 'desk',
      scope: 'linear settleCoin=USDT',
      cancelled: 0,
      remaining: 2,
      strategyOrders: [
        { symbol: 'BTCUSDT', orderId: 's1', orderLinkId: 'link-s1', createType: 'CreateByChaseOrder' },
      ],
      remainingOrders: [
        { symbol: 'BTCUSDT', orderId: 'b1', orderLinkId: 'link-b1', createType: 'CreateByFGridBot' },
        { symbol: 'BTCUSDT', orderId: 'u1', orderLinkId: 'link-u1' },
      ],
      failedScopes: ['linear settleCoin=USDT'],
    });
  });

  it('names at most 20 of the orders left', async () => {
    const many = Array.from({ length: 25 }, (_, i) => order(`u${i}`));
    const exchange = exchangeWith({ cancelAll: async () => [], openOrders: listing(many) });
    const error = (await cancelScope(exchange, 'desk', { category: 'spot' }, 100, clock).catch(
      (e: unknown) => e,
    )) as IncompleteCancelError;
    const report = error.report as { remaining: number; remainingOrders: { orderId: string }[] };
    expect(report.remaining).toBe(25);
    expect(report.remainingOrders.map((o) => o.orderId)).toEqual(many.slice(0, 20).map((o) => o.orderId));
  });
});

describe('clearScope: cancels acknowledged without ids', () => {
  it('counts none for a spot cancel-all that names no order, and still verifies by listing', async () => {
    const listings: unknown[] = [];
    const client = {
      cancelAll: async () => unnamed(),
      openOrders: async (params: unknown) => {
        listings.push(params);
        return { category: 'spot', list: [], nextPageCursor: '' };
      },
    } as unknown as BybitClient;
    const outcome = await clearScope(client, { category: 'spot' }, 1e12, clock);
    expect(outcome).toMatchObject({ cancelled: 0, clear: true, verified: true, rounds: 1 });
    expect(listings).toHaveLength(1);
  });

  it('counts the named cancels beside an unnamed one, and only them', async () => {
    const answers = [
      unnamed(),
      [
        { orderId: 'x1', orderLinkId: '' },
        { orderId: 'x2', orderLinkId: '' },
      ],
    ];
    const lists = [[order('x1'), order('x2')], []];
    const client = {
      cancelAll: async () => answers.shift(),
      openOrders: async () => ({ category: 'spot', list: lists.shift(), nextPageCursor: '' }),
    } as unknown as BybitClient;
    const outcome = await clearScope(client, { category: 'spot' }, 1e12, clock);
    expect(outcome).toMatchObject({ cancelled: 2, clear: true, rounds: 2 });
  });

  it('subtracts the stand-in only when it is there', () => {
    expect(cancelledCount(new Set(['a', 'b']))).toBe(2);
    expect(cancelledCount(new Set(['a', UNNAMED_CANCELS]))).toBe(1);
    expect(cancelledCount(new Set([UNNAMED_CANCELS]))).toBe(0);
    expect(cancelledCount(new Set())).toBe(0);
  });
});

describe('clearScope: a request Node would not send', () => {
  it('is final: no listing, no second round', async () => {
    const unsent = new RequestNotSentError('cancel-all', 'Node refused it: ERR_INVALID_CHAR');
    expect(isFinal(unsent)).toBe(true);
    let cancels = 0;
    let listings = 0;
    const client = {
      cancelAll: async () => {
        cancels++;
        throw unsent;
      },
      openOrders: async () => {
        listings++;
        return { category: 'spot', list: [], nextPageCursor: '' };
      },
    } as unknown as BybitClient;
    const outcome = await clearScope(client, { category: 'spot' }, 1e12, clock);
    expect(outcome).toEqual({
      cancelled: 0,
      remaining: [],
      strategyOrders: [],
      clear: false,
      verified: false,
      rounds: 1,
      error: unsent,
    });
    expect([cancels, listings]).toEqual([1, 0]);
  });

  it('is final in the listing too', async () => {
    const unsent = new RequestNotSentError('open-orders', 'Node refused it: ERR_INVALID_CHAR');
    let listings = 0;
    const client = {
      cancelAll: async () => [],
      openOrders: async () => {
        listings++;
        throw unsent;
      },
    } as unknown as BybitClient;
    const outcome = await clearScope(client, { category: 'spot' }, 1e12, clock);
    expect(outcome).toMatchObject({ clear: false, verified: false, rounds: 1, error: unsent });
    expect(listings).toBe(1);
  });
});

describe('cancelOrder: a cancel refused outright, and a read that names no ids', () => {
  it('throws a refused cancel at once, without reading the order', async () => {
    const refused = new BybitApiError('cancel', 10001, 'params error', 'rejected');
    let reads = 0;
    const exchange = exchangeWith({
      cancelOrder: async () => {
        throw refused;
      },
      orderById: async () => {
        reads++;
        return undefined;
      },
    });
    await expect(
      cancelOrder(
        exchange,
        { account: 'desk', category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' },
        1e12,
        clock,
      ),
    ).rejects.toBe(refused);
    expect(reads).toBe(0);
  });

  it('falls back to the ids it was given when the read names none', async () => {
    const notOpen = new OrderNotOpenError('cancel', 110001, 'order not exists or too late to cancel');
    const queries: unknown[] = [];
    const exchange = exchangeWith({
      cancelOrder: async () => {
        throw notOpen;
      },
      orderById: async (query: unknown) => {
        queries.push(query);
        return { symbol: 'BTCUSDT', orderStatus: 'Filled', cumExecQty: '1' };
      },
    });
    const byId = await cancelOrder(
      exchange,
      { account: 'desk', category: 'linear', symbol: 'BTCUSDT', orderId: 'o7' },
      1e12,
      clock,
    );
    expect(byId).toEqual({
      operation: 'cancel',
      account: 'desk',
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: 'o7',
      orderLinkId: '',
      orderStatus: 'Filled',
      cumExecQty: '1',
      confirmed: true,
      alreadyClosed: true,
    });
    const byLink = await cancelOrder(
      exchange,
      { account: 'desk', category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-7' },
      1e12,
      clock,
    );
    expect([byLink.orderId, byLink.orderLinkId]).toEqual(['', 'tv-7']);
    expect(queries).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderId: 'o7', orderLinkId: undefined },
      { category: 'linear', symbol: 'BTCUSDT', orderId: undefined, orderLinkId: 'tv-7' },
    ]);
  });
});
