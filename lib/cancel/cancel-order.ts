// Cancelling one order, and one scope's cancel-all, for webhook and direct callers.

import type { CallOptions } from '../bybit/client.ts';
import {
  type CancelOrderParams,
  FINAL_ORDER_STATUSES,
  type OpenOrder,
  type OrderQueryParams,
  type OrderRef,
  type OrderState,
} from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import {
  BybitApiError,
  DeadlineExceededError,
  ExchangeUnavailableError,
  IncompleteCancelError,
  OrderNotFoundError,
  OrderNotOpenError,
} from '../errors.ts';
import { clearScope, ROUND_PAUSE_MS } from './clear-scope.ts';
import type { Exchange } from './exchange.ts';
import { type Scope, scopeLabel } from './scopes.ts';

/** One order to cancel, on a named account (optional when the secret holds one). */
export interface CancelOrderCommand extends CancelOrderParams {
  account?: string;
}

/** What happened to the order, as the exchange showed it when read back by id after the cancel. */
export interface CancelOrderResult extends OrderRef {
  operation: 'cancel';
  account: string;
  category: string;
  symbol: string;
  /** The last status read back; null when no read-back answered before the deadline. */
  orderStatus: string | null;
  /** Quantity executed before the order closed ("0" for a clean cancel); null as orderStatus. */
  cumExecQty: string | null;
  /** True when the order was read back in a final status: it can no longer trade. */
  confirmed: boolean;
  /** The exchange said the order was not open, and the read-back found it closed: the goal was already met. */
  alreadyClosed?: true;
}

/** The cancel's outcome: acknowledged, or refused as not open (which a fill also looks like). */
interface Sent {
  name: string;
  ack?: OrderRef;
  notOpen?: OrderNotOpenError;
}

/** Time a read-back needs to be worth sending before the deadline. */
const READ_MARGIN_MS = 50;

/**
 * Cancels one order and reads it back until the exchange shows it final or the deadline nears:
 * 1. cancel; "not open" (110001, 170213, 110008, …) is not yet an answer, because a filled order says it too;
 * 2. read the order by id (closed orders come back too), pausing between reads as clearing a scope does;
 * 3. answer what the read showed: confirmed, already closed, still open at the deadline (`confirmed: false`),
 *    or OrderNotFoundError when the cancel said "not found" and the read found nothing.
 */
export async function cancelOrder(
  exchange: Exchange,
  request: CancelOrderCommand,
  deadline: number,
  clock: Clock = systemClock,
): Promise<CancelOrderResult> {
  const { account, ...params } = request;
  const call: CallOptions = { deadline, priority: 'routine' };
  // Two steps, each with its own key rotation retry: a key refused during the read must not send the cancel again.
  const { name, ack, notOpen } = await exchange.withAccount<Sent>(account, async (client, name) => {
    try {
      return { name, ack: await client.cancelOrder(params, call) };
    } catch (error) {
      if (!(error instanceof OrderNotOpenError)) throw error;
      return { name, notOpen: error };
    }
  });
  // The acknowledged orderId is exact even when the caller named an orderLinkId that may have been reused.
  const query: OrderQueryParams = ack?.orderId
    ? { category: params.category, symbol: params.symbol, orderId: ack.orderId }
    : {
        category: params.category,
        symbol: params.symbol,
        orderId: params.orderId,
        orderLinkId: params.orderLinkId,
      };
  const answer = (state: OrderState | undefined, confirmed: boolean): CancelOrderResult => ({
    operation: 'cancel',
    account: name,
    category: params.category,
    symbol: params.symbol,
    orderId: state?.orderId ?? ack?.orderId ?? params.orderId ?? '',
    orderLinkId: state?.orderLinkId ?? ack?.orderLinkId ?? params.orderLinkId ?? '',
    orderStatus: state?.orderStatus ?? null,
    cumExecQty: state?.cumExecQty ?? null,
    confirmed,
    ...(confirmed && notOpen ? { alreadyClosed: true as const } : {}),
  });

  return exchange.withAccount(name, async (client) => {
    let last: OrderState | undefined;
    let readFailure: Error | undefined;
    for (let round = 1; ; round++) {
      let state: OrderState | undefined;
      readFailure = undefined;
      try {
        state = await client.orderById(query, call);
      } catch (error) {
        // Only a read that may succeed later is worth another round; a refusal or a malformed answer is final.
        if (!transient(error)) throw error;
        readFailure = error as Error;
      }
      if (!readFailure) {
        if (state && FINAL_ORDER_STATUSES.has(state.orderStatus)) return answer(state, true);
        if (!state && notOpen) throw new OrderNotFoundError(query, notOpen);
        last = state ?? last;
      }
      // With no cancel in flight ("not open" but listed open), waiting for the deadline cannot change the answer.
      if (notOpen && round >= ROUND_PAUSE_MS.length) break;
      const pause = ROUND_PAUSE_MS[Math.min(round - 1, ROUND_PAUSE_MS.length - 1)] as number;
      if (clock.now() + pause + READ_MARGIN_MS >= deadline) break;
      await clock.sleep(pause);
    }
    // "Not open" with no read to back it up says nothing about a fill: report why we could not tell.
    if (notOpen && !last && readFailure) throw readFailure;
    return answer(last, false);
  });
}

function transient(error: unknown): boolean {
  if (error instanceof ExchangeUnavailableError || error instanceof DeadlineExceededError) return true;
  return error instanceof BybitApiError && error.kind === 'retryable';
}

export interface CancelScopeResult {
  operation: 'cancelAll';
  account: string;
  scope: string;
  cancelled: number;
  remaining: number;
  /** Up to 20 orders still open, each with what placed it (`createType`, not on spot). */
  remainingOrders?: ListedOrder[];
  /**
   * Orders a running Bybit strategy had placed (again) when the scope was last listed: a scoped cancel-all
   * leaves strategies alone, so they are named here and not counted as remaining. The kill switch stops strategies.
   */
  strategyOrders?: ListedOrder[];
}

/** An open order as a report names it. */
export interface ListedOrder {
  symbol: string;
  orderId: string;
  orderLinkId: string;
  createType?: string;
}

function listed(orders: OpenOrder[]): ListedOrder[] {
  return orders.slice(0, 20).map(({ symbol, orderId, orderLinkId, createType }) => ({
    symbol,
    orderId,
    orderLinkId,
    ...(createType ? { createType } : {}),
  }));
}

/** Cancel-all of one scope, verified by listing; throws unless the listing shows the scope clear. */
export async function cancelScope(
  exchange: Exchange,
  account: string | undefined,
  scope: Scope,
  deadline: number,
  clock: Clock = systemClock,
): Promise<CancelScopeResult> {
  return exchange.withAccount(account, async (client, name) => {
    const outcome = await clearScope(client, scope, deadline, clock);
    const result: CancelScopeResult = {
      operation: 'cancelAll',
      account: name,
      scope: scopeLabel(scope),
      cancelled: outcome.cancelled,
      remaining: outcome.remaining.length,
    };
    if (outcome.strategyOrders.length > 0) result.strategyOrders = listed(outcome.strategyOrders);
    if (outcome.clear) return result;
    if (outcome.remaining.length > 0) result.remainingOrders = listed(outcome.remaining);
    // The exchange's own error says most (502/503/504 with its retCode); otherwise report what is left.
    if (outcome.error) throw outcome.error;
    throw new IncompleteCancelError({ ...result, failedScopes: [result.scope] });
  });
}
