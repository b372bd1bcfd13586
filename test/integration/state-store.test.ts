// The state store against a real DynamoDB implementation (dynalite on loopback, through the real SDK client),
// with the table the packaged template declares: what later features build on (put if absent for replay
// caches, newest-first queries, expiry) holds under DynamoDB's own rules.

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StateError } from '../../lib/errors.ts';
import { StateStore } from '../../lib/lambda/state.ts';
import { type DynamoEndpoint, startDynamo, type TableDefinition } from '../support/dynamodb.ts';
import { functionEnv, referenced } from '../support/reporting.ts';

const template = inject('packaged').template;
const table = referenced(
  template,
  functionEnv(template, 'CancelAllLambdaFunction').STATE_TABLE,
) as unknown as TableDefinition;
let dynamo: DynamoEndpoint;
let now = Date.parse('2026-12-05T12:00:00.000Z');
const clock = () => now;

beforeAll(async () => {
  dynamo = await startDynamo({ tables: [table] });
});
afterAll(() => dynamo.close());

const store = () => new StateStore({ tableName: table.TableName, client: dynamo.client, now: clock });

describe('StateStore on DynamoDB', () => {
  it('puts if absent once: a replayed key is refused until its TTL has passed', async () => {
    const state = store();
    const key = { pk: 'signature#3f2a', sk: 'seen' };
    expect(await state.putIfAbsent(key, { requestId: 'r1' }, { ttlSeconds: 300 })).toBe(true);
    expect(await state.putIfAbsent(key, { requestId: 'r2' }, { ttlSeconds: 300 })).toBe(false);
    expect((await state.get(key))?.value).toEqual({ requestId: 'r1' });
    now += 301_000;
    // Expired, though DynamoDB has not deleted it yet: absent to a read, and free to take again.
    expect(await state.get(key)).toBeUndefined();
    expect(await state.putIfAbsent(key, { requestId: 'r3' }, { ttlSeconds: 300 })).toBe(true);
    expect((await state.get(key))?.value).toEqual({ requestId: 'r3' });
  });

  it('leases an item to one holder at a time, in version order: a newer change waits, an older one is stale', async () => {
    const state = store();
    const key = { pk: 'dead-mans-switch', sk: 'turn' };
    expect(await state.lease(key, 'a', now + 10_000, 100)).toEqual({ taken: true });
    // Another holder, newer, while a's lease runs: held, and it may not end a's lease.
    expect(await state.lease(key, 'b', now + 10_000, 200)).toEqual({ taken: false, why: 'held' });
    expect(await state.release(key, 'b', { version: 200, value: { by: 'b' } })).toBe(false);
    expect(await state.release(key, 'a', { version: 100, value: { by: 'a' } })).toBe(true);
    // The same version again, or an older one: stale, with what the item holds.
    for (const version of [100, 99]) {
      expect(await state.lease(key, 'c', now + 10_000, version)).toEqual({
        taken: false,
        why: 'stale',
        version: 100,
        value: { by: 'a' },
      });
    }
    // A lease ended without a change leaves the version as it was.
    expect(await state.lease(key, 'b', now + 10_000, 200)).toEqual({ taken: true });
    expect(await state.release(key, 'b')).toBe(true);
    expect(await state.lease(key, 'b', now + 10_000, 200)).toEqual({ taken: true });
    // b stops without ending its lease: once it has run out, the next change may take it, and b's late end
    // changes nothing.
    now += 10_001;
    expect(await state.lease(key, 'd', now + 10_000, 300)).toEqual({ taken: true });
    expect(await state.release(key, 'b', { version: 200, value: { by: 'b' } })).toBe(false);
    expect(await state.release(key, 'd', { version: 300, value: { by: 'd' } })).toBe(true);
    expect((await state.get(key))?.value).toEqual({ by: 'd' });
  });

  it('queries one partition newest first with a limit, and deletes', async () => {
    const state = store();
    for (const day of ['01', '03', '02', '05', '04']) {
      await state.put({ pk: 'drills', sk: `2026-12-${day}T03:00:00.000Z#r${day}` }, { day });
    }
    await state.put({ pk: 'last', sk: 'drill' }, { day: 'other partition' });
    const newest = await state.query<{ day: string }>('drills', { limit: 3 });
    expect(newest.map((i) => i.value.day)).toEqual(['05', '04', '03']);
    const oldest = await state.query<{ day: string }>('drills', { limit: 2, newestFirst: false });
    expect(oldest.map((i) => i.value.day)).toEqual(['01', '02']);
    await state.delete({ pk: 'drills', sk: '2026-12-05T03:00:00.000Z#r05' });
    expect((await state.query<{ day: string }>('drills', { limit: 1 }))[0]?.value.day).toBe('04');
  });

  it('fails with a StateError naming the table when it does not exist', async () => {
    const missing = new StateStore({ tableName: 'bybit-cancel-nowhere-state', client: dynamo.client });
    const error = await missing.put({ pk: 'last', sk: 'x' }, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toBe(
      'PutItem on bybit-cancel-nowhere-state: the table does not exist (check STATE_TABLE and the region)',
    );
  });

  it('ends a call by the deadline when DynamoDB takes the connection and never answers', async () => {
    const held: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as import('node:net').AddressInfo;
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const hung = new StateStore({
      tableName: table.TableName,
      client: new DynamoDBClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        maxAttempts: 1,
      }),
    });
    try {
      hung.deadline = Date.now() + 300;
      const started = Date.now();
      const error = await hung.get({ pk: 'last', sk: 'drill' }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(2000);
      expect((error as Error).message).toMatch(/^GetItem on .+: no answer from DynamoDB within \d+ ms$/);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });
});
