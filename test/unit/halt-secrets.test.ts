// What the secrets say about the enforced halt: the `subUid` of an account of the exchange secret, and the
// master key of HALT_MASTER_SECRET_ID, as the exchange reads them.

import { describe, expect, it } from 'vitest';
import type { Credentials } from '../../lib/bybit/sign.ts';
import { type CredentialsSource, Exchange, type MasterKeySource } from '../../lib/cancel/exchange.ts';
import { SecretError } from '../../lib/errors.ts';
import { parseExchangeSecret, parseMasterSecret } from '../../lib/lambda/secrets.ts';

describe('subUid in the exchange secret', () => {
  it('reads it as a string of digits, given as a string or a number', () => {
    const accounts = parseExchangeSecret('id', {
      accounts: {
        desk: { apiKey: 'k1', apiSecret: 's', subUid: '100400345' },
        fund: { apiKey: 'k2', apiSecret: 's', subUid: 100400346 },
        main: { apiKey: 'k3', apiSecret: 's' },
      },
    });
    expect(accounts.get('desk')).toEqual({ apiKey: 'k1', apiSecret: 's', subUid: '100400345' });
    expect(accounts.get('fund')).toMatchObject({ subUid: '100400346' });
    expect(accounts.get('main')).toEqual({ apiKey: 'k3', apiSecret: 's' });
    expect(
      parseExchangeSecret('id', { apiKey: 'k', apiSecret: 's', subUid: '7' }).get('default'),
    ).toMatchObject({
      subUid: '7',
    });
  });

  // 2 ** 60 is past what a JSON number holds exactly: the UID it was meant to be is lost.
  it.each([['12a'], [''], ['0123'], [-5], [1.5], [null], [2 ** 60], [['100400345']]])(
    'keeps the account’s key usable when its subUid is malformed (%j), and names the field',
    (subUid) => {
      const key = parseExchangeSecret('id', {
        accounts: { desk: { apiKey: 'k', apiSecret: 's', subUid } },
      }).get('desk');
      expect(key).not.toBeInstanceOf(Error);
      const parsed = key as { apiKey: string; subUid?: unknown };
      expect(parsed.apiKey).toBe('k');
      expect(parsed.subUid).toBeInstanceOf(SecretError);
      expect(String(parsed.subUid)).toContain(
        'accounts.desk: "subUid" must be the sub-account\'s UID (digits)',
      );
    },
  );
});

describe('the master secret', () => {
  it('takes an HMAC or an RSA key pair, and names what is missing without quoting it', () => {
    expect(parseMasterSecret('m', { apiKey: 'K', apiSecret: 'S' })).toEqual({ apiKey: 'K', apiSecret: 'S' });
    const pem = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';
    expect(parseMasterSecret('m', { apiKey: 'K', privateKey: pem })).toEqual({
      apiKey: 'K',
      privateKey: pem,
    });
    expect(() => parseMasterSecret('m', { apiKey: 'K' })).toThrow(
      'the secret: needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    );
    expect(() => parseMasterSecret('m', 'K:S')).toThrow(SecretError);
  });
});

describe('Exchange: sub-accounts and the master client', () => {
  const source = (reads: Parameters<typeof parseExchangeSecret>[1][]): CredentialsSource => {
    let read = 0;
    return {
      id: 'x',
      accounts: async ({ refresh = false } = {}) => {
        if (refresh) read = Math.min(read + 1, reads.length - 1);
        return parseExchangeSecret('x', reads[read]);
      },
    };
  };

  it('names each account’s sub UID and every key of the secret, the rotated one too on a fresh read', async () => {
    const exchange = new Exchange({
      credentials: source([
        {
          accounts: {
            desk: { apiKey: 'OLD', apiSecret: 's', subUid: '11' },
            main: { apiKey: 'M', apiSecret: 's' },
          },
        },
        {
          accounts: {
            desk: { apiKey: 'NEW', apiSecret: 's', subUid: '11' },
            main: { apiKey: 'M', apiSecret: 's' },
          },
        },
      ]),
      client: {},
    });
    const cached = await exchange.subAccounts();
    expect(cached.subUids).toEqual(new Map([['desk', '11']]));
    expect([...cached.ownKeys]).toEqual(['OLD', 'M']);
    const fresh = await exchange.subAccounts({ refresh: true });
    expect(fresh.keyOf.get('desk')).toBe('NEW');
  });

  it('answers undefined without a master key, builds one client per key, and names a broken one', async () => {
    const credentials = source([{ apiKey: 'A', apiSecret: 's' }]);
    expect(await new Exchange({ credentials, client: {} }).masterClient()).toBeUndefined();
    let key: Credentials = { apiKey: 'MASTER', apiSecret: 's' };
    const master: MasterKeySource = { id: 'master-secret', credentials: async () => key };
    const exchange = new Exchange({ credentials, master, client: {} });
    const first = await exchange.masterClient();
    expect(first?.apiKey).toBe('MASTER');
    expect(await exchange.masterClient()).toBe(first);
    key = { apiKey: 'ROTATED', apiSecret: 's' };
    expect((await exchange.masterClient())?.apiKey).toBe('ROTATED');
    key = {
      apiKey: 'BROKEN',
      privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----',
    };
    await expect(exchange.masterClient()).rejects.toThrow(
      'secret master-secret: the master key cannot be parsed',
    );
  });
});
