// Bybit's strategy orders (TWAP, chase, iceberg, POV), as docs/v5/strategy/*.mdx describe them: a strategy
// places its own orders ("children", createType set) until it ends, and only `POST /v5/strategy/stop` ends it
// early. Time moves lazily: before every request (and every test read) `advance` plays what happened since
// the last one, at the times it happened, so runs are deterministic and need no timers.

import { randomUUID } from 'node:crypto';
import { decimal, isOpen, type OrderBook, type StoredOrder } from './orders.ts';
import type { Ret } from './responses.ts';
import { deriveCoins } from './symbols.ts';
import type {
  Category,
  EmulatedStrategy,
  StrategyCategory,
  StrategySeed,
  StrategyStatus,
  StrategyType,
} from './types.ts';

export const STRATEGY_CATEGORIES: readonly StrategyCategory[] = [
  'UTA_USDT',
  'UTA_USDC',
  'UTA_USDC_FUTURE',
  'UTA_SPOT',
  'UTA_INVERSE',
  'UTA_INVERSE_FUTURE',
  'UTA_USDT_FUTURE',
];
export const STRATEGY_TYPES: readonly StrategyType[] = ['twap', 'chaseOrder', 'iceberg', 'pov'];

/** The order category each strategy category trades in (create-strategy.mdx: "USDT Perpetual", "Spot", …). */
export const ORDER_CATEGORY: Record<StrategyCategory, Category> = {
  UTA_USDT: 'linear',
  UTA_USDC: 'linear',
  UTA_USDC_FUTURE: 'linear',
  UTA_USDT_FUTURE: 'linear',
  UTA_SPOT: 'spot',
  UTA_INVERSE: 'inverse',
  UTA_INVERSE_FUTURE: 'inverse',
};

/**
 * The children's createType (docs/v5/enum.mdx): `CreateByTWAP` "Order created by TWAP", `CreateByChaseOrder`
 * "Chase limit order", `CreateByIceBerg` "Order created by Ice berg strategy". The enum names none for POV
 * (added 2026-05-26): its children say `UNKNOWN`, as Bybit answers for values its enums lack.
 */
export const CHILD_CREATE_TYPE: Record<StrategyType, string> = {
  twap: 'CreateByTWAP',
  chaseOrder: 'CreateByChaseOrder',
  iceberg: 'CreateByIceBerg',
  pov: 'UNKNOWN',
};

/** strategy-list.mdx: "`3`: terminated, `4`: terminated but orders are not filled". */
const TERMINAL = new Set<StrategyStatus>([3, 4]);
/** create-strategy.mdx, TWAP: `interval` "`30`(default)". */
const TWAP_DEFAULT_INTERVAL_S = 30;
/** create-strategy.mdx, Chase: "The order price updates every second." */
const CHASE_REPRICE_S = 1;
/** A child cancelled by someone else is placed again this much later, unless the seed says otherwise. */
const DEFAULT_REPLACE_AFTER_MS = 1000;
/** Events one `advance` plays per strategy at most: a guard against a seed that would loop for ever. */
const MAX_EVENTS = 100_000;

/** A strategy plus what the emulator needs to play it forward. */
interface StoredStrategy extends EmulatedStrategy {
  seq: number;
  orderCategory: Category;
  childCreateType: string;
  subSize: string;
  /** Interval between sub-orders, ms; Infinity when the next comes only on a fill (iceberg) or never. */
  intervalMs: number;
  replaceAfterMs: number;
  retries: number;
  retriesLeft: number;
  /** The child working now, if any. */
  current?: string;
  nextAt: number;
  retryAt?: number;
  /** When a TWAP or POV runs out of `duration`. */
  endAt: number;
  /** An acknowledged stop that lands later (setStopDelay). */
  stopAt?: number;
  /** The price an untriggered strategy measures its trigger from. */
  referencePrice?: number;
}

export type StopOutcome = { ok: true } | Ret;

export class StrategyBook {
  readonly #book: OrderBook;
  #byId = new Map<string, StoredStrategy>();
  #seq = 0;
  #lastPrice = new Map<string, number>();
  #refusals: { strategyIds?: string[]; ret: Ret } | undefined;
  /** Acknowledged stops take effect this much later (0: at once). */
  stopDelayMs = 0;

  constructor(book: OrderBook) {
    this.#book = book;
  }

  /** Adds strategies; a running one places its first child now, an untriggered one waits for its trigger. */
  add(uid: string, seeds: StrategySeed[], now: number): StoredStrategy[] {
    return seeds.map((seed) => {
      const strategy = this.#fromSeed(uid, seed, now);
      if (this.#byId.has(strategy.strategyId)) throw new Error(`duplicate strategyId ${strategy.strategyId}`);
      this.#byId.set(strategy.strategyId, strategy);
      this.#play(strategy, now);
      return strategy;
    });
  }

  /** Every strategy of a UID (or of everyone), in creation order. */
  strategiesOf(uid?: string): StoredStrategy[] {
    return [...this.#byId.values()].filter((s) => uid === undefined || s.uid === uid);
  }

  byId(strategyId: string): StoredStrategy | undefined {
    return this.#byId.get(strategyId);
  }

  /** Plays every strategy forward to `now`. */
  advance(now: number): void {
    for (const strategy of this.#byId.values()) this.#play(strategy, now);
  }

  /**
   * The market trades at `price`: untriggered strategies on `symbol` whose trigger it reaches start
   * (create-strategy.mdx, `triggerPrice`: "Strategy activates when the market price reaches this value").
   */
  setLastPrice(symbol: string, price: number, now: number): void {
    this.advance(now);
    for (const s of this.#byId.values()) {
      if (s.symbol !== symbol || s.status !== 6) continue;
      const trigger = Number(s.triggerPrice);
      const from = s.referencePrice;
      const reached =
        from === undefined ? price === trigger : from <= trigger ? price >= trigger : price <= trigger;
      if (!reached) {
        s.referencePrice = price;
        continue;
      }
      s.status = 2;
      s.isTriggered = true;
      this.#start(s, now);
    }
    this.#lastPrice.set(symbol, price);
    this.advance(now);
  }

  /** A running strategy pauses (iceberg's price limit: "pause if the price rises above it"): it places nothing. */
  pause(strategyId: string, now: number): void {
    const s = this.#known(strategyId);
    this.#play(s, now);
    if (s.status !== 2) throw new Error(`strategy ${strategyId} is not running (status ${s.status})`);
    s.status = 5;
    s.retryAt = undefined;
    s.updatedTime = now;
  }

  /** A paused strategy runs again and places its next sub-order at once. */
  resume(strategyId: string, now: number): void {
    const s = this.#known(strategyId);
    this.#play(s, now);
    if (s.status !== 5) throw new Error(`strategy ${strategyId} is not paused (status ${s.status})`);
    s.status = 2;
    s.nextAt = now;
    s.updatedTime = now;
    this.#play(s, now);
  }

  /** Stops of these strategies (all, without ids) are refused with `ret` until cleared. */
  refuseStops(plan: { strategyIds?: string[]; ret: Ret } | null): void {
    this.#refusals = plan ? { ...plan, strategyIds: plan.strategyIds && [...plan.strategyIds] } : undefined;
  }

  /**
   * `POST /v5/strategy/stop` (stop-strategy.mdx): "Once stopped, the strategy cannot be resumed"; "Strategy
   * status changes to `Terminated`", "Unfilled orders are automatically canceled", "Partially filled orders
   * have their remaining quantity canceled". Codes from docs/v5/error.mdx ("Strategy"): 60065 "Strategy
   * not found", 60062 "Strategy has been terminated"; a refusal planned by a test answers what it says.
   */
  stop(uid: string, strategyId: string, now: number): StopOutcome {
    const s = this.#byId.get(strategyId);
    if (!s || s.uid !== uid) return { retCode: 60065, retMsg: 'Strategy not found' };
    if (TERMINAL.has(s.status)) return { retCode: 60062, retMsg: 'Strategy has been terminated' };
    const refusal = this.#refusals;
    if (refusal && (!refusal.strategyIds || refusal.strategyIds.includes(strategyId))) return refusal.ret;
    if (this.stopDelayMs > 0) {
      s.stopAt = Math.min(s.stopAt ?? Number.POSITIVE_INFINITY, now + this.stopDelayMs);
      return { ok: true };
    }
    this.#terminate(s, now, 1, 'UserStop');
    return { ok: true };
  }

  clear(): void {
    this.#byId.clear();
    this.#lastPrice.clear();
    this.#refusals = undefined;
    this.stopDelayMs = 0;
  }

  #known(strategyId: string): StoredStrategy {
    const s = this.#byId.get(strategyId);
    if (!s) throw new Error(`unknown strategyId ${strategyId}`);
    return s;
  }

  /** Plays one strategy's events (pending stop, end of duration, retry, next sub-order) up to `now`, in time order. */
  #play(s: StoredStrategy, now: number): void {
    for (let events = 0; events < MAX_EVENTS; events++) {
      if (TERMINAL.has(s.status)) return;
      if (s.status === 2) this.#noteClosedChild(s);
      if (TERMINAL.has(s.status)) return;
      const running = s.status === 2;
      const stopAt = s.stopAt ?? Number.POSITIVE_INFINITY;
      const at = running
        ? Math.min(s.retryAt ?? Number.POSITIVE_INFINITY, s.nextAt, s.endAt, stopAt)
        : stopAt;
      if (at > now) return;
      if (at === stopAt) {
        this.#terminate(s, at, 1, 'UserStop');
        return;
      }
      if (at === s.endAt) {
        // create-strategy.mdx, TWAP: `duration` "Total execution duration"; POV repeats "until … `maxDuration`
        // (`duration`) expires".
        this.#terminate(s, at, 2, 'RunningStop');
        return;
      }
      if (at === s.retryAt) {
        s.retryAt = undefined;
        this.#place(s, at);
        continue;
      }
      // The next sub-order. TWAP: "Sub-orders that fail to fill are retried once; if unsuccessful, they are
      // canceled and the strategy continues"; chase: "The order price updates every second" (a new order).
      this.#cancelCurrent(s, at);
      this.#place(s, at);
      s.retriesLeft = s.retries;
      s.nextAt = at + s.intervalMs;
    }
  }

  /** The working child closed: a fill counts (and may finish the strategy), a cancel by someone else is retried. */
  #noteClosedChild(s: StoredStrategy): void {
    const child = s.current === undefined ? undefined : this.#book.byId(s.current);
    if (!child || isOpen(child)) return;
    s.current = undefined;
    s.executedSize = String(decimal(Number(s.executedSize) + Number(child.cumExecQty)));
    if (child.orderStatus === 'Filled') {
      if (Number(s.executedSize) >= Number(s.size)) {
        this.#terminate(s, child.updatedTime, 2, 'RunningStop');
        return;
      }
      // Iceberg: "upon fill, the next sub-order is automatically placed"; the others wait for their interval.
      if (s.strategyType === 'iceberg') s.retryAt = child.updatedTime;
      return;
    }
    if (s.retriesLeft <= 0) return;
    s.retriesLeft--;
    s.retryAt = child.updatedTime + s.replaceAfterMs;
  }

  #place(s: StoredStrategy, at: number): void {
    const [child] = this.#book.add(
      s.uid,
      [
        {
          category: s.orderCategory,
          symbol: s.symbol,
          qty: s.subSize,
          createType: s.childCreateType,
          createdTime: at,
        },
      ],
      at,
    );
    const placed = child as StoredOrder;
    s.current = placed.orderId;
    s.children.push(placed.orderId);
    s.updatedTime = at;
  }

  #cancelCurrent(s: StoredStrategy, at: number): void {
    const child = s.current === undefined ? undefined : this.#book.byId(s.current);
    if (child && isOpen(child)) {
      this.#book.markCancelled(child, at);
      s.executedSize = String(decimal(Number(s.executedSize) + Number(child.cumExecQty)));
    }
    s.current = undefined;
  }

  /**
   * The strategy ends: its open children are cancelled and it reads `3` from then on. The pages do not say
   * when Bybit reports `4` ("terminated but orders are not filled") instead: the emulator only seeds it.
   */
  #terminate(s: StoredStrategy, at: number, terminateType: number, terminateRemark: string): void {
    this.#cancelCurrent(s, at);
    for (const id of s.children) {
      const order = this.#book.byId(id);
      if (order && isOpen(order)) this.#book.markCancelled(order, at);
    }
    s.status = 3;
    s.terminateType = terminateType;
    s.terminateRemark = terminateRemark;
    s.executedEndTime = at;
    s.updatedTime = at;
    s.retryAt = undefined;
    s.stopAt = undefined;
  }

  /** Running from `at`: the first sub-order now, the end `duration` later. */
  #start(s: StoredStrategy, at: number): void {
    s.executedStartTime = at;
    s.nextAt = at;
    s.endAt = s.duration > 0 ? at + s.duration * 1000 : Number.POSITIVE_INFINITY;
    s.updatedTime = at;
  }

  #fromSeed(uid: string, seed: StrategySeed, now: number): StoredStrategy {
    if (!STRATEGY_CATEGORIES.includes(seed.category)) throw new Error(`unknown category ${seed.category}`);
    if (!STRATEGY_TYPES.includes(seed.strategyType)) throw new Error(`unknown type ${seed.strategyType}`);
    const orderCategory = ORDER_CATEGORY[seed.category];
    // Children are real orders: their coins must be derivable (or the seed names a symbol Bybit has not).
    deriveCoins(orderCategory, seed.symbol);
    const status: StrategyStatus = seed.status ?? (seed.triggerPrice ? 6 : 2);
    const type = seed.strategyType;
    const intervalS =
      seed.interval ??
      (type === 'twap'
        ? TWAP_DEFAULT_INTERVAL_S
        : type === 'chaseOrder'
          ? CHASE_REPRICE_S
          : type === 'pov'
            ? 30
            : 0);
    const duration = seed.duration ?? (type === 'twap' || type === 'pov' ? 3600 : 0);
    const size = seed.size ?? '1';
    const subOrders =
      type === 'twap' && intervalS > 0
        ? Math.max(1, Math.floor(duration / intervalS))
        : type === 'chaseOrder'
          ? 1
          : 5;
    const retries = seed.retries ?? (type === 'twap' ? 1 : Number.POSITIVE_INFINITY);
    const createdTime = seed.createdTime ?? now;
    const strategy: StoredStrategy = {
      strategyId: seed.strategyId ?? randomUUID(),
      uid,
      category: seed.category,
      symbol: seed.symbol,
      side: seed.side ?? 'Buy',
      size,
      strategyType: type,
      status,
      triggerPrice: seed.triggerPrice ?? '',
      isTriggered: false,
      interval: intervalS,
      duration,
      executedSize: '0',
      createdTime,
      updatedTime: createdTime,
      executedStartTime: 0,
      executedEndTime: 0,
      terminateType: TERMINAL.has(status) ? 2 : 0,
      terminateRemark: TERMINAL.has(status) ? 'RunningStop' : '',
      children: [],
      seq: ++this.#seq,
      orderCategory,
      childCreateType: seed.childCreateType ?? CHILD_CREATE_TYPE[type],
      subSize: String(decimal(Number(size) / subOrders)),
      intervalMs: intervalS > 0 ? intervalS * 1000 : Number.POSITIVE_INFINITY,
      replaceAfterMs: seed.replaceAfterMs ?? DEFAULT_REPLACE_AFTER_MS,
      retries,
      retriesLeft: retries,
      nextAt: Number.POSITIVE_INFINITY,
      endAt: Number.POSITIVE_INFINITY,
      referencePrice:
        seed.lastPrice !== undefined ? Number(seed.lastPrice) : this.#lastPrice.get(seed.symbol),
    };
    // A seeded history is not replayed: a running strategy starts working now, whatever its creation time.
    if (status === 2) this.#start(strategy, Math.max(createdTime, now));
    return strategy;
  }
}

/** A copy without internal fields. */
export function strategySnapshot(s: StoredStrategy): EmulatedStrategy {
  const {
    seq: _seq,
    orderCategory: _category,
    childCreateType: _createType,
    subSize: _subSize,
    intervalMs: _intervalMs,
    replaceAfterMs: _replaceAfterMs,
    retries: _retries,
    retriesLeft: _retriesLeft,
    current: _current,
    nextAt: _nextAt,
    retryAt: _retryAt,
    endAt: _endAt,
    stopAt: _stopAt,
    referencePrice: _referencePrice,
    ...rest
  } = s;
  return { ...rest, children: [...rest.children] };
}

export type { StoredStrategy };
