// A master account managing its sub-accounts' API keys: `GET /v5/user/sub-apikeys`
// (docs/v5/user/list-sub-apikeys.mdx) and `POST /v5/user/update-sub-api` (docs/v5/user/modify-sub-apikey.mdx),
// as documented, including what a careless change does: an update that leaves out `readOnly` makes the key
// read-write, one that leaves out `ips` unbinds it.

import { bound, DAY_MS, isoSeconds, type KeyState, PERMISSION_GROUPS, UNBOUND_KEY_DAYS } from './api-key.ts';
import type { Credential } from './auth.ts';
import type { Endpoint, Outcome, Params } from './endpoints.ts';
import type { RateStatus } from './rate-limit.ts';
import { RET, type Ret } from './responses.ts';

/** list-sub-apikeys.mdx: "limit: Limit for data size per page. [`1`, `20`]. Default: `20`". */
const PAGE_DEFAULT = 20;
const PAGE_MAX = 20;
/** list-sub-apikeys.mdx, status: "`4`: expires soon (less than 7 days)". */
const SOON_DAYS = 7;
/**
 * modify-sub-apikey.mdx: "master API Key: "Account Transfer", "Sub Member Transfer", "Withdrawal"", named in
 * query-api's permission list (apikey-info.mdx) `AccountTransfer`, `SubMemberTransfer`, `Withdraw`; "sub API
 * key: "Account Transfer", "Sub Member Transfer"", for a sub key `AccountTransfer`, `SubMemberTransferList`.
 */
const MASTER_MAY_UPDATE = ['AccountTransfer', 'SubMemberTransfer', 'Withdraw'];
const SUB_MAY_UPDATE = ['AccountTransfer', 'SubMemberTransferList'];

const PERMISSION_DENIED: Ret = {
  retCode: 10005,
  retMsg: 'Permission denied, please check your API key permissions.',
};

/** `GET /v5/user/sub-apikeys`: "Only master account can call this endpoint"; "Any permission can access". */
export const subApiKeys: Endpoint = (ctx, params) => {
  const rate = ctx.limiter.take(ctx.uid, 'sub-apikeys', 'linear', 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);
  // The docs name no code for a sub key calling it: a permission refusal stands in.
  if (ctx.credential.parentUid !== undefined) return fail(PERMISSION_DENIED, rate);
  const subMemberId = text(params.subMemberId);
  if (!subMemberId) return fail(RET.params('subMemberId is required'), rate);
  const limit = Number(text(params.limit) ?? PAGE_DEFAULT);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) return fail(RET.params('limit'), rate);
  const cursor = text(params.cursor);
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isInteger(start) || start < 0) return fail(RET.params('cursor'), rate);
  const keys = keysOf(ctx.accounts, subMemberId, ctx.uid);
  if (keys === undefined) return fail(RET.params(`${subMemberId} is not a sub UID of this account`), rate);

  const page = keys.slice(start, start + limit);
  const nextPageCursor = start + limit < keys.length ? String(start + limit) : '';
  const result = page.map((c) => listed(c, ctx.now));
  // The keys sit in `result.result`, as the doc's response example nests them.
  return ok({ result, nextPageCursor }, rate);
};

/**
 * `POST /v5/user/update-sub-api`. A master key must pass `apikey` ("You must pass this param when you use
 * master account manage sub account api key settings") and a sub key must not ("If you use corresponding sub
 * uid api key call this endpoint, `apikey` param cannot be passed, otherwise throwing an error").
 */
export const updateSubApiKey: Endpoint = (ctx, params) => {
  const rate = ctx.limiter.take(ctx.uid, 'update-sub-api', 'linear', 1, ctx.now);
  if (rate.granted === 0) return fail(RET.tooManyVisits, rate);
  const caller = ctx.credential;
  const master = caller.parentUid === undefined;
  const wallet = caller.key.permissions.Wallet ?? [];
  if (!wallet.some((p) => (master ? MASTER_MAY_UPDATE : SUB_MAY_UPDATE).includes(p)))
    return fail(PERMISSION_DENIED, rate);
  const apikey = text(params.apikey);
  if (master && apikey === undefined) return fail(RET.params('apikey is required for a master key'), rate);
  if (!master && apikey !== undefined)
    return fail(RET.params('apikey cannot be passed with a sub key'), rate);
  const target = master ? ctx.accounts.get(apikey as string) : caller;
  if (!target || target.revoked || (master && target.parentUid !== ctx.uid))
    return fail(RET.params('apikey is not a key of a sub-account of this account'), rate);

  // "readOnly: `0` (default): Read and Write. `1`: Read only".
  const readOnly = params.readOnly ?? 0;
  if (readOnly !== 0 && readOnly !== 1) return fail(RET.params('readOnly must be 0 or 1'), rate);
  const ips = ipsOf(params.ips);
  if (ips === undefined) return fail(RET.params('ips'), rate);
  // "Don't send this param if you don't want to change the permission": sent, it is the new set.
  const permissions = params.permissions === undefined ? target.key.permissions : permissionsOf(params);
  if (permissions === undefined) return fail(RET.params('permissions'), rate);

  target.key = changed(target.key, { readOnly: readOnly === 1, ips, permissions }, ctx.now);
  const result = {
    id: target.apiKey.slice(0, 8),
    note: 'emulator',
    apiKey: target.apiKey,
    readOnly: target.key.readOnly ? 1 : 0,
    secret: '',
    permissions: target.key.permissions,
    ips: target.key.ips,
  };
  return ok(result, rate);
};

/** The keys of `subUid` when it is a sub UID of `masterUid`: a sub UID is known by its keys. */
function keysOf(accounts: ReadonlyMap<string, Credential>, subUid: string, masterUid: string) {
  const all = [...accounts.values()].filter((c) => c.uid === subUid && c.parentUid === masterUid);
  if (all.length === 0) return undefined;
  // A revoked key is a deleted one: no longer listed.
  return all.filter((c) => !c.revoked);
}

/** A key as the listing documents it: `readOnly` a boolean here, `ips` `["*"]` when bound to none. */
function listed(c: Credential, now: number): Record<string, unknown> {
  const { key } = c;
  const expires = key.expiresAt;
  const daysLeft = expires === undefined ? undefined : Math.floor((expires - now) / DAY_MS);
  const status = expires === undefined ? 1 : expires <= now ? 2 : (daysLeft as number) < SOON_DAYS ? 4 : 3;
  return {
    id: c.apiKey.slice(0, 8),
    ips: key.ips.length === 0 ? ['*'] : key.ips,
    apiKey: c.apiKey,
    note: 'emulator',
    status,
    // "Only for those api key with no IP bound or the password has been changed".
    ...(expires === undefined ? {} : { expiredAt: isoSeconds(expires), deadlineDay: daysLeft }),
    createdAt: isoSeconds(key.createdAt),
    type: 1,
    permissions: key.permissions,
    secret: '******',
    readOnly: key.readOnly,
    flag: c.publicKey ? 'rsa' : 'hmac',
  };
}

/**
 * "Set the IP bind. example: "192.168.0.1,192.168.0.2" … don't pass ips or pass with "*" means no bind"; the
 * changelog (2025-02-13): "Request parameter `ips` is actually string type. array can be used".
 */
function ipsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return ['*'];
  const list =
    typeof value === 'string'
      ? value.split(',')
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? (value as string[])
        : undefined;
  if (!list) return undefined;
  const ips = list.map((ip) => ip.trim()).filter(Boolean);
  return ips.length === 0 || ips.includes('*') ? ['*'] : ips;
}

function permissionsOf(params: Params): Record<string, string[]> | undefined {
  const given = params.permissions;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return undefined;
  const permissions: Record<string, string[]> = Object.fromEntries(PERMISSION_GROUPS.map((g) => [g, []]));
  for (const [group, granted] of Object.entries(given)) {
    if (!Array.isArray(granted) || !granted.every((p) => typeof p === 'string')) return undefined;
    permissions[group] = [...granted];
  }
  return permissions;
}

/** "No ip bound api key will be invalid after 90 days": unbinding starts that clock, binding stops it. */
function changed(
  key: KeyState,
  change: Pick<KeyState, 'readOnly' | 'ips' | 'permissions'>,
  now: number,
): KeyState {
  const next: KeyState = { ...key, ...change };
  if (!bound(change.ips) && bound(key.ips)) next.expiresAt = now + UNBOUND_KEY_DAYS * DAY_MS;
  if (bound(change.ips) && !bound(key.ips)) delete next.expiresAt;
  return next;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function ok(result: unknown, rate: RateStatus): Outcome {
  return { ...RET.ok, result, retExtInfo: {}, rate };
}

function fail(ret: Ret, rate: RateStatus): Outcome {
  return { ...ret, result: {}, retExtInfo: {}, rate };
}
