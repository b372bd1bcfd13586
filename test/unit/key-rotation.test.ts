// Key rotation as the exchange reports it: a key refused as invalid (10003) or a signature refused (10004,
// the secret half rotated under the same key) makes the exchange read the secret again, once, and retry
// with the new key. Other refusals are not rotations.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { Credentials } from '../../lib/bybit/sign.ts';
import { type CredentialsSource, Exchange } from '../../lib/cancel/exchange.ts';
import { BybitApiError } from '../../lib/errors.ts';

function rotatingSource(before: Credentials, after: Credentials) {
  const reads: boolean[] = [];
  let current = before;
  const source: CredentialsSource = {
    id: 'exchange-secret',
    async accounts(options) {
      reads.push(options?.refresh === true);
      if (options?.refresh) current = after;
      return new Map([['main', current]]);
    },
  };
  return { source, reads };
}

const OLD = { apiKey: 'key-main', apiSecret: 'old-secret' };
const NEW = { apiKey: 'key-main', apiSecret: 'new-secret' };

/** Work that the exchange refuses with `retCode` while the old secret signs, and that succeeds with the new. */
async function runWith(retCode: number) {
  const { source, reads } = rotatingSource(OLD, NEW);
  const exchange = new Exchange({ credentials: source, client: { baseUrl: 'http://exchange.test' } });
  const signers: BybitClient[] = [];
  const outcome = await exchange
    .withAccount('main', async (client) => {
      signers.push(client);
      if (signers.length === 1) throw new BybitApiError('cancel-all', retCode, 'refused', 'credentials');
      return 'done';
    })
    .catch((error: unknown) => error);
  return { outcome, reads, signers };
}

describe('Exchange key rotation', () => {
  it.each([
    [10003, 'the API key refused as invalid'],
    [10004, 'the signature refused (secret rotated under the same key)'],
  ])('re-reads the secret after %s (%s) and retries once with the new key', async (retCode) => {
    const { outcome, reads, signers } = await runWith(retCode);
    expect(outcome).toBe('done');
    expect(reads.filter(Boolean)).toHaveLength(1);
    expect(signers).toHaveLength(2);
    // A new key means a new client: the old one would keep signing with the old secret.
    expect(signers[1]).not.toBe(signers[0]);
  });

  it.each([
    [10005, 'permission denied'],
    [10010, 'IP not allowed'],
    [10001, 'a parameter error'],
  ])('does not treat %s (%s) as a rotation', async (retCode) => {
    const { outcome, reads, signers } = await runWith(retCode);
    expect(outcome).toBeInstanceOf(BybitApiError);
    expect((outcome as BybitApiError).retCode).toBe(retCode);
    expect(reads.filter(Boolean)).toHaveLength(0);
    expect(signers).toHaveLength(1);
  });

  it('gives up with the refusal when the re-read secret holds the same key', async () => {
    const { source, reads } = rotatingSource(OLD, { ...OLD });
    const exchange = new Exchange({ credentials: source, client: {} });
    let runs = 0;
    const outcome = await exchange
      .withAccount('main', async () => {
        runs++;
        throw new BybitApiError('cancel-all', 10004, 'error sign!', 'credentials');
      })
      .catch((error: unknown) => error);
    expect((outcome as BybitApiError).retCode).toBe(10004);
    expect(runs).toBe(1);
    expect(reads.filter(Boolean)).toHaveLength(1);
  });

  it('keeps the client of an unchanged key across calls (its rate-limit windows carry over)', async () => {
    const { source } = rotatingSource(OLD, NEW);
    const exchange = new Exchange({ credentials: source, client: {} });
    const first = await exchange.withAccount('main', async (client) => client);
    const second = await exchange.withAccount(undefined, async (client) => client);
    expect(second).toBe(first);
  });

  it('needs an account name when the secret holds several, and refuses one it does not hold', async () => {
    const source: CredentialsSource = {
      id: 'exchange-secret',
      accounts: async () =>
        new Map([
          ['main', OLD],
          ['hedge', NEW],
        ]),
    };
    const exchange = new Exchange({ credentials: source, client: {} });
    const work = async () => 'ran';
    await expect(exchange.withAccount(undefined, work)).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'account',
      message: 'account is required: the secret holds main, hedge',
    });
    await expect(exchange.withAccount('ghost', work)).rejects.toMatchObject({
      field: 'account',
      message: 'unknown account "ghost"',
    });
    expect(await exchange.withAccount('hedge', work)).toBe('ran');
  });

  it('names the account, not the key, when its key cannot be parsed', async () => {
    const broken = {
      apiKey: 'key-main',
      privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----',
    };
    const source: CredentialsSource = {
      id: 'exchange-secret',
      accounts: async () => new Map([['main', broken]]),
    };
    const exchange = new Exchange({ credentials: source, client: {} });
    const error = await exchange.withAccount('main', async () => 'ran').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SecretError' });
    expect((error as Error).message).toContain('the key of account "main" cannot be parsed');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
