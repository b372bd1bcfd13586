// Every refusal of lib/lambda/requests.ts names the field and says what is wrong, exactly: a caller fixes its
// request from the 400 alone. And what each accepted request becomes.

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import {
  parseCancelAllRequest,
  parseCancelRequest,
  parseDrillInput,
  parseDrillRequest,
  parseHeartbeatRequest,
  parseKillSwitchDetail,
  parseSweepInput,
  sweepOptions,
} from '../../lib/lambda/requests.ts';

/** The field and message of the ValidationError `parse` throws. */
function refusal(parse: () => unknown): [string, string] | undefined {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [(error as ValidationError).field, (error as Error).message];
  }
  return undefined;
}

const order = { category: 'linear', symbol: 'BTCUSDT', orderId: '1321052653536515584' };

describe('parseCancelRequest', () => {
  it.each([
    ['not an object', 'x', 'body', 'the body must be a JSON object'],
    ['null', null, 'body', 'the body must be a JSON object'],
    ['an array', [order], 'body', 'the body must be a JSON object'],
    ['an unknown field', { ...order, orderID: '2' }, 'orderID', 'unknown field "orderID"'],
    [
      'a very long unknown field',
      { ...order, ['x'.repeat(100)]: 1 },
      'x'.repeat(64),
      `unknown field "${'x'.repeat(64)}"`,
    ],
    ['no category', { symbol: 'BTCUSDT', orderId: '1' }, 'category', 'category is required'],
    [
      'an unknown category',
      { ...order, category: 'futures' },
      'category',
      'category must be one of linear, inverse, spot, option',
    ],
    ['no symbol', { category: 'linear', orderId: '1' }, 'symbol', 'symbol must be a non-empty string'],
    ['an empty symbol', { ...order, symbol: '' }, 'symbol', 'symbol must be a non-empty string'],
    [
      'a lowercase symbol',
      { ...order, symbol: 'btcusdt' },
      'symbol',
      'symbol is not a valid symbol (symbols are uppercase, e.g. BTCUSDT)',
    ],
    ['a symbol with a space', { ...order, symbol: 'BTC USDT' }, 'symbol', 'symbol is not a valid symbol'],
    ['a symbol starting with a dash', { ...order, symbol: '-BTC' }, 'symbol', 'symbol is not a valid symbol'],
    [
      'a symbol of 65 characters',
      { ...order, symbol: 'A'.repeat(65) },
      'symbol',
      'symbol is not a valid symbol',
    ],
    [
      'neither id',
      { category: 'linear', symbol: 'BTCUSDT' },
      'orderId',
      'orderId or orderLinkId is required',
    ],
    [
      'an orderId that is a JSON number',
      { ...order, orderId: 42 },
      'orderId',
      'orderId must be a number or a UUID, as Bybit issues order ids',
    ],
    [
      'an orderId that is neither a number nor a UUID',
      { ...order, orderId: 'o1' },
      'orderId',
      'orderId must be a number or a UUID, as Bybit issues order ids',
    ],
    [
      'an orderId of 33 digits',
      { ...order, orderId: '1'.repeat(33) },
      'orderId',
      'orderId must be a number or a UUID, as Bybit issues order ids',
    ],
    [
      'an empty orderLinkId',
      { ...order, orderLinkId: '' },
      'orderLinkId',
      'orderLinkId must be at most 36 letters, digits, "-" or "_", as Bybit accepts order link ids',
    ],
    [
      'an orderLinkId with a space',
      { ...order, orderLinkId: 'a b' },
      'orderLinkId',
      'orderLinkId must be at most 36 letters, digits, "-" or "_", as Bybit accepts order link ids',
    ],
    [
      'an orderLinkId of 37 characters',
      { ...order, orderLinkId: 'a'.repeat(37) },
      'orderLinkId',
      'orderLinkId must be at most 36 letters, digits, "-" or "_", as Bybit accepts order link ids',
    ],
    [
      'an orderFilter outside spot',
      { ...order, orderFilter: 'StopOrder' },
      'orderFilter',
      'orderFilter is only valid for spot orders',
    ],
    [
      'an unknown spot orderFilter',
      { ...order, category: 'spot', orderFilter: 'OcoOrder' },
      'orderFilter',
      'orderFilter must be one of Order, tpslOrder, StopOrder',
    ],
    [
      'an account that is not a name',
      { ...order, account: 'main account' },
      'account',
      'account must be an account name',
    ],
    [
      'an account of 65 characters',
      { ...order, account: 'a'.repeat(65) },
      'account',
      'account must be an account name',
    ],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseCancelRequest(body))).toEqual([field, message]);
  });

  it('takes an order by id or link id, with an account and a spot orderFilter, and nothing it was not given', () => {
    expect(parseCancelRequest(order)).toEqual(order);
    const spot = {
      category: 'spot',
      symbol: 'ETHUSDT',
      orderLinkId: 'tv-1',
      orderFilter: 'tpslOrder',
      account: 'hedge.1',
    };
    expect(parseCancelRequest(spot)).toEqual(spot);
    expect(
      parseCancelRequest({
        ...order,
        symbol: 'BTC-27DEC26-100000-C',
        orderId: '2b1c3f54-7a3e-4c1d-9f0e-6d5a4b3c2d1e',
        orderLinkId: `${'a'.repeat(34)}-_`,
      }),
    ).toMatchObject({
      symbol: 'BTC-27DEC26-100000-C',
      orderId: '2b1c3f54-7a3e-4c1d-9f0e-6d5a4b3c2d1e',
    });
  });
});

describe('parseCancelAllRequest for one scope', () => {
  const scope = { category: 'linear', settleCoin: 'USDT' };
  it.each([
    [
      'accounts beside a category',
      { ...scope, accounts: ['a'] },
      'accounts',
      'accounts is only valid without category',
    ],
    [
      'categories beside a category',
      { ...scope, categories: ['spot'] },
      'categories',
      'categories is only valid without category',
    ],
    [
      'a linear cancel-all of nothing named',
      { category: 'linear' },
      'symbol',
      'linear cancel-all needs symbol, baseCoin or settleCoin',
    ],
    [
      'an inverse cancel-all of nothing named',
      { category: 'inverse' },
      'symbol',
      'inverse cancel-all needs symbol, baseCoin or settleCoin',
    ],
    ['a spot settleCoin', { category: 'spot', settleCoin: 'USDT' }, 'settleCoin', 'spot has no settleCoin'],
    [
      'a spot baseCoin',
      { category: 'spot', baseCoin: 'BTC' },
      'baseCoin',
      'spot cancel-all takes symbol, not baseCoin',
    ],
    [
      'a lowercase coin',
      { category: 'linear', baseCoin: 'btc' },
      'baseCoin',
      'baseCoin must be an uppercase coin, e.g. USDT',
    ],
    [
      'a coin of 21 characters',
      { category: 'linear', settleCoin: 'A'.repeat(21) },
      'settleCoin',
      'settleCoin must be an uppercase coin, e.g. USDT',
    ],
    [
      'a coin with a dash',
      { category: 'linear', settleCoin: 'US-DT' },
      'settleCoin',
      'settleCoin must be an uppercase coin, e.g. USDT',
    ],
    [
      'a numeric coin',
      { category: 'linear', settleCoin: 5 },
      'settleCoin',
      'settleCoin must be an uppercase coin, e.g. USDT',
    ],
    [
      'a lowercase symbol',
      { category: 'spot', symbol: 'ethusdt' },
      'symbol',
      'symbol is not a valid symbol (symbols are uppercase, e.g. BTCUSDT)',
    ],
    [
      'tpslOrder on linear',
      { ...scope, orderFilter: 'tpslOrder' },
      'orderFilter',
      'orderFilter must be one of Order, StopOrder, OpenOrder',
    ],
    [
      'OpenOrder on option',
      { category: 'option', orderFilter: 'OpenOrder' },
      'orderFilter',
      'orderFilter must be one of Order, StopOrder',
    ],
    [
      'an unknown spot kind',
      { category: 'spot', orderFilter: 'Everything' },
      'orderFilter',
      'orderFilter must be one of Order, tpslOrder, StopOrder, OcoOrder, BidirectionalTpslOrder',
    ],
    [
      'stopOrderType without StopOrder',
      { ...scope, stopOrderType: 'Stop' },
      'stopOrderType',
      'stopOrderType needs a linear or inverse category with orderFilter StopOrder',
    ],
    [
      'stopOrderType on spot',
      { category: 'spot', orderFilter: 'StopOrder', stopOrderType: 'Stop' },
      'stopOrderType',
      'stopOrderType needs a linear or inverse category with orderFilter StopOrder',
    ],
    [
      'an unknown stopOrderType',
      { ...scope, orderFilter: 'StopOrder', stopOrderType: 'TakeProfit' },
      'stopOrderType',
      'stopOrderType must be one of Stop',
    ],
    [
      'a reason of 501 characters',
      { ...scope, reason: 'r'.repeat(501) },
      'reason',
      'reason must be a string of at most 500 characters',
    ],
    [
      'a reason that is not text',
      { ...scope, reason: 5 },
      'reason',
      'reason must be a string of at most 500 characters',
    ],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseCancelAllRequest(body))).toEqual([field, message]);
  });

  it('takes each selector and filter it was given, on its account, and drops a reason it accepted', () => {
    expect(parseCancelAllRequest({ ...scope, account: 'main', reason: 'r'.repeat(500) })).toEqual({
      kind: 'scope',
      account: 'main',
      params: { category: 'linear', settleCoin: 'USDT' },
    });
    expect(
      parseCancelAllRequest({
        category: 'inverse',
        baseCoin: 'BTC',
        orderFilter: 'StopOrder',
        stopOrderType: 'Stop',
      }),
    ).toEqual({
      kind: 'scope',
      params: { category: 'inverse', baseCoin: 'BTC', orderFilter: 'StopOrder', stopOrderType: 'Stop' },
    });
    expect(parseCancelAllRequest({ category: 'spot' })).toEqual({
      kind: 'scope',
      params: { category: 'spot' },
    });
    expect(parseCancelAllRequest({ category: 'option', symbol: 'BTC-27DEC26-100000-C' })).toEqual({
      kind: 'scope',
      params: { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
    });
  });
});

describe('parseCancelAllRequest for everything (the kill switch)', () => {
  it.each([
    ['symbol', { symbol: 'BTCUSDT' }],
    ['baseCoin', { baseCoin: 'BTC' }],
    ['settleCoin', { settleCoin: 'USDT' }],
    ['orderFilter', { orderFilter: 'Order' }],
    ['stopOrderType', { stopOrderType: 'Stop' }],
  ])('refuses %s without a category', (field, body) => {
    expect(refusal(() => parseCancelAllRequest(body))).toEqual([field, `${field} needs a category`]);
  });

  it.each([
    [
      'account and accounts',
      { account: 'a', accounts: ['b'] },
      'accounts',
      'give account or accounts, not both',
    ],
    ['an empty accounts list', { accounts: [] }, 'accounts', 'accounts must be a non-empty array'],
    [
      '51 accounts',
      { accounts: Array.from({ length: 51 }, (_, i) => `a${i}`) },
      'accounts',
      'accounts must be a non-empty array',
    ],
    ['accounts that are not a list', { accounts: 'main' }, 'accounts', 'accounts must be a non-empty array'],
    ['an account name with a slash', { accounts: ['a/b'] }, 'account', 'account must be an account name'],
    [
      'an unknown category',
      { categories: ['futures'] },
      'category',
      'category must be one of linear, inverse, spot, option',
    ],
    [
      'a reason of 501 characters',
      { reason: 'r'.repeat(501) },
      'reason',
      'reason must be a string of at most 500 characters',
    ],
    ['an origin field', { origin: 'deadMansSwitch' }, 'origin', 'unknown field "origin"'],
    [
      'a halt that is not a boolean',
      { halt: 'yes' },
      'halt',
      'halt must be true or false (false: a clean-up that sets no halt)',
    ],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseCancelAllRequest(body))).toEqual([field, message]);
  });

  it('takes accounts (50 at most, each once), categories and a reason', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `a${i}`);
    expect(parseCancelAllRequest({ accounts: [...fifty] })).toEqual({ kind: 'everything', accounts: fifty });
    expect(
      parseCancelAllRequest({ account: 'main', categories: ['spot', 'spot'], reason: 'r'.repeat(500) }),
    ).toEqual({
      kind: 'everything',
      accounts: ['main'],
      categories: ['spot'],
      reason: 'r'.repeat(500),
    });
    expect(parseCancelAllRequest({ accounts: ['b', 'a', 'b'] })).toEqual({
      kind: 'everything',
      accounts: ['b', 'a'],
    });
    expect(parseCancelAllRequest({})).toEqual({ kind: 'everything' });
  });
});

describe('the drill', () => {
  it.each([
    ['drill false', { drill: false }, 'drill', 'drill must be true (leave it out to fire the kill switch)'],
    ['drill "true"', { drill: 'true' }, 'drill', 'drill must be true (leave it out to fire the kill switch)'],
    ['a category', { drill: true, category: 'linear' }, 'category', 'category is not valid with drill'],
    ['a reason', { drill: true, reason: 'x' }, 'reason', 'reason is not valid with drill'],
    [
      'account and accounts',
      { drill: true, account: 'a', accounts: ['b'] },
      'accounts',
      'give account or accounts, not both',
    ],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseCancelAllRequest(body))).toEqual([field, message]);
  });

  it('takes every account, one, or a list', () => {
    expect(parseCancelAllRequest({ drill: true })).toEqual({ kind: 'drill' });
    expect(parseCancelAllRequest({ drill: true, account: 'hedge' })).toEqual({
      kind: 'drill',
      accounts: ['hedge'],
    });
    expect(parseDrillInput({ action: 'drill', accounts: ['a', 'b'] })).toEqual({
      kind: 'drill',
      accounts: ['a', 'b'],
    });
  });

  it.each([
    ['another action', { action: 'sweep' }, 'action', 'this schedule runs only the drill'],
    ['no action', {}, 'action', 'this schedule runs only the drill'],
    [
      'account and accounts',
      { action: 'drill', account: 'a', accounts: ['b'] },
      'accounts',
      'give account or accounts, not both',
    ],
    ['a field of the kill switch', { action: 'drill', reason: 'x' }, 'reason', 'unknown field "reason"'],
    [
      'an empty accounts list',
      { action: 'drill', accounts: [] },
      'accounts',
      'accounts must be a non-empty array',
    ],
  ])('refuses a schedule input with %s', (_, body, field, message) => {
    expect(refusal(() => parseDrillInput(body))).toEqual([field, message]);
  });

  it.each([
    ['no drill', {}],
    ['drill false', { drill: false }],
    ['a kill switch of every account', { accounts: ['a'] }],
  ])('refuses a direct call of the drill function with %s: it runs only the drill', (_, body) => {
    expect(refusal(() => parseDrillRequest(body))).toEqual([
      'drill',
      'this function runs only the drill: send {"drill": true}',
    ]);
  });

  it('takes a direct call of the drill function for every account, one, or a list', () => {
    expect(parseDrillRequest({ drill: true })).toEqual({ kind: 'drill' });
    expect(parseDrillRequest({ drill: true, account: 'hedge' })).toEqual({
      kind: 'drill',
      accounts: ['hedge'],
    });
    expect(parseDrillRequest({ drill: true, accounts: ['a', 'b'] })).toEqual({
      kind: 'drill',
      accounts: ['a', 'b'],
    });
  });
});

describe('parseKillSwitchDetail', () => {
  it('merges account and accounts, and keeps origin and a reason', () => {
    expect(
      parseKillSwitchDetail({ account: 'a', accounts: ['b', 'a'], origin: 'deadMansSwitch', reason: 'why' }),
    ).toEqual({
      kind: 'everything',
      accounts: ['a', 'b'],
      origin: 'deadMansSwitch',
      reason: 'why',
      ignored: [],
    });
  });

  it('keeps its accounts when another field is unreadable: only a bad account narrowing widens it', () => {
    expect(parseKillSwitchDetail({ accounts: ['a'], reason: 5, extra: 1 })).toMatchObject({
      accounts: ['a'],
    });
  });

  it('covers every account when one account narrowing is unreadable, and says why', () => {
    expect(parseKillSwitchDetail({ account: 'a', accounts: 'b' })).toEqual({
      kind: 'everything',
      ignored: ['accounts is not a list of account names: every account is covered'],
    });
    expect(parseKillSwitchDetail({ accounts: ['a'], account: 'not a name' })).toEqual({
      kind: 'everything',
      ignored: ['account is not an account name: every account is covered'],
    });
  });

  it('drops what it cannot read, never refusing: unknown fields, a bad origin, reason or categories', () => {
    expect(
      parseKillSwitchDetail({
        categories: ['futures'],
        origin: 'no spaces allowed',
        reason: 42,
        ['y'.repeat(80)]: 1,
      }),
    ).toEqual({
      kind: 'everything',
      ignored: [
        'categories is not a list of categories: every category is covered',
        'origin is not a name: dropped',
        'reason is not a string: dropped',
        `unknown field "${'y'.repeat(64)}"`,
      ],
    });
    expect(parseKillSwitchDetail({ reason: 'r'.repeat(501) })).toEqual({
      kind: 'everything',
      reason: 'r'.repeat(500),
      ignored: ['reason is longer than 500 characters: truncated'],
    });
    expect(parseKillSwitchDetail({ reason: 'r'.repeat(500) }).ignored).toEqual([]);
  });

  it('covers everything for a detail that is missing or not an object', () => {
    expect(parseKillSwitchDetail(undefined)).toEqual({ kind: 'everything', ignored: [] });
    expect(parseKillSwitchDetail(null)).toEqual({ kind: 'everything', ignored: [] });
    for (const detail of ['everything', ['a'], 7]) {
      expect(parseKillSwitchDetail(detail)).toEqual({
        kind: 'everything',
        ignored: ['detail is not a JSON object: everything is covered'],
      });
    }
  });

  it('never reads a field inherited from Object.prototype as one of its own', () => {
    expect(parseKillSwitchDetail(JSON.parse('{"toString": 1, "constructor": 2}'))).toEqual({
      kind: 'everything',
      ignored: ['unknown field "toString"', 'unknown field "constructor"'],
    });
  });
});

describe('parseHeartbeatRequest', () => {
  it.each([
    [
      'a ttl below 120 s',
      { ttlSeconds: 119 },
      'ttlSeconds',
      'ttlSeconds must be a whole number of seconds from 120 to 86400',
    ],
    [
      'a ttl that is text',
      { ttlSeconds: '300' },
      'ttlSeconds',
      'ttlSeconds must be a whole number of seconds from 120 to 86400',
    ],
    ['disarm false', { disarm: false }, 'disarm', 'disarm must be true (leave it out to arm)'],
    [
      'a reason of 401 characters',
      { reason: 'r'.repeat(401) },
      'reason',
      'reason must be a string of at most 400 characters',
    ],
    [
      'a reason that is not text',
      { reason: ['x'] },
      'reason',
      'reason must be a string of at most 400 characters',
    ],
    ['an empty accounts list', { accounts: [] }, 'accounts', 'accounts must be a non-empty array'],
    ['an account field', { account: 'a' }, 'account', 'unknown field "account"'],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseHeartbeatRequest(body, 300))).toEqual([field, message]);
  });

  it('takes the default ttl, a reason of 400 characters, accounts and disarm', () => {
    expect(parseHeartbeatRequest({}, 300)).toEqual({ ttlSeconds: 300, disarm: false });
    expect(parseHeartbeatRequest({ ttlSeconds: 120, reason: 'r'.repeat(400), accounts: ['a'] }, 300)).toEqual(
      {
        ttlSeconds: 120,
        disarm: false,
        reason: 'r'.repeat(400),
        accounts: ['a'],
      },
    );
    expect(parseHeartbeatRequest({ disarm: true }, 600)).toEqual({ ttlSeconds: 600, disarm: true });
  });
});

describe('parseSweepInput and sweepOptions', () => {
  it.each([
    ['another action', { action: 'drill' }, 'action', 'this schedule runs only the sweep'],
    ['a dryRun that is text', { dryRun: 'true' }, 'dryRun', 'dryRun must be true or false'],
    ['a max age of 0', { maxAgeSeconds: 0 }, 'maxAgeSeconds', 'maxAgeSeconds must be a positive integer'],
    [
      'a fractional max age',
      { maxAgeSeconds: 1.5 },
      'maxAgeSeconds',
      'maxAgeSeconds must be a positive integer',
    ],
    [
      'a prefix of 37 characters',
      { linkIdPrefix: 'p'.repeat(37) },
      'linkIdPrefix',
      'linkIdPrefix must be a string of at most 36 characters',
    ],
    [
      'a prefix that is not text',
      { linkIdPrefix: 7 },
      'linkIdPrefix',
      'linkIdPrefix must be a string of at most 36 characters',
    ],
    [
      'an unknown category',
      { categories: ['perp'] },
      'category',
      'category must be one of linear, inverse, spot, option',
    ],
    ['an empty accounts list', { accounts: [] }, 'accounts', 'accounts must be a non-empty array'],
    ['an empty categories list', { categories: [] }, 'categories', 'categories must be a non-empty array'],
  ])('refuses %s', (_, body, field, message) => {
    expect(refusal(() => parseSweepInput(body))).toEqual([field, message]);
  });

  it('takes every field it knows, with or without the action', () => {
    const input = {
      dryRun: false,
      maxAgeSeconds: 1,
      linkIdPrefix: 'p'.repeat(36),
      accounts: ['a'],
      categories: ['spot'],
    };
    expect(parseSweepInput({ action: 'sweep', ...input })).toEqual(input);
    expect(parseSweepInput({})).toEqual({});
  });

  it('overrides the configuration with the input, and keeps the configured prefix as a floor', () => {
    const config = { maxAgeMs: 3_600_000, linkIdPrefix: 'bot-', dryRun: true };
    const ignored: string[] = [];
    const onIgnored = (field: string, message: string) => ignored.push(`${field}: ${message}`);
    expect(sweepOptions(config, {}, onIgnored)).toEqual({
      maxAgeMs: 3_600_000,
      linkIdPrefix: 'bot-',
      dryRun: true,
      accounts: undefined,
      categories: undefined,
    });
    expect(
      sweepOptions(
        config,
        { maxAgeSeconds: 60, linkIdPrefix: 'bot-eth-', dryRun: false, accounts: ['a'] },
        onIgnored,
      ),
    ).toEqual({
      maxAgeMs: 60_000,
      linkIdPrefix: 'bot-eth-',
      dryRun: false,
      accounts: ['a'],
      categories: undefined,
    });
    expect(ignored).toEqual([]);
    expect(sweepOptions(config, { linkIdPrefix: 'manual-bot-' }, onIgnored).linkIdPrefix).toBe('bot-');
    expect(ignored).toEqual([
      'linkIdPrefix: linkIdPrefix must start with STALE_ORDER_LINK_ID_PREFIX; the configured prefix applies',
    ]);
  });
});
