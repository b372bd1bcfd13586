// The secret cache across warm invocations: fresh reads stay in memory, a read after the TTL goes back to
// Secrets Manager (so a rotated key is picked up even when the exchange never refuses the old one), and a
// read that fails serves the value read before, for up to an hour (stale-if-error).

import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretUnavailableError } from '../../lib/errors.ts';
import { SecretStore, type StaleRead } from '../../lib/lambda/secrets.ts';

const TTL_MS = 300_000;

const HOUR_MS = 3_600_000;

function store() {
  let clock = 1_700_000_000_000;
  let version = 0;
  const reads: string[] = [];
  const stale: StaleRead[] = [];
  /** While set, every read fails as Secrets Manager fails under throttling. */
  const brownout = { on: false };
  const client = {
    async send(command: GetSecretValueCommand) {
      reads.push(String(command.input.SecretId));
      if (brownout.on) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      version++;
      return { SecretString: JSON.stringify({ version }) };
    },
  };
  const secrets = new SecretStore({
    client,
    ttlMs: TTL_MS,
    now: () => clock,
    onStale: (read) => stale.push(read),
  });
  return { secrets, reads, stale, brownout, advance: (ms: number) => (clock += ms) };
}

describe('SecretStore cache', () => {
  it('serves a fresh value from memory until the TTL ends', async () => {
    const { secrets, reads, advance } = store();
    expect(await secrets.getJson('exchange')).toEqual({ version: 1 });
    advance(TTL_MS - 1);
    expect(await secrets.getJson('exchange')).toEqual({ version: 1 });
    expect(reads).toEqual(['exchange']);
  });

  it('reads the secret again once the TTL has passed, and caches the new value', async () => {
    const { secrets, reads, advance } = store();
    await secrets.getJson('exchange');
    advance(TTL_MS);
    expect(await secrets.getJson('exchange')).toEqual({ version: 2 });
    advance(1);
    expect(await secrets.getJson('exchange')).toEqual({ version: 2 });
    expect(reads).toEqual(['exchange', 'exchange']);
  });

  it('reads again before the TTL when asked to refresh (after the exchange refused a key)', async () => {
    const { secrets, reads } = store();
    await secrets.getJson('exchange');
    expect(await secrets.getJson('exchange', { refresh: true })).toEqual({ version: 2 });
    expect(await secrets.getJson('exchange')).toEqual({ version: 2 });
    expect(reads).toHaveLength(2);
  });

  it('keeps one cache entry per secret id', async () => {
    const { secrets, reads } = store();
    await secrets.getJson('exchange');
    await secrets.getJson('webhook');
    await secrets.getJson('exchange');
    expect(reads).toEqual(['exchange', 'webhook']);
  });
});

describe('SecretStore when a read fails (stale-if-error)', () => {
  it('serves the value read before when the read after the TTL fails, says so, and does not read again at once', async () => {
    const { secrets, reads, stale, brownout, advance } = store();
    const first = await secrets.getJson('exchange');
    advance(TTL_MS + 1);
    brownout.on = true;
    expect(await secrets.getJson('exchange')).toBe(first);
    expect(stale).toEqual([
      { secretId: 'exchange', ageMs: TTL_MS + 1, error: expect.any(SecretUnavailableError) },
    ]);
    // No read storm against a throttled service: the next calls are served from memory for a while.
    expect(await secrets.getJson('exchange')).toBe(first);
    expect(reads).toHaveLength(2);
    // Once reads work again, the new value replaces the old.
    advance(30_000);
    brownout.on = false;
    expect(await secrets.getJson('exchange')).toEqual({ version: 2 });
  });

  it('keeps a good value through a refresh that fails (a forged signature forces one), and serves it after', async () => {
    const { secrets, brownout, stale } = store();
    const first = await secrets.getJson('webhook');
    brownout.on = true;
    expect(await secrets.getJson('webhook', { refresh: true })).toBe(first);
    expect(await secrets.getJson('webhook')).toBe(first);
    expect(stale).toHaveLength(1);
  });

  it('serves a stale value for an hour after it was read, and then lets the failure through', async () => {
    const { secrets, brownout, advance } = store();
    const first = await secrets.getJson('exchange');
    brownout.on = true;
    advance(HOUR_MS);
    expect(await secrets.getJson('exchange')).toBe(first);
    advance(30_001);
    await expect(secrets.getJson('exchange')).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  it('has nothing to serve when the first read fails: the failure goes through, and the next call reads again', async () => {
    const { secrets, reads, brownout, stale } = store();
    brownout.on = true;
    await expect(secrets.getJson('exchange')).rejects.toBeInstanceOf(SecretUnavailableError);
    brownout.on = false;
    expect(await secrets.getJson('exchange')).toEqual({ version: 1 });
    expect(reads).toHaveLength(2);
    expect(stale).toEqual([]);
  });

  it('shares one read among callers that come while it runs, and gives each the stale value when it fails', async () => {
    const { secrets, reads, brownout, advance } = store();
    const first = await secrets.getJson('exchange');
    advance(TTL_MS);
    brownout.on = true;
    const values = await Promise.all([
      secrets.getJson('exchange'),
      secrets.getJson('exchange', { refresh: true }),
    ]);
    expect(values).toEqual([first, first]);
    expect(reads).toHaveLength(2);
  });
});
