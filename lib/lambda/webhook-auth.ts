// Webhook authentication: `x-signature` = lowercase hex HMAC-SHA256 of `<x-timestamp>.<raw body>` under the
// webhook key, with `x-timestamp` (Unix ms) within the allowed skew. The opt-in passphrase mode exists only
// because TradingView cannot sign its alerts; see the README for what it does not protect against.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../errors.ts';
import type { WebhookSecret } from './secrets.ts';

export interface WebhookAuthOptions {
  maxSkewMs: number;
  passphraseMode: boolean;
  now?: () => number;
}

/** The string a sender signs. Exported so tools (`npm run sign`) and tests sign exactly what we verify. */
export function webhookSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * Throws AuthenticationError unless the request is signed and recent, or (passphrase mode only, and only
 * when it carries no signature headers) its JSON body holds the right `passphrase`.
 * Returns how the request was authenticated.
 */
export function authenticateWebhook(
  headers: Record<string, string | undefined>,
  body: Buffer,
  secret: WebhookSecret,
  options: WebhookAuthOptions,
): 'signature' | 'passphrase' {
  const timestamp = headers['x-timestamp'];
  const signature = headers['x-signature'];
  if (timestamp === undefined && signature === undefined && options.passphraseMode) {
    if (secret.passphrase && sameSecret(passphraseOf(body), secret.passphrase)) return 'passphrase';
    throw new AuthenticationError('missing signature headers or wrong passphrase');
  }
  if (!timestamp || !signature)
    throw new AuthenticationError('x-timestamp and x-signature headers are required');
  if (!/^\d{1,16}$/.test(timestamp))
    throw new AuthenticationError('x-timestamp must be Unix time in milliseconds');
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - Number(timestamp)) > options.maxSkewMs) {
    throw new AuthenticationError(`x-timestamp is more than ${options.maxSkewMs / 1000} s from now`);
  }
  const expected = webhookSignature(secret.webhookSecret, timestamp, body);
  if (!sameSecret(signature, expected)) throw new AuthenticationError('x-signature does not match');
  return 'signature';
}

/** Constant-time comparison that also hides the length: both sides are hashed first. */
function sameSecret(given: string | undefined, expected: string): boolean {
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
