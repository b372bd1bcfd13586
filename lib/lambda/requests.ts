// What callers may ask for, validated before anything reaches the exchange. Unknown fields are refused:
// a misspelt `symbol` silently ignored would widen a cancel-all to the whole category. The one exception
// is a kill-switch event: nobody reads its answer, so it is never refused (parseKillSwitchDetail).

import {
  CATEGORIES,
  type CancelAllParams,
  type Category,
  FUTURES_CANCEL_ALL_FILTERS,
  OPTION_CANCEL_ALL_FILTERS,
  SPOT_CANCEL_FILTERS,
  SPOT_ORDER_FILTERS,
} from '../bybit/types.ts';
import type { CancelOrderCommand } from '../cancel/cancel-order.ts';
import {
  DEAD_MANS_SWITCH_ORIGIN,
  HEARTBEAT_REASON_MAX,
  type HeartbeatRequest,
  isAllowedTtl,
  TTL_MAX_SECONDS,
  TTL_MIN_SECONDS,
} from '../cancel/dead-mans-switch.ts';
import type { MasterCheckRequest } from '../cancel/drill.ts';
import type { SweepOptions } from '../cancel/sweep.ts';
import { ValidationError } from '../errors.ts';
import type { Config } from './config.ts';

export type CancelRequest = CancelOrderCommand;

/** Cancel-all of one scope, or (no category) everything: the kill switch. */
export type CancelAllRequest =
  | { kind: 'scope'; account?: string; params: CancelAllParams }
  | {
      kind: 'everything';
      accounts?: string[];
      categories?: Category[];
      reason?: string;
      origin?: string;
      /** What of the request was ignored (a kill-switch event's detail); echoed in the report. */
      ignored?: string[];
      /** `false`: a routine clean-up that sets no halt. */
      halt?: boolean;
    }
  | DrillRequest;

/** The kill-switch drill: read-only checks of every account (or the ones named). */
export interface DrillRequest {
  kind: 'drill';
  accounts?: string[];
}

const SYMBOL = /^[A-Z0-9][A-Z0-9_-]{0,63}$/;
const COIN = /^[A-Z0-9]{1,20}$/;
/**
 * Identifiers as Bybit issues them, so that nothing it could never have issued is sent to it. `orderLinkId`:
 * "A max of 36 characters. Combinations of numbers, letters (upper and lower cases), dashes, and underscores"
 * (docs/v5/order/create-order.mdx). `orderId`: numeric ("1321003749386327552", create-order.mdx) or a UUID
 * ("fd4300ae-7847-404e-b947-b46980a4d140", open-order.mdx).
 */
const ORDER_LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const ORDER_ID = /^(\d{1,32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const ACCOUNT = /^[\w.-]{1,64}$/;
const ORIGIN = /^[\w.-]{1,64}$/;
const REASON_MAX = 500;

/** Validates a single-order cancel. */
export function parseCancelRequest(input: unknown): CancelRequest {
  const body = fields(input, ['category', 'symbol', 'orderId', 'orderLinkId', 'orderFilter', 'account']);
  const category = categoryOf(body.category);
  const request: CancelRequest = {
    category,
    symbol: symbolOf(body.symbol, 'symbol', true) as string,
    orderId: id(body.orderId, 'orderId', ORDER_ID, 'a number or a UUID, as Bybit issues order ids'),
    orderLinkId: id(
      body.orderLinkId,
      'orderLinkId',
      ORDER_LINK_ID,
      'at most 36 letters, digits, "-" or "_", as Bybit accepts order link ids',
    ),
    account: account(body.account),
  };
  if (!request.orderId && !request.orderLinkId)
    throw new ValidationError('orderId', 'orderId or orderLinkId is required');
  if (body.orderFilter !== undefined) {
    if (category !== 'spot')
      throw new ValidationError('orderFilter', 'orderFilter is only valid for spot orders');
    // docs/v5/order/cancel-order.mdx: spot only, `Order`, `tpslOrder` or `StopOrder`.
    request.orderFilter = oneOf(body.orderFilter, 'orderFilter', SPOT_CANCEL_FILTERS);
  }
  return withoutUndefined(request);
}

/** Validates a cancel-all: one scope when `category` is given, otherwise everything in the configured scope. */
export function parseCancelAllRequest(input: unknown): CancelAllRequest {
  const body = fields(input, [
    'category',
    'symbol',
    'baseCoin',
    'settleCoin',
    'orderFilter',
    'stopOrderType',
    'account',
    'accounts',
    'categories',
    'reason',
    'drill',
    'halt',
  ]);
  if (body.drill !== undefined) return drill(body);
  if (body.category === undefined) return everything(body);
  for (const field of ['accounts', 'categories', 'halt'] as const) {
    if (body[field] !== undefined)
      throw new ValidationError(field, `${field} is only valid without category`);
  }
  const category = categoryOf(body.category);
  const params: CancelAllParams = {
    category,
    symbol: symbolOf(body.symbol, 'symbol', false),
    baseCoin: coin(body.baseCoin, 'baseCoin'),
    settleCoin: coin(body.settleCoin, 'settleCoin'),
  };
  const futures = category === 'linear' || category === 'inverse';
  if (futures && !params.symbol && !params.baseCoin && !params.settleCoin) {
    throw new ValidationError('symbol', `${category} cancel-all needs symbol, baseCoin or settleCoin`);
  }
  if (category === 'spot' && params.settleCoin)
    throw new ValidationError('settleCoin', 'spot has no settleCoin');
  // docs/v5/order/cancel-all.mdx documents baseCoin for "`linear` & `inverse`" only; it said "`spot`(classic
  // account): invalid" until the classic account was dropped from the page. A spot cancel-all that Bybit may
  // read without it cancels every spot order of the kind, not the coin's: refused rather than guessed.
  if (category === 'spot' && params.baseCoin)
    throw new ValidationError('baseCoin', 'spot cancel-all takes symbol, not baseCoin');
  if (body.orderFilter !== undefined) {
    // docs/v5/order/cancel-all.mdx: spot takes its five kinds; linear and inverse `Order`, `StopOrder`,
    // `OpenOrder` (`tpslOrder` is spot-only); option `Order` and `StopOrder`.
    const allowed =
      category === 'spot'
        ? SPOT_ORDER_FILTERS
        : category === 'option'
          ? OPTION_CANCEL_ALL_FILTERS
          : FUTURES_CANCEL_ALL_FILTERS;
    params.orderFilter = oneOf(body.orderFilter, 'orderFilter', allowed);
  }
  if (body.stopOrderType !== undefined) {
    if (!futures || params.orderFilter !== 'StopOrder') {
      throw new ValidationError(
        'stopOrderType',
        'stopOrderType needs a linear or inverse category with orderFilter StopOrder',
      );
    }
    params.stopOrderType = oneOf(body.stopOrderType, 'stopOrderType', ['Stop'] as const);
  }
  if (body.reason !== undefined) reason(body.reason);
  return { kind: 'scope', account: account(body.account), params: withoutUndefined(params) };
}

function everything(body: Record<string, unknown>): CancelAllRequest {
  for (const field of ['symbol', 'baseCoin', 'settleCoin', 'orderFilter', 'stopOrderType'] as const) {
    if (body[field] !== undefined) throw new ValidationError(field, `${field} needs a category`);
  }
  if (body.account !== undefined && body.accounts !== undefined) {
    throw new ValidationError('accounts', 'give account or accounts, not both');
  }
  const accounts =
    body.account !== undefined ? [account(body.account) as string] : list(body.accounts, 'accounts', account);
  const categories = list(body.categories, 'categories', categoryOf);
  if (body.halt !== undefined && typeof body.halt !== 'boolean')
    throw new ValidationError('halt', 'halt must be true or false (false: a clean-up that sets no halt)');
  return withoutUndefined({
    kind: 'everything',
    accounts,
    categories,
    reason: reason(body.reason),
    origin: origin(body.origin),
    halt: body.halt as boolean | undefined,
  });
}

/**
 * `{"drill": true, account? | accounts?}`. Anything else refused: `{"drill": false}` must not fall through to
 * the kill switch, and a drill never takes a cancel's fields.
 */
function drill(body: Record<string, unknown>): DrillRequest {
  if (body.drill !== true) {
    throw new ValidationError('drill', 'drill must be true (leave it out to fire the kill switch)');
  }
  const extra = Object.keys(body).find((key) => !['drill', 'account', 'accounts'].includes(key));
  if (extra !== undefined) throw new ValidationError(extra, `${extra} is not valid with drill`);
  return drillAccounts(body);
}

/**
 * A direct invocation of the drill function: `{"drill": true, account? | accounts?}`. Anything else is refused,
 * `{}` first of all: on the drill function it is never a kill switch.
 */
export function parseDrillRequest(input: unknown): DrillRequest {
  const body = fields(input, ['drill', 'account', 'accounts']);
  if (body.drill !== true)
    throw new ValidationError('drill', 'this function runs only the drill: send {"drill": true}');
  return drillAccounts(body);
}

/** A schedule's constant input for the drill: `{"action": "drill", accounts?}`. */
export function parseDrillInput(input: unknown): DrillRequest {
  const body = fields(input, ['action', 'account', 'accounts']);
  if (body.action !== 'drill') throw new ValidationError('action', 'this schedule runs only the drill');
  return drillAccounts(body);
}

function drillAccounts(body: Record<string, unknown>): DrillRequest {
  if (body.account !== undefined && body.accounts !== undefined) {
    throw new ValidationError('accounts', 'give account or accounts, not both');
  }
  const accounts =
    body.account !== undefined ? [account(body.account) as string] : list(body.accounts, 'accounts', account);
  return withoutUndefined({ kind: 'drill', accounts });
}

/** A kill-switch event's request, and what of its detail was ignored (said in the report and logged). */
export type KillSwitchDetail = Extract<CancelAllRequest, { kind: 'everything' }> & { ignored: string[] };

/**
 * The fields a kill-switch `detail` may carry. Each reader takes what it can into the request and returns
 * why it ignored the rest; a narrowing it cannot read is dropped, so the kill switch covers more.
 */
const KILL_SWITCH_FIELDS: Record<string, (value: unknown, into: KillSwitchDetail) => string | undefined> = {
  account: (value, into) => {
    const name = lenient(() => account(value));
    if (name === undefined) return 'account is not an account name: every account is covered';
    into.accounts = [...new Set([...(into.accounts ?? []), name])];
    return undefined;
  },
  accounts: (value, into) => {
    const names = lenient(() => list(value, 'accounts', account));
    if (names === undefined) return 'accounts is not a list of account names: every account is covered';
    into.accounts = [...new Set([...(into.accounts ?? []), ...names])];
    return undefined;
  },
  categories: (value, into) => {
    const categories = lenient(() => list(value, 'categories', categoryOf));
    if (categories === undefined) return 'categories is not a list of categories: every category is covered';
    into.categories = categories;
    return undefined;
  },
  // Who fired it, when the event says (the dead man's switch: `deadMansSwitch`); an unreadable one is dropped.
  origin: (value, into) => {
    const name = origin(value);
    if (name === undefined) return 'origin is not a name: dropped';
    into.origin = name;
    return undefined;
  },
  // `false` for a routine clean-up; anything unreadable halts, the safe side.
  halt: (value, into) => {
    if (typeof value !== 'boolean') return 'halt is not true or false: the accounts are halted';
    into.halt = value;
    return undefined;
  },
  reason: (value, into) => {
    if (typeof value !== 'string') return 'reason is not a string: dropped';
    into.reason = value.slice(0, REASON_MAX);
    return value.length > REASON_MAX
      ? `reason is longer than ${REASON_MAX} characters: truncated`
      : undefined;
  },
};

/**
 * Reads the `detail` of a kill-switch event (`{account?, accounts?, categories?, reason?, origin?, halt?}`)
 * and never refuses it: its caller is not waiting for an answer, and in an emergency cancelling more is the safe
 * side. Unknown fields and unreadable values are ignored and listed in `ignored`; a malformed narrowing
 * covers everything. HTTP and direct callers get parseCancelAllRequest's 400s instead.
 */
export function parseKillSwitchDetail(input: unknown): KillSwitchDetail {
  const request: KillSwitchDetail = { kind: 'everything', ignored: [] };
  if (input === undefined || input === null) return request;
  if (typeof input !== 'object' || Array.isArray(input)) {
    request.ignored.push('detail is not a JSON object: everything is covered');
    return request;
  }
  const malformed = new Set<string>();
  for (const [name, value] of Object.entries(input)) {
    const read = Object.hasOwn(KILL_SWITCH_FIELDS, name) ? KILL_SWITCH_FIELDS[name] : undefined;
    const why = read ? read(value, request) : `unknown field "${name.slice(0, 64)}"`;
    if (!why) continue;
    request.ignored.push(why);
    if (name === 'account' || name === 'accounts') malformed.add('accounts');
  }
  // One unreadable account narrowing voids the others: covering every account is the safe side.
  if (malformed.has('accounts')) delete request.accounts;
  if (request.halt === false && request.origin === DEAD_MANS_SWITCH_ORIGIN) {
    delete request.halt;
    request.ignored.push("halt: false is ignored: the dead man's switch always halts");
  }
  return request;
}

/** Validates a heartbeat: `{ttlSeconds?, disarm?: true, accounts?, reason?}`. */
export function parseHeartbeatRequest(input: unknown, defaultTtlSeconds: number): HeartbeatRequest {
  const body = fields(input, ['ttlSeconds', 'disarm', 'accounts', 'reason']);
  const ttlSeconds = body.ttlSeconds === undefined ? defaultTtlSeconds : body.ttlSeconds;
  if (typeof ttlSeconds !== 'number' || !isAllowedTtl(ttlSeconds)) {
    throw new ValidationError(
      'ttlSeconds',
      `ttlSeconds must be a whole number of seconds from ${TTL_MIN_SECONDS} to ${TTL_MAX_SECONDS}`,
    );
  }
  if (body.disarm !== undefined && body.disarm !== true)
    throw new ValidationError('disarm', 'disarm must be true (leave it out to arm)');
  if (
    body.reason !== undefined &&
    (typeof body.reason !== 'string' || body.reason.length > HEARTBEAT_REASON_MAX)
  ) {
    throw new ValidationError(
      'reason',
      `reason must be a string of at most ${HEARTBEAT_REASON_MAX} characters`,
    );
  }
  return withoutUndefined({
    ttlSeconds,
    disarm: body.disarm === true,
    accounts: list(body.accounts, 'accounts', account),
    reason: body.reason as string | undefined,
  });
}

/** A halt reset: `{accounts?, by?}` (every halted account when it names none). */
export interface ResetInput {
  accounts?: string[];
  /** Who asks (a name, `npm run kill-switch by ana@desk-3`, a Telegram user): in the logs and the message. */
  by?: string;
}

const BY_MAX = 200;

/** Validates a reset, from `POST /reset` or a direct invocation: `{accounts?, by?}`. */
export function parseResetRequest(input: unknown): ResetInput {
  const body = fields(input, ['accounts', 'by']);
  if (
    body.by !== undefined &&
    (typeof body.by !== 'string' || body.by.trim() === '' || body.by.length > BY_MAX)
  )
    throw new ValidationError('by', `by must be a non-empty string of at most ${BY_MAX} characters`);
  return withoutUndefined({
    accounts: list(body.accounts, 'accounts', account),
    by: body.by as string | undefined,
  });
}

const FINGERPRINT = /^[0-9a-f]{64}$/;
const SUB_UID = /^[1-9]\d{0,19}$/;

/**
 * Validates the drill's master-key check, a direct invocation of the reset function:
 * `{check: "master", subAccounts: [{account, subUid, key}], ownKeys: [...]}`, keys as SHA-256 fingerprints.
 */
export function parseMasterCheckRequest(input: unknown): MasterCheckRequest {
  const body = fields(input, ['check', 'subAccounts', 'ownKeys']);
  if (body.check !== 'master') throw new ValidationError('check', 'check must be "master"');
  const fingerprint = (value: unknown, field: string) => {
    if (typeof value !== 'string' || !FINGERPRINT.test(value))
      throw new ValidationError(field, `${field} must be a key's SHA-256 fingerprint (64 hex digits)`);
    return value;
  };
  if (!Array.isArray(body.subAccounts) || body.subAccounts.length > 500)
    throw new ValidationError('subAccounts', 'subAccounts must be an array of at most 500 sub-accounts');
  if (!Array.isArray(body.ownKeys) || body.ownKeys.length > 1000)
    throw new ValidationError('ownKeys', 'ownKeys must be an array of at most 1000 fingerprints');
  const subAccounts = body.subAccounts.map((item: unknown) => {
    const sub = fields(item, ['account', 'subUid', 'key']);
    if (typeof sub.subUid !== 'string' || !SUB_UID.test(sub.subUid))
      throw new ValidationError('subUid', 'subUid must be a sub-account UID (digits)');
    if (typeof sub.account !== 'string' || sub.account.length === 0 || sub.account.length > 200)
      throw new ValidationError('account', 'account must be an account name');
    return { account: sub.account, subUid: sub.subUid, key: fingerprint(sub.key, 'key') };
  });
  return { subAccounts, ownKeys: body.ownKeys.map((k: unknown) => fingerprint(k, 'ownKeys')) };
}

/** Validates a status request: `{}` (a signed empty object; nothing to choose yet). */
export function parseStatusRequest(input: unknown): Record<string, never> {
  fields(input, []);
  return {};
}

/** A schedule's constant input for the sweep: `{"action": "sweep", dryRun?, maxAgeSeconds?, linkIdPrefix?, accounts?, categories?}`. */
export interface SweepInput {
  dryRun?: boolean;
  maxAgeSeconds?: number;
  linkIdPrefix?: string;
  accounts?: string[];
  categories?: Category[];
}

export function parseSweepInput(input: unknown): SweepInput {
  const body = fields(input, ['action', 'dryRun', 'maxAgeSeconds', 'linkIdPrefix', 'accounts', 'categories']);
  const { dryRun, maxAgeSeconds, linkIdPrefix } = body;
  if (body.action !== undefined && body.action !== 'sweep')
    throw new ValidationError('action', 'this schedule runs only the sweep');
  if (dryRun !== undefined && typeof dryRun !== 'boolean')
    throw new ValidationError('dryRun', 'dryRun must be true or false');
  if (maxAgeSeconds !== undefined && !(Number.isInteger(maxAgeSeconds) && (maxAgeSeconds as number) > 0)) {
    throw new ValidationError('maxAgeSeconds', 'maxAgeSeconds must be a positive integer');
  }
  if (linkIdPrefix !== undefined && (typeof linkIdPrefix !== 'string' || linkIdPrefix.length > 36)) {
    throw new ValidationError('linkIdPrefix', 'linkIdPrefix must be a string of at most 36 characters');
  }
  return withoutUndefined({
    dryRun: dryRun as boolean | undefined,
    maxAgeSeconds: maxAgeSeconds as number | undefined,
    linkIdPrefix: linkIdPrefix as string | undefined,
    accounts: list(body.accounts, 'accounts', account),
    categories: list(body.categories, 'categories', categoryOf),
  });
}

/**
 * Sweep options from the configuration, overridden by a schedule's constant input. The configured link-id
 * prefix is a floor: an input prefix may only narrow it (start with it), or the configured one applies and
 * `onIgnored` hears why.
 */
export function sweepOptions(
  config: Config['sweep'],
  input: SweepInput,
  onIgnored: (field: string, message: string) => void = () => undefined,
): SweepOptions {
  let linkIdPrefix = input.linkIdPrefix ?? config.linkIdPrefix;
  if (!linkIdPrefix.startsWith(config.linkIdPrefix)) {
    onIgnored(
      'linkIdPrefix',
      'linkIdPrefix must start with STALE_ORDER_LINK_ID_PREFIX; the configured prefix applies',
    );
    linkIdPrefix = config.linkIdPrefix;
  }
  return {
    maxAgeMs: input.maxAgeSeconds !== undefined ? input.maxAgeSeconds * 1000 : config.maxAgeMs,
    linkIdPrefix,
    dryRun: input.dryRun ?? config.dryRun,
    accounts: input.accounts,
    categories: input.categories,
  };
}

function fields(input: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('body', 'the body must be a JSON object');
  }
  const unknown = Object.keys(input).find((key) => !allowed.includes(key));
  if (unknown !== undefined)
    throw new ValidationError(unknown.slice(0, 64), `unknown field "${unknown.slice(0, 64)}"`);
  return input as Record<string, unknown>;
}

function categoryOf(value: unknown): Category {
  if (value === undefined) throw new ValidationError('category', 'category is required');
  return oneOf(value, 'category', CATEGORIES);
}

function symbolOf(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new ValidationError(field, `${field} must be a non-empty string`);
  if (!SYMBOL.test(value)) {
    const hint = SYMBOL.test(value.toUpperCase()) ? ' (symbols are uppercase, e.g. BTCUSDT)' : '';
    throw new ValidationError(field, `${field} is not a valid symbol${hint}`);
  }
  return value;
}

function coin(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !COIN.test(value))
    throw new ValidationError(field, `${field} must be an uppercase coin, e.g. USDT`);
  return value;
}

function id(value: unknown, field: string, pattern: RegExp, form: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value))
    throw new ValidationError(field, `${field} must be ${form}`);
  return value;
}

function account(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ACCOUNT.test(value))
    throw new ValidationError('account', 'account must be an account name');
  return value;
}

/** Who sent a kill-switch event (`deadMansSwitch`); a malformed one is dropped, never a reason to refuse. */
function origin(value: unknown): string | undefined {
  return typeof value === 'string' && ORIGIN.test(value) ? value : undefined;
}

function reason(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > REASON_MAX)
    throw new ValidationError('reason', `reason must be a string of at most ${REASON_MAX} characters`);
  return value;
}

/** The value a validator returns, or undefined where it would refuse it. */
function lenient<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

function list<T>(value: unknown, field: string, item: (value: unknown) => T | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) {
    throw new ValidationError(field, `${field} must be a non-empty array`);
  }
  return [...new Set(value.map((v) => item(v) as T))];
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ValidationError(field, `${field} must be one of ${allowed.join(', ')}`);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
