// Webhook authentication. The route-bound signature: `x-signature` = lowercase hex HMAC-SHA256 of
// `<x-timestamp>.<METHOD> <path>.<raw body>` under the webhook key (`<METHOD> <path>` is the route as API Gateway
// names it, e.g. `POST /heartbeat`), with `x-timestamp` (Unix ms) within the allowed skew, so a captured request
// is good on its own route only. `/cancel` and `/cancel-all` also take the legacy signature of
// `<x-timestamp>.<raw body>` while WEBHOOK_LEGACY_SIGNATURE allows it (alerts made before the route was signed).
// The opt-in passphrase mode exists only because TradingView cannot sign its alerts; see
// docs/guides/tradingview.md for what it does not protect against.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { AuthenticationError, SignatureMismatchError, SourceNotAllowedError } from '../errors.ts';
import { isKey, type WebhookSecret } from './secrets.ts';

export interface WebhookAuthOptions {
  maxSkewMs: number;
  passphraseMode: boolean;
  /** The route the request came on, `<METHOD> <path>` (`POST /heartbeat`): what the signature must cover. */
  route: string;
  /** Also accept the legacy signature of `<timestamp>.<body>`, which covers no route. */
  legacySignature: boolean;
  now?: () => number;
}

/** How a request was authenticated. */
export type Authentication = 'signature' | 'legacySignature' | 'passphrase';

/** The route-bound signature a sender computes. Exported so tools (`npm run sign`) and tests sign exactly what we verify. */
export function routeSignature(
  secret: string,
  timestamp: string,
  route: string,
  body: Buffer | string,
): string {
  return createHmac('sha256', secret).update(`${timestamp}.${route}.`).update(body).digest('hex');
}

/** The legacy signature of `<timestamp>.<body>`, which covers no route (accepted on `/cancel` and `/cancel-all` only). */
export function webhookSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * Throws AuthenticationError unless the request is signed for its route and recent (or, where allowed, carries
 * the legacy signature), or (passphrase mode only, and only when it carries no signature headers) its JSON body
 * holds the right `passphrase`. Returns how the request was authenticated.
 */
export function authenticateWebhook(
  headers: Record<string, string | undefined>,
  body: Buffer,
  secret: WebhookSecret,
  options: WebhookAuthOptions,
): Authentication {
  const timestamp = headers['x-timestamp'];
  const signature = headers['x-signature'];
  if (timestamp === undefined && signature === undefined && options.passphraseMode) {
    if (isKey(secret.passphrase) && sameSecret(passphraseOf(body), secret.passphrase)) return 'passphrase';
    throw new SignatureMismatchError('missing signature headers or wrong passphrase');
  }
  if (!timestamp || !signature)
    throw new AuthenticationError('x-timestamp and x-signature headers are required');
  if (!/^\d{1,16}$/.test(timestamp))
    throw new AuthenticationError('x-timestamp must be Unix time in milliseconds');
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - Number(timestamp)) > options.maxSkewMs) {
    throw new AuthenticationError(`x-timestamp is more than ${options.maxSkewMs / 1000} s from now`);
  }
  // During a rotation both keys sign valid requests: compare with each, and never stop early on one. An
  // absent, empty or blank key is no key: anyone could sign with it.
  const keys = [secret.webhookSecret, secret.previousWebhookSecret].filter(isKey);
  const signedWith = (sign: (key: string) => string) =>
    keys.map((key) => sameSecret(signature, sign(key))).includes(true);
  if (signedWith((key) => routeSignature(key, timestamp, options.route, body))) return 'signature';
  if (options.legacySignature && signedWith((key) => webhookSignature(key, timestamp, body)))
    return 'legacySignature';
  throw new SignatureMismatchError(
    `x-signature does not match: sign "<x-timestamp>.${options.route}.<body>"`,
  );
}

/**
 * The check of WEBHOOK_ALLOWED_SOURCE_IPS (addresses and CIDR ranges, IPv4 and IPv6): throws
 * SourceNotAllowedError for any other address. An empty list allows every address.
 */
export function sourceAllowlist(entries: readonly string[]): (sourceIp: string | undefined) => void {
  if (entries.length === 0) return () => undefined;
  const allowed = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) allowed.addAddress(address, type);
    else allowed.addSubnet(address, Number(bits), type);
  }
  return (sourceIp) => {
    const address = sourceIp?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = address ? isIP(address) : 0;
    if (family === 0 || !allowed.check(address as string, family === 6 ? 'ipv6' : 'ipv4')) {
      throw new SourceNotAllowedError();
    }
  };
}

/** Constant-time comparison that also hides the length: both sides are hashed first. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function passphraseOf(body: Buffer): string | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as { passphrase?: unknown } | null;
    return typeof value?.passphrase === 'string' ? value.passphrase : undefined;
  } catch {
    return undefined;
  }
}
