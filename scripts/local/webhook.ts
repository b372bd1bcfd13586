// Signed webhook requests as a sender makes them, and the curl command that sends one, shared by the local
// run and `npm run sign`.

import { webhookSignature } from '../../lib/lambda/webhook-auth.ts';

export interface SignedHeaders {
  'x-timestamp': string;
  'x-signature': string;
}

/** The headers that authenticate `body` (the exact bytes sent) at time `now` (Unix ms). */
export function signHeaders(secret: string, body: string, now: number = Date.now()): SignedHeaders {
  const timestamp = String(now);
  return { 'x-timestamp': timestamp, 'x-signature': webhookSignature(secret, timestamp, body) };
}

/** A one-line curl command that sends `body` byte for byte with the given headers. */
export function curlCommand(url: string, body: string, headers: SignedHeaders): string {
  return [
    'curl -sS -X POST',
    shellQuote(url),
    `-H ${shellQuote('content-type: application/json')}`,
    `-H ${shellQuote(`x-timestamp: ${headers['x-timestamp']}`)}`,
    `-H ${shellQuote(`x-signature: ${headers['x-signature']}`)}`,
    // --data-raw: curl sends the text as is (no @file, no newline stripping), so the signature holds.
    `--data-raw ${shellQuote(body)}`,
  ].join(' ');
}

/** Single-quotes a word for POSIX shells. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The route a body is meant for: one order when it names one, otherwise a scope or everything. */
export function routeOf(body: unknown): '/cancel' | '/cancel-all' {
  const fields = typeof body === 'object' && body !== null ? body : {};
  return 'orderId' in fields || 'orderLinkId' in fields ? '/cancel' : '/cancel-all';
}

/** POSTs a signed body and returns the status and parsed JSON answer. */
export async function postSigned(
  url: string,
  body: string,
  headers: Partial<SignedHeaders>,
  timeoutMs: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text: text.slice(0, 500) };
  }
  return { status: response.status, body: parsed };
}
