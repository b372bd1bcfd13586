// A scope is what one cancel-all call covers. "Everything" is the list of scopes that together reach every
// open order of an account: each linear settle coin, each inverse coin, every spot order kind (spot
// cancels one kind per call), and option.

import {
  type CancelAllParams,
  type Category,
  type OpenOrdersParams,
  SPOT_ORDER_FILTERS,
} from '../bybit/types.ts';

export type Scope = CancelAllParams;

/** What a run covers: the categories, and the coins whose cancel-alls go out first. */
export interface Coverage {
  categories: Category[];
  linearSettleCoins: string[];
  inverseCoins: string[];
}

/** The scopes that make up "everything", optionally narrowed to some categories. */
export function everythingScopes(scope: Coverage, only?: Category[]): Scope[] {
  const scopesOf: Record<Category, () => Scope[]> = {
    linear: () => scope.linearSettleCoins.map((settleCoin) => ({ category: 'linear', settleCoin })),
    inverse: () => scope.inverseCoins.map((baseCoin) => ({ category: 'inverse', baseCoin })),
    spot: () => SPOT_ORDER_FILTERS.map((orderFilter) => ({ category: 'spot', orderFilter })),
    option: () => [{ category: 'option' }],
  };
  return scope.categories
    .filter((c) => !only || only.includes(c))
    .flatMap((category) => scopesOf[category]());
}

/**
 * The widest open-order listings Bybit allows (`open-order.mdx`, `changelog/v5.mdx`): inverse, spot and
 * option with no filter return every coin and every kind; only linear needs a selector, so it is listed
 * once per settle coin. Verification uses these, whatever a run was configured to cancel first.
 */
export function widestListings(
  categories: readonly Category[],
  linearSettleCoins: readonly string[],
): OpenOrdersParams[] {
  return categories.flatMap((category): OpenOrdersParams[] =>
    category === 'linear'
      ? [...new Set(linearSettleCoins)].map((settleCoin) => ({ category, settleCoin }))
      : [{ category }],
  );
}

/** The open-orders query that shows what a scope's cancel-all should have removed. */
export function listingOf(scope: Scope): OpenOrdersParams {
  const { category, symbol, baseCoin, settleCoin, orderFilter } = scope;
  return { category, symbol, baseCoin, settleCoin, orderFilter };
}

/** A short readable name: `linear settleCoin=USDT`, `spot orderFilter=tpslOrder`, `option`. */
export function scopeLabel(scope: Scope): string {
  const { category, ...selectors } = scope;
  const parts = Object.entries(selectors)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  return [category, ...parts].join(' ');
}
