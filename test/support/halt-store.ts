// The halt records in memory: the HaltStore port (lib/cancel/halt.ts) for tests, with the order of its
// writes kept, so that a test can show what was written before what. Production keeps them in the state
// table (DynamoDB).

import type { HaltOrigin, HaltRecord, HaltStore, PriorKeyState } from '../../lib/cancel/halt.ts';

export type HaltWrite = 'begin' | 'recordKey' | 'markFlipped' | 'clear';

export interface MemoryHaltStoreOptions {
  /** Called as each write lands, just before its promise resolves. */
  onWrite?: (write: HaltWrite, account: string, fingerprint?: string) => void;
  /** Writes that fail (the store is down, or the function crashed there). */
  failing?: Partial<Record<HaltWrite, Error>>;
  /** How long each write takes to land, as a round trip to the state table would (default 0). */
  latencyMs?: number;
}

export class MemoryHaltStore implements HaltStore {
  readonly records = new Map<string, HaltRecord>();
  readonly writes: { write: HaltWrite; account: string; fingerprint?: string }[] = [];
  private readonly options: MemoryHaltStoreOptions;

  constructor(options: MemoryHaltStoreOptions = {}) {
    this.options = options;
  }

  async get(account: string): Promise<HaltRecord | undefined> {
    const record = this.records.get(account);
    return record && structuredClone(record);
  }

  async begin(account: string, start: HaltOrigin & { subUid?: string }): Promise<HaltRecord> {
    await this.write('begin', account);
    const record = this.records.get(account) ?? { ...start, account, keys: [] };
    this.records.set(account, record);
    return structuredClone(record);
  }

  async recordKey(account: string, key: PriorKeyState): Promise<void> {
    await this.write('recordKey', account, key.fingerprint);
    const record = this.records.get(account);
    if (!record) throw new Error(`no halt record for ${account}`);
    record.keys = [
      ...record.keys.filter((k) => k.fingerprint !== key.fingerprint),
      { ...structuredClone(key), flipped: false },
    ];
  }

  async markFlipped(account: string, fingerprint: string): Promise<void> {
    await this.write('markFlipped', account, fingerprint);
    const entry = this.records.get(account)?.keys.find((k) => k.fingerprint === fingerprint);
    if (!entry) throw new Error(`no recorded key ${fingerprint.slice(0, 8)} for ${account}`);
    entry.flipped = true;
  }

  async clear(account: string): Promise<void> {
    await this.write('clear', account);
    this.records.delete(account);
  }

  async list(): Promise<HaltRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  /** Lands a write (after the latency) or fails it; the caller applies it once this resolves. */
  private async write(write: HaltWrite, account: string, fingerprint?: string): Promise<void> {
    const { latencyMs = 0 } = this.options;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const failure = this.options.failing?.[write];
    if (failure) throw failure;
    this.writes.push({ write, account, ...(fingerprint ? { fingerprint } : {}) });
    this.options.onWrite?.(write, account, fingerprint);
  }
}
