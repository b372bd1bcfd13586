// The Bybit client against the exchange emulator over real sockets: signing with both key types, every
// fault the emulator can inject, pacing on the rate-limit headers, and the deadline under heavy faults.

import { generateKeyPairSync } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient, type BybitClientOptions } from '../../lib/bybit/client.ts';
import {
  BybitApiError,
  DeadlineExceededError,
  ExchangeUnavailableError,
  OrderNotOpenError,
} from '../../lib/errors.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';

const hmac = { uid: '5001', apiKey: 'client-test-hmac', apiSecret: 'client-test-hmac-secret-0123456789' };
const rsaKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const rsa = { uid: '5002', apiKey: 'client-test-rsa', publicKeyPem: rsaKeys.publicKey };

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [hmac, rsa], timeoutHoldMs: 5_000 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

function client(options: Partial<BybitClientOptions> = {}) {
  return new BybitClient({
    credentials: { apiKey: hmac.apiKey, apiSecret: hmac.apiSecret },
    baseUrl: emulator.url,
    requestTimeoutMs: 300,
    backoffBaseMs: 10,
    backoffCapMs: 100,
    ...options,
  });
}

const seedLinear = (count: number, apiKey = hmac.apiKey) =>
  emulator.addOrders(
    apiKey,
    Array.from({ length: count }, (_, i) => ({
      category: 'linear' as const,
      symbol: i % 2 ? 'BTCUSDT' : 'ETHUSDT',
    })),
  );

describe('endpoints', () => {
  it('is accepted with an HMAC key and with an RSA key', async () => {
    const [first] = seedLinear(1);
    const [second] = seedLinear(1, rsa.apiKey);
    await client().cancelOrder({
      category: 'linear',
      symbol: first?.symbol as string,
      orderId: first?.orderId,
    });
    const rsaClient = client({ credentials: { apiKey: rsa.apiKey, privateKey: rsaKeys.privateKey } });
    await rsaClient.cancelOrder({
      category: 'linear',
      symbol: second?.symbol as string,
      orderId: second?.orderId,
    });
    expect(emulator.openOrders()).toHaveLength(0);
    expect(emulator.requests.map((r) => r.retCode)).toEqual([0, 0]);
  });

  it('pages through open orders 50 at a time', async () => {
    seedLinear(120);
    const first = await client().openOrders({ category: 'linear', settleCoin: 'USDT', limit: 50 });
    expect(first.list).toHaveLength(50);
    const second = await client().openOrders({
      category: 'linear',
      settleCoin: 'USDT',
      limit: 50,
      cursor: first.nextPageCursor,
    });
    const third = await client().openOrders({
      category: 'linear',
      settleCoin: 'USDT',
      limit: 50,
      cursor: second.nextPageCursor,
    });
    const ids = new Set([...first.list, ...second.list, ...third.list].map((o) => o.orderId));
    expect(ids.size).toBe(120);
    expect(third.nextPageCursor).toBe('');
  });

  it('cancels at most 500 futures orders per cancel-all call', async () => {
    seedLinear(620);
    const first = await client().cancelAll({ category: 'linear', settleCoin: 'USDT' });
    const second = await client().cancelAll({ category: 'linear', settleCoin: 'USDT' });
    expect([first.length, second.length]).toEqual([500, 120]);
  });

  it('returns per-item codes from cancel-batch', async () => {
    const [a, b] = seedLinear(2);
    const items = await client().cancelBatch({
      category: 'linear',
      request: [
        { symbol: a?.symbol as string, orderId: a?.orderId },
        { symbol: 'BTCUSDT', orderId: 'missing' },
        { symbol: b?.symbol as string, orderId: b?.orderId },
      ],
    });
    expect(items.map((i) => i.code)).toEqual([0, 110001, 0]);
  });

  it('reads the exchange clock', async () => {
    emulator.setClockSkew(-90_000);
    const time = await client().serverTime();
    expect(Math.abs(time - (Date.now() - 90_000))).toBeLessThan(1_000);
  });
});

describe('answers and faults', () => {
  it('distinguishes an order that is already gone from a failure', async () => {
    const error = await client()
      .cancelOrder({ category: 'spot', symbol: 'BTCUSDT', orderId: 'nope' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderNotOpenError);
    expect(error).toMatchObject({ retCode: 170213, endpoint: 'cancel' });
  });

  it.each([['http5xx'], ['reset'], ['timeout'], ['serverError'], ['processing'], ['rateLimit']] as const)(
    'retries a %s fault and then succeeds',
    async (kind) => {
      const [order] = seedLinear(1);
      emulator.failNext(kind, 2);
      const result = await client().cancelOrder({
        category: 'linear',
        symbol: order?.symbol as string,
        orderId: order?.orderId,
      });
      expect(result.orderId).toBe(order?.orderId);
      expect(emulator.requests).toHaveLength(3);
      expect(emulator.openOrders()).toHaveLength(0);
    },
  );

  it('resynchronises its clock when the exchange clock has moved, and retries once', async () => {
    const [order] = seedLinear(1);
    emulator.setClockSkew(30_000);
    await client().cancelOrder({
      category: 'linear',
      symbol: order?.symbol as string,
      orderId: order?.orderId,
    });
    expect(emulator.requests.map((r) => r.path)).toEqual([
      '/v5/order/cancel',
      '/v5/market/time',
      '/v5/order/cancel',
    ]);
    expect(emulator.requests.map((r) => r.retCode)).toEqual([10002, 0, 0]);
  });

  it('does not retry a refused key', async () => {
    emulator.failNext('invalidKey', 1);
    const error = await client()
      .cancelAll({ category: 'option' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BybitApiError);
    expect(error).toMatchObject({ retCode: 10003, kind: 'credentials' });
    expect(emulator.requests).toHaveLength(1);
  });

  it('reports a wrongly signed request as 10004 without echoing the signed string', async () => {
    const error = (await client({ credentials: { apiKey: hmac.apiKey, apiSecret: 'wrong' } })
      .cancelAll({ category: 'option' })
      .catch((e: unknown) => e)) as BybitApiError;
    expect(error.retCode).toBe(10004);
    expect(error.retMsg).toContain('origin_string[redacted]');
    expect(`${error.message} ${error.retMsg}`).not.toContain(hmac.apiKey);
  });

  it('gives up with a typed error when the exchange keeps failing', async () => {
    emulator.setFaults({ rate: 1, kinds: ['http5xx'] });
    const error = await client({ maxAttempts: 3 })
      .cancelAll({ category: 'option' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(emulator.requests).toHaveLength(3);
  });

  it('never waits past its deadline on a request that hangs', async () => {
    emulator.setFaults({ rate: 1, kinds: ['timeout'] });
    const started = Date.now();
    const error = await client({ requestTimeoutMs: 5_000 })
      .cancelAll({ category: 'option' }, { deadline: started + 400 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(Date.now() - started).toBeLessThan(400 + 100);
  });
});

describe('pacing', () => {
  it('keeps a burst of 60 cancels inside a 10/s limit without a single 10006', async () => {
    emulator.setRateLimits({ cancel: 10 });
    const orders = seedLinear(60);
    const c = client();
    const started = Date.now();
    await Promise.all(
      orders.map((o) =>
        c.cancelOrder(
          { category: 'linear', symbol: o.symbol, orderId: o.orderId },
          { deadline: started + 20_000 },
        ),
      ),
    );
    expect(emulator.requests.filter((r) => r.retCode === 10006)).toHaveLength(0);
    expect(emulator.openOrders()).toHaveLength(0);
    // 60 requests at 10/s need at least five full windows after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  });

  it('learns a tighter limit from X-Bapi-Limit and holds back', async () => {
    emulator.setRateLimits({ 'cancel-all': 3 });
    const c = client();
    await c.cancelAll({ category: 'linear', settleCoin: 'USDT' });
    expect(c.pacer.capacity('cancel-all', 'linear')).toBe(3);
    await Promise.all(
      Array.from({ length: 9 }, () => c.cancelAll({ category: 'linear', settleCoin: 'USDT' })),
    );
    expect(emulator.requests.filter((r) => r.retCode === 10006)).toHaveLength(0);
  });
});

describe('under 30% faults', () => {
  it('every call succeeds or fails with a typed error before its deadline; none hangs', async () => {
    // Limits high enough that pacing does not decide the outcome: this is about faults.
    emulator.setRateLimits(1_000);
    emulator.setFaults({ rate: 0.3, kinds: ['http5xx', 'reset', 'rateLimit', 'timeout'], seed: 7 });
    const orders = seedLinear(150);
    const c = client({ requestTimeoutMs: 200 });
    await c.openOrders({ category: 'linear', settleCoin: 'USDT' }).catch(() => undefined); // learn the limits
    const typed = [BybitApiError, ExchangeUnavailableError, DeadlineExceededError];
    // On a loaded machine (or under mutation testing) timers fire late: allow what the event loop lagged.
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const calls = orders.map(async (order, i) => {
      const deadline = Date.now() + 1_500;
      const call =
        i % 3 === 0
          ? c.cancelOrder({ category: 'linear', symbol: order.symbol, orderId: order.orderId }, { deadline })
          : i % 3 === 1
            ? c.openOrders({ category: 'linear', symbol: order.symbol, limit: 50 }, { deadline })
            : c.cancelBatch(
                { category: 'linear', request: [{ symbol: order.symbol, orderId: order.orderId }] },
                { deadline },
              );
      try {
        await call;
        return { ok: true, late: Date.now() - deadline };
      } catch (error) {
        return { ok: false, typed: typed.some((t) => error instanceof t), late: Date.now() - deadline };
      }
    });
    const outcomes = await Promise.all(calls);
    lag.disable();
    expect(outcomes.filter((o) => !o.ok && !o.typed)).toEqual([]);
    // Allow a few ms for the event loop between the deadline and the rejection being observed.
    expect(Math.max(...outcomes.map((o) => o.late))).toBeLessThan(50 + lag.max / 1e6);
    // Work did happen (most calls succeed despite the faults); the exact share depends on timing.
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(orders.length / 2);
    expect(emulator.requests.filter((r) => r.fault).length).toBeGreaterThan(20);
  });
});
