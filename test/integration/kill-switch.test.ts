// The kill switch through the real handler and events, against thousands of orders on the emulator.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { linearBook, mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge', 'bot'], rsa: ['bot'] });
  Object.assign(process.env, stack.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => stack.emulator.reset());

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;

/** 1,500 orders over three accounts: every category and kind, and 600 linear USDT orders in one scope of `main`. */
function seed1500() {
  stack.emulator.addOrders(key('main'), [...linearBook(600), ...mixedBook(100)]);
  stack.emulator.addOrders(key('hedge'), mixedBook(400));
  stack.emulator.addOrders(key('bot'), mixedBook(400));
  expect(stack.emulator.openOrders()).toHaveLength(1500);
}

const fail = async (promise: Promise<unknown>) =>
  (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as IncompleteCancelError;

describe('kill switch event', () => {
  it('cancels 1,500 open orders of every kind over 3 accounts and reports zero left', async () => {
    seed1500();
    const report = (await cancelAll(
      loadEvent('kill-switch.json'),
      lambdaContext(30_000),
    )) as KillSwitchReport;
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(report).toMatchObject({
      ok: true,
      remaining: 0,
      failedScopes: [],
      reason: 'drawdown limit hit',
    });
    // Acknowledged cancels: on a loaded machine a cancel-all can outlive the 1 s request timeout after it
    // took effect, and its retry finds nothing left to acknowledge. The listings are the truth.
    expect(report.cancelled).toBeGreaterThan(1000);
    expect(report.cancelled).toBeLessThanOrEqual(1500);
    expect(report.accounts).toEqual(['main', 'hedge', 'bot']);
    // Every account × every widest listing: linear per settle coin, inverse, spot and option unfiltered.
    expect(report.scopes.filter((s) => s.account === 'main').map((s) => s.scope)).toEqual([
      'linear settleCoin=USDT',
      'linear settleCoin=USDC',
      'inverse',
      'spot',
      'option',
    ]);
    expect(report.scopes).toHaveLength(15);
    expect(report.coverage).toMatchObject({ confirmed: true, linearSettleCoins: ['USDT', 'USDC'] });
    const mainUsdt = report.scopes.find((s) => s.account === 'main' && s.scope === 'linear settleCoin=USDT');
    expect(mainUsdt?.remaining).toBe(0);
    const cancelAllCalls = stack.emulator.requests.filter((r) => r.path === '/v5/order/cancel-all');
    const mainLinear = cancelAllCalls.filter(
      (r) => r.uid === stack.accounts[0]?.uid && r.category === 'linear',
    );
    // Every order went by a cancel-all, once: the emulator counts what each call cancelled.
    expect(cancelAllCalls.reduce((sum, r) => sum + (r.cancelled ?? 0), 0)).toBe(1500);
    // Bybit cancels at most 500 futures orders a call (docs/v5/order/cancel-all.mdx), so main's 620 linear
    // USDT orders took two calls: 500, then at once the repeat for the last 120, before any listing of them.
    const mainUsdtRequests = stack.emulator.requests.filter(
      (r) => r.uid === stack.accounts[0]?.uid && r.category === 'linear' && r.settleCoin === 'USDT',
    );
    const firstCalls = mainUsdtRequests.slice(
      0,
      mainUsdtRequests.findIndex((r) => r.path === '/v5/order/realtime'),
    );
    expect(firstCalls.map((r) => [r.path, r.cancelled])).toEqual([
      ['/v5/order/cancel-all', 500],
      ['/v5/order/cancel-all', 120],
    ]);
    const cancelledByCall = mainLinear.map((r) => r.cancelled ?? 0).filter((n) => n > 0);
    expect(cancelledByCall.sort((x, y) => y - x)).toEqual([500, 120, 20]);
    // 13 calls an account (linear per settle coin, inverse per coin, spot per order kind, option) and the
    // repeat. A retry after an answer slower than the request timeout is one more call that cancels nothing.
    expect(cancelAllCalls.filter((r) => (r.cancelled ?? 0) > 0)).toHaveLength(3 * 13 + 1);
    expect(stack.emulator.requests.filter((r) => r.retCode === 10006)).toHaveLength(0);
  });

  it('writes its metrics as one EMF line: cancelled, left open, failures, duration', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(25));
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await cancelAll(loadEvent('kill-switch.json'), lambdaContext());
    } finally {
      process.stdout.write = write;
    }
    const emf = lines.map((l) => JSON.parse(l)).filter((l) => '_aws' in l);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      Operation: 'killSwitch',
      OrdersCancelled: 25,
      OrdersLeftOpen: 0,
      Failures: 0,
    });
    expect(emf[0].Duration).toBeGreaterThan(0);
  });

  it('verifies and cancels orders that survive the first cancel', async () => {
    seed1500();
    stack.emulator.setSurvivors({ rate: 0.05, seed: 3 });
    const report = (await cancelAll(
      loadEvent('kill-switch.json'),
      lambdaContext(30_000),
    )) as KillSwitchReport;
    expect(report.ok).toBe(true);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    const listings = stack.emulator.requests.filter((r) => r.path === '/v5/order/realtime');
    // More listings than one per widest listing and pre-listing: survivors were found and cleared later.
    expect(listings.length).toBeGreaterThan(18);
  });

  it('throws naming the account and scope that cannot be cleared, after clearing the rest', async () => {
    seed1500();
    const stuck = stack.emulator
      .openOrders(key('hedge'), { category: 'inverse' })
      .find((o) => o.baseCoin === 'BTC');
    stack.emulator.setSurvivors({ orderIds: [stuck?.orderId as string] });
    const error = await fail(cancelAll(loadEvent('kill-switch.json'), lambdaContext(5_000)));
    expect(error.name).toBe('IncompleteCancelError');
    expect(error.message).toContain('hedge: inverse');
    expect(error.report).toMatchObject({
      ok: false,
      remaining: 1,
      failedScopes: ['hedge: inverse'],
    });
    expect(stack.emulator.openOrders().map((o) => o.orderId)).toEqual([stuck?.orderId]);
  });

  it('fails when a scope keeps failing at the exchange, and says which', async () => {
    stack.emulator.addOrders(key('bot'), mixedBook(50));
    stack.emulator.setFaults({ rate: 1, kinds: ['serverError'], paths: ['/v5/order/realtime'] });
    const error = await fail(cancelAll(loadEvent('kill-switch.json'), lambdaContext(4_000)));
    // The first wave went through, but nothing could be listed: that is not a success. Inverse coins no
    // setting names could not be seen either, so they are still open.
    const left = stack.emulator.openOrders();
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((o) => o.category === 'inverse' && !['BTC', 'ETH'].includes(o.baseCoin))).toBe(true);
    expect(error.report.failedScopes).toHaveLength(15);
    expect(JSON.stringify(error.report)).toContain('10016');
  });

  it('narrows to the accounts and categories the event names', async () => {
    seed1500();
    const report = (await cancelAll(
      loadEvent('kill-switch-narrowed.json'),
      lambdaContext(),
    )) as KillSwitchReport;
    expect(report.accounts).toEqual(['main']);
    const left = stack.emulator.openOrders(key('main'));
    expect(left.every((o) => o.category === 'inverse' || o.category === 'option')).toBe(true);
    expect(report.scopes.map((s) => s.scope)).toEqual([
      'linear settleCoin=USDT',
      'linear settleCoin=USDC',
      'spot',
    ]);
    expect(left.length).toBeGreaterThan(0);
    expect(stack.emulator.openOrders(key('hedge'))).toHaveLength(400);
  });

  it('clears the accounts it knows and fails for one it does not', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(20));
    const event = loadEvent('kill-switch.json');
    event.detail = { accounts: ['main', 'ghost'] };
    const error = await fail(cancelAll(event, lambdaContext()));
    expect(stack.emulator.openOrders(key('main'))).toHaveLength(0);
    expect(error.report.failedScopes).toEqual(['ghost: *']);
    // An asynchronous invocation shows only the message: it says why.
    expect(error.message).toContain('ghost: *: no account "ghost" in the secret');
  });
});

describe('kill switch over HTTPS (POST /cancel-all without category)', () => {
  it('answers 200 only when everything is gone', async () => {
    stack.emulator.addOrders(key('hedge'), mixedBook(30));
    const event = signedHttpEvent('http-v2-kill-switch.json', { accounts: ['hedge'] }, stack.webhookSecret);
    const response = (await cancelAll(event, lambdaContext())) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ ok: true, cancelled: 30, remaining: 0 });
  });

  it('answers 502 with the report when something remains', async () => {
    const [order] = stack.emulator.addOrders(key('main'), [
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' },
    ]);
    stack.emulator.setSurvivors({ orderIds: [order?.orderId as string] });
    const event = signedHttpEvent('http-v2-kill-switch.json', { account: 'main' }, stack.webhookSecret);
    const response = (await cancelAll(event, lambdaContext(4_000))) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'IncompleteCancelError',
      remaining: 1,
      failedScopes: ['main: spot'],
    });
  });
});
