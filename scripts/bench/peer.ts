// The naive peer: what a user gets by scripting the maintained `bybit-api` client directly. A kill switch
// that calls cancel-all once per scope, one after another, and trusts the answers; a sweep that lists the
// open orders and cancels the stale ones one by one, paced by the rate-limit headers the client parses.

import { RestClientV5 } from 'bybit-api';
import type { Scope } from '../../lib/cancel/scopes.ts';

/** The peer's client, as its README shows it, pointed at the emulator. */
export function peerClient(key: string, secret: string, baseUrl: string): RestClientV5 {
  // keepAlive reuses connections as our client (fetch) does: the comparison is not about TCP handshakes.
  return new RestClientV5({ key, secret, baseUrl, parseAPIRateLimits: true, keepAlive: true });
}

export interface PeerKillSwitchResult {
  requests: number;
  /** Answers with retCode other than 0 (the peer does not retry them). */
  failures: number;
  /** Orders the exchange acknowledged cancelling. */
  acknowledged: number;
}

/** Cancel-all per scope, sequentially, account after account; no repeat at 500, no verification. */
export async function peerKillSwitch(
  clients: RestClientV5[],
  scopes: Scope[],
): Promise<PeerKillSwitchResult> {
  const outcome = { requests: 0, failures: 0, acknowledged: 0 };
  for (const client of clients) {
    for (const scope of scopes) {
      outcome.requests++;
      // The peer's types name the same parameters; our Scope is the exchange's cancel-all shape.
      const reply = await client.cancelAllOrders(scope as Parameters<RestClientV5['cancelAllOrders']>[0]);
      if (reply.retCode !== 0) outcome.failures++;
      else outcome.acknowledged += reply.result.list?.length ?? 0;
    }
  }
  return outcome;
}

export interface PeerSweepOptions {
  settleCoin: string;
  maxAgeMs: number;
  /** Stop here whatever is left (the benchmark's own time bound). */
  deadline: number;
}

export interface PeerSweepResult {
  stale: number;
  cancelled: number;
  listRequests: number;
  cancelRequests: number;
  rateLimited: number;
  failures: number;
}

const PAGE = 50;
const MAX_PAGES = 1000;
const MAX_TRIES_PER_ORDER = 5;
/** Slack after the reset timestamp: the exchange frees the unit at that instant, not before it. */
const RESET_SLACK_MS = 2;

/** Lists the scope, then cancels each stale order with its own request, waiting when the window is spent. */
export async function peerSweep(client: RestClientV5, options: PeerSweepOptions): Promise<PeerSweepResult> {
  const result = { stale: 0, cancelled: 0, listRequests: 0, cancelRequests: 0, rateLimited: 0, failures: 0 };
  const open: { symbol: string; orderId: string; createdTime: string }[] = [];
  let cursor = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    result.listRequests++;
    const reply = await client.getActiveOrders({
      category: 'linear',
      settleCoin: options.settleCoin,
      limit: PAGE,
      ...(cursor ? { cursor } : {}),
    });
    if (reply.retCode !== 0) throw new Error(`peer listing failed: ${reply.retCode} ${reply.retMsg}`);
    open.push(...reply.result.list);
    cursor = reply.result.nextPageCursor ?? '';
    if (!cursor) break;
  }
  const cutoff = Date.now() - options.maxAgeMs;
  const stale = open.filter((o) => Number(o.createdTime) < cutoff);
  result.stale = stale.length;

  for (const order of stale) {
    for (let tries = 0; tries < MAX_TRIES_PER_ORDER && Date.now() < options.deadline; tries++) {
      result.cancelRequests++;
      const reply = await client.cancelOrder({
        category: 'linear',
        symbol: order.symbol,
        orderId: order.orderId,
      });
      const limit = reply.rateLimitApi;
      if (reply.retCode === 10006) {
        result.rateLimited++;
        await sleepUntil(limit?.resetAtTimestamp ?? Date.now() + 100);
        continue;
      }
      if (reply.retCode === 0) result.cancelled++;
      else result.failures++;
      if (limit && limit.remainingRequests === 0) await sleepUntil(limit.resetAtTimestamp);
      break;
    }
  }
  return result;
}

function sleepUntil(at: number): Promise<void> {
  const ms = Math.min(2000, Math.max(0, at - Date.now() + RESET_SLACK_MS));
  return new Promise((resolve) => setTimeout(resolve, ms));
}
