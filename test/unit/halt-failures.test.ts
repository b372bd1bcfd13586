// The halt and its reset when something fails, on in-memory clients and the Halt class itself: each failure
// is named in the report (keys masked), nothing is flipped without its prior state recorded, and a reset
// restores only what it can prove the halt changed. The kill-switch side is in halt.test.ts.

import { describe, expect, it } from 'vitest';
import type { BybitClient, CallOptions } from '../../lib/bybit/client.ts';
import type {
  SubApiKey,
  SubApiKeySettings,
  SubApiKeysParams,
  UpdateSubApiKeyParams,
} from '../../lib/bybit/types.ts';
import type { Exchange, SubAccounts } from '../../lib/cancel/exchange.ts';
import {
  Halt,
  type HaltedKey,
  type HaltSetup,
  keyFingerprint,
  listSubApiKeys,
  maskKey,
  resetHalt,
  samePermissions,
} from '../../lib/cancel/halt.ts';
import type { Clock } from '../../lib/clock.ts';
import type { HaltResetError } from '../../lib/errors.ts';
import { MemoryHaltStore } from '../support/halt-store.ts';

const NOW = 1_000_000_000;
const OWN = 'OWNKEY-desk-0000001';
const BOT = 'BOTKEY-desk-0000002';
const BOT2 = 'BOTKEY-desk-0000003';
const SUB = '100001';
const clock: Clock = { now: () => NOW, sleep: async () => undefined };
const DAY = 86_400_000;

const key = (apiKey: string, overrides: Partial<SubApiKey> = {}): SubApiKey => ({
  apiKey,
  readOnly: false,
  ips: ['10.0.0.1'],
  permissions: { Spot: ['SpotTrade'] },
  createdAt: NOW - 30 * DAY,
  ...overrides,
});

interface MasterScript {
  /** The listing, or what it throws. */
  keys?: SubApiKey[] | Error;
  /** What update-sub-api answers for a key, given what it was sent; default: the change applied. */
  answer?: (params: UpdateSubApiKeyParams, k: SubApiKey) => SubApiKeySettings | Error;
}

function master(script: MasterScript = {}) {
  const sent: UpdateSubApiKeyParams[] = [];
  const calls: (CallOptions | undefined)[] = [];
  const client = {
    async subApiKeys(_: SubApiKeysParams, call?: CallOptions) {
      calls.push(call);
      if (script.keys instanceof Error) throw script.keys;
      return { list: structuredClone(script.keys ?? [key(OWN), key(BOT)]), nextPageCursor: '' };
    },
    async updateSubApiKey(params: UpdateSubApiKeyParams, call?: CallOptions) {
      calls.push(call);
      sent.push(params);
      const keys = script.keys instanceof Error ? [] : (script.keys ?? [key(OWN), key(BOT)]);
      const k = keys.find((x) => x.apiKey === params.apikey) as SubApiKey;
      const applied = {
        apiKey: k.apiKey,
        readOnly: params.readOnly === 1,
        ips: params.ips === '*' ? ['*'] : params.ips.split(','),
        permissions: k.permissions ?? {},
      };
      const answer = script.answer ? script.answer(params, k) : applied;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as BybitClient;
  return { client, sent, calls };
}

function exchangeOf(subUids: Record<string, string>, keyOf: Record<string, string> = { desk: OWN }) {
  const view = (): SubAccounts => ({
    subUids: new Map(Object.entries(subUids)),
    keyOf: new Map(Object.entries(keyOf)),
    ownKeys: new Set(Object.values(keyOf)),
  });
  return { subAccounts: async () => view() } as unknown as Exchange;
}

const haltOf = (setup: HaltSetup, exchange = exchangeOf({ desk: SUB })) =>
  new Halt(exchange, setup, { origin: 'killSwitch' }, NOW + 20_000, clock);

const report = (overrides: object) => ({
  account: 'desk',
  mode: 'cooperative',
  flipped: [],
  alreadyReadOnly: [],
  own: [],
  failed: [],
  ...overrides,
});
const SINCE = new Date(NOW).toISOString();

describe('Halt: what a failed step leaves and says', () => {
  it('reports that the halt could not start when the secret cannot be read, and settles its keys', async () => {
    const store = new MemoryHaltStore();
    const exchange = {
      subAccounts: async () => {
        throw new Error('the exchange secret is unreadable');
      },
    } as unknown as Exchange;
    const halt = haltOf({ store }, exchange);
    await halt.keysSettled('desk');
    expect(await halt.account('desk')).toEqual(
      report({ failed: [{ error: 'the halt could not start: the exchange secret is unreadable' }] }),
    );
    expect(store.writes).toEqual([]);
  });

  it('records a cooperative halt, naming the master key that could not be read', async () => {
    const store = new MemoryHaltStore();
    const halt = haltOf({
      store,
      master: async () => {
        throw new Error('AccessDeniedException');
      },
    });
    expect(await halt.account('desk')).toEqual(
      report({
        subUid: SUB,
        since: SINCE,
        why: 'the master key is missing: no key was made read-only',
        failed: [{ error: 'the master key could not be read: AccessDeniedException' }],
      }),
    );
    expect(await store.get('desk')).toEqual({
      since: SINCE,
      origin: 'killSwitch',
      subUid: SUB,
      account: 'desk',
      keys: [],
    });
  });

  it('records a cooperative halt when the setup has no master key at all', async () => {
    const store = new MemoryHaltStore();
    expect(await haltOf({ store }).account('desk')).toEqual(
      report({
        subUid: SUB,
        since: SINCE,
        why: 'the master key is missing: no key was made read-only',
        failed: [
          { error: 'the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID)' },
        ],
      }),
    );
  });

  it('names a key listing that failed, and keeps the halt record', async () => {
    const store = new MemoryHaltStore();
    const { client, sent } = master({ keys: new Error('retCode 10005 (permission denied)') });
    expect(await haltOf({ store, master: async () => client }).account('desk')).toEqual(
      report({
        mode: 'enforced',
        subUid: SUB,
        since: SINCE,
        failed: [
          { error: `the keys of sub UID ${SUB} could not be listed: retCode 10005 (permission denied)` },
        ],
      }),
    );
    expect(sent).toEqual([]);
    expect(store.writes.map((w) => w.write)).toEqual(['begin']);
  });

  it('flips nothing when the sub UID does not hold the account’s own key', async () => {
    const store = new MemoryHaltStore();
    const { client, sent } = master({ keys: [key(BOT)] });
    expect(await haltOf({ store, master: async () => client }).account('desk')).toEqual(
      report({
        mode: 'enforced',
        subUid: SUB,
        since: SINCE,
        failed: [
          {
            error: `the account's key is not among the keys of sub UID ${SUB}: subUid names another sub-account (or the key is gone); no key was made read-only`,
          },
        ],
      }),
    );
    expect(sent).toEqual([]);
    expect(store.writes.map((w) => w.write)).toEqual(['begin']);
  });

  it('sends no flip whose prior state could not be recorded', async () => {
    const store = new MemoryHaltStore({ failing: { recordKey: new Error('ProvisionedThroughputExceeded') } });
    const { client, sent } = master();
    expect(await haltOf({ store, master: async () => client }).account('desk')).toEqual(
      report({
        mode: 'enforced',
        subUid: SUB,
        since: SINCE,
        own: [maskKey(OWN)],
        failed: [
          {
            key: maskKey(BOT),
            error: 'left read-write: its prior state could not be recorded (ProvisionedThroughputExceeded)',
          },
        ],
      }),
    );
    expect(sent).toEqual([]);
  });

  it('fails a flip the exchange answers as still read-write, or with other IPs, naming the key masked', async () => {
    const store = new MemoryHaltStore();
    const { client, sent } = master({
      keys: [key(OWN), key(BOT), key(BOT2, { ips: ['10.0.0.1', '10.0.0.2'] })],
      answer: (params, k) =>
        params.apikey === BOT
          ? { apiKey: k.apiKey, readOnly: false, ips: ['10.0.0.1'], permissions: {} }
          : { apiKey: k.apiKey, readOnly: true, ips: ['*'], permissions: {} },
    });
    const halted = await haltOf({ store, master: async () => client }).account('desk');
    expect(halted.flipped).toEqual([]);
    expect(halted.failed).toEqual([
      { key: maskKey(BOT), error: 'the exchange answered, but the key is still read-write' },
      {
        key: maskKey(BOT2),
        error: 'made read-only, but the exchange changed its IPs from 10.0.0.1,10.0.0.2 to *',
      },
    ]);
    expect(sent).toEqual([
      { apikey: BOT, readOnly: 1, ips: '10.0.0.1' },
      { apikey: BOT2, readOnly: 1, ips: '10.0.0.1,10.0.0.2' },
    ]);
    // Recorded before the flip, never confirmed.
    expect((await store.get('desk'))?.keys.map((k) => [k.key, k.flipped])).toEqual([
      [maskKey(BOT), false],
      [maskKey(BOT2), false],
    ]);
  });

  it('leaves read-write a key listed without ips, though the listing names nothing unreadable', async () => {
    const store = new MemoryHaltStore();
    const { client, sent } = master({ keys: [key(OWN), { apiKey: BOT, readOnly: false, permissions: {} }] });
    const halted = await haltOf({ store, master: async () => client }).account('desk');
    expect(halted.failed).toEqual([
      {
        key: maskKey(BOT),
        error:
          'the exchange listed it without a readable ips: left read-write, since a change without its ips would unbind them',
      },
    ]);
    expect(sent).toEqual([]);
    expect(store.writes.map((w) => w.write)).toEqual(['begin']);
  });

  it('hides the full key in an exchange error about it', async () => {
    const store = new MemoryHaltStore();
    const { client } = master({
      answer: (params) => new Error(`apikey ${params.apikey} is frozen`),
    });
    const halted = await haltOf({ store, master: async () => client }).account('desk');
    expect(halted.failed).toEqual([{ key: maskKey(BOT), error: `apikey ${maskKey(BOT)} is frozen` }]);
  });

  it('says so when a key was made read-only but its record could not be confirmed', async () => {
    const store = new MemoryHaltStore({ failing: { markFlipped: new Error('the table is gone') } });
    const { client, sent } = master();
    const halted = await haltOf({ store, master: async () => client }).account('desk');
    expect(halted).toEqual(
      report({
        mode: 'enforced',
        subUid: SUB,
        since: SINCE,
        own: [maskKey(OWN)],
        flipped: [maskKey(BOT)],
        failed: [
          {
            key: maskKey(BOT),
            error: 'made read-only, but the halt record could not say so (the table is gone)',
          },
        ],
      }),
    );
    expect(sent).toEqual([{ apikey: BOT, readOnly: 1, ips: '10.0.0.1' }]);
  });

  it('records the halt’s origin without a reason or event id when none is given', async () => {
    const store = new MemoryHaltStore();
    await haltOf({ store }, exchangeOf({})).account('desk');
    expect(await store.get('desk')).toEqual({
      since: SINCE,
      origin: 'killSwitch',
      account: 'desk',
      keys: [],
    });
  });

  it('gives its requests half the time left when that is later than 5 s before the deadline', async () => {
    const { client, calls } = master();
    const store = new MemoryHaltStore();
    // 6 s left: 3 s (half) is later than 1 s (6 s minus the 5 s reserve).
    await new Halt(
      exchangeOf({ desk: SUB }),
      { store, master: async () => client },
      { origin: 'x' },
      NOW + 6000,
      clock,
    ).account('desk');
    expect(calls.map((c) => c?.deadline)).toEqual([NOW + 3000, NOW + 3000]);
    expect(calls.map((c) => c?.priority)).toEqual(['first-wave', 'first-wave']);
  });
});

describe('samePermissions and failures that are not Errors', () => {
  it('takes a group missing on either side as empty', () => {
    expect(samePermissions({ Spot: ['SpotTrade'] }, { Spot: ['SpotTrade'], Wallet: [] })).toBe(true);
    expect(samePermissions({ Spot: ['SpotTrade'], Wallet: [] }, { Spot: ['SpotTrade'] })).toBe(true);
    expect(
      samePermissions({ Spot: ['SpotTrade'] }, { Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] }),
    ).toBe(false);
    expect(
      samePermissions({ Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] }, { Spot: ['SpotTrade'] }),
    ).toBe(false);
  });

  it('names a store failure that is not an Error by its text', async () => {
    const store = new MemoryHaltStore();
    store.begin = async () => {
      throw 'the table is throttled';
    };
    const halted = await haltOf({ store }, exchangeOf({})).account('desk');
    expect(halted.failed).toEqual([{ error: 'the halt could not be recorded: the table is throttled' }]);
  });
});

describe('listSubApiKeys', () => {
  function paged(pages: { list: SubApiKey[]; nextPageCursor: string }[]) {
    const asked: SubApiKeysParams[] = [];
    let i = 0;
    const client = {
      async subApiKeys(params: SubApiKeysParams) {
        asked.push(params);
        const page = pages[Math.min(i, pages.length - 1)];
        i++;
        return page;
      },
    } as unknown as BybitClient;
    return { client, asked };
  }

  it('reads every page by its cursor, 20 keys a page, and stops at an empty page', async () => {
    const { client, asked } = paged([
      { list: [key('A-000000001')], nextPageCursor: 'c1' },
      { list: [key('B-000000002')], nextPageCursor: 'c2' },
      { list: [], nextPageCursor: 'c3' },
    ]);
    const sends: number[] = [];
    const keys = await listSubApiKeys(client, SUB, {}, (request) => {
      sends.push(sends.length);
      return request();
    });
    expect(keys.map((k) => k.apiKey)).toEqual(['A-000000001', 'B-000000002']);
    expect(asked).toEqual([
      { subMemberId: SUB, limit: 20 },
      { subMemberId: SUB, limit: 20, cursor: 'c1' },
      { subMemberId: SUB, limit: 20, cursor: 'c2' },
    ]);
    expect(sends).toEqual([0, 1, 2]);
  });

  it('fails when the exchange answers the same cursor twice', async () => {
    const { client, asked } = paged([{ list: [key('A-000000001')], nextPageCursor: 'same' }]);
    await expect(listSubApiKeys(client, SUB, {})).rejects.toThrow(
      'the exchange returned the same cursor twice',
    );
    expect(asked).toHaveLength(2);
  });

  it('gives up past 50 pages (1000 keys)', async () => {
    let n = 0;
    const asked: SubApiKeysParams[] = [];
    const client = {
      async subApiKeys(params: SubApiKeysParams) {
        asked.push(params);
        n++;
        return { list: [key(`K-${n}-0000000`)], nextPageCursor: `c${n}` };
      },
    } as unknown as BybitClient;
    await expect(listSubApiKeys(client, SUB, {})).rejects.toThrow('more than 1000 keys');
    expect(asked).toHaveLength(50);
    expect(asked[49]?.cursor).toBe('c49');
  });
});

describe('resetHalt: what it leaves alone and what it cannot do', () => {
  const entry = (apiKey: string, overrides: Partial<HaltedKey> = {}): HaltedKey => ({
    fingerprint: keyFingerprint(apiKey),
    key: maskKey(apiKey),
    readOnly: false,
    ips: ['10.0.0.1'],
    permissions: { Spot: ['SpotTrade'] },
    flipped: true,
    ...overrides,
  });
  async function halted(keys: HaltedKey[], subUid: string | null = SUB) {
    const store = new MemoryHaltStore();
    await store.begin('desk', { since: 'x', origin: 'killSwitch', ...(subUid ? { subUid } : {}) });
    for (const k of keys) {
      const { flipped, ...prior } = k;
      await store.recordKey('desk', prior);
      if (flipped) await store.markFlipped('desk', k.fingerprint);
    }
    return store;
  }
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the reset to fail');
      },
      (error: HaltResetError) => error,
    );

  it('says there is nothing to reset when no account is halted, with who asked', async () => {
    expect(await resetHalt({ store: new MemoryHaltStore() }, { by: 'ana@desk-3' }, NOW)).toEqual({
      operation: 'reset',
      ok: true,
      by: 'ana@desk-3',
      message: 'nothing to reset: no account is halted',
      accounts: [],
    });
    expect(await resetHalt({ store: new MemoryHaltStore() }, { accounts: ['a', 'b'] }, NOW)).toEqual({
      operation: 'reset',
      ok: true,
      message: 'nothing to reset: a, b are not halted',
      accounts: [],
    });
  });

  it('restores each key with its IPs, at routine priority, and clears the record', async () => {
    const store = await halted([entry(BOT)]);
    const { client, sent, calls } = master({ keys: [key(BOT, { readOnly: true })] });
    expect(await resetHalt({ store, master: async () => client }, { by: 'ana' }, NOW + 9000)).toEqual({
      operation: 'reset',
      ok: true,
      by: 'ana',
      message: 'reset 1 account(s): 1 key(s) made read-write again',
      accounts: [{ account: 'desk', restored: [maskKey(BOT)], leftAlone: [], failed: [], cleared: true }],
    });
    expect(sent).toEqual([{ apikey: BOT, readOnly: 0, ips: '10.0.0.1' }]);
    expect(calls).toEqual([
      { deadline: NOW + 9000, priority: 'routine' },
      { deadline: NOW + 9000, priority: 'routine' },
    ]);
    expect(await store.list()).toEqual([]);
  });

  it('leaves alone a key gone, made read-write by hand, unreadable, or changed by hand; skips a flip that never landed', async () => {
    const GONE = 'GONEKEY-desk-000009';
    const IPS = 'IPSKEY-desk-0000010';
    const PERMS = 'PRMKEY-desk-0000011';
    const BLIND = 'BLDKEY-desk-0000012';
    const store = await halted([
      entry(GONE),
      entry(BOT),
      entry(BOT2, { flipped: false }),
      entry(BLIND),
      entry(IPS),
      entry(PERMS),
    ]);
    const { client, sent } = master({
      keys: [
        key(BOT),
        key(BOT2),
        { apiKey: BLIND, readOnly: true, unreadable: 'permissions' },
        key(IPS, { readOnly: true, ips: ['10.9.9.9'] }),
        key(PERMS, { readOnly: true, permissions: { Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] } }),
      ],
    });
    const reset = await resetHalt({ store, master: async () => client }, {}, NOW);
    expect(reset.accounts).toEqual([
      {
        account: 'desk',
        restored: [],
        leftAlone: [
          { key: maskKey(GONE), error: 'the key no longer exists' },
          { key: maskKey(BOT), error: 'made read-write by hand since the halt' },
          { key: maskKey(BLIND), error: 'the exchange listed it without a readable permissions' },
          {
            key: maskKey(IPS),
            error: 'its IPs or permissions were changed by hand since the halt: left read-only',
          },
          {
            key: maskKey(PERMS),
            error: 'its IPs or permissions were changed by hand since the halt: left read-only',
          },
        ],
        failed: [],
        cleared: true,
      },
    ]);
    expect(reset.message).toBe('reset 1 account(s): 0 key(s) made read-write again');
    expect(sent).toEqual([]);
  });

  it('names a key listed without its ips as unreadable ips', async () => {
    const store = await halted([entry(BOT)]);
    const { client } = master({ keys: [{ apiKey: BOT, readOnly: true, permissions: {} }] });
    const reset = await resetHalt({ store, master: async () => client }, {}, NOW);
    expect(reset.accounts[0]?.leftAlone).toEqual([
      { key: maskKey(BOT), error: 'the exchange listed it without a readable ips' },
    ]);
  });

  it('fails, keeping the record, a restore the exchange answers as still read-only or with other IPs', async () => {
    const store = await halted([entry(BOT), entry(BOT2)]);
    const { client } = master({
      keys: [key(BOT, { readOnly: true }), key(BOT2, { readOnly: true })],
      answer: (params, k) =>
        params.apikey === BOT
          ? { apiKey: k.apiKey, readOnly: true, ips: ['10.0.0.1'], permissions: {} }
          : { apiKey: k.apiKey, readOnly: false, ips: ['10.0.0.1', '10.0.0.7'], permissions: {} },
    });
    const error = await failure(resetHalt({ store, master: async () => client }, {}, NOW));
    expect(error.message).toBe(
      `halt reset incomplete: desk: key ${maskKey(BOT)}: the exchange answered, but the key is still read-only; desk: key ${maskKey(BOT2)}: the exchange changed its IPs to 10.0.0.1,10.0.0.7`,
    );
    expect(error.report).toMatchObject({
      operation: 'reset',
      ok: false,
      message: 'the reset is incomplete: the accounts named under failed are still halted',
    });
    expect((await store.get('desk'))?.keys).toHaveLength(2);
  });

  it('fails an account with keys to restore but no master key, and one whose record names no sub UID', async () => {
    const noMaster = await halted([entry(BOT)]);
    const error = await failure(resetHalt({ store: noMaster }, {}, NOW));
    expect(error.message).toBe(
      'halt reset incomplete: desk: no master key is configured (HALT_MASTER_SECRET_ID)',
    );
    expect(await noMaster.get('desk')).toBeDefined();

    const noSub = await halted([entry(BOT)], null);
    const { client, sent } = master({ keys: [key(BOT, { readOnly: true })] });
    const second = await failure(resetHalt({ store: noSub, master: async () => client }, {}, NOW));
    expect(second.message).toBe(
      'halt reset incomplete: desk: the halt record names no sub UID, yet it holds keys',
    );
    expect(sent).toEqual([]);
  });

  it('clears a cooperative halt without asking for the master key', async () => {
    const store = await halted([], null);
    let asked = 0;
    const reset = await resetHalt(
      {
        store,
        master: async () => {
          asked++;
          return undefined;
        },
      },
      {},
      NOW,
    );
    expect(reset.accounts).toEqual([
      { account: 'desk', restored: [], leftAlone: [], failed: [], cleared: true },
    ]);
    expect(asked).toBe(0);
  });

  it('fails when the record cannot be cleared, naming why', async () => {
    const store = new MemoryHaltStore({ failing: { clear: new Error('ConditionalCheckFailed') } });
    await store.begin('desk', { since: 'x', origin: 'killSwitch' });
    const error = await failure(resetHalt({ store }, {}, NOW));
    expect(error.message).toBe(
      'halt reset incomplete: desk: the halt record could not be cleared: ConditionalCheckFailed',
    );
    expect((error.report as { accounts: unknown[] }).accounts).toEqual([
      {
        account: 'desk',
        restored: [],
        leftAlone: [],
        failed: [{ error: 'the halt record could not be cleared: ConditionalCheckFailed' }],
        cleared: false,
      },
    ]);
  });
});
