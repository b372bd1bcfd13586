import { describe, expect, it } from 'vitest';
import { StateError } from '../../lib/errors.ts';
import { type StateClient, StateStore } from '../../lib/lambda/state.ts';

/** A client that records what it is sent and answers with `answer` (or throws it). */
function fakeClient(answer: (command: { input: Record<string, unknown> }) => unknown) {
  const sent: { name: string; input: Record<string, unknown>; signal?: AbortSignal }[] = [];
  const client = {
    send: async (
      command: { input: Record<string, unknown>; constructor: { name: string } },
      options?: { abortSignal?: AbortSignal },
    ) => {
      sent.push({ name: command.constructor.name, input: command.input, signal: options?.abortSignal });
      const result = answer(command);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as StateClient;
  return { client, sent };
}

const named = (name: string, message = name) => Object.assign(new Error(message), { name });
const NOW = 1_800_000_000_000;

describe('StateStore', () => {
  it('writes the value as JSON with an expiry ttl seconds from now, and reads it back', async () => {
    // Prepare
    let stored: Record<string, unknown> = {};
    const { client, sent } = fakeClient((command) => {
      if ('Item' in command.input) stored = command.input.Item as Record<string, unknown>;
      return { Item: stored };
    });
    const store = new StateStore({ tableName: 'bybit-cancel-test-state', client, now: () => NOW });

    // Act
    await store.put({ pk: 'last', sk: 'drill' }, { ok: true, n: 1 }, { ttlSeconds: 60 });
    const item = await store.get<{ ok: boolean }>({ pk: 'last', sk: 'drill' });

    // Assess
    expect(stored).toEqual({
      pk: { S: 'last' },
      sk: { S: 'drill' },
      value: { S: '{"ok":true,"n":1}' },
      expiresAt: { N: String(NOW / 1000 + 60) },
    });
    expect(item).toEqual({ pk: 'last', sk: 'drill', value: { ok: true, n: 1 }, expiresAt: NOW / 1000 + 60 });
    expect(sent.map((s) => s.name)).toEqual(['PutItemCommand', 'GetItemCommand']);
    expect(sent[1]?.input.ConsistentRead).toBe(true);
  });

  it('reads an item past its expiry as absent (DynamoDB deletes expired items only eventually)', async () => {
    const { client } = fakeClient(() => ({
      Item: { pk: { S: 'a' }, sk: { S: 'b' }, value: { S: '1' }, expiresAt: { N: String(NOW / 1000) } },
    }));
    const store = new StateStore({ tableName: 't-state', client, now: () => NOW });
    expect(await store.get({ pk: 'a', sk: 'b' })).toBeUndefined();
    const fresh = new StateStore({ tableName: 't-state', client, now: () => NOW - 1000 });
    expect(await fresh.get({ pk: 'a', sk: 'b' })).toMatchObject({ value: 1 });
  });

  it('puts if absent: true when written, false when the item exists, and an expired item counts as absent', async () => {
    let exists = false;
    const { client, sent } = fakeClient(() => (exists ? named('ConditionalCheckFailedException') : {}));
    const store = new StateStore({ tableName: 't-state', client, now: () => NOW });

    expect(await store.putIfAbsent({ pk: 'nonce#1', sk: 'n' }, {}, { ttlSeconds: 60 })).toBe(true);
    exists = true;
    expect(await store.putIfAbsent({ pk: 'nonce#1', sk: 'n' }, {})).toBe(false);
    expect(sent[0]?.input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
      ExpressionAttributeNames: { '#pk': 'pk', '#ttl': 'expiresAt' },
      ExpressionAttributeValues: { ':now': { N: String(NOW / 1000) } },
    });
  });

  it('queries a partition newest first by default, with a limit, leaving out expired items', async () => {
    const item = (sk: string, expiresAt?: number) => ({
      pk: { S: 'drills' },
      sk: { S: sk },
      value: { S: JSON.stringify(sk) },
      ...(expiresAt ? { expiresAt: { N: String(expiresAt) } } : {}),
    });
    const { client, sent } = fakeClient(() => ({
      Items: [item('2026-12-05'), item('2026-12-04', NOW / 1000 - 1), item('2026-12-03')],
    }));
    const store = new StateStore({ tableName: 't-state', client, now: () => NOW });

    const items = await store.query<string>('drills', { limit: 3 });

    expect(items.map((i) => i.value)).toEqual(['2026-12-05', '2026-12-03']);
    expect(sent[0]?.input).toMatchObject({
      ScanIndexForward: false,
      Limit: 3,
      KeyConditionExpression: '#pk = :pk',
    });
    await store.query('drills', { newestFirst: false });
    expect(sent[1]?.input).toMatchObject({ ScanIndexForward: true, Limit: 20 });
  });

  it("gives every call an abort signal that fires at the invocation's deadline", async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: 't-state', client });
    store.deadline = Date.now() + 30;

    await store.delete({ pk: 'a', sk: 'b' });
    expect(sent[0]?.signal?.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent[0]?.signal?.aborted).toBe(true);
  });

  it('gives a call the whole time left to its deadline, never less: the signal has not fired while time remains', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: 't-state', client });
    store.deadline = Date.now() + 5000;

    await store.delete({ pk: 'a', sk: 'b' });
    // A timer set after the call's own fires first only if the call was given less than 20 ms.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent[0]?.signal?.aborted).toBe(false);
  });

  it('turns a client failure that is not even an Error into a StateError, never a crash', async () => {
    const client = { send: () => Promise.reject(undefined) } as unknown as StateClient;
    const store = new StateStore({ tableName: 't-state', client });
    const thrown = await store.delete({ pk: 'a', sk: 'b' }).catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toMatch(/DeleteItem on t-state: .*failed \(Error\)/);
  });

  it('turns SDK failures into a StateError naming the call, the table and what to check, never an item', async () => {
    const cases: [Error, RegExp][] = [
      [named('ResourceNotFoundException'), /PutItem on t-state: the table does not exist/],
      [
        named('AccessDeniedException', 'User arn:x is not authorized'),
        /access denied \(check the function's IAM policy/,
      ],
      [named('TimeoutError'), /no answer from DynamoDB within \d+ ms/],
      [named('SomethingNew'), /failed \(SomethingNew\)/],
    ];
    for (const [error, message] of cases) {
      const { client } = fakeClient(() => error);
      const store = new StateStore({ tableName: 't-state', client });
      const thrown = await store
        .put({ pk: 'last', sk: 'x' }, { secret: 'value-never-in-errors' })
        .catch((e) => e);
      expect(thrown).toBeInstanceOf(StateError);
      expect(thrown.message).toMatch(message);
      expect(thrown.message).not.toContain('value-never-in-errors');
    }
  });

  it('is disabled without a table name, and then refuses every call', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: '', client });
    expect(store.enabled).toBe(false);
    await expect(store.get({ pk: 'a', sk: 'b' })).rejects.toThrow('no state table configured');
    expect(sent).toEqual([]);
  });
});
