// The exchange secret's key pairs, as parsed: an apiKey that no HTTP header can carry is refused here, so that
// its account fails alone and at once, like an account without a key, instead of at every request.

import { describe, expect, it } from 'vitest';
import { SecretError } from '../../lib/errors.ts';
import { parseExchangeSecret } from '../../lib/lambda/secrets.ts';

describe('an apiKey', () => {
  it.each([
    ['a trailing newline', 'abcDEF123456\n'],
    ['a trailing carriage return', 'abcDEF123456\r'],
    ['a byte order mark', '\ufeffabcDEF123456'],
    ['a zero-width space', 'abc\u200bDEF123456'],
    ['an inner space', 'abc DEF123456'],
    ['a tab', 'abcDEF\t123456'],
    ['a non-ASCII letter', 'abcDÉF123456'],
  ])('with %s fails its own account, naming the secret but not the key', (_, apiKey) => {
    const accounts = parseExchangeSecret('bybit-cancel/prod/exchange-keys', {
      accounts: { main: { apiKey: 'abcDEF123456', apiSecret: 's' }, broken: { apiKey, apiSecret: 's' } },
    });
    expect(accounts.get('main')).toEqual({ apiKey: 'abcDEF123456', apiSecret: 's' });
    const error = accounts.get('broken') as SecretError;
    expect(error).toBeInstanceOf(SecretError);
    expect(error.message).toBe(
      'secret bybit-cancel/prod/exchange-keys: accounts.broken: "apiKey" holds a character no HTTP header can carry (a space, a line break, or anything outside printable ASCII)',
    );
    expect(error.message).not.toContain(apiKey.trim());
  });

  it('refuses a single key pair with such a key as the whole secret', () => {
    expect(() => parseExchangeSecret('id', { apiKey: 'abc\n', apiSecret: 's' })).toThrow(SecretError);
  });

  it('takes every printable ASCII character but the space, as Bybit keys and RSA key ids are', () => {
    const apiKey = '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~';
    expect(parseExchangeSecret('id', { apiKey, privateKey: '-----BEGIN PRIVATE KEY-----' })).toEqual(
      new Map([['default', { apiKey, privateKey: '-----BEGIN PRIVATE KEY-----' }]]),
    );
  });
});
