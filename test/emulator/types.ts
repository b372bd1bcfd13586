/** The emulator's public types: tests, the local demo and benchmarks code against these. */

export type Category = 'linear' | 'inverse' | 'spot' | 'option';

export type OrderKind = 'Order' | 'StopOrder' | 'tpslOrder' | 'OcoOrder' | 'BidirectionalTpslOrder';

/** An API key of one UID: HMAC (`apiSecret`) or RSA (`publicKeyPem`, SPKI PEM). */
export interface EmulatorAccount {
  uid: string;
  apiKey: string;
  apiSecret?: string;
  publicKeyPem?: string;
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

export type RateLimitedEndpoint = 'cancel' | 'cancel-all' | 'cancel-batch' | 'realtime';

export type RateLimits =
  | number
  | Partial<Record<RateLimitedEndpoint, number | Partial<Record<Category, number>>>>;

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
  /** 0 when no HTTP answer was sent ('reset', 'timeout', or the emulator closed first). */
  httpStatus: number;
  retCode?: number;
  fault?: FaultKind;
  batchSize?: number;
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
  setLatency(ms: number): void;
  setClockSkew(ms: number): void;
  setRateLimits(limits: RateLimits | undefined): void;
  /** Lists `symbol` as a pre-market linear contract in an auction phase (`docs/v5/enum.mdx`, curAuctionPhase). */
  setAuctionPhase(symbol: string, phase: string): void;
  revokeKey(apiKey: string): void;
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
