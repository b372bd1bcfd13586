// The SDK client SecretStore builds when none is given (production): it must retry a few times and give up on
// a hung connection, never hold the invocation until Lambda kills it. The SDK module is replaced by a fake
// that records how the client was built and answers one read.

import { describe, expect, it, vi } from 'vitest';

const built = vi.hoisted(() => [] as unknown[]);

vi.mock('@aws-sdk/client-secrets-manager', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-secrets-manager')>();
  class SecretsManagerClient {
    constructor(options: unknown) {
      built.push(options);
    }
    async send() {
      return { SecretString: '{"webhookSecret":"k"}' };
    }
  }
  return { ...sdk, SecretsManagerClient };
});

const { SecretStore } = await import('../../lib/lambda/secrets.ts');

describe('SecretStore without a client', () => {
  it('builds one SDK client with retries and connection and request timeouts', async () => {
    const store = new SecretStore({ ttlMs: 0 });
    expect(await store.getJson('prod/webhook')).toEqual({ webhookSecret: 'k' });
    expect(await store.getJson('prod/webhook')).toEqual({ webhookSecret: 'k' });
    expect(built).toEqual([
      {
        maxAttempts: 4,
        requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
      },
    ]);
  });
});
