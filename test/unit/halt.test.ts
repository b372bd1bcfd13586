// The halt inside the kill switch, on in-memory clients: when it starts and what waits for it, what it
// refuses to change, and what it reports. The emulator runs (test/integration/halt.test.ts) show the keys.

import { describe, expect, it, vi } from 'vitest';
import type { BybitClient, CallOptions } from '../../lib/bybit/client.ts';
import type {
  CancelAllParams,
  OpenOrdersParams,
  SubApiKey,
  UpdateSubApiKeyParams,
} from '../../lib/bybit/types.ts';
import { SettleCoinDiscovery } from '../../lib/cancel/coverage.ts';
import type { Exchange, SubAccounts } from '../../lib/cancel/exchange.ts';
import {
  type HaltSetup,
  ipsParam,
  keyFingerprint,
  maskKey,
  resetHalt,
  sameIps,
  samePermissions,
} from '../../lib/cancel/halt.ts';
import { type KillSwitchReport, killSwitch } from '../../lib/cancel/kill-switch.ts';
import type { Coverage } from '../../lib/cancel/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import { type HaltResetError, IncompleteCancelError, SecretError } from '../../lib/errors.ts';
import { errorResponse } from '../../lib/lambda/http.ts';
import { MemoryHaltStore } from '../support/halt-store.ts';

const COVERAGE: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
const OWN = 'OWNKEY-desk-0000001';
const BOT = 'BOTKEY-desk-0000002';

const clock: Clock = { now: () => 1_000_000, sleep: async () => undefined };

/** The order of everything the clients were asked to do. */
type Log = string[];

function deskClient(log: Log): BybitClient {
  return {
    apiKey: OWN,
    async cancelAll(params: CancelAllParams) {
      log.push(`cancelAll ${params.category} ${params.orderFilter ?? ''}`.trim());
      return [];
    },
    async openOrders(params: OpenOrdersParams) {
      log.push(`openOrders ${params.category}`);
      return { category: params.category, list: [], nextPageCursor: '' };
    },
    // No strategy order runs on this account.
    async strategies() {
      log.push('strategies');
      return { list: [], nextCursor: '' };
    },
  } as unknown as BybitClient;
}

interface MasterScript {
  keys?: SubApiKey[];
  /** Holds every flip until released. */
  hold?: Promise<void>;
  refuse?: string;
}

function masterClient(log: Log, script: MasterScript = {}) {
  const keys = script.keys ?? [
    { apiKey: OWN, readOnly: false, ips: ['10.0.0.1'], permissions: { Spot: ['SpotTrade'] } },
    { apiKey: BOT, readOnly: false, ips: ['10.0.0.1', '10.0.0.2'], permissions: { Spot: ['SpotTrade'] } },
  ];
  const sent: UpdateSubApiKeyParams[] = [];
  const deadlines: (number | undefined)[] = [];
  const client = {
    async subApiKeys(_: unknown, call?: CallOptions) {
      log.push('subApiKeys');
      deadlines.push(call?.deadline);
      return { list: structuredClone(keys), nextPageCursor: '' };
    },
    async updateSubApiKey(params: UpdateSubApiKeyParams, call?: CallOptions) {
      log.push(`updateSubApiKey ${params.apikey}`);
      deadlines.push(call?.deadline);
      sent.push(params);
      await script.hold;
      if (script.refuse) throw new Error(`refused ${params.apikey}: ${script.refuse}`);
      const key = keys.find((k) => k.apiKey === params.apikey) as SubApiKey;
      key.readOnly = params.readOnly === 1;
      log.push(`flipped ${params.apikey}`);
      return { apiKey: key.apiKey, readOnly: key.readOnly, ips: key.ips, permissions: key.permissions };
    },
  } as unknown as BybitClient;
  return { client, sent, keys, deadlines };
}

interface Accounts {
  [name: string]: { client?: BybitClient; error?: Error; subUid?: string | SecretError; apiKey?: string };
}

/** Fresh reads of the secret the halt asked for. */
let freshReads = 0;

/** `keyReadMs`: how long reading an account's key takes (a secret read), before its work starts. */
function exchangeOf(accounts: Accounts, keyReadMs = 0): Exchange {
  const view = (): SubAccounts => {
    const subUids = new Map<string, string | SecretError>();
    const keyOf = new Map<string, string>();
    for (const [name, a] of Object.entries(accounts)) {
      if (a.subUid !== undefined) subUids.set(name, a.subUid);
      if (!a.error) keyOf.set(name, a.apiKey ?? OWN);
    }
    return { subUids, keyOf, ownKeys: new Set(keyOf.values()) };
  };
  return {
    discovery: new SettleCoinDiscovery({ now: () => 0 }),
    accountNames: async () => Object.keys(accounts),
    withAccount: async <T>(name: string, work: (c: BybitClient, n: string) => Promise<T>) => {
      if (keyReadMs > 0) await new Promise((resolve) => setTimeout(resolve, keyReadMs));
      const account = accounts[name];
      if (account?.error) throw account.error;
      return work(account?.client as BybitClient, name);
    },
    rotated: async () => undefined,
    subAccounts: async (options?: { refresh?: boolean }) => {
      if (options?.refresh) freshReads++;
      return view();
    },
  } as unknown as Exchange;
}

const setupOf = (store: MemoryHaltStore, master?: BybitClient): HaltSetup => ({
  store,
  master: async () => master,
});
const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: IncompleteCancelError) => error,
  );
const reportOf = (error: IncompleteCancelError) => error.report as unknown as KillSwitchReport;

describe('the halt in the kill switch', () => {
  it('sends the first wave before any halt request, and verifies only after the flips', async () => {
    const log: Log = [];
    let release: () => void = () => undefined;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const master = masterClient(log, { hold });
    // The account's key takes a moment to read; the halt's own reads do not: it still waits for the wave.
    const exchange = exchangeOf({ desk: { client: deskClient(log), subUid: '100001' } }, 10);
    // The record's writes take a moment: the confirmation of a flip need not be waited for.
    const store = new MemoryHaltStore({ latencyMs: 5, onWrite: (write) => log.push(`store ${write}`) });
    const running = killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(store, master.client));
    // Let everything run that can run while the flip is held: the wave and the flip's request (waited for, so a
    // loaded machine cannot fail it), then a little more, in which a verification must not start.
    await vi.waitFor(
      () => {
        expect(log.filter((l) => l.startsWith('cancelAll'))).toHaveLength(5);
        expect(log).toContain(`updateSubApiKey ${BOT}`);
      },
      { timeout: 5_000, interval: 5 },
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(log.filter((l) => l.startsWith('openOrders'))).toEqual([]);
    expect(log.indexOf('subApiKeys')).toBeGreaterThan(
      log.lastIndexOf('cancelAll spot BidirectionalTpslOrder'),
    );
    expect(log.filter((l) => l.startsWith('cancelAll'))).toHaveLength(5);
    expect(log).toContain(`updateSubApiKey ${BOT}`);
    release();
    const report = await running;
    expect(log.indexOf('openOrders spot')).toBeGreaterThan(log.indexOf(`flipped ${BOT}`));
    expect(log.indexOf('store recordKey')).toBeLessThan(log.indexOf(`updateSubApiKey ${BOT}`));
    expect(log.indexOf('openOrders spot')).toBeLessThan(log.indexOf('store markFlipped'));
    expect(report.halt?.accounts[0]).toMatchObject({
      mode: 'enforced',
      flipped: [maskKey(BOT)],
      own: [maskKey(OWN)],
    });
    // The kill switch's own key is never sent to update-sub-api; the bot's goes with its own IPs.
    expect(master.sent).toEqual([{ apikey: BOT, readOnly: 1, ips: '10.0.0.1,10.0.0.2' }]);
  });

  it('gives the halt’s requests a deadline that leaves the verification its time', async () => {
    const exchange = () => exchangeOf({ desk: { client: deskClient([]), subUid: '100001' } });
    const wide = masterClient([]);
    await killSwitch(
      exchange(),
      COVERAGE,
      {},
      1_000_000 + 60_000,
      clock,
      setupOf(new MemoryHaltStore(), wide.client),
    );
    expect(wide.deadlines).toEqual([1_055_000, 1_055_000]);
    // A short window: the halt gets half of it.
    const narrow = masterClient([]);
    await killSwitch(
      exchange(),
      COVERAGE,
      {},
      1_000_000 + 4_000,
      clock,
      setupOf(new MemoryHaltStore(), narrow.client),
    );
    expect(narrow.deadlines).toEqual([1_002_000, 1_002_000]);
  });

  it('records the halt with its origin, reason and event id, and a cooperative halt for a master account', async () => {
    const store = new MemoryHaltStore();
    const exchange = exchangeOf({ main: { client: deskClient([]) } });
    const report = await killSwitch(
      exchange,
      COVERAGE,
      { reason: 'drawdown', origin: 'webhook', eventId: 'ev-1' },
      10_000_000,
      clock,
      setupOf(store),
    );
    expect(report.halt).toEqual({
      set: true,
      accounts: [
        {
          account: 'main',
          mode: 'cooperative',
          why: 'the exchange secret names no subUid for this account',
          since: '1970-01-01T00:16:40.000Z',
          flipped: [],
          alreadyReadOnly: [],
          own: [],
          failed: [],
        },
      ],
    });
    expect(await store.get('main')).toEqual({
      account: 'main',
      since: '1970-01-01T00:16:40.000Z',
      origin: 'webhook',
      reason: 'drawdown',
      eventId: 'ev-1',
      keys: [],
    });
  });

  it('keeps the earlier halt’s time when a second kill switch finds the account halted', async () => {
    const store = new MemoryHaltStore();
    await store.begin('main', { since: '2026-01-01T00:00:00.000Z', origin: 'deadMansSwitch' });
    const report = await killSwitch(
      exchangeOf({ main: { client: deskClient([]) } }),
      COVERAGE,
      {},
      10_000_000,
      clock,
      setupOf(store),
    );
    expect(report.halt?.accounts[0]?.since).toBe('2026-01-01T00:00:00.000Z');
    expect((await store.get('main'))?.origin).toBe('deadMansSwitch');
  });

  it('adds nothing to the report without a halt store, and says so when asked for no halt', async () => {
    const exchange = exchangeOf({ main: { client: deskClient([]) } });
    const plain = await killSwitch(exchange, COVERAGE, {}, 10_000_000, clock);
    expect(plain).not.toHaveProperty('halt');
    const declined = await killSwitch(exchange, COVERAGE, { halt: false }, 10_000_000, clock);
    expect(declined.halt).toEqual({ set: false, why: 'the kill switch said "halt": false', accounts: [] });
  });

  it('halts on the dead man’s switch even when its event says halt: false', async () => {
    const store = new MemoryHaltStore();
    const exchange = exchangeOf({ main: { client: deskClient([]) } });
    const report = await killSwitch(
      exchange,
      COVERAGE,
      { origin: 'deadMansSwitch', halt: false },
      10_000_000,
      clock,
      setupOf(store),
    );
    expect(report.halt?.set).toBe(true);
    expect(await store.get('main')).toMatchObject({ origin: 'deadMansSwitch' });
  });

  it('halts an account whose key is malformed, though its cancels cannot run', async () => {
    const store = new MemoryHaltStore();
    const exchange = exchangeOf({
      good: { client: deskClient([]) },
      broken: { error: new SecretError('s', 'accounts.broken: "apiKey" is missing') },
    });
    const report = reportOf(
      await fail(killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(store))),
    );
    expect(report.failedScopes).toEqual(['broken: *']);
    expect((await store.list()).map((r) => r.account).sort()).toEqual(['broken', 'good']);
    expect(report.halt?.accounts.find((a) => a.account === 'broken')).toMatchObject({
      mode: 'cooperative',
      why: "the account's entry in the exchange secret is malformed",
      failed: [],
    });
  });

  it('flips nothing when the halt cannot be recorded, and says why', async () => {
    const log: Log = [];
    const master = masterClient(log);
    const store = new MemoryHaltStore({ failing: { begin: new Error('table unavailable') } });
    const exchange = exchangeOf({ desk: { client: deskClient(log), subUid: '100001' } });
    const error = await fail(
      killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(store, master.client)),
    );
    expect(master.sent).toEqual([]);
    expect(error.message).toMatch(/^every order was cancelled and verified, but the halt is incomplete/);
    expect(error.message).toContain('desk: halt: the halt could not be recorded: table unavailable');
  });

  it('leaves a key read-write when its ips cannot be read, and fails the run naming it masked', async () => {
    const log: Log = [];
    const master = masterClient(log, {
      keys: [
        { apiKey: OWN, readOnly: false, ips: ['10.0.0.1'], permissions: {} },
        { apiKey: BOT, readOnly: false, unreadable: 'ips' },
      ],
    });
    const exchange = exchangeOf({ desk: { client: deskClient(log), subUid: '100001' } });
    const error = await fail(
      killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(new MemoryHaltStore(), master.client)),
    );
    expect(master.sent).toEqual([]);
    expect(reportOf(error).halt?.accounts[0]?.failed).toEqual([
      {
        key: maskKey(BOT),
        error:
          'the exchange listed it without a readable ips: left read-write, since a change without its ips would unbind them',
      },
    ]);
    expect(error.message).not.toContain(BOT);
  });

  it('reports a sub-account with no master key, or a malformed subUid, and still cancels', async () => {
    const log: Log = [];
    const exchange = exchangeOf({
      desk: { client: deskClient(log), subUid: '100001' },
      other: {
        client: deskClient(log),
        subUid: new SecretError('s', 'accounts.other: "subUid" must be the sub-account\'s UID (digits)'),
      },
    });
    const error = await fail(
      killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(new MemoryHaltStore())),
    );
    const halt = reportOf(error).halt?.accounts ?? [];
    expect(halt.map((a) => [a.account, a.mode, a.failed.map((f) => f.error)])).toEqual([
      [
        'desk',
        'cooperative',
        ['the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID)'],
      ],
      [
        'other',
        'cooperative',
        ['secret s: accounts.other: "subUid" must be the sub-account\'s UID (digits)'],
      ],
    ]);
    expect(reportOf(error).failedScopes).toEqual(['desk: halt', 'other: halt']);
    expect(log.filter((l) => l === 'openOrders spot')).toHaveLength(2);
  });

  it('reads the secret again before flipping a key created within a day, and only then', async () => {
    const DAY = 86_400_000;
    const keysCreated = (age: number | undefined) => [
      { apiKey: OWN, readOnly: false, ips: ['*'], permissions: {}, createdAt: 0 },
      {
        apiKey: BOT,
        readOnly: false,
        ips: ['*'],
        permissions: {},
        ...(age === undefined ? {} : { createdAt: 1_000_000 - age }),
      },
    ];
    const reads = async (age: number | undefined) => {
      freshReads = 0;
      const master = masterClient([], { keys: keysCreated(age) });
      const exchange = exchangeOf({ desk: { client: deskClient([]), subUid: '100001' } });
      await killSwitch(
        exchange,
        COVERAGE,
        {},
        10_000_000,
        clock,
        setupOf(new MemoryHaltStore(), master.client),
      );
      expect(master.sent.map((p) => p.apikey)).toEqual([BOT]);
      return freshReads;
    };
    expect(await reads(DAY + 1)).toBe(0);
    expect(await reads(DAY)).toBe(1);
    // No readable creation date: it may be new.
    expect(await reads(undefined)).toBe(1);
  });

  it('never flips a key of another account of the secret, and skips keys read-only already', async () => {
    const log: Log = [];
    const SIBLING = 'SIBLINGKEY-00000003';
    const master = masterClient(log, {
      keys: [
        { apiKey: OWN, readOnly: false, ips: ['*'], permissions: {} },
        { apiKey: SIBLING, readOnly: false, ips: ['*'], permissions: {} },
        { apiKey: BOT, readOnly: true, ips: ['*'], permissions: {} },
      ],
    });
    const exchange = exchangeOf({
      desk: { client: deskClient(log), subUid: '100001' },
      twin: { client: deskClient(log), apiKey: SIBLING },
    });
    const report = await killSwitch(
      exchange,
      COVERAGE,
      { accounts: ['desk'] },
      10_000_000,
      clock,
      setupOf(new MemoryHaltStore(), master.client),
    );
    expect(master.sent).toEqual([]);
    expect(report.halt?.accounts[0]).toMatchObject({
      flipped: [],
      alreadyReadOnly: [maskKey(BOT)],
      own: [maskKey(OWN), maskKey(SIBLING)],
      failed: [],
    });
  });
});

describe('resetHalt', () => {
  const entry = (apiKey: string, flipped: boolean) => ({
    fingerprint: keyFingerprint(apiKey),
    key: maskKey(apiKey),
    readOnly: false,
    ips: ['10.0.0.1', '10.0.0.2'],
    permissions: { Spot: ['SpotTrade'] },
    flipped,
  });

  it('keeps the record, and fails naming the key, when a restore is refused', async () => {
    const log: Log = [];
    const master = masterClient(log, {
      keys: [
        { apiKey: BOT, readOnly: true, ips: ['10.0.0.2', '10.0.0.1'], permissions: { Spot: ['SpotTrade'] } },
      ],
      refuse: 'permission denied',
    });
    const store = new MemoryHaltStore();
    await store.begin('desk', { since: 'x', origin: 'killSwitch', subUid: '100001' });
    await store.recordKey('desk', entry(BOT, true));
    const error = (await resetHalt(setupOf(store, master.client), {}, 10_000_000).catch(
      (e) => e,
    )) as HaltResetError;
    expect(error.name).toBe('HaltResetError');
    expect(error.message).toBe(
      `halt reset incomplete: desk: key ${maskKey(BOT)}: refused ${maskKey(BOT)}: permission denied`,
    );
    expect(master.sent).toEqual([{ apikey: BOT, readOnly: 0, ips: '10.0.0.1,10.0.0.2' }]);
    expect(await store.get('desk')).toBeDefined();
  });

  it('resets only the accounts named, and says when they are not halted', async () => {
    const store = new MemoryHaltStore();
    await store.begin('a', { since: 'x', origin: 'killSwitch' });
    await store.begin('b', { since: 'x', origin: 'killSwitch' });
    const report = await resetHalt(setupOf(store), { accounts: ['a'] }, 10_000_000);
    expect(report.accounts.map((a) => [a.account, a.cleared])).toEqual([['a', true]]);
    expect((await store.list()).map((r) => r.account)).toEqual(['b']);
    expect(await resetHalt(setupOf(store), { accounts: ['a'] }, 10_000_000)).toEqual({
      operation: 'reset',
      ok: true,
      message: 'nothing to reset: a is not halted',
      accounts: [],
    });
  });
});

describe('halt helpers', () => {
  it('masks a key to its first 4 and last 2 characters, and hides a short one whole', () => {
    expect(maskKey('abcdefghijklmnopqr')).toBe('abcd…qr');
    expect(maskKey('short')).toBe('…');
  });

  it('sends ips as update-sub-api takes them: comma-separated, `*` for none', () => {
    expect(ipsParam(['10.0.0.1', '10.0.0.2'])).toBe('10.0.0.1,10.0.0.2');
    expect(ipsParam(['*'])).toBe('*');
    expect(ipsParam([])).toBe('*');
  });

  it('compares IPs and permissions as sets, `*` and none alike', () => {
    expect(sameIps(['b', 'a'], ['a', 'b'])).toBe(true);
    expect(sameIps(['*'], [])).toBe(true);
    expect(sameIps(['a'], ['*'])).toBe(false);
    expect(samePermissions({ Spot: ['SpotTrade'], NFT: [] }, { Spot: ['SpotTrade'] })).toBe(true);
    expect(samePermissions({ Spot: ['SpotTrade'] }, { Spot: [] })).toBe(false);
  });
});

describe('the failed halt over HTTP', () => {
  it('says the orders are gone and the halt is incomplete, not that orders are left', () => {
    const error = new IncompleteCancelError(
      { remaining: 0, failedScopes: ['desk: halt'] },
      ['desk: halt: key BOTK…02: refused'],
      'every order was cancelled and verified, but the halt is incomplete',
    );
    expect(error.message).toBe(
      'every order was cancelled and verified, but the halt is incomplete; failed: desk: halt; reasons: desk: halt: key BOTK…02: refused',
    );
    const answer = errorResponse(error, 'req-1', 'killSwitch');
    expect(answer.statusCode).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'IncompleteCancelError',
      message: 'every order was cancelled and verified, but the halt is incomplete',
      failedScopes: ['desk: halt'],
    });
    const plain = errorResponse(new IncompleteCancelError({ remaining: 3 }), 'req-2', 'killSwitch');
    expect(JSON.parse(plain.body).message).toBe(
      'not everything was cancelled; the report names what is left',
    );
  });
});

describe('the halt, in what it flips and what it says', () => {
  it('shows a key of exactly 10 characters masked, not hidden whole', () => {
    expect(maskKey('ABCDEFGHIJ')).toBe('ABCD…IJ');
    expect(maskKey('ABCDEFGHI')).toBe('…');
  });

  it('says the subUid is malformed, not missing, when the account’s key is readable', async () => {
    const exchange = exchangeOf({
      desk: {
        client: deskClient([]),
        subUid: new SecretError('s', 'accounts.desk: "subUid" must be digits'),
      },
    });
    const error = await fail(
      killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(new MemoryHaltStore())),
    );
    expect(reportOf(error).halt?.accounts[0]).toMatchObject({
      mode: 'cooperative',
      why: 'its subUid in the exchange secret is malformed',
      failed: [{ error: 'secret s: accounts.desk: "subUid" must be digits' }],
    });
  });

  it('flips nothing and names only the record as the failure when the halt cannot be recorded, while the key listing is slower', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const master = masterClient([]);
      const listing = master.client.subApiKeys.bind(master.client);
      // The record's write fails before the keys are listed: nothing may wait for it in between.
      master.client.subApiKeys = async (params, call) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return listing(params, call);
      };
      const store = new MemoryHaltStore({ failing: { begin: new Error('table unavailable') }, latencyMs: 1 });
      const exchange = exchangeOf({ desk: { client: deskClient([]), subUid: '100001' } });
      const error = await fail(
        killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(store, master.client)),
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(master.sent).toEqual([]);
      expect(reportOf(error).halt?.accounts[0]).toMatchObject({
        mode: 'enforced',
        flipped: [],
        failed: [{ error: 'the halt could not be recorded: table unavailable' }],
      });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails a flip whose answer shows other IPs, naming both lists', async () => {
    const master = masterClient([]);
    master.client.updateSubApiKey = async (params: UpdateSubApiKeyParams) => {
      master.sent.push(params);
      return {
        apiKey: params.apikey,
        readOnly: true,
        ips: ['10.0.0.3', '10.0.0.4'],
        permissions: { Spot: ['SpotTrade'] },
      };
    };
    const exchange = exchangeOf({ desk: { client: deskClient([]), subUid: '100001' } });
    const error = await fail(
      killSwitch(exchange, COVERAGE, {}, 10_000_000, clock, setupOf(new MemoryHaltStore(), master.client)),
    );
    expect(reportOf(error).halt?.accounts[0]?.failed).toEqual([
      {
        key: maskKey(BOT),
        error: 'made read-only, but the exchange changed its IPs from 10.0.0.1,10.0.0.2 to 10.0.0.3,10.0.0.4',
      },
    ]);
  });

  it('fails the whole reset when one of two accounts cannot be restored', async () => {
    const master = masterClient([], {
      keys: [{ apiKey: BOT, readOnly: true, ips: ['10.0.0.1'], permissions: { Spot: ['SpotTrade'] } }],
      refuse: 'permission denied',
    });
    const store = new MemoryHaltStore();
    await store.begin('calm', { since: 'x', origin: 'killSwitch' });
    await store.begin('desk', { since: 'x', origin: 'killSwitch', subUid: '100001' });
    await store.recordKey('desk', {
      fingerprint: keyFingerprint(BOT),
      key: maskKey(BOT),
      readOnly: false,
      ips: ['10.0.0.1'],
      permissions: { Spot: ['SpotTrade'] },
    });
    const error = (await resetHalt(setupOf(store, master.client), {}, 10_000_000).then(
      () => undefined,
      (e: unknown) => e,
    )) as HaltResetError | undefined;
    expect(error?.name).toBe('HaltResetError');
    expect((error?.report as { ok?: boolean } | undefined)?.ok).toBe(false);
    expect((await store.list()).map((r) => r.account)).toEqual(['desk']);
  });
});

describe('halt helpers, at their edges', () => {
  it('ignores empty entries in an IP list, and counts an address beside `*` as bound', () => {
    expect(sameIps(['', '10.0.0.1'], ['10.0.0.1'])).toBe(true);
    expect(sameIps(['*', '10.0.0.1'], [])).toBe(false);
  });

  it('compares each permission group as a set, whichever side is out of order', () => {
    expect(samePermissions({ Spot: ['b', 'a'] }, { Spot: ['a', 'b'] })).toBe(true);
    expect(samePermissions({ Spot: ['a', 'b'] }, { Spot: ['b', 'a'] })).toBe(true);
  });
});
