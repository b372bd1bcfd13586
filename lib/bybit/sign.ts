// Request signing as Bybit V5 requires: sign `timestamp + apiKey + recvWindow + payload`, where payload is
// the exact body or query string that is sent.

import { createHmac, createPrivateKey, sign as rsaSign } from 'node:crypto';

/** One exchange key pair: an HMAC secret, or an RSA private key whose public half is registered with Bybit. */
export type Credentials = { apiKey: string; apiSecret: string } | { apiKey: string; privateKey: string };

export type Signer = (payload: string) => string;

export function signaturePayload(
  timestamp: number,
  apiKey: string,
  recvWindow: number,
  payload: string,
): string {
  return `${timestamp}${apiKey}${recvWindow}${payload}`;
}

/**
 * Builds the signer for a key: RSASSA-PKCS1-v1_5/SHA-256 in base64 when the key material is a PEM private
 * key (as Bybit's own clients decide), HMAC-SHA256 in lowercase hex otherwise. The PEM is parsed once.
 */
export function createSigner(credentials: Credentials): Signer {
  const material = 'privateKey' in credentials ? credentials.privateKey : credentials.apiSecret;
  if (material.includes('PRIVATE KEY')) {
    const key = createPrivateKey(material);
    return (payload) => rsaSign('sha256', Buffer.from(payload), key).toString('base64');
  }
  return (payload) => createHmac('sha256', material).update(payload).digest('hex');
}
