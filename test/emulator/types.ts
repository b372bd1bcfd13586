/** The emulator's public types: tests, the local demo and benchmarks code against these. */

export type Category = 'linear' | 'inverse' | 'spot' | 'option';

export type OrderKind = 'Order' | 'StopOrder' | 'tpslOrder' | 'OcoOrder' | 'BidirectionalTpslOrder';

/** An API key of one UID: HMAC (`apiSecret`) or RSA (`publicKeyPem`, SPKI PEM). */
export interface EmulatorAccount {
  uid: string;
  apiKey: string;
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
  /** Executed so far; default "0", or half of `qty` for a PartiallyFilled seed. */
  cumExecQty?: string;
  stopOrderType?: string;
  baseCoin?: string;
  settleCoin?: string;
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
  cumExecQty: string;
  stopOrderType: string;
  createdTime: number;
  updatedTime: number;
  uid: string;
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

export type RateLimitedEndpoint = 'cancel' | 'cancel-all' | 'cancel-batch' | 'realtime' | 'query-api';

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
  /** Orders a cancel-all cancelled. */
  cancelled?: number;
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
  readonly requests: RequestRecord[];
  resetRequests(): void;
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
