import { describe, expect, it } from 'vitest';
import type { Category, OpenOrder } from '../../lib/bybit/types.ts';
import {
  everythingScopes,
  isConditional,
  listingOf,
  scopeLabel,
  spotKindOf,
  targetedBy,
  widestListings,
} from '../../lib/cancel/scopes.ts';

describe('widestListings', () => {
  it('lists inverse, spot and option with no filter, and linear once per settle coin', () => {
    expect(widestListings(['linear', 'inverse', 'spot', 'option'], ['USDT', 'USDC', 'USDT'])).toEqual([
      { category: 'linear', settleCoin: 'USDT' },
      { category: 'linear', settleCoin: 'USDC' },
      { category: 'inverse' },
      { category: 'spot' },
      { category: 'option' },
    ]);
  });

  it('covers only the categories it is given', () => {
    expect(widestListings(['spot'], ['USDT'])).toEqual([{ category: 'spot' }]);
  });
});

describe('scopeLabel', () => {
  it('names the category and only the selectors that are set', () => {
    expect(scopeLabel({ category: 'linear', symbol: undefined, settleCoin: 'USDT' })).toBe(
      'linear settleCoin=USDT',
    );
    expect(scopeLabel({ category: 'option' })).toBe('option');
  });
});

describe('everythingScopes', () => {
  it('narrows to the categories asked for', () => {
    const coverage = {
      categories: ['linear', 'option'] as Category[],
      linearSettleCoins: ['USDT'],
      inverseCoins: [],
    };
    expect(everythingScopes(coverage, ['option'])).toEqual([{ category: 'option' }]);
    expect(everythingScopes(coverage)).toEqual([
      { category: 'linear', settleCoin: 'USDT' },
      { category: 'option' },
    ]);
  });
});

describe('listingOf', () => {
  it('keeps a spot filter, which the listing understands, and drops a futures one, which it does not', () => {
    expect(listingOf({ category: 'spot', orderFilter: 'tpslOrder' })).toMatchObject({
      orderFilter: 'tpslOrder',
    });
    expect(listingOf({ category: 'linear', settleCoin: 'USDT', orderFilter: 'StopOrder' })).toEqual({
      category: 'linear',
      settleCoin: 'USDT',
    });
  });
});

describe('targetedBy', () => {
  it('keeps every order a spot listing shows: the listing already applied the filter', () => {
    const tpsl = {
      orderId: 'a',
      orderLinkId: '',
      symbol: 'BTCUSDT',
      stopOrderType: 'tpslOrder',
    } as OpenOrder;
    expect(targetedBy({ category: 'spot', orderFilter: 'Order' }, tpsl)).toBe(true);
    expect(targetedBy({ category: 'linear', orderFilter: 'Order' }, tpsl)).toBe(false);
  });
});

describe('isConditional: from the stopOrderTypes docs/v5/enum.mdx names, never from "non-empty"', () => {
  const order = (stopOrderType: string) =>
    ({ orderId: 'a', orderLinkId: '', symbol: 'BTCUSDT', stopOrderType }) as OpenOrder;

  it.each(['', 'UNKNOWN', 'SomethingNew'])('takes %j for a plain order', (type) => {
    expect(isConditional(order(type))).toBe(false);
    expect(targetedBy({ category: 'linear', settleCoin: 'USDT', orderFilter: 'Order' }, order(type))).toBe(
      true,
    );
    expect(
      targetedBy({ category: 'linear', settleCoin: 'USDT', orderFilter: 'StopOrder' }, order(type)),
    ).toBe(false);
  });

  it.each([
    'TakeProfit',
    'StopLoss',
    'TrailingStop',
    'Stop',
    'PartialTakeProfit',
    'PartialStopLoss',
    'tpslOrder',
    'OcoOrder',
    'MmRateClose',
    'BidirectionalTpslOrder',
  ])('takes %s for a conditional order', (type) => {
    expect(isConditional(order(type))).toBe(true);
    expect(targetedBy({ category: 'inverse', symbol: 'BTCUSD', orderFilter: 'StopOrder' }, order(type))).toBe(
      true,
    );
    expect(targetedBy({ category: 'option', orderFilter: 'Order' }, order(type))).toBe(false);
  });

  it('puts a spot order marked UNKNOWN among the plain ones, which cancel-all reaches with Order', () => {
    expect(spotKindOf(order('UNKNOWN'))).toBe('Order');
    expect(spotKindOf(order(''))).toBe('Order');
  });
});
