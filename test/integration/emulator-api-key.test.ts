// The emulator's API keys as Bybit documents them (docs/v5/user/apikey-info.mdx, docs/v5/error.mdx), spoken
// to by the maintained `bybit-api` client rather than ours: `GET /v5/user/query-api` answers with the
// documented fields and each configurable one (read-only, permissions, IP binding, expiry, uta), and the
// server refuses what a key may not do.

import { RestClientV5 } from 'bybit-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/index.ts';

const ACCOUNT = { uid: '7001', apiKey: 'peer-key-info', apiSecret: 'peer-key-info-secret' };
const DAY = 86_400_000;

let emulator: Emulator;
const client = () =>
  new RestClientV5({ key: ACCOUNT.apiKey, secret: ACCOUNT.apiSecret, baseUrl: emulator.url });

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [ACCOUNT] });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setKey(ACCOUNT.apiKey, {});
});

describe('GET /v5/user/query-api', () => {
  it('answers with every documented field; a default key is read-write, IP-bound, unified and never expires', async () => {
    const reply = await client().getQueryApiKey();

    expect(reply.retCode).toBe(0);
    const documented = [
      'id',
      'note',
      'apiKey',
      'readOnly',
      'secret',
      'permissions',
      'ips',
      'type',
      'deadlineDay',
    ]
      .concat([
        'expiredAt',
        'createdAt',
        'uta',
        'userID',
        'inviterID',
        'vipLevel',
        'mktMakerLevel',
        'affiliateID',
      ])
      .concat(['rsaPublicKey', 'isMaster', 'parentUid', 'kycLevel', 'kycRegion', 'unified']);
    expect(Object.keys(reply.result).sort()).toEqual(documented.sort());
    expect(reply.result).toMatchObject({
      apiKey: ACCOUNT.apiKey,
      readOnly: 0,
      secret: '',
      ips: ['127.0.0.1'],
      uta: 1,
      userID: 7001,
      // The doc's example of an IP-bound key.
      deadlineDay: -2,
      expiredAt: '1970-01-01T00:00:00Z',
    });
    expect(reply.result.permissions).toMatchObject({
      ContractTrade: ['Order', 'Position'],
      Spot: ['SpotTrade'],
      Options: ['OptionsTrade'],
      Derivatives: ['DerivativesTrade'],
      Wallet: [],
    });
  });

  it('reports each configured field: read-only, permissions, no IP, expiry and a classic account', async () => {
    emulator.setKey(ACCOUNT.apiKey, {
      readOnly: true,
      permissions: { Wallet: ['Withdraw'], Spot: [] },
      ips: [],
      expiresInDays: 5,
      uta: 0,
    });

    const { result } = await client().getQueryApiKey();

    expect(result).toMatchObject({ readOnly: 1, ips: [], uta: 0, deadlineDay: 4 });
    expect(result.permissions).toMatchObject({
      Wallet: ['Withdraw'],
      Spot: [],
      ContractTrade: ['Order', 'Position'],
    });
    const expiresIn = Date.parse(result.expiredAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(5 * DAY - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(5 * DAY);
  });

  it('gives a key bound to no IP 90 days, as Bybit does', async () => {
    emulator.setKey(ACCOUNT.apiKey, { ips: ['*'] });
    const { result } = await client().getQueryApiKey();
    expect(result.ips).toEqual(['*']);
    expect(result.deadlineDay).toBe(89);
  });

  it('answers a read-only key too: any permission may call it', async () => {
    emulator.setKey(ACCOUNT.apiKey, {
      readOnly: true,
      permissions: { ContractTrade: [], Spot: [], Options: [] },
    });
    expect((await client().getQueryApiKey()).retCode).toBe(0);
  });
});

describe('what a key may not do', () => {
  it('refuses a read-only key’s cancel with 10005 but lists its orders', async () => {
    emulator.addOrders(ACCOUNT.apiKey, [{ category: 'linear', symbol: 'BTCUSDT' }]);
    emulator.setKey(ACCOUNT.apiKey, { readOnly: true });

    const cancelled = await client().cancelAllOrders({ category: 'linear', settleCoin: 'USDT' });
    const listed = await client().getActiveOrders({ category: 'linear', settleCoin: 'USDT' });

    expect(cancelled.retCode).toBe(10005);
    expect(listed.retCode).toBe(0);
    expect(listed.result.list).toHaveLength(1);
    expect(emulator.openOrders(ACCOUNT.apiKey)).toHaveLength(1);
  });

  it('refuses a cancel in a category whose permission the key lacks with 10005, and allows the others', async () => {
    emulator.addOrders(ACCOUNT.apiKey, [
      { category: 'spot', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);
    emulator.setKey(ACCOUNT.apiKey, { permissions: { Spot: [] } });

    expect((await client().cancelAllOrders({ category: 'spot' })).retCode).toBe(10005);
    expect((await client().cancelAllOrders({ category: 'linear', settleCoin: 'USDT' })).retCode).toBe(0);
    expect(emulator.openOrders(ACCOUNT.apiKey).map((o) => o.category)).toEqual(['spot']);
  });

  it('refuses every request of a key bound to another IP with 10010, and of an expired key with 33004', async () => {
    emulator.setKey(ACCOUNT.apiKey, { ips: ['203.0.113.7'] });
    expect((await client().getQueryApiKey()).retCode).toBe(10010);
    emulator.setKey(ACCOUNT.apiKey, { ips: [], expiresInDays: -1 });
    expect((await client().getActiveOrders({ category: 'spot' })).retCode).toBe(33004);
  });
});
