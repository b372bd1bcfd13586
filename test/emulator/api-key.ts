// What an API key may do, as the exchange holds it, and `GET /v5/user/query-api`, which reports it
// (docs/v5/user/apikey-info.mdx). Keys are read-write, IP-bound (to loopback), unified, and hold every
// trading permission unless a test says otherwise; the server refuses what a key may not do (10005, 10010,
// 33004: docs/v5/error.mdx).

import type { Endpoint } from './endpoints.ts';
import { ORDER_CATEGORY } from './strategies.ts';
import type { Category, EmulatorKeySettings, StrategyCategory } from './types.ts';

export const DAY_MS = 86_400_000;
/** docs/v5/user/create-subuid-apikey.mdx: "No ip bound api key will be invalid after 90 days". */
export const UNBOUND_KEY_DAYS = 90;
const LOOPBACK = '127.0.0.1';

/** Every permission group of the documented answer, each with what a trading key is given by default. */
const DEFAULT_PERMISSIONS: Record<string, string[]> = {
  ContractTrade: ['Order', 'Position'],
  Spot: ['SpotTrade'],
  Wallet: [],
  Options: ['OptionsTrade'],
  Derivatives: ['DerivativesTrade'],
  CopyTrading: [],
  BlockTrade: [],
  Exchange: [],
  NFT: [],
  Affiliate: [],
  Earn: [],
};

/** The permission a category's order endpoints need (docs/v5/user/apikey-info.mdx's permission list). */
const TRADE_PERMISSION: Record<Category, [group: string, permission: string]> = {
  linear: ['ContractTrade', 'Order'],
  inverse: ['ContractTrade', 'Order'],
  spot: ['Spot', 'SpotTrade'],
  option: ['Options', 'OptionsTrade'],
};

/** A key's settings with the defaults filled in and the expiry fixed in time. */
export interface KeyState {
  readOnly: boolean;
  permissions: Record<string, string[]>;
  ips: string[];
  uta: 0 | 1;
  createdAt: number;
  /** Epoch ms; undefined when the key does not expire. */
  expiresAt?: number;
}

/** The documented permission groups, each empty: what update-sub-api's `permissions` starts from. */
export const PERMISSION_GROUPS: readonly string[] = Object.keys(DEFAULT_PERMISSIONS);

export function keyState(settings: EmulatorKeySettings = {}, now = Date.now()): KeyState {
  const ips = settings.ips ?? [LOOPBACK];
  const days =
    settings.expiresInDays !== undefined ? settings.expiresInDays : bound(ips) ? undefined : UNBOUND_KEY_DAYS;
  return {
    readOnly: settings.readOnly ?? false,
    permissions: { ...DEFAULT_PERMISSIONS, ...settings.permissions },
    ips,
    uta: settings.uta ?? 1,
    createdAt: settings.createdAt ?? now,
    ...(days !== undefined && days !== null ? { expiresAt: now + days * DAY_MS } : {}),
  };
}

export function bound(ips: string[]): boolean {
  return ips.length > 0 && !ips.includes('*');
}

/** Why the exchange refuses this request with this key, if it does. */
export function refusal(
  key: KeyState,
  request: { method: string; category: unknown; remoteAddress: string | undefined; now: number },
): { retCode: number; retMsg: string } | undefined {
  if (key.expiresAt !== undefined && key.expiresAt <= request.now) {
    return { retCode: 33004, retMsg: 'Your api key has expired' };
  }
  const from = (request.remoteAddress ?? '').replace(/^::ffff:/, '');
  const ips = key.ips.map((ip) => (ip === '::1' ? LOOPBACK : ip));
  if (bound(key.ips) && !ips.includes(from === '::1' ? LOOPBACK : from)) {
    return { retCode: 10010, retMsg: "Unmatched IP, please check your API key's bound IP addresses." };
  }
  if (request.method !== 'POST') return undefined;
  // A strategy's category (UTA_USDT, …) needs what orders of its order category need.
  const category = Object.hasOwn(ORDER_CATEGORY, String(request.category))
    ? ORDER_CATEGORY[request.category as StrategyCategory]
    : request.category;
  const needed = TRADE_PERMISSION[category as Category];
  const granted = needed ? key.permissions[needed[0]]?.includes(needed[1]) : true;
  if (key.readOnly || !granted) {
    return { retCode: 10005, retMsg: 'Permission denied, please check your API key permissions.' };
  }
  return undefined;
}

/** `GET /v5/user/query-api`: the documented answer for the key the request was signed with. */
export const apiKeyInfo: Endpoint = (ctx) => {
  const rate = ctx.limiter.take(ctx.uid, 'query-api', 'linear', 1, ctx.now);
  if (rate.granted === 0) {
    return { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, rate };
  }
  const { key, apiKey, uid, rsa } = ctx.credential;
  // Keys that do not expire answer as the doc's IP-bound example does: deadlineDay -2, expiredAt at epoch 0.
  const expires = key.expiresAt;
  const result = {
    id: uid,
    note: 'emulator',
    apiKey,
    readOnly: key.readOnly ? 1 : 0,
    secret: '',
    permissions: key.permissions,
    ips: key.ips,
    type: 1,
    deadlineDay: expires === undefined ? -2 : Math.floor((expires - ctx.now) / DAY_MS),
    expiredAt: isoSeconds(expires ?? 0),
    createdAt: isoSeconds(key.createdAt),
    unified: 0,
    uta: key.uta,
    userID: Number(uid),
    inviterID: 0,
    vipLevel: 'No VIP',
    mktMakerLevel: '0',
    affiliateID: 0,
    rsaPublicKey: rsa ?? '',
    // "isMaster: If this api key belongs to master account or not"; "parentUid: The main account uid.
    // Returns "0" when the endpoint is called by main account" (docs/v5/user/apikey-info.mdx).
    isMaster: ctx.credential.parentUid === undefined,
    parentUid: ctx.credential.parentUid ?? '0',
    kycLevel: 'LEVEL_DEFAULT',
    kycRegion: '',
  };
  return { retCode: 0, retMsg: '', result, retExtInfo: {}, rate };
};

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
