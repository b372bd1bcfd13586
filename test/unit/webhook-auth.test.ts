import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../lib/errors.ts';
import { authenticateWebhook, routeSignature, webhookSignature } from '../../lib/lambda/webhook-auth.ts';

// The worked examples of docs/reference/http-api.md, computed independently with:
//   printf '%s' '1795253400000.POST /cancel.<body>' | openssl dgst -sha256 -hmac 'example-webhook-key-do-not-use-7f3a9c' -hex
//   printf '%s' '1795253400000.<body>' | openssl dgst -sha256 -hmac 'example-webhook-key-do-not-use-7f3a9c' -hex
const key = 'example-webhook-key-do-not-use-7f3a9c';
const timestamp = '1795253400000';
const body = '{"category":"linear","symbol":"BTCUSDT","orderLinkId":"tv-btc-long-1"}';
const signature = '9b3612ffd11feef3626975e3e6b50248476eeb7b68ad346f874f210e8a17484a';
const legacy = 'd52b446b60130e1684058c6b24e51ec087358b0f3ecdd0271280d2d37f02f44c';
const secret = { webhookSecret: key, passphrase: 'tradingview-passphrase-123456' };
const options = {
  maxSkewMs: 300_000,
  passphraseMode: false,
  route: 'POST /cancel',
  legacySignature: false,
  now: () => Number(timestamp) + 1000,
};

describe('routeSignature', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<METHOD> <path>.<body>"', () => {
    expect(routeSignature(key, timestamp, 'POST /cancel', body)).toBe(signature);
    expect(routeSignature(key, timestamp, 'POST /cancel', Buffer.from(body))).toBe(signature);
    // The heartbeat example of docs/guides/dead-mans-switch.md.
    expect(routeSignature(key, timestamp, 'POST /heartbeat', '{"ttlSeconds":300}')).toBe(
      'fa390368495fd7b71c76a21dd4736a888e85877e0e4d6549197e5f1b64d0907a',
    );
  });
});

describe('webhookSignature (legacy)', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    expect(webhookSignature(key, timestamp, body)).toBe(legacy);
    expect(webhookSignature(key, timestamp, Buffer.from(body))).toBe(legacy);
  });
});

describe('authenticateWebhook', () => {
  const auth = (headers: Record<string, string>, raw = body, opts = options) =>
    authenticateWebhook(headers, Buffer.from(raw), secret, opts);

  it('accepts a request signed as documented', () => {
    expect(auth({ 'x-timestamp': timestamp, 'x-signature': signature })).toBe('signature');
  });

  it('refuses a signature made for another route, legacy signatures allowed or not', () => {
    const headers = { 'x-timestamp': timestamp, 'x-signature': signature };
    for (const route of ['POST /cancel-all', 'POST /heartbeat', 'GET /cancel', 'POST /cancel/'])
      for (const legacySignature of [false, true])
        expect(() => auth(headers, body, { ...options, route, legacySignature })).toThrow(
          `sign "<x-timestamp>.${route}.<body>"`,
        );
  });

  it('takes the legacy signature only where it is allowed, and says so', () => {
    const headers = { 'x-timestamp': timestamp, 'x-signature': legacy };
    expect(() => auth(headers)).toThrow(AuthenticationError);
    expect(auth(headers, body, { ...options, legacySignature: true })).toBe('legacySignature');
    // The route-bound signature still says it is one where the legacy one is allowed.
    expect(
      auth({ 'x-timestamp': timestamp, 'x-signature': signature }, body, {
        ...options,
        legacySignature: true,
      }),
    ).toBe('signature');
  });

  it('takes either key during a rotation, for either kind of signature', () => {
    const rotated = { webhookSecret: 'the-new-webhook-key-0000000000', previousWebhookSecret: key };
    const headers = (value: string) => ({ 'x-timestamp': timestamp, 'x-signature': value });
    const opts = { ...options, legacySignature: true };
    expect(authenticateWebhook(headers(signature), Buffer.from(body), rotated, opts)).toBe('signature');
    expect(authenticateWebhook(headers(legacy), Buffer.from(body), rotated, opts)).toBe('legacySignature');
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
