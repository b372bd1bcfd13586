// What callers may ask for, validated before anything reaches the exchange. Unknown fields are refused:
// a misspelt `symbol` silently ignored would widen a cancel-all to the whole category.

import { CATEGORIES, type CancelAllParams, type Category, SPOT_ORDER_FILTERS } from '../bybit/types.ts';
import type { CancelOrderCommand } from '../cancel/cancel-order.ts';
import type { SweepOptions } from '../cancel/sweep.ts';
import { ValidationError } from '../errors.ts';
import type { Config } from './config.ts';

export type CancelRequest = CancelOrderCommand;

/** Cancel-all of one scope, or (no category) everything: the kill switch. */
export type CancelAllRequest =
  | { kind: 'scope'; account?: string; params: CancelAllParams }
  | { kind: 'everything'; accounts?: string[]; categories?: Category[]; reason?: string };

const SYMBOL = /^[A-Z0-9][A-Z0-9_-]{0,63}$/;
const COIN = /^[A-Z0-9]{1,20}$/;
const ID = /^[\x21-\x7e]{1,64}$/;
const ACCOUNT = /^[\w.-]{1,64}$/;
const FUTURES_FILTERS = ['Order', 'StopOrder', 'tpslOrder'] as const;

/** Validates a single-order cancel. */
export function parseCancelRequest(input: unknown): CancelRequest {
  const body = fields(input, ['category', 'symbol', 'orderId', 'orderLinkId', 'orderFilter', 'account']);
  const category = categoryOf(body.category);
  const request: CancelRequest = {
    category,
    symbol: symbolOf(body.symbol, 'symbol', true) as string,
    orderId: id(body.orderId, 'orderId'),
    orderLinkId: id(body.orderLinkId, 'orderLinkId'),
    account: account(body.account),
  };
  if (!request.orderId && !request.orderLinkId)
    throw new ValidationError('orderId', 'orderId or orderLinkId is required');
  if (body.orderFilter !== undefined) {
    if (category !== 'spot')
      throw new ValidationError('orderFilter', 'orderFilter is only valid for spot orders');
    request.orderFilter = oneOf(body.orderFilter, 'orderFilter', [
      'Order',
      'tpslOrder',
      'StopOrder',
    ] as const);
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
  ]);
  if (body.category === undefined) return everything(body);
  for (const field of ['accounts', 'categories'] as const) {
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
  if (body.orderFilter !== undefined) {
    if (category === 'option')
      throw new ValidationError('orderFilter', 'orderFilter is not valid for option');
    params.orderFilter = oneOf(
      body.orderFilter,
      'orderFilter',
      category === 'spot' ? SPOT_ORDER_FILTERS : FUTURES_FILTERS,
    );
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
  return withoutUndefined({ kind: 'everything', accounts, categories, reason: reason(body.reason) });
}

/** Validates the `detail` of a kill-switch event: `{accounts?, categories?, reason?}`. */
export function parseKillSwitchDetail(input: unknown): CancelAllRequest & { kind: 'everything' } {
  const body = fields(input ?? {}, ['accounts', 'categories', 'reason']);
  return everything(body) as CancelAllRequest & { kind: 'everything' };
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

function id(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new ValidationError(field, `${field} must be a string of 1 to 64 printable characters`);
  }
  return value;
}

function account(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ACCOUNT.test(value))
    throw new ValidationError('account', 'account must be an account name');
  return value;
}

function reason(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 500)
    throw new ValidationError('reason', 'reason must be a string of at most 500 characters');
  return value;
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
