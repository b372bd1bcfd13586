// The drill's step 4, on in-memory clients: checkMasterKey (the master key and each sub UID's key listing,
// where the master key may be read) and how the drill folds its answer, or its failure, into the report.

import { describe, expect, it } from 'vitest';
import type { BybitClient, CallOptions } from '../../lib/bybit/client.ts';
import type {
  ApiKeyInfo,
  OpenOrdersPage,
  Strategy,
  SubApiKey,
  SubApiKeysParams,
} from '../../lib/bybit/types.ts';
import {
  checkMasterKey,
  type DrillReport,
  drill,
  judgeMasterKey,
  type MasterCheck,
  type MasterCheckRequest,
  type MasterCheckResult,
  type MasterDrill,
} from '../../lib/cancel/drill.ts';
import type { Exchange, SubAccounts } from '../../lib/cancel/exchange.ts';
import { keyFingerprint, maskKey } from '../../lib/cancel/halt.ts';
import { BybitApiError, type DrillFailedError, SecretError } from '../../lib/errors.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DEADLINE = NOW + 60_000;
const OWN_A = 'OWNKEY-desk-a-000001';
const OWN_B = 'OWNKEY-desk-b-000002';
const BOT = 'BOTKEY-bot-00000003';
const LOCKED = 'LOCKED-bot-00000004';
const BLIND = 'BLINDK-bot-00000005';

const fakeClock = (start = NOW) => {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
};

function masterInfo(overrides: Partial<ApiKeyInfo> = {}): ApiKeyInfo {
  return {
    readOnly: 0,
    uta: 1,
    ips: ['203.0.113.7'],
    permissions: { Wallet: ['AccountTransfer'] },
    deadlineDay: -2,
    expiredAt: '1970-01-01T00:00:00Z',
    isMaster: true,
    parentUid: '0',
    ...overrides,
  };
}

const readable = (apiKey: string, readOnly = false): SubApiKey => ({
  apiKey,
  readOnly,
  ips: ['10.0.0.1'],
  permissions: { Spot: ['SpotTrade'] },
});

interface MasterScript {
  info?: ApiKeyInfo;
  infoError?: Error;
  /** Pages of keys per sub UID, or the error its listing throws. */
  keys?: Record<string, SubApiKey[] | Error>;
}

function masterClient(script: MasterScript = {}) {
  const asked: { what: string; params?: SubApiKeysParams; call?: CallOptions }[] = [];
  const client = {
    async apiKeyInfo(call?: CallOptions) {
      asked.push({ what: 'apiKeyInfo', call });
      if (script.infoError) throw script.infoError;
      return script.info ?? masterInfo();
    },
    async subApiKeys(params: SubApiKeysParams, call?: CallOptions) {
      asked.push({ what: 'subApiKeys', params, call });
      const keys = script.keys?.[params.subMemberId] ?? [];
      if (keys instanceof Error) throw keys;
      return { list: keys, nextPageCursor: '' };
    },
  } as unknown as BybitClient;
  return { client, asked };
}

const ref = (account: string, subUid: string, apiKey: string) => ({
  account,
  subUid,
  key: keyFingerprint(apiKey),
});

describe('checkMasterKey', () => {
  it('fails the master key, checking nothing else, when it cannot be read', async () => {
    const clock = fakeClock();
    const result = await checkMasterKey(
      async () => {
        throw new Error('AccessDeniedException: not allowed');
      },
      { subAccounts: [ref('a', '100001', OWN_A)], ownKeys: [] },
      { deadline: DEADLINE, clock },
    );
    expect(result).toEqual({
      configured: true,
      master: {
        ok: false,
        problems: [
          {
            code: 'masterKeyFailed',
            message: 'the master key cannot be read: AccessDeniedException: not allowed',
          },
        ],
        warnings: [],
        walletPermissions: [],
      },
      accounts: [],
    });
  });

  it('answers "not configured" and checks nothing without a master key', async () => {
    expect(
      await checkMasterKey(
        async () => undefined,
        { subAccounts: [ref('a', '100001', OWN_A)], ownKeys: [] },
        { deadline: DEADLINE, clock: fakeClock() },
      ),
    ).toEqual({ configured: false, accounts: [] });
  });

  it('lists each sub UID as a halt would, counting the keys a halt would make read-only', async () => {
    const { client, asked } = masterClient({
      keys: {
        '100001': [readable(OWN_A), readable(OWN_B), readable(BOT), readable(LOCKED, true)],
        '100002': [readable(OWN_B)],
      },
    });
    const clock = fakeClock();
    const result = await checkMasterKey(
      async () => client,
      {
        subAccounts: [ref('a', '100001', OWN_A), ref('b', '100002', OWN_B)],
        ownKeys: [keyFingerprint(OWN_A), keyFingerprint(OWN_B)],
      },
      { deadline: DEADLINE, clock, minIntervalMs: 10 },
    );
    expect(result).toEqual({
      configured: true,
      master: { ok: true, problems: [], warnings: [], walletPermissions: ['AccountTransfer'] },
      accounts: [
        { account: 'a', halt: { subUid: '100001', keys: 4, wouldFlip: 1 }, problems: [] },
        { account: 'b', halt: { subUid: '100002', keys: 1, wouldFlip: 0 }, problems: [] },
      ],
    });
    const call = { deadline: DEADLINE, priority: 'background' };
    expect(asked).toEqual([
      { what: 'apiKeyInfo', call },
      { what: 'subApiKeys', params: { subMemberId: '100001', limit: 20 }, call },
      { what: 'subApiKeys', params: { subMemberId: '100002', limit: 20 }, call },
    ]);
    // One request at a time, 10 ms apart, on the clock it is given.
    expect(clock.sleeps).toEqual([10, 10]);
  });

  it('names a sub UID that holds not the account’s key, a key a halt could not read, and a failed listing', async () => {
    const { client } = masterClient({
      keys: {
        '100001': [readable(BOT)],
        '100002': [
          readable(OWN_B),
          { apiKey: BLIND, readOnly: false, unreadable: 'ips' },
          { apiKey: LOCKED, readOnly: true, unreadable: 'permissions' },
        ],
        '100003': new Error('retCode 10005 (permission denied)'),
      },
    });
    const result = await checkMasterKey(
      async () => client,
      {
        subAccounts: [ref('a', '100001', OWN_A), ref('b', '100002', OWN_B), ref('c', '100003', OWN_A)],
        ownKeys: [keyFingerprint(OWN_A), keyFingerprint(OWN_B)],
      },
      { deadline: DEADLINE, clock: fakeClock(), minIntervalMs: 0 },
    );
    expect(result.master?.ok).toBe(true);
    expect(result.accounts).toEqual([
      {
        account: 'a',
        halt: { subUid: '100001', keys: 1, wouldFlip: 1 },
        problems: [
          {
            code: 'subUidMismatch',
            message:
              "the account's key is not among the keys of sub UID 100001: subUid names another sub-account, so a halt would make no key read-only",
          },
        ],
      },
      {
        account: 'b',
        halt: { subUid: '100002', keys: 3, wouldFlip: 1 },
        problems: [
          {
            code: 'subKeyUnreadable',
            message: `key ${maskKey(BLIND)} is listed without a readable ips: a halt would leave it read-write`,
          },
        ],
      },
      {
        account: 'c',
        problems: [
          {
            code: 'subKeysUnlisted',
            message:
              'the master key cannot list the keys of sub UID 100003, so a halt could not make them read-only: retCode 10005 (permission denied)',
          },
        ],
      },
    ]);
  });

  it('fails a master key the exchange refuses, and warns of a master key no account uses', async () => {
    const { client, asked } = masterClient({
      infoError: new BybitApiError('query-api', 10010, 'Unmatched IP', 'credentials'),
    });
    const result = await checkMasterKey(
      async () => client,
      { subAccounts: [], ownKeys: [] },
      { deadline: DEADLINE, clock: fakeClock() },
    );
    expect(result).toEqual({
      configured: true,
      master: {
        ok: false,
        problems: [
          {
            code: 'masterKeyFailed',
            message: 'the exchange refuses the key (this IP is not bound to it): retCode 10010 Unmatched IP',
          },
        ],
        warnings: [
          {
            code: 'masterUnused',
            message: 'a master key is configured, but no account of the exchange secret names a subUid',
          },
        ],
        walletPermissions: [],
      },
      accounts: [],
    });
    expect(asked.map((a) => a.what)).toEqual(['apiKeyInfo']);
  });

  it('judges the master key on the clock and with the warning period it is given', async () => {
    const expiredAt = new Date(NOW + 5 * 86_400_000).toISOString();
    const { client } = masterClient({ info: masterInfo({ expiredAt }) });
    const check = (expiryDays?: number) =>
      checkMasterKey(
        async () => client,
        { subAccounts: [], ownKeys: [] },
        { deadline: DEADLINE, clock: fakeClock(), ...(expiryDays !== undefined ? { expiryDays } : {}) },
      );
    expect((await check())?.master?.problems).toEqual([
      {
        code: 'masterExpiresSoon',
        message: 'the key expires on 2026-12-06, within the 14-day warning period',
      },
    ]);
    expect((await check(4))?.master).toEqual({
      ok: true,
      problems: [],
      warnings: [expect.objectContaining({ code: 'masterUnused' })],
      walletPermissions: ['AccountTransfer'],
    });
  });
});

describe('drill: the enforced halt (step 4)', () => {
  interface Account {
    apiKey?: string;
    subUid?: string | SecretError;
  }
  function exchangeOf(
    accounts: Record<string, Account>,
    extraSubUids: [string, string][] = [],
    strategies: Strategy[] = [],
  ) {
    const client = {
      apiKeyInfo: async () => masterInfo({ permissions: { Spot: ['SpotTrade'] }, isMaster: false }),
      openOrders: async (): Promise<OpenOrdersPage> => ({ category: 'spot', list: [], nextPageCursor: '' }),
      strategies: async () => ({ list: strategies, nextCursor: '' }),
    } as unknown as BybitClient;
    const subAccounts = (): SubAccounts => {
      const subUids = new Map<string, string | SecretError>(extraSubUids);
      const keyOf = new Map<string, string>();
      for (const [name, a] of Object.entries(accounts)) {
        if (a.subUid !== undefined) subUids.set(name, a.subUid);
        if (a.apiKey !== undefined) keyOf.set(name, a.apiKey);
      }
      return { subUids, keyOf, ownKeys: new Set(keyOf.values()) };
    };
    return {
      accountNames: async () => Object.keys(accounts),
      withAccount: async <T>(name: string, work: (c: BybitClient, a: string) => Promise<T>) =>
        work(client, name),
      subAccounts: async () => subAccounts(),
    } as unknown as Exchange;
  }
  const run = (exchange: Exchange, master?: MasterCheck, request = {}) =>
    drill(
      exchange,
      {
        categories: ['spot'],
        settleCoins: async () => [],
        minIntervalMs: 0,
        ...(master ? { master } : {}),
      },
      request,
      DEADLINE,
      fakeClock(),
    );
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the drill to fail');
      },
      (error: DrillFailedError) => error,
    );
  const reportOf = (error: DrillFailedError) => error.report as unknown as DrillReport;
  /** A master check that finds no master key configured, keeping what it was asked. */
  const unconfigured = () => {
    const requests: MasterCheckRequest[] = [];
    const master: MasterCheck = async (request) => {
      requests.push(request);
      return { configured: false, accounts: [] };
    };
    return { requests, master };
  };

  it('counts strategies by status name, a status the docs do not name under its number', async () => {
    const strategy = (strategyId: string, status: number): Strategy => ({
      strategyId,
      strategyType: 'twap',
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      status,
    });
    const exchange = (() => {
      const accounts = { a: { apiKey: OWN_A } };
      return exchangeOf(
        accounts,
        [],
        [strategy('s1', 2), strategy('s2', 2), strategy('s3', 9), strategy('s4', 9)],
      );
    })();
    const report = await drill(
      exchange,
      { categories: ['spot'], settleCoins: async () => [], minIntervalMs: 0 },
      {},
      DEADLINE,
      fakeClock(),
    );
    expect(report.accounts[0]?.strategies).toEqual({ running: 2, paused: 0, untriggered: 0, 'status 9': 2 });
  });

  it('leaves the halt out of the report when given no master check', async () => {
    const report = await run(exchangeOf({ a: { apiKey: OWN_A, subUid: '100001' } }));
    expect(report.ok).toBe(true);
    expect('master' in report).toBe(false);
    expect(report.accounts[0]?.halt).toBeUndefined();
  });

  it('asks the master check about the reported sub-accounts only, by fingerprint, at background priority', async () => {
    const requests: [MasterCheckRequest, CallOptions][] = [];
    const master: MasterCheck = async (request, call) => {
      requests.push([request, call]);
      return {
        configured: true,
        master: { ok: true, problems: [], warnings: [], walletPermissions: ['AccountTransfer'] },
        accounts: [
          { account: 'a', halt: { subUid: '100001', keys: 3, wouldFlip: 2 }, problems: [] },
          { account: 'b', problems: [] },
          // An account the drill did not report on is ignored.
          { account: 'ghost', halt: { subUid: '9', keys: 1, wouldFlip: 1 }, problems: [] },
        ],
      };
    };
    const exchange = exchangeOf(
      { a: { apiKey: OWN_A, subUid: '100001' }, b: { subUid: '100002' }, c: { apiKey: OWN_B } },
      [['elsewhere', '100009']],
    );
    const report = await run(exchange, master);
    expect(requests).toEqual([
      [
        {
          subAccounts: [
            { account: 'a', subUid: '100001', key: keyFingerprint(OWN_A) },
            { account: 'b', subUid: '100002', key: keyFingerprint('') },
          ],
          ownKeys: [keyFingerprint(OWN_A), keyFingerprint(OWN_B)],
        },
        { deadline: DEADLINE, priority: 'background' },
      ],
    ]);
    expect(report.ok).toBe(true);
    expect(report.master).toEqual({
      ok: true,
      problems: [],
      warnings: [],
      walletPermissions: ['AccountTransfer'],
    });
    expect(report.accounts.map((a) => [a.account, a.ok, a.halt])).toEqual([
      ['a', true, { subUid: '100001', keys: 3, wouldFlip: 2 }],
      ['b', true, undefined],
      ['c', true, undefined],
    ]);
  });

  it('fails the account whose sub-key listing has a problem, and the master key’s problems as the master’s', async () => {
    const master: MasterCheck = async (): Promise<MasterCheckResult> => ({
      configured: true,
      master: {
        ok: false,
        problems: [{ code: 'masterReadOnly', message: 'the key is read-only' }],
        warnings: [],
        walletPermissions: [],
      },
      accounts: [
        {
          account: 'a',
          halt: { subUid: '100001', keys: 1, wouldFlip: 1 },
          problems: [{ code: 'subUidMismatch', message: 'not among them' }],
        },
      ],
    });
    const error = await failure(run(exchangeOf({ a: { apiKey: OWN_A, subUid: '100001' } }), master));
    expect(error.message).toBe(
      'kill-switch drill failed: master key: the key is read-only; a: not among them',
    );
    const report = reportOf(error);
    expect(report.ok).toBe(false);
    expect(report.accounts[0]).toMatchObject({
      account: 'a',
      ok: false,
      halt: { subUid: '100001', keys: 1, wouldFlip: 1 },
      problems: [{ code: 'subUidMismatch', message: 'not among them' }],
    });
  });

  it('fails only the master key when its check cannot run', async () => {
    const master: MasterCheck = async () => {
      throw new Error('the reset function timed out');
    };
    const error = await failure(run(exchangeOf({ a: { apiKey: OWN_A, subUid: '100001' } }), master));
    expect(error.message).toBe(
      'kill-switch drill failed: master key: the master key could not be checked: the reset function timed out',
    );
    const report = reportOf(error);
    expect(report.master).toEqual({
      ok: false,
      problems: [
        {
          code: 'masterKeyFailed',
          message: 'the master key could not be checked: the reset function timed out',
        },
      ],
      warnings: [],
      walletPermissions: [],
    });
    expect(report.accounts.map((a) => [a.account, a.ok])).toEqual([['a', true]]);
  });

  it('fails each account that names a subUid when no master key is configured, and a malformed subUid', async () => {
    const { requests, master } = unconfigured();
    const exchange = exchangeOf({
      a: { apiKey: OWN_A, subUid: '100001' },
      bad: { apiKey: OWN_B, subUid: new SecretError('s', 'accounts.bad: "subUid" must be digits') },
      plain: { apiKey: BOT },
    });
    const error = await failure(run(exchange, master));
    const report = reportOf(error);
    expect('master' in report).toBe(false);
    expect(requests.map((r) => r.subAccounts.map((s) => s.account))).toEqual([['a']]);
    expect(report.accounts.map((a) => [a.account, a.ok, a.problems])).toEqual([
      [
        'a',
        false,
        [
          {
            code: 'noMasterKey',
            message:
              'the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID): a kill switch could not make its keys read-only',
          },
        ],
      ],
      [
        'bad',
        false,
        [{ code: 'subUidMalformed', message: 'secret s: accounts.bad: "subUid" must be digits' }],
      ],
      ['plain', true, []],
    ]);
    expect(error.message).toBe(
      'kill-switch drill failed: a: the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID): a kill switch could not make its keys read-only; bad: secret s: accounts.bad: "subUid" must be digits',
    );
  });

  it('checks only the accounts asked for, though the secret names more sub-accounts', async () => {
    const { requests, master } = unconfigured();
    const exchange = exchangeOf({
      a: { apiKey: OWN_A, subUid: '100001' },
      b: { apiKey: OWN_B, subUid: new SecretError('s', 'malformed') },
    });
    const report = await run(exchange, master, { accounts: ['c'] }).catch((e: DrillFailedError) =>
      reportOf(e),
    );
    expect(requests).toEqual([{ subAccounts: [], ownKeys: [keyFingerprint(OWN_A), keyFingerprint(OWN_B)] }]);
    expect(report.accounts.map((a) => [a.account, a.problems.map((p) => p.code)])).toEqual([
      ['c', ['unknownAccount']],
    ]);
  });
});

describe('drill: the rest of what it words and counts', () => {
  it('says when the master key’s answer does not state whose it is', () => {
    const into: MasterDrill = { ok: true, problems: [], warnings: [], walletPermissions: [] };
    const { isMaster: _, parentUid: __, ...unstated } = masterInfo();
    judgeMasterKey(unstated, into, NOW, 14);
    expect(into.problems).toEqual([
      {
        code: 'notMaster',
        message:
          "the key does not belong to the master account (isMaster not stated, parentUid not stated): only a master key can change its sub-accounts' keys",
      },
    ]);
  });

  it('says a master key whose date has passed has expired', () => {
    const into: MasterDrill = { ok: true, problems: [], warnings: [], walletPermissions: [] };
    judgeMasterKey(masterInfo({ expiredAt: new Date(NOW - 86_400_000).toISOString() }), into, NOW, 14);
    expect(into.problems).toEqual([
      {
        code: 'masterExpiresSoon',
        message: 'the key expires or has expired, within the 14-day warning period',
      },
    ]);
  });

  it('names a master key read failure that is not an Error by its text', async () => {
    const result = await checkMasterKey(
      async () => {
        throw 'the reset function answered 502';
      },
      { subAccounts: [], ownKeys: [] },
      { deadline: DEADLINE, clock: fakeClock() },
    );
    expect(result.master?.problems).toEqual([
      { code: 'masterKeyFailed', message: 'the master key cannot be read: the reset function answered 502' },
    ]);
  });

  it('runs on the system clock when given none', async () => {
    const { client, asked } = masterClient();
    const result = await checkMasterKey(
      async () => client,
      { subAccounts: [], ownKeys: [] },
      { deadline: Date.now() + 600_000, minIntervalMs: 0 },
    );
    expect(result.master?.ok).toBe(true);
    expect(asked.map((a) => a.what)).toEqual(['apiKeyInfo']);
  });
});

describe('judgeMasterKey: each finding as the drill words it', () => {
  const judged = (info: ApiKeyInfo) => {
    const into: MasterDrill = { ok: true, problems: [], warnings: [], walletPermissions: [] };
    judgeMasterKey(info, into, NOW, 14);
    return into;
  };

  it('takes a master key whose answer states isMaster but no parentUid as the master’s', () => {
    const { parentUid: _, ...noParent } = masterInfo();
    expect(judged(noParent).problems).toEqual([]);
  });

  it('says a key with a parent UID is not the master’s, though it claims to be', () => {
    expect(judged(masterInfo({ isMaster: true, parentUid: '8000' })).problems).toEqual([
      {
        code: 'notMaster',
        message:
          "the key does not belong to the master account (isMaster true, parentUid 8000): only a master key can change its sub-accounts' keys",
      },
    ]);
  });

  it('says a read-only master key cannot make sub-account keys read-only', () => {
    expect(judged(masterInfo({ readOnly: 1 })).problems).toEqual([
      {
        code: 'masterReadOnly',
        message: 'the key is read-only: it cannot make sub-account keys read-only (update-sub-api)',
      },
    ]);
  });

  it('names the permission to give a master key whose answer has no Wallet group, and warns of nothing else', () => {
    expect(judged(masterInfo({ permissions: {} }))).toEqual({
      ok: true,
      problems: [
        {
          code: 'masterMissingPermission',
          message:
            'the key lacks a Wallet permission update-sub-api requires: give it Account Transfer (the narrowest that works)',
        },
      ],
      warnings: [],
      walletPermissions: [],
    });
  });

  it('warns of Sub Member Transfer only when Account Transfer is not there too', () => {
    expect(judged(masterInfo({ permissions: { Wallet: ['SubMemberTransfer'] } })).warnings).toEqual([
      {
        code: 'masterBroaderThanNeeded',
        message:
          'the key holds Sub Member Transfer; Account Transfer is enough for the halt and narrower (funds stay in the master account)',
      },
    ]);
    expect(
      judged(masterInfo({ permissions: { Wallet: ['SubMemberTransfer', 'AccountTransfer'] } })).warnings,
    ).toEqual([]);
  });

  it('names every trading permission group the master key holds', () => {
    const info = masterInfo({
      permissions: { ContractTrade: ['Order'], Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] },
    });
    expect(judged(info).warnings).toEqual([
      {
        code: 'masterTradePermission',
        message: 'the key holds trading permissions (ContractTrade, Spot), which the halt never needs',
      },
    ]);
  });

  it('says how to bind a master key whose answer lists no IP at all', () => {
    expect(judged(masterInfo({ ips: [], deadlineDay: 80 })).problems).toEqual([
      {
        code: 'masterNotIpBound',
        message:
          "the key is bound to no IP address: bind it to the functions' egress IP in Bybit's API management page (since 2026-02-10 a master key's IPs cannot be set through the API)",
      },
    ]);
  });

  it('warns of a master key expiring at the end of the warning period, and calls one expiring now expired', () => {
    expect(judged(masterInfo({ deadlineDay: 14 })).problems).toEqual([
      {
        code: 'masterExpiresSoon',
        message: 'the key expires on 2026-12-15, within the 14-day warning period',
      },
    ]);
    expect(judged(masterInfo({ expiredAt: new Date(NOW).toISOString() })).problems).toEqual([
      {
        code: 'masterExpiresSoon',
        message: 'the key expires or has expired, within the 14-day warning period',
      },
    ]);
  });
});

describe('drill: a strategy list that fails', () => {
  it('fails the account, saying a kill switch could not stop the strategies it cannot see', async () => {
    const client = {
      apiKeyInfo: async () => masterInfo({ permissions: { Spot: ['SpotTrade'] }, isMaster: false }),
      openOrders: async (): Promise<OpenOrdersPage> => ({ category: 'spot', list: [], nextPageCursor: '' }),
      strategies: async () => {
        throw new Error('strategy service unavailable');
      },
    } as unknown as BybitClient;
    const exchange = {
      accountNames: async () => ['desk'],
      withAccount: async <T>(name: string, work: (c: BybitClient, a: string) => Promise<T>) =>
        work(client, name),
    } as unknown as Exchange;
    const error = (await drill(
      exchange,
      { categories: ['spot'], settleCoins: async () => [], minIntervalMs: 0 },
      {},
      DEADLINE,
      fakeClock(),
    ).then(
      () => undefined,
      (e: DrillFailedError) => e,
    )) as DrillFailedError | undefined;
    const report = error?.report as unknown as DrillReport | undefined;
    expect(report?.accounts[0]?.problems).toEqual([
      {
        code: 'strategyListingFailed',
        message:
          'the strategy list failed, so a kill switch could not stop the strategies it cannot see: strategy service unavailable',
      },
    ]);
  });
});
