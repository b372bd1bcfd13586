// "Everything" is what the exchange lists: the kill switch and the sweep verify the widest listings, find
// coins no setting names, fail closed on malformed answers and uncancellable orders, and one bad entry (a
// secret's account, an event's field) never disables the rest. Real handler, emulator, Secrets Manager.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeTransport, type Transport } from '../../lib/bybit/transport.ts';
import { type KillSwitchReport, killSwitch } from '../../lib/cancel/kill-switch.ts';
import { sweepStaleOrders } from '../../lib/cancel/sweep.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { createApp } from '../../lib/lambda/app.ts';
import type { OrderSeed } from '../emulator/index.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  // The secret is read on every invocation, so a test can change it.
  stack = await startStack({ accounts: ['main', 'hedge', 'bot'], env: { SECRET_CACHE_TTL_SECONDS: '0' } });
  Object.assign(process.env, stack.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.writeExchangeSecret();
});

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const fail = async (promise: Promise<unknown>) =>
  (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as IncompleteCancelError;

/** Orders outside every configured list (default SCOPE_*), and the spot kinds a plain cancel-all leaves. */
const OUTSIDE: OrderSeed[] = [
  { category: 'inverse', symbol: 'XRPUSD' },
  { category: 'inverse', symbol: 'XRPUSD', kind: 'StopOrder' },
  { category: 'inverse', symbol: 'DOTUSD' },
  { category: 'inverse', symbol: 'DOTUSD', kind: 'tpslOrder' },
  { category: 'inverse', symbol: 'SOLUSDH27', kind: 'StopOrder' },
  { category: 'linear', symbol: 'BTCPERP' },
  { category: 'linear', symbol: 'SOLPERP', kind: 'StopOrder' },
  { category: 'spot', symbol: 'BTCUSDT', kind: 'OcoOrder' },
  { category: 'spot', symbol: 'ETHUSDT', kind: 'BidirectionalTpslOrder' },
  { category: 'spot', symbol: 'BTCUSDT', kind: 'tpslOrder' },
  { category: 'option', symbol: 'SOL-27DEC26-200-C' },
  { category: 'option', symbol: 'ETH-27DEC26-4000-P' },
];

describe('the kill switch covers what the exchange lists', () => {
  it('ends with zero open orders over coins no default names, and reports success', async () => {
    stack.emulator.addOrders(key('main'), OUTSIDE);
    stack.emulator.addOrders(key('hedge'), [...OUTSIDE, ...mixedBook(40)]);
    const report = (await cancelAll(
      loadEvent('kill-switch.json'),
      lambdaContext(20_000),
    )) as KillSwitchReport;
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(report).toMatchObject({ ok: true, remaining: 0, failedScopes: [], uncancellable: [] });
    expect(report.coverage.confirmed).toBe(true);
    // The inverse listing without a filter showed XRP, DOT and SOL; they went by cancel-all on their symbol.
    const inverse = stack.emulator.requests.filter(
      (r) => r.path === '/v5/order/cancel-all' && r.category === 'inverse' && r.apiKey === key('main'),
    );
    expect(inverse.length).toBeGreaterThanOrEqual(5);
  });

  it('never reports success while orders are open when the listings answer without result.list', async () => {
    stack.emulator.addOrders(key('main'), OUTSIDE);
    stack.emulator.setFaults({ rate: 1, kinds: ['malformed'], paths: ['/v5/order/realtime'] });
    const error = await fail(cancelAll(loadEvent('kill-switch.json'), lambdaContext(4_000)));
    expect(error.name).toBe('IncompleteCancelError');
    expect(error.report.ok).toBe(false);
    expect(stack.emulator.openOrders().length).toBeGreaterThan(0);
    expect(error.message).toContain('malformed answer: result.list is missing or not an array');
    const scopes = (error.report as unknown as KillSwitchReport).scopes;
    const main = scopes.filter((s) => s.account === 'main');
    expect(main.map((s) => [s.scope, s.verified])).toEqual([
      ['linear settleCoin=USDT', false],
      ['linear settleCoin=USDC', false],
      ['inverse', false],
      ['spot', false],
      ['option', false],
    ]);
  });

  it('finds a settle coin the configuration does not name, and clears it', async () => {
    const app = createApp({ env: { ...stack.env, SCOPE_LINEAR_SETTLE_COINS: 'USDT' } });
    stack.emulator.addOrders(key('main'), [
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'ETHPERP' },
      { category: 'linear', symbol: 'BTC-26DEC26', kind: 'StopOrder' },
    ]);
    const report = await killSwitch(app.exchange, app.config.scope, {}, Date.now() + 10_000);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(report.coverage).toMatchObject({
      confirmed: true,
      linearSettleCoins: ['USDT', 'USDC'],
      discovered: ['USDC'],
    });
    expect(report.scopes.map((s) => s.scope)).toContain('linear settleCoin=USDC');
    const discovery = stack.emulator.requests.filter((r) => r.path === '/v5/market/instruments-info');
    // One read for all accounts (trading and pre-market contracts), then cached for the container.
    expect(discovery).toHaveLength(2);
    await killSwitch(app.exchange, app.config.scope, {}, Date.now() + 10_000);
    expect(stack.emulator.requests.filter((r) => r.path === '/v5/market/instruments-info')).toHaveLength(2);
  });

  it('uses the configured coins when discovery fails, and says coverage was not confirmed', async () => {
    const app = createApp({ env: { ...stack.env, SCOPE_LINEAR_SETTLE_COINS: 'USDT' } });
    stack.emulator.addOrders(key('main'), [
      { category: 'linear', symbol: 'BTCUSDT' },
      ...OUTSIDE.slice(0, 5),
    ]);
    stack.emulator.failNext('http5xx', 1_000, '/v5/market/instruments-info');
    const error = await fail(killSwitch(app.exchange, app.config.scope, {}, Date.now() + 6_000));
    // The first wave and the verification did not wait for discovery: what could be seen is gone.
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(error.report).toMatchObject({
      ok: false,
      coverage: { confirmed: false, linearSettleCoins: ['USDT'] },
    });
    expect(error.report.failedScopes).toEqual([
      'coverage: linear settle coins not confirmed by the exchange',
    ]);
  });

  it('names orders Bybit will not cancel at once and fails, after clearing the rest', async () => {
    stack.emulator.setAuctionPhase('NEWUSDT', 'CallAuctionNoCancel');
    const [triggered, preMarket] = stack.emulator.addOrders(key('main'), [
      { category: 'spot', symbol: 'ETHUSDT', kind: 'BidirectionalTpslOrder', orderStatus: 'New' },
      { category: 'linear', symbol: 'NEWUSDT', baseCoin: 'NEW', settleCoin: 'USDT' },
      ...OUTSIDE,
    ]);
    const started = Date.now();
    const error = await fail(cancelAll(loadEvent('kill-switch.json'), lambdaContext(25_000)));
    // Named at once, not retried until the deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
    const left = stack.emulator.openOrders().map((o) => o.orderId);
    expect(left.sort()).toEqual([triggered?.orderId, preMarket?.orderId].sort());
    const report = error.report as unknown as KillSwitchReport;
    expect(report.uncancellable.map((u) => [u.orderId, u.category])).toEqual(
      expect.arrayContaining([
        [triggered?.orderId, 'spot'],
        [preMarket?.orderId, 'linear'],
      ]),
    );
    expect(error.message).toContain('triggered spot BidirectionalTpslOrder');
    expect(error.message).toContain('CallAuctionNoCancel');
  });

  it('keeps every other scope in the report when one answers a credentials code', async () => {
    // A key without option permission: every option request is refused with 10005.
    const refuseOption: Transport = async (url, init) => {
      if (url.includes('category=option') || String(init.body ?? '').includes('"category":"option"')) {
        const body = { retCode: 10005, retMsg: 'Permission denied', result: {}, retExtInfo: {}, time: 1 };
        return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
      }
      return nodeTransport(url, init);
    };
    const app = createApp({ env: stack.env, transport: refuseOption });
    stack.emulator.addOrders(key('main'), mixedBook(25));
    const error = await fail(
      killSwitch(app.exchange, app.config.scope, { accounts: ['main'] }, Date.now() + 8_000),
    );
    const report = error.report as unknown as KillSwitchReport;
    expect(report.failedScopes).toEqual(['main: option']);
    expect(report.scopes.find((s) => s.scope === 'option')?.error).toMatchObject({ retCode: 10005 });
    const others = report.scopes.filter((s) => s.scope !== 'option');
    expect(others.map((s) => s.scope)).toEqual([
      'linear settleCoin=USDT',
      'linear settleCoin=USDC',
      'inverse',
      'spot',
    ]);
    for (const scope of others) expect(scope).toMatchObject({ verified: true, remaining: 0 });
    expect(others.filter((s) => s.cancelled > 0)).toHaveLength(4);
    // mixedBook(25) holds 5 option orders: the refused key leaves exactly those, and nothing else.
    expect(stack.emulator.openOrders().map((o) => o.category)).toEqual(Array(5).fill('option'));
  });
});

describe('one bad entry never disables the kill switch', () => {
  it('clears every valid account of a secret with one malformed account, and fails naming it', async () => {
    const pair = (name: string) => {
      const account = stack.accounts.find((a) => a.name === name);
      return { apiKey: account?.apiKey, apiSecret: account?.apiSecret };
    };
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: { main: pair('main'), broken: { apiKey: '' }, hedge: pair('hedge') },
    });
    stack.emulator.addOrders(key('main'), mixedBook(20));
    stack.emulator.addOrders(key('hedge'), mixedBook(20));
    const error = await fail(cancelAll(loadEvent('kill-switch.json'), lambdaContext(10_000)));
    expect(stack.emulator.openOrders(key('main'))).toHaveLength(0);
    expect(stack.emulator.openOrders(key('hedge'))).toHaveLength(0);
    expect(error.report.failedScopes).toEqual(['broken: *']);
    expect(error.message).toContain(
      'broken: *: secret bybit-cancel/test/exchange-keys: accounts.broken: "apiKey" is missing',
    );

    // A scoped cancel-all on a valid account keeps working.
    stack.emulator.addOrders(key('hedge'), [{ category: 'option', symbol: 'BTC-27DEC26-100000-C' }]);
    const scoped = await cancelAll({ category: 'option', account: 'hedge' }, lambdaContext());
    expect(scoped).toMatchObject({ operation: 'cancelAll', account: 'hedge', remaining: 0 });
  });

  it('never refuses an EventBridge detail: covers everything and says what it ignored', async () => {
    for (const name of ['main', 'hedge', 'bot']) stack.emulator.addOrders(key(name), mixedBook(15));
    // detail: {"accounts": "main", "reason": 42, "note": "x"}
    const event = loadEvent('kill-switch-malformed-detail.json');
    const report = (await cancelAll(event, lambdaContext(15_000))) as KillSwitchReport;
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(report.accounts).toEqual(['main', 'hedge', 'bot']);
    expect(report.ignored).toEqual([
      'accounts is not a list of account names: every account is covered',
      'reason is not a string: dropped',
      'unknown field "note"',
    ]);
  });

  it('narrows to one account named by `account`', async () => {
    for (const name of ['main', 'hedge']) stack.emulator.addOrders(key(name), mixedBook(15));
    const event = loadEvent('kill-switch-account.json');
    const report = (await cancelAll(event, lambdaContext(15_000))) as KillSwitchReport;
    expect(report.accounts).toEqual(['main']);
    expect(stack.emulator.openOrders(key('main'))).toHaveLength(0);
    expect(stack.emulator.openOrders(key('hedge'))).toHaveLength(15);
  });

  it('still answers a direct caller 400 for the same malformed body', async () => {
    const answer = cancelAll({ accounts: 'main', reason: 42 }, lambdaContext());
    await expect(answer).rejects.toMatchObject({ name: 'ValidationError' });
    expect(stack.emulator.requests).toHaveLength(0);
  });
});

describe('the sweep uses the same coverage', () => {
  it('sweeps a stale prefixed order on a coin no setting names', async () => {
    const app = createApp({ env: { ...stack.env, STALE_ORDER_LINK_ID_PREFIX: 'bot-' } });
    const old = Date.now() - 2 * 3_600_000;
    stack.emulator.addOrders(key('main'), [
      { category: 'inverse', symbol: 'XRPUSD', orderLinkId: 'bot-xrp', createdTime: old },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'OcoOrder', orderLinkId: 'bot-oco', createdTime: old },
      { category: 'linear', symbol: 'ETHPERP', orderLinkId: 'bot-perp', createdTime: old },
      { category: 'inverse', symbol: 'DOTUSD', orderLinkId: 'manual-dot', createdTime: old },
    ]);
    const report = await sweepStaleOrders(
      app.exchange,
      app.config.scope,
      { maxAgeMs: 3_600_000, linkIdPrefix: 'bot-', dryRun: false, accounts: ['main'] },
      Date.now() + 10_000,
    );
    expect(report).toMatchObject({ ok: true, stale: 3, cancelled: 3, remaining: 0 });
    expect(stack.emulator.openOrders().map((o) => o.orderLinkId)).toEqual(['manual-dot']);
  });
});
