// One order (cancelled, then read back by id until final), and one scope's verified cancel-all, on a scripted
// client: what the caller gets back, and what is thrown when the order or the scope does not clear.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { cancelOrder, cancelScope } from '../../lib/cancel/cancel-order.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import type { Clock } from '../../lib/clock.ts';
import {
  BybitApiError,
  ExchangeUnavailableError,
  IncompleteCancelError,
  OrderNotFoundError,
  OrderNotOpenError,
} from '../../lib/errors.ts';

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

/** An order as the by-id read shows it. */
const state = (orderStatus: string, cumExecQty = '0') => ({
  orderId: 'o1',
  orderLinkId: 'tv-1',
  symbol: 'BTCUSDT',
  orderStatus,
  qty: '1',
  cumExecQty,
  leavesQty: '0',
  updatedTime: '0',
});

/** A clock that moves only when slept on, recording every pause. */
function virtualClock() {
  let time = 0;
  const slept: number[] = [];
  const clock: Clock = {
    now: () => time,
    sleep: async (ms) => {
      slept.push(ms);
      time += ms;
    },
  };
  return { clock, slept };
}

const command = { account: 'hedge', category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-1' } as const;
const notOpen = () => new OrderNotOpenError('cancel', 110001, 'order not exists or too late to cancel');

describe('cancelOrder', () => {
  it('cancels on the named account, reads the order back by its acknowledged id, and confirms it final', async () => {
    const sent: unknown[] = [];
    const reads: unknown[] = [];
    const { exchange, asked } = exchangeWith({
      cancelOrder: async (params: unknown, call: unknown) => {
        sent.push(params, call);
        return { orderId: 'o1', orderLinkId: 'tv-1' };
      },
      orderById: async (params: unknown, call: unknown) => {
        reads.push(params, call);
        return state('Cancelled');
      },
    });
    const result = await cancelOrder(exchange, command, 12_345, virtualClock().clock);
    // The cancel and the read are two steps on the same account.
    expect(asked).toEqual(['hedge', 'hedge']);
    expect(sent).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-1' },
      { deadline: 12_345, priority: 'routine' },
    ]);
    expect(reads).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' },
      { deadline: 12_345, priority: 'routine' },
    ]);
    expect(result).toEqual({
      operation: 'cancel',
      account: 'hedge',
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: 'o1',
      orderLinkId: 'tv-1',
      orderStatus: 'Cancelled',
      cumExecQty: '0',
      confirmed: true,
    });
  });

  it('reads again, pausing between reads, until the order shows a final status', async () => {
    const statuses = ['New', 'New', 'PartiallyFilledCanceled'];
    const { exchange } = exchangeWith({
      cancelOrder: async () => ({ orderId: 'o1', orderLinkId: 'tv-1' }),
      orderById: async () => state(statuses.shift() as string, '0.4'),
    });
    const { clock, slept } = virtualClock();
    const result = await cancelOrder(exchange, command, 1e12, clock);
    expect(slept).toEqual([50, 100]);
    expect(statuses).toEqual([]);
    expect(result).toMatchObject({
      orderStatus: 'PartiallyFilledCanceled',
      cumExecQty: '0.4',
      confirmed: true,
    });
  });

  it('answers unconfirmed with the last status read when the order is still open at the deadline', async () => {
    let read = 0;
    const { exchange } = exchangeWith({
      cancelOrder: async () => ({ orderId: 'o1', orderLinkId: 'tv-1' }),
      orderById: async () => {
        read++;
        return state('New');
      },
    });
    const { clock, slept } = virtualClock();
    const result = await cancelOrder(exchange, command, 400, clock);
    // 50 + 100 = 150 slept; the next pause of 200 (plus the read margin) would pass the deadline of 400.
    expect(slept).toEqual([50, 100]);
    expect(read).toBe(3);
    expect(result).toMatchObject({ orderId: 'o1', orderStatus: 'New', cumExecQty: '0', confirmed: false });
    expect(result).not.toHaveProperty('alreadyClosed');
  });

  it('reports an order the exchange called not open, and the read shows filled, as already closed', async () => {
    const reads: unknown[] = [];
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: async (params: unknown) => {
        reads.push(params);
        return state('Filled', '1');
      },
    });
    const result = await cancelOrder(exchange, command, 1e12, virtualClock().clock);
    // Without an acknowledgement the read goes by what the caller named.
    expect(reads).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderId: undefined, orderLinkId: 'tv-1' },
    ]);
    expect(result).toMatchObject({
      orderStatus: 'Filled',
      cumExecQty: '1',
      confirmed: true,
      alreadyClosed: true,
    });
  });

  it('throws OrderNotFoundError only when the cancel said not open and the read finds no record', async () => {
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: async () => undefined,
    });
    const error = await cancelOrder(exchange, command, 1e12, virtualClock().clock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderNotFoundError);
    expect(error).toMatchObject({ retCode: 110001, orderLinkId: 'tv-1' });
  });

  it('keeps reading an acknowledged order the read does not find yet, instead of calling it not found', async () => {
    const answers = [undefined, state('Cancelled')];
    const { exchange } = exchangeWith({
      cancelOrder: async () => ({ orderId: 'o1', orderLinkId: 'tv-1' }),
      orderById: async () => answers.shift(),
    });
    const result = await cancelOrder(exchange, command, 1e12, virtualClock().clock);
    expect(result).toMatchObject({ orderStatus: 'Cancelled', confirmed: true });
  });

  it('gives up after the last pause, unconfirmed, on an order called not open that still reads open', async () => {
    let read = 0;
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: async () => {
        read++;
        return state('New');
      },
    });
    const { clock, slept } = virtualClock();
    const result = await cancelOrder(exchange, command, 1e12, clock);
    expect(read).toBe(5);
    expect(slept).toEqual([50, 100, 200, 400]);
    expect(result).toMatchObject({ orderStatus: 'New', confirmed: false });
    expect(result).not.toHaveProperty('alreadyClosed');
  });

  it('retries a read that failed transiently, and throws a read refused outright', async () => {
    const unavailable = new ExchangeUnavailableError('realtime', 3, 'HTTP 503');
    const answers: unknown[] = [unavailable, state('Cancelled')];
    const { exchange } = exchangeWith({
      cancelOrder: async () => ({ orderId: 'o1', orderLinkId: 'tv-1' }),
      orderById: async () => {
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return next;
      },
    });
    expect(await cancelOrder(exchange, command, 1e12, virtualClock().clock)).toMatchObject({
      confirmed: true,
    });

    const refused = new BybitApiError('realtime', 10003, 'API key is invalid', 'rejected');
    const { exchange: refusing } = exchangeWith({
      cancelOrder: async () => ({ orderId: 'o1', orderLinkId: 'tv-1' }),
      orderById: async () => {
        throw refused;
      },
    });
    await expect(cancelOrder(refusing, command, 1e12, virtualClock().clock)).rejects.toBe(refused);
  });
});

describe('cancelOrder reading back through the client', () => {
  /** The real client on a scripted exchange: the cancel's acknowledgement, then every read-back answers `list`. */
  function scriptedExchange(list: object[]) {
    const transport = async (url: string) => {
      const result = url.includes('/v5/order/cancel')
        ? { orderId: 'o1', orderLinkId: 'tv-1' }
        : { category: 'linear', list, nextPageCursor: '' };
      return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1 }));
    };
    const { clock } = virtualClock();
    const client = new BybitClient({
      credentials: { apiKey: 'KEY', apiSecret: 'secret' },
      baseUrl: 'http://exchange.test',
      transport: transport as unknown as typeof globalThis.fetch,
      now: clock.now,
      sleep: clock.sleep,
    });
    return { ...exchangeWith(client), clock };
  }
  const other = (orderStatus: string) => ({ ...state(orderStatus), orderId: 'o9', orderLinkId: 'tv-9' });

  it('confirms the order asked for when the read-back lists another order first', async () => {
    const { exchange, clock } = scriptedExchange([other('New'), state('Cancelled')]);
    const result = await cancelOrder(exchange, command, 10_000, clock);
    expect(result).toMatchObject({
      orderId: 'o1',
      orderLinkId: 'tv-1',
      orderStatus: 'Cancelled',
      confirmed: true,
    });
  });

  it('never confirms an order that is still open because another order listed first is cancelled', async () => {
    const { exchange, clock } = scriptedExchange([other('Cancelled'), state('New')]);
    const result = await cancelOrder(exchange, command, 10_000, clock);
    expect(result).toMatchObject({
      orderId: 'o1',
      orderLinkId: 'tv-1',
      orderStatus: 'New',
      confirmed: false,
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
      remainingOrders: [{ symbol: 'BTCUSDT', orderId: 's1', orderLinkId: '' }],
      failedScopes: ['option'],
    });
  });
});

describe('cancelOrder: the read-back', () => {
  const acked = async () => ({ orderId: 'o1', orderLinkId: 'tv-1' });
  const reads = (answers: unknown[]) => async () => {
    const next = answers.length > 1 ? answers.shift() : answers[0];
    if (next instanceof Error) throw next;
    return next;
  };
  const unavailable = () => new ExchangeUnavailableError('realtime', 3, 'HTTP 503');

  it('names the acknowledged order when the read never finds it', async () => {
    const { exchange } = exchangeWith({ cancelOrder: acked, orderById: reads([undefined]) });
    const byLink = await cancelOrder(exchange, command, 2_000, virtualClock().clock);
    expect(byLink).toMatchObject({ orderId: 'o1', orderLinkId: 'tv-1', orderStatus: null, confirmed: false });
    const byId = { account: 'hedge', category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' } as const;
    const result = await cancelOrder(exchange, byId, 2_000, virtualClock().clock);
    expect(result).toMatchObject({ orderId: 'o1', orderLinkId: 'tv-1', confirmed: false });
  });

  it('reads again after a failed read of an order called not open, and reports it closed', async () => {
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: reads([unavailable(), state('Filled', '1')]),
    });
    const result = await cancelOrder(exchange, command, 1e12, virtualClock().clock);
    expect(result).toMatchObject({ orderStatus: 'Filled', confirmed: true, alreadyClosed: true });
  });

  it('throws the read failure when an order called not open could never be read', async () => {
    const failure = unavailable();
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: reads([failure]),
    });
    await expect(cancelOrder(exchange, command, 1e12, virtualClock().clock)).rejects.toBe(failure);
  });

  it('answers unconfirmed, not failed, when an acknowledged cancel could not be read back', async () => {
    const { exchange } = exchangeWith({ cancelOrder: acked, orderById: reads([unavailable()]) });
    const result = await cancelOrder(exchange, command, 2_000, virtualClock().clock);
    expect(result).toMatchObject({ orderId: 'o1', orderStatus: null, confirmed: false });
    const { exchange: once } = exchangeWith({
      cancelOrder: acked,
      orderById: reads([state('New'), unavailable()]),
    });
    expect(await cancelOrder(once, command, 2_000, virtualClock().clock)).toMatchObject({
      orderStatus: 'New',
      confirmed: false,
    });
  });

  it('answers with the last status read when later reads of an order called not open fail', async () => {
    const { exchange } = exchangeWith({
      cancelOrder: async () => {
        throw notOpen();
      },
      orderById: reads([state('New'), unavailable()]),
    });
    const result = await cancelOrder(exchange, command, 1e12, virtualClock().clock);
    expect(result).toMatchObject({ orderStatus: 'New', confirmed: false });
  });

  it('retries a read the exchange was too busy for', async () => {
    const busy = new BybitApiError('realtime', 10006, 'too many visits', 'retryable');
    const { exchange } = exchangeWith({ cancelOrder: acked, orderById: reads([busy, state('Cancelled')]) });
    const result = await cancelOrder(exchange, command, 1e12, virtualClock().clock);
    expect(result).toMatchObject({ orderStatus: 'Cancelled', confirmed: true });
  });
});
