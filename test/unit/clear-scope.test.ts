// clearScope against a scripted client: the order of calls it makes, when it repeats, when it stops, and
// what it reports. The emulator tests show it clears real books; these pin each decision on its own.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { OpenOrder, OrderRef } from '../../lib/bybit/types.ts';
import { clearScope, isFinal, openOrdersOf } from '../../lib/cancel/clear-scope.ts';
import type { Scope } from '../../lib/cancel/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import { BybitApiError, DeadlineExceededError, ExchangeUnavailableError } from '../../lib/errors.ts';

type Step = (() => unknown) | Error;

/** A client whose every call takes the next scripted answer for its method, on a virtual clock. */
function scripted(script: { cancelAll?: Step[]; cancelBatch?: Step[]; openOrders?: Step[] }) {
  const calls: { method: string; params: unknown; call?: unknown }[] = [];
  let time = 1_700_000_000_000;
  const next = (method: keyof typeof script, params: unknown, call?: unknown) => {
    calls.push({ method, params, call });
    const step = script[method]?.shift();
    if (step === undefined) throw new Error(`unscripted ${method}`);
    if (step instanceof Error) throw step;
    return step();
  };
  const client = {
    cancelAll: async (params: unknown, call?: unknown) => next('cancelAll', params, call),
    cancelBatch: async (params: unknown, call?: unknown) => next('cancelBatch', params, call),
    openOrders: async (params: unknown, call?: unknown) => next('openOrders', params, call),
  } as unknown as BybitClient;
  const slept: number[] = [];
  const clock: Clock = {
    now: () => time,
    sleep: async (ms) => {
      slept.push(ms);
      time += ms;
    },
  };
  return { client, calls, clock, slept, now: () => time };
}

const refs = (n: number, from = 0): OrderRef[] =>
  Array.from({ length: n }, (_, i) => ({ orderId: `o-${from + i}`, orderLinkId: '' }));
const open = (ids: string[], extra: Partial<OpenOrder> = {}): OpenOrder[] =>
  ids.map((orderId) => ({ orderId, symbol: 'BTCUSDT', orderLinkId: '', ...extra }) as OpenOrder);
const page =
  (list: OpenOrder[], nextPageCursor = '') =>
  () => ({ category: 'linear', list, nextPageCursor });
const LINEAR: Scope = { category: 'linear', settleCoin: 'USDT' };
const methods = (calls: { method: string }[]) => calls.map((c) => c.method);

describe('clearScope', () => {
  it('repeats a futures cancel-all while it answers a full 500, before listing', async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => refs(500), () => refs(499, 500)],
      openOrders: [page([])],
    });
    const outcome = await clearScope(client, LINEAR, clock.now() + 10_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'cancelAll', 'openOrders']);
    expect(outcome).toEqual({
      cancelled: 999,
      remaining: [],
      strategyOrders: [],
      clear: true,
      verified: true,
      rounds: 1,
    });
  });

  it('does not repeat a spot cancel-all that answers 500 (only futures stop at 500)', async () => {
    const { client, calls, clock } = scripted({ cancelAll: [() => refs(500)], openOrders: [page([])] });
    await clearScope(client, { category: 'spot', orderFilter: 'Order' }, clock.now() + 10_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders']);
  });

  it('repeats an inverse cancel-all that answers 500 too', async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => refs(500), () => []],
      openOrders: [page([])],
    });
    await clearScope(client, { category: 'inverse', baseCoin: 'BTC' }, clock.now() + 10_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'cancelAll', 'openOrders']);
  });

  it('counts each acknowledged order once, however many calls acknowledged it', async () => {
    const { client, clock } = scripted({
      cancelAll: [() => refs(3), () => refs(3)],
      openOrders: [page(open(['o-9'])), page([])],
    });
    const outcome = await clearScope(client, LINEAR, clock.now() + 10_000, clock);
    expect(outcome.cancelled).toBe(3);
    expect(outcome.rounds).toBe(2);
  });

  it('pauses between rounds with a growing pause, and lists what the last round left', async () => {
    const { client, calls, clock, slept } = scripted({
      cancelAll: Array.from({ length: 7 }, () => () => []),
      openOrders: [...Array.from({ length: 6 }, () => page(open(['stuck']))), page([])],
    });
    const outcome = await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(slept).toEqual([50, 100, 200, 400, 800, 800]);
    expect(outcome).toMatchObject({ clear: true, rounds: 7 });
    expect(methods(calls).filter((m) => m === 'cancelAll')).toHaveLength(7);
  });

  it('stops before a pause would reach the deadline and reports the listing, not clear', async () => {
    const { client, clock, now } = scripted({
      cancelAll: Array.from({ length: 20 }, () => () => []),
      openOrders: Array.from({ length: 20 }, () => page(open(['stuck']))),
    });
    const deadline = clock.now() + 1_000;
    const outcome = await clearScope(client, LINEAR, deadline, clock);
    expect(outcome).toMatchObject({ clear: false, verified: true, cancelled: 0 });
    expect(outcome.remaining.map((o) => o.orderId)).toEqual(['stuck']);
    expect(outcome.error).toBeUndefined();
    // 50 + 100 + 200 + 400 = 750 ms slept; the next 800 ms pause (plus 50 ms slack) would pass the deadline.
    expect(outcome.rounds).toBe(5);
    expect(now()).toBeLessThanOrEqual(deadline);
  });

  it('gives up at once on a refused key, without listing or another round', async () => {
    const refused = new BybitApiError('cancel-all', 10003, 'API key is invalid.', 'credentials');
    const { client, calls, clock } = scripted({ cancelAll: [refused] });
    const outcome = await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll']);
    expect(outcome).toMatchObject({ clear: false, verified: false, rounds: 1, error: refused });
  });

  it('lists after a cancel-all that failed transiently, and goes round again', async () => {
    const flaky = new ExchangeUnavailableError('cancel-all', 5, 'HTTP 502', { httpStatus: 502 });
    const { client, calls, clock } = scripted({
      cancelAll: [flaky, () => refs(1)],
      openOrders: [page(open(['o-0'])), page([])],
    });
    const outcome = await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelAll', 'openOrders']);
    expect(outcome).toMatchObject({ clear: true, cancelled: 1, rounds: 2 });
    expect(outcome.error).toBeUndefined();
  });

  it('reports the last failure and an unverified scope when the listing keeps failing', async () => {
    const deadline = new DeadlineExceededError('realtime');
    const { client, clock } = scripted({ cancelAll: [() => refs(2)], openOrders: [deadline] });
    const outcome = await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(outcome).toMatchObject({ clear: false, verified: false, cancelled: 2, error: deadline });
  });

  it('cancels option stragglers by batch after the first cancel-all, and counts only items answered 0', async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => []],
      cancelBatch: [
        () => [
          { symbol: 'BTC-1', orderId: 'a', orderLinkId: '', code: 0, msg: 'OK' },
          { symbol: 'BTC-1', orderId: 'b', orderLinkId: '', code: 110001, msg: 'gone' },
          { symbol: 'BTC-1', orderId: 'c', orderLinkId: '', code: 0, msg: 'OK' },
        ],
      ],
      openOrders: [page(open(['a', 'b', 'c'], { symbol: 'BTC-1' })), page([])],
    });
    const outcome = await clearScope(client, { category: 'option' }, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelBatch', 'openOrders']);
    expect(calls[2]?.params).toEqual({
      category: 'option',
      request: [
        { symbol: 'BTC-1', orderId: 'a' },
        { symbol: 'BTC-1', orderId: 'b' },
        { symbol: 'BTC-1', orderId: 'c' },
      ],
    });
    expect(outcome.cancelled).toBe(2);
  });

  it('uses cancel-all again for option when more stragglers are left than one batch holds', async () => {
    const many = open(Array.from({ length: 21 }, (_, i) => `s-${i}`));
    const { client, calls, clock } = scripted({
      cancelAll: [() => [], () => []],
      openOrders: [page(many), page([])],
    });
    await clearScope(client, { category: 'option' }, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelAll', 'openOrders']);
  });

  it('uses cancel-all again for linear stragglers (one unit, cheaper than a batch)', async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => [], () => []],
      openOrders: [page(open(['x'])), page([])],
    });
    await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelAll', 'openOrders']);
  });
});

describe('clearScope deadlines and recoveries', () => {
  it("passes the run's deadline to every call (the client's own default is longer than an HTTP budget)", async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => []],
      cancelBatch: [() => [{ symbol: 'BTCUSDT', orderId: 'x', orderLinkId: '', code: 0, msg: 'OK' }]],
      openOrders: [page(open(['x'])), page([])],
    });
    const deadline = clock.now() + 9_000;
    await clearScope(client, { category: 'option' }, deadline, clock);
    expect(calls.map((c) => c.call)).toEqual(calls.map(() => ({ deadline })));
  });

  it('goes round again after a listing that failed transiently, and clears', async () => {
    const flaky = new ExchangeUnavailableError('realtime', 5, 'HTTP 503', { httpStatus: 503 });
    const { client, clock } = scripted({
      cancelAll: [() => refs(1), () => []],
      openOrders: [flaky, page([])],
    });
    const outcome = await clearScope(client, LINEAR, clock.now() + 60_000, clock);
    expect(outcome).toMatchObject({ clear: true, rounds: 2, cancelled: 1 });
  });
});

describe('openOrdersOf', () => {
  it('follows the cursor through every page with the scope and the page limit', async () => {
    const { client, calls } = scripted({
      openOrders: [page(open(['a']), 'c1'), page(open(['b']), 'c2'), page(open(['c']))],
    });
    const orders = await openOrdersOf(client, LINEAR, Date.now() + 10_000);
    expect(orders.map((o) => o.orderId)).toEqual(['a', 'b', 'c']);
    expect(calls.map((c) => c.params)).toEqual([
      { category: 'linear', settleCoin: 'USDT', limit: 50, cursor: '' },
      { category: 'linear', settleCoin: 'USDT', limit: 50, cursor: 'c1' },
      { category: 'linear', settleCoin: 'USDT', limit: 50, cursor: 'c2' },
    ]);
  });

  it('keeps only the stop orders of a stop-order scope (the listing cannot filter on it)', async () => {
    const { client } = scripted({
      openOrders: [
        page([...open(['stop'], { stopOrderType: 'Stop' }), ...open(['plain'], { stopOrderType: '' })]),
      ],
    });
    const orders = await openOrdersOf(client, { ...LINEAR, stopOrderType: 'Stop' }, Date.now() + 10_000);
    expect(orders.map((o) => o.orderId)).toEqual(['stop']);
  });
});

describe('isFinal', () => {
  it.each([
    ['a refused key', new BybitApiError('cancel', 10003, 'invalid', 'credentials'), true],
    ['a rejection', new BybitApiError('cancel', 10001, 'params', 'rejected'), true],
    ['no time left', new DeadlineExceededError('cancel'), true],
    ['a retryable code', new BybitApiError('cancel', 10006, 'too many', 'retryable'), false],
    ['an unavailable exchange', new ExchangeUnavailableError('cancel', 1, 'HTTP 503'), false],
    ['anything else', new Error('boom'), false],
  ])('%s is final: %s', (_, error, final) => {
    expect(isFinal(error)).toBe(final);
  });
});

describe('clearScope: option stragglers', () => {
  it('cancels option stragglers by cancel-all again when the last listing failed and named none', async () => {
    const { client, calls, clock } = scripted({
      cancelAll: [() => [], () => []],
      openOrders: [new ExchangeUnavailableError('open-orders', 3, 'HTTP 503'), page([])],
    });
    const outcome = await clearScope(client, { category: 'option' }, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelAll', 'openOrders']);
    expect(outcome).toMatchObject({ clear: true, rounds: 2 });
  });

  it('cancels a full batch of 20 option stragglers in one batch', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const { client, calls, clock } = scripted({
      cancelAll: [() => []],
      cancelBatch: [
        () => ids.map((orderId) => ({ symbol: 'BTC-1', orderId, orderLinkId: '', code: 0, msg: 'OK' })),
      ],
      openOrders: [page(open(ids, { symbol: 'BTC-1' })), page([])],
    });
    const outcome = await clearScope(client, { category: 'option' }, clock.now() + 60_000, clock);
    expect(methods(calls)).toEqual(['cancelAll', 'openOrders', 'cancelBatch', 'openOrders']);
    expect(outcome).toMatchObject({ clear: true, cancelled: 20 });
  });
});
