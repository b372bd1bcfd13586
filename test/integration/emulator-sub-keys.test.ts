// The emulator's master and sub-accounts as Bybit documents them, spoken to by the maintained `bybit-api`
// client rather than ours: `GET /v5/user/sub-apikeys` (docs/v5/user/list-sub-apikeys.mdx), `POST
// /v5/user/update-sub-api` (docs/v5/user/modify-sub-apikey.mdx) with what its defaults do to a careless
// change, `GET /v5/user/query-api` telling master from sub (docs/v5/user/apikey-info.mdx), `POST
// /v5/order/create` (docs/v5/order/create-order.mdx), and a read-only key refused on every order-changing
// endpoint with 10005 (docs/v5/error.mdx: "Permission denied, please check your API key permissions").

import { RestClientV5 } from 'bybit-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorAccount, startEmulator } from '../emulator/index.ts';

const MASTER: EmulatorAccount = { uid: '8000', apiKey: 'peer-master-key', apiSecret: 'peer-master-secret' };
const SUB: EmulatorAccount = {
  uid: '8001',
  parentUid: '8000',
  apiKey: 'peer-sub-key-1',
  apiSecret: 'peer-sub-secret-1',
};
const SUB_2: EmulatorAccount = {
  uid: '8001',
  parentUid: '8000',
  apiKey: 'peer-sub-key-2',
  apiSecret: 'peer-sub-secret-2',
};
/** Another master's sub-account: not this master's to list or change. */
const STRANGER: EmulatorAccount = {
  uid: '9001',
  parentUid: '9000',
  apiKey: 'peer-stranger-key',
  apiSecret: 'peer-stranger-secret',
};

let emulator: Emulator;
const client = (a: EmulatorAccount) =>
  new RestClientV5({ key: a.apiKey, secret: a.apiSecret as string, baseUrl: emulator.url });
/** The peer's types lag the docs (no `apikey`, `ips` an array only): the body goes as given. */
type UpdateParams = Parameters<RestClientV5['updateSubApiKey']>[0];
const update = (a: EmulatorAccount, params: Record<string, unknown>) =>
  client(a).updateSubApiKey(params as unknown as UpdateParams);

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [MASTER, SUB, SUB_2, STRANGER] });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setKey(MASTER.apiKey, { permissions: { Wallet: ['AccountTransfer'] } });
  emulator.setKey(SUB.apiKey, { ips: ['127.0.0.1', '10.1.2.3'] });
  emulator.setKey(SUB_2.apiKey, { ips: ['*'] });
  emulator.setKey(STRANGER.apiKey, {});
});

describe('GET /v5/user/query-api: master or sub', () => {
  it('says isMaster and parentUid: "0" for a master key, the master’s UID for a sub key', async () => {
    expect((await client(MASTER).getQueryApiKey()).result).toMatchObject({ isMaster: true, parentUid: '0' });
    expect((await client(SUB).getQueryApiKey()).result).toMatchObject({
      isMaster: false,
      parentUid: '8000',
      userID: 8001,
    });
  });
});

describe('GET /v5/user/sub-apikeys', () => {
  it('lists every key of a sub UID in result.result, with the documented fields; unbound keys as ["*"]', async () => {
    const reply = await client(MASTER).getSubAccountAllApiKeys({ subMemberId: SUB.uid });
    expect(reply.retCode).toBe(0);
    const keys = reply.result.result;
    expect(keys.map((k) => k.apiKey)).toEqual([SUB.apiKey, SUB_2.apiKey]);
    expect(reply.result.nextPageCursor).toBe('');
    const [bound, unbound] = keys;
    expect(Object.keys(bound ?? {}).sort()).toEqual(
      [
        'id',
        'ips',
        'apiKey',
        'note',
        'status',
        'createdAt',
        'type',
        'permissions',
        'secret',
        'readOnly',
        'flag',
      ].sort(),
    );
    expect(bound).toMatchObject({
      ips: ['127.0.0.1', '10.1.2.3'],
      readOnly: false,
      secret: '******',
      status: 1,
    });
    // "expiredAt … Only for those api key with no IP bound": 90 days.
    expect(unbound).toMatchObject({ ips: ['*'], status: 3, deadlineDay: 89 });
    expect(unbound).toHaveProperty('expiredAt');
  });

  it('pages by limit (at most 20) and cursor', async () => {
    const first = await client(MASTER).getSubAccountAllApiKeys({ subMemberId: SUB.uid, limit: 1 });
    expect(first.result.result.map((k) => k.apiKey)).toEqual([SUB.apiKey]);
    const second = await client(MASTER).getSubAccountAllApiKeys({
      subMemberId: SUB.uid,
      limit: 1,
      cursor: first.result.nextPageCursor,
    });
    expect(second.result.result.map((k) => k.apiKey)).toEqual([SUB_2.apiKey]);
    expect(second.result.nextPageCursor).toBe('');
    expect((await client(MASTER).getSubAccountAllApiKeys({ subMemberId: SUB.uid, limit: 21 })).retCode).toBe(
      10001,
    );
  });

  it('answers only a master, and only about its own sub UIDs', async () => {
    expect((await client(SUB).getSubAccountAllApiKeys({ subMemberId: SUB.uid })).retCode).toBe(10005);
    expect((await client(MASTER).getSubAccountAllApiKeys({ subMemberId: STRANGER.uid })).retCode).toBe(10001);
  });
});

describe('POST /v5/user/update-sub-api', () => {
  it('makes a key read-only keeping its IPs and permissions when they are sent back and permissions left out', async () => {
    const before = emulator.keySettings(SUB.apiKey);
    const reply = await update(MASTER, { apikey: SUB.apiKey, readOnly: 1, ips: '127.0.0.1,10.1.2.3' });
    expect(reply.retCode).toBe(0);
    expect(reply.result).toMatchObject({ apiKey: SUB.apiKey, readOnly: 1, ips: ['127.0.0.1', '10.1.2.3'] });
    expect(emulator.keySettings(SUB.apiKey)).toEqual({ ...before, readOnly: true });
  });

  it('unbinds a key when ips is left out, and makes it read-write when readOnly is left out', async () => {
    emulator.setKey(SUB.apiKey, { readOnly: true, ips: ['127.0.0.1'] });
    const reply = await update(MASTER, { apikey: SUB.apiKey });
    expect(reply.result).toMatchObject({ readOnly: 0, ips: ['*'] });
    const after = emulator.keySettings(SUB.apiKey);
    expect(after).toMatchObject({ readOnly: false, ips: ['*'] });
    // "No ip bound api key will be invalid after 90 days".
    expect(after.expiresAt).toBeGreaterThan(Date.now() + 89 * 86_400_000);
  });

  it('takes ips as a string, "*" or an array, and replaces the permissions when they are sent', async () => {
    await update(MASTER, { apikey: SUB.apiKey, readOnly: 0, ips: ['10.9.9.9', '127.0.0.1'] });
    expect(emulator.keySettings(SUB.apiKey).ips).toEqual(['10.9.9.9', '127.0.0.1']);
    await update(MASTER, { apikey: SUB.apiKey, readOnly: 0, ips: '*', permissions: { Spot: ['SpotTrade'] } });
    const after = emulator.keySettings(SUB.apiKey);
    expect(after.ips).toEqual(['*']);
    expect(after.permissions.Spot).toEqual(['SpotTrade']);
    expect(after.permissions.ContractTrade).toEqual([]);
  });

  it('needs a master key with Account Transfer, Sub Member Transfer or Withdrawal', async () => {
    for (const wallet of [['AccountTransfer'], ['SubMemberTransfer'], ['Withdraw']]) {
      emulator.setKey(MASTER.apiKey, { permissions: { Wallet: wallet } });
      expect((await update(MASTER, { apikey: SUB.apiKey, readOnly: 1, ips: '*' })).retCode).toBe(0);
    }
    emulator.setKey(MASTER.apiKey, { permissions: { Wallet: [] } });
    expect((await update(MASTER, { apikey: SUB.apiKey, readOnly: 1, ips: '*' })).retCode).toBe(10005);
    emulator.setKey(MASTER.apiKey, { readOnly: true, permissions: { Wallet: ['AccountTransfer'] } });
    expect((await update(MASTER, { apikey: SUB.apiKey, readOnly: 1, ips: '*' })).retCode).toBe(10005);
  });

  it('wants apikey from a master and refuses it from a sub key; a master changes only its own sub-accounts', async () => {
    expect((await update(MASTER, { readOnly: 1, ips: '*' })).retCode).toBe(10001);
    expect((await update(MASTER, { apikey: STRANGER.apiKey, readOnly: 1, ips: '*' })).retCode).toBe(10001);
    emulator.setKey(SUB.apiKey, { permissions: { Wallet: ['AccountTransfer'] } });
    expect((await update(SUB, { apikey: SUB_2.apiKey, readOnly: 1 })).retCode).toBe(10001);
    expect((await update(SUB, { readOnly: 1, ips: '127.0.0.1' })).retCode).toBe(0);
    expect(emulator.keySettings(SUB.apiKey).readOnly).toBe(true);
  });
});

describe('POST /v5/order/create, and a read-only key', () => {
  it('places a limit order that rests open, and a market order that fills', async () => {
    const order = {
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '0.01',
      price: '20000',
      orderLinkId: 'bot-1',
    } as const;
    const limit = await client(SUB).submitOrder(order);
    expect(limit.retCode).toBe(0);
    expect(emulator.order(limit.result.orderId)).toMatchObject({
      orderStatus: 'New',
      orderLinkId: 'bot-1',
      uid: SUB.uid,
    });
    const market = await client(SUB).submitOrder({
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '5',
    });
    expect(emulator.order(market.result.orderId)?.orderStatus).toBe('Filled');
    // "always unique": the same orderLinkId again is refused.
    const again = await client(SUB).submitOrder(order);
    expect(again.retCode).toBe(110072);
    const noPrice = await client(SUB).submitOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Limit',
      qty: '1',
    });
    expect(noPrice.retCode).toBe(10001);
  });

  it('refuses a read-only key with 10005 on create, cancel, cancel-all and cancel-batch, and still lets it list', async () => {
    const [order] = emulator.addOrders(SUB.apiKey, [
      { category: 'linear', symbol: 'BTCUSDT', orderId: 'ro-1' },
    ]);
    emulator.setKey(SUB.apiKey, { readOnly: true });
    const sub = client(SUB);
    const answers = [
      await sub.submitOrder({
        category: 'linear',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '1',
        price: '1',
      }),
      await sub.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId as string }),
      await sub.cancelAllOrders({ category: 'linear', settleCoin: 'USDT' }),
      await sub.batchCancelOrders('linear', [{ symbol: 'BTCUSDT', orderId: order?.orderId as string }]),
    ];
    expect(answers.map((a) => [a.retCode, a.retMsg])).toEqual(
      answers.map(() => [10005, 'Permission denied, please check your API key permissions.']),
    );
    expect(emulator.openOrders(SUB.apiKey).map((o) => o.orderId)).toEqual(['ro-1']);
    expect((await sub.getActiveOrders({ category: 'linear', settleCoin: 'USDT' })).retCode).toBe(0);
  });
});
