import { constants, createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type KeyState, keyState } from './api-key.ts';
import { RET } from './responses.ts';
import type { EmulatorAccount } from './types.ts';

export const DEFAULT_RECV_WINDOW = 5000;
// Bybit accepts a timestamp at most one second ahead of its own clock, whatever the recv window.
const FUTURE_TOLERANCE_MS = 1000;

/** An API key as the server holds it: an HMAC secret or a parsed RSA public key. */
export interface Credential {
  uid: string;
  apiKey: string;
  /** The master's UID when this is a key of a sub UID. */
  parentUid?: string;
  secret?: string;
  publicKey?: KeyObject;
  /** The RSA public key as uploaded (query-api's `rsaPublicKey`). */
  rsa?: string;
  revoked: boolean;
  key: KeyState;
}

export type AuthOutcome =
  | { ok: true; credential: Credential }
  | { ok: false; retCode: number; retMsg: string; credential?: Credential };

/** Parses an account once, so that a malformed RSA key fails when it is added rather than on first use. */
export function toCredential(account: EmulatorAccount): Credential {
  if (!account.uid || !account.apiKey) throw new Error('an account needs a uid and an apiKey');
  const parent = account.parentUid === undefined ? {} : { parentUid: account.parentUid };
  if (account.publicKeyPem) {
    return {
      uid: account.uid,
      apiKey: account.apiKey,
      ...parent,
      publicKey: createPublicKey(account.publicKeyPem),
      rsa: account.publicKeyPem,
      revoked: false,
      key: keyState(account.key),
    };
  }
  if (!account.apiSecret) throw new Error(`account ${account.apiKey} needs an apiSecret or a publicKeyPem`);
  return {
    uid: account.uid,
    apiKey: account.apiKey,
    ...parent,
    secret: account.apiSecret,
    revoked: false,
    key: keyState(account.key),
  };
}

/**
 * Bybit's V5 header authentication: key, then timestamp window, then signature over
 * `timestamp + apiKey + recvWindow + payload`, with the header values exactly as received.
 */
export function authenticate(
  headers: IncomingHttpHeaders,
  payload: string,
  lookup: (apiKey: string) => Credential | undefined,
  serverNow: number,
): AuthOutcome {
  const apiKey = header(headers, 'x-bapi-api-key');
  const credential = apiKey ? lookup(apiKey) : undefined;
  if (!apiKey || !credential || credential.revoked) {
    return { ok: false, ...RET.invalidKey };
  }

  const rawTimestamp = header(headers, 'x-bapi-timestamp') ?? '';
  const rawRecvWindow = header(headers, 'x-bapi-recv-window');
  if (!/^\d+$/.test(rawTimestamp) || (rawRecvWindow !== undefined && !/^\d+$/.test(rawRecvWindow))) {
    return {
      ok: false,
      credential,
      ...RET.params('X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers'),
    };
  }
  const timestamp = Number(rawTimestamp);
  const recvWindow = rawRecvWindow === undefined ? DEFAULT_RECV_WINDOW : Number(rawRecvWindow);
  if (!(serverNow - recvWindow <= timestamp && timestamp < serverNow + FUTURE_TOLERANCE_MS)) {
    return { ok: false, credential, ...RET.timestamp(timestamp, serverNow, recvWindow) };
  }

  // An absent recv-window header contributes nothing to the signed string: the client signed what it sent.
  const origin = `${rawTimestamp}${apiKey}${rawRecvWindow ?? ''}${payload}`;
  const signature = header(headers, 'x-bapi-sign') ?? '';
  if (!signatureMatches(credential, origin, signature)) {
    return { ok: false, credential, ...RET.badSign(origin) };
  }
  return { ok: true, credential };
}

function signatureMatches(credential: Credential, origin: string, signature: string): boolean {
  if (credential.publicKey) {
    return verify(
      'sha256',
      Buffer.from(origin),
      { key: credential.publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(signature, 'base64'),
    );
  }
  const expected = Buffer.from(
    createHmac('sha256', credential.secret ?? '')
      .update(origin)
      .digest('hex'),
  );
  const given = Buffer.from(signature);
  // timingSafeEqual needs equal lengths; comparing `expected` with itself keeps the time independent of the input.
  return (
    timingSafeEqual(expected, given.length === expected.length ? given : expected) &&
    given.length === expected.length
  );
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
