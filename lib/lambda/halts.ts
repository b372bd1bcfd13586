// The halt records in the state table: the HaltStore port of lib/cancel/halt.ts on DynamoDB, and what the
// heartbeat and the status read of them. Partition `halt` (lib/lambda/records.ts): one item per halted
// account (sort key: the account) and one per key its halt made read-only (sort key:
// `<account>#key#<sha-256 of the key>`), so that a write ahead is one PutItem of its own, flips running side by
// side never rewrite each other's entries, and a sub UID with a thousand keys fits (an item holds 400 KB).
// Every item carries its account in its value: the account is never parsed out of a sort key.

import type { HaltOrigin, HaltRecord, HaltStore, PriorKeyState } from '../cancel/halt.ts';
import { PARTITIONS, recordKeys } from './records.ts';
import type { StateStore } from './state.ts';

/** An account's halt as the table holds it. */
interface HaltItem extends HaltOrigin {
  kind: 'halt';
  account: string;
  subUid?: string;
}

/** A key the halt made read-only (or is about to), as the table holds it. */
interface KeyItem extends PriorKeyState {
  kind: 'key';
  account: string;
  flipped: boolean;
}

type Item = HaltItem | KeyItem;

/** What a record says when its account's item is missing but key items remain (a reset cut short). */
const UNKNOWN = 'unknown';

export class StateHaltStore implements HaltStore {
  private readonly state: StateStore;
  /** Each key's entry as this container last wrote it: a confirmation rewrites it without reading it first. */
  private readonly written = new Map<string, KeyItem>();

  constructor(state: StateStore) {
    this.state = state;
  }

  async get(account: string): Promise<HaltRecord | undefined> {
    const items = await this.state.queryAll<Item>(PARTITIONS.halt, { prefix: account });
    return recordsOf(items.map((i) => i.value).filter((v) => v.account === account))[0];
  }

  async begin(account: string, start: HaltOrigin & { subUid?: string }): Promise<HaltRecord> {
    const item: HaltItem = { kind: 'halt', account, ...start };
    if (await this.state.putIfAbsent(recordKeys.halt(account), item)) return { ...start, account, keys: [] };
    // An earlier halt stands: it keeps its time and origin.
    return (await this.get(account)) ?? { ...start, account, keys: [] };
  }

  async recordKey(account: string, key: PriorKeyState): Promise<void> {
    const item: KeyItem = { kind: 'key', account, ...key, flipped: false };
    const { sk } = recordKeys.haltKey(account, key.fingerprint);
    await this.state.put(recordKeys.haltKey(account, key.fingerprint), item);
    this.written.set(sk, item);
  }

  async markFlipped(account: string, fingerprint: string): Promise<void> {
    const key = recordKeys.haltKey(account, fingerprint);
    const known = this.written.get(key.sk) ?? (await this.state.get<KeyItem>(key))?.value;
    if (!known) throw new Error(`no recorded key ${fingerprint.slice(0, 8)}… for ${account}`);
    const item: KeyItem = { ...known, flipped: true };
    await this.state.put(key, item);
    this.written.set(key.sk, item);
  }

  /** The keys' entries go first, the account's item last: a reset cut short leaves the account halted. */
  async clear(account: string): Promise<void> {
    const items = await this.state.queryAll<Item>(PARTITIONS.halt, { prefix: account });
    const own = items.filter((i) => i.value.account === account);
    await Promise.all(
      own.filter((i) => i.value.kind === 'key').map((i) => this.state.delete({ pk: i.pk, sk: i.sk })),
    );
    for (const i of own.filter((i) => i.value.kind === 'key')) this.written.delete(i.sk);
    await this.state.delete(recordKeys.halt(account));
  }

  async list(): Promise<HaltRecord[]> {
    const items = await this.state.queryAll<Item>(PARTITIONS.halt);
    return recordsOf(items.map((i) => i.value));
  }
}

/** The records the items make, one per account, in account order. */
function recordsOf(items: Item[]): HaltRecord[] {
  const byAccount = new Map<string, HaltRecord>();
  const recordOf = (account: string) => {
    let record = byAccount.get(account);
    if (!record) {
      record = { account, since: UNKNOWN, origin: UNKNOWN, keys: [] };
      byAccount.set(account, record);
    }
    return record;
  };
  for (const item of items) {
    if (typeof item?.account !== 'string') continue;
    const record = recordOf(item.account);
    if (item.kind === 'halt') {
      const { kind: _, ...halt } = item;
      Object.assign(record, halt);
    } else if (item.kind === 'key') {
      const { kind: _, account: __, ...key } = item;
      record.keys.push(key);
    }
  }
  return [...byAccount.values()].sort((a, b) => a.account.localeCompare(b.account));
}
