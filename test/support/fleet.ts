// A fund's book, per account, as issue 12 tried it: 30 linear orders, 8 spot orders and a few inverse
// orders. Shared by the IP-budget tests and the fleet benchmark.

import type { OrderSeed } from '../emulator/index.ts';

const FUTURES_KINDS = ['Order', 'Order', 'Order', 'StopOrder', 'tpslOrder'] as const;
const SPOT_KINDS = ['Order', 'tpslOrder', 'StopOrder', 'OcoOrder'] as const;

export function fleetBook(): OrderSeed[] {
  const seeds: OrderSeed[] = [];
  for (let i = 0; i < 30; i++) {
    const symbol = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BTCPERP'][i % 4] as string;
    seeds.push({ category: 'linear', symbol, kind: FUTURES_KINDS[i % FUTURES_KINDS.length] });
  }
  for (let i = 0; i < 8; i++) {
    seeds.push({ category: 'spot', symbol: i % 2 ? 'ETHUSDT' : 'BTCUSDT', kind: SPOT_KINDS[i % 4] });
  }
  for (let i = 0; i < 3; i++) seeds.push({ category: 'inverse', symbol: i % 2 ? 'ETHUSD' : 'BTCUSD' });
  return seeds;
}

export const FLEET_BOOK_ORDERS = 41;
