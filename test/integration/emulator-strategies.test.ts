// The emulator's strategy orders against what docs/v5/strategy/*.mdx says, over real HTTP, through the
// maintained `bybit-api` client (so that signing and paging are not only our own client's reading) and ours.

import { RestClientV5 } from 'bybit-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';

const ACCOUNT = { uid: '7001', apiKey: 'strategy-key', apiSecret: 'strategy-secret' };
const OTHER = { uid: '7002', apiKey: 'other-key', apiSecret: 'other-secret' };

let emulator: Emulator;
let peer: RestClientV5;
let ours: BybitClient;

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [ACCOUNT, OTHER] });
  peer = new RestClientV5({ key: ACCOUNT.apiKey, secret: ACCOUNT.apiSecret, baseUrl: emulator.url });
  ours = new BybitClient({ credentials: ACCOUNT, baseUrl: emulator.url });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children = (strategyId: string) =>
  emulator
    .openOrders(ACCOUNT.apiKey)
    .filter((o) =>
      emulator.strategies().some((s) => s.strategyId === strategyId && s.children.includes(o.orderId)),
    );

describe('GET /v5/strategy/list (strategy-list.mdx)', () => {
  it('lists every category and status without filters, newest first, in the documented shape', async () => {
    emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap', createdTime: Date.now() - 3000 },
      {
        category: 'UTA_SPOT',
        symbol: 'ETHUSDT',
        strategyType: 'iceberg',
        status: 3,
        createdTime: Date.now() - 2000,
      },
      { category: 'UTA_INVERSE', symbol: 'BTCUSD', strategyType: 'chaseOrder', triggerPrice: '90000' },
    ]);
    emulator.addStrategies(OTHER.apiKey, [{ category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap' }]);
    const reply = await peer.getStrategyList();
    expect(reply.retCode).toBe(0);
    expect(reply.result.list.map((s) => [s.category, s.status])).toEqual([
      ['UTA_INVERSE', 6],
      ['UTA_SPOT', 3],
      ['UTA_USDT', 2],
    ]);
    expect(reply.result).toMatchObject({ nextCursor: '', prevCursor: '' });
    const [untriggered] = reply.result.list;
    // The docs' example: `…E3` times and counts as strings, status an integer, orderType "UNKNOWN".
    expect(untriggered).toMatchObject({
      strategyType: 'chaseOrder',
      triggerPrice: '90000',
      isTriggered: false,
      executedStartTimeE3: '0',
      createdTimeE3: expect.stringMatching(/^\d{13}$/),
      triggerCount: '0',
      orderType: 'UNKNOWN',
    });
  });

  it('sends the int64 fields as JSON numbers in the table variant, and our client reads both', async () => {
    emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap' },
    ]);
    const asExample = await ours.strategies({});
    emulator.setShapes({ strategyIntegers: 'numbers' });
    const raw = await peer.getStrategyList();
    expect(typeof raw.result.list[0]?.createdTimeE3).toBe('number');
    const asTable = await ours.strategies({});
    expect(asTable).toEqual(asExample);
    expect(asTable.list[0]).toMatchObject({ status: 2, createdTimeE3: expect.any(Number) });
  });

  it('filters by status (one value), category, type, symbol and id, and pages by cursor (default 20, max 50)', async () => {
    emulator.addStrategies(
      ACCOUNT.apiKey,
      Array.from({ length: 55 }, (_, i) => ({
        category: 'UTA_USDT' as const,
        symbol: i % 2 ? 'BTCUSDT' : 'ETHUSDT',
        strategyType: 'twap' as const,
        status: i < 53 ? (3 as const) : (5 as const),
        createdTime: Date.now() - 100_000 + i,
      })),
    );
    const firstPage = await peer.getStrategyList();
    expect(firstPage.result.list).toHaveLength(20);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await peer.getStrategyList({ status: '3', pageSize: 50, ...(cursor ? { cursor } : {}) });
      expect(page.retCode).toBe(0);
      ids.push(...page.result.list.map((s) => s.strategyId));
      cursor = page.result.nextCursor || undefined;
    } while (cursor);
    expect(new Set(ids).size).toBe(53);
    expect((await peer.getStrategyList({ status: '5' })).result.list).toHaveLength(2);
    expect((await peer.getStrategyList({ symbol: 'ETHUSDT', pageSize: 50 })).result.list).toHaveLength(28);
    expect((await peer.getStrategyList({ category: 'UTA_SPOT' })).result.list).toHaveLength(0);
    expect((await peer.getStrategyList({ strategyType: 'iceberg' })).result.list).toHaveLength(0);
    expect((await peer.getStrategyList({ strategyId: ids[7] })).result.list.map((s) => s.strategyId)).toEqual(
      [ids[7]],
    );
    for (const invalid of [{ pageSize: 51 }, { status: '7' }, { category: 'linear' }, { cursor: 'nope' }]) {
      const reply = await peer.getStrategyList(invalid as never);
      expect(reply.retCode).toBe(10001);
    }
  });
});

describe('strategies over time (create-strategy.mdx)', () => {
  it('places a child with createType set, and a cancelled TWAP sub-order once again', async () => {
    const [twap] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap', interval: 5, replaceAfterMs: 200 },
    ]);
    const id = twap?.strategyId as string;
    const [first] = children(id);
    expect(first).toMatchObject({ createType: 'CreateByTWAP', orderStatus: 'New', category: 'linear' });
    // The child is a real order: it shows in the listing, with its createType.
    const listed = await ours.openOrders({ category: 'linear', settleCoin: 'USDT' });
    expect(listed.list.map((o) => [o.orderId, o.createType])).toEqual([[first?.orderId, 'CreateByTWAP']]);

    await ours.cancelAll({ category: 'linear', settleCoin: 'USDT' });
    expect(children(id)).toEqual([]);
    await sleep(300);
    // TWAP: "Sub-orders that fail to fill are retried once".
    const [retry] = children(id);
    expect(retry?.orderId).not.toBe(first?.orderId);
    await ours.cancelAll({ category: 'linear', settleCoin: 'USDT' });
    await sleep(300);
    expect(children(id)).toEqual([]);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]).toMatchObject({ status: 2 });
  });

  it('places chase orders again however often they are cancelled, and a new one every second', async () => {
    const [chase] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'chaseOrder', replaceAfterMs: 100 },
    ]);
    for (let i = 0; i < 3; i++) {
      expect(children(chase?.strategyId as string)).toHaveLength(1);
      await ours.cancelAll({ category: 'linear', symbol: 'ETHUSDT' });
      await sleep(150);
    }
    const [current] = children(chase?.strategyId as string);
    expect(current?.createType).toBe('CreateByChaseOrder');
    // "The order price updates every second": the strategy replaces its own order each second.
    await sleep(1100);
    const [next] = children(chase?.strategyId as string);
    expect(next?.orderId).not.toBe(current?.orderId);
    expect(emulator.order(current?.orderId as string)?.orderStatus).toBe('Cancelled');
  });

  it('holds no order while untriggered, and starts when the price reaches the trigger', async () => {
    const [armed] = emulator.addStrategies(ACCOUNT.apiKey, [
      {
        category: 'UTA_USDT',
        symbol: 'BTCUSDT',
        strategyType: 'iceberg',
        triggerPrice: '100000',
        lastPrice: '95000',
      },
    ]);
    expect(armed?.status).toBe(6);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toEqual([]);
    emulator.setLastPrice('BTCUSDT', 99_000);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]?.status).toBe(6);
    emulator.setLastPrice('BTCUSDT', 100_500);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]).toMatchObject({ status: 2, isTriggered: true });
    expect(emulator.openOrders(ACCOUNT.apiKey).map((o) => o.createType)).toEqual(['CreateByIceBerg']);
  });

  it('places nothing while paused, and the next sub-order when resumed', async () => {
    const [iceberg] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'iceberg', replaceAfterMs: 50 },
    ]);
    const id = iceberg?.strategyId as string;
    emulator.pauseStrategy(id);
    await ours.cancelAll({ category: 'linear', settleCoin: 'USDT' });
    await sleep(120);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toEqual([]);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]?.status).toBe(5);
    emulator.resumeStrategy(id);
    expect(children(id)).toHaveLength(1);
  });

  it('places the next iceberg slice when one fills, and ends when the size is filled', async () => {
    const [iceberg] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'iceberg', size: '1' },
    ]);
    const id = iceberg?.strategyId as string;
    for (let slice = 0; slice < 5; slice++) {
      const [child] = children(id);
      expect(child?.qty).toBe('0.2');
      emulator.fillOrder(child?.orderId as string);
    }
    expect(emulator.strategies(ACCOUNT.apiKey)[0]).toMatchObject({
      status: 3,
      executedSize: '1',
      terminateType: 2,
    });
    expect(children(id)).toEqual([]);
  });

  it('creates strategies through the API with the documented parameters, refusing what the page rules out', async () => {
    const created = await peer.createStrategyOrder({
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      side: 'Buy',
      strategyType: 'twap',
      size: '0.3',
      duration: 300,
      interval: 30,
    });
    expect(created.retCode).toBe(0);
    expect(created.result).toEqual({ strategyId: expect.any(String), result: null });
    const armed = await peer.createStrategyOrder({
      category: 'UTA_SPOT',
      symbol: 'BTCUSDT',
      side: 'Sell',
      strategyType: 'chaseOrder',
      size: '0.1',
      triggerPrice: '120000',
    });
    expect(emulator.strategies(ACCOUNT.apiKey).map((s) => s.status)).toEqual([2, 6]);
    expect(armed.retCode).toBe(0);
    const refused = [
      { strategyType: 'twap', duration: 200, interval: 30 },
      { strategyType: 'twap', duration: 310, interval: 30 },
      { strategyType: 'twap', duration: 300, interval: 7 },
      {
        strategyType: 'pov',
        category: 'UTA_SPOT',
        povParams: { mode: 'TradedVolume', participationRate: '5' },
      },
      { strategyType: 'iceberg', category: 'UTA_USDC_FUTURE' },
    ];
    for (const params of refused) {
      const reply = await peer.createStrategyOrder({
        category: 'UTA_USDT',
        symbol: 'BTCUSDT',
        side: 'Buy',
        size: '1',
        ...params,
      } as never);
      expect(reply.retCode).toBe(10001);
    }
  });
});

describe('POST /v5/strategy/stop (stop-strategy.mdx)', () => {
  it('terminates for good, cancels the unfilled child, and refuses a second stop (60062)', async () => {
    const [twap] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap', replaceAfterMs: 10 },
    ]);
    const id = twap?.strategyId as string;
    const child = children(id)[0]?.orderId as string;
    const reply = await peer.stopStrategy({ strategyId: id });
    expect(reply).toMatchObject({ retCode: 0, result: { strategyId: id } });
    expect(emulator.order(child)?.orderStatus).toBe('Cancelled');
    await sleep(50);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toEqual([]);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]).toMatchObject({ status: 3, terminateType: 1 });
    expect((await peer.getStrategyList({ status: '3' })).result.list.map((s) => s.strategyId)).toEqual([id]);
    expect((await peer.stopStrategy({ strategyId: id })).retCode).toBe(60062);
  });

  it('stops paused and untriggered strategies too, and knows no strategy of another UID (60065)', async () => {
    const [paused, armed] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'iceberg' },
      { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'twap', triggerPrice: '5000' },
    ]);
    emulator.pauseStrategy(paused?.strategyId as string);
    expect((await peer.stopStrategy({ strategyId: paused?.strategyId as string })).retCode).toBe(0);
    expect((await peer.stopStrategy({ strategyId: armed?.strategyId as string })).retCode).toBe(0);
    expect(emulator.strategies(ACCOUNT.apiKey).map((s) => s.status)).toEqual([3, 3]);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toEqual([]);
    const other = new RestClientV5({ key: OTHER.apiKey, secret: OTHER.apiSecret, baseUrl: emulator.url });
    const [theirs] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap' },
    ]);
    expect((await other.stopStrategy({ strategyId: theirs?.strategyId as string })).retCode).toBe(60065);
  });

  it('keeps running until a delayed stop lands, and answers a planned refusal', async () => {
    const [twap] = emulator.addStrategies(ACCOUNT.apiKey, [
      { category: 'UTA_USDT', symbol: 'BTCUSDT', strategyType: 'twap' },
    ]);
    const id = twap?.strategyId as string;
    emulator.refuseStops({ strategyIds: [id] });
    expect(await peer.stopStrategy({ strategyId: id })).toMatchObject({
      retCode: 60072,
      retMsg: 'Strategy status modify failed',
    });
    emulator.refuseStops(null);
    emulator.setStopDelay(200);
    expect((await peer.stopStrategy({ strategyId: id })).retCode).toBe(0);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]?.status).toBe(2);
    await sleep(250);
    expect(emulator.strategies(ACCOUNT.apiKey)[0]?.status).toBe(3);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toEqual([]);
  });

  it('holds the documented per-UID limits: 100 stops and 200 listings a second', async () => {
    const stops = await Promise.all(
      Array.from({ length: 101 }, () =>
        ours.stopStrategy('missing').catch((e: { retCode: number }) => e.retCode),
      ),
    );
    // Our client paces to 100/s: none ran into 10006; each answered "not found".
    expect(stops.every((r) => r === 60065)).toBe(true);
    const raw = await Promise.all(Array.from({ length: 201 }, () => peer.getStrategyList()));
    expect(raw.filter((r) => r.retCode === 10006)).toHaveLength(1);
    expect(raw.filter((r) => r.retCode === 0)).toHaveLength(200);
  });
});
