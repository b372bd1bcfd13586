// The market the emulator plays: a last price per symbol (what `GET /v5/market/tickers` answers, and what
// `setLastPrice` moves), and each instrument's trading rules as `instruments-info` lists them
// (docs/v5/market/instrument.mdx: `priceFilter` minPrice, maxPrice, tickSize; `lotSizeFilter` minOrderQty,
// qtyStep, minNotionalValue for contracts, basePrecision and minOrderAmt for spot). `POST /v5/order/create`
// refuses an order that breaks them, with the codes of docs/v5/error.mdx.

import type { Category } from './types.ts';

/** Prices of the base coins the demo and the tests trade; anything else trades at 1. */
const BASE_PRICES: Record<string, number> = { BTC: 95_000, ETH: 3_500, SOL: 200, XRP: 2.5, DOT: 8 };

export interface TradingRules {
  /** A limit price must be a multiple of it. */
  tickSize: string;
  /** Contracts and options only (spot lists `tickSize` alone). */
  minPrice?: string;
  maxPrice?: string;
  /** Contracts and options: the smallest quantity, and the step every quantity is a multiple of. */
  minOrderQty?: string;
  qtyStep?: string;
  /** Linear contracts: qty × price must reach it. */
  minNotionalValue?: string;
  /** Spot: the quantity's precision, and the smallest qty × price. */
  basePrecision?: string;
  minOrderAmt?: string;
}

/** A refused order: the retCode and message Bybit answers (docs/v5/error.mdx). */
export interface Refusal {
  retCode: number;
  retMsg: string;
}

export class Market {
  #prices = new Map<string, number>();

  /** The last price of a symbol: what setLastPrice set, or the base coin's default. */
  lastPrice(category: Category, symbol: string, baseCoin: string): number {
    const set = this.#prices.get(symbol);
    if (set !== undefined) return set;
    // An option's premium, not its underlying's price.
    if (category === 'option') return 500;
    return BASE_PRICES[baseCoin] ?? 1;
  }

  setLastPrice(symbol: string, price: number): void {
    this.#prices.set(symbol, price);
  }

  clear(): void {
    this.#prices.clear();
  }

  /** The rules of an instrument, sized to its price as Bybit sizes them (the doc's BTCUSDT examples). */
  rules(category: Category, price: number): TradingRules {
    const big = price >= 1_000;
    switch (category) {
      case 'linear':
        return {
          tickSize: big ? '0.10' : price >= 10 ? '0.01' : '0.0001',
          minPrice: big ? '0.10' : price >= 10 ? '0.01' : '0.0001',
          maxPrice: '1999999.80',
          minOrderQty: big ? '0.001' : price >= 10 ? '0.01' : '1',
          qtyStep: big ? '0.001' : price >= 10 ? '0.01' : '1',
          minNotionalValue: '5',
        };
      case 'inverse':
        // Inverse quantities are USD contracts.
        return {
          tickSize: big ? '0.50' : '0.01',
          minPrice: big ? '0.50' : '0.01',
          maxPrice: '1999999.00',
          minOrderQty: '1',
          qtyStep: '1',
        };
      case 'option':
        return { tickSize: '5', minPrice: '5', maxPrice: '1110000', minOrderQty: '0.01', qtyStep: '0.01' };
      case 'spot':
        return {
          tickSize: big ? '0.1' : price >= 10 ? '0.01' : '0.0001',
          basePrecision: big ? '0.000001' : '0.01',
          minOrderAmt: '5',
        };
    }
  }
}

/**
 * Whether a limit order keeps the instrument's rules (docs/v5/order/create-order.mdx, "Order price": "For
 * the minimum unit of the price change, please refer to the `priceFilter` > `tickSize` field"; quantities
 * by `lotSizeFilter`). Undefined when it does; the refusal Bybit answers otherwise.
 */
export function breaksRules(
  category: Category,
  rules: TradingRules,
  qty: string,
  price: string | undefined,
): Refusal | undefined {
  const spot = category === 'spot';
  if (price !== undefined) {
    if (!isMultiple(price, rules.tickSize))
      return spot
        ? { retCode: 170134, retMsg: 'Order price decimal too long.' }
        : { retCode: 10001, retMsg: `price ${price} is not a multiple of tickSize ${rules.tickSize}` };
    if (rules.minPrice !== undefined && Number(price) < Number(rules.minPrice))
      return { retCode: 110003, retMsg: 'Order price exceeds the allowable range.' };
    if (rules.maxPrice !== undefined && Number(price) > Number(rules.maxPrice))
      return { retCode: 110003, retMsg: 'Order price exceeds the allowable range.' };
  }
  if (spot) {
    if (rules.basePrecision !== undefined && !isMultiple(qty, rules.basePrecision))
      return { retCode: 170137, retMsg: 'Order volume decimal too long' };
    if (
      price !== undefined &&
      rules.minOrderAmt !== undefined &&
      Number(qty) * Number(price) < Number(rules.minOrderAmt)
    )
      return { retCode: 170140, retMsg: 'Order value exceeded lower limit' };
    return undefined;
  }
  if (rules.qtyStep !== undefined && !isMultiple(qty, rules.qtyStep))
    return { retCode: 10001, retMsg: `qty ${qty} is not a multiple of qtyStep ${rules.qtyStep}` };
  if (rules.minOrderQty !== undefined && Number(qty) < Number(rules.minOrderQty))
    return { retCode: 10001, retMsg: `qty ${qty} is below minOrderQty ${rules.minOrderQty}` };
  if (
    price !== undefined &&
    rules.minNotionalValue !== undefined &&
    Number(qty) * Number(price) < Number(rules.minNotionalValue)
  )
    return { retCode: 110094, retMsg: 'Order notional value below the lower limit' };
  return undefined;
}

/** Whether a decimal string is a whole number of `step`s (exactly, in integers). */
export function isMultiple(value: string, step: string): boolean {
  const places = Math.max(decimals(value), decimals(step));
  const scaled = (text: string) => BigInt(Math.round(Number(text) * 10 ** places));
  const unit = scaled(step);
  return unit > 0n && scaled(value) % unit === 0n;
}

function decimals(text: string): number {
  return text.includes('.') ? (text.split('.')[1] ?? '').length : 0;
}
