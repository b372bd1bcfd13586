import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { InstrumentsParams, OpenOrder } from '../../lib/bybit/types.ts';
import {
  allInstruments,
  DISCOVERY_TTL_MS,
  discoverCoverage,
  listingsOf,
  preMarketPhases,
  SettleCoinDiscovery,
  whyUncancellable,
} from '../../lib/cancel/coverage.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import { stragglerCalls } from '../../lib/cancel/kill-switch.ts';
import { type Coverage, spotKindOf, targetedBy } from '../../lib/cancel/scopes.ts';
import { SecretError } from '../../lib/errors.ts';
import { parseExchangeSecret } from '../../lib/lambda/secrets.ts';

const order = (fields: Partial<OpenOrder>): OpenOrder => ({
  orderId: fields.orderId ?? Math.random().toString(36).slice(2),
  orderLinkId: '',
  symbol: 'BTCUSDT',
  orderStatus: 'New',
  stopOrderType: '',
  createdTime: '1',
  ...fields,
});

/** A client whose instruments answers are scripted by (status, cursor), on a virtual clock. */
function instrumentsClient(pages: Record<string, { list: object[]; nextPageCursor: string } | Error>) {
  const asked: string[] = [];
  const fetch = async (url: string | URL | Request) => {
    const query = new URL(String(url)).searchParams;
    const key = `${query.get('status') ?? 'Trading'}:${query.get('cursor') ?? ''}`;
    asked.push(key);
    const page = pages[key];
    if (!page || page instanceof Error) return new Response('bad gateway', { status: 502 });
    return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result: page, retExtInfo: {}, time: 1 }));
  };
  const client = new BybitClient({
    credentials: { apiKey: 'k', apiSecret: 's' },
    baseUrl: 'http://exchange.test',
    transport: fetch as typeof globalThis.fetch,
    maxAttempts: 1,
  });
  return { client, asked };
}

describe('settle coin discovery', () => {
  const pages = {
    'Trading:': { list: [{ symbol: 'BTCUSDT', settleCoin: 'USDT' }], nextPageCursor: 'p2' },
    'Trading:p2': { list: [{ symbol: 'BTCPERP', settleCoin: 'USDC' }], nextPageCursor: '' },
    'PreLaunch:': { list: [{ symbol: 'NEWUSDE', settleCoin: 'USDE' }], nextPageCursor: '' },
  };

  it('reads every page of trading and pre-market contracts, then serves the cache until its TTL', async () => {
    let now = 0;
    const discovery = new SettleCoinDiscovery({ ttlMs: 60_000, now: () => now });
    const { client, asked } = instrumentsClient(pages);
    const deadline = Date.now() + 5_000;
    const listed = await discovery.listed(client, deadline, 'verify');
    expect(listed).toEqual({ linearSettleCoins: ['USDC', 'USDE', 'USDT'], preMarketSymbols: ['NEWUSDE'] });
    expect(asked.sort()).toEqual(['PreLaunch:', 'Trading:', 'Trading:p2']);
    now = 59_999;
    await discovery.listed(client, deadline, 'verify');
    expect(asked).toHaveLength(3);
    now = 60_000;
    await discovery.listed(client, deadline, 'verify');
    expect(asked).toHaveLength(6);
  });

  it('shares one read between concurrent callers and does not cache a failure', async () => {
    const discovery = new SettleCoinDiscovery();
    const failing = instrumentsClient({ ...pages, 'Trading:p2': new Error('down') });
    const deadline = Date.now() + 5_000;
    const both = await Promise.allSettled([
      discovery.listed(failing.client, deadline, 'verify'),
      discovery.listed(failing.client, deadline, 'verify'),
    ]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(failing.asked.filter((k) => k === 'Trading:')).toHaveLength(1);
    expect(discovery.last).toBeUndefined();
    const working = instrumentsClient(pages);
    await expect(discovery.listed(working.client, deadline, 'verify')).resolves.toMatchObject({
      linearSettleCoins: ['USDC', 'USDE', 'USDT'],
    });
  });
});

describe('uncancellable orders', () => {
  it('names a triggered spot bidirectional TP/SL, not an untriggered one', () => {
    const none = new Map<string, string>();
    const bidirectional = { stopOrderType: 'BidirectionalTpslOrder' };
    expect(whyUncancellable('spot', order({ ...bidirectional, orderStatus: 'New' }), none)).toMatch(
      /triggered/,
    );
    expect(
      whyUncancellable('spot', order({ ...bidirectional, orderStatus: 'Untriggered' }), none),
    ).toBeUndefined();
    expect(whyUncancellable('spot', order({ stopOrderType: 'OcoOrder' }), none)).toBeUndefined();
  });

  it('names pre-market linear orders in the no-cancel phases only', () => {
    const phases = new Map([
      ['A', 'CallAuctionNoCancel'],
      ['B', 'CrossMatching'],
      ['C', 'CallAuction'],
    ]);
    expect(whyUncancellable('linear', order({ symbol: 'A' }), phases)).toMatch(/CallAuctionNoCancel/);
    expect(whyUncancellable('linear', order({ symbol: 'B' }), phases)).toMatch(/CrossMatching/);
    expect(whyUncancellable('linear', order({ symbol: 'C' }), phases)).toBeUndefined();
    expect(whyUncancellable('spot', order({ symbol: 'A' }), phases)).toBeUndefined();
  });
});

describe('straggler cancels in the fewest units', () => {
  it('goes by settle coin on linear, by symbol on inverse, by kind on spot', () => {
    const linear = stragglerCalls({ category: 'linear', settleCoin: 'USDC' }, [order({}), order({})]);
    expect(linear).toEqual([{ kind: 'cancel-all', params: { category: 'linear', settleCoin: 'USDC' } }]);
    const inverse = stragglerCalls({ category: 'inverse' }, [
      order({ symbol: 'XRPUSD' }),
      order({ symbol: 'XRPUSD' }),
      order({ symbol: 'SOLUSDH27' }),
    ]);
    expect(inverse.map((c) => c.kind === 'cancel-all' && c.params.symbol)).toEqual(['XRPUSD', 'SOLUSDH27']);
    const spot = stragglerCalls({ category: 'spot' }, [
      order({ stopOrderType: 'OcoOrder' }),
      order({ stopOrderType: '' }),
      order({ stopOrderType: 'OcoOrder' }),
    ]);
    expect(spot.map((c) => c.kind === 'cancel-all' && c.params.orderFilter)).toEqual(['OcoOrder', 'Order']);
  });

  it('cancels every spot kind when a listed order has a kind it does not know', () => {
    const calls = stragglerCalls({ category: 'spot' }, [order({ stopOrderType: 'SomethingNew' })]);
    expect(calls).toHaveLength(5);
  });

  it('goes by batch of 20 on option, and by cancel-all past what the batch window holds', () => {
    const some = stragglerCalls(
      { category: 'option' },
      Array.from({ length: 45 }, () => order({})),
    );
    expect(some.map((c) => c.kind === 'batch' && c.orders.length)).toEqual([20, 20, 5]);
    const many = stragglerCalls(
      { category: 'option' },
      Array.from({ length: 201 }, () => order({})),
    );
    expect(many).toEqual([{ kind: 'cancel-all', params: { category: 'option' } }]);
  });
});

describe('scopes and listings', () => {
  it('reads the spot kind of a listed order from its stopOrderType', () => {
    expect(spotKindOf(order({ stopOrderType: 'Stop' }))).toBe('StopOrder');
    expect(spotKindOf(order({ stopOrderType: 'tpslOrder' }))).toBe('tpslOrder');
    expect(spotKindOf(order({ stopOrderType: undefined }))).toBe('Order');
    expect(spotKindOf(order({ stopOrderType: 'Unknown' }))).toBeUndefined();
  });

  it('keeps what a futures filter targets: StopOrder the conditional kinds, Order and OpenOrder the plain ones', () => {
    const plain = order({});
    const trailing = order({ stopOrderType: 'TrailingStop' });
    const stop = order({ stopOrderType: 'Stop' });
    const scope = (orderFilter?: 'Order' | 'StopOrder' | 'OpenOrder', stopOrderType?: 'Stop') =>
      ({ category: 'linear', settleCoin: 'USDT', orderFilter, stopOrderType }) as const;
    expect([plain, trailing, stop].map((o) => targetedBy(scope('StopOrder'), o))).toEqual([
      false,
      true,
      true,
    ]);
    expect([plain, trailing, stop].map((o) => targetedBy(scope('OpenOrder'), o))).toEqual([
      true,
      false,
      false,
    ]);
    expect([plain, trailing, stop].map((o) => targetedBy(scope('StopOrder', 'Stop'), o))).toEqual([
      false,
      false,
      true,
    ]);
    expect([plain, trailing].map((o) => targetedBy(scope(), o))).toEqual([true, true]);
  });
});

describe('exchange secret', () => {
  it('fails a malformed named account alone', () => {
    const accounts = parseExchangeSecret('id', {
      accounts: { main: { apiKey: 'k', apiSecret: 's' }, empty: { apiKey: '' }, missing: { apiSecret: 's' } },
    });
    expect(accounts.get('main')).toEqual({ apiKey: 'k', apiSecret: 's' });
    expect(accounts.get('empty')).toBeInstanceOf(SecretError);
    expect(String(accounts.get('missing'))).toContain('accounts.missing: "apiKey" is missing');
    expect(String(accounts.get('empty'))).not.toContain('apiSecret":');
  });

  it('still refuses a secret that is malformed as a whole', () => {
    expect(() => parseExchangeSecret('id', { accounts: {} })).toThrow(SecretError);
    expect(() => parseExchangeSecret('id', { apiKey: '' })).toThrow(SecretError);
  });
});

describe('coverage discovery: paging, caching, what counts as a settle coin', () => {
  /** A client whose instruments listing answers `pages(params)`, recording every call and its options. */
  function fakeClient(page: (params: InstrumentsParams) => { list: object[]; nextPageCursor: string }) {
    const calls: { params: InstrumentsParams; options: unknown }[] = [];
    const client = {
      instrumentsInfo: async (params: InstrumentsParams, options: unknown) => {
        calls.push({ params, options });
        return page(params);
      },
    } as unknown as BybitClient;
    return { client, calls };
  }
  const single = (list: object[], preMarket: object[] = []) =>
    fakeClient((p) => ({ list: p.status === 'PreLaunch' ? preMarket : list, nextPageCursor: '' }));

  it('trusts a discovery for 15 minutes by default, from the time it was read', async () => {
    let now = 1_000_000_000;
    const discovery = new SettleCoinDiscovery({ now: () => now });
    const { client, calls } = single([{ symbol: 'BTCUSDT', settleCoin: 'USDT' }]);
    await discovery.listed(client, 0, 'verify');
    now += DISCOVERY_TTL_MS - 1;
    await discovery.listed(client, 0, 'verify');
    expect(calls).toHaveLength(2);
    expect(DISCOVERY_TTL_MS).toBe(900_000);
    now += 1;
    await discovery.listed(client, 0, 'verify');
    expect(calls).toHaveLength(4);
  });

  it('leaves no listing running when it fails: the other one ends first, and the first failure is the answer', async () => {
    let finishPreMarket: (page: object) => void = () => undefined;
    const failure = new Error('instruments-info refused');
    const client = {
      instrumentsInfo: (params: InstrumentsParams) =>
        params.status === 'PreLaunch'
          ? new Promise((resolve) => {
              finishPreMarket = resolve;
            })
          : Promise.reject(failure),
    } as unknown as BybitClient;
    let settled = false;
    const read = new SettleCoinDiscovery().listed(client, 0, 'verify').finally(() => {
      settled = true;
    });
    read.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    finishPreMarket({ list: [], nextPageCursor: '' });
    await expect(read).rejects.toBe(failure);
  });

  it('takes only well-formed settle coins and symbols from the listing', async () => {
    const { client } = single(
      [
        { symbol: 'BTCUSDT', settleCoin: 'USDT' },
        { symbol: 'A', settleCoin: undefined },
        { symbol: 'B', settleCoin: 'usdt' },
        { symbol: 'C', settleCoin: 'xUSDC' },
        { symbol: 'D', settleCoin: 'USDCx' },
      ],
      [{ settleCoin: 'USDE' }, { symbol: 'NEWUSDE', settleCoin: 'USDE' }],
    );
    const listed = await new SettleCoinDiscovery().listed(client, 0, 'verify');
    expect(listed).toEqual({ linearSettleCoins: ['USDE', 'USDT'], preMarketSymbols: ['NEWUSDE'] });
  });

  it('reads up to 50 pages with the deadline and priority, then calls the listing endless', async () => {
    const { client, calls } = fakeClient((p) => {
      const next = Number(p.cursor ?? 0) + 1;
      return { list: [{ symbol: `S${next}` }], nextPageCursor: next < 60 ? String(next) : '' };
    });
    const error = await allInstruments(client, { category: 'linear' }, 1234, 'routine').catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('instruments-info linear: more than 50 pages');
    expect(calls).toHaveLength(50);
    expect(calls[0]).toEqual({
      params: { category: 'linear', limit: 1000 },
      options: { deadline: 1234, priority: 'routine' },
    });
    expect(calls[1]?.params.cursor).toBe('1');
  });

  it('reports a confirmed coverage with no error, and an unconfirmed one without pre-market symbols', async () => {
    const { client } = single(
      [{ symbol: 'BTCPERP', settleCoin: 'USDC' }],
      [{ symbol: 'NEWUSDT', settleCoin: 'USDT' }],
    );
    const coverage: Coverage = { categories: ['linear'], linearSettleCoins: ['USDT'], inverseCoins: [] };
    const exchange = (discovery: SettleCoinDiscovery, anyClient: () => Promise<BybitClient>) =>
      ({ discovery, anyClient }) as unknown as Exchange;
    const confirmed = await discoverCoverage(
      exchange(new SettleCoinDiscovery(), async () => client),
      coverage,
      0,
    );
    expect(confirmed).toStrictEqual({
      categories: ['linear'],
      linearSettleCoins: ['USDT', 'USDC'],
      discovered: ['USDC'],
      preMarketSymbols: ['NEWUSDT'],
      confirmed: true,
    });
    const down = exchange(new SettleCoinDiscovery(), async () => {
      throw new Error('no account');
    });
    const unconfirmed = await discoverCoverage(down, coverage, 0);
    expect(unconfirmed).toMatchObject({
      linearSettleCoins: ['USDT'],
      preMarketSymbols: [],
      confirmed: false,
    });
    expect(unconfirmed.error?.errorMessage).toBe('no account');
    expect(listingsOf(confirmed)).toEqual([
      { category: 'linear', settleCoin: 'USDT' },
      { category: 'linear', settleCoin: 'USDC' },
    ]);
  });

  it('maps the auction phase of the pre-market symbols that give one', async () => {
    const { client } = single(
      [],
      [
        { symbol: 'NEWUSDT', preListingInfo: { curAuctionPhase: 'CallAuctionNoCancel' } },
        { symbol: 'OTHERUSDT', preListingInfo: {} },
        { symbol: 'BAREUSDT' },
      ],
    );
    const phases = await preMarketPhases(client, 0, 'verify');
    expect([...phases]).toEqual([['NEWUSDT', 'CallAuctionNoCancel']]);
  });

  it('finds a bidirectional TP/SL uncancellable on spot only', () => {
    const bidirectional = order({ stopOrderType: 'BidirectionalTpslOrder', orderStatus: 'New' });
    expect(whyUncancellable('linear', bidirectional, new Map())).toBeUndefined();
  });
});
