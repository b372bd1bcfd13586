// The secret cache across warm invocations: fresh reads stay in memory, a read after the TTL goes back to
// Secrets Manager (so a rotated key is picked up even when the exchange never refuses the old one).

import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretStore } from '../../lib/lambda/secrets.ts';

const TTL_MS = 300_000;

function store() {
  let clock = 1_700_000_000_000;
  let version = 0;
  const reads: string[] = [];
  const client = {
    async send(command: GetSecretValueCommand) {
      reads.push(String(command.input.SecretId));
      version++;
      return { SecretString: JSON.stringify({ version }) };
    },
  };
  const secrets = new SecretStore({ client, ttlMs: TTL_MS, now: () => clock });
  return { secrets, reads, advance: (ms: number) => (clock += ms) };
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
