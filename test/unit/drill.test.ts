import { describe, expect, it } from 'vitest';
import { BybitClient, type CallOptions } from '../../lib/bybit/client.ts';
import type { ApiKeyInfo, OpenOrdersPage, OpenOrdersParams } from '../../lib/bybit/types.ts';
import { drill, judgeKey } from '../../lib/cancel/drill.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import type { BybitApiError } from '../../lib/errors.ts';
import { parseCancelAllRequest, parseDrillInput, parseSweepInput } from '../../lib/lambda/requests.ts';

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
    expect(new Set(calls.map((c) => c.method))).toEqual(new Set(['apiKeyInfo', 'openOrders']));
    expect(calls.every((c) => c.options?.priority === 'background')).toBe(true);
    expect(maxInFlight()).toBe(1);
    // 3 accounts × (1 key check + 5 listings × 2 pages)
    expect(calls).toHaveLength(33);
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
    // 1 key check + 4 listings, and the settle-coin source: every start after the first waits 50 ms.
    expect(slept).toEqual(Array(5).fill(50));
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
