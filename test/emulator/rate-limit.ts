import type { Category, RateLimitedEndpoint, RateLimits } from './types.ts';

const WINDOW_MS = 1000;

// Bybit's default tier (docs/v5/rate-limit): per UID, per endpoint, rolling one second.
const DEFAULT_LIMITS: Record<RateLimitedEndpoint, Record<Category, number>> = {
  cancel: { linear: 10, inverse: 10, option: 10, spot: 20 },
  'cancel-all': { linear: 10, inverse: 10, option: 1, spot: 20 },
  'cancel-batch': { linear: 10, inverse: 10, option: 10, spot: 20 },
  realtime: { linear: 50, inverse: 50, option: 50, spot: 50 },
  'query-api': { linear: 10, inverse: 10, option: 10, spot: 10 },
  // The strategy rows give one figure for inverse/linear and spot (option: "-"): one budget per UID.
  'strategy-create': { linear: 100, inverse: 100, option: 100, spot: 100 },
  'strategy-list': { linear: 200, inverse: 200, option: 200, spot: 200 },
  'strategy-stop': { linear: 100, inverse: 100, option: 100, spot: 100 },
  // "User": sub-apikeys 10 req/s, update-sub-api 5 req/s; "Trade": create 10/s (futures, option), 20/s spot.
  'sub-apikeys': { linear: 10, inverse: 10, option: 10, spot: 10 },
  'update-sub-api': { linear: 5, inverse: 5, option: 5, spot: 5 },
  create: { linear: 10, inverse: 10, option: 10, spot: 20 },
};

/** Endpoints with one budget per UID whatever the category. */
const SHARED = new Set<RateLimitedEndpoint>([
  'realtime',
  'query-api',
  'strategy-create',
  'strategy-list',
  'strategy-stop',
  'sub-apikeys',
  'update-sub-api',
]);

/** What the `X-Bapi-Limit*` headers report. */
export interface RateStatus {
  limit: number;
  remaining: number;
  /** When the window next frees a unit (now, when nothing is in use). */
  resetAt: number;
}

export interface Grant extends RateStatus {
  granted: number;
}

/**
 * Which requests share one budget. The docs' table spans linear and inverse with one cell (one budget), and
 * realtime with one cell across all four categories.
 */
function bucket(endpoint: RateLimitedEndpoint, category: Category): string {
  if (SHARED.has(endpoint)) return 'all';
  return category === 'inverse' ? 'linear' : category;
}

/** Rolling-window budgets; each unit spent is a timestamp that frees itself a second later. */
export class RateLimiter {
  #windows = new Map<string, number[]>();
  #overrides: RateLimits | undefined;

  constructor(overrides?: RateLimits) {
    this.#overrides = overrides;
  }

  setLimits(overrides: RateLimits | undefined): void {
    this.#overrides = overrides;
  }

  limitFor(endpoint: RateLimitedEndpoint, category: Category): number {
    const overrides = this.#overrides;
    if (typeof overrides === 'number') return overrides;
    const entry = overrides?.[endpoint];
    if (typeof entry === 'number') return entry;
    return entry?.[category] ?? DEFAULT_LIMITS[endpoint][category];
  }

  /** Spends up to `units` (fewer when the budget runs out) and reports what is left. */
  take(uid: string, endpoint: RateLimitedEndpoint, category: Category, units: number, now: number): Grant {
    const window = this.#window(uid, endpoint, category, now);
    const limit = this.limitFor(endpoint, category);
    const granted = Math.max(0, Math.min(units, limit - window.length));
    for (let i = 0; i < granted; i++) window.push(now);
    return { granted, ...status(window, limit, now) };
  }

  /** The budget's state without spending from it. */
  peek(uid: string, endpoint: RateLimitedEndpoint, category: Category, now: number): RateStatus {
    return status(this.#window(uid, endpoint, category, now), this.limitFor(endpoint, category), now);
  }

  clear(): void {
    this.#windows.clear();
  }

  #window(uid: string, endpoint: RateLimitedEndpoint, category: Category, now: number): number[] {
    const key = `${uid}\u0000${endpoint}\u0000${bucket(endpoint, category)}`;
    const window = (this.#windows.get(key) ?? []).filter((at) => at > now - WINDOW_MS);
    this.#windows.set(key, window);
    return window;
  }
}

function status(window: number[], limit: number, now: number): RateStatus {
  const oldest = window[0];
  return {
    limit,
    remaining: Math.max(0, limit - window.length),
    resetAt: oldest === undefined ? now : oldest + WINDOW_MS,
  };
}
