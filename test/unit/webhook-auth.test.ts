import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../lib/errors.ts';
import { authenticateWebhook, webhookSignature } from '../../lib/lambda/webhook-auth.ts';

// The worked example of docs/reference/http-api.md, computed independently with:
//   printf '%s' '1795253400000.<body>' | openssl dgst -sha256 -hmac 'example-webhook-key-do-not-use-7f3a9c' -hex
const key = 'example-webhook-key-do-not-use-7f3a9c';
const timestamp = '1795253400000';
const body = '{"category":"linear","symbol":"BTCUSDT","orderLinkId":"tv-btc-long-1"}';
const signature = 'd52b446b60130e1684058c6b24e51ec087358b0f3ecdd0271280d2d37f02f44c';
const secret = { webhookSecret: key, passphrase: 'tradingview-passphrase-123456' };
const options = { maxSkewMs: 300_000, passphraseMode: false, now: () => Number(timestamp) + 1000 };

describe('webhookSignature', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    expect(webhookSignature(key, timestamp, body)).toBe(signature);
    expect(webhookSignature(key, timestamp, Buffer.from(body))).toBe(signature);
  });
});

describe('authenticateWebhook', () => {
  const auth = (headers: Record<string, string>, raw = body, opts = options) =>
    authenticateWebhook(headers, Buffer.from(raw), secret, opts);

  it('accepts a request signed as documented', () => {
    expect(auth({ 'x-timestamp': timestamp, 'x-signature': signature })).toBe('signature');
  });

  it.each([
    ['no headers', {}],
    ['no signature', { 'x-timestamp': timestamp }],
    ['an uppercase signature', { 'x-timestamp': timestamp, 'x-signature': signature.toUpperCase() }],
    ['a truncated signature', { 'x-timestamp': timestamp, 'x-signature': signature.slice(0, 63) }],
    ['a timestamp in seconds', { 'x-timestamp': timestamp.slice(0, 10), 'x-signature': signature }],
    ['a non-numeric timestamp', { 'x-timestamp': '1795253400000.0', 'x-signature': signature }],
  ])('refuses %s', (_, headers) => {
    expect(() => auth(headers)).toThrow(AuthenticationError);
  });

  it('refuses a timestamp more than 300 s away, either way', () => {
    const headers = { 'x-timestamp': timestamp, 'x-signature': signature };
    expect(() => auth(headers, body, { ...options, now: () => Number(timestamp) + 300_001 })).toThrow(
      /300 s/,
    );
    expect(() => auth(headers, body, { ...options, now: () => Number(timestamp) - 300_001 })).toThrow(
      /300 s/,
    );
    expect(auth(headers, body, { ...options, now: () => Number(timestamp) + 300_000 })).toBe('signature');
  });

  it('accepts the passphrase only in passphrase mode and only without signature headers', () => {
    const withPassphrase = JSON.stringify({ ...JSON.parse(body), passphrase: secret.passphrase });
    expect(() => auth({}, withPassphrase)).toThrow(AuthenticationError);
    expect(auth({}, withPassphrase, { ...options, passphraseMode: true })).toBe('passphrase');
    expect(() =>
      auth({}, JSON.stringify({ passphrase: 'wrong' }), { ...options, passphraseMode: true }),
    ).toThrow();
    expect(() =>
      auth({ 'x-timestamp': timestamp, 'x-signature': 'bad' }, withPassphrase, {
        ...options,
        passphraseMode: true,
      }),
    ).toThrow();
  });
});
