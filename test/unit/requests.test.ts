import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import {
  parseCancelAllRequest,
  parseCancelRequest,
  parseDrillRequest,
  parseKillSwitchDetail,
  parseSweepInput,
} from '../../lib/lambda/requests.ts';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  return undefined;
};

describe('parseCancelRequest', () => {
  it('accepts an order by id or by link id, with a spot orderFilter', () => {
    expect(
      parseCancelRequest({
        category: 'spot',
        symbol: 'BTCUSDT',
        orderLinkId: 'a-1',
        orderFilter: 'tpslOrder',
      }),
    ).toEqual({
      category: 'spot',
      symbol: 'BTCUSDT',
      orderLinkId: 'a-1',
      orderFilter: 'tpslOrder',
    });
    expect(
      parseCancelRequest({
        category: 'option',
        symbol: 'BTC-27DEC26-100000-C',
        orderId: '1',
        account: 'main',
      }),
    ).toMatchObject({
      account: 'main',
    });
  });

  it.each([
    [{ symbol: 'BTCUSDT', orderId: '1' }, 'category'],
    [{ category: 'linear', symbol: 'BTC USDT', orderId: '1' }, 'symbol'],
    [{ category: 'linear', symbol: 'BTCUSDT', orderId: '' }, 'orderId'],
    [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'x'.repeat(65) }, 'orderLinkId'],
    [{ category: 'spot', symbol: 'BTCUSDT', orderId: '1', orderFilter: 'OcoOrder' }, 'orderFilter'],
    [{ category: 'linear', symbol: 'BTCUSDT', orderId: '1', account: 'a b' }, 'account'],
    [null, 'body'],
  ])('refuses %j naming %s', (input, name) => {
    expect(field(() => parseCancelRequest(input))).toBe(name);
  });

  // docs/v5/order/create-order.mdx: orderLinkId "A max of 36 characters. Combinations of numbers, letters
  // (upper and lower cases), dashes, and underscores"; orderIds are numeric or UUIDs in every example.
  it.each([
    ['orderLinkId', 'x'.repeat(36)],
    ['orderLinkId', 'tv_BTC-long-1'],
    ['orderId', '1321003749386327552'],
    ['orderId', 'fd4300ae-7847-404e-b947-b46980a4d140'],
    ['orderId', 'C6F055D9-7F21-4079-913D-E6523A9CFFFA'],
  ])('takes %s %j, a form Bybit issues', (name, value) => {
    expect(parseCancelRequest({ category: 'linear', symbol: 'BTCUSDT', [name]: value })).toMatchObject({
      [name]: value,
    });
  });

  it.each([
    ['orderLinkId', 'x'.repeat(37)],
    ['orderLinkId', '<script>x</script>'],
    ['orderLinkId', '../../v5/asset/transfer'],
    ['orderLinkId', 'a b'],
    ['orderLinkId', 'é'],
    ['orderId', 'o1'],
    ['orderId', '12a'],
    ['orderId', 'fd4300ae-7847-404e-b947-b46980a4d14'],
    ['orderId', '1'.repeat(33)],
  ])('refuses %s %j, which Bybit could never have issued', (name, value) => {
    expect(field(() => parseCancelRequest({ category: 'linear', symbol: 'BTCUSDT', [name]: value }))).toBe(
      name,
    );
  });
});

describe('parseCancelAllRequest', () => {
  it('reads a scope', () => {
    expect(
      parseCancelAllRequest({
        category: 'linear',
        settleCoin: 'USDT',
        orderFilter: 'StopOrder',
        stopOrderType: 'Stop',
      }),
    ).toEqual({
      kind: 'scope',
      params: { category: 'linear', settleCoin: 'USDT', orderFilter: 'StopOrder', stopOrderType: 'Stop' },
    });
    expect(parseCancelAllRequest({ category: 'option' })).toEqual({
      kind: 'scope',
      params: { category: 'option' },
    });
  });

  it('takes the orderFilters cancel-all.mdx documents per category', () => {
    for (const orderFilter of ['Order', 'StopOrder', 'OpenOrder']) {
      expect(parseCancelAllRequest({ category: 'inverse', baseCoin: 'XRP', orderFilter })).toMatchObject({
        params: { orderFilter },
      });
    }
    for (const orderFilter of ['Order', 'StopOrder']) {
      expect(parseCancelAllRequest({ category: 'option', orderFilter })).toMatchObject({
        params: { orderFilter },
      });
    }
    for (const orderFilter of ['Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'BidirectionalTpslOrder']) {
      expect(parseCancelAllRequest({ category: 'spot', orderFilter })).toMatchObject({
        params: { orderFilter },
      });
    }
  });

  it('refuses a spot single cancel filter cancel-order.mdx does not list', () => {
    for (const orderFilter of ['OcoOrder', 'BidirectionalTpslOrder', 'OpenOrder']) {
      const input = { category: 'spot', symbol: 'BTCUSDT', orderId: '1', orderFilter };
      expect(field(() => parseCancelRequest(input))).toBe('orderFilter');
    }
  });

  it('reads "everything" when there is no category', () => {
    expect(parseCancelAllRequest({})).toEqual({ kind: 'everything' });
    expect(parseCancelAllRequest({ account: 'main', categories: ['spot', 'spot'], reason: 'x' })).toEqual({
      kind: 'everything',
      accounts: ['main'],
      categories: ['spot'],
      reason: 'x',
    });
  });

  it.each([
    [{ category: 'linear' }, 'symbol'],
    [{ category: 'linear', symbol: 'BTCUSDT', orderFilter: 'tpslOrder' }, 'orderFilter'],
    [{ category: 'inverse', symbol: 'BTCUSD', orderFilter: 'OcoOrder' }, 'orderFilter'],
    [{ category: 'option', orderFilter: 'OpenOrder' }, 'orderFilter'],
    [{ category: 'option', orderFilter: 'tpslOrder' }, 'orderFilter'],
    [{ category: 'spot', orderFilter: 'Bogus' }, 'orderFilter'],
    [{ category: 'linear', symbol: 'BTCUSDT', accounts: ['a'] }, 'accounts'],
    [{ account: 'a', accounts: ['b'] }, 'accounts'],
    [{ categories: [] }, 'categories'],
    [{ categories: ['futures'] }, 'category'],
    [{ baseCoin: 'btc', category: 'inverse' }, 'baseCoin'],
    // cancel-all.mdx documents baseCoin for linear and inverse only (classic spot: "invalid").
    [{ baseCoin: 'BTC', category: 'spot' }, 'baseCoin'],
    [{ baseCoin: 'BTC', category: 'spot', orderFilter: 'StopOrder' }, 'baseCoin'],
  ])('refuses %j naming %s', (input, name) => {
    expect(field(() => parseCancelAllRequest(input))).toBe(name);
  });

  it('takes baseCoin where cancel-all.mdx documents it, and a spot cancel-all by symbol', () => {
    for (const category of ['linear', 'inverse'] as const) {
      expect(parseCancelAllRequest({ category, baseCoin: 'BTC' })).toMatchObject({
        params: { category, baseCoin: 'BTC' },
      });
    }
    expect(parseCancelAllRequest({ category: 'spot', symbol: 'BTCUSDT' })).toMatchObject({
      params: { symbol: 'BTCUSDT' },
    });
  });
});

describe('parseDrillRequest (a direct invocation of the drill function)', () => {
  it('reads {"drill": true} with or without accounts', () => {
    expect(parseDrillRequest({ drill: true })).toEqual({ kind: 'drill' });
    expect(parseDrillRequest({ drill: true, account: 'main' })).toEqual({
      kind: 'drill',
      accounts: ['main'],
    });
  });

  it.each([[{}], [{ drill: false }], [{ drill: 'true' }], [{ reason: 'x' }]])(
    'refuses %j: on the drill function nothing is ever a kill switch',
    (input) => {
      expect(() => parseDrillRequest(input)).toThrow(ValidationError);
    },
  );
});

describe('halt', () => {
  it('takes "halt": false for a kill switch without a category, and refuses it anywhere else', () => {
    expect(parseCancelAllRequest({ halt: false, reason: 'end of day' })).toEqual({
      kind: 'everything',
      halt: false,
      reason: 'end of day',
    });
    expect(parseCancelAllRequest({ halt: true })).toEqual({ kind: 'everything', halt: true });
    expect(field(() => parseCancelAllRequest({ halt: 'no' }))).toBe('halt');
    expect(field(() => parseCancelAllRequest({ category: 'spot', halt: false }))).toBe('halt');
    expect(field(() => parseCancelAllRequest({ drill: true, halt: false }))).toBe('halt');
  });

  it('reads halt from a kill-switch event, halting when it cannot be read', () => {
    expect(parseKillSwitchDetail({ halt: false })).toEqual({ kind: 'everything', halt: false, ignored: [] });
    const unreadable = parseKillSwitchDetail({ halt: 'false' });
    expect(unreadable).not.toHaveProperty('halt');
    expect(unreadable.ignored).toEqual(['halt is not true or false: the accounts are halted']);
  });

  it("ignores halt: false from the dead man's switch, and says so", () => {
    for (const detail of [
      { origin: 'deadMansSwitch', halt: false },
      { halt: false, origin: 'deadMansSwitch' },
    ]) {
      const request = parseKillSwitchDetail(detail);
      expect(request).not.toHaveProperty('halt');
      expect(request.origin).toBe('deadMansSwitch');
      expect(request.ignored).toEqual(["halt: false is ignored: the dead man's switch always halts"]);
    }
  });
});

describe('kill-switch detail and sweep input', () => {
  it('reads an empty or narrowed kill-switch detail', () => {
    expect(parseKillSwitchDetail(undefined)).toEqual({ kind: 'everything', ignored: [] });
    expect(parseKillSwitchDetail({ accounts: ['main'], categories: ['linear'] })).toEqual({
      kind: 'everything',
      accounts: ['main'],
      categories: ['linear'],
      ignored: [],
    });
    expect(parseKillSwitchDetail({ account: 'main', reason: 'drawdown' })).toEqual({
      kind: 'everything',
      accounts: ['main'],
      reason: 'drawdown',
      ignored: [],
    });
  });

  it('never refuses a kill-switch detail: covers everything and says what it ignored', () => {
    const request = parseKillSwitchDetail({ accounts: 'main', reason: 42, note: 'x' });
    expect(request).toMatchObject({ kind: 'everything' });
    expect(request).not.toHaveProperty('accounts');
    expect(request).not.toHaveProperty('reason');
    expect(request.ignored).toEqual([
      'accounts is not a list of account names: every account is covered',
      'reason is not a string: dropped',
      'unknown field "note"',
    ]);
  });

  it.each([
    [{ categories: 'spot' }, 'categories'],
    [{ categories: ['spot', 'futures'] }, 'categories'],
    [{ category: 'linear' }, 'unknown field "category"'],
    [{ accounts: ['main', 'a b'] }, 'accounts'],
    [{ account: 'main', accounts: [7] }, 'accounts'],
    [{ account: 7 }, 'account'],
  ])('ignores the unreadable part of %j (%s) and widens to everything', (detail, said) => {
    const request = parseKillSwitchDetail(detail);
    expect(request).not.toHaveProperty('accounts');
    expect(request).not.toHaveProperty('categories');
    expect(request.ignored.join('; ')).toContain(said);
  });

  it('truncates an over-long reason and a detail that is not an object covers everything', () => {
    const long = parseKillSwitchDetail({ reason: 'r'.repeat(600) });
    expect(long.reason).toHaveLength(500);
    expect(long.ignored).toEqual(['reason is longer than 500 characters: truncated']);
    expect(parseKillSwitchDetail(['main']).ignored).toEqual([
      'detail is not a JSON object: everything is covered',
    ]);
  });

  it('reads a sweep constant input and refuses unknown options', () => {
    expect(parseSweepInput({ action: 'sweep', dryRun: true, maxAgeSeconds: 60 })).toEqual({
      dryRun: true,
      maxAgeSeconds: 60,
    });
    expect(field(() => parseSweepInput({ action: 'sweep', maxAgeSeconds: -1 }))).toBe('maxAgeSeconds');
    expect(field(() => parseSweepInput({ action: 'sweep', dryrun: true }))).toBe('dryrun');
  });
});
