import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Category, type Emulator, type OrderSeed, startEmulator } from '../emulator/index.ts';

// The requests here are built and signed by hand, from Bybit's documented rule, so that the emulator is checked
// against the documentation rather than against any client.

interface Signer {
  apiKey: string;
  sign(origin: string): string;
}

interface CallOptions {
  timestamp?: number;
  /** null: send no X-BAPI-RECV-WINDOW header. */
  recvWindow?: string | null;
  /** Send this body instead of the one that was signed. */
  bodyOverride?: string;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field.
  body: any;
  elapsedMs: number;
}

const hmac = (apiKey: string, secret: string): Signer => ({
  apiKey,
  sign: (origin) => createHmac('sha256', secret).update(origin).digest('hex'),
});

const rsa = (apiKey: string, privateKey: KeyObject): Signer => ({
  apiKey,
  sign: (origin) => sign('sha256', Buffer.from(origin), privateKey).toString('base64'),
});

const rsaKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const MAIN = hmac('main-key', 'main-secret');
const SAME_UID = hmac('main-key-2', 'main-secret-2');
const OTHER_UID = hmac('other-key', 'other-secret');
const RSA = rsa('rsa-key', rsaKeys.privateKey);
const ACCOUNTS = [
  { uid: '1001', apiKey: MAIN.apiKey, apiSecret: 'main-secret' },
  { uid: '1001', apiKey: SAME_UID.apiKey, apiSecret: 'main-secret-2' },
  { uid: '2002', apiKey: OTHER_UID.apiKey, apiSecret: 'other-secret' },
  {
    uid: '3003',
    apiKey: RSA.apiKey,
    publicKeyPem: rsaKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  },
];

let emulator: Emulator;

async function call(
  signer: Signer,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, unknown>,
  options: CallOptions = {},
  target: Emulator = emulator,
): Promise<Reply> {
  const timestamp = String(options.timestamp ?? Date.now());
  const recvWindow = options.recvWindow === undefined ? '5000' : options.recvWindow;
  const payload =
    method === 'GET'
      ? new URLSearchParams(params as Record<string, string>).toString()
      : JSON.stringify(params);
  const headers: Record<string, string> = {
    'X-BAPI-API-KEY': signer.apiKey,
    'X-BAPI-TIMESTAMP': timestamp,
    'X-BAPI-SIGN': signer.sign(`${timestamp}${signer.apiKey}${recvWindow ?? ''}${payload}`),
    'X-BAPI-SIGN-TYPE': '2',
  };
  if (recvWindow !== null) headers['X-BAPI-RECV-WINDOW'] = recvWindow;
  if (method === 'POST') headers['Content-Type'] = 'application/json';
  const url = `${target.url}${path}${method === 'GET' && payload ? `?${payload}` : ''}`;
  const started = Date.now();
  const response = await fetch(url, {
    method,
    headers,
    ...(method === 'POST' ? { body: options.bodyOverride ?? payload } : {}),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body, elapsedMs: Date.now() - started };
}

const cancel = (params: Record<string, unknown>, signer = MAIN, options?: CallOptions) =>
  call(signer, 'POST', '/v5/order/cancel', params, options);
const cancelAll = (params: Record<string, unknown>, signer = MAIN) =>
  call(signer, 'POST', '/v5/order/cancel-all', params);
const cancelBatch = (category: Category, request: object[], signer = MAIN) =>
  call(signer, 'POST', '/v5/order/cancel-batch', { category, request });
const realtime = (params: Record<string, string>, signer = MAIN) =>
  call(signer, 'GET', '/v5/order/realtime', params);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field.
const getJson = async (url: string): Promise<any> => (await fetch(url)).json();

const seed = (seeds: OrderSeed[], apiKey = MAIN.apiKey) => emulator.addOrders(apiKey, seeds);
const openIds = (apiKey = MAIN.apiKey) => emulator.openOrders(apiKey).map((o) => o.orderId);

beforeAll(async () => {
  emulator = await startEmulator({ accounts: ACCOUNTS });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.reset();
});

describe('authentication', () => {
  it('accepts HMAC-signed GET and POST requests', async () => {
    // Prepare
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT' }]);

    // Act
    const listed = await realtime({ category: 'linear', symbol: 'BTCUSDT' });
    const cancelled = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId });

    // Assess
    expect(listed.body.retCode).toBe(0);
    expect(listed.body.result.list.map((o: { orderId: string }) => o.orderId)).toEqual([order?.orderId]);
    expect(cancelled.body).toMatchObject({ retCode: 0, retMsg: 'OK', result: { orderId: order?.orderId } });
    expect(openIds()).toEqual([]);
  });

  it('accepts RSA-signed (PKCS#1 v1.5, SHA-256, base64) requests', async () => {
    const [order] = seed([{ category: 'spot', symbol: 'ETHUSDT' }], RSA.apiKey);

    const listed = await realtime({ category: 'spot' }, RSA);
    const cancelled = await cancel({ category: 'spot', symbol: 'ETHUSDT', orderId: order?.orderId }, RSA);

    expect(listed.body.retCode).toBe(0);
    expect(listed.body.result.list).toHaveLength(1);
    expect(cancelled.body.retCode).toBe(0);
    expect(openIds(RSA.apiKey)).toEqual([]);
  });

  it('refuses an HMAC signature for an RSA key with 10004', async () => {
    const reply = await realtime({ category: 'spot' }, hmac(RSA.apiKey, 'anything'));

    expect(reply.body.retCode).toBe(10004);
  });

  it('signs an absent recv window as nothing and applies the 5000 ms default', async () => {
    const fresh = await realtime({ category: 'inverse' });
    const ok = await call(MAIN, 'GET', '/v5/order/realtime', { category: 'inverse' }, { recvWindow: null });
    const stale = await call(
      MAIN,
      'GET',
      '/v5/order/realtime',
      { category: 'inverse' },
      { recvWindow: null, timestamp: Date.now() - 5_500 },
    );

    expect(fresh.body.retCode).toBe(0);
    expect(ok.body.retCode).toBe(0);
    expect(stale.body.retCode).toBe(10002);
    expect(stale.body.retMsg).toContain('recv_window[5000]');
  });

  it('answers 10002 naming both timestamps and the window when the timestamp is stale', async () => {
    const timestamp = Date.now() - 6_000;

    const reply = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'x' }, MAIN, { timestamp });

    expect(reply.body.retCode).toBe(10002);
    expect(reply.body.retMsg).toMatch(
      new RegExp(`req_timestamp\\[${timestamp}\\],server_timestamp\\[\\d{13}\\],recv_window\\[5000\\]`),
    );
  });

  it('accepts the same stale timestamp inside a wider recv window', async () => {
    const reply = await call(
      MAIN,
      'GET',
      '/v5/order/realtime',
      { category: 'inverse' },
      { timestamp: Date.now() - 6_000, recvWindow: '10000' },
    );

    expect(reply.body.retCode).toBe(0);
  });

  it('answers 10002 when the timestamp is more than one second ahead of the server', async () => {
    const ahead = await call(
      MAIN,
      'GET',
      '/v5/order/realtime',
      { category: 'inverse' },
      { timestamp: Date.now() + 1_500 },
    );
    const slightlyAhead = await call(
      MAIN,
      'GET',
      '/v5/order/realtime',
      { category: 'inverse' },
      { timestamp: Date.now() + 500 },
    );

    expect(ahead.body.retCode).toBe(10002);
    expect(slightlyAhead.body.retCode).toBe(0);
  });

  it('answers 10003 for an unknown key and for a revoked one', async () => {
    const unknown = await realtime({ category: 'inverse' }, hmac('nobody', 'secret'));
    emulator.revokeKey(SAME_UID.apiKey);
    const revoked = await realtime({ category: 'inverse' }, SAME_UID);
    const sibling = await realtime({ category: 'inverse' }, MAIN);

    expect(unknown.body).toMatchObject({ retCode: 10003 });
    expect(revoked.body).toMatchObject({ retCode: 10003 });
    expect(sibling.body.retCode).toBe(0);
    emulator.addAccount(ACCOUNTS[1] as (typeof ACCOUNTS)[number]);
  });

  it('answers 10004 echoing the expected string to sign, as Bybit does', async () => {
    const timestamp = Date.now();
    const body = { category: 'linear', symbol: 'BTCUSDT', orderId: 'abc' };

    const reply = await cancel(body, hmac(MAIN.apiKey, 'wrong-secret'), { timestamp });

    expect(reply.status).toBe(200);
    expect(reply.body.retCode).toBe(10004);
    expect(reply.body.retMsg).toBe(
      `error sign! origin_string[${timestamp}${MAIN.apiKey}5000${JSON.stringify(body)}]`,
    );
  });

  it('answers 10004 when the body sent differs from the body signed', async () => {
    const body = { category: 'linear', symbol: 'BTCUSDT', orderId: 'abc' };

    const reply = await cancel(body, MAIN, { bodyOverride: JSON.stringify(body, null, 1) });

    expect(reply.body.retCode).toBe(10004);
  });

  it('answers HTTP 404 for an unknown path or the wrong method', async () => {
    const unknown = await fetch(`${emulator.url}/v5/order/create-everything`);
    const wrongMethod = await fetch(`${emulator.url}/v5/order/cancel`);

    expect(unknown.status).toBe(404);
    expect(wrongMethod.status).toBe(404);
  });
});

describe('cancel', () => {
  it('cancels by orderId or orderLinkId, and orderId wins when both are given', async () => {
    const [a, b, c] = seed([
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-a' },
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-b' },
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-c' },
    ]);

    const both = await cancel({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderId: a?.orderId,
      orderLinkId: 'link-b',
    });
    const byLink = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-c' });

    expect(both.body.result).toEqual({ orderId: a?.orderId, orderLinkId: 'link-a' });
    expect(byLink.body.result).toEqual({ orderId: c?.orderId, orderLinkId: 'link-c' });
    expect(openIds()).toEqual([b?.orderId]);
  });

  it('answers 110001 for futures and option orders that do not exist or are already cancelled', async () => {
    const [order] = seed([{ category: 'option', symbol: 'BTC-27DEC26-100000-C' }]);
    const params = { category: 'option', symbol: 'BTC-27DEC26-100000-C', orderId: order?.orderId };

    const first = await cancel(params);
    const second = await cancel(params);
    const wrongSymbol = await cancel({ category: 'linear', symbol: 'ETHUSDT', orderId: order?.orderId });

    expect(first.body.retCode).toBe(0);
    expect(second.body.retCode).toBe(110001);
    expect(wrongSymbol.body.retCode).toBe(110001);
  });

  it('answers 170213 for spot orders that do not exist', async () => {
    const reply = await cancel({ category: 'spot', symbol: 'BTCUSDT', orderId: 'missing' });

    expect(reply.body.retCode).toBe(170213);
  });

  it('answers 10001 without orderId and orderLinkId', async () => {
    const reply = await cancel({ category: 'linear', symbol: 'BTCUSDT' });

    expect(reply.body.retCode).toBe(10001);
  });

  it('finds a spot TP/SL or conditional order only under its own orderFilter', async () => {
    const [tpsl, stop, plain] = seed([
      { category: 'spot', symbol: 'BTCUSDT', kind: 'tpslOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'Order' },
    ]);
    const base = { category: 'spot', symbol: 'BTCUSDT' };

    const tpslDefault = await cancel({ ...base, orderId: tpsl?.orderId });
    const plainAsStop = await cancel({ ...base, orderId: plain?.orderId, orderFilter: 'StopOrder' });
    const tpslFiltered = await cancel({ ...base, orderId: tpsl?.orderId, orderFilter: 'tpslOrder' });
    const stopFiltered = await cancel({ ...base, orderId: stop?.orderId, orderFilter: 'StopOrder' });

    expect(tpslDefault.body.retCode).toBe(170213);
    expect(plainAsStop.body.retCode).toBe(170213);
    expect(tpslFiltered.body.retCode).toBe(0);
    expect(stopFiltered.body.retCode).toBe(0);
    expect(openIds()).toEqual([plain?.orderId]);
  });

  it('ignores orderFilter outside spot', async () => {
    const [stop] = seed([{ category: 'linear', symbol: 'BTCUSDT', kind: 'StopOrder' }]);

    const reply = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: stop?.orderId });

    expect(reply.body.retCode).toBe(0);
  });

  it('keeps orders of other UIDs out of reach and shares them between keys of one UID', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT' }]);

    const stranger = await cancel(
      { category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId },
      OTHER_UID,
    );
    const sibling = await cancel(
      { category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId },
      SAME_UID,
    );

    expect(stranger.body.retCode).toBe(110001);
    expect(sibling.body.retCode).toBe(0);
  });
});

describe('cancel-all', () => {
  it('requires symbol, baseCoin or settleCoin for linear and inverse', async () => {
    seed([{ category: 'linear', symbol: 'BTCUSDT' }]);

    const linear = await cancelAll({ category: 'linear' });
    const inverse = await cancelAll({ category: 'inverse' });

    expect(linear.body.retCode).toBe(10001);
    expect(inverse.body.retCode).toBe(10001);
    expect(openIds()).toHaveLength(1);
  });

  it('applies only the strongest scope given: symbol, then baseCoin, then settleCoin', async () => {
    const [btc, btcPerp, eth, ethPerp] = seed([
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCPERP' },
      { category: 'linear', symbol: 'ETHUSDT' },
      { category: 'linear', symbol: 'ETHPERP' },
    ]);

    const bySymbol = await cancelAll({ category: 'linear', symbol: 'ETHUSDT', baseCoin: 'BTC' });
    const byBase = await cancelAll({ category: 'linear', baseCoin: 'BTC', settleCoin: 'USDC' });
    const afterBase = openIds();
    const bySettle = await cancelAll({ category: 'linear', settleCoin: 'USDC' });

    expect(bySymbol.body.result.list).toEqual([{ orderId: eth?.orderId, orderLinkId: '' }]);
    expect(byBase.body.result.list.map((o: { orderId: string }) => o.orderId).sort()).toEqual(
      [btc?.orderId, btcPerp?.orderId].sort(),
    );
    expect(afterBase).toEqual([ethPerp?.orderId]);
    expect(bySettle.body.result).toEqual({
      list: [{ orderId: ethPerp?.orderId, orderLinkId: '' }],
      success: '1',
    });
  });

  it('cancels every kind on linear without orderFilter; StopOrder takes conditional, TP/SL and trailing stops', async () => {
    // docs/v5/order/cancel-all.mdx: StopOrder with stopOrderType=Stop "cancel conditional orders except
    // TP/SL order and Trailing stop orders", so StopOrder alone covers all three.
    const [plain, stop, tpsl, trailing] = seed([
      { category: 'linear', symbol: 'BTCUSDT', kind: 'Order' },
      { category: 'linear', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'linear', symbol: 'BTCUSDT', kind: 'tpslOrder' },
      { category: 'linear', symbol: 'BTCUSDT', kind: 'StopOrder', stopOrderType: 'TrailingStop' },
      { category: 'linear', symbol: 'ETHUSDT', kind: 'Order' },
      { category: 'linear', symbol: 'ETHUSDT', kind: 'StopOrder' },
    ]);

    const filtered = await cancelAll({ category: 'linear', symbol: 'BTCUSDT', orderFilter: 'StopOrder' });
    const everything = await cancelAll({ category: 'linear', symbol: 'ETHUSDT' });

    const ids = filtered.body.result.list.map((o: { orderId: string }) => o.orderId).sort();
    expect(ids).toEqual([stop?.orderId, tpsl?.orderId, trailing?.orderId].sort());
    expect(everything.body.result.list).toHaveLength(2);
    expect(openIds()).toEqual([plain?.orderId]);
  });

  it('takes the orderFilters each category documents and refuses the others', async () => {
    emulator.setRateLimits(1_000); // option cancel-all is 1/s; this test is about filters
    const [plain, stop] = seed([
      { category: 'inverse', symbol: 'XRPUSD', kind: 'Order' },
      { category: 'inverse', symbol: 'XRPUSD', kind: 'StopOrder' },
      { category: 'option', symbol: 'SOL-27DEC26-200-C', kind: 'Order' },
    ]);

    const tpslOnFutures = await cancelAll({
      category: 'inverse',
      symbol: 'XRPUSD',
      orderFilter: 'tpslOrder',
    });
    const openOrder = await cancelAll({ category: 'inverse', symbol: 'XRPUSD', orderFilter: 'OpenOrder' });
    const optionOpenOrder = await cancelAll({ category: 'option', orderFilter: 'OpenOrder' });
    const optionOrder = await cancelAll({ category: 'option', orderFilter: 'Order' });

    expect(tpslOnFutures.body.retCode).toBe(10001);
    expect(openOrder.body.result.list).toEqual([{ orderId: plain?.orderId, orderLinkId: '' }]);
    expect(optionOpenOrder.body.retCode).toBe(10001);
    expect(optionOrder.body.result.list).toHaveLength(1);
    expect(openIds()).toEqual([stop?.orderId]);
  });

  it('narrows StopOrder to plain conditional orders with stopOrderType=Stop, and only there', async () => {
    const [, takeProfit] = seed([
      { category: 'inverse', symbol: 'BTCUSD', kind: 'StopOrder' },
      { category: 'inverse', symbol: 'BTCUSD', kind: 'StopOrder', stopOrderType: 'TakeProfit' },
    ]);

    const withoutFilter = await cancelAll({ category: 'inverse', symbol: 'BTCUSD', stopOrderType: 'Stop' });
    const onSpot = await cancelAll({ category: 'spot', orderFilter: 'StopOrder', stopOrderType: 'Stop' });
    const narrowed = await cancelAll({
      category: 'inverse',
      symbol: 'BTCUSD',
      orderFilter: 'StopOrder',
      stopOrderType: 'Stop',
    });

    expect(withoutFilter.body.retCode).toBe(10001);
    expect(onSpot.body.retCode).toBe(10001);
    expect(narrowed.body.result.list).toHaveLength(1);
    expect(openIds()).toEqual([takeProfit?.orderId]);
  });

  it('cancels only plain spot orders without orderFilter; every other kind needs its own call', async () => {
    const orders = seed([
      { category: 'spot', symbol: 'BTCUSDT', kind: 'Order' },
      { category: 'spot', symbol: 'ETHUSDT', kind: 'Order' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'tpslOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'OcoOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'BidirectionalTpslOrder' },
    ]);

    const plain = await cancelAll({ category: 'spot' });
    const left = emulator.openOrders(MAIN.apiKey).map((o) => o.kind);
    const perKind: number[] = [];
    for (const orderFilter of ['StopOrder', 'tpslOrder', 'OcoOrder', 'BidirectionalTpslOrder']) {
      const reply = await cancelAll({ category: 'spot', orderFilter });
      perKind.push(reply.body.result.list.length);
    }

    expect(plain.body.result.list).toHaveLength(2);
    expect(left.sort()).toEqual(['BidirectionalTpslOrder', 'OcoOrder', 'StopOrder', 'tpslOrder']);
    expect(perKind).toEqual([1, 1, 1, 1]);
    expect(openIds()).toEqual([]);
    expect(orders).toHaveLength(6);
  });

  it('refuses settleCoin on spot', async () => {
    const reply = await cancelAll({ category: 'spot', settleCoin: 'USDT' });

    expect(reply.body.retCode).toBe(10001);
  });

  it('cancels at most 500 futures orders per call', async () => {
    seed(Array.from({ length: 1_200 }, () => ({ category: 'linear' as const, symbol: 'BTCUSDT' })));

    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const reply = await cancelAll({ category: 'linear', symbol: 'BTCUSDT' });
      counts.push(reply.body.result.list.length);
    }

    expect(counts).toEqual([500, 500, 200, 0]);
    expect(openIds()).toEqual([]);
  });

  it('cancels every option order of the account without a scope, and nothing of other categories', async () => {
    seed([
      { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
      { category: 'option', symbol: 'ETH-27DEC26-5000-P-USDT', kind: 'StopOrder' },
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);

    const reply = await cancelAll({ category: 'option' });

    expect(reply.body.result.list).toHaveLength(2);
    expect(emulator.openOrders(MAIN.apiKey).map((o) => o.category)).toEqual(['linear']);
  });
});

describe('what Bybit will not cancel', () => {
  it('leaves a triggered spot BidirectionalTpslOrder and refuses it by id', async () => {
    const [untriggered, triggered] = seed([
      { category: 'spot', symbol: 'ETHUSDT', kind: 'BidirectionalTpslOrder' },
      { category: 'spot', symbol: 'ETHUSDT', kind: 'BidirectionalTpslOrder', orderStatus: 'New' },
    ]);

    const all = await cancelAll({ category: 'spot', orderFilter: 'BidirectionalTpslOrder' });
    const byId = await cancel({
      category: 'spot',
      symbol: 'ETHUSDT',
      orderId: triggered?.orderId,
      orderFilter: 'BidirectionalTpslOrder',
    });

    expect(all.body.result.list).toEqual([{ orderId: untriggered?.orderId, orderLinkId: '' }]);
    expect(byId.body.retCode).toBe(170145);
    expect(openIds()).toEqual([triggered?.orderId]);
  });

  it('cancels no pre-market order during CallAuctionNoCancel or CrossMatching, and does again after', async () => {
    emulator.setAuctionPhase('NEWUSDT', 'CrossMatching');
    const [order] = seed([{ category: 'linear', symbol: 'NEWUSDT', baseCoin: 'NEW', settleCoin: 'USDT' }]);

    const during = await cancelAll({ category: 'linear', settleCoin: 'USDT' });
    const batch = await cancelBatch('linear', [{ symbol: 'NEWUSDT', orderId: order?.orderId }]);
    emulator.setAuctionPhase('NEWUSDT', 'ContinuousTrading');
    const after = await cancelAll({ category: 'linear', settleCoin: 'USDT' });

    expect(during.body.result.list).toEqual([]);
    expect(batch.body.retExtInfo.list[0].code).toBe(10001);
    expect(after.body.result.list).toHaveLength(1);
    expect(openIds()).toEqual([]);
  });
});

describe('widest listings (docs/v5/order/open-order.mdx, docs/changelog/v5.mdx)', () => {
  it('lists every inverse coin with no filter', async () => {
    seed([
      { category: 'inverse', symbol: 'BTCUSD' },
      { category: 'inverse', symbol: 'XRPUSD' },
      { category: 'inverse', symbol: 'DOTUSD' },
      { category: 'inverse', symbol: 'SOLUSDH27', kind: 'StopOrder' },
    ]);
    const listed = await realtime({ category: 'inverse', limit: '50' });
    const symbols = listed.body.result.list.map((o: { symbol: string }) => o.symbol).sort();
    expect(symbols).toEqual(['BTCUSD', 'DOTUSD', 'SOLUSDH27', 'XRPUSD']);
  });

  it('lists every spot kind with no orderFilter', async () => {
    seed(
      ['Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'BidirectionalTpslOrder'].map((kind) => ({
        category: 'spot' as const,
        symbol: 'BTCUSDT',
        kind: kind as OrderSeed['kind'],
      })),
    );
    const listed = await realtime({ category: 'spot', limit: '50' });
    const types = listed.body.result.list.map((o: { stopOrderType: string }) => o.stopOrderType).sort();
    expect(types).toEqual(['', 'BidirectionalTpslOrder', 'OcoOrder', 'Stop', 'tpslOrder']);
  });
});

describe('instruments-info (docs/v5/market/instrument.mdx)', () => {
  const instruments = (query: string) => getJson(`${emulator.url}/v5/market/instruments-info?${query}`);

  it('answers every category without a key, with base and settle coins', async () => {
    for (const category of ['linear', 'inverse', 'spot', 'option']) {
      const answer = await instruments(`category=${category}`);
      expect(answer.retCode).toBe(0);
      expect(answer.result.list.length).toBeGreaterThan(0);
      expect(typeof answer.result.list[0].baseCoin).toBe('string');
    }
    const inverse = await instruments('category=inverse');
    expect(inverse.result.list.map((i: { baseCoin: string }) => i.baseCoin)).toEqual(
      expect.arrayContaining(['XRP', 'DOT', 'SOL']),
    );
  });

  it('pages by cursor and lists settle coins of the symbols the book holds', async () => {
    seed([{ category: 'linear', symbol: 'BTCUSDE', baseCoin: 'BTC', settleCoin: 'USDE' }]);
    const symbols: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const answer = await instruments(`category=linear&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      symbols.push(...answer.result.list.map((i: { symbol: string }) => i.symbol));
      cursor = answer.result.nextPageCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(symbols).size).toBe(symbols.length);
    expect(symbols).toContain('BTCUSDE');
    expect((await instruments('category=linear&limit=1001')).retCode).toBe(10001);
  });

  it('lists pre-market contracts only with status=PreLaunch, with their auction phase; option BTC by default', async () => {
    emulator.setAuctionPhase('NEWUSDT', 'CallAuction');
    const trading = await instruments('category=linear&limit=1000');
    const preLaunch = await instruments('category=linear&status=PreLaunch');
    const option = await instruments('category=option');
    const sol = await instruments('category=option&baseCoin=SOL');

    expect(trading.result.list.map((i: { symbol: string }) => i.symbol)).not.toContain('NEWUSDT');
    expect(preLaunch.result.list).toEqual([
      expect.objectContaining({
        symbol: 'NEWUSDT',
        status: 'PreLaunch',
        preListingInfo: expect.objectContaining({ curAuctionPhase: 'CallAuction' }),
      }),
    ]);
    expect(option.result.list.every((i: { baseCoin: string }) => i.baseCoin === 'BTC')).toBe(true);
    expect(sol.result.list.map((i: { symbol: string }) => i.symbol)).toEqual(['SOL-27DEC26-200-C']);
  });
});

describe('cancel-batch', () => {
  const items = (orders: { symbol: string; orderId: string }[]) =>
    orders.map((o) => ({ symbol: o.symbol, orderId: o.orderId }));

  it('refuses the whole request above 20 items (futures, option) or 10 (spot)', async () => {
    const linear = seed(
      Array.from({ length: 21 }, () => ({ category: 'linear' as const, symbol: 'BTCUSDT' })),
    );
    const spot = seed(Array.from({ length: 11 }, () => ({ category: 'spot' as const, symbol: 'BTCUSDT' })));

    const tooManyLinear = await cancelBatch('linear', items(linear));
    const tooManySpot = await cancelBatch('spot', items(spot));

    expect(tooManyLinear.body.retCode).toBe(10001);
    expect(tooManySpot.body.retCode).toBe(10001);
    expect(openIds()).toHaveLength(32);
  });

  it('accepts 20 option items and 10 spot items', async () => {
    emulator.setRateLimits({ 'cancel-batch': 100 });
    const option = seed(
      Array.from({ length: 20 }, () => ({ category: 'option' as const, symbol: 'BTC-1JAN27-1-C' })),
    );
    const spot = seed(Array.from({ length: 10 }, () => ({ category: 'spot' as const, symbol: 'BTCUSDT' })));

    const optionReply = await cancelBatch('option', items(option));
    const spotReply = await cancelBatch('spot', items(spot));

    expect(optionReply.body.retExtInfo.list.every((r: { code: number }) => r.code === 0)).toBe(true);
    expect(spotReply.body.retExtInfo.list.every((r: { code: number }) => r.code === 0)).toBe(true);
    expect(openIds()).toEqual([]);
  });

  it('reports per-item outcomes aligned with the request while retCode stays 0', async () => {
    const [a, b] = seed([
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'ETHUSDT', orderLinkId: 'eth-1' },
    ]);

    const reply = await cancelBatch('linear', [
      { symbol: 'BTCUSDT', orderId: a?.orderId },
      { symbol: 'BTCUSDT', orderId: 'missing' },
      { symbol: 'ETHUSDT', orderLinkId: 'eth-1' },
      { symbol: 'BTCUSDT', orderId: a?.orderId },
      { symbol: 'BTCUSDT' },
    ]);

    expect(reply.body.retCode).toBe(0);
    expect(reply.body.retExtInfo.list.map((r: { code: number }) => r.code)).toEqual([
      0, 110001, 0, 110001, 10001,
    ]);
    expect(reply.body.result.list).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', orderId: a?.orderId, orderLinkId: '' },
      { category: 'linear', symbol: 'BTCUSDT', orderId: 'missing', orderLinkId: '' },
      { category: 'linear', symbol: 'ETHUSDT', orderId: b?.orderId, orderLinkId: 'eth-1' },
      { category: 'linear', symbol: 'BTCUSDT', orderId: a?.orderId, orderLinkId: '' },
      { category: 'linear', symbol: 'BTCUSDT', orderId: '', orderLinkId: '' },
    ]);
    expect(openIds()).toEqual([]);
    expect(emulator.requests.at(-1)).toMatchObject({ batchSize: 5, retCode: 0, uid: '1001' });
  });

  it('reports 170213 for spot items that do not exist, including non-plain orders', async () => {
    const [stop] = seed([{ category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' }]);

    const reply = await cancelBatch('spot', [
      { symbol: 'BTCUSDT', orderId: 'missing' },
      { symbol: 'BTCUSDT', orderId: stop?.orderId },
    ]);

    expect(reply.body.retExtInfo.list.map((r: { code: number }) => r.code)).toEqual([170213, 170213]);
  });

  it('fails the items beyond the remaining budget with 10006, then the whole next request', async () => {
    const orders = seed(
      Array.from({ length: 15 }, () => ({ category: 'linear' as const, symbol: 'BTCUSDT' })),
    );

    const first = await cancelBatch('linear', items(orders));
    const second = await cancelBatch('linear', items(orders.slice(10)));

    expect(first.body.retCode).toBe(0);
    expect(first.body.retExtInfo.list.map((r: { code: number }) => r.code)).toEqual([
      ...Array(10).fill(0),
      ...Array(5).fill(10006),
    ]);
    expect(first.headers.get('x-bapi-limit')).toBe('10');
    expect(first.headers.get('x-bapi-limit-status')).toBe('0');
    expect(second.body).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    expect(openIds().sort()).toEqual(
      orders
        .slice(10)
        .map((o) => o.orderId)
        .sort(),
    );
  });

  it('charges option one unit per request, whatever its size', async () => {
    emulator.setRateLimits({ 'cancel-batch': { option: 2 } });
    const orders = seed(
      Array.from({ length: 60 }, () => ({ category: 'option' as const, symbol: 'BTC-1JAN27-1-C' })),
    );

    const replies = [];
    for (let i = 0; i < 3; i++)
      replies.push(await cancelBatch('option', items(orders.slice(i * 20, i * 20 + 20))));

    expect(replies.map((r) => r.body.retCode)).toEqual([0, 0, 10006]);
    expect(replies[1]?.headers.get('x-bapi-limit-status')).toBe('0');
    expect(openIds()).toHaveLength(20);
  });
});

describe('realtime (open orders)', () => {
  it('requires a scope for linear, not for inverse or option, and refuses settleCoin on spot', async () => {
    const linear = await realtime({ category: 'linear' });
    const inverse = await realtime({ category: 'inverse' });
    const option = await realtime({ category: 'option' });
    const spot = await realtime({ category: 'spot', settleCoin: 'USDT' });

    expect(linear.body.retCode).toBe(10001);
    expect(inverse.body.retCode).toBe(0);
    expect(option.body.retCode).toBe(0);
    expect(spot.body.retCode).toBe(10001);
  });

  it('returns every kind by default and one kind under orderFilter', async () => {
    seed([
      { category: 'spot', symbol: 'BTCUSDT', kind: 'Order' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'tpslOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'OcoOrder' },
    ]);

    const all = await realtime({ category: 'spot' });
    const tpsl = await realtime({ category: 'spot', orderFilter: 'tpslOrder' });

    expect(all.body.result.list).toHaveLength(4);
    expect(tpsl.body.result.list.map((o: { stopOrderType: string }) => o.stopOrderType)).toEqual([
      'tpslOrder',
    ]);
  });

  it('lists open orders only, newest first, with millisecond strings and Bybit field names', async () => {
    const [older, newer, cancelled] = seed([
      { category: 'linear', symbol: 'BTCUSDT', createdTime: 1_700_000_000_000 },
      {
        category: 'linear',
        symbol: 'BTCUSDT',
        createdTime: 1_700_000_001_000,
        orderStatus: 'PartiallyFilled',
      },
      { category: 'linear', symbol: 'BTCUSDT', createdTime: 1_700_000_002_000 },
    ]);
    await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: cancelled?.orderId });

    const reply = await realtime({ category: 'linear', settleCoin: 'USDT' });

    expect(reply.body.result.category).toBe('linear');
    expect(reply.body.result.nextPageCursor).toBe('');
    expect(reply.body.result.list).toEqual([
      expect.objectContaining({
        orderId: newer?.orderId,
        orderStatus: 'PartiallyFilled',
        createdTime: '1700000001000',
        updatedTime: '1700000001000',
        symbol: 'BTCUSDT',
        stopOrderType: '',
      }),
      expect.objectContaining({ orderId: older?.orderId, orderStatus: 'New', createdTime: '1700000000000' }),
    ]);
  });

  it('refuses a limit outside 1..50 and an unknown cursor', async () => {
    const zero = await realtime({ category: 'inverse', limit: '0' });
    const tooBig = await realtime({ category: 'inverse', limit: '51' });
    const cursor = await realtime({ category: 'inverse', cursor: 'not-a-cursor' });

    expect([zero.body.retCode, tooBig.body.retCode, cursor.body.retCode]).toEqual([10001, 10001, 10001]);
  });

  it('pages through 120 orders without loss or repetition while orders are cancelled between pages', async () => {
    // Prepare: groups of three share a millisecond, so the cursor must order ties too.
    const orders = seed(
      Array.from({ length: 120 }, (_, i) => ({
        category: 'linear' as const,
        symbol: 'BTCUSDT',
        createdTime: 1_700_000_000_000 + Math.floor(i / 3),
      })),
    );
    const newestFirst = emulator.openOrders(MAIN.apiKey).map((o) => o.orderId);
    const cancelBetweenPages = async (ids: string[]) =>
      cancelBatch(
        'linear',
        ids.map((orderId) => ({ symbol: 'BTCUSDT', orderId })),
      );

    // Act
    const page1 = await realtime({ category: 'linear', symbol: 'BTCUSDT', limit: '50' });
    const seen1: string[] = page1.body.result.list.map((o: { orderId: string }) => o.orderId);
    // Cancel the cursor's own anchor, two already seen, and three not yet seen.
    const gone = [
      seen1[49],
      seen1[0],
      seen1[10],
      newestFirst[50],
      newestFirst[75],
      newestFirst[119],
    ] as string[];
    await cancelBetweenPages(gone);
    const page2 = await realtime({
      category: 'linear',
      symbol: 'BTCUSDT',
      limit: '50',
      cursor: page1.body.result.nextPageCursor,
    });
    const seen2: string[] = page2.body.result.list.map((o: { orderId: string }) => o.orderId);
    const page3 = await realtime({
      category: 'linear',
      symbol: 'BTCUSDT',
      limit: '50',
      cursor: page2.body.result.nextPageCursor,
    });
    const seen3: string[] = page3.body.result.list.map((o: { orderId: string }) => o.orderId);

    // Assess
    expect(orders).toHaveLength(120);
    expect(seen1).toEqual(newestFirst.slice(0, 50));
    expect(seen2).toEqual(newestFirst.slice(50, 102).filter((id) => !gone.includes(id)));
    expect(seen3).toEqual(newestFirst.slice(102).filter((id) => !gone.includes(id)));
    expect(page3.body.result.nextPageCursor).toBe('');
    expect(new Set([...seen1, ...seen2, ...seen3]).size).toBe(117);
  });
});

describe('realtime by orderId or orderLinkId (closed orders too)', () => {
  const byId = async (params: Record<string, string>) => (await realtime(params)).body.result.list;

  it('returns a cancelled order by orderId and by orderLinkId, whatever openOnly says', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'link-1', qty: '2' }]);
    await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId });

    const viaId = await byId({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId as string });
    const viaLink = await byId({
      category: 'linear',
      symbol: 'BTCUSDT',
      orderLinkId: 'link-1',
      openOnly: '0',
    });
    const listing = await byId({ category: 'linear', symbol: 'BTCUSDT' });

    const closed = {
      orderId: order?.orderId,
      orderStatus: 'Cancelled',
      qty: '2',
      cumExecQty: '0',
      leavesQty: '0',
    };
    expect(viaId).toEqual([expect.objectContaining(closed)]);
    expect(viaLink).toEqual([expect.objectContaining(closed)]);
    expect(listing).toEqual([]);
  });

  it('shows an open order with what is left to execute', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT', qty: '3' }]);
    emulator.fillOrder(order?.orderId as string, '1');

    const list = await byId({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId as string });

    expect(list).toEqual([
      expect.objectContaining({ orderStatus: 'PartiallyFilled', qty: '3', cumExecQty: '1', leavesQty: '2' }),
    ]);
  });

  it('keeps only the latest 500 closed orders of a category', async () => {
    emulator.setRateLimits(1_000_000);
    const [first, ...rest] = seed(
      Array.from({ length: 501 }, () => ({ category: 'inverse' as const, symbol: 'BTCUSD' })),
    );
    await cancel({ category: 'inverse', symbol: 'BTCUSD', orderId: first?.orderId });
    const firstBefore = await byId({ category: 'inverse', orderId: first?.orderId as string });
    for (let i = 0; i < rest.length; i += 20) {
      const ids = rest.slice(i, i + 20).map((o) => ({ symbol: 'BTCUSD', orderId: o.orderId }));
      await cancelBatch('inverse', ids);
    }

    const firstAfter = await byId({ category: 'inverse', orderId: first?.orderId as string });
    const last = await byId({ category: 'inverse', orderId: rest.at(-1)?.orderId as string });

    expect(firstBefore).toHaveLength(1);
    expect(firstAfter).toEqual([]);
    expect(last).toEqual([expect.objectContaining({ orderStatus: 'Cancelled' })]);
  });

  it('lets a fill win the race: the cancel answers not found and the order reads back Filled', async () => {
    const [futures, spot] = seed([
      { category: 'linear', symbol: 'BTCUSDT', qty: '0.25' },
      { category: 'spot', symbol: 'ETHUSDT', qty: '4' },
    ]);
    emulator.fillBeforeCancel(futures?.orderId as string);
    emulator.fillBeforeCancel(spot?.orderId as string);

    const futuresCancel = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: futures?.orderId });
    const spotCancel = await cancel({ category: 'spot', symbol: 'ETHUSDT', orderId: spot?.orderId });

    expect([futuresCancel.body.retCode, spotCancel.body.retCode]).toEqual([110001, 170213]);
    expect(
      await byId({ category: 'linear', symbol: 'BTCUSDT', orderId: futures?.orderId as string }),
    ).toEqual([expect.objectContaining({ orderStatus: 'Filled', cumExecQty: '0.25', leavesQty: '0' })]);
    expect(await byId({ category: 'spot', orderId: spot?.orderId as string })).toEqual([
      expect.objectContaining({ orderStatus: 'Filled', cumExecQty: '4', leavesQty: '0' }),
    ]);
  });

  it('ends a partly filled order as Cancelled on futures and PartiallyFilledCanceled on spot', async () => {
    const [futures, spot] = seed([
      { category: 'linear', symbol: 'BTCUSDT', qty: '1' },
      { category: 'spot', symbol: 'ETHUSDT', qty: '1' },
    ]);
    emulator.fillBeforeCancel(futures?.orderId as string, '0.4');
    emulator.fillBeforeCancel(spot?.orderId as string, '0.4');

    const replies = [
      await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: futures?.orderId }),
      await cancel({ category: 'spot', symbol: 'ETHUSDT', orderId: spot?.orderId }),
    ];

    expect(replies.map((r) => r.body.retCode)).toEqual([0, 0]);
    expect(emulator.order(futures?.orderId as string)).toMatchObject({
      orderStatus: 'Cancelled',
      cumExecQty: '0.4',
    });
    expect(await byId({ category: 'spot', orderId: spot?.orderId as string })).toEqual([
      expect.objectContaining({ orderStatus: 'PartiallyFilledCanceled', cumExecQty: '0.4', leavesQty: '0' }),
    ]);
  });

  it('deactivates a spot conditional order that is cancelled before it triggers', async () => {
    const [stop] = seed([{ category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder' }]);

    await cancel({ category: 'spot', symbol: 'BTCUSDT', orderId: stop?.orderId, orderFilter: 'StopOrder' });

    expect(await byId({ category: 'spot', orderId: stop?.orderId as string })).toEqual([
      expect.objectContaining({ orderStatus: 'Deactivated' }),
    ]);
  });

  it('lands a delayed cancel after its acknowledgement: the order reads open, then Cancelled', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT' }]);
    emulator.setCancelDelay(150);
    const read = async () =>
      (await byId({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId as string }))[0]
        ?.orderStatus;

    const reply = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId });
    const soon = await read();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = await read();

    expect(reply.body.retCode).toBe(0);
    expect(soon).toBe('New');
    expect(later).toBe('Cancelled');
  });
});

describe('rate limits', () => {
  it('reports limit, remaining and reset time on every private response', async () => {
    const before = Date.now();
    const first = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'x' });
    const second = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'y' });
    const spot = await cancel({ category: 'spot', symbol: 'BTCUSDT', orderId: 'z' });
    const list = await realtime({ category: 'inverse' });

    expect(first.headers.get('x-bapi-limit')).toBe('10');
    expect(first.headers.get('x-bapi-limit-status')).toBe('9');
    expect(second.headers.get('x-bapi-limit-status')).toBe('8');
    const reset = Number(first.headers.get('x-bapi-limit-reset-timestamp'));
    expect(reset).toBeGreaterThanOrEqual(before + 1_000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(spot.headers.get('x-bapi-limit')).toBe('20');
    expect(list.headers.get('x-bapi-limit')).toBe('50');
  });

  it('answers 10006 once the window is spent, and accepts again when it frees', async () => {
    const replies = [];
    for (let i = 0; i < 11; i++)
      replies.push(await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: `${i}` }));
    const refused = replies[10];
    const reset = Number(refused?.headers.get('x-bapi-limit-reset-timestamp'));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, reset - Date.now()) + 20));
    const again = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'later' });

    expect(replies.slice(0, 10).map((r) => r.body.retCode)).toEqual(Array(10).fill(110001));
    expect(refused?.body).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    expect(refused?.headers.get('x-bapi-limit-status')).toBe('0');
    expect(again.body.retCode).toBe(110001);
  });

  it('shares one budget between linear and inverse and between keys of one UID, not across UIDs', async () => {
    emulator.setRateLimits({ cancel: 4 });
    const codes: number[] = [];
    codes.push((await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'a' })).body.retCode);
    codes.push((await cancel({ category: 'inverse', symbol: 'BTCUSD', orderId: 'b' })).body.retCode);
    codes.push(
      (await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'c' }, SAME_UID)).body.retCode,
    );
    codes.push(
      (await cancel({ category: 'inverse', symbol: 'BTCUSD', orderId: 'd' }, SAME_UID)).body.retCode,
    );
    codes.push((await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'e' })).body.retCode);
    const spot = await cancel({ category: 'spot', symbol: 'BTCUSDT', orderId: 'f' });
    const otherUid = await cancel({ category: 'linear', symbol: 'BTCUSDT', orderId: 'g' }, OTHER_UID);

    expect(codes).toEqual([110001, 110001, 110001, 110001, 10006]);
    expect(spot.body.retCode).toBe(170213);
    expect(otherUid.body.retCode).toBe(110001);
  });

  it('limits option cancel-all to one request per second by default', async () => {
    const first = await cancelAll({ category: 'option' });
    const second = await cancelAll({ category: 'option' });

    expect(first.body.retCode).toBe(0);
    expect(first.headers.get('x-bapi-limit')).toBe('1');
    expect(second.body.retCode).toBe(10006);
  });
});

describe('faults', () => {
  let faulty: Emulator;
  const ORDER = { category: 'linear', symbol: 'BTCUSDT', orderId: 'f-1' };
  const cancelOn = (target: Emulator, params: Record<string, unknown> = ORDER) =>
    call(MAIN, 'POST', '/v5/order/cancel', params, {}, target);

  beforeAll(async () => {
    faulty = await startEmulator({ accounts: ACCOUNTS, timeoutHoldMs: 200, seed: 7 });
  });

  afterAll(async () => {
    await faulty.close();
  });

  beforeEach(() => {
    faulty.reset();
    faulty.addOrders(MAIN.apiKey, [{ category: 'linear', symbol: 'BTCUSDT', orderId: 'f-1' }]);
  });

  const stillOpen = () => expect(faulty.openOrders(MAIN.apiKey).map((o) => o.orderId)).toEqual(['f-1']);

  it('http5xx answers 502, 503 or 504 without an envelope and changes nothing', async () => {
    faulty.failNext('http5xx');

    const reply = await cancelOn(faulty);

    expect([502, 503, 504]).toContain(reply.status);
    expect(reply.body).toBeUndefined();
    expect(faulty.requests.at(-1)).toMatchObject({ fault: 'http5xx', httpStatus: reply.status });
    stillOpen();
  });

  it('reset drops the connection without an answer and changes nothing', async () => {
    faulty.failNext('reset');

    await expect(cancelOn(faulty)).rejects.toThrow();

    expect(faulty.requests.at(-1)).toMatchObject({ fault: 'reset', httpStatus: 0 });
    stillOpen();
  });

  it('timeout holds the request for timeoutHoldMs, then closes it unanswered', async () => {
    faulty.failNext('timeout');
    const started = Date.now();

    await expect(cancelOn(faulty)).rejects.toThrow();

    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    stillOpen();
  });

  it('rateLimit answers 10006 with nothing remaining and a reset about 200 ms ahead', async () => {
    faulty.failNext('rateLimit');

    const reply = await cancelOn(faulty);

    expect(reply.body.retCode).toBe(10006);
    expect(reply.headers.get('x-bapi-limit')).toBe('10');
    expect(reply.headers.get('x-bapi-limit-status')).toBe('0');
    // Measured against the envelope's server time, so that a slow test machine cannot skew it.
    const ahead = Number(reply.headers.get('x-bapi-limit-reset-timestamp')) - reply.body.time;
    expect(ahead).toBeGreaterThanOrEqual(150);
    expect(ahead).toBeLessThanOrEqual(200);
    stillOpen();
  });

  it.each([
    ['clockSkew', 10002],
    ['invalidKey', 10003],
    ['serverError', 10016],
    ['processing', 110079],
  ] as const)('%s answers %i and changes nothing', async (kind, retCode) => {
    faulty.failNext(kind);

    const reply = await cancelOn(faulty);

    expect(reply.body.retCode).toBe(retCode);
    expect(faulty.requests.at(-1)).toMatchObject({ fault: kind, retCode });
    stillOpen();
  });

  it('processing answers 170212 on spot, and per item inside a batch', async () => {
    faulty.failNext('processing', 2);

    const spot = await cancelOn(faulty, { category: 'spot', symbol: 'BTCUSDT', orderId: 'x' });
    const batch = await call(
      MAIN,
      'POST',
      '/v5/order/cancel-batch',
      { category: 'linear', request: [{ symbol: 'BTCUSDT', orderId: 'f-1' }] },
      {},
      faulty,
    );

    expect(spot.body.retCode).toBe(170212);
    expect(batch.body.retCode).toBe(0);
    expect(batch.body.retExtInfo.list).toEqual([{ code: 110079, msg: expect.any(String) }]);
    stillOpen();
  });

  it('applies failNext before the random plan, and only to the path it names', async () => {
    faulty.setFaults({ rate: 1, kinds: ['serverError'] });
    faulty.failNext('invalidKey', 1, '/v5/order/cancel-all');

    const cancelReply = await cancelOn(faulty);
    const allReply = await call(MAIN, 'POST', '/v5/order/cancel-all', { category: 'option' }, {}, faulty);

    expect(cancelReply.body.retCode).toBe(10016);
    expect(allReply.body.retCode).toBe(10003);
  });

  it('replays the same random faults from the same seed', async () => {
    const run = async () => {
      faulty.reset();
      faulty.setFaults({ rate: 0.4, kinds: ['serverError', 'invalidKey', 'processing'], seed: 42 });
      for (let i = 0; i < 20; i++) {
        await call(MAIN, 'GET', '/v5/order/realtime', { category: 'inverse' }, {}, faulty);
      }
      return faulty.requests.map((r) => r.fault ?? '-');
    };

    const first = await run();
    const second = await run();

    expect(second).toEqual(first);
    expect(first.filter((f) => f !== '-').length).toBeGreaterThan(0);
    expect(first.filter((f) => f === '-').length).toBeGreaterThan(0);
  });

  it('leaves /v5/market/time alone unless the plan names it', async () => {
    faulty.setFaults({ rate: 1, kinds: ['serverError'] });
    const spared = await getJson(`${faulty.url}/v5/market/time`);
    faulty.setFaults({ rate: 1, kinds: ['serverError'], paths: ['/v5/market/time'] });
    const hit = await getJson(`${faulty.url}/v5/market/time`);

    expect(spared.retCode).toBe(0);
    expect(hit.retCode).toBe(10016);
  });

  it('delays every response by the configured latency', async () => {
    faulty.setLatency(150);

    const reply = await cancelOn(faulty);

    expect(reply.elapsedMs).toBeGreaterThanOrEqual(140);
    expect(reply.body.retCode).toBe(0);
  });
});

describe('survivors', () => {
  it('acknowledges the cancel of a named order but keeps it open, for every cancel by default', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT' }]);
    emulator.setSurvivors({ orderIds: [order?.orderId as string] });
    const params = { category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId };

    const replies = [await cancel(params), await cancel(params), await cancel(params)];

    expect(replies.map((r) => r.body.retCode)).toEqual([0, 0, 0]);
    expect(openIds()).toEqual([order?.orderId]);
  });

  it('lets a survivor go after `times` cancels', async () => {
    const [order] = seed([{ category: 'linear', symbol: 'BTCUSDT' }]);
    emulator.setSurvivors({ orderIds: [order?.orderId as string], times: 2 });
    const params = { category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId };

    await cancel(params);
    await cancel(params);
    const afterTwo = openIds();
    await cancel(params);

    expect(afterTwo).toEqual([order?.orderId]);
    expect(openIds()).toEqual([]);
  });

  it('picks survivors by rate, each surviving one cancel by default, in cancel-all too', async () => {
    seed([
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);
    emulator.setSurvivors({ rate: 1 });

    const first = await cancelAll({ category: 'linear', symbol: 'BTCUSDT' });
    const afterFirst = openIds();
    const second = await cancelAll({ category: 'linear', symbol: 'BTCUSDT' });

    expect(first.body.result.list).toHaveLength(2);
    expect(afterFirst).toHaveLength(2);
    expect(second.body.result.list).toHaveLength(2);
    expect(openIds()).toEqual([]);
  });
});

describe('clock', () => {
  it('reports the skewed time on /v5/market/time and judges timestamps by it', async () => {
    emulator.setClockSkew(60_000);

    const time = await getJson(`${emulator.url}/v5/market/time`);
    const local = await realtime({ category: 'inverse' });
    const synced = await call(
      MAIN,
      'GET',
      '/v5/order/realtime',
      { category: 'inverse' },
      { timestamp: Date.now() + 60_000 },
    );

    expect(Math.abs(time.time - (Date.now() + 60_000))).toBeLessThan(2_000);
    expect(time.result.timeSecond).toBe(String(Math.floor(time.time / 1000)));
    expect(time.result.timeNano.startsWith(time.result.timeSecond)).toBe(true);
    expect(local.body.retCode).toBe(10002);
    expect(synced.body.retCode).toBe(0);
  });
});

describe('emulator API', () => {
  it('defaults seeded fields and derives coins from the symbol', () => {
    const before = Date.now();
    const orders = seed([
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'SOLPERP', kind: 'StopOrder' },
      { category: 'linear', symbol: 'ETHUSDC' },
      { category: 'inverse', symbol: 'XRPUSD', kind: 'tpslOrder' },
      { category: 'spot', symbol: 'ETHUSDC', kind: 'tpslOrder' },
      { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
      { category: 'option', symbol: 'SOL-27DEC26-200-P-USDT' },
    ]);

    expect(orders.map((o) => [o.baseCoin, o.settleCoin])).toEqual([
      ['BTC', 'USDT'],
      ['SOL', 'USDC'],
      ['ETH', 'USDC'],
      ['XRP', 'XRP'],
      ['ETH', 'USDC'],
      ['BTC', 'USDC'],
      ['SOL', 'USDT'],
    ]);
    expect(orders.map((o) => o.orderStatus)).toEqual([
      'New',
      'Untriggered',
      'New',
      'Untriggered',
      'Untriggered',
      'New',
      'New',
    ]);
    expect(orders[0]).toMatchObject({ kind: 'Order', orderLinkId: '', uid: '1001', stopOrderType: '' });
    expect(orders[0]?.orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(orders[0]?.createdTime).toBeGreaterThanOrEqual(before);
    expect(orders[4]?.stopOrderType).toBe('tpslOrder');
  });

  it('filters openOrders by category and symbol and keeps accounts across reset', async () => {
    seed([
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'ETHUSDT' },
      { category: 'spot', symbol: 'BTCUSDT' },
    ]);

    const linearBtc = emulator.openOrders(MAIN.apiKey, { category: 'linear', symbol: 'BTCUSDT' });
    const spot = emulator.openOrders(undefined, { category: 'spot' });
    emulator.reset();
    const afterReset = await realtime({ category: 'inverse' });

    expect(linearBtc).toHaveLength(1);
    expect(spot).toHaveLength(1);
    expect(emulator.openOrders()).toEqual([]);
    expect(afterReset.body.retCode).toBe(0);
    expect(emulator.requests).toHaveLength(1);
  });

  it('refuses orders for an unknown key', () => {
    expect(() => emulator.addOrders('nobody', [{ category: 'linear', symbol: 'BTCUSDT' }])).toThrow(
      /unknown apiKey/,
    );
  });
});

describe('close', () => {
  it('closes held timeout requests at once and can be called twice', async () => {
    const held = await startEmulator({ accounts: ACCOUNTS });
    held.failNext('timeout');
    const pending = call(MAIN, 'POST', '/v5/order/cancel', { category: 'linear' }, {}, held).then(
      () => 'answered',
      () => 'closed',
    );
    while (held.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();

    await held.close();
    await held.close();

    expect(await pending).toBe('closed');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(held.requests[0]).toMatchObject({ fault: 'timeout', httpStatus: 0 });
  });
});
