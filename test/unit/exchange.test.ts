// The exchange's accounts: which client serves public market data, what a rotation yields, and whose
// clock the settle-coin discovery's cache goes by.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { Credentials } from '../../lib/bybit/sign.ts';
import { DISCOVERY_TTL_MS } from '../../lib/cancel/coverage.ts';
import {
  type AccountKeys,
  type CredentialsSource,
  Exchange,
  type MasterKeySource,
} from '../../lib/cancel/exchange.ts';
import { SecretError } from '../../lib/errors.ts';
import { describeError } from '../../lib/log.ts';

const OLD: Credentials = { apiKey: 'key-main', apiSecret: 'old-secret' };
const NEW: Credentials = { apiKey: 'key-main', apiSecret: 'new-secret' };

/** A secret that holds `before` until it is read again with `refresh`, then `after`. */
function source(before: AccountKeys, after: AccountKeys = before): CredentialsSource {
  return { id: 'exchange-secret', accounts: async (options) => (options?.refresh ? after : before) };
}

describe('Exchange.anyClient', () => {
  it('skips an account the secret holds malformed and serves the next one', async () => {
    const broken = new SecretError('exchange-secret', 'account "broken" is malformed');
    const exchange = new Exchange({
      credentials: source(
        new Map<string, Credentials | SecretError>([
          ['broken', broken],
          ['main', OLD],
        ]),
      ),
      client: {},
    });
    const client = await exchange.anyClient();
    expect(await exchange.withAccount('main', async (c) => c)).toBe(client);
  });

  it('says the secret holds no usable key pair when every entry is malformed', async () => {
    const broken = new SecretError('exchange-secret', 'account "broken" is malformed');
    const exchange = new Exchange({ credentials: source(new Map([['broken', broken]])), client: {} });
    await expect(exchange.anyClient()).rejects.toMatchObject({
      name: 'SecretError',
      message: 'secret exchange-secret: holds no usable key pair',
    });
  });
});

describe('Exchange.rotated', () => {
  it('gives the client of the key the secret holds when read again', async () => {
    const exchange = new Exchange({
      credentials: source(new Map([['main', OLD]]), new Map([['main', NEW]])),
      client: {},
    });
    const old = await exchange.withAccount('main', async (c) => c);
    const rotated = await exchange.rotated('main');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(old);
  });

  it('gives nothing when the secret still holds the refused key', async () => {
    const exchange = new Exchange({ credentials: source(new Map([['main', OLD]])), client: {} });
    await exchange.withAccount('main', async (c) => c);
    expect(await exchange.rotated('main')).toBeUndefined();
  });
});

describe('Exchange.discovery', () => {
  it('caches the settle coins by the clients clock', async () => {
    let time = 1_000_000;
    const exchange = new Exchange({
      credentials: source(new Map([['main', OLD]])),
      client: { now: () => time },
    });
    let reads = 0;
    const client = {
      instrumentsInfo: async () => {
        reads++;
        return { list: [], nextPageCursor: '' };
      },
    } as unknown as BybitClient;
    await exchange.discovery.listed(client, time + 5_000, 'verify');
    time += DISCOVERY_TTL_MS - 1;
    await exchange.discovery.listed(client, time + 5_000, 'verify');
    // Trading and pre-market: two reads a discovery.
    expect(reads).toBe(2);
    time += 1;
    await exchange.discovery.listed(client, time + 5_000, 'verify');
    expect(reads).toBe(4);
  });
});

describe('Exchange: the master key', () => {
  it('keeps why a master key cannot be parsed as the cause, which the log names without the key', async () => {
    const privateKey = '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----';
    const master: MasterKeySource = {
      id: 'master-secret',
      credentials: async () => ({ apiKey: 'MASTERKEY', privateKey }),
    };
    const exchange = new Exchange({ credentials: source(new Map()), master, client: {} });
    const error = await exchange.masterClient().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    const fields = describeError(error);
    expect(fields).toMatchObject({ errorType: 'SecretError', secretId: 'master-secret' });
    expect(String(fields.cause)).toMatch(/^\w*Error: \S/);
    expect(JSON.stringify(fields)).not.toContain('not a key');
    expect(JSON.stringify(fields)).not.toContain('MASTERKEY');
  });
});
