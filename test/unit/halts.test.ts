import { describe, expect, it } from 'vitest';
import type { PriorKeyState } from '../../lib/cancel/halt.ts';
import { StateHaltStore } from '../../lib/lambda/halts.ts';
import type { StateItem, StateKey, StateStore } from '../../lib/lambda/state.ts';

/** The state table in memory, with every call it took, in order. */
class MemoryState {
  readonly items = new Map<string, StateItem>();
  readonly calls: string[] = [];

  async get(key: StateKey) {
    this.calls.push(`get ${key.pk}/${key.sk}`);
    return this.items.get(`${key.pk}\u0000${key.sk}`);
  }
  async put(key: StateKey, value: unknown) {
    this.calls.push(`put ${key.pk}/${key.sk}`);
    this.items.set(`${key.pk}\u0000${key.sk}`, { ...key, value: structuredClone(value) });
  }
  async putIfAbsent(key: StateKey, value: unknown) {
    this.calls.push(`putIfAbsent ${key.pk}/${key.sk}`);
    if (this.items.has(`${key.pk}\u0000${key.sk}`)) return false;
    this.items.set(`${key.pk}\u0000${key.sk}`, { ...key, value: structuredClone(value) });
    return true;
  }
  async delete(key: StateKey) {
    this.calls.push(`delete ${key.pk}/${key.sk}`);
    this.items.delete(`${key.pk}\u0000${key.sk}`);
  }
  async queryAll(pk: string, options: { prefix?: string } = {}) {
    this.calls.push(`queryAll ${pk}${options.prefix === undefined ? '' : ` ${options.prefix}`}`);
    return [...this.items.values()]
      .filter((i) => i.pk === pk && i.sk.startsWith(options.prefix ?? ''))
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .map((i) => structuredClone(i));
  }
}

const setUp = () => {
  const state = new MemoryState();
  return { state, halts: new StateHaltStore(state as unknown as StateStore) };
};

const origin = { since: '2026-12-06T01:00:00.000Z', origin: 'deadMansSwitch', reason: 'no heartbeat' };
const key = (fingerprint: string): PriorKeyState => ({
  fingerprint,
  key: 'AbCd…yz',
  readOnly: false,
  ips: ['203.0.113.7'],
  permissions: { ContractTrade: ['Order', 'Position'] },
});

describe('StateHaltStore', () => {
  it('begins a halt with one item of its own and answers the new record', async () => {
    const { state, halts } = setUp();

    const record = await halts.begin('sub-1', { ...origin, subUid: '1001' });

    expect(record).toStrictEqual({ ...origin, subUid: '1001', account: 'sub-1', keys: [] });
    expect([...state.items.values()]).toStrictEqual([
      { pk: 'halt', sk: 'sub-1', value: { kind: 'halt', account: 'sub-1', ...origin, subUid: '1001' } },
    ]);
    expect(state.calls).toEqual(['putIfAbsent halt/sub-1']);
  });

  it('keeps the time and origin of a halt that stands', async () => {
    const { halts } = setUp();
    await halts.begin('main', origin);

    const again = await halts.begin('main', { since: '2026-12-06T02:00:00.000Z', origin: 'telegram' });

    expect(again).toStrictEqual({ account: 'main', ...origin, keys: [] });
  });

  it('answers the new record when the standing one vanished between the write and the read', async () => {
    const { state, halts } = setUp();
    state.putIfAbsent = async () => false;

    const record = await halts.begin('main', { since: 's', origin: 'o' });

    expect(record).toStrictEqual({ since: 's', origin: 'o', account: 'main', keys: [] });
  });

  it('records a key as one item of its own, not yet flipped, then marks it flipped without reading it', async () => {
    const { state, halts } = setUp();
    await halts.begin('sub-1', origin);

    await halts.recordKey('sub-1', key('f'.repeat(64)));
    await halts.markFlipped('sub-1', 'f'.repeat(64));

    const sk = `sub-1#key#${'f'.repeat(64)}`;
    expect(state.items.get(`halt\u0000${sk}`)).toStrictEqual({
      pk: 'halt',
      sk,
      value: { kind: 'key', account: 'sub-1', ...key('f'.repeat(64)), flipped: true },
    });
    expect(state.calls).toEqual(['putIfAbsent halt/sub-1', `put halt/${sk}`, `put halt/${sk}`]);
    expect(await halts.get('sub-1')).toStrictEqual({
      account: 'sub-1',
      ...origin,
      keys: [{ ...key('f'.repeat(64)), flipped: true }],
    });
  });

  it('marks flipped a key another container recorded, reading it first', async () => {
    const { state, halts } = setUp();
    const other = new StateHaltStore(state as unknown as StateStore);
    await other.recordKey('sub-1', key('a1'));

    await halts.markFlipped('sub-1', 'a1');

    expect(state.calls.slice(1)).toEqual(['get halt/sub-1#key#a1', 'put halt/sub-1#key#a1']);
    expect(state.items.get('halt\u0000sub-1#key#a1')?.value).toStrictEqual({
      kind: 'key',
      account: 'sub-1',
      ...key('a1'),
      flipped: true,
    });
  });

  it('refuses to mark flipped a key nobody recorded, naming its first 8 characters', async () => {
    const { state, halts } = setUp();

    await expect(halts.markFlipped('sub-1', '0123456789abcdef')).rejects.toThrow(
      new Error('no recorded key 01234567… for sub-1'),
    );
    expect(state.calls).toEqual(['get halt/sub-1#key#0123456789abcdef']);
  });

  it("reads an account's halt from its own items only, not an account whose name it prefixes", async () => {
    const { state, halts } = setUp();
    await halts.begin('sub', origin);
    await halts.recordKey('sub', key('k1'));
    await halts.begin('sub-2', { since: 'later', origin: 'telegram' });
    await halts.recordKey('sub-2', key('k2'));

    expect(await halts.get('sub')).toStrictEqual({
      account: 'sub',
      ...origin,
      keys: [{ ...key('k1'), flipped: false }],
    });
    expect(state.calls.at(-1)).toBe('queryAll halt sub');
    expect(await halts.get('nobody')).toBeUndefined();
  });

  it('finds no halt for an account that is not halted when one whose name it prefixes is', async () => {
    const { halts } = setUp();
    await halts.begin('sub-2', origin);
    await halts.recordKey('sub-2', key('k2'));

    expect(await halts.get('sub')).toBeUndefined();
  });

  it('lists halts in account order, not in the order of their sort keys (uppercase sorts first there)', async () => {
    const { halts } = setUp();
    await halts.begin('Beta', origin);
    await halts.begin('alpha', origin);

    expect((await halts.list()).map((h) => h.account)).toEqual(['alpha', 'Beta']);
  });

  it("says 'unknown' for the time and origin of keys whose account item is missing (a reset cut short)", async () => {
    const { halts } = setUp();
    await halts.recordKey('sub-1', key('k1'));

    expect(await halts.list()).toStrictEqual([
      { account: 'sub-1', since: 'unknown', origin: 'unknown', keys: [{ ...key('k1'), flipped: false }] },
    ]);
  });

  it('lists every halt once, in account order, skipping items that name no account or another kind', async () => {
    const { state, halts } = setUp();
    await halts.begin('zeta', origin);
    await halts.begin('alpha', { since: 'a', origin: 'cli', eventId: 'ev-9' });
    await halts.recordKey('alpha', key('k1'));
    await halts.recordKey('alpha', key('k2'));
    await state.put({ pk: 'halt', sk: 'junk' }, { kind: 'halt' });
    await state.put({ pk: 'halt', sk: 'odd' }, { kind: 'other', account: 'odd' });
    await state.put({ pk: 'halt', sk: 'null' }, null);

    const listed = await halts.list();

    expect(listed).toStrictEqual([
      {
        account: 'alpha',
        since: 'a',
        origin: 'cli',
        eventId: 'ev-9',
        keys: [
          { ...key('k1'), flipped: false },
          { ...key('k2'), flipped: false },
        ],
      },
      { account: 'odd', since: 'unknown', origin: 'unknown', keys: [] },
      { account: 'zeta', ...origin, keys: [] },
    ]);
    expect(state.calls.at(-1)).toBe('queryAll halt');
  });

  it("clears an account's keys before its own item, leaving other accounts alone", async () => {
    const { state, halts } = setUp();
    await halts.begin('sub', origin);
    await halts.recordKey('sub', key('k1'));
    await halts.recordKey('sub', key('k2'));
    await halts.begin('sub-2', origin);
    await halts.recordKey('sub-2', key('k3'));
    state.calls.length = 0;

    await halts.clear('sub');

    expect(state.calls).toEqual([
      'queryAll halt sub',
      'delete halt/sub#key#k1',
      'delete halt/sub#key#k2',
      'delete halt/sub',
    ]);
    expect([...state.items.keys()].sort()).toEqual(['halt\u0000sub-2', 'halt\u0000sub-2#key#k3']);
  });

  it('forgets the keys it wrote once cleared: a later mark reads the table and finds nothing', async () => {
    const { state, halts } = setUp();
    await halts.begin('sub', origin);
    await halts.recordKey('sub', key('k1'));
    await halts.clear('sub');
    state.calls.length = 0;

    await expect(halts.markFlipped('sub', 'k1')).rejects.toThrow('no recorded key k1… for sub');
    expect(state.calls).toEqual(['get halt/sub#key#k1']);
  });
});
