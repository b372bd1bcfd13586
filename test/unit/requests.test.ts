import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import {
  parseCancelAllRequest,
  parseCancelRequest,
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
    [{ category: 'option', orderFilter: 'Order' }, 'orderFilter'],
    [{ category: 'spot', orderFilter: 'Bogus' }, 'orderFilter'],
    [{ category: 'linear', symbol: 'BTCUSDT', accounts: ['a'] }, 'accounts'],
    [{ account: 'a', accounts: ['b'] }, 'accounts'],
    [{ categories: [] }, 'categories'],
    [{ categories: ['futures'] }, 'category'],
    [{ baseCoin: 'btc', category: 'inverse' }, 'baseCoin'],
  ])('refuses %j naming %s', (input, name) => {
    expect(field(() => parseCancelAllRequest(input))).toBe(name);
  });
});

describe('kill-switch detail and sweep input', () => {
  it('reads an empty or narrowed kill-switch detail', () => {
    expect(parseKillSwitchDetail(undefined)).toEqual({ kind: 'everything' });
    expect(parseKillSwitchDetail({ accounts: ['main'], categories: ['linear'] })).toMatchObject({
      accounts: ['main'],
    });
    expect(field(() => parseKillSwitchDetail({ category: 'linear' }))).toBe('category');
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
