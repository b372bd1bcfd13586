// Order books for tests, the local run and benchmarks: every category and every kind the kill switch must reach.

import type { Category, OrderKind, OrderSeed } from '../emulator/index.ts';

/**
 * A few symbols per category, including a USDC-settled linear perpetual and a USDT-settled option, and
 * coins outside every configured list: inverse XRP, DOT and a SOL inverse future, SOL and ETH options.
 */
export const DEMO_SYMBOLS: Record<Category, string[]> = {
  linear: ['BTCUSDT', 'ETHUSDT', 'BTCPERP'],
  inverse: ['BTCUSD', 'ETHUSD', 'XRPUSD', 'DOTUSD', 'SOLUSDH27'],
  spot: ['BTCUSDT', 'ETHUSDC'],
  option: ['BTC-27DEC26-100000-C', 'ETH-27DEC26-5000-P-USDT', 'SOL-27DEC26-200-C'],
};

/** The kinds each category really has: the spot-only kinds are not seeded on derivatives. */
export const KINDS_BY_CATEGORY: Record<Category, OrderKind[]> = {
  linear: ['Order', 'StopOrder', 'tpslOrder'],
  inverse: ['Order', 'StopOrder', 'tpslOrder'],
  spot: ['Order', 'StopOrder', 'tpslOrder', 'OcoOrder', 'BidirectionalTpslOrder'],
  option: ['Order'],
};

const SPOT_KINDS = ['Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'BidirectionalTpslOrder'] as const;
const FUTURES_KINDS = ['Order', 'Order', 'Order', 'StopOrder', 'tpslOrder'] as const;

function cycle<T>(items: readonly T[], i: number): T {
  return items[i % items.length] as T;
}

/**
 * `count` orders spread over everything: linear USDT/USDC, inverse BTC/ETH and coins no default names
 * (XRP, DOT, a SOL future), every spot kind, BTC, ETH and SOL options.
 */
export function mixedBook(
  count: number,
  options: { linkIdPrefix?: string; createdTime?: number } = {},
): OrderSeed[] {
  const makers: ((i: number) => OrderSeed)[] = [
    (i) => ({
      category: 'linear',
      symbol: cycle(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], i),
      kind: cycle(FUTURES_KINDS, i),
    }),
    (i) => ({ category: 'linear', symbol: cycle(['BTCPERP', 'ETHPERP'], i), kind: cycle(FUTURES_KINDS, i) }),
    (i) => ({
      category: 'inverse',
      symbol: cycle(['BTCUSD', 'ETHUSD', 'XRPUSD', 'DOTUSD', 'SOLUSDH27'], i),
      kind: cycle(FUTURES_KINDS, i),
    }),
    (i) => ({ category: 'spot', symbol: cycle(['BTCUSDT', 'ETHUSDT'], i), kind: cycle(SPOT_KINDS, i) }),
    (i) => ({
      category: 'option',
      symbol: cycle(['BTC-27DEC26-100000-C', 'ETH-27DEC26-4000-P', 'SOL-27DEC26-200-C'], i),
    }),
  ];
  return Array.from({ length: count }, (_, i) => ({
    ...(makers[i % makers.length] as (i: number) => OrderSeed)(Math.floor(i / makers.length)),
    ...(options.linkIdPrefix ? { orderLinkId: `${options.linkIdPrefix}${i}` } : {}),
    ...(options.createdTime ? { createdTime: options.createdTime } : {}),
  }));
}

/** `count` linear USDT orders of every futures kind across three symbols (one scope for the kill switch). */
export function linearBook(
  count: number,
  options: { linkIdPrefix?: string; createdTime?: number; offset?: number } = {},
): OrderSeed[] {
  const offset = options.offset ?? 0;
  return Array.from({ length: count }, (_, i) => ({
    category: 'linear',
    symbol: cycle(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], i),
    kind: cycle(FUTURES_KINDS, i),
    ...(options.linkIdPrefix !== undefined ? { orderLinkId: `${options.linkIdPrefix}${offset + i}` } : {}),
    ...(options.createdTime ? { createdTime: options.createdTime } : {}),
  }));
}
