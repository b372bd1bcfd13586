// `GET /v5/market/instruments-info` (docs/v5/market/instrument.mdx): public, every category. Linear and
// inverse return `Trading` symbols unless `status=PreLaunch` asks for pre-market contracts; option returns
// BTC unless `baseCoin` is given; spot has no paging (`limit` and `cursor` are ignored); the others page
// by cursor, `limit` 1..1000 (default 500). Pre-market contracts carry `preListingInfo.curAuctionPhase`
// (docs/v5/enum.mdx), which decides whether their orders can be cancelled.

import type { Market } from './market.ts';
import { deriveCoins } from './symbols.ts';
import type { Category } from './types.ts';

export interface Instrument {
  category: Category;
  symbol: string;
  status: 'Trading' | 'PreLaunch';
  baseCoin: string;
  settleCoin: string;
  curAuctionPhase?: string;
}

/** Pre-market phases in which orders cannot be cancelled (docs/v5/enum.mdx, curAuctionPhase). */
export const NO_CANCEL_PHASES: ReadonlySet<string> = new Set(['CallAuctionNoCancel', 'CrossMatching']);

const PAGE_DEFAULT = 500;
const PAGE_MAX = 1000;

// A sample of what Bybit lists: about twenty inverse coins, USDT and USDC linear contracts, options on
// BTC, ETH and SOL. Symbols the book holds orders on are listed too (an order rests on a listed contract).
const LISTED: Record<Category, string[]> = {
  linear: [
    'BTCUSDT',
    'ETHUSDT',
    'SOLUSDT',
    'XRPUSDT',
    'DOTUSDT',
    'BTCPERP',
    'ETHPERP',
    'SOLPERP',
    'BTC-26DEC26',
  ],
  inverse: [
    'BTCUSD',
    'ETHUSD',
    'XRPUSD',
    'DOTUSD',
    'SOLUSD',
    'ADAUSD',
    'LTCUSD',
    'EOSUSD',
    'MANAUSD',
    'BTCUSDH27',
    'ETHUSDH27',
    'SOLUSDH27',
  ],
  spot: ['BTCUSDT', 'ETHUSDT', 'ETHUSDC', 'SOLUSDT', 'XRPUSDT'],
  option: [
    'BTC-27DEC26-100000-C',
    'BTC-27DEC26-80000-P',
    'ETH-27DEC26-5000-P-USDT',
    'ETH-27DEC26-4000-P',
    'SOL-27DEC26-200-C',
  ],
};

export class Instruments {
  /** Pre-market linear contracts by symbol, with their current auction phase. */
  #preMarket = new Map<string, string>();

  /** Lists `symbol` as a pre-market linear contract in `phase` (e.g. `CallAuctionNoCancel`). */
  setAuctionPhase(symbol: string, phase: string): void {
    this.#preMarket.set(symbol, phase);
  }

  /** The auction phase of a pre-market linear symbol; undefined for a trading one. */
  phaseOf(category: Category, symbol: string): string | undefined {
    return category === 'linear' ? this.#preMarket.get(symbol) : undefined;
  }

  /** Listed instruments of a category, the book's symbols included, sorted by symbol. */
  all(category: Category, booked: { symbol: string; baseCoin: string; settleCoin: string }[]): Instrument[] {
    const bySymbol = new Map<string, Instrument>();
    for (const symbol of LISTED[category]) {
      bySymbol.set(symbol, { category, symbol, status: 'Trading', ...deriveCoins(category, symbol) });
    }
    for (const { symbol, baseCoin, settleCoin } of booked) {
      if (!bySymbol.has(symbol))
        bySymbol.set(symbol, { category, symbol, status: 'Trading', baseCoin, settleCoin });
    }
    if (category === 'linear') {
      for (const [symbol, phase] of this.#preMarket) {
        const coins = bySymbol.get(symbol) ?? { baseCoin: symbol.replace(/USDT$/, ''), settleCoin: 'USDT' };
        bySymbol.set(symbol, {
          category,
          symbol,
          status: 'PreLaunch',
          baseCoin: coins.baseCoin,
          settleCoin: coins.settleCoin,
          curAuctionPhase: phase,
        });
      }
    }
    return [...bySymbol.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));
  }

  clear(): void {
    this.#preMarket.clear();
  }
}

export type Params = Record<string, unknown>;

/** The result of an instruments-info request, or the parameter it refuses. */
export function instrumentsInfo(
  instruments: Instruments,
  category: Category,
  params: Params,
  booked: { symbol: string; baseCoin: string; settleCoin: string }[],
  market: Market,
): { result: unknown } | { invalid: string } {
  const status = text(params.status);
  const symbol = text(params.symbol);
  const baseCoin = text(params.baseCoin);
  const limit = Number(text(params.limit) ?? PAGE_DEFAULT);
  if (category !== 'spot' && (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX))
    return { invalid: 'limit' };
  const cursor = text(params.cursor);
  const start = cursor === undefined || category === 'spot' ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0) return { invalid: 'cursor' };

  const wanted = (i: Instrument): boolean => {
    if (symbol !== undefined && i.symbol !== symbol) return false;
    // Option lists BTC unless baseCoin says otherwise; the order endpoints do not behave that way.
    const base = baseCoin ?? (category === 'option' ? 'BTC' : undefined);
    if (base !== undefined && i.baseCoin !== base) return false;
    if (category === 'option' || category === 'spot') return i.status === 'Trading';
    return i.status === (status ?? 'Trading');
  };
  const selected = instruments.all(category, booked).filter(wanted);
  const page = category === 'spot' ? selected : selected.slice(start, start + limit);
  const next = category !== 'spot' && start + limit < selected.length ? String(start + limit) : '';
  return {
    result: {
      category,
      list: page.map((i) => ({
        symbol: i.symbol,
        contractType: contractType(i),
        status: i.status,
        baseCoin: i.baseCoin,
        quoteCoin: i.category === 'inverse' ? 'USD' : i.settleCoin,
        settleCoin: i.category === 'spot' ? undefined : i.settleCoin,
        isPreListing: i.status === 'PreLaunch',
        preListingInfo:
          i.status === 'PreLaunch'
            ? { curAuctionPhase: i.curAuctionPhase, phases: [], auctionFeeInfo: {} }
            : null,
        ...filters(i, market),
      })),
      nextPageCursor: next,
    },
  };
}

/** `priceFilter` and `lotSizeFilter` as instrument.mdx lists them per category (spot: tickSize alone). */
function filters(i: Instrument, market: Market): Record<string, unknown> {
  const rules = market.rules(i.category, market.lastPrice(i.category, i.symbol, i.baseCoin));
  if (i.category === 'spot') {
    return {
      priceFilter: { tickSize: rules.tickSize },
      lotSizeFilter: { basePrecision: rules.basePrecision, minOrderAmt: rules.minOrderAmt },
    };
  }
  return {
    priceFilter: { minPrice: rules.minPrice, maxPrice: rules.maxPrice, tickSize: rules.tickSize },
    lotSizeFilter: {
      minOrderQty: rules.minOrderQty,
      qtyStep: rules.qtyStep,
      ...(rules.minNotionalValue !== undefined ? { minNotionalValue: rules.minNotionalValue } : {}),
    },
  };
}

/**
 * `GET /v5/market/tickers` (docs/v5/market/tickers.mdx): public; `category` required, `symbol` optional;
 * "If category=_option_, `symbol` or `baseCoin` must be passed". The last price, and a best bid and ask one
 * tick either side of it; contracts also their mark and index price (the last price here).
 */
export function tickersInfo(
  instruments: Instruments,
  category: Category,
  params: Params,
  booked: { symbol: string; baseCoin: string; settleCoin: string }[],
  market: Market,
): { result: unknown } | { invalid: string } {
  const symbol = text(params.symbol);
  const baseCoin = text(params.baseCoin);
  if (category === 'option' && symbol === undefined && baseCoin === undefined)
    return { invalid: 'symbol or baseCoin is required for option' };
  const listed = instruments
    .all(category, booked)
    .filter((i) => i.status === 'Trading')
    .filter(
      (i) =>
        (symbol === undefined || i.symbol === symbol) && (baseCoin === undefined || i.baseCoin === baseCoin),
    );
  return {
    result: {
      category,
      list: listed.map((i) => {
        const last = market.lastPrice(category, i.symbol, i.baseCoin);
        const tick = Number(market.rules(category, last).tickSize);
        const price = (value: number) => String(Number(value.toFixed(10)));
        return {
          symbol: i.symbol,
          lastPrice: price(last),
          bid1Price: price(last - tick),
          bid1Size: '1',
          ask1Price: price(last + tick),
          ask1Size: '1',
          ...(category === 'spot' ? {} : { markPrice: price(last), indexPrice: price(last) }),
        };
      }),
    },
  };
}

function contractType(i: Instrument): string | undefined {
  if (i.category === 'linear') return /-\d/.test(i.symbol) ? 'LinearFutures' : 'LinearPerpetual';
  if (i.category === 'inverse')
    return /USD[A-Z]\d{2}$/.test(i.symbol) ? 'InverseFutures' : 'InversePerpetual';
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
