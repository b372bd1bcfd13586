// Signed webhook requests as a sender makes them, and the curl command that sends one, shared by the local
// run and `npm run sign`.

import { routeSignature } from '../../lib/lambda/webhook-auth.ts';

export interface SignedHeaders {
  'x-timestamp': string;
  'x-signature': string;
}

/** The routes a sender signs for, as the API declares them. */
export const ROUTES = ['/cancel', '/cancel-all', '/heartbeat', '/status', '/reset'] as const;
export type RoutePath = (typeof ROUTES)[number];

/**
 * The headers that authenticate `body` (the exact bytes sent) at time `now` (Unix ms) on one route, `path`
 * (`/heartbeat`): the route-bound signature, good on that route only.
 */
export function signHeaders(
  secret: string,
  path: RoutePath,
  body: string,
  now: number = Date.now(),
): SignedHeaders {
  const timestamp = String(now);
  return { 'x-timestamp': timestamp, 'x-signature': routeSignature(secret, timestamp, `POST ${path}`, body) };
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

/**
 * The route a body is meant for: the dead man's switch when it sets a ttl or disarms, one order when it names
 * one, otherwise a scope or everything.
 */
export function routeOf(body: unknown): '/cancel' | '/cancel-all' | '/heartbeat' {
  const fields = typeof body === 'object' && body !== null ? body : {};
  if ('ttlSeconds' in fields || 'disarm' in fields) return '/heartbeat';
  return 'orderId' in fields || 'orderLinkId' in fields ? '/cancel' : '/cancel-all';
}

/**
 * The API's base URL from what a person typed (`https://abc123.execute-api.<region>.amazonaws.com`, with or
 * without a trailing slash), or an Error saying what is wrong with it.
 */
export function apiBaseUrl(value: string): string | Error {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return new Error(`"${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return new Error(`"${value}" is not an http(s) URL`);
  if (url.search || url.hash || url.username || url.password) {
    return new Error(`"${value}" has a query, fragment or credentials; give the API's base URL only`);
  }
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  if (/\/(cancel|cancel-all|heartbeat|status)$/.test(base)) {
    return new Error(`"${value}" ends with a route; give the API's base URL (the route comes from --path)`);
  }
  return base;
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
