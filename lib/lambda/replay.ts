// Each signed request is served once. Its signature (as a SHA-256: never the signature itself) is taken in the
// state table with a conditional write that only the first request wins, and kept until the request's timestamp
// has left the skew window, after which authentication refuses it anyway. A second request with the same
// signature, a replay or a sender's retry of the same bytes, is answered as a duplicate naming the first one's
// request id. A request that failed on our side (5xx) gives its signature back, so that the same bytes may be
// sent again: a failed kill switch retried as it was is never refused.

import { createHash } from 'node:crypto';
import { recordKeys } from './records.ts';
import type { StateKey, StateStore } from './state.ts';

/** What the first request with a signature leaves in the table. */
export interface SignatureRecord {
  route: string;
  requestId: string;
  /** When it was taken (ISO). */
  at: string;
}

export interface SignedRequest {
  signature: string;
  /** The request's `x-timestamp` (Unix ms). */
  timestamp: number;
  route: string;
  requestId: string;
}

export type Claim = { first: true; key: StateKey } | { first: false; firstRequestId: string };

/** Room for the clocks of two containers: the record outlives the window by this much. */
const MARGIN_SECONDS = 1;

/** The state-table key of a signature. */
export function signatureKey(signature: string): StateKey {
  return recordKeys.signature(createHash('sha256').update(signature).digest('hex'));
}

/**
 * Takes the request's signature: first when no request took it before (within the window), otherwise the
 * first one's request id. Throws StateError when the table cannot be reached (the caller decides).
 */
export async function takeSignature(
  state: StateStore,
  request: SignedRequest,
  maxSkewMs: number,
  now: number,
): Promise<Claim> {
  const key = signatureKey(request.signature);
  const record: SignatureRecord = {
    route: request.route,
    requestId: request.requestId,
    at: new Date(now).toISOString(),
  };
  // Until the timestamp leaves the window: after that, authentication refuses the signature by its age.
  const ttlSeconds = Math.max(1, Math.ceil((request.timestamp + maxSkewMs - now) / 1000)) + MARGIN_SECONDS;
  if (await state.putIfAbsent(key, record, { ttlSeconds })) return { first: true, key };
  const first = await state.get<SignatureRecord>(key);
  return { first: false, firstRequestId: first?.value.requestId ?? 'unknown' };
}

/** Gives a signature back: the same request may be sent again (its first attempt failed on our side). */
export function releaseSignature(state: StateStore, key: StateKey): Promise<void> {
  return state.delete(key);
}
