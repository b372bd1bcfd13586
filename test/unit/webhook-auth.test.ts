import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  SecretError,
  SignatureMismatchError,
  SourceNotAllowedError,
} from '../../lib/errors.ts';
import { parseWebhookSecret, type WebhookSecret } from '../../lib/lambda/secrets.ts';
import {
  authenticateWebhook,
  routeSignature,
  sourceAllowlist,
  webhookSignature,
} from '../../lib/lambda/webhook-auth.ts';

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

describe('authenticateWebhook, message by message', () => {
  const given = { webhookSecret: key, passphrase: 'tradingview-passphrase-123456' };
  const refusal = (headers: Record<string, string>, passphraseMode = false, raw = body) => {
    try {
      authenticateWebhook(headers, Buffer.from(raw), given, { ...options, passphraseMode });
    } catch (error) {
      return [(error as Error).name, (error as Error).message];
    }
    return undefined;
  };

  it.each([
    ['no headers', {}, 'AuthenticationError', 'x-timestamp and x-signature headers are required'],
    [
      'an empty signature',
      { 'x-timestamp': timestamp, 'x-signature': '' },
      'AuthenticationError',
      'x-timestamp and x-signature headers are required',
    ],
    [
      'letters before the timestamp',
      { 'x-timestamp': `x${timestamp}`, 'x-signature': signature },
      'AuthenticationError',
      'x-timestamp must be Unix time in milliseconds',
    ],
    [
      'letters after the timestamp',
      { 'x-timestamp': `${timestamp}x`, 'x-signature': signature },
      'AuthenticationError',
      'x-timestamp must be Unix time in milliseconds',
    ],
    [
      'a timestamp of 17 digits',
      { 'x-timestamp': '1'.repeat(17), 'x-signature': signature },
      'AuthenticationError',
      'x-timestamp must be Unix time in milliseconds',
    ],
    [
      'a wrong signature',
      { 'x-timestamp': timestamp, 'x-signature': 'ab'.repeat(32) },
      'SignatureMismatchError',
      'x-signature does not match: sign "<x-timestamp>.POST /cancel.<body>"',
    ],
  ])('refuses %s, saying why', (_, headers, name, message) => {
    expect(refusal(headers)).toEqual([name, message]);
  });

  it('in passphrase mode, takes a request with one signature header for a signed one, never for a passphrase', () => {
    const withPassphrase = JSON.stringify({ ...JSON.parse(body), passphrase: given.passphrase });
    expect(refusal({ 'x-timestamp': timestamp }, true, withPassphrase)).toEqual([
      'AuthenticationError',
      'x-timestamp and x-signature headers are required',
    ]);
    expect(refusal({ 'x-signature': signature }, true, withPassphrase)).toEqual([
      'AuthenticationError',
      'x-timestamp and x-signature headers are required',
    ]);
    expect(refusal({}, true, JSON.stringify({ passphrase: 'wrong-passphrase-000000' }))).toEqual([
      'SignatureMismatchError',
      'missing signature headers or wrong passphrase',
    ]);
    expect(refusal({}, true, 'not json')).toEqual([
      'SignatureMismatchError',
      'missing signature headers or wrong passphrase',
    ]);
    expect(refusal({}, true, JSON.stringify({ passphrase: 12345 }))).toEqual([
      'SignatureMismatchError',
      'missing signature headers or wrong passphrase',
    ]);
    expect(refusal({}, true, 'null')).toEqual([
      'SignatureMismatchError',
      'missing signature headers or wrong passphrase',
    ]);
  });

  it('accepts a timestamp of 16 digits and a signed request in passphrase mode', () => {
    const far = '1'.repeat(16);
    const ok = { 'x-timestamp': far, 'x-signature': routeSignature(key, far, 'POST /cancel', body) };
    expect(authenticateWebhook(ok, Buffer.from(body), given, { ...options, now: () => Number(far) })).toBe(
      'signature',
    );
    expect(refusal({ 'x-timestamp': timestamp, 'x-signature': signature }, true)).toBeUndefined();
  });
});

describe('keys that are no keys', () => {
  const blanks = [
    ['absent', undefined],
    ['empty', ''],
    ['whitespace', ' \t\n  '],
  ] as const;
  const signedWith = (k: string) => ({
    'x-timestamp': timestamp,
    'x-signature': routeSignature(k, timestamp, 'POST /cancel', body),
  });
  const auth = (headers: Record<string, string>, given: WebhookSecret, opts = options, raw = body) =>
    authenticateWebhook(headers, Buffer.from(raw), given, opts);

  it.each(blanks)(
    'a previous key that is %s authenticates nothing, while the current key still works',
    (_, blank) => {
      const given = { webhookSecret: key, ...(blank === undefined ? {} : { previousWebhookSecret: blank }) };
      for (const forged of ['', ' ', blank ?? '']) {
        expect(() => auth(signedWith(forged), given)).toThrow(SignatureMismatchError);
      }
      expect(auth(signedWith(key), given)).toBe('signature');
    },
  );

  it.each([
    ['empty', ''],
    ['whitespace', ' \t\n  '],
  ])('a current key that is %s authenticates nothing, not even a request signed with it', (_, blank) => {
    for (const forged of ['', blank]) {
      expect(() => auth(signedWith(forged), { webhookSecret: blank })).toThrow(SignatureMismatchError);
    }
  });

  it.each(blanks)('a passphrase that is %s authenticates nothing in passphrase mode', (_, blank) => {
    const given = { webhookSecret: key, ...(blank === undefined ? {} : { passphrase: blank }) };
    const passphraseMode = { ...options, passphraseMode: true };
    for (const sent of ['', ' ', blank ?? '']) {
      const raw = JSON.stringify({ ...JSON.parse(body), passphrase: sent });
      expect(() => auth({}, given, passphraseMode, raw)).toThrow(SignatureMismatchError);
    }
    expect(() => auth({}, given, passphraseMode, body)).toThrow(SignatureMismatchError);
  });
});

describe('parseWebhookSecret', () => {
  const parse = (value: unknown) => parseWebhookSecret('webhook-id', value);

  it('keeps the keys it is given and leaves out the ones it is not', () => {
    expect(parse({ webhookSecret: key })).toEqual({ webhookSecret: key });
    const full = { webhookSecret: key, previousWebhookSecret: `old-${key}`, passphrase: 'p'.repeat(16) };
    expect(parse(full)).toEqual(full);
  });

  it.each([
    ['no webhookSecret', {}, 'webhookSecret'],
    ['an empty webhookSecret', { webhookSecret: '' }, 'webhookSecret'],
    ['a blank webhookSecret of 16 spaces', { webhookSecret: ' '.repeat(16) }, 'webhookSecret'],
    ['a webhookSecret of 15 characters', { webhookSecret: 'k'.repeat(15) }, 'webhookSecret'],
    ['a webhookSecret that is a number', { webhookSecret: 1234567890123456 }, 'webhookSecret'],
    [
      'an empty previousWebhookSecret',
      { webhookSecret: key, previousWebhookSecret: '' },
      'previousWebhookSecret',
    ],
    [
      'a blank previousWebhookSecret',
      { webhookSecret: key, previousWebhookSecret: '\t'.repeat(16) },
      'previousWebhookSecret',
    ],
    [
      'a null previousWebhookSecret',
      { webhookSecret: key, previousWebhookSecret: null },
      'previousWebhookSecret',
    ],
    ['an empty passphrase', { webhookSecret: key, passphrase: '' }, 'passphrase'],
    ['a blank passphrase', { webhookSecret: key, passphrase: ' '.repeat(20) }, 'passphrase'],
    ['a passphrase of 15 characters', { webhookSecret: key, passphrase: 'p'.repeat(15) }, 'passphrase'],
  ])('refuses %s, naming the field and never its value', (_, value, field) => {
    const error = (() => {
      try {
        parse(value);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(
      `secret webhook-id: "${field}" must be a string of at least 16 characters, not all blank`,
    );
  });

  it.each([
    ['an array', [key]],
    ['null', null],
    ['a string', key],
  ])('refuses %s', (_, value) => {
    expect(() => parse(value)).toThrow(new SecretError('webhook-id', 'must be a JSON object'));
  });
});

describe('sourceAllowlist', () => {
  const admits = (entries: string[], address: string | undefined) => {
    try {
      sourceAllowlist(entries)(address);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(SourceNotAllowedError);
      return false;
    }
  };

  it('admits every address, and none at all, when the list is empty', () => {
    for (const address of ['203.0.113.7', '2001:db8::1', undefined, '', 'not an address']) {
      expect(admits([], address)).toBe(true);
    }
  });

  it('admits an address listed alone, and not its neighbours', () => {
    const list = ['52.89.214.238'];
    expect(admits(list, '52.89.214.238')).toBe(true);
    expect(admits(list, '52.89.214.239')).toBe(false);
    expect(admits(list, '52.89.214.237')).toBe(false);
  });

  it('admits the whole of an IPv4 range, to its edges, and nothing past them', () => {
    const list = ['203.0.113.0/24'];
    for (const address of ['203.0.113.0', '203.0.113.128', '203.0.113.255'])
      expect(admits(list, address)).toBe(true);
    for (const address of ['203.0.112.255', '203.0.114.0']) expect(admits(list, address)).toBe(false);
  });

  it('admits an IPv6 range and address, and never an IPv4 address that shares their bits', () => {
    const list = ['2001:db8::/32', '::1'];
    expect(admits(list, '2001:db8:ffff::1')).toBe(true);
    expect(admits(list, '::1')).toBe(true);
    expect(admits(list, '2001:db9::1')).toBe(false);
    // 2001:0db8 read as IPv4.
    expect(admits(list, '32.1.13.184')).toBe(false);
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    const list = ['203.0.113.0/24'];
    expect(admits(list, '::ffff:203.0.113.7')).toBe(true);
    expect(admits(list, '::FFFF:203.0.113.7')).toBe(true);
    expect(admits(list, '::ffff:203.0.114.7')).toBe(false);
  });

  it('reads the hex form of an IPv4-mapped address as the IPv4 address it carries too', () => {
    // ::ffff:cb00:7107 is ::ffff:203.0.113.7 written in hex.
    expect(admits(['203.0.113.7'], '::ffff:cb00:7107')).toBe(true);
    expect(admits(['203.0.113.7'], '::ffff:cb00:7108')).toBe(false);
  });

  it('never reads an IPv6 address that merely contains ::ffff: as an IPv4 address', () => {
    // 1::ffff:1.2.3.4 is not IPv4-mapped: dropping its "::ffff:" would leave 11.2.3.4.
    expect(admits(['11.2.3.4'], '1::ffff:1.2.3.4')).toBe(false);
    expect(admits(['0.0.0.0/0'], '1::ffff:1.2.3.4')).toBe(false);
    expect(admits(['::/0'], '1::ffff:1.2.3.4')).toBe(true);
  });

  it('refuses a request whose source address is missing or not an address', () => {
    const list = ['0.0.0.0/0', '::/0'];
    expect(admits(list, '198.51.100.1')).toBe(true);
    expect(admits(list, 'fe80::1')).toBe(true);
    for (const address of [undefined, '', 'localhost', '203.0.113.7, 10.0.0.1']) {
      expect(admits(list, address)).toBe(false);
    }
  });
});
