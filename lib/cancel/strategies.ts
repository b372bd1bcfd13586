// What the exchange runs for its users, beyond their orders. Bybit's strategy orders (TWAP, iceberg, chase,
// POV; docs/v5/strategy/*.mdx) place their own orders ("children") until they end: a running one places a
// cancelled child again, an untriggered one holds no order until its trigger price is reached, a paused one
// can be resumed. Only `POST /v5/strategy/stop` ends one ("Once stopped, the strategy cannot be resumed").
// Bybit's bots (grid, DCA, martingale, combo; docs/v5/bot/*) close only by `bot_id`, and no endpoint lists
// them: their orders are cancelled like any order, and a person is told to close the bot.
//
// Per account, a kill switch's strategy phase: list what can still trade, stop each, list again, until the
// listing shows none (or every one left refused its stop for good, the list keeps failing, or the deadline
// nears). Order verification waits for it: a running strategy re-places its child after a cancel, so an
// empty order listing counts only once the strategies are stopped.

import type { BybitClient, CallOptions } from '../bybit/client.ts';
import { RetCode } from '../bybit/codes.ts';
import {
  type Category,
  type OpenOrder,
  STRATEGY_PAGE_LIMIT,
  STRATEGY_STATUS_NAMES,
  type Strategy,
  type StrategyCategory,
  type StrategyListParams,
} from '../bybit/types.ts';
import type { Clock } from '../clock.ts';
import { BybitApiError } from '../errors.ts';
import { describeError, type Fields } from '../log.ts';
import { isFinal, ROUND_PAUSE_MS } from './clear-scope.ts';
import { type Placer, placerOf } from './placers.ts';

/** strategy-list.mdx statuses that can still place an order: 2 running, 5 paused, 6 untriggered. */
export const LIVE_STATUSES = ['2', '5', '6'] as const;
/** 3 terminated, 4 terminated but orders are not filled. A status the docs do not name is taken as live. */
const ENDED_STATUSES = new Set([3, 4]);
/** Listings in a row that failed (each after the client's own retries) before the phase gives up. */
const MAX_FAILED_LISTINGS = 3;
/** Pages of one listing read before it is taken as endless (5,000 strategies). */
const MAX_PAGES = 100;
/** docs/v5/error.mdx ("Strategy"): the strategy had already ended; the listing confirms it. */
const ALREADY_ENDED = new Set<number>([RetCode.strategyTerminated, RetCode.strategyStopped]);

/** The order category a strategy trades in (create-strategy.mdx: "USDT Perpetual", "Spot", …). */
const ORDER_CATEGORY: Record<StrategyCategory, Category> = {
  UTA_USDT: 'linear',
  UTA_USDC: 'linear',
  UTA_USDC_FUTURE: 'linear',
  UTA_USDT_FUTURE: 'linear',
  UTA_SPOT: 'spot',
  UTA_INVERSE: 'inverse',
  UTA_INVERSE_FUTURE: 'inverse',
};

/** Whether a strategy can still place an order. */
export function canTrade(strategy: Strategy): boolean {
  return !ENDED_STATUSES.has(strategy.status);
}

/** The order category a strategy trades in; undefined for a category the docs do not name. */
export function orderCategoryOf(strategy: Strategy): Category | undefined {
  return Object.hasOwn(ORDER_CATEGORY, strategy.category)
    ? ORDER_CATEGORY[strategy.category as StrategyCategory]
    : undefined;
}

export function statusName(status: number): string {
  return Object.hasOwn(STRATEGY_STATUS_NAMES, status)
    ? (STRATEGY_STATUS_NAMES[status] as string)
    : `status ${status}`;
}

/** Runs one request; the drill passes its pacing gate. */
export type Send = <T>(work: () => Promise<T>) => Promise<T>;
const direct: Send = (work) => work();

/**
 * Every strategy that can still trade, in every category. Every filter of the list is optional
 * (strategy-list.mdx), so one listing with none covers every category and status: when it fits on one page
 * (50), that is the answer, in one request. A longer history is not paged through: what can still trade is
 * read by status instead (2, 5 and 6: `status` takes one value), every page of each.
 */
export async function liveStrategies(
  client: BybitClient,
  call: CallOptions,
  send: Send = direct,
): Promise<Strategy[]> {
  const first = await send(() => client.strategies({ pageSize: STRATEGY_PAGE_LIMIT }, call));
  const live = first.list.filter(canTrade);
  if (!first.nextCursor) return live;
  const byStatus = await Promise.all(LIVE_STATUSES.map((status) => allPages(client, { status }, call, send)));
  const seen = new Map(live.map((s) => [s.strategyId, s]));
  for (const s of byStatus.flat().filter(canTrade)) seen.set(s.strategyId, s);
  return [...seen.values()];
}

async function allPages(
  client: BybitClient,
  params: StrategyListParams,
  call: CallOptions,
  send: Send,
): Promise<Strategy[]> {
  const strategies: Strategy[] = [];
  let cursor = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await send(() =>
      client.strategies({ ...params, pageSize: STRATEGY_PAGE_LIMIT, ...(cursor ? { cursor } : {}) }, call),
    );
    strategies.push(...answer.list);
    if (!answer.nextCursor) return strategies;
    if (answer.nextCursor === cursor)
      throw new Error('strategy list: the exchange returned the same cursor twice');
    cursor = answer.nextCursor;
  }
  throw new Error(`strategy list: more than ${MAX_PAGES} pages`);
}

/** A strategy as a report names it. */
export interface StrategySummary {
  strategyId: string;
  strategyType: string;
  category: string;
  symbol: string;
  status: number;
  statusName: string;
}

/** A strategy that can still trade at the end, and why it was not stopped. */
export interface RemainingStrategy extends StrategySummary {
  why: string;
}

/** Orders a bot placed that the listings showed (they were cancelled like any other). */
export interface BotOrders {
  createType: string;
  bot: string;
  symbols: string[];
  orders: number;
}

/** One account's strategies in a kill switch: found, stopped, and still able to trade. */
export interface StrategyReport {
  account: string;
  /** Every strategy a listing showed able to trade. */
  found: StrategySummary[];
  /** Those whose stop the exchange acknowledged and that no listing shows able to trade any more. */
  stopped: StrategySummary[];
  /** Still able to trade in the last listing. */
  remaining: RemainingStrategy[];
  /** True when a listing after the last stop answered; false when it failed (then `remaining` may be stale). */
  verified: boolean;
  error?: Fields;
  botOrders?: BotOrders[];
}

/** A strategy phase under way: what order verification waits for. */
export interface StrategyPhase {
  /** Resolves once the first listing after the stops has answered (or failed), or at once when none was found. */
  ready: Promise<void>;
  /**
   * True when an empty order listing sent now is final: the phase is over, or no listing has shown a
   * strategy able to trade (none was found, or the list could not be read at all: that fails the run anyway).
   */
  readonly quiet: boolean;
  /** Resolves when the phase is over; never rejects. */
  done: Promise<void>;
  /** Orders a listing showed: bots among their placers are reported. */
  noteOrders(orders: readonly OpenOrder[]): void;
}

/**
 * One account's strategies over a kill switch. It outlives one client: after a key rotation the phase runs
 * again with the new key, and what was found and stopped before still counts.
 */
export class StrategyWatch {
  private readonly found = new Map<string, Strategy>();
  private readonly stopped = new Set<string>();
  /** The last failed stop of each strategy; final ones are not sent again. */
  private readonly refusals = new Map<string, { error: Error; final: boolean }>();
  private readonly bots = new Map<string, { placer: Placer; symbols: Set<string>; orders: Set<string> }>();
  private remaining: Strategy[] = [];
  private verified = false;
  private error: Error | undefined;
  private readonly categories: readonly Category[];

  /** `categories`: the order categories the run covers; a strategy of a category the docs do not name is always covered. */
  constructor(categories: readonly Category[]) {
    this.categories = categories;
  }

  /** Lists, stops and lists again with this client until none can trade, every one left refused, or the deadline nears. */
  start(client: BybitClient, deadline: number, clock: Clock): StrategyPhase {
    let settled = false;
    /** The last listing that answered showed a strategy able to trade. */
    let liveListed = false;
    let markReady = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const run = async () => {
      const call: CallOptions = { deadline, priority: 'first-wave' };
      let failures = 0;
      for (let round = 1; ; round++) {
        // Round 1 lists; round 2 lists right after the stops; later rounds give a slow stop time to land.
        if (round > 2) {
          const pause = ROUND_PAUSE_MS[Math.min(round - 3, ROUND_PAUSE_MS.length - 1)] as number;
          if (clock.now() + pause + 50 >= deadline) return;
          await clock.sleep(pause);
        }
        let live: Strategy[];
        try {
          live = (await liveStrategies(client, call)).filter((s) => this.covers(s));
        } catch (failure) {
          this.verified = false;
          this.error = failure as Error;
          // Each listing has had the client's retries: a list that keeps failing is reported, not awaited.
          if (isFinal(failure) || ++failures >= MAX_FAILED_LISTINGS || clock.now() + 50 >= deadline) return;
          if (round > 1) markReady();
          continue;
        }
        failures = 0;
        this.verified = true;
        this.error = undefined;
        this.remaining = live;
        liveListed = live.length > 0;
        for (const s of live) this.found.set(s.strategyId, s);
        if (live.length === 0) return;
        if (round > 1) markReady();
        const toStop = live.filter((s) => !this.refusals.get(s.strategyId)?.final);
        // Every strategy left refused its stop for good: named now, not retried until the deadline.
        if (toStop.length === 0 || clock.now() + 50 >= deadline) return;
        this.verified = false;
        await Promise.all(toStop.map((s) => this.stop(client, s, call)));
      }
    };
    // Over (settled) before verification hears of it: an order listing sent from then on is final.
    const settle = () => {
      settled = true;
      markReady();
    };
    const done = run().then(settle, (failure: unknown) => {
      this.verified = false;
      this.error = failure as Error;
      settle();
    });
    return {
      ready,
      done,
      get quiet() {
        return settled || !liveListed;
      },
      noteOrders: (orders) => this.noteOrders(orders),
    };
  }

  /** No strategy can trade: a listing after the last stop showed none. */
  get clear(): boolean {
    return this.verified && this.remaining.length === 0;
  }

  report(account: string): StrategyReport {
    const remainingIds = new Set(this.remaining.map((s) => s.strategyId));
    const report: StrategyReport = {
      account,
      found: [...this.found.values()].map(summary),
      stopped: [...this.found.values()]
        .filter((s) => this.stopped.has(s.strategyId) && !remainingIds.has(s.strategyId))
        .map(summary),
      remaining: this.remaining.map((s) => ({ ...summary(s), why: this.whyRemaining(s) })),
      verified: this.verified,
    };
    if (this.error) report.error = describeError(this.error);
    if (this.bots.size > 0) {
      report.botOrders = [...this.bots.values()].map(({ placer, symbols, orders }) => ({
        createType: placer.createType,
        bot: placer.name,
        symbols: [...symbols].sort(),
        orders: orders.size,
      }));
    }
    return report;
  }

  private covers(strategy: Strategy): boolean {
    const category = orderCategoryOf(strategy);
    return category === undefined || this.categories.includes(category);
  }

  private async stop(client: BybitClient, strategy: Strategy, call: CallOptions): Promise<void> {
    try {
      await client.stopStrategy(strategy.strategyId, call);
      this.stopped.add(strategy.strategyId);
      this.refusals.delete(strategy.strategyId);
    } catch (failure) {
      if (failure instanceof BybitApiError && ALREADY_ENDED.has(failure.retCode)) {
        this.stopped.add(strategy.strategyId);
        return;
      }
      this.refusals.set(strategy.strategyId, { error: failure as Error, final: isFinal(failure) });
    }
  }

  private whyRemaining(strategy: Strategy): string {
    const refusal = this.refusals.get(strategy.strategyId)?.error;
    if (refusal) return `its stop failed: ${refusal.message}`;
    if (this.stopped.has(strategy.strategyId)) {
      return this.verified
        ? 'its stop was acknowledged, yet it was still listed at the end'
        : 'its stop was acknowledged, but no listing confirmed that it ended';
    }
    return 'no stop could be sent before the deadline';
  }

  private noteOrders(orders: readonly OpenOrder[]): void {
    for (const order of orders) {
      const placer = placerOf(order);
      if (placer?.kind !== 'bot') continue;
      const entry = this.bots.get(placer.createType) ?? { placer, symbols: new Set(), orders: new Set() };
      entry.symbols.add(order.symbol);
      entry.orders.add(order.orderId);
      this.bots.set(placer.createType, entry);
    }
  }
}

function summary(s: Strategy): StrategySummary {
  return {
    strategyId: s.strategyId,
    strategyType: s.strategyType,
    category: s.category,
    symbol: s.symbol,
    status: s.status,
    statusName: statusName(s.status),
  };
}

/** Why a report's strategies fail the run, in words a person can act on. */
export function strategyReasons(report: StrategyReport): string[] {
  const reasons = report.remaining.map(
    (s) =>
      `${report.account}: strategy ${s.strategyId} (${s.strategyType} ${s.category} ${s.symbol}, ${s.statusName}) can still trade: ${s.why}`,
  );
  if (!report.verified) {
    const why = report.error?.errorMessage ?? 'no listing answered after the last stop';
    reasons.push(
      `${report.account}: strategies: the strategy list could not be read, so no stop is confirmed: ${why}`,
    );
  }
  return reasons;
}

/** What a person must do about bots whose orders showed up: they may place them again. */
export function botWarnings(report: StrategyReport): string[] {
  return (report.botOrders ?? []).map(
    (b) =>
      `${report.account}: ${b.orders} order(s) placed by a ${b.bot} (${b.createType}) on ${b.symbols.join(', ')} were cancelled like any order, but the bot may place them again: close it in the Bybit app (Bybit offers no way to list bots through its API)`,
  );
}
