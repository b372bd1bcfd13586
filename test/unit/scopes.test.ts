import { describe, expect, it } from 'vitest';
import { scopeLabel, widestListings } from '../../lib/cancel/scopes.ts';

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
