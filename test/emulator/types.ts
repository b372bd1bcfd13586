/** The emulator's public types: tests, the local demo and benchmarks code against these. */

export type Category = 'linear' | 'inverse' | 'spot' | 'option';

export type OrderKind = 'Order' | 'StopOrder' | 'tpslOrder' | 'OcoOrder' | 'BidirectionalTpslOrder';

/**
 * An API key of one UID: HMAC (`apiSecret`) or RSA (`publicKeyPem`, SPKI PEM). Several keys may share a UID.
 * A key of a sub-account names its master's UID in `parentUid`; a key without one belongs to a master account.
 */
export interface EmulatorAccount {
  uid: string;
  apiKey: string;
  /** The master account's UID, for a key of a sub UID. */
  parentUid?: string;
  apiSecret?: string;
  publicKeyPem?: string;
  /** What the key may do; by default read-write, bound to loopback, unified, every trading permission. */
  key?: EmulatorKeySettings;
}

/** A key's settings as `GET /v5/user/query-api` reports them (docs/v5/user/apikey-info.mdx). */
export interface EmulatorKeySettings {
  readOnly?: boolean;
  /** Groups to replace (`ContractTrade`, `Spot`, `Options`, `Derivatives`, `Wallet`, …); the rest keep their default. */
  permissions?: Record<string, string[]>;
  /** Bound IPs; `[]` or `['*']` binds none. Default `['127.0.0.1']`. */
  ips?: string[];
  /** Days until the key expires; default none for an IP-bound key, 90 for an unbound one; null never. */
  expiresInDays?: number | null;
  /** 1 unified trading account (default), 0 classic. */
  uta?: 0 | 1;
  /** When the key was created (epoch ms): now for a new key; setKey keeps the key's own unless given. */
  createdAt?: number;
}

export interface OrderSeed {
  category: Category;
  symbol: string;
  orderId?: string;
  orderLinkId?: string;
  createdTime?: number;
  kind?: OrderKind;
  /** A spot BidirectionalTpslOrder seeded `New` has triggered: Bybit no longer cancels it. */
  orderStatus?: 'New' | 'PartiallyFilled' | 'Untriggered';
  /** Order quantity, a decimal string; default "1". */
  qty?: string;
  /** Limit price, a decimal string; listed as "1" when not given. */
  price?: string;
  /** `GTC` (default), `IOC`, `FOK`, `PostOnly`, `RPI`. */
  timeInForce?: string;
  /** Executed so far; default "0", or half of `qty` for a PartiallyFilled seed. */
  cumExecQty?: string;
  stopOrderType?: string;
  baseCoin?: string;
  settleCoin?: string;
  /** What placed it (`docs/v5/enum.mdx`, createType); default `CreateByUser`. Spot answers carry no createType. */
  createType?: string;
}

export interface EmulatedOrder {
  orderId: string;
  orderLinkId: string;
  category: Category;
  symbol: string;
  baseCoin: string;
  settleCoin: string;
  kind: OrderKind;
  orderStatus: string;
  qty: string;
  /** Limit price, when the order was placed with one. */
  price?: string;
  timeInForce?: string;
  cumExecQty: string;
  stopOrderType: string;
  createType: string;
  createdTime: number;
  updatedTime: number;
  uid: string;
}

/** Strategy categories (docs/v5/strategy/strategy-list.mdx). */
export type StrategyCategory =
  | 'UTA_USDT'
  | 'UTA_USDC'
  | 'UTA_USDC_FUTURE'
  | 'UTA_SPOT'
  | 'UTA_INVERSE'
  | 'UTA_INVERSE_FUTURE'
  | 'UTA_USDT_FUTURE';

export type StrategyType = 'twap' | 'chaseOrder' | 'iceberg' | 'pov';

/** 2 running, 3 terminated, 4 terminated but orders are not filled, 5 paused, 6 untriggered. */
export type StrategyStatus = 2 | 3 | 4 | 5 | 6;

/** A strategy to seed (as `POST /v5/strategy/create` would make it, or in any status). */
export interface StrategySeed {
  category: StrategyCategory;
  symbol: string;
  strategyType: StrategyType;
  side?: 'Buy' | 'Sell';
  /** Total quantity; default "1". */
  size?: string;
  /** Default 6 (untriggered) with a `triggerPrice`, else 2 (running). 3 and 4 seed history. */
  status?: StrategyStatus;
  triggerPrice?: string;
  /** The market price at creation, from which the trigger is reached (see Emulator.setLastPrice). */
  lastPrice?: string;
  /** Seconds between sub-orders: TWAP default 30, chase 1 (it reprices every second), POV 30; iceberg none. */
  interval?: number;
  /** Seconds a TWAP or POV runs (default 3600); 0 none. */
  duration?: number;
  /** A child cancelled by someone else is placed again this much later (default 1000 ms). */
  replaceAfterMs?: number;
  /** How often one sub-order is placed again after such a cancel: TWAP "retried once" by default, others always. */
  retries?: number;
  createdTime?: number;
  strategyId?: string;
  /** Overrides the children's createType (default per type, from docs/v5/enum.mdx). */
  childCreateType?: string;
}

export interface EmulatedStrategy {
  strategyId: string;
  uid: string;
  category: StrategyCategory;
  symbol: string;
  side: string;
  size: string;
  strategyType: StrategyType;
  status: StrategyStatus;
  triggerPrice: string;
  isTriggered: boolean;
  interval: number;
  duration: number;
  executedSize: string;
  createdTime: number;
  updatedTime: number;
  executedStartTime: number;
  executedEndTime: number;
  terminateType: number;
  terminateRemark: string;
  /** The orders it placed, oldest first. */
  children: string[];
}

/**
 * Answer variants Bybit really sends, each one the docs admit. Defaults are the current documented shapes.
 */
export interface AnswerShapes {
  /**
   * `stopOrderType` on plain orders: `""` (default), or `"UNKNOWN"` as the open-order example sends it
   * (docs/v5/order/open-order.mdx; enum.mdx: UNKNOWN "is only used in some responses").
   */
  plainStopOrderType?: '' | 'UNKNOWN';
  /**
   * Spot cancel-all: `list` (default, `{list, success}`), or `successOnly` (`{success: "1"}`, the documented spot
   * answer until 2024-02, recorded from Bybit).
   */
  spotCancelAll?: 'list' | 'successOnly';
  /**
   * The strategy list's integers: `strings` as the docs' example sends the `…E3` times and counts (default),
   * `numbers` as its table types them (int64).
   */
  strategyIntegers?: 'strings' | 'numbers';
}

export type FaultKind =
  | 'http5xx'
  | 'reset'
  | 'timeout'
  | 'rateLimit'
  | 'clockSkew'
  | 'invalidKey'
  | 'serverError'
  | 'processing'
  | 'malformed';

/** Each request is faulted with probability `rate`, the kind drawn uniformly from `kinds`, from a PRNG seeded by `seed`. */
export interface FaultPlan {
  rate: number;
  kinds: FaultKind[];
  seed?: number;
  paths?: string[];
}

/**
 * A cancel of a matching order is acknowledged but the order stays open. `times` is how many cancels it
 * survives: default Infinity for `orderIds`, 1 for orders picked by `rate`.
 */
export interface SurvivorPlan {
  rate?: number;
  orderIds?: string[];
  times?: number;
  seed?: number;
}

export type RateLimitedEndpoint =
  | 'cancel'
  | 'cancel-all'
  | 'cancel-batch'
  | 'realtime'
  | 'query-api'
  | 'strategy-create'
  | 'strategy-list'
  | 'strategy-stop'
  | 'sub-apikeys'
  | 'update-sub-api'
  | 'create';

export type RateLimits =
  | number
  | Partial<Record<RateLimitedEndpoint, number | Partial<Record<Category, number>>>>;

import type { IpLimit } from './ip-limit.ts';

export type { IpLimit };

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  accounts?: EmulatorAccount[];
  latencyMs?: number;
  /** Overrides of the documented default limits. */
  rateLimits?: RateLimits;
  clockSkewMs?: number;
  /** Bybit's IP limit over every key (600 per 5 s by default); past it 403 and a ban until reset(). `false`: off. */
  ipLimit?: IpLimit | false;
  /** How long a 'timeout' fault holds a request before closing it. Default 30000. */
  timeoutHoldMs?: number;
  seed?: number;
  /** Answer variants (see AnswerShapes); the documented current shapes by default. */
  shapes?: AnswerShapes;
}

export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  apiKey?: string;
  uid?: string;
  category?: string;
  settleCoin?: string;
  /** 0 when no HTTP answer was sent ('reset', 'timeout', or the emulator closed first). */
  httpStatus: number;
  retCode?: number;
  fault?: FaultKind;
  batchSize?: number;
  /** The sub-account key an update-sub-api names (`apikey`). */
  subApiKey?: string;
  /** Orders a cancel-all cancelled. */
  cancelled?: number;
}

/** A key's settings as the exchange holds them now (what update-sub-api changes). */
export interface EmulatorKeyView {
  uid: string;
  parentUid?: string;
  readOnly: boolean;
  ips: string[];
  permissions: Record<string, string[]>;
  /** Epoch ms; absent when the key does not expire. */
  expiresAt?: number;
}

export interface Emulator {
  readonly url: string;
  readonly port: number;
  addAccount(account: EmulatorAccount): void;
  addOrders(apiKey: string, seeds: OrderSeed[]): EmulatedOrder[];
  openOrders(apiKey?: string, filter?: { category?: Category; symbol?: string }): EmulatedOrder[];
  setFaults(plan: FaultPlan | null): void;
  failNext(kind: FaultKind, count?: number, path?: string): void;
  setSurvivors(plan: SurvivorPlan | null): void;
  /** Any order by id, open or closed (what a by-id read would show, without the 500-record window). */
  order(orderId: string): EmulatedOrder | undefined;
  /** A trade against an open order now: `qty` (default: all that is left); all of it makes the order Filled. */
  fillOrder(orderId: string, qty?: string): EmulatedOrder;
  /**
   * The next single cancel of this order arrives just after a trade of `qty` (default: all that is left): a fill
   * that wins the race, so a full fill makes the cancel answer "not found", a partial one leaves it to cancel.
   */
  fillBeforeCancel(orderId: string, qty?: string): void;
  /** Acknowledged cancels take effect `ms` later (default 0); until then the order reads back as open. */
  setCancelDelay(ms: number): void;
  setLatency(ms: number): void;
  setClockSkew(ms: number): void;
  setRateLimits(limits: RateLimits | undefined): void;
  /** Changes the IP limit (until reset()); `false` turns it off. */
  setIpLimit(limit: IpLimit | false | undefined): void;
  /** When the IP limit banned this run's IP (epoch ms), if it did. */
  readonly ipBannedAt: number | undefined;
  /** Lists `symbol` as a pre-market linear contract in an auction phase (`docs/v5/enum.mdx`, curAuctionPhase). */
  setAuctionPhase(symbol: string, phase: string): void;
  revokeKey(apiKey: string): void;
  /** Changes what a key may do, from now on (an expiry counts from now). */
  setKey(apiKey: string, settings: EmulatorKeySettings): void;
  /** A key's settings now (a copy). */
  keySettings(apiKey: string): EmulatorKeyView;
  /** Calls `listener` with each request's record as it arrives, before it is answered; returns the unsubscribe. */
  onRequest(listener: (record: RequestRecord) => void): () => void;
  readonly requests: RequestRecord[];
  resetRequests(): void;
  /** Switches answer variants (until reset()). */
  setShapes(shapes: AnswerShapes): void;
  /** Seeds strategies; a running one places its first child at once. */
  addStrategies(apiKey: string, seeds: StrategySeed[]): EmulatedStrategy[];
  /** Every strategy of a key's UID (or everyone's), played forward to now. */
  strategies(apiKey?: string): EmulatedStrategy[];
  /** The market trades at `price` (tickers, the rules an order must keep): untriggered strategies whose trigger it reaches start running. */
  setLastPrice(symbol: string, price: number): void;
  pauseStrategy(strategyId: string): void;
  resumeStrategy(strategyId: string): void;
  /** Stops are refused with `ret` (default 60072 "Strategy status modify failed"), for these ids or all; null clears. */
  refuseStops(plan: { strategyIds?: string[]; ret?: { retCode: number; retMsg: string } } | null): void;
  /** Acknowledged stops take effect `ms` later (default 0); until then the strategy keeps running. */
  setStopDelay(ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

export const CATEGORIES: readonly Category[] = ['linear', 'inverse', 'spot', 'option'];

export const ORDER_KINDS: readonly OrderKind[] = [
  'Order',
  'StopOrder',
  'tpslOrder',
  'OcoOrder',
  'BidirectionalTpslOrder',
];

export const FAULT_KINDS: readonly FaultKind[] = [
  'http5xx',
  'reset',
  'timeout',
  'rateLimit',
  'clockSkew',
  'invalidKey',
  'serverError',
  'processing',
  'malformed',
];

export function isCategory(value: unknown): value is Category {
  return CATEGORIES.includes(value as Category);
}

export function isOrderKind(value: unknown): value is OrderKind {
  return ORDER_KINDS.includes(value as OrderKind);
}
