// The stack's memory: one DynamoDB table (`bybit-cancel-<stage>-state`, STATE_TABLE), partition key `pk`,
// sort key `sk`, and a TTL attribute `expiresAt` (epoch seconds). Each item keeps its value as JSON text in
// `value`, so any record fits without a schema of its own. Every call ends by the invocation's deadline (or a
// fixed limit when there is none), and a failure is a StateError naming the call and the table, never an item.
// The SDK is loaded on first use: a cancel must never wait for it at cold start.
//
// DynamoDB deletes expired items lazily (within days): reads treat an item past `expiresAt` as absent, and
// "put if absent" overwrites it, so a TTL means what it says the moment it passes.

import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateError } from '../errors.ts';

/** The table's key and TTL attributes (serverless.yml's StateTable; local runs create it the same way). */
export const STATE_ATTRIBUTES = { partition: 'pk', sort: 'sk', ttl: 'expiresAt', value: 'value' } as const;

/** The table definition CreateTable takes (local runs and tests; serverless.yml declares the same). */
export function stateTableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema: [
      { AttributeName: STATE_ATTRIBUTES.partition, KeyType: 'HASH' as const },
      { AttributeName: STATE_ATTRIBUTES.sort, KeyType: 'RANGE' as const },
    ],
    AttributeDefinitions: [
      { AttributeName: STATE_ATTRIBUTES.partition, AttributeType: 'S' as const },
      { AttributeName: STATE_ATTRIBUTES.sort, AttributeType: 'S' as const },
    ],
  };
}

export interface StateKey {
  pk: string;
  sk: string;
}

export interface StateItem<T = unknown> extends StateKey {
  value: T;
  /** Epoch seconds after which the item is gone; absent: kept until deleted. */
  expiresAt?: number;
}

export interface WriteOptions {
  /** The item expires this many seconds from now. */
  ttlSeconds?: number;
}

export interface QueryOptions {
  /** At most this many items (default 20). */
  limit?: number;
  /** Sort keys are compared as strings: ISO times sort by time. Default true (newest first). */
  newestFirst?: boolean;
  /** Only items whose sort key starts with this. */
  prefix?: string;
}

/** A lease's attributes, beside the item's value: until when it is held (epoch ms), by whom, at which version. */
const LEASE_ATTRIBUTES = { held: 'heldUntil', holder: 'holder', version: 'version' } as const;

/** What taking a lease gave: taken, or why not, with the item's version and value as they stand. */
export type Lease<T> = { taken: true } | { taken: false; why: 'held' | 'stale'; version?: number; value?: T };

/** The one method of the SDK client this store uses (tests pass their own). */
export type StateClient = Pick<DynamoDBClient, 'send'>;

export interface StateStoreOptions {
  /** Empty: the store is disabled, and every call throws (check `enabled`). */
  tableName: string;
  /** Defaults to the SDK client, which follows AWS_ENDPOINT_URL_DYNAMODB and the standard region settings. */
  client?: StateClient;
  now?: () => number;
}

const defaults = {
  /** No call waits longer than this, deadline or not (start-up, tools). */
  callLimitMs: 5000,
  maxAttempts: 3,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 2000,
  queryLimit: 20,
  /** queryAll refuses a partition larger than this (a halt of 50 accounts × 1,000 keys fits). */
  queryAllMaxItems: 60_000,
};

/** Error types that say DynamoDB did not answer in time. */
const TIMEOUTS = new Set(['TimeoutError', 'AbortError', 'RequestTimeout']);

/** Error types mapped to what an operator should check. */
const SDK_ERRORS: Record<string, string> = {
  ResourceNotFoundException: 'the table does not exist (check STATE_TABLE and the region)',
  AccessDeniedException: "access denied (check the function's IAM policy on the table)",
  ProvisionedThroughputExceededException: 'throttled; retries were exhausted',
  ThrottlingException: 'throttled; retries were exhausted',
  RequestLimitExceeded: 'throttled; retries were exhausted',
  InternalServerError: 'DynamoDB failed; retries were exhausted',
  ValidationException: 'DynamoDB refused the request as invalid',
};

type Sdk = typeof import('@aws-sdk/client-dynamodb');
type AttributeMap = Record<string, AttributeValue>;

export class StateStore {
  readonly tableName: string;
  /** Epoch ms by which every call must have ended: the current invocation's deadline, set when it starts. */
  deadline: number | undefined;
  private client: StateClient | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly now: () => number;

  constructor(options: StateStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client;
    this.now = options.now ?? Date.now;
  }

  /** False when no table is configured: callers skip recording instead of failing. */
  get enabled(): boolean {
    return this.tableName !== '';
  }

  /** The item, or undefined when there is none (or it has expired). */
  async get<T>(key: StateKey): Promise<StateItem<T> | undefined> {
    const sdk = await this.load();
    const answer = (await this.send(
      'GetItem',
      new sdk.GetItemCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }),
    )) as { Item?: AttributeMap };
    return answer.Item ? this.itemOf<T>(answer.Item) : undefined;
  }

  /** Writes the item whole, replacing any item with the same key. */
  async put(key: StateKey, value: unknown, options: WriteOptions = {}): Promise<void> {
    const sdk = await this.load();
    await this.send(
      'PutItem',
      new sdk.PutItemCommand({ TableName: this.tableName, Item: this.attributes(key, value, options) }),
    );
  }

  /**
   * Writes the item only if there is none with this key (or it has expired): true when written, false when
   * it exists. For what must happen once: a replayed signature, a redelivered update, a used nonce.
   */
  async putIfAbsent(key: StateKey, value: unknown, options: WriteOptions = {}): Promise<boolean> {
    const sdk = await this.load();
    const { partition, ttl } = STATE_ATTRIBUTES;
    try {
      await this.send(
        'PutItem',
        new sdk.PutItemCommand({
          TableName: this.tableName,
          Item: this.attributes(key, value, options),
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#pk': partition, '#ttl': ttl },
          ExpressionAttributeValues: { ':now': { N: String(this.nowSeconds()) } },
        }),
        ['ConditionalCheckFailedException'],
      );
      return true;
    } catch (error) {
      if ((error as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Takes the lease of the item `key` for `holder` until `until` (epoch ms), to change it to `version`: taken
   * when nobody else's lease runs and the item holds an older version (or none). Otherwise says why, with the
   * item as it stands: `held` (another lease runs) or `stale` (the item holds `version` or a newer one).
   * For what must change in order, one at a time: the dead man's switch's heartbeats.
   */
  async lease<T>(key: StateKey, holder: string, until: number, version: number): Promise<Lease<T>> {
    const sdk = await this.load();
    const { held, holder: holderName, version: versionName } = LEASE_ATTRIBUTES;
    try {
      await this.send(
        'UpdateItem',
        new sdk.UpdateItemCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: 'SET #held = :until, #holder = :holder',
          ConditionExpression:
            '(attribute_not_exists(#held) OR #held <= :now) AND (attribute_not_exists(#version) OR #version < :version)',
          ExpressionAttributeNames: { '#held': held, '#holder': holderName, '#version': versionName },
          ExpressionAttributeValues: {
            ':until': { N: String(until) },
            ':holder': { S: holder },
            ':now': { N: String(this.now()) },
            ':version': { N: String(version) },
          },
        }),
        ['ConditionalCheckFailedException'],
      );
      return { taken: true };
    } catch (error) {
      if ((error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
    }
    const answer = (await this.send(
      'GetItem',
      new sdk.GetItemCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }),
    )) as { Item?: AttributeMap };
    const current = Number(answer.Item?.[versionName]?.N ?? Number.NEGATIVE_INFINITY);
    const item = answer.Item ? this.itemOf<T>(answer.Item) : undefined;
    return {
      taken: false,
      why: current >= version ? 'stale' : 'held',
      ...(Number.isFinite(current) ? { version: current } : {}),
      ...(item?.value !== undefined && item.value !== null ? { value: item.value } : {}),
    };
  }

  /**
   * Ends `holder`'s lease of `key`; with `commit`, the item becomes that version and value. False when the lease
   * was no longer `holder`'s (it ran out and another took it): then nothing is written.
   */
  async release(
    key: StateKey,
    holder: string,
    commit?: { version: number; value: unknown },
  ): Promise<boolean> {
    const sdk = await this.load();
    const { held, holder: holderName, version: versionName } = LEASE_ATTRIBUTES;
    const set = commit ? 'SET #held = :zero, #version = :version, #value = :value' : 'SET #held = :zero';
    try {
      await this.send(
        'UpdateItem',
        new sdk.UpdateItemCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: set,
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: {
            '#held': held,
            '#holder': holderName,
            ...(commit ? { '#version': versionName, '#value': STATE_ATTRIBUTES.value } : {}),
          },
          ExpressionAttributeValues: {
            ':zero': { N: '0' },
            ':holder': { S: holder },
            ...(commit
              ? {
                  ':version': { N: String(commit.version) },
                  ':value': { S: JSON.stringify(commit.value ?? null) },
                }
              : {}),
          },
        }),
        ['ConditionalCheckFailedException'],
      );
      return true;
    } catch (error) {
      if ((error as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async delete(key: StateKey): Promise<void> {
    const sdk = await this.load();
    await this.send('DeleteItem', new sdk.DeleteItemCommand({ TableName: this.tableName, Key: keyOf(key) }));
  }

  /** The partition's items by sort key, newest (greatest) first unless told otherwise; expired ones left out. */
  async query<T>(pk: string, options: QueryOptions = {}): Promise<StateItem<T>[]> {
    const { items } = await this.page<T>(pk, options, options.limit ?? defaults.queryLimit);
    return items;
  }

  /**
   * Every item of the partition (or of a sort-key prefix), page by page, oldest (smallest) first; for
   * records that must be read whole (a halt's keys). At most `maxItems`: past it, a StateError, never a part.
   */
  async queryAll<T>(
    pk: string,
    options: Pick<QueryOptions, 'prefix'> & { maxItems?: number } = {},
  ): Promise<StateItem<T>[]> {
    const maxItems = options.maxItems ?? defaults.queryAllMaxItems;
    const items: StateItem<T>[] = [];
    let start: AttributeMap | undefined;
    do {
      const page = await this.page<T>(pk, { ...options, newestFirst: false }, undefined, start);
      items.push(...page.items);
      if (items.length > maxItems)
        throw new StateError('Query', this.tableName, `more than ${maxItems} items under ${pk}`);
      start = page.next;
    } while (start);
    return items;
  }

  private async page<T>(
    pk: string,
    options: QueryOptions,
    limit: number | undefined,
    start?: AttributeMap,
  ): Promise<{ items: StateItem<T>[]; next?: AttributeMap }> {
    const sdk = await this.load();
    const { partition, sort } = STATE_ATTRIBUTES;
    const prefixed = options.prefix !== undefined;
    const answer = (await this.send(
      'Query',
      new sdk.QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: prefixed ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partition, ...(prefixed ? { '#sk': sort } : {}) },
        ExpressionAttributeValues: {
          ':pk': { S: pk },
          ...(prefixed ? { ':prefix': { S: options.prefix as string } } : {}),
        },
        ScanIndexForward: options.newestFirst === false,
        ...(limit !== undefined ? { Limit: limit } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
        ConsistentRead: true,
      }),
    )) as { Items?: AttributeMap[]; LastEvaluatedKey?: AttributeMap };
    const items = (answer.Items ?? [])
      .map((item) => this.itemOf<T>(item))
      .filter((item): item is StateItem<T> => item !== undefined);
    return { items, ...(answer.LastEvaluatedKey ? { next: answer.LastEvaluatedKey } : {}) };
  }

  /** Loads the SDK now (a warm-up), so that the first call does not. */
  async preload(): Promise<void> {
    await this.load();
  }

  private attributes(key: StateKey, value: unknown, options: WriteOptions): AttributeMap {
    const item: AttributeMap = {
      ...keyOf(key),
      [STATE_ATTRIBUTES.value]: { S: JSON.stringify(value ?? null) },
    };
    if (options.ttlSeconds !== undefined) {
      item[STATE_ATTRIBUTES.ttl] = { N: String(this.nowSeconds() + Math.ceil(options.ttlSeconds)) };
    }
    return item;
  }

  private itemOf<T>(item: AttributeMap): StateItem<T> | undefined {
    const expiresAt = item[STATE_ATTRIBUTES.ttl]?.N;
    if (expiresAt !== undefined && Number(expiresAt) <= this.nowSeconds()) return undefined;
    let value: T;
    try {
      value = JSON.parse(item[STATE_ATTRIBUTES.value]?.S ?? 'null') as T;
    } catch {
      throw new StateError('read', this.tableName, 'an item holds a value that is not JSON');
    }
    return {
      pk: item[STATE_ATTRIBUTES.partition]?.S ?? '',
      sk: item[STATE_ATTRIBUTES.sort]?.S ?? '',
      value,
      ...(expiresAt !== undefined ? { expiresAt: Number(expiresAt) } : {}),
    };
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private load(): Promise<Sdk> {
    if (!this.enabled) return Promise.reject(new StateError('load', '(unset)', 'no state table configured'));
    this.sdk ??= import('@aws-sdk/client-dynamodb');
    return this.sdk;
  }

  /** Sends a command by the deadline; an SDK failure becomes a StateError, except the ones the caller handles. */
  private async send(operation: string, command: unknown, expected: string[] = []): Promise<unknown> {
    const sdk = await this.load();
    this.client ??= new sdk.DynamoDBClient({
      maxAttempts: defaults.maxAttempts,
      // Without these a hung connection would hold the invocation; the SDK only warns unless told to throw.
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout: defaults.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const now = this.now();
    const until = Math.min(this.deadline ?? Number.POSITIVE_INFINITY, now + defaults.callLimitMs);
    try {
      const abortSignal = AbortSignal.timeout(Math.max(1, until - now));
      // biome-ignore lint/suspicious/noExplicitAny: the client's send is overloaded per command type
      return await this.client.send(command as any, { abortSignal });
    } catch (cause) {
      const name = (cause as Error)?.name ?? 'Error';
      if (expected.includes(name)) throw cause;
      const why =
        TIMEOUTS.has(name) || this.now() >= until
          ? `no answer from DynamoDB within ${Math.max(0, until - now)} ms`
          : (SDK_ERRORS[name] ?? `failed (${name})`);
      throw new StateError(operation, this.tableName, why, { cause });
    }
  }
}

function keyOf(key: StateKey): AttributeMap {
  return { [STATE_ATTRIBUTES.partition]: { S: key.pk }, [STATE_ATTRIBUTES.sort]: { S: key.sk } };
}
