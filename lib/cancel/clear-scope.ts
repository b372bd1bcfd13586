// Clearing one scope: cancel-all (again while futures answer a full 500), then list what is still open,
// and cancel the stragglers until the exchange shows none or the deadline nears. Success is decided by
// the listing, never by the cancel acknowledgements: Bybit cancels asynchronously and can miss orders.
// A scope leaves Bybit's strategies alone: the orders a running strategy places again are reported apart,
// never chased (only the kill switch stops strategies).

import type { BybitClient, CallOptions, Priority } from '../bybit/client.ts';
import {
  BATCH_LIMIT,
  FUTURES_CANCEL_ALL_CAP,
  OPEN_ORDERS_PAGE_LIMIT,
  type OpenOrder,
} from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { BybitApiError, DeadlineExceededError, IpRefusedError, RequestNotSentError } from '../errors.ts';
import { placerOf } from './placers.ts';
import { listingOf, type Scope, targetedBy } from './scopes.ts';

export interface ScopeOutcome {
  /** Orders the exchange acknowledged cancelling (unique ids). */
  cancelled: number;
  /** What the last listing still showed open; empty only when `verified`. */
  remaining: OpenOrder[];
  /** Orders of Bybit strategies (by createType) the last listing showed: left to them, not in `remaining`. */
  strategyOrders: OpenOrder[];
  /** True when a listing after the last cancel showed the scope empty. */
  clear: boolean;
  /** True when `remaining` comes from a listing after the last cancel (otherwise it may be out of date). */
  verified: boolean;
  rounds: number;
  /** The last failure, when the scope did not clear for a reason other than orders still listed. */
  error?: Error;
}

/** Pause between rounds, giving an asynchronous cancel time to land before the next listing. */
export const ROUND_PAUSE_MS = [50, 100, 200, 400, 800];

export async function clearScope(
  client: BybitClient,
  scope: Scope,
  deadline: number,
  clock: Clock = systemClock,
): Promise<ScopeOutcome> {
  const cancelled = new Set<string>();
  let remaining: OpenOrder[] = [];
  let strategyOrders: OpenOrder[] = [];
  let error: Error | undefined;
  let rounds = 0;
  let verified = false;
  for (;;) {
    rounds++;
    verified = false;
    error = undefined;
    try {
      if (rounds === 1 || !batchable(scope, remaining))
        await cancelAllOf(client, scope, { deadline }, cancelled);
      else await cancelByBatch(client, scope, remaining, deadline, cancelled);
    } catch (failure) {
      error = failure as Error;
      if (isFinal(failure)) break;
    }
    try {
      const listed = await openOrdersOf(client, scope, deadline);
      strategyOrders = listed.filter((o) => placerOf(o)?.kind === 'strategy');
      remaining = listed.filter((o) => placerOf(o)?.kind !== 'strategy');
      verified = true;
      if (remaining.length === 0)
        return {
          cancelled: cancelledCount(cancelled),
          remaining,
          strategyOrders,
          clear: true,
          verified,
          rounds,
        };
    } catch (failure) {
      error = failure as Error;
      if (isFinal(failure)) break;
    }
    const pause = ROUND_PAUSE_MS[Math.min(rounds - 1, ROUND_PAUSE_MS.length - 1)] as number;
    if (clock.now() + pause + 50 >= deadline) break;
    await clock.sleep(pause);
  }
  return {
    cancelled: cancelledCount(cancelled),
    remaining,
    strategyOrders,
    clear: false,
    verified,
    rounds,
    error,
  };
}

/**
 * Stands in `cancelled` for cancels acknowledged without ids (spot's `{"success": "1"}`): the listing after them
 * needs the same proof as after named ones, and no count includes it (cancelledCount).
 */
export const UNNAMED_CANCELS = '(acknowledged without ids)';

/** How many orders `cancelled` names. */
export function cancelledCount(cancelled: ReadonlySet<string>): number {
  return cancelled.size - (cancelled.has(UNNAMED_CANCELS) ? 1 : 0);
}

/** Cancel-all of a scope, repeated while futures answer a full page of 500. */
export async function cancelAllOf(
  client: BybitClient,
  scope: Scope,
  call: CallOptions,
  cancelled: Set<string>,
): Promise<void> {
  const futures = scope.category === 'linear' || scope.category === 'inverse';
  for (;;) {
    const list = await client.cancelAll(scope, call);
    for (const order of list) cancelled.add(order.orderId);
    if (list.named === false) cancelled.add(UNNAMED_CANCELS);
    if (!futures || list.length < FUTURES_CANCEL_ALL_CAP) return;
  }
}

/**
 * Stragglers found by a listing are known by id. Another cancel-all costs one unit of a 10/s (futures) or
 * 20/s (spot) window, cheaper than a batch at one unit per order; but option allows one cancel-all a
 * second while its batch costs one unit a request: there, cancel the stragglers by batch.
 */
function batchable(scope: Scope, stragglers: OpenOrder[]): boolean {
  return scope.category === 'option' && stragglers.length > 0 && stragglers.length <= BATCH_LIMIT.option;
}

async function cancelByBatch(
  client: BybitClient,
  scope: Scope,
  stragglers: OpenOrder[],
  deadline: number,
  cancelled: Set<string>,
): Promise<void> {
  const request = stragglers.map(({ symbol, orderId }) => ({ symbol, orderId }));
  const items = await client.cancelBatch({ category: scope.category, request }, { deadline });
  for (const item of items) if (item.code === 0) cancelled.add(item.orderId);
}

/** Every open order of a scope, all pages. */
export async function openOrdersOf(
  client: BybitClient,
  scope: Scope,
  deadline: number,
  priority?: Priority,
): Promise<OpenOrder[]> {
  const orders: OpenOrder[] = [];
  let cursor = '';
  do {
    const page = await client.openOrders(
      { ...listingOf(scope), limit: OPEN_ORDERS_PAGE_LIMIT, cursor },
      { deadline, priority },
    );
    orders.push(...page.list);
    cursor = page.nextPageCursor;
  } while (cursor);
  // The listing cannot say everything a cancel-all filter means: keep what this scope's cancel-all targets.
  return orders.filter((o) => targetedBy(scope, o));
}

/**
 * Failures that another round cannot fix: a refused key or parameters, no time left, a refused IP, or a
 * request Node would not send.
 */
export function isFinal(error: unknown): boolean {
  if (error instanceof DeadlineExceededError || error instanceof IpRefusedError) return true;
  if (error instanceof RequestNotSentError) return true;
  return error instanceof BybitApiError && (error.kind === 'credentials' || error.kind === 'rejected');
}
