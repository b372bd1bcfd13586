// Strategy orders and bots through the real handlers and events, against the emulator's strategies: the kill
// switch stops what can still trade and verifies it, the drill counts it, the sweep and a scoped cancel-all
// leave it alone.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { CancelScopeResult } from '../../lib/cancel/cancel-order.ts';
import type { DrillReport } from '../../lib/cancel/drill.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import type { SweepReport } from '../../lib/cancel/sweep.ts';
import type { DrillFailedError, IncompleteCancelError } from '../../lib/errors.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;
let cancel: (event: unknown, context: unknown) => Promise<unknown>;
let drill: (event: unknown, context: unknown) => Promise<unknown>;
const HOUR = 3_600_000;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
  Object.assign(process.env, stack.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
  cancel = (await import('../../handlers/cancel.ts')).handler as typeof cancel;
  // The drill runs on the drill function (handlers/drill.ts), never in cancelAll.
  drill = (await import('../../handlers/drill.ts')).handler as typeof drill;
});
afterAll(() => stack.close());
beforeEach(() => stack.emulator.reset());

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const account = (name: string) =>
  stack.accounts.find((a) => a.name === name) as { apiKey: string; apiSecret: string };
const killSwitch = () =>
  cancelAll(loadEvent('kill-switch.json'), lambdaContext(30_000)) as Promise<KillSwitchReport>;
const failure = async <E>(promise: Promise<unknown>) =>
  (await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  )) as E;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const strategiesOf = (report: KillSwitchReport, name: string) =>
  report.strategies.find((s) => s.account === name);
const requestsTo = (path: string) => stack.emulator.requests.filter((r) => r.path === path);

describe('the kill switch and strategy orders', () => {
  it('stops an untriggered strategy on an account with no open order, names it, and the list shows it terminated', async () => {
    const [armed] = stack.emulator.addStrategies(key('main'), [
      {
        category: 'UTA_USDT',
        symbol: 'BTCUSDT',
        strategyType: 'twap',
        triggerPrice: '150000',
        lastPrice: '95000',
      },
    ]);
    const id = armed?.strategyId as string;
    expect(stack.emulator.openOrders()).toEqual([]);

    const report = await killSwitch();

    // Before strategies were seen, the run said ok with the strategy still untriggered (status 6).
    expect(report.ok).toBe(true);
    expect(stack.emulator.strategies(key('main'))[0]).toMatchObject({ status: 3, terminateType: 1 });
    const named = { strategyId: id, strategyType: 'twap', category: 'UTA_USDT', symbol: 'BTCUSDT' };
    expect(strategiesOf(report, 'main')).toEqual({
      account: 'main',
      found: [{ ...named, status: 6, statusName: 'untriggered' }],
      stopped: [{ ...named, status: 6, statusName: 'untriggered' }],
      remaining: [],
      verified: true,
    });
    expect(strategiesOf(report, 'hedge')).toMatchObject({ found: [], remaining: [], verified: true });
    // One listing per account beside the first wave, one stop, one listing after it.
    expect(requestsTo('/v5/strategy/stop')).toHaveLength(1);
    expect(requestsTo('/v5/strategy/list')).toHaveLength(3);
    // The exchange's own list: terminated, and it never fires.
    const client = new BybitClient({ credentials: account('main'), baseUrl: stack.emulator.url });
    const ended = await client.strategies({ status: '3' });
    expect(ended.list.map((s) => s.strategyId)).toEqual([id]);
    stack.emulator.setLastPrice('BTCUSDT', 150_000);
    expect(stack.emulator.openOrders()).toEqual([]);
  });

  it('ends a running TWAP that places its child again every second: stopped, no child open, within the usual deadline', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(40));
    const [twap] = stack.emulator.addStrategies(key('main'), [
      {
        category: 'UTA_USDT',
        symbol: 'BTCUSDT',
        strategyType: 'twap',
        interval: 5,
        retries: Number.POSITIVE_INFINITY,
      },
    ]);
    expect(
      stack.emulator.openOrders(key('main')).filter((o) => o.createType === 'CreateByTWAP'),
    ).toHaveLength(1);

    const report = await killSwitch();

    expect(report.ok).toBe(true);
    expect(stack.emulator.strategies(key('main'))[0]).toMatchObject({ status: 3, terminateType: 1 });
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(strategiesOf(report, 'main')?.stopped.map((s) => s.strategyId)).toEqual([twap?.strategyId]);
    // A second later, when the strategy would have placed its child again: still nothing.
    await sleep(1100);
    expect(stack.emulator.openOrders()).toEqual([]);
  });

  it('does not call the book clear between two children while a stopped strategy still runs', async () => {
    // The stop is acknowledged at once but lands 600 ms later; meanwhile the chase places its order again
    // 300 ms after every cancel. A listing between two children shows nothing: it must not end the run.
    stack.emulator.setStopDelay(600);
    stack.emulator.addStrategies(key('main'), [
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'chaseOrder', replaceAfterMs: 300 },
    ]);

    const report = await killSwitch();

    // At the moment the run ends, the strategy has ended and nothing is open.
    const [chase] = stack.emulator.strategies(key('main'));
    expect(chase?.status).toBe(3);
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(report.ok).toBe(true);
    // The linear listing that verified the book went out after the strategy had ended, not between children.
    const linearListings = stack.emulator.requests.filter(
      (r) => r.path === '/v5/order/realtime' && r.apiKey === key('main') && r.category === 'linear',
    );
    expect(Math.max(...linearListings.map((r) => r.at))).toBeGreaterThanOrEqual(
      chase?.executedEndTime as number,
    );
    expect(strategiesOf(report, 'main')?.stopped).toHaveLength(1);
    await sleep(200);
    expect(stack.emulator.openOrders()).toEqual([]);
  });

  it('fails and names a strategy whose stop is refused, after stopping the others', async () => {
    const [stuck, other] = stack.emulator.addStrategies(key('main'), [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap' },
      { category: 'UTA_SPOT', symbol: 'ETHUSDT', strategyType: 'iceberg', triggerPrice: '5000' },
    ]);
    stack.emulator.refuseStops({ strategyIds: [stuck?.strategyId as string] });

    const error = await failure<IncompleteCancelError>(killSwitch());

    expect(error.name).toBe('IncompleteCancelError');
    expect(error.message).toContain('failed: main: strategies');
    expect(error.message).toContain(
      `main: strategy ${stuck?.strategyId} (twap UTA_USDT BTCUSDT, running) can still trade: its stop failed`,
    );
    expect(error.message).toContain('60072');
    const report = error.report as unknown as KillSwitchReport;
    expect(report.ok).toBe(false);
    const main = strategiesOf(report, 'main');
    expect(main?.remaining).toEqual([
      expect.objectContaining({ strategyId: stuck?.strategyId, statusName: 'running' }),
    ]);
    expect(main?.stopped.map((s) => s.strategyId)).toEqual([other?.strategyId]);
    // The refusal is final: named at once, not sent again until the deadline.
    expect(requestsTo('/v5/strategy/stop').filter((r) => r.retCode === 60072)).toHaveLength(1);
  });

  it('fails when the strategy list cannot be read: a kill switch cannot vouch for what it cannot see', async () => {
    // Every answer until the deadline lacks its list (one that answers later would be read and trusted).
    stack.emulator.failNext('malformed', 10_000, '/v5/strategy/list');
    const error = await failure<IncompleteCancelError>(
      cancelAll(loadEvent('kill-switch.json'), lambdaContext(4_000)),
    );
    expect(error.message).toContain('strategies: the strategy list could not be read');
    expect(error.message).toContain('malformed answer: result.list is missing');
  });

  it('cancels orders a bot placed like any other, and warns that the bot may place them again', async () => {
    const [grid] = stack.emulator.addOrders(key('hedge'), [
      { category: 'linear', symbol: 'BTCUSDT', createType: 'CreateByFGridBot' },
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);
    // The grid order is still there after the first wave (as if the bot had placed it again).
    stack.emulator.setSurvivors({ orderIds: [grid?.orderId as string], times: 1 });

    const report = await killSwitch();

    expect(report.ok).toBe(true);
    expect(stack.emulator.openOrders()).toEqual([]);
    expect(strategiesOf(report, 'hedge')?.botOrders).toEqual([
      { createType: 'CreateByFGridBot', bot: 'futures grid bot', symbols: ['BTCUSDT'], orders: 1 },
    ]);
    expect(report.warnings).toEqual([
      expect.stringContaining('hedge: 1 order(s) placed by a futures grid bot (CreateByFGridBot) on BTCUSDT'),
    ]);
    expect(report.warnings[0]).toContain('close it in the Bybit app');
  });

  it('names a leftover order by what placed it', async () => {
    const [child] = stack.emulator.addOrders(key('main'), [
      { category: 'linear', symbol: 'SOLUSDT', createType: 'CreateByIceBerg' },
    ]);
    stack.emulator.setSurvivors({ orderIds: [child?.orderId as string] });
    const error = await failure<IncompleteCancelError>(
      cancelAll(loadEvent('kill-switch.json'), lambdaContext(4_000)),
    );
    expect(error.message).toContain(
      `main: linear settleCoin=USDT: 1 order(s) placed by a iceberg strategy (CreateByIceBerg) still open: ${child?.orderId}`,
    );
    const scope = (error.report as unknown as KillSwitchReport).scopes.find(
      (s) => s.account === 'main' && s.scope === 'linear settleCoin=USDT',
    );
    expect(scope?.remainingOrders).toEqual([
      { symbol: 'SOLUSDT', orderId: child?.orderId, orderLinkId: '', createType: 'CreateByIceBerg' },
    ]);
  });
});

describe('the drill and strategy orders', () => {
  it('counts the strategies a kill switch would stop, by status, without stopping any', async () => {
    const now = Date.now();
    stack.emulator.addStrategies(key('main'), [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap', createdTime: now - 5 },
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'iceberg', createdTime: now - 4 },
      {
        category: 'UTA_SPOT',
        symbol: 'BTCUSDT',
        strategyType: 'chaseOrder',
        triggerPrice: '1',
        createdTime: now - 3,
      },
      {
        category: 'UTA_INVERSE',
        symbol: 'BTCUSD',
        strategyType: 'pov',
        triggerPrice: '1',
        createdTime: now - 2,
      },
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap', status: 3, createdTime: now - 1 },
    ]);
    stack.emulator.pauseStrategy(stack.emulator.strategies(key('main'))[1]?.strategyId as string);

    const report = (await drill(loadEvent('drill.json'), lambdaContext())) as DrillReport;

    expect(report.ok).toBe(true);
    expect(report.accounts.find((a) => a.account === 'main')?.strategies).toEqual({
      running: 1,
      paused: 1,
      untriggered: 2,
    });
    expect(report.accounts.find((a) => a.account === 'hedge')?.strategies).toEqual({
      running: 0,
      paused: 0,
      untriggered: 0,
    });
    expect(stack.emulator.strategies(key('main')).map((s) => s.status)).toEqual([2, 5, 6, 6, 3]);
    expect(requestsTo('/v5/strategy/stop')).toHaveLength(0);
  });

  it('is a problem when the strategy list fails', async () => {
    stack.emulator.failNext('http5xx', 20, '/v5/strategy/list');
    const error = await failure<DrillFailedError>(drill(loadEvent('drill.json'), lambdaContext()));
    expect(error.name).toBe('DrillFailedError');
    expect(error.message).toContain(
      'main: the strategy list failed, so a kill switch could not stop the strategies it cannot see',
    );
    const main = (error.report as unknown as DrillReport).accounts.find((a) => a.account === 'main');
    expect(main?.problems.map((p) => p.code)).toContain('strategyListingFailed');
    expect(main?.strategies).toBeNull();
  });
});

describe('what leaves strategies alone', () => {
  it('the sweep never takes a strategy child for one of its own, however old, and stops no strategy', async () => {
    const old = Date.now() - 2 * HOUR;
    const [mine, child] = stack.emulator.addOrders(key('main'), [
      { category: 'linear', symbol: 'BTCUSDT', createdTime: old },
      { category: 'linear', symbol: 'BTCUSDT', createdTime: old, createType: 'CreateByTWAP' },
      { category: 'inverse', symbol: 'BTCUSD', createdTime: old, createType: 'CreateByFGridBot' },
    ]);
    const [twap] = stack.emulator.addStrategies(key('main'), [
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'twap' },
    ]);

    const report = (await cancel(loadEvent('schedule.json'), lambdaContext())) as SweepReport;

    expect(report.ok).toBe(true);
    expect(report.stale).toBe(1);
    expect(stack.emulator.order(mine?.orderId as string)?.orderStatus).toBe('Cancelled');
    expect(stack.emulator.order(child?.orderId as string)?.orderStatus).toBe('New');
    const usdt = report.scopes.find((s) => s.account === 'main' && s.scope === 'linear settleCoin=USDT');
    expect(usdt).toMatchObject({ open: 3, placedByExchange: 2, stale: 1, cancelled: 1 });
    expect(stack.emulator.strategies(key('main'))[0]).toMatchObject({
      strategyId: twap?.strategyId,
      status: 2,
    });
    expect(requestsTo('/v5/strategy/stop')).toHaveLength(0);
    expect(requestsTo('/v5/strategy/list')).toHaveLength(0);
  });

  it('a scoped cancel-all stops no strategy and does not chase its children, and names them', async () => {
    stack.emulator.addOrders(key('main'), [
      { category: 'linear', symbol: 'ETHUSDT' },
      { category: 'linear', symbol: 'ETHUSDT' },
    ]);
    const [chase] = stack.emulator.addStrategies(key('main'), [
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'chaseOrder', replaceAfterMs: 0 },
    ]);

    const result = (await cancelAll(
      { account: 'main', category: 'linear', symbol: 'ETHUSDT' },
      lambdaContext(),
    )) as CancelScopeResult;

    expect(result).toMatchObject({ operation: 'cancelAll', remaining: 0, cancelled: 3 });
    expect(result.strategyOrders).toEqual([
      expect.objectContaining({ symbol: 'ETHUSDT', createType: 'CreateByChaseOrder' }),
    ]);
    expect(stack.emulator.strategies(key('main'))[0]).toMatchObject({
      strategyId: chase?.strategyId,
      status: 2,
    });
    expect(requestsTo('/v5/order/cancel-all')).toHaveLength(1);
    expect(requestsTo('/v5/strategy/stop')).toHaveLength(0);
  });
});
