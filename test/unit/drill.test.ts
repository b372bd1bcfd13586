import { describe, expect, it } from 'vitest';
import { BybitClient, type CallOptions } from '../../lib/bybit/client.ts';
import type {
  ApiKeyInfo,
  OpenOrdersPage,
  OpenOrdersParams,
  Strategy,
  StrategyListParams,
} from '../../lib/bybit/types.ts';
import {
  type DrillOptions,
  type DrillReport,
  discoveredSettleCoins,
  drill,
  judgeKey,
  judgeMasterKey,
  type MasterDrill,
} from '../../lib/cancel/drill.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { BybitApiError, type DrillFailedError } from '../../lib/errors.ts';
import { parseCancelAllRequest, parseDrillInput, parseSweepInput } from '../../lib/lambda/requests.ts';
import { drillTable } from '../../scripts/local/drill-table.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const ALL = ['linear', 'inverse', 'spot', 'option'] as const;

function key(overrides: Partial<ApiKeyInfo> = {}): ApiKeyInfo {
  return {
    readOnly: 0,
    uta: 1,
    ips: ['203.0.113.7'],
    permissions: {
      ContractTrade: ['Order', 'Position'],
      Spot: ['SpotTrade'],
      Options: ['OptionsTrade'],
      Wallet: [],
    },
    deadlineDay: -2,
    expiredAt: '1970-01-01T00:00:00Z',
    ...overrides,
  };
}

const codes = (findings: { code: string }[]) => findings.map((f) => f.code);

/** A strategy as the list reads it (docs/v5/strategy/strategy-list.mdx). */
const strategy = (strategyId: string, status: number): Strategy => ({
  strategyId,
  strategyType: 'twap',
  category: 'UTA_USDT',
  symbol: 'BTCUSDT',
  status,
});
const running = (id: string) => strategy(id, 2);
const untriggered = (id: string) => strategy(id, 6);

describe('judgeKey', () => {
  it('finds nothing wrong with an IP-bound, read-write, unified key holding every cancel permission', () => {
    expect(judgeKey(key(), ALL, NOW)).toEqual({ problems: [], warnings: [], keyExpiresInDays: null });
  });

  it('names each category whose cancel permission is missing, once per permission', () => {
    const judged = judgeKey(
      key({ permissions: { Spot: ['SpotTrade'], Derivatives: ['DerivativesTrade'] } }),
      ALL,
      NOW,
    );
    expect(judged.problems.map((p) => p.message)).toEqual([
      'the key lacks the ContractTrade Order permission: cancelling linear and inverse orders would be refused (10005)',
      'the key lacks the Options OptionsTrade permission: cancelling option orders would be refused (10005)',
    ]);
  });

  it('checks only the categories the kill switch covers', () => {
    expect(judgeKey(key({ permissions: { Spot: ['SpotTrade'] } }), ['spot'], NOW).problems).toEqual([]);
  });

  it('treats expiry within the period as a problem, at and beyond it as fine, from expiredAt or deadlineDay', () => {
    const at = (days: number) => new Date(NOW + days * DAY).toISOString();
    expect(codes(judgeKey(key({ ips: [], expiredAt: at(14) }), ALL, NOW, 14).problems)).toEqual([
      'keyExpiresSoon',
    ]);
    expect(judgeKey(key({ ips: [], expiredAt: at(15) }), ALL, NOW, 14)).toMatchObject({
      problems: [],
      keyExpiresInDays: 15,
    });
    const fromDays = judgeKey(key({ ips: [], expiredAt: undefined, deadlineDay: 3 }), ALL, NOW, 14);
    expect(fromDays.keyExpiresInDays).toBe(3);
    expect(codes(fromDays.problems)).toEqual(['keyExpiresSoon']);
    expect(codes(judgeKey(key({ ips: [], expiredAt: at(-1) }), ALL, NOW).problems)).toEqual(['keyExpired']);
  });

  it('fails closed on an unbound key whose answer gives no expiry date', () => {
    const judged = judgeKey(key({ ips: ['*'], expiredAt: undefined, deadlineDay: undefined }), ALL, NOW);
    expect(codes(judged.problems)).toEqual(['keyExpiryUnknown']);
  });

  it('warns of no bound IP, wallet permissions and a classic account without failing', () => {
    const judged = judgeKey(
      key({
        ips: [],
        expiredAt: new Date(NOW + 80 * DAY).toISOString(),
        uta: 0,
        permissions: { ...key().permissions, Wallet: ['Withdraw'] },
      }),
      ALL,
      NOW,
    );
    expect(judged.problems).toEqual([]);
    expect(codes(judged.warnings)).toEqual(['noIpBound', 'walletPermission', 'notUnified']);
  });

  it('fails a read-only key', () => {
    expect(codes(judgeKey(key({ readOnly: 1 }), ALL, NOW).problems)).toEqual(['readOnly']);
  });
});

describe('drill', () => {
  /** An exchange of fake clients that record every call, its options, and how many ran at once. */
  function fakeExchange(accounts: string[], pages = 2) {
    const calls: { method: string; options?: CallOptions; params?: OpenOrdersParams }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const track = async <T>(value: T): Promise<T> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return value;
    };
    const client = {
      apiKeyInfo: (options?: CallOptions) => {
        calls.push({ method: 'apiKeyInfo', options });
        return track(key());
      },
      openOrders: (params: OpenOrdersParams, options?: CallOptions) => {
        calls.push({ method: 'openOrders', options, params });
        const last = Number(params.cursor ?? 0) + 1 >= pages;
        const page: OpenOrdersPage = {
          category: params.category,
          list: [{ orderId: 'x', orderLinkId: '', symbol: 'X', orderStatus: 'New', createdTime: '0' }],
          nextPageCursor: last ? '' : String(Number(params.cursor ?? 0) + 1),
        };
        return track(page);
      },
      strategies: (params: StrategyListParams, options?: CallOptions) => {
        calls.push({ method: 'strategies', options });
        return track({ list: [running('s1'), untriggered('s2')], nextCursor: '', params });
      },
    };
    const exchange = {
      accountNames: async () => accounts,
      withAccount: async <T>(_: string, work: (c: BybitClient, a: string) => Promise<T>) =>
        work(client as unknown as BybitClient, _),
    } as unknown as Exchange;
    return { exchange, calls, maxInFlight: () => maxInFlight };
  }

  it('sends only reads, every one at background priority, one at a time, and counts every page', async () => {
    const { exchange, calls, maxInFlight } = fakeExchange(['a', 'b', 'c']);
    const report = await drill(
      exchange,
      { categories: ALL, settleCoins: async () => ['USDT', 'USDC'], minIntervalMs: 0 },
      {},
      Date.now() + 10_000,
    );
    expect(report.ok).toBe(true);
    expect(report.accounts[0]?.openOrders).toEqual({ linear: 4, inverse: 2, spot: 2, option: 2 });
    expect(report.accounts[0]?.strategies).toEqual({ running: 1, paused: 0, untriggered: 1 });
    expect(new Set(calls.map((c) => c.method))).toEqual(new Set(['apiKeyInfo', 'openOrders', 'strategies']));
    expect(calls.every((c) => c.options?.priority === 'background')).toBe(true);
    expect(maxInFlight()).toBe(1);
    // 3 accounts × (1 key check + 5 listings × 2 pages + 1 strategy listing)
    expect(calls).toHaveLength(36);
  });

  it('takes its linear settle coins from the source it is given', async () => {
    const { exchange, calls } = fakeExchange(['a'], 1);
    const report = await drill(
      exchange,
      { categories: ['linear'], settleCoins: async () => ['USDT', 'USDC', 'USDE'], minIntervalMs: 0 },
      {},
      Date.now() + 10_000,
    );
    expect(report.accounts[0]?.coverage.map((c) => c.listing)).toEqual([
      'linear settleCoin=USDT',
      'linear settleCoin=USDC',
      'linear settleCoin=USDE',
    ]);
    expect(calls.filter((c) => c.method === 'openOrders').map((c) => c.params?.settleCoin)).toEqual([
      'USDT',
      'USDC',
      'USDE',
    ]);
  });

  it('asks the coin source nothing when linear is not covered', async () => {
    const { exchange } = fakeExchange(['a'], 1);
    let asked = 0;
    const settleCoins = async () => {
      asked++;
      return ['USDT'];
    };
    const report = await drill(
      exchange,
      { categories: ['spot'], settleCoins, minIntervalMs: 0 },
      {},
      Date.now() + 10_000,
    );
    expect(asked).toBe(0);
    expect(report.accounts[0]?.coverage.map((c) => c.listing)).toEqual(['spot']);
  });

  it('fails an account whose settle coins cannot be had, naming the linear listing', async () => {
    const { exchange } = fakeExchange(['a'], 1);
    const settleCoins = async () => {
      throw new Error('instruments-info unavailable');
    };
    const error = (await drill(
      exchange,
      { categories: ['linear'], settleCoins, minIntervalMs: 0 },
      {},
      Date.now() + 10_000,
    ).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('a: the linear listing failed');
    expect(error.message).toContain('settle coins: instruments-info unavailable');
  });

  it('spaces its requests out on the clock it is given', async () => {
    const { exchange } = fakeExchange(['a'], 1);
    let now = NOW;
    const slept: number[] = [];
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        slept.push(ms);
        now += ms;
      },
    };
    await drill(exchange, { categories: ALL, settleCoins: async () => ['USDT'] }, {}, NOW + 60_000, clock);
    // 1 key check + 4 listings, the settle-coin source and the strategy listing: every start after the first waits 50 ms.
    expect(slept).toEqual(Array(6).fill(50));
  });
});

describe('BybitClient.apiKeyInfo', () => {
  const clientAnswering = (result: unknown) =>
    new BybitClient({
      credentials: { apiKey: 'KEY', apiSecret: 'secret' },
      baseUrl: 'http://exchange.test',
      transport: (async () =>
        new Response(JSON.stringify({ retCode: 0, retMsg: '', result, time: 1 }))) as typeof fetch,
    });

  it('reads the documented fields', async () => {
    const info = await clientAnswering({ ...key(), apiKey: 'KEY', note: 'x' }).apiKeyInfo();
    expect(info).toEqual(key());
  });

  it.each([
    ['no readOnly', { ...key(), readOnly: undefined }, 'readOnly'],
    ['permissions missing', { ...key(), permissions: undefined }, 'permissions'],
    [
      'a permission group that is not a list',
      { ...key(), permissions: { Spot: 'SpotTrade' } },
      'permissions.Spot',
    ],
    ['ips missing', { ...key(), ips: undefined }, 'ips'],
    ['uta missing', { ...key(), uta: undefined }, 'uta'],
    ['an expiredAt that is not a date', { ...key(), expiredAt: 'soon' }, 'expiredAt'],
    ['an empty result', null, 'readOnly'],
  ])('fails closed on an answer with %s', async (_, result, field) => {
    const error = (await clientAnswering(result)
      .apiKeyInfo()
      .catch((e: unknown) => e)) as BybitApiError;
    expect(error.name).toBe('BybitApiError');
    expect(error.message).toContain(`answer lacks a valid ${field}`);
  });
});

describe('drill requests', () => {
  it('reads {"drill": true} with account or accounts, and the schedule input {"action": "drill"}', () => {
    expect(parseCancelAllRequest({ drill: true })).toEqual({ kind: 'drill' });
    expect(parseCancelAllRequest({ drill: true, account: 'main' })).toEqual({
      kind: 'drill',
      accounts: ['main'],
    });
    expect(parseDrillInput({ action: 'drill', accounts: ['a', 'b'] })).toEqual({
      kind: 'drill',
      accounts: ['a', 'b'],
    });
  });

  it.each([
    [{ drill: false }, 'drill must be true'],
    [{ drill: 'yes' }, 'drill must be true'],
    [{ drill: true, category: 'spot' }, 'category is not valid with drill'],
    [{ drill: true, reason: 'x' }, 'reason is not valid with drill'],
  ])('refuses %j', (body, message) => {
    expect(() => parseCancelAllRequest(body)).toThrow(message);
  });

  it('keeps the two schedules apart: a drill input is no sweep, a plain schedule is no drill', () => {
    expect(() => parseSweepInput({ action: 'drill' })).toThrow('this schedule runs only the sweep');
    expect(() => parseDrillInput({})).toThrow('this schedule runs only the drill');
  });
});

describe('judgeKey findings as the report words them', () => {
  const messages = (findings: { message: string }[]) => findings.map((f) => f.message);

  it('words each problem and warning so an operator knows what to fix', () => {
    expect(messages(judgeKey(key({ readOnly: 1 }), ALL, NOW).problems)).toEqual([
      'the key is read-only: every cancel would be refused (10005)',
    ]);
    expect(messages(judgeKey(key({ expiredAt: '2026-11-30T00:00:00Z' }), ALL, NOW).problems)).toEqual([
      'the key has expired (33004)',
    ]);
    expect(messages(judgeKey(key({ expiredAt: '2026-12-04T10:00:00Z' }), ALL, NOW, 14).problems)).toEqual([
      'the key expires in 3 day(s) (2026-12-04), within the 14-day warning period',
    ]);
    expect(
      messages(judgeKey(key({ ips: [], expiredAt: undefined, deadlineDay: undefined }), ALL, NOW).problems),
    ).toEqual(['the key is bound to no IP, yet the exchange gave no expiry date (expiredAt, deadlineDay)']);
    const warned = judgeKey(
      key({
        ips: ['*'],
        expiredAt: '2027-06-01T00:00:00Z',
        uta: 0,
        permissions: { ...key().permissions, Wallet: ['AccountTransfer', 'Withdraw'] },
      }),
      ALL,
      NOW,
    );
    expect(messages(warned.warnings)).toEqual([
      'the key is bound to no IP address: it works from anywhere, and Bybit expires it after 90 days',
      'the key holds Wallet permissions (AccountTransfer, Withdraw), which cancelling never needs',
      'the account is not unified (uta 0): its spot listings follow the classic rules',
    ]);
  });

  it('gives no wallet warning for a key whose answer has no Wallet group', () => {
    const { Wallet, ...rest } = key().permissions;
    expect(judgeKey(key({ permissions: rest }), ALL, NOW).warnings).toEqual([]);
  });

  it('treats a key expiring this very moment, or with 0 days left, as expired', () => {
    const atNow = judgeKey(key({ expiredAt: new Date(NOW).toISOString() }), ALL, NOW);
    expect(codes(atNow.problems)).toEqual(['keyExpired']);
    const zeroDays = judgeKey(key({ expiredAt: undefined, deadlineDay: 0 }), ALL, NOW);
    expect(zeroDays).toMatchObject({ keyExpiresInDays: 0 });
    expect(codes(zeroDays.problems)).toEqual(['keyExpired']);
  });
});

describe('drill: what it reports as healthy or not', () => {
  interface Script {
    /** apiKeyInfo throws this for the account. */
    keyError?: Record<string, unknown>;
    /** Cursor answered per page: a list of nextPageCursor values, consumed one a page (default ''). */
    cursors?: string[];
    listingError?: Error;
    strategies?: Strategy[];
    strategyError?: Error;
  }
  function scripted(accounts: string[], script: Script = {}) {
    const listings: OpenOrdersParams[] = [];
    const client = (account: string) => ({
      apiKeyInfo: async () => {
        if (script.keyError?.[account]) throw script.keyError[account];
        return key();
      },
      openOrders: async (params: OpenOrdersParams): Promise<OpenOrdersPage> => {
        listings.push(params);
        if (script.listingError) throw script.listingError;
        const nextPageCursor = script.cursors?.shift() ?? '';
        return {
          category: params.category,
          list: [{ orderId: 'x', orderLinkId: '', symbol: 'X', orderStatus: 'New', createdTime: '0' }],
          nextPageCursor,
        };
      },
      strategies: async () => {
        if (script.strategyError) throw script.strategyError;
        return { list: script.strategies ?? [], nextCursor: '' };
      },
    });
    const exchange = {
      accountNames: async () => accounts,
      withAccount: async <T>(name: string, work: (c: BybitClient, a: string) => Promise<T>) =>
        work(client(name) as unknown as BybitClient, name),
    } as unknown as Exchange;
    return { exchange, listings };
  }
  const fakeClock = (start = NOW) => {
    let now = start;
    return {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
  };
  const run = (
    exchange: Exchange,
    extra: Partial<DrillOptions> = {},
    request = {},
    deadline = NOW + 60_000,
  ) =>
    drill(
      exchange,
      { categories: ['spot'], settleCoins: async () => ['USDT'], minIntervalMs: 0, ...extra },
      request,
      deadline,
      fakeClock(),
    );
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the drill to fail');
      },
      (error: DrillFailedError) => error,
    );
  const accountsOf = (error: DrillFailedError) => (error.report as unknown as DrillReport).accounts;

  it('fails an account the secret does not name, without asking the exchange, and keeps the others', async () => {
    const { exchange, listings } = scripted(['a']);
    const error = await failure(run(exchange, {}, { accounts: ['a', 'ghost'] }));
    expect(error.message).toBe('kill-switch drill failed: ghost: no account "ghost" in the exchange secret');
    expect((error.report as unknown as DrillReport).ok).toBe(false);
    expect(accountsOf(error)).toEqual([
      expect.objectContaining({ account: 'a', ok: true }),
      {
        account: 'ghost',
        ok: false,
        problems: [{ code: 'unknownAccount', message: 'no account "ghost" in the exchange secret' }],
        warnings: [],
        keyExpiresInDays: null,
        openOrders: {},
        coverage: [],
        strategies: null,
      },
    ]);
    expect(listings).toHaveLength(1);
  });

  it('names why the exchange refuses a key: bad key, unbound IP, expired, or unreadable', async () => {
    const { exchange } = scripted(['bad', 'sig', 'ip', 'old', 'down', 'busy'], {
      keyError: {
        bad: new BybitApiError('query-api', 10003, 'API key is invalid.', 'credentials'),
        sig: new BybitApiError('query-api', 10004, 'error sign!', 'credentials'),
        ip: new BybitApiError('query-api', 10010, 'Unmatched IP', 'credentials'),
        old: new BybitApiError('query-api', 33004, 'api key expired', 'credentials'),
        down: new Error('socket hang up'),
        busy: new BybitApiError('query-api', 10006, 'too many visits', 'retryable'),
      },
    });
    const error = await failure(run(exchange));
    expect(accountsOf(error).map((a) => a.problems)).toEqual([
      [
        {
          code: 'keyRefused',
          message: 'the exchange refuses the key (invalid key or secret): retCode 10003 API key is invalid.',
        },
      ],
      [
        {
          code: 'keyRefused',
          message: 'the exchange refuses the key (invalid key or secret): retCode 10004 error sign!',
        },
      ],
      [
        {
          code: 'keyRefused',
          message: 'the exchange refuses the key (this IP is not bound to it): retCode 10010 Unmatched IP',
        },
      ],
      [{ code: 'keyExpired', message: 'the key has expired: retCode 33004 api key expired' }],
      [{ code: 'keyInfoFailed', message: 'the key could not be checked: socket hang up' }],
      [
        {
          code: 'keyInfoFailed',
          message: 'the key could not be checked: query-api failed: retCode 10006 (too many visits)',
        },
      ],
    ]);
  });

  it('reports how long it took on the clock it is given', async () => {
    const { exchange } = scripted(['a']);
    const clock = fakeClock();
    const report = await drill(
      exchange,
      { categories: ['spot', 'option'], settleCoins: async () => [] },
      {},
      NOW + 60_000,
      clock,
    );
    // key check, then two listings and the strategy listing, 50 ms apart each
    expect(report.durationMs).toBe(150);
  });

  it('counts a listing up to maxPages pages and fails it beyond, naming the count', async () => {
    const { exchange, listings } = scripted(['a'], { cursors: ['1', '2', '3', '4', '5'] });
    const error = await failure(run(exchange, { maxPages: 2 }));
    expect(listings.map((l) => l.cursor)).toEqual([undefined, '1']);
    expect(accountsOf(error)[0]?.coverage).toEqual([
      { listing: 'spot', verified: false, open: 2, error: 'more than 2 pages: counted 2' },
    ]);
    expect(error.message).toContain('a: the spot listing failed, so a kill switch could not verify it');
  });

  it('fails a listing whose cursor does not move rather than counting it again', async () => {
    const { exchange, listings } = scripted(['a'], { cursors: ['7', '7', '7', '7'] });
    const error = await failure(run(exchange, { maxPages: 10 }));
    expect(listings).toHaveLength(2);
    expect(accountsOf(error)[0]?.coverage).toEqual([
      { listing: 'spot', verified: false, open: 2, error: 'the exchange returned the same cursor twice' },
    ]);
  });

  it('fails a listing the exchange does not answer', async () => {
    const { exchange } = scripted(['a'], { listingError: new Error('HTTP 502') });
    const error = await failure(run(exchange));
    expect(accountsOf(error)[0]?.coverage).toEqual([
      { listing: 'spot', verified: false, open: 0, error: 'HTTP 502' },
    ]);
    expect(accountsOf(error)[0]?.ok).toBe(false);
  });

  it('starts no request that the pacing would push to or past the deadline', async () => {
    const { exchange, listings } = scripted(['a']);
    // The key check starts at once; the listing would wait 50 ms, past the deadline 30 ms away.
    const error = await failure(run(exchange, { minIntervalMs: 50 }, {}, NOW + 30));
    expect(listings).toEqual([]);
    expect(accountsOf(error)[0]?.coverage[0]?.error).toBe(
      'drill (paced): deadline reached before the exchange answered',
    );
    const atDeadline = await failure(run(exchange, {}, {}, NOW));
    expect(accountsOf(atDeadline)[0]?.problems.map((p) => p.message)).toEqual([
      'the key could not be checked: drill (paced): deadline reached before the exchange answered',
    ]);
  });

  it('lists the configured settle coins and those the exchange lists, each once', async () => {
    const listed = async () => ({ linearSettleCoins: ['USDC', 'USDT'] });
    const exchange = { discovery: { listed } } as unknown as Exchange;
    const source = discoveredSettleCoins(exchange, {
      categories: ['linear'],
      linearSettleCoins: ['USDT'],
      inverseCoins: [],
    });
    expect(await source({} as BybitClient, {})).toEqual(['USDT', 'USDC']);
  });
});

describe('judgeMasterKey: the master key of the enforced halt', () => {
  const master = (overrides: Partial<ApiKeyInfo> = {}): ApiKeyInfo => ({
    readOnly: 0,
    uta: 1,
    ips: ['203.0.113.7'],
    permissions: { ContractTrade: [], Spot: [], Wallet: ['AccountTransfer'] },
    isMaster: true,
    parentUid: '0',
    deadlineDay: -2,
    expiredAt: '1970-01-01T00:00:00Z',
    ...overrides,
  });
  const judged = (info: ApiKeyInfo) => {
    const into: MasterDrill = { ok: true, problems: [], warnings: [], walletPermissions: [] };
    judgeMasterKey(info, into, NOW, 14);
    return into;
  };
  const codes = (info: ApiKeyInfo) => {
    const { problems, warnings } = judged(info);
    return { problems: problems.map((p) => p.code), warnings: warnings.map((w) => w.code) };
  };

  it('passes a read-write, IP-bound master key with Account Transfer alone', () => {
    expect(judged(master())).toEqual({
      ok: true,
      problems: [],
      warnings: [],
      walletPermissions: ['AccountTransfer'],
    });
  });

  it('reports Withdrawal as a problem, recommending the narrowest permission that works', () => {
    const report = judged(master({ permissions: { Wallet: ['AccountTransfer', 'Withdraw'] } }));
    expect(report.problems.map((p) => p.code)).toEqual(['masterWithdrawal']);
    expect(report.problems[0]?.message).toContain('Wallet → Account Transfer only');
  });

  it.each([
    ['a sub-account key', master({ isMaster: false, parentUid: '8000' }), ['notMaster']],
    ['an answer that does not say', master({ isMaster: undefined }), ['notMaster']],
    ['a read-only key', master({ readOnly: 1 }), ['masterReadOnly']],
    ['no Wallet permission', master({ permissions: { Wallet: [] } }), ['masterMissingPermission']],
    [
      'a key bound to no IP',
      master({ ips: ['*'], deadlineDay: 80, expiredAt: '2027-02-19T00:00:00Z' }),
      ['masterNotIpBound'],
    ],
    ['a key expiring in 5 days', master({ expiredAt: '2026-12-06T00:00:00Z' }), ['masterExpiresSoon']],
  ])('reports %s', (_, info, problems) => {
    expect(codes(info).problems).toEqual(problems);
  });

  it('warns of Sub Member Transfer where Account Transfer would do, and of trading permissions', () => {
    expect(codes(master({ permissions: { Wallet: ['SubMemberTransfer'] } }))).toEqual({
      problems: [],
      warnings: ['masterBroaderThanNeeded'],
    });
    expect(codes(master({ permissions: { Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] } }))).toEqual({
      problems: [],
      warnings: ['masterTradePermission'],
    });
  });
});

describe('the drill table', () => {
  const account = (strategies: Record<string, number> | null) => ({
    account: 'main',
    ok: strategies !== null,
    problems: [],
    warnings: [],
    keyExpiresInDays: null,
    openOrders: { linear: 3 },
    coverage: [],
    strategies,
  });
  const table = (strategies: Record<string, number> | null) =>
    drillTable({ operation: 'drill', ok: true, durationMs: 1, accounts: [account(strategies)] }).join('\n');

  it('shows the strategies a kill switch would stop, by status, next to the open orders', () => {
    expect(table({ running: 1, paused: 0, untriggered: 2 })).toContain(
      'linear 3; strategies running 1, untriggered 2',
    );
    expect(table({ running: 0, paused: 0, untriggered: 0 })).not.toContain('strategies');
    expect(table(null)).toContain('linear 3; strategies ?');
  });
});
