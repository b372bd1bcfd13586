// The account names of the exchange secret, names only, in the state table (`accounts`): the heartbeat checks a
// heartbeat's `accounts` against them without being able to read the exchange keys. The functions that read
// the secret (cancel, cancelAll, drill) write the record after a run whenever the names they parsed differ
// from it, so a changed secret shows there after the next run that reads it, and the daily drill reads it at
// the latest. A container reads the record once per secret value it parses, and writes only on a difference.

import { recordKeys } from './records.ts';
import type { StateStore } from './state.ts';

/** The record: the names, and when a function last found them different. */
export interface AccountNamesRecord {
  names: string[];
  at: string;
}

export class AccountNames {
  private seen: string[] | undefined;
  /** The names (as a set) the record is known to hold. */
  private synced: string | undefined;

  /** The names of a freshly parsed exchange secret (secrets.ts `exchangeCredentials`). */
  parsed(names: string[]): void {
    this.seen = names;
  }

  /**
   * Writes the names last parsed when the record holds others (or none); nothing when this container already
   * knows the record holds them. Throws StateError when the table cannot be reached.
   */
  async sync(state: StateStore, now: number): Promise<void> {
    const names = this.seen;
    if (!names || !state.enabled) return;
    const wanted = asSet(names);
    if (this.synced === wanted) return;
    const record = await state.get<AccountNamesRecord>(recordKeys.accounts());
    if (!record || asSet(record.value.names ?? []) !== wanted) {
      const value: AccountNamesRecord = { names, at: new Date(now).toISOString() };
      await state.put(recordKeys.accounts(), value);
    }
    this.synced = wanted;
  }
}

/**
 * The account names the record holds; undefined when there is none yet (no function has read the exchange
 * secret since the stack was deployed). Throws StateError when the table cannot be reached.
 */
export async function knownAccountNames(state: StateStore): Promise<string[] | undefined> {
  const record = await state.get<AccountNamesRecord>(recordKeys.accounts());
  const names = record?.value?.names;
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : undefined;
}

function asSet(names: readonly string[]): string {
  return JSON.stringify([...new Set(names)].sort());
}
