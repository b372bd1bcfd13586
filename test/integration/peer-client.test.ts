import { generateKeyPairSync } from 'node:crypto';
import { RestClientV5 } from 'bybit-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';

// The maintained `bybit-api` package signs and encodes requests its own way. If it and the emulator agree,
// the emulator's reading of Bybit's signing rules is not a private one that only our own client shares.

const rsaKeys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

const SETUPS = [
  {
    name: 'HMAC',
    account: { uid: '5001', apiKey: 'peer-hmac-key', apiSecret: 'peer-hmac-secret' },
    secret: 'peer-hmac-secret',
  },
  {
    name: 'RSA',
    account: { uid: '5002', apiKey: 'peer-rsa-key', publicKeyPem: rsaKeys.publicKey },
    // bybit-api switches to RSASSA-PKCS1-v1_5 when the secret is a PEM private key.
    secret: rsaKeys.privateKey,
  },
] as const;

let emulator: Emulator;

const clientFor = (key: string, secret: string) =>
  new RestClientV5({ key, secret, baseUrl: emulator.url, parseAPIRateLimits: true });

beforeAll(async () => {
  emulator = await startEmulator({ accounts: SETUPS.map((s) => s.account) });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
});

describe.each(SETUPS)('bybit-api with an $name key', ({ account, secret }) => {
  const openIds = () => emulator.openOrders(account.apiKey).map((o) => o.orderId);

  it('cancels one order and reads the rate-limit headers', async () => {
    const [keep, target] = emulator.addOrders(account.apiKey, [
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'peer-1' },
    ]);
    const client = clientFor(account.apiKey, secret);

    const reply = await client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'peer-1' });

    expect(reply.retCode).toBe(0);
    expect(reply.result).toEqual({ orderId: target?.orderId, orderLinkId: 'peer-1' });
    expect(reply.rateLimitApi).toEqual({
      maxRequests: 10,
      remainingRequests: 9,
      resetAtTimestamp: expect.any(Number),
    });
    expect(openIds()).toEqual([keep?.orderId]);
  });

  it('cancels all spot conditional orders with orderFilter', async () => {
    const [plain] = emulator.addOrders(account.apiKey, [
      { category: 'spot', symbol: 'BTCUSDT', kind: 'Order' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'spot', symbol: 'ETHUSDT', kind: 'StopOrder' },
    ]);
    const client = clientFor(account.apiKey, secret);

    const reply = await client.cancelAllOrders({ category: 'spot', orderFilter: 'StopOrder' });

    expect(reply.retCode).toBe(0);
    expect(reply.result.list).toHaveLength(2);
    expect(openIds()).toEqual([plain?.orderId]);
  });

  it('cancels a batch and reads the per-item outcomes', async () => {
    const [a, b] = emulator.addOrders(account.apiKey, [
      { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
      { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
    ]);
    const client = clientFor(account.apiKey, secret);

    const reply = await client.batchCancelOrders('option', [
      { symbol: 'BTC-27DEC26-100000-C', orderId: a?.orderId as string },
      { symbol: 'BTC-27DEC26-100000-C', orderId: 'missing' },
      { symbol: 'BTC-27DEC26-100000-C', orderId: b?.orderId as string },
    ]);

    expect(reply.retCode).toBe(0);
    expect(reply.retExtInfo).toEqual({
      list: [
        { code: 0, msg: 'OK' },
        { code: 110001, msg: expect.any(String) },
        { code: 0, msg: 'OK' },
      ],
    });
    expect(openIds()).toEqual([]);
  });

  it('reads closed orders back by id with the fields our client requires, and both clients agree', async () => {
    const [filled, partly] = emulator.addOrders(account.apiKey, [
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'peer-filled', qty: '0.3' },
      { category: 'spot', symbol: 'ETHUSDT', qty: '2' },
    ]);
    emulator.fillBeforeCancel(filled?.orderId as string);
    emulator.fillBeforeCancel(partly?.orderId as string, '0.5');
    const peer = clientFor(account.apiKey, secret);
    const ours = new BybitClient({
      credentials: secret.includes('PRIVATE KEY')
        ? { apiKey: account.apiKey, privateKey: secret }
        : { apiKey: account.apiKey, apiSecret: secret },
      baseUrl: emulator.url,
    });
    const cancelled = await peer.cancelOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderLinkId: 'peer-filled',
    });
    await peer.cancelOrder({ category: 'spot', symbol: 'ETHUSDT', orderId: partly?.orderId as string });

    const peerFilled = await peer.getActiveOrders({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderLinkId: 'peer-filled',
    });
    const peerPartly = await peer.getActiveOrders({
      category: 'spot',
      symbol: 'ETHUSDT',
      orderId: partly?.orderId as string,
    });
    const oursFilled = await ours.orderById({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderLinkId: 'peer-filled',
    });
    const oursPartly = await ours.orderById({
      category: 'spot',
      symbol: 'ETHUSDT',
      orderId: partly?.orderId as string,
    });

    // The fill won the race: the cancel says "not found", the read-back says what happened.
    expect(cancelled.retCode).toBe(110001);
    expect(peerFilled.result.list).toEqual([
      expect.objectContaining({ orderStatus: 'Filled', qty: '0.3', cumExecQty: '0.3', leavesQty: '0' }),
    ]);
    expect(peerPartly.result.list).toEqual([
      expect.objectContaining({ orderStatus: 'PartiallyFilledCanceled', cumExecQty: '0.5', leavesQty: '0' }),
    ]);
    expect(oursFilled).toEqual(
      expect.objectContaining(peerFilled.result.list[0] ? pickState(peerFilled.result.list[0]) : {}),
    );
    expect(oursPartly).toEqual(
      expect.objectContaining(peerPartly.result.list[0] ? pickState(peerPartly.result.list[0]) : {}),
    );
  });

  it('pages through open orders with the cursor it is given back', async () => {
    const seeded = emulator.addOrders(
      account.apiKey,
      Array.from({ length: 5 }, (_, i) => ({
        category: 'linear' as const,
        symbol: 'ETHUSDT',
        createdTime: 1_700_000_000_000 + i,
      })),
    );
    const client = clientFor(account.apiKey, secret);

    const first = await client.getActiveOrders({ category: 'linear', settleCoin: 'USDT', limit: 3 });
    const second = await client.getActiveOrders({
      category: 'linear',
      settleCoin: 'USDT',
      limit: 3,
      cursor: first.result.nextPageCursor,
    });

    expect(first.retCode).toBe(0);
    expect(second.retCode).toBe(0);
    expect(first.result.nextPageCursor).not.toBe('');
    expect(second.result.nextPageCursor).toBe('');
    expect([...first.result.list, ...second.result.list].map((o) => o.orderId)).toEqual(
      seeded.map((o) => o.orderId).reverse(),
    );
  });
});

describe('bybit-api with the wrong secret', () => {
  it('is refused with 10004 on POST and GET, and nothing is cancelled', async () => {
    const [order] = emulator.addOrders('peer-hmac-key', [{ category: 'linear', symbol: 'BTCUSDT' }]);
    const client = clientFor('peer-hmac-key', 'not-the-secret');

    const cancelled = await client.cancelOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: order?.orderId,
    });
    const listed = await client.getActiveOrders({ category: 'linear', symbol: 'BTCUSDT' });

    expect(cancelled.retCode).toBe(10004);
    expect(cancelled.retMsg).toMatch(/^error sign! origin_string\[/);
    expect(listed.retCode).toBe(10004);
    expect(emulator.openOrders('peer-hmac-key').map((o) => o.orderId)).toEqual([order?.orderId]);
  });

  it('is refused with 10004 for an RSA key signed by another private key', async () => {
    const stranger = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const client = clientFor('peer-rsa-key', stranger.privateKey);

    const reply = await client.cancelAllOrders({ category: 'option' });

    expect(reply.retCode).toBe(10004);
  });
});

describe('bybit-api on the public instruments-info', () => {
  it('pages linear instruments and reads pre-market contracts the way the peer asks for them', async () => {
    emulator.setAuctionPhase('NEWUSDT', 'CallAuctionNoCancel');
    const client = new RestClientV5({ baseUrl: emulator.url });

    const first = await client.getInstrumentsInfo({ category: 'linear', limit: 4 });
    const second = await client.getInstrumentsInfo({
      category: 'linear',
      limit: 4,
      cursor: first.result.nextPageCursor,
    });
    const preMarket = await client.getInstrumentsInfo({ category: 'linear', status: 'PreLaunch' });

    expect(first.retCode).toBe(0);
    expect(first.result.list).toHaveLength(4);
    expect(second.result.list[0]?.symbol).not.toBe(first.result.list[0]?.symbol);
    expect(preMarket.result.list.map((i) => [i.symbol, i.preListingInfo?.curAuctionPhase])).toEqual([
      ['NEWUSDT', 'CallAuctionNoCancel'],
    ]);
  });
});

/** The fields of a bybit-api order that our client's by-id read keeps. */
function pickState(
  order: {
    [K in
      | 'orderId'
      | 'orderLinkId'
      | 'symbol'
      | 'orderStatus'
      | 'qty'
      | 'cumExecQty'
      | 'leavesQty'
      | 'updatedTime']: string;
  },
) {
  const { orderId, orderLinkId, symbol, orderStatus, qty, cumExecQty, leavesQty, updatedTime } = order;
  return { orderId, orderLinkId, symbol, orderStatus, qty, cumExecQty, leavesQty, updatedTime };
}
