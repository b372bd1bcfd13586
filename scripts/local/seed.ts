// The demo's accounts and open orders: every category and order kind in each account, some old orders of a
// bot (orderLinkId prefix `bot-`) for the stale sweep, old manual orders it must leave alone, and one account
// with more than 500 linear orders in one scope (a cancel-all answers 500 at most, so it must repeat).

import type { Category, EmulatorKeySettings, OrderKind, OrderSeed } from '../../test/emulator/index.ts';
import { DEMO_SYMBOLS, KINDS_BY_CATEGORY } from '../../test/support/orders.ts';

export interface DemoAccount {
  name: string;
  /** RSA keys (`privateKey` in the secret) instead of HMAC (`apiSecret`). */
  rsa: boolean;
  /** What the key may do, when it is not the emulator's healthy default. */
  key?: EmulatorKeySettings;
  /** A sub-account of the demo's master account: the secret names its `subUid`, and it gets the enforced halt. */
  sub?: boolean;
}

/** Days until the demo's hedge key expires: inside the drill's 14-day period, so the drill fails on it. */
export const DRILL_DEMO_EXPIRY_DAYS = 10;

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { name: 'main', rsa: false },
  // Bound to no IP, so Bybit lets it expire: in 10 days, which the kill-switch drill reports.
  { name: 'hedge', rsa: true, key: { ips: [], expiresInDays: DRILL_DEMO_EXPIRY_DAYS } },
  // A sub-account: a kill switch makes its other keys (the runaway bot's) read-only.
  { name: 'grid', rsa: false, sub: true },
];

/** The sub-account the demo's runaway bot trades on, with a key of its own. */
export const BOT_ACCOUNT = 'grid';
/** The orders the runaway bot places before the kill switch fires. */
export const RUNAWAY_BOT_ORDERS = 20;

/** The orderLinkId prefix of the bot whose old orders the sweep cancels. */
export const BOT_PREFIX = 'bot-';
/** Orders older than this are stale (the STALE_ORDER_MAX_AGE_SECONDS default). */
export const STALE_AFTER_SECONDS = 3600;
/** The order the demo's webhook cancel names (the body of events/http-v2-cancel.json, plus the account). */
export const WEBHOOK_ORDER = {
  account: 'main',
  category: 'linear',
  symbol: 'BTCUSDT',
  orderLinkId: 'tv-btc-long-1',
};
const BULK = { account: 'grid', category: 'linear' as const, symbol: 'BTCUSDT', count: 520 };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The open orders of one demo account, created relative to `now`. */
export function demoOrders(account: string, now: number): OrderSeed[] {
  const seeds: OrderSeed[] = [];
  let n = 0;
  const add = (category: Category, symbol: string, orderLinkId: string, ageMs: number, kind?: OrderKind) => {
    seeds.push({ category, symbol, orderLinkId, createdTime: now - ageMs, ...(kind ? { kind } : {}) });
  };

  // Placed by hand a few minutes ago: one of every category, symbol and kind.
  for (const category of Object.keys(DEMO_SYMBOLS) as Category[]) {
    for (const symbol of DEMO_SYMBOLS[category]) {
      for (const kind of KINDS_BY_CATEGORY[category])
        add(category, symbol, `${account}-${++n}`, 5 * MINUTE, kind);
    }
  }
  // Old, but placed by hand: the sweep (prefix `bot-`) must leave these alone.
  add('linear', 'BTCUSDT', `${account}-old-1`, 3 * HOUR);
  add('spot', 'ETHUSDC', `${account}-old-2`, 5 * HOUR);
  // The bot's old orders (stale), and its recent ones (not stale).
  for (const [category, symbol] of [
    ['linear', 'BTCUSDT'],
    ['linear', 'BTCUSDT'],
    ['linear', 'BTCPERP'],
    ['inverse', 'BTCUSD'],
    ['spot', 'BTCUSDT'],
    ['spot', 'BTCUSDT'],
    ['option', 'BTC-27DEC26-100000-C'],
  ] as const) {
    add(category, symbol, `${BOT_PREFIX}${account}-${++n}`, 2 * HOUR + n * MINUTE);
  }
  add('linear', 'ETHUSDT', `${BOT_PREFIX}${account}-${++n}`, 10 * MINUTE);
  add('spot', 'ETHUSDC', `${BOT_PREFIX}${account}-${++n}`, 20 * MINUTE);

  if (account === WEBHOOK_ORDER.account) {
    add('linear', WEBHOOK_ORDER.symbol, WEBHOOK_ORDER.orderLinkId, 2 * MINUTE);
  }
  if (account === BULK.account) {
    for (let i = 1; i <= BULK.count; i++) add(BULK.category, BULK.symbol, `level-${i}`, 30 * MINUTE);
  }
  return seeds;
}
