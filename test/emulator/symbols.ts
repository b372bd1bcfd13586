import type { Category } from './types.ts';

export interface Coins {
  baseCoin: string;
  settleCoin: string;
}

// Longest first, so that `FDUSD` is not read as `…USD` + something.
const SPOT_QUOTES = ['FDUSD', 'USDT', 'USDC', 'USDE', 'EUR', 'BRL', 'DAI', 'BTC', 'ETH', 'MNT'];
// Inverse perpetual `BTCUSD`, inverse futures `BTCUSDH26` (month code + year).
const INVERSE = /^([A-Z0-9]+?)USD(?:[FGHJKMNQUVXZ]\d{2})?$/;

/**
 * The base and settle coin Bybit attaches to a symbol, so that cancel-all and realtime can filter by
 * baseCoin/settleCoin. Spot has no settle coin: its quote coin stands in for it.
 */
export function deriveCoins(category: Category, symbol: string): Coins {
  const coins = derive(category, symbol);
  if (!coins) {
    throw new Error(`cannot derive coins of ${category} symbol ${symbol}: pass baseCoin and settleCoin`);
  }
  return coins;
}

function derive(category: Category, symbol: string): Coins | undefined {
  switch (category) {
    case 'linear': {
      // Dated USDT futures `BTCUSDT-26DEC25`, dated USDC futures `BTC-26DEC25`.
      const head = symbol.split('-')[0] ?? symbol;
      if (head.endsWith('USDT')) return { baseCoin: head.slice(0, -4), settleCoin: 'USDT' };
      if (head.endsWith('USDC')) return { baseCoin: head.slice(0, -4), settleCoin: 'USDC' };
      if (head.endsWith('PERP')) return { baseCoin: head.slice(0, -4), settleCoin: 'USDC' };
      if (symbol.includes('-')) return { baseCoin: head, settleCoin: 'USDC' };
      return undefined;
    }
    case 'inverse': {
      const match = INVERSE.exec(symbol);
      return match?.[1] ? { baseCoin: match[1], settleCoin: match[1] } : undefined;
    }
    case 'spot': {
      const quote = SPOT_QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length);
      return quote ? { baseCoin: symbol.slice(0, -quote.length), settleCoin: quote } : undefined;
    }
    case 'option': {
      // `BTC-27DEC26-100000-C`, USDT-settled ones carry a `-USDT` suffix.
      const parts = symbol.split('-');
      if (parts.length < 4 || !parts[0]) return undefined;
      return { baseCoin: parts[0], settleCoin: parts.at(-1) === 'USDT' ? 'USDT' : 'USDC' };
    }
  }
}
