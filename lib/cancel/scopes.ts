// A scope is what one cancel-all call covers. "Everything" is the list of scopes that together reach every
// open order of an account: each linear settle coin, each inverse coin, every spot order kind (spot
// cancels one kind per call), and option.

import {
  type CancelAllParams,
  type Category,
  CONDITIONAL_STOP_ORDER_TYPES,
  type OpenOrder,
  type OpenOrdersParams,
  type OrderFilter,
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

/**
 * The open-orders query that shows what a scope's cancel-all should have removed. Only spot's filters mean
 * the same on both endpoints; a futures or option filter is applied to the listing by `targetedBy`.
 */
export function listingOf(scope: Scope): OpenOrdersParams {
  const { category, symbol, baseCoin, settleCoin, orderFilter } = scope;
  const spotFilter = category === 'spot' ? (orderFilter as OrderFilter | undefined) : undefined;
  return { category, symbol, baseCoin, settleCoin, orderFilter: spotFilter };
}

/**
 * Whether a listed order is one the scope's cancel-all targets. Futures and option `StopOrder` cover
 * conditional, TP/SL and trailing-stop orders, `Order`/`OpenOrder` the plain ones (`cancel-all.mdx`);
 * `stopOrderType=Stop` narrows to plain conditional orders.
 */
export function targetedBy(scope: Scope, order: OpenOrder): boolean {
  if (scope.stopOrderType) return order.stopOrderType === scope.stopOrderType;
  if (scope.category === 'spot' || !scope.orderFilter) return true;
  return scope.orderFilter === 'StopOrder' ? isConditional(order) : !isConditional(order);
}

/**
 * Whether an order is conditional, by the `stopOrderType`s `docs/v5/enum.mdx` names. Not "non-empty": Bybit
 * sends `"UNKNOWN"` on plain limit orders (the docs' own open-order example), and `""` on others.
 */
export function isConditional(order: OpenOrder): boolean {
  return CONDITIONAL_STOP_ORDER_TYPES.has(order.stopOrderType ?? '');
}

/** A short readable name: `linear settleCoin=USDT`, `spot orderFilter=tpslOrder`, `option`. */
export function scopeLabel(scope: Scope): string {
  const { category, ...selectors } = scope;
  const parts = Object.entries(selectors)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  return [category, ...parts].join(' ');
}

const SPOT_KIND_BY_STOP_ORDER_TYPE: Record<string, OrderFilter> = {
  '': 'Order',
  // A plain order, as Bybit writes it in some answers (see isConditional).
  UNKNOWN: 'Order',
  Stop: 'StopOrder',
  tpslOrder: 'tpslOrder',
  OcoOrder: 'OcoOrder',
  BidirectionalTpslOrder: 'BidirectionalTpslOrder',
};

/** The spot kind (cancel-all `orderFilter`) a listed order belongs to, from its `stopOrderType`; undefined when not recognised. */
export function spotKindOf(order: OpenOrder): OrderFilter | undefined {
  return SPOT_KIND_BY_STOP_ORDER_TYPE[order.stopOrderType ?? ''];
}
