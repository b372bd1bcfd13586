// Client-side pacing, so that a burst (a sweep, a kill switch) stays inside the exchange's per-UID limits
// instead of running into 10006. Each (endpoint, category group) has a rolling one-second window; it starts
// from Bybit's documented default and follows the `X-Bapi-Limit*` headers of every answer, which also
// account for requests other processes make with the same key.

import { DeadlineExceededError } from '../errors.ts';
import type { Category, Endpoint } from './types.ts';

const WINDOW_MS = 1000;
/** Slack for the exchange receiving a request later than we stamped it. */
const SAFETY_MS = 20;
/**
 * What the `X-Bapi-Limit*` headers can plausibly say. A window is one second, so its reset is never more than a
 * window (plus clock skew) away, and no tier Bybit publishes comes near this many requests per second. A header
 * beyond these bounds (a proxy's, a bug's, an attacker's) must neither allocate without limit nor stall the
 * next invocation of a warm container.
 */
const MAX_LIMIT = 5000;
const MAX_RESET_AHEAD_MS = 2 * WINDOW_MS;

/** Bybit's default per-UID limits (requests, or for batches orders, per second). */
const DEFAULT_LIMITS: Record<Endpoint, Record<Category, number>> = {
  cancel: { linear: 10, inverse: 10, option: 10, spot: 20 },
  'cancel-all': { linear: 10, inverse: 10, option: 1, spot: 20 },
  'cancel-batch': { linear: 10, inverse: 10, option: 10, spot: 20 },
  realtime: { linear: 50, inverse: 50, option: 50, spot: 50 },
  time: { linear: 50, inverse: 50, option: 50, spot: 50 },
  // docs/v5/rate-limit/rate-limit.mdx: /v5/user/query-api 10 req/s, whatever the category.
  'query-api': { linear: 10, inverse: 10, option: 10, spot: 10 },
  instruments: { linear: 50, inverse: 50, option: 50, spot: 50 },
  // Public market data, like instruments-info: the IP limit is what binds (the fire drill reads it).
  tickers: { linear: 50, inverse: 50, option: 50, spot: 50 },
  // rate-limit.mdx: /v5/strategy/list 200/s and /v5/strategy/stop 100/s, the same in every column.
  'strategy-list': { linear: 200, inverse: 200, option: 200, spot: 200 },
  'strategy-stop': { linear: 100, inverse: 100, option: 100, spot: 100 },
  // docs/v5/rate-limit/rate-limit.mdx, "User": sub-apikeys 10 req/s, update-sub-api 5 req/s (the master's UID).
  'sub-apikeys': { linear: 10, inverse: 10, option: 10, spot: 10 },
  'update-sub-api': { linear: 5, inverse: 5, option: 5, spot: 5 },
  // The same table, "Trade": /v5/order/create 10/s for futures and option, 20/s for spot.
  create: { linear: 10, inverse: 10, option: 10, spot: 20 },
};

/** Endpoints with one window whatever the category (strategies and API keys take no order category at all). */
const UNCATEGORISED = new Set<Endpoint>([
  'realtime',
  'time',
  'query-api',
  'strategy-list',
  'strategy-stop',
  'sub-apikeys',
  'update-sub-api',
]);

export interface LimitHeaders {
  limit?: number;
  remaining?: number;
  resetAt?: number;
}

/** The headers clamped to what Bybit can plausibly send; an implausible value is dropped or bounded. */
export function plausibleLimits({ limit, remaining, resetAt }: LimitHeaders, now: number): LimitHeaders {
  const bounded = (value: number | undefined, min: number, max: number) =>
    value === undefined || !Number.isFinite(value) ? undefined : Math.min(max, Math.max(min, value));
  // A limit below one request is no limit Bybit announces (a proxy's header, say): ignore it, never adopt 1.
  const cap = limit !== undefined && limit >= 1 ? bounded(limit, 1, MAX_LIMIT) : undefined;
  return {
    limit: cap === undefined ? undefined : Math.floor(cap),
    remaining: bounded(remaining, 0, cap ?? MAX_LIMIT),
    resetAt: bounded(resetAt, now, now + MAX_RESET_AHEAD_MS),
  };
}

/** What one request uses of a window: released when the exchange has answered. */
export interface Ticket {
  readonly key: string;
  readonly cost: number;
}

interface Window {
  limit: number;
  /** When each used unit frees up (ms); Infinity while its request is still in flight. */
  frees: number[];
}

export interface PacerOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class RateLimitPacer {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: PacerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The window key: linear and inverse share futures limits; open-order queries share one budget. */
  static key(endpoint: Endpoint, category: Category): string {
    if (UNCATEGORISED.has(endpoint)) return endpoint;
    return `${endpoint}:${category === 'inverse' ? 'linear' : category}`;
  }

  /** How many units the window holds (batch requests should not exceed it). */
  capacity(endpoint: Endpoint, category: Category): number {
    return this.window(endpoint, category).limit;
  }

  /** Waits until `cost` units are free, then takes them. Throws if that would pass the deadline. */
  async acquire(endpoint: Endpoint, category: Category, cost: number, deadline: number): Promise<Ticket> {
    const key = RateLimitPacer.key(endpoint, category);
    const window = this.window(endpoint, category);
    // A request larger than the whole window waits for an empty window; the exchange fails the excess items.
    const need = Math.min(cost, window.limit);
    for (;;) {
      const now = this.now();
      window.frees = window.frees.filter((t) => t > now);
      if (window.frees.length + need <= window.limit) {
        for (let i = 0; i < cost; i++) window.frees.push(Number.POSITIVE_INFINITY);
        return { key, cost };
      }
      const sorted = [...window.frees].sort((a, b) => a - b);
      const waitUntil = sorted[window.frees.length + need - window.limit - 1] ?? now;
      // Slots of in-flight requests have no release time yet: poll until an answer settles them.
      const wake = Number.isFinite(waitUntil) ? waitUntil : now + 10;
      if (wake >= deadline) throw new DeadlineExceededError(`${endpoint} (paced)`);
      await this.sleep(Math.max(1, wake - now));
    }
  }

  /** Settles a ticket once the exchange has answered (or the request failed), then applies the headers. */
  release(ticket: Ticket, headers: LimitHeaders = {}): void {
    const window = this.windows.get(ticket.key);
    if (!window) return;
    // The exchange has now counted the request: its units free up one window after this moment at the latest.
    const freesAt = this.now() + WINDOW_MS + SAFETY_MS;
    for (let i = 0; i < ticket.cost; i++) {
      const inFlight = window.frees.indexOf(Number.POSITIVE_INFINITY);
      if (inFlight >= 0) window.frees[inFlight] = freesAt;
    }
    this.observe(window, headers);
  }

  private observe(window: Window, headers: LimitHeaders): void {
    const now = this.now();
    const { limit, remaining, resetAt } = plausibleLimits(headers, now);
    if (limit !== undefined) window.limit = limit;
    if (remaining === undefined) return;
    window.frees = window.frees.filter((t) => t > now);
    // The exchange counts more than we sent: someone else uses this key. Hold the difference until its reset.
    const unseen = Math.min(window.limit, window.limit - remaining - window.frees.length);
    if (unseen > 0) {
      const until = (resetAt !== undefined && resetAt > now ? resetAt : now + WINDOW_MS) + SAFETY_MS;
      for (let i = 0; i < unseen; i++) window.frees.push(until);
    }
  }

  private window(endpoint: Endpoint, category: Category): Window {
    const key = RateLimitPacer.key(endpoint, category);
    let window = this.windows.get(key);
    if (!window) {
      window = { limit: DEFAULT_LIMITS[endpoint][category], frees: [] };
      this.windows.set(key, window);
    }
    return window;
  }
}
