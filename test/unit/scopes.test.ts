import { describe, expect, it } from 'vitest';
import type { Category, OpenOrder } from '../../lib/bybit/types.ts';
import {
  everythingScopes,
  listingOf,
  scopeLabel,
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
