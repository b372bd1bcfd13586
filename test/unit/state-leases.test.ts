// The state table's leases, whole-partition reads and odd items (lib/lambda/state.ts) on a fake client, no
// sockets: the exact commands sent, and what each answer is read as. state.test.ts covers get, put and query.

import { describe, expect, it } from 'vitest';
import { StateError } from '../../lib/errors.ts';
import { type StateClient, StateStore, stateTableDefinition } from '../../lib/lambda/state.ts';

type Sent = { name: string; input: Record<string, unknown> };

/** A client that records each command and answers with `answer(command, index)` (or throws it). */
function fakeClient(answer: (sent: Sent, index: number) => unknown) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown>; constructor: { name: string } }) => {
      const entry = { name: command.constructor.name, input: command.input };
      sent.push(entry);
      const result = answer(entry, sent.length - 1);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as StateClient;
  return { client, sent };
}

const named = (name: string) => Object.assign(new Error(name), { name });
const NOW = 1_800_000_000_000;
const TABLE = 't-state';
const KEY = { pk: 'switch', sk: 'heartbeat' };
const KEY_ATTRIBUTES = { pk: { S: 'switch' }, sk: { S: 'heartbeat' } };

describe('stateTableDefinition', () => {
  it('declares pk (hash) and sk (range), both strings, billed per request', () => {
    expect(stateTableDefinition('bybit-cancel-unit-state')).toEqual({
      TableName: 'bybit-cancel-unit-state',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    });
  });
});

describe('StateStore.lease', () => {
  it('takes a lease with one conditional update naming the holder, the end, now and the version', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });

    expect(await store.lease(KEY, 'req-1', NOW + 5000, 7)).toEqual({ taken: true });
    expect(sent).toEqual([
      {
        name: 'UpdateItemCommand',
        input: {
          TableName: TABLE,
          Key: KEY_ATTRIBUTES,
          UpdateExpression: 'SET #held = :until, #holder = :holder',
          ConditionExpression:
            '(attribute_not_exists(#held) OR #held <= :now) AND (attribute_not_exists(#version) OR #version < :version)',
          ExpressionAttributeNames: { '#held': 'heldUntil', '#holder': 'holder', '#version': 'version' },
          ExpressionAttributeValues: {
            ':until': { N: String(NOW + 5000) },
            ':holder': { S: 'req-1' },
            ':now': { N: String(NOW) },
            ':version': { N: '7' },
          },
        },
      },
    ]);
  });

  it('says held, with the version and value as they stand, when an older version is leased by another', async () => {
    const { client, sent } = fakeClient((_, index) =>
      index === 0
        ? named('ConditionalCheckFailedException')
        : { Item: { ...KEY_ATTRIBUTES, value: { S: '{"armed":true}' }, version: { N: '6' } } },
    );
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });

    expect(await store.lease(KEY, 'req-2', NOW + 5000, 7)).toEqual({
      taken: false,
      why: 'held',
      version: 6,
      value: { armed: true },
    });
    expect(sent[1]).toEqual({
      name: 'GetItemCommand',
      input: { TableName: TABLE, Key: KEY_ATTRIBUTES, ConsistentRead: true },
    });
  });

  it('says stale when the item holds the same version, and stale for a newer one', async () => {
    for (const version of ['7', '8']) {
      const { client } = fakeClient((_, index) =>
        index === 0
          ? named('ConditionalCheckFailedException')
          : { Item: { ...KEY_ATTRIBUTES, value: { S: '1' }, version: { N: version } } },
      );
      const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
      expect(await store.lease(KEY, 'req-3', NOW + 5000, 7)).toEqual({
        taken: false,
        why: 'stale',
        version: Number(version),
        value: 1,
      });
    }
  });

  it('says held without a version or value when the item has neither (a lease on a new item)', async () => {
    const answers = [{ Item: { ...KEY_ATTRIBUTES, heldUntil: { N: String(NOW + 1) } } }, {}];
    for (const item of answers) {
      const { client } = fakeClient((_, index) =>
        index === 0 ? named('ConditionalCheckFailedException') : item,
      );
      const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
      expect(await store.lease(KEY, 'req-4', NOW + 5000, 1)).toEqual({ taken: false, why: 'held' });
    }
  });

  it('throws any other failure as a StateError, without reading the item', async () => {
    const { client, sent } = fakeClient(() => named('AccessDeniedException'));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    const thrown = await store.lease(KEY, 'req-5', NOW + 5000, 1).catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe(
      "UpdateItem on t-state: access denied (check the function's IAM policy on the table)",
    );
    expect(sent.map((s) => s.name)).toEqual(['UpdateItemCommand']);
  });
});

describe('StateStore.release', () => {
  it('ends the lease only when it is still the holder’s, writing nothing else', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });

    expect(await store.release(KEY, 'req-1')).toBe(true);
    expect(sent[0]).toEqual({
      name: 'UpdateItemCommand',
      input: {
        TableName: TABLE,
        Key: KEY_ATTRIBUTES,
        UpdateExpression: 'SET #held = :zero',
        ConditionExpression: '#holder = :holder',
        ExpressionAttributeNames: { '#held': 'heldUntil', '#holder': 'holder' },
        ExpressionAttributeValues: { ':zero': { N: '0' }, ':holder': { S: 'req-1' } },
      },
    });
  });

  it('commits the version and the value as JSON (null for none) with the release', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });

    expect(await store.release(KEY, 'req-1', { version: 9, value: { at: 5 } })).toBe(true);
    expect(await store.release(KEY, 'req-1', { version: 10, value: undefined })).toBe(true);
    expect(sent[0]?.input).toEqual({
      TableName: TABLE,
      Key: KEY_ATTRIBUTES,
      UpdateExpression: 'SET #held = :zero, #version = :version, #value = :value',
      ConditionExpression: '#holder = :holder',
      ExpressionAttributeNames: {
        '#held': 'heldUntil',
        '#holder': 'holder',
        '#version': 'version',
        '#value': 'value',
      },
      ExpressionAttributeValues: {
        ':zero': { N: '0' },
        ':holder': { S: 'req-1' },
        ':version': { N: '9' },
        ':value': { S: '{"at":5}' },
      },
    });
    expect(sent[1]?.input.ExpressionAttributeValues).toMatchObject({ ':value': { S: 'null' } });
  });

  it('answers false when another holds the lease now, and throws any other failure as a StateError', async () => {
    const lost = fakeClient(() => named('ConditionalCheckFailedException'));
    const store = new StateStore({ tableName: TABLE, client: lost.client, now: () => NOW });
    expect(await store.release(KEY, 'req-1', { version: 2, value: 1 })).toBe(false);

    const failing = fakeClient(() => named('InternalServerError'));
    const broken = new StateStore({ tableName: TABLE, client: failing.client, now: () => NOW });
    const thrown = await broken.release(KEY, 'req-1').catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe('UpdateItem on t-state: DynamoDB failed; retries were exhausted');
  });
});

describe('StateStore.putIfAbsent', () => {
  it('throws a failure other than "exists" as a StateError', async () => {
    const { client } = fakeClient(() => named('ThrottlingException'));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    const thrown = await store.putIfAbsent(KEY, 1).catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe('PutItem on t-state: throttled; retries were exhausted');
  });
});

describe('StateStore.queryAll', () => {
  const item = (sk: string) => ({ pk: { S: 'halt' }, sk: { S: sk }, value: { S: JSON.stringify(sk) } });

  it('reads every page oldest first, from where the last one ended, under a prefix', async () => {
    const pages = [
      { Items: [item('k#1'), item('k#2')], LastEvaluatedKey: { pk: { S: 'halt' }, sk: { S: 'k#2' } } },
      { Items: [item('k#3')] },
    ];
    const { client, sent } = fakeClient((_, index) => pages[index]);
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });

    const items = await store.queryAll<string>('halt', { prefix: 'k#' });

    expect(items.map((i) => i.value)).toEqual(['k#1', 'k#2', 'k#3']);
    expect(sent.map((s) => s.input)).toEqual([
      {
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': { S: 'halt' }, ':prefix': { S: 'k#' } },
        ScanIndexForward: true,
        ConsistentRead: true,
      },
      {
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': { S: 'halt' }, ':prefix': { S: 'k#' } },
        ScanIndexForward: true,
        ExclusiveStartKey: { pk: { S: 'halt' }, sk: { S: 'k#2' } },
        ConsistentRead: true,
      },
    ]);
  });

  it('reads a page without Items as empty', async () => {
    const { client } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    expect(await store.queryAll('halt')).toEqual([]);
  });

  it('refuses a partition larger than maxItems with a StateError, never a part; exactly maxItems is read', async () => {
    const { client } = fakeClient(() => ({ Items: [item('a'), item('b'), item('c')] }));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    const thrown = await store.queryAll('halt', { maxItems: 2 }).catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe('Query on t-state: more than 2 items under halt');
    expect(await store.queryAll('halt', { maxItems: 3 })).toHaveLength(3);
  });
});

describe('StateStore items', () => {
  it('refuses an item whose value is not JSON with a StateError that does not show the value', async () => {
    const { client } = fakeClient(() => ({ Item: { ...KEY_ATTRIBUTES, value: { S: '{not-json-value' } } }));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    const thrown = await store.get(KEY).catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe('read on t-state: an item holds a value that is not JSON');
  });

  it('reads an item without value, pk or sk as null under empty keys, and no Item as absent', async () => {
    const { client } = fakeClient((_, index) => (index === 0 ? { Item: {} } : {}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    expect(await store.get(KEY)).toEqual({ pk: '', sk: '', value: null });
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('writes an undefined value as null and rounds a fractional ttl up', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW + 999 });
    await store.put(KEY, undefined, { ttlSeconds: 1.2 });
    expect(sent[0]?.input.Item).toEqual({
      ...KEY_ATTRIBUTES,
      value: { S: 'null' },
      expiresAt: { N: String(NOW / 1000 + 2) },
    });
  });

  it('deletes by key alone', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
    await store.delete(KEY);
    expect(sent).toEqual([{ name: 'DeleteItemCommand', input: { TableName: TABLE, Key: KEY_ATTRIBUTES } }]);
  });
});

describe('StateStore calls', () => {
  it('preloads the SDK without sending anything, and refuses to when no table is configured', async () => {
    const { client, sent } = fakeClient(() => ({}));
    await new StateStore({ tableName: TABLE, client }).preload();
    expect(sent).toEqual([]);
    const thrown = await new StateStore({ tableName: '', client }).preload().catch((e) => e);
    expect(thrown).toBeInstanceOf(StateError);
    expect(thrown.message).toBe('load on (unset): no state table configured');
  });

  it('says "no answer" with the time it had when the deadline has passed, whatever the error', async () => {
    let now = NOW;
    const { client } = fakeClient(() => {
      now += 50;
      return named('SomethingNew');
    });
    const store = new StateStore({ tableName: TABLE, client, now: () => now });
    store.deadline = NOW + 40;
    const thrown = await store.get(KEY).catch((e) => e);
    expect(thrown.message).toBe('GetItem on t-state: no answer from DynamoDB within 40 ms');
    expect(thrown.cause.name).toBe('SomethingNew');
  });

  it('gives a call 5 s at most without a deadline, and says 0 ms for a deadline already past', async () => {
    let now = NOW;
    const { client } = fakeClient(() => {
      now += 5000;
      return named('Odd');
    });
    const store = new StateStore({ tableName: TABLE, client, now: () => now });
    expect((await store.get(KEY).catch((e) => e)).message).toBe(
      'GetItem on t-state: no answer from DynamoDB within 5000 ms',
    );
    store.deadline = now - 10;
    expect((await store.get(KEY).catch((e) => e)).message).toBe(
      'GetItem on t-state: no answer from DynamoDB within 0 ms',
    );
  });

  it('names an SDK error with no name "Error", and maps each throttling name', async () => {
    const cases: [unknown, string][] = [
      [{}, 'failed (Error)'],
      [named('ProvisionedThroughputExceededException'), 'throttled; retries were exhausted'],
      [named('RequestLimitExceeded'), 'throttled; retries were exhausted'],
      [named('ValidationException'), 'DynamoDB refused the request as invalid'],
      [named('AbortError'), 'no answer from DynamoDB within 5000 ms'],
      [named('RequestTimeout'), 'no answer from DynamoDB within 5000 ms'],
    ];
    for (const [error, why] of cases) {
      const client = {
        send: async () => {
          throw error;
        },
      } as unknown as StateClient;
      const store = new StateStore({ tableName: TABLE, client, now: () => NOW });
      expect((await store.delete(KEY).catch((e) => e)).message).toBe(`DeleteItem on t-state: ${why}`);
    }
  });
});
