// The SDK client StateStore builds when none is given (production): it must retry a little and give up on a
// hung connection, never hold a kill switch's aftermath until Lambda kills it. The SDK module is replaced by a
// fake that records how the client was built and answers one read.

import { describe, expect, it, vi } from 'vitest';

const built = vi.hoisted(() => [] as unknown[]);

vi.mock('@aws-sdk/client-dynamodb', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-dynamodb')>();
  class DynamoDBClient {
    constructor(options: unknown) {
      built.push(options);
    }
    async send() {
      return {};
    }
  }
  return { ...sdk, DynamoDBClient };
});

const { StateStore } = await import('../../lib/lambda/state.ts');

describe('StateStore without a client', () => {
  it('builds one SDK client with retries, and connection and request timeouts that throw', async () => {
    const store = new StateStore({ tableName: 'bybit-cancel-test-state' });
    expect(await store.get({ pk: 'halt', sk: 'main' })).toBe(undefined);
    expect(await store.get({ pk: 'halt', sk: 'main' })).toBe(undefined);
    expect(built).toEqual([
      {
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
      },
    ]);
  });
});
