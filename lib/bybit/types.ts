// Shapes of the Bybit V5 endpoints this product uses, as the exchange documents them.

export const CATEGORIES = ['linear', 'inverse', 'spot', 'option'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Spot needs one cancel-all per kind: without `orderFilter` only plain orders go. */
export const SPOT_ORDER_FILTERS = [
  'Order',
  'tpslOrder',
  'StopOrder',
  'OcoOrder',
  'BidirectionalTpslOrder',
] as const;
export type OrderFilter = (typeof SPOT_ORDER_FILTERS)[number];

export type Endpoint =
  | 'cancel'
  | 'cancel-all'
  | 'cancel-batch'
  | 'realtime'
  | 'time'
  | 'query-api'
  | 'instruments'
  | 'tickers'
  | 'strategy-list'
  | 'strategy-stop'
  | 'sub-apikeys'
  | 'update-sub-api'
  | 'create';

export interface CancelOrderParams {
  category: Category;
  symbol: string;
  orderId?: string;
  orderLinkId?: string;
  orderFilter?: 'Order' | 'tpslOrder' | 'StopOrder';
}

export interface OrderRef {
  orderId: string;
  orderLinkId: string;
}

/**
 * What a cancel-all acknowledged: the orders it names; tagged `named: false` when the answer names none at all
 * (spot's `{"success": "1"}`), which is not the same as naming an empty list.
 */
export type CancelAllAnswer = OrderRef[] & { named?: false };

/**
 * cancel-all's `orderFilter` (`docs/v5/order/cancel-all.mdx`): spot takes the five spot kinds; linear and
 * inverse take `Order`, `StopOrder` (conditional, TP/SL and trailing stop) and `OpenOrder`; option
 * `Order` and `StopOrder`.
 */
export type CancelAllFilter = OrderFilter | 'OpenOrder';
export const FUTURES_CANCEL_ALL_FILTERS = ['Order', 'StopOrder', 'OpenOrder'] as const;
export const OPTION_CANCEL_ALL_FILTERS = ['Order', 'StopOrder'] as const;
/** A spot single cancel's `orderFilter` (`docs/v5/order/cancel-order.mdx`). */
export const SPOT_CANCEL_FILTERS = ['Order', 'tpslOrder', 'StopOrder'] as const;

export interface CancelAllParams {
  category: Category;
  symbol?: string;
  baseCoin?: string;
  settleCoin?: string;
  orderFilter?: CancelAllFilter;
  stopOrderType?: 'Stop';
}

export interface CancelAllResult {
  list: OrderRef[];
  success?: string;
}

export interface BatchItem {
  symbol: string;
  orderId?: string;
  orderLinkId?: string;
}

export interface CancelBatchParams {
  category: Category;
  request: BatchItem[];
}

/** One item of a batch answer: `code` is the per-item retCode from `retExtInfo.list`. */
export interface BatchItemResult extends OrderRef {
  symbol: string;
  code: number;
  msg: string;
}

export interface OpenOrdersParams {
  category: Category;
  symbol?: string;
  baseCoin?: string;
  settleCoin?: string;
  orderFilter?: OrderFilter;
  limit?: number;
  cursor?: string;
}

export interface OpenOrder {
  orderId: string;
  orderLinkId: string;
  symbol: string;
  orderStatus: string;
  stopOrderType?: string;
  orderType?: string;
  side?: string;
  createdTime: string;
  updatedTime?: string;
  /** What placed the order (`docs/v5/enum.mdx`, createType): `CreateByUser`, `CreateByTWAP`, … Spot has no such key. */
  createType?: string;
}

/**
 * The `stopOrderType`s that make an order conditional (`docs/v5/enum.mdx`). Anything else is a plain order:
 * `""`, and `"UNKNOWN"`, which Bybit sends on plain limit orders (the open-order example does).
 */
export const CONDITIONAL_STOP_ORDER_TYPES: ReadonlySet<string> = new Set([
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
]);

export interface OpenOrdersPage {
  category: Category;
  list: OpenOrder[];
  nextPageCursor: string;
}

/** One order read back by id (`GET /v5/order/realtime` with `orderId` or `orderLinkId`). */
export interface OrderQueryParams {
  category: Category;
  symbol: string;
  orderId?: string;
  orderLinkId?: string;
}

/** An order as the by-id read returns it, open or closed; quantities are Bybit's decimal strings. */
export interface OrderState extends OrderRef {
  symbol: string;
  orderStatus: string;
  qty: string;
  cumExecQty: string;
  leavesQty: string;
  updatedTime: string;
}

/** Statuses after which an order can no longer trade (`docs/v5/enum.mdx`, orderStatus "closed status"). */
export const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  'Cancelled',
  'PartiallyFilledCanceled',
  'Filled',
  'Deactivated',
  'Rejected',
]);

/** `GET /v5/market/instruments-info` (public): linear and inverse list `Trading` unless `status` says otherwise. */
export interface InstrumentsParams {
  category: Category;
  status?: 'Trading' | 'PreLaunch';
  baseCoin?: string;
  symbol?: string;
  limit?: number;
  cursor?: string;
}

export interface Instrument {
  symbol: string;
  status: string;
  baseCoin: string;
  settleCoin: string;
  /** Pre-market contracts only (`docs/v5/market/instrument.mdx`); `curAuctionPhase` per `docs/v5/enum.mdx`. */
  preListingInfo?: { curAuctionPhase?: string } | null;
  /** A limit price's bounds and step (spot lists `tickSize` alone). */
  priceFilter?: { minPrice?: string; maxPrice?: string; tickSize?: string };
  /**
   * Quantity rules: contracts `minOrderQty`, `qtyStep`, linear `minNotionalValue`; spot `basePrecision` and
   * `minOrderAmt` (its `minOrderQty` is "deprecated, no longer check").
   */
  lotSizeFilter?: {
    minOrderQty?: string;
    qtyStep?: string;
    minNotionalValue?: string;
    basePrecision?: string;
    minOrderAmt?: string;
  };
}

/** `GET /v5/market/tickers` (docs/v5/market/tickers.mdx, public): option needs `symbol` or `baseCoin`. */
export interface TickersParams {
  category: Category;
  symbol?: string;
  baseCoin?: string;
}

/** A ticker: the fields the fire drill reads. */
export interface Ticker {
  symbol: string;
  lastPrice: string;
  bid1Price?: string;
  ask1Price?: string;
  markPrice?: string;
}

export interface InstrumentsPage {
  list: Instrument[];
  nextPageCursor: string;
}

export const BATCH_LIMIT: Record<Category, number> = { linear: 20, inverse: 20, option: 20, spot: 10 };
export const OPEN_ORDERS_PAGE_LIMIT = 50;
/** Futures cancel-all cancels at most this many per call; a full answer means "call again". */
export const FUTURES_CANCEL_ALL_CAP = 500;

/**
 * `GET /v5/user/query-api` (docs/v5/user/apikey-info.mdx): what the key in use may do. Only the fields the
 * drill judges; `permissions` maps a group (`ContractTrade`, `Spot`, `Options`, `Derivatives`, `Wallet`, …)
 * to the permissions granted in it.
 */
export interface ApiKeyInfo {
  /** 0 read and write, 1 read only. */
  readOnly: 0 | 1;
  permissions: Record<string, string[]>;
  /** The IPs the key is bound to; empty or `*` means none. */
  ips: string[];
  /** Days the key stays valid; documented only for keys with no IP bound (or after a password change). */
  deadlineDay?: number;
  /** When the key expires (ISO date); `1970-01-01T00:00:00Z` when it does not. */
  expiredAt?: string;
  /** 1 unified trading account, 0 regular (classic) account. */
  uta: 0 | 1;
  /** Whether the key belongs to the master account (`isMaster`); absent when the answer does not say. */
  isMaster?: boolean;
  /** The master account's UID, `"0"` when the key is the master's own (`parentUid`). */
  parentUid?: string;
  /** The UID the key belongs to (`userID`). */
  userId?: string;
}

/** `GET /v5/user/sub-apikeys` (docs/v5/user/list-sub-apikeys.mdx): master account only, any permission. */
export interface SubApiKeysParams {
  subMemberId: string;
  /** 1..20, default 20. */
  limit?: number;
  cursor?: string;
}

/** `ips` as the listing and update-sub-api give it when a key is bound to no address. */
export const UNBOUND_IPS = '*';

/**
 * One API key of a sub UID. `ips` and `permissions` are what a change must send back to keep them; a key
 * whose answer lacks either readably carries `unreadable` instead, and must not be changed (an update
 * without `ips` unbinds the key: docs/v5/user/modify-sub-apikey.mdx).
 */
export interface SubApiKey {
  apiKey: string;
  readOnly: boolean;
  /** The bound IPs; `['*']` when bound to none. */
  ips?: string[];
  permissions?: Record<string, string[]>;
  /** When the key was created (epoch ms), when the listing gives a readable `createdAt`. */
  createdAt?: number;
  /** The documented field the answer lacked or gave in a shape we cannot read. */
  unreadable?: string;
}

export interface SubApiKeysPage {
  list: SubApiKey[];
  nextPageCursor: string;
}

/**
 * `POST /v5/user/update-sub-api` as a master key calls it (docs/v5/user/modify-sub-apikey.mdx): `apikey`
 * names the sub key; `readOnly` defaults to 0 (read-write) when left out; `ips` is a comma-separated string,
 * and leaving it out (or `*`) binds the key to no address; `permissions` left out keeps them. This client
 * never sends `permissions`, and always sends `readOnly` and `ips`.
 */
export interface UpdateSubApiKeyParams {
  apikey: string;
  readOnly: 0 | 1;
  ips: string;
}

/** What update-sub-api answers: the key's settings after the change. */
export interface SubApiKeySettings {
  apiKey: string;
  readOnly: boolean;
  ips: string[];
  permissions: Record<string, string[]>;
}

/**
 * `POST /v5/order/create` (docs/v5/order/create-order.mdx), the fields the tools and the emulator's bots
 * use. No Lambda function places orders.
 */
export interface CreateOrderParams {
  category: Category;
  symbol: string;
  side: 'Buy' | 'Sell';
  orderType: 'Limit' | 'Market';
  qty: string;
  price?: string;
  timeInForce?: 'GTC' | 'IOC' | 'FOK' | 'PostOnly';
  /** Sent always: generated when not given, so that a retried request cannot place a second order (110072). */
  orderLinkId?: string;
  /** Spot only: `Order` (default), `tpslOrder`, `StopOrder`. */
  orderFilter?: 'Order' | 'tpslOrder' | 'StopOrder';
  triggerPrice?: string;
  triggerDirection?: 1 | 2;
  reduceOnly?: boolean;
  positionIdx?: 0 | 1 | 2;
}

/** Strategy categories (`docs/v5/strategy/strategy-list.mdx`): not the order categories. */
export const STRATEGY_CATEGORIES = [
  'UTA_USDT',
  'UTA_USDC',
  'UTA_USDC_FUTURE',
  'UTA_SPOT',
  'UTA_INVERSE',
  'UTA_INVERSE_FUTURE',
  'UTA_USDT_FUTURE',
] as const;
export type StrategyCategory = (typeof STRATEGY_CATEGORIES)[number];

/**
 * Strategy statuses (`strategy-list.mdx`): 2 running, 3 terminated, 4 terminated but orders are not filled,
 * 5 paused, 6 untriggered.
 */
export const STRATEGY_STATUS_NAMES: Readonly<Record<number, string>> = {
  2: 'running',
  3: 'terminated',
  4: 'terminated, orders not filled',
  5: 'paused',
  6: 'untriggered',
};

/** `GET /v5/strategy/list`: every filter optional; `status` is one value; `pageSize` 1..50 (default 20). */
export interface StrategyListParams {
  strategyId?: string;
  symbol?: string;
  status?: '2' | '3' | '4' | '5' | '6';
  category?: StrategyCategory;
  strategyType?: string;
  pageSize?: number;
  cursor?: string;
}

/** A strategy as the list shows it: the fields this product reads, numbers read from either form Bybit sends. */
export interface Strategy {
  strategyId: string;
  /** `twap`, `chaseOrder`, `iceberg`, `pov` (others are kept as sent). */
  strategyType: string;
  category: string;
  symbol: string;
  status: number;
  side?: string;
  triggerPrice?: string;
  /** Epoch ms; the docs say int64 and their example sends a string: both are read. */
  createdTimeE3?: number;
}

export interface StrategyPage {
  list: Strategy[];
  /** Empty when there is no further page. */
  nextCursor: string;
}

/** Bybit's largest strategy page (`strategy-list.mdx`: `pageSize` max 50). */
export const STRATEGY_PAGE_LIMIT = 50;
