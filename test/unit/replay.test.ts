import { describe, expect, it } from 'vitest';
import { releaseSignature, signatureKey, takeSignature } from '../../lib/lambda/replay.ts';
import type { StateKey, StateStore, WriteOptions } from '../../lib/lambda/state.ts';

const NOW = Date.parse('2026-12-06T01:30:00.000Z');
const SKEW_MS = 30_000;
const SIGNATURE = 'a'.repeat(64);
/** SHA-256 of SIGNATURE, worked out apart from the code under test. */
const KEY = { pk: 'signature#ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb', sk: 'seen' };

/** A state table in memory, recording what it was asked. */
function fakeState(first: boolean, stored?: unknown) {
  const calls: unknown[][] = [];
  const state = {
    putIfAbsent: async (key: StateKey, value: unknown, options: WriteOptions) => {
      calls.push(['putIfAbsent', key, value, options]);
      return first;
    },
    get: async (key: StateKey) => {
      calls.push(['get', key]);
      return stored === undefined ? undefined : { ...key, value: stored };
    },
    delete: async (key: StateKey) => {
      calls.push(['delete', key]);
    },
  } as unknown as StateStore;
  return { state, calls };
}

const request = (timestamp: number) => ({
  signature: SIGNATURE,
  timestamp,
  route: '/kill-switch',
  requestId: 'req-1',
});

describe('signatureKey', () => {
  it('keys a signature by its SHA-256 in the signature partition, never the signature itself', () => {
    expect(signatureKey(SIGNATURE)).toEqual(KEY);
    expect(JSON.stringify(signatureKey(SIGNATURE))).not.toContain(SIGNATURE);
  });
});

describe('takeSignature', () => {
  it('takes a first signature, kept until the timestamp leaves the window plus a second', async () => {
    const { state, calls } = fakeState(true);

    const claim = await takeSignature(state, request(NOW), SKEW_MS, NOW);

    expect(claim).toEqual({ first: true, key: KEY });
    expect(calls).toEqual([
      [
        'putIfAbsent',
        KEY,
        { route: '/kill-switch', requestId: 'req-1', at: '2026-12-06T01:30:00.000Z' },
        { ttlSeconds: 31 },
      ],
    ]);
  });

  it('rounds the time left up to a whole second', async () => {
    const { state, calls } = fakeState(true);

    await takeSignature(state, request(NOW - 10_500), SKEW_MS, NOW);

    expect(calls[0]?.[3]).toEqual({ ttlSeconds: 21 });
  });

  it('keeps a signature at least one second (plus the margin) once its timestamp has left the window', async () => {
    const { state, calls } = fakeState(true);

    await takeSignature(state, request(NOW - 60_000), SKEW_MS, NOW);

    expect(calls[0]?.[3]).toEqual({ ttlSeconds: 2 });
  });

  it("answers a second request with the first one's request id", async () => {
    const { state, calls } = fakeState(false, { route: '/kill-switch', requestId: 'req-0', at: 'earlier' });

    const claim = await takeSignature(state, { ...request(NOW), requestId: 'req-2' }, SKEW_MS, NOW);

    expect(claim).toEqual({ first: false, firstRequestId: 'req-0' });
    expect(calls.map((c) => c[0])).toEqual(['putIfAbsent', 'get']);
    expect(calls[1]).toEqual(['get', KEY]);
  });

  it("says 'unknown' when the first one's record is gone by the time it is read", async () => {
    const { state } = fakeState(false);

    expect(await takeSignature(state, request(NOW), SKEW_MS, NOW)).toEqual({
      first: false,
      firstRequestId: 'unknown',
    });
  });
});

describe('releaseSignature', () => {
  it('deletes the signature record', async () => {
    const { state, calls } = fakeState(true);

    await releaseSignature(state, KEY);

    expect(calls).toEqual([['delete', KEY]]);
  });
});
