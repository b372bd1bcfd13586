// Cancelling one order, and one scope's cancel-all, for webhook and direct callers.

import type { CancelOrderParams, OrderRef } from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { IncompleteCancelError } from '../errors.ts';
import { clearScope } from './clear-scope.ts';
import type { Exchange } from './exchange.ts';
import { type Scope, scopeLabel } from './scopes.ts';

/** One order to cancel, on a named account (optional when the secret holds one). */
export interface CancelOrderCommand extends CancelOrderParams {
  account?: string;
}

export interface CancelOrderResult extends OrderRef {
  operation: 'cancel';
  account: string;
  category: string;
  symbol: string;
  /** Bybit acknowledges a cancel; the order leaves the book asynchronously. */
  status: 'cancel acknowledged';
}

/** Cancels one order. Throws OrderNotOpenError when the exchange says it is not open (maps to 404). */
export async function cancelOrder(
  exchange: Exchange,
  request: CancelOrderCommand,
  deadline: number,
): Promise<CancelOrderResult> {
  const { account, ...params } = request;
  return exchange.withAccount(account, async (client, name) => {
    const ref = await client.cancelOrder(params, { deadline });
    return {
      operation: 'cancel',
      account: name,
      category: params.category,
      symbol: params.symbol,
      ...ref,
      status: 'cancel acknowledged',
    };
  });
}

export interface CancelScopeResult {
  operation: 'cancelAll';
  account: string;
  scope: string;
  cancelled: number;
  remaining: number;
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
    if (outcome.clear) return result;
    // The exchange's own error says most (502/503/504 with its retCode); otherwise report what is left.
    if (outcome.error) throw outcome.error;
    throw new IncompleteCancelError({ ...result, failedScopes: [result.scope] });
  });
}
