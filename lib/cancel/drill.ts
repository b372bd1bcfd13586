// The kill-switch drill: proves, with read-only calls, that every account's kill switch would work now and
// for the next days. Steps, per account:
//   1. read the key's own description (`GET /v5/user/query-api`): a refused key, a read-only key, a missing
//      cancel permission or an expiry within the warning period is a problem; an unbound IP, wallet
//      permissions or a classic account is a warning;
//   2. run the widest open-order listings the kill switch verifies with, counting what it would cancel;
//      a listing that fails is a problem (the kill switch could not verify that scope either);
//   3. list the strategy orders that can still trade (strategies.ts), counting them by status; a strategy
//      listing that fails is a problem (the kill switch could not stop what it cannot see);
//   4. with a master key configured (the enforced halt), check it: valid, the master account's, allowed to
//      change sub-account keys, IP-bound, and no Withdrawal permission; and list each sub UID's keys, as a
//      halt would, to see that the account's own key is among them (checkMasterKey, run where the master key
//      may be read: the deployed drill asks the reset function);
//   5. report every account; any problem fails the drill, so the alarms and the failure queue hear of it.
// Every request is a GET, at background priority, one at a time and spaced out, so that a kill switch
// running at the same moment keeps the IP budget.

import type { BybitClient, CallOptions } from '../bybit/client.ts';
import { RetCode } from '../bybit/codes.ts';
import type { ApiKeyInfo, Category, OpenOrdersParams } from '../bybit/types.ts';
import { OPEN_ORDERS_PAGE_LIMIT } from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { BybitApiError, DeadlineExceededError, DrillFailedError } from '../errors.ts';
import type { Exchange } from './exchange.ts';
import { keyFingerprint, listSubApiKeys, maskKey } from './halt.ts';
import { type Coverage, scopeLabel, widestListings } from './scopes.ts';
import { liveStrategies, statusName } from './strategies.ts';

const DAY_MS = 86_400_000;

export const drillDefaults = {
  expiryDays: 14,
  /**
   * Time between the starts of two drill requests: at most 20 requests/s, a sixth of Bybit's IP budget
   * (600 per 5 s), so that a kill switch in another container finds the budget nearly whole.
   */
  minIntervalMs: 50,
  /** A listing longer than this (50,000 orders) is not counted to the end. */
  maxPages: 1000,
};

/** The permission a category's cancels need (docs/v5/user/apikey-info.mdx, permissions). */
const CANCEL_PERMISSION: Record<Category, { group: string; permission: string }> = {
  linear: { group: 'ContractTrade', permission: 'Order' },
  inverse: { group: 'ContractTrade', permission: 'Order' },
  spot: { group: 'Spot', permission: 'SpotTrade' },
  // "Permission of USDC Contract. It supports trade option and USDC perpetual."
  option: { group: 'Options', permission: 'OptionsTrade' },
  // `Derivatives: [DerivativesTrade]` is documented only as "Permission of Unified account", never as
  // standing in for any of these, so it is not counted as a cancel permission.
};

/** The retCodes that mean the exchange refuses this key from here: the kill switch would fail at once. */
const REFUSED = new Set<number>([RetCode.invalidKey, RetCode.badSignature, RetCode.ipNotAllowed]);

export type ProblemCode =
  | 'unknownAccount'
  | 'keyRefused'
  | 'keyExpired'
  | 'keyInfoFailed'
  | 'readOnly'
  | 'missingPermission'
  | 'keyExpiresSoon'
  | 'keyExpiryUnknown'
  | 'listingFailed'
  | 'strategyListingFailed'
  | 'subUidMalformed'
  | 'noMasterKey'
  | 'subKeysUnlisted'
  | 'subUidMismatch'
  | 'subKeyUnreadable';

export type WarningCode = 'noIpBound' | 'walletPermission' | 'notUnified';

export type MasterProblemCode =
  | 'masterKeyFailed'
  | 'notMaster'
  | 'masterReadOnly'
  | 'masterMissingPermission'
  | 'masterWithdrawal'
  | 'masterNotIpBound'
  | 'masterExpiresSoon';

export type MasterWarningCode = 'masterBroaderThanNeeded' | 'masterTradePermission' | 'masterUnused';

export interface Finding<C extends string = string> {
  code: C;
  message: string;
}

export interface ListingCoverage {
  /** The listing, e.g. `linear settleCoin=USDT`, `spot`. */
  listing: string;
  /** True when it was listed to the end. */
  verified: boolean;
  open: number;
  error?: string;
}

export interface AccountDrill {
  account: string;
  ok: boolean;
  problems: Finding<ProblemCode>[];
  warnings: Finding<WarningCode>[];
  /** Whole days until the key expires (negative: expired); null when it does not expire. */
  keyExpiresInDays: number | null;
  /** What a kill switch would cancel right now, per category (verified listings only). */
  openOrders: Partial<Record<Category, number>>;
  coverage: ListingCoverage[];
  /**
   * Strategy orders a kill switch would stop right now, by status (`running`, `paused`, `untriggered`, and
   * any status the docs do not name); null when the strategy list could not be read.
   */
  strategies: Record<string, number> | null;
  /** The enforced halt, for a sub-account: its sub UID's keys, and how many a halt would make read-only. */
  halt?: { subUid: string; keys: number; wouldFlip: number };
}

/** The master key the enforced halt uses (HALT_MASTER_SECRET_ID). */
export interface MasterDrill {
  ok: boolean;
  problems: Finding<MasterProblemCode>[];
  warnings: Finding<MasterWarningCode>[];
  /** The Wallet permissions it holds. */
  walletPermissions: string[];
}

export interface DrillReport {
  operation: 'drill';
  ok: boolean;
  accounts: AccountDrill[];
  /** Present when a master key is configured, or when an account asks for the enforced halt. */
  master?: MasterDrill;
  durationMs: number;
}

/** The linear settle coins to list, per account: configured, or discovered from the exchange. */
export type SettleCoinSource = (client: BybitClient, call: CallOptions) => Promise<readonly string[]>;

/**
 * The kill switch's own settle coins: the configured ones and those the exchange lists (instruments-info,
 * cached per container with the kill switch's). A failed discovery fails the linear listing: a drill that
 * could not see every settle coin cannot say the kill switch would cover them.
 */
export function discoveredSettleCoins(exchange: Exchange, coverage: Coverage): SettleCoinSource {
  return async (client, { deadline = 0, priority = 'background' }) => {
    const listed = await exchange.discovery.listed(client, deadline, priority);
    return [...new Set([...coverage.linearSettleCoins, ...listed.linearSettleCoins])];
  };
}

export interface DrillOptions {
  categories: readonly Category[];
  settleCoins: SettleCoinSource;
  /** A key expiring within this many days is a problem. */
  expiryDays?: number;
  minIntervalMs?: number;
  maxPages?: number;
  /** The check of the enforced halt's master key (`checkMasterKey`, here or in the function that may read it). */
  master?: MasterCheck;
}

export interface DrillRequest {
  accounts?: string[];
}

/** Runs the drill over every account (or the ones named); throws DrillFailedError, with the report, on a problem. */
export async function drill(
  exchange: Exchange,
  options: DrillOptions,
  request: DrillRequest,
  deadline: number,
  clock: Clock = systemClock,
): Promise<DrillReport> {
  const started = clock.now();
  const settings = { ...drillDefaults, ...stripUndefined(options) };
  const gate = new Gate(clock, settings.minIntervalMs);
  const known = await exchange.accountNames();
  const accounts = request.accounts ?? known;
  const call: CallOptions = { deadline, priority: 'background' };

  const reports = await Promise.all(
    accounts.map(async (account): Promise<AccountDrill> => {
      if (!known.includes(account)) {
        return failed(account, {
          code: 'unknownAccount',
          message: `no account "${account}" in the exchange secret`,
        });
      }
      try {
        return await exchange.withAccount(account, async (client) => {
          // Thrown, not caught here: a refused key lets the exchange re-read a rotated secret and try again.
          const info = await gate.run(() => client.apiKeyInfo(call), deadline);
          const judged = judgeKey(info, settings.categories, clock.now(), settings.expiryDays);
          const coverage = await listAll(client, settings, call, gate, deadline);
          const strategies = await countStrategies(client, call, gate, deadline);
          return summarise(account, judged, coverage, strategies);
        });
      } catch (error) {
        return failed(account, keyProblem(error));
      }
    }),
  );

  const master = await drillHalt(exchange, settings, reports, call);
  const report: DrillReport = {
    operation: 'drill',
    ok: reports.every((r) => r.ok) && (master?.ok ?? true),
    accounts: reports,
    ...(master ? { master } : {}),
    durationMs: clock.now() - started,
  };
  if (!report.ok) {
    const reasons = [
      ...(master?.problems ?? []).map((p) => `master key: ${p.message}`),
      ...reports.flatMap((r) => r.problems.map((p) => `${r.account}: ${p.message}`)),
    ];
    throw new DrillFailedError({ ...report }, reasons);
  }
  return report;
}

/**
 * The Wallet permissions with which a master key may change a sub-account key, narrowest first
 * (docs/v5/user/modify-sub-apikey.mdx: "master API Key: "Account Transfer", "Sub Member Transfer",
 * "Withdrawal"", named as query-api lists them, docs/v5/user/apikey-info.mdx). Account Transfer moves funds
 * only between the master's own wallets; Sub Member Transfer between master and sub-accounts; Withdrawal off
 * the exchange.
 */
export const MASTER_UPDATE_PERMISSIONS = ['AccountTransfer', 'SubMemberTransfer', 'Withdraw'] as const;
const TRADE_GROUPS = ['ContractTrade', 'Spot', 'Options', 'Derivatives'];

/** A sub-account a halt would act on: its sub UID, and the account's own key by its fingerprint (halt.ts). */
export interface SubAccountRef {
  account: string;
  subUid: string;
  /** SHA-256 of the account's own API key: never the key itself. */
  key: string;
}

/** What the master-key check is given: no key, no secret, only fingerprints. */
export interface MasterCheckRequest {
  subAccounts: SubAccountRef[];
  /** Fingerprints of every key the kill switch uses (the exchange secret's): a halt never flips them. */
  ownKeys: string[];
}

/** What the master-key check found: the key's problems, and each sub-account's listing. */
export interface MasterCheckResult {
  /** False when no master key is configured: nothing else was checked. */
  configured: boolean;
  master?: MasterDrill;
  accounts: { account: string; halt?: AccountDrill['halt']; problems: Finding<ProblemCode>[] }[];
}

/**
 * Checks the master key against the sub-accounts, read-only. The drill runs it in its own process
 * (`checkMasterKey`), or asks the function that may read the master key to (the reset function: only the
 * functions that halt or reset read it).
 */
export type MasterCheck = (request: MasterCheckRequest, call: CallOptions) => Promise<MasterCheckResult>;

/**
 * The master-key check where the master key may be read: valid, the master's, allowed to change sub keys,
 * IP-bound, no Withdrawal; then each sub UID's keys listed as a halt would, to see the account's own key among
 * them and count what a halt would make read-only. GETs only, one at a time and spaced out.
 */
export async function checkMasterKey(
  master: () => Promise<BybitClient | undefined>,
  request: MasterCheckRequest,
  options: { expiryDays?: number; minIntervalMs?: number; deadline: number; clock?: Clock },
): Promise<MasterCheckResult> {
  const clock = options.clock ?? systemClock;
  const expiryDays = options.expiryDays ?? drillDefaults.expiryDays;
  const gate = new Gate(clock, options.minIntervalMs ?? drillDefaults.minIntervalMs);
  const { deadline } = options;
  const call: CallOptions = { deadline, priority: 'background' };
  const drill: MasterDrill = { ok: true, problems: [], warnings: [], walletPermissions: [] };
  let client: BybitClient | undefined;
  try {
    client = await master();
  } catch (error) {
    drill.problems.push({
      code: 'masterKeyFailed',
      message: `the master key cannot be read: ${messageOf(error)}`,
    });
    drill.ok = false;
    return { configured: true, master: drill, accounts: [] };
  }
  if (!client) return { configured: false, accounts: [] };

  try {
    const info = await gate.run(() => client.apiKeyInfo(call), deadline);
    judgeMasterKey(info, drill, clock.now(), expiryDays);
  } catch (error) {
    drill.problems.push({ ...keyProblem(error), code: 'masterKeyFailed' });
  }
  if (request.subAccounts.length === 0) {
    drill.warnings.push({
      code: 'masterUnused',
      message: 'a master key is configured, but no account of the exchange secret names a subUid',
    });
  }
  const ownKeys = new Set(request.ownKeys);
  const accounts: MasterCheckResult['accounts'] = [];
  for (const { account, subUid, key } of request.subAccounts) {
    const found: MasterCheckResult['accounts'][number] = { account, problems: [] };
    accounts.push(found);
    try {
      const keys = await listSubApiKeys(client, subUid, call, (send) => gate.run(send, deadline));
      const others = keys.filter((k) => !ownKeys.has(keyFingerprint(k.apiKey)));
      found.halt = { subUid, keys: keys.length, wouldFlip: others.filter((k) => !k.readOnly).length };
      if (!keys.some((k) => keyFingerprint(k.apiKey) === key)) {
        found.problems.push({
          code: 'subUidMismatch',
          message: `the account's key is not among the keys of sub UID ${subUid}: subUid names another sub-account, so a halt would make no key read-only`,
        });
      }
      for (const k of others.filter((k) => k.unreadable && !k.readOnly)) {
        found.problems.push({
          code: 'subKeyUnreadable',
          message: `key ${maskKey(k.apiKey)} is listed without a readable ${k.unreadable}: a halt would leave it read-write`,
        });
      }
    } catch (error) {
      found.problems.push({
        code: 'subKeysUnlisted',
        message: `the master key cannot list the keys of sub UID ${subUid}, so a halt could not make them read-only: ${messageOf(error)}`,
      });
    }
  }
  drill.ok = drill.problems.length === 0;
  return { configured: true, master: drill, accounts };
}

/**
 * Step 4: the master key and each sub-account's key listing. Problems with a sub-account's listing are the
 * account's (its halt would fail); problems with the key are the master's. Undefined when not given a master
 * check, or when no master key is configured and no account asks for the enforced halt.
 */
async function drillHalt(
  exchange: Exchange,
  settings: { master?: MasterCheck },
  reports: AccountDrill[],
  call: CallOptions,
): Promise<MasterDrill | undefined> {
  // Not asked to look (no master check given): the halt is not part of this drill.
  if (!settings.master) return undefined;
  const subs = await exchange.subAccounts();
  const inReport = (account: string) => reports.find((r) => r.account === account);
  const problem = (account: string, finding: Finding<ProblemCode>) => {
    const report = inReport(account);
    if (!report) return;
    report.problems.push(finding);
    report.ok = false;
  };
  for (const [account, subUid] of subs.subUids) {
    if (subUid instanceof Error) problem(account, { code: 'subUidMalformed', message: subUid.message });
  }
  const wanted = [...subs.subUids].filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && inReport(entry[0]) !== undefined,
  );
  const request: MasterCheckRequest = {
    subAccounts: wanted.map(([account, subUid]) => ({
      account,
      subUid,
      key: keyFingerprint(subs.keyOf.get(account) ?? ''),
    })),
    ownKeys: [...subs.ownKeys].map(keyFingerprint),
  };
  let result: MasterCheckResult;
  try {
    result = await settings.master(request, call);
  } catch (error) {
    return {
      ok: false,
      problems: [
        { code: 'masterKeyFailed', message: `the master key could not be checked: ${messageOf(error)}` },
      ],
      warnings: [],
      walletPermissions: [],
    };
  }
  if (!result.configured) {
    for (const [account] of wanted) {
      problem(account, {
        code: 'noMasterKey',
        message:
          'the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID): a kill switch could not make its keys read-only',
      });
    }
    return undefined;
  }
  for (const found of result.accounts) {
    const report = inReport(found.account);
    if (!report) continue;
    if (found.halt) report.halt = found.halt;
    for (const p of found.problems) problem(found.account, p);
  }
  return result.master;
}

/** What the master key's description says about the enforced halt. */
export function judgeMasterKey(info: ApiKeyInfo, into: MasterDrill, now: number, expiryDays: number): void {
  const wallet = info.permissions.Wallet ?? [];
  into.walletPermissions = [...wallet];
  if (info.isMaster !== true || (info.parentUid !== undefined && info.parentUid !== '0')) {
    into.problems.push({
      code: 'notMaster',
      message: `the key does not belong to the master account (isMaster ${info.isMaster ?? 'not stated'}, parentUid ${info.parentUid ?? 'not stated'}): only a master key can change its sub-accounts' keys`,
    });
  }
  if (info.readOnly === 1) {
    into.problems.push({
      code: 'masterReadOnly',
      message: 'the key is read-only: it cannot make sub-account keys read-only (update-sub-api)',
    });
  }
  const granted = MASTER_UPDATE_PERMISSIONS.filter((p) => wallet.includes(p));
  if (granted.length === 0) {
    into.problems.push({
      code: 'masterMissingPermission',
      message:
        'the key lacks a Wallet permission update-sub-api requires: give it Account Transfer (the narrowest that works)',
    });
  }
  if (wallet.includes('Withdraw')) {
    into.problems.push({
      code: 'masterWithdrawal',
      message:
        'the key holds the Withdrawal permission, which the halt never needs and a leaked key would use to move funds off the exchange: replace it with Wallet → Account Transfer only (the narrowest permission update-sub-api accepts)',
    });
  } else if (wallet.includes('SubMemberTransfer') && !wallet.includes('AccountTransfer')) {
    into.warnings.push({
      code: 'masterBroaderThanNeeded',
      message:
        'the key holds Sub Member Transfer; Account Transfer is enough for the halt and narrower (funds stay in the master account)',
    });
  }
  const trading = TRADE_GROUPS.filter((group) => (info.permissions[group] ?? []).length > 0);
  if (trading.length > 0) {
    into.warnings.push({
      code: 'masterTradePermission',
      message: `the key holds trading permissions (${trading.join(', ')}), which the halt never needs`,
    });
  }
  if (info.ips.length === 0 || info.ips.includes('*')) {
    into.problems.push({
      code: 'masterNotIpBound',
      message:
        "the key is bound to no IP address: bind it to the functions' egress IP in Bybit's API management page (since 2026-02-10 a master key's IPs cannot be set through the API)",
    });
  }
  const expiresAt = expiryOf(info, now);
  if (expiresAt !== undefined && expiresAt - now <= expiryDays * DAY_MS) {
    into.problems.push({
      code: 'masterExpiresSoon',
      message: `the key expires ${expiresAt <= now ? 'or has expired' : `on ${new Date(expiresAt).toISOString().slice(0, 10)}`}, within the ${expiryDays}-day warning period`,
    });
  }
}

export interface KeyJudgement {
  problems: Finding<ProblemCode>[];
  warnings: Finding<WarningCode>[];
  keyExpiresInDays: number | null;
}

/** What a key's description says about the kill switch: what would fail (problems) and what is unsafe. */
export function judgeKey(
  info: ApiKeyInfo,
  categories: readonly Category[],
  now: number,
  expiryDays: number = drillDefaults.expiryDays,
): KeyJudgement {
  const problems: Finding<ProblemCode>[] = [];
  const warnings: Finding<WarningCode>[] = [];
  if (info.readOnly === 1) {
    problems.push({
      code: 'readOnly',
      message: 'the key is read-only: every cancel would be refused (10005)',
    });
  }
  const missing = new Map<string, Category[]>();
  for (const category of categories) {
    const { group, permission } = CANCEL_PERMISSION[category];
    if (info.permissions[group]?.includes(permission)) continue;
    const name = `${group} ${permission}`;
    missing.set(name, [...(missing.get(name) ?? []), category]);
  }
  for (const [name, needing] of missing) {
    problems.push({
      code: 'missingPermission',
      message: `the key lacks the ${name} permission: cancelling ${needing.join(' and ')} orders would be refused (10005)`,
    });
  }

  const unbound = info.ips.length === 0 || info.ips.includes('*');
  const expiresAt = expiryOf(info, now);
  const keyExpiresInDays = expiresAt === undefined ? null : Math.round((expiresAt - now) / DAY_MS);
  if (expiresAt !== undefined && expiresAt <= now) {
    problems.push({ code: 'keyExpired', message: 'the key has expired (33004)' });
  } else if (expiresAt !== undefined && expiresAt - now <= expiryDays * DAY_MS) {
    problems.push({
      code: 'keyExpiresSoon',
      message: `the key expires in ${keyExpiresInDays} day(s) (${new Date(expiresAt).toISOString().slice(0, 10)}), within the ${expiryDays}-day warning period`,
    });
  } else if (expiresAt === undefined && unbound) {
    // Bybit expires keys with no IP bound after 90 days: an answer without a date cannot be trusted.
    problems.push({
      code: 'keyExpiryUnknown',
      message: 'the key is bound to no IP, yet the exchange gave no expiry date (expiredAt, deadlineDay)',
    });
  }

  if (unbound) {
    warnings.push({
      code: 'noIpBound',
      message:
        'the key is bound to no IP address: it works from anywhere, and Bybit expires it after 90 days',
    });
  }
  const wallet = info.permissions.Wallet ?? [];
  if (wallet.length > 0) {
    warnings.push({
      code: 'walletPermission',
      message: `the key holds Wallet permissions (${wallet.join(', ')}), which cancelling never needs`,
    });
  }
  if (info.uta === 0) {
    warnings.push({
      code: 'notUnified',
      message: 'the account is not unified (uta 0): its spot listings follow the classic rules',
    });
  }
  return { problems, warnings, keyExpiresInDays };
}

/** When the key expires: `expiredAt` when it is a real date, else `deadlineDay` days from now, else never. */
function expiryOf(info: ApiKeyInfo, now: number): number | undefined {
  const at = info.expiredAt === undefined ? Number.NaN : Date.parse(info.expiredAt);
  if (at > 0) return at;
  if (info.deadlineDay !== undefined && info.deadlineDay >= 0) return now + info.deadlineDay * DAY_MS;
  return undefined;
}

async function listAll(
  client: BybitClient,
  settings: Required<Omit<DrillOptions, 'settleCoins' | 'master'>> & Pick<DrillOptions, 'settleCoins'>,
  call: CallOptions,
  gate: Gate,
  deadline: number,
): Promise<ListingCoverage[]> {
  let coins: readonly string[] = [];
  try {
    if (settings.categories.includes('linear'))
      coins = await gate.run(() => settings.settleCoins(client, call), deadline);
  } catch (error) {
    return [{ listing: 'linear', verified: false, open: 0, error: `settle coins: ${messageOf(error)}` }];
  }
  const coverage: ListingCoverage[] = [];
  // One listing at a time: the drill never holds more than one request of the account's budget.
  for (const listing of widestListings(settings.categories, coins)) {
    coverage.push(await countListing(client, listing, settings.maxPages, call, gate, deadline));
  }
  return coverage;
}

async function countListing(
  client: BybitClient,
  listing: OpenOrdersParams,
  maxPages: number,
  call: CallOptions,
  gate: Gate,
  deadline: number,
): Promise<ListingCoverage> {
  const label = scopeLabel(listing);
  let open = 0;
  let cursor: string | undefined;
  try {
    for (let page = 0; page < maxPages; page++) {
      const params = { ...listing, limit: OPEN_ORDERS_PAGE_LIMIT, ...(cursor ? { cursor } : {}) };
      const answer = await gate.run(() => client.openOrders(params, call), deadline);
      open += answer.list.length;
      if (!answer.nextPageCursor) return { listing: label, verified: true, open };
      if (answer.nextPageCursor === cursor) throw new Error('the exchange returned the same cursor twice');
      cursor = answer.nextPageCursor;
    }
    return { listing: label, verified: false, open, error: `more than ${maxPages} pages: counted ${open}` };
  } catch (error) {
    return { listing: label, verified: false, open, error: messageOf(error) };
  }
}

type StrategyCount = { counts: Record<string, number> } | { error: string };

/** The strategies that can still trade, by status, through the drill's gate. */
async function countStrategies(
  client: BybitClient,
  call: CallOptions,
  gate: Gate,
  deadline: number,
): Promise<StrategyCount> {
  try {
    const live = await liveStrategies(client, call, (work) => gate.run(work, deadline));
    const counts: Record<string, number> = { running: 0, paused: 0, untriggered: 0 };
    for (const s of live) counts[statusName(s.status)] = (counts[statusName(s.status)] ?? 0) + 1;
    return { counts };
  } catch (error) {
    return { error: messageOf(error) };
  }
}

function summarise(
  account: string,
  judged: KeyJudgement,
  coverage: ListingCoverage[],
  strategies: StrategyCount,
): AccountDrill {
  const problems = [...judged.problems];
  if ('error' in strategies) {
    problems.push({
      code: 'strategyListingFailed',
      message: `the strategy list failed, so a kill switch could not stop the strategies it cannot see: ${strategies.error}`,
    });
  }
  const openOrders: Partial<Record<Category, number>> = {};
  for (const entry of coverage) {
    const category = entry.listing.split(' ')[0] as Category;
    if (entry.verified) openOrders[category] = (openOrders[category] ?? 0) + entry.open;
    else {
      problems.push({
        code: 'listingFailed',
        message: `the ${entry.listing} listing failed, so a kill switch could not verify it: ${entry.error}`,
      });
    }
  }
  return {
    account,
    ok: problems.length === 0,
    problems,
    warnings: judged.warnings,
    keyExpiresInDays: judged.keyExpiresInDays,
    openOrders,
    coverage,
    strategies: 'counts' in strategies ? strategies.counts : null,
  };
}

function failed(account: string, problem: Finding<ProblemCode>): AccountDrill {
  return {
    account,
    ok: false,
    problems: [problem],
    warnings: [],
    keyExpiresInDays: null,
    openOrders: {},
    coverage: [],
    strategies: null,
  };
}

/** The problem a failed key check stands for. */
function keyProblem(error: unknown): Finding<ProblemCode> {
  if (error instanceof BybitApiError && REFUSED.has(error.retCode)) {
    const why =
      error.retCode === RetCode.ipNotAllowed ? 'this IP is not bound to it' : 'invalid key or secret';
    return {
      code: 'keyRefused',
      message: `the exchange refuses the key (${why}): retCode ${error.retCode} ${error.retMsg}`,
    };
  }
  if (error instanceof BybitApiError && error.retCode === RetCode.keyExpired) {
    return { code: 'keyExpired', message: `the key has expired: retCode ${error.retCode} ${error.retMsg}` };
  }
  return { code: 'keyInfoFailed', message: `the key could not be checked: ${messageOf(error)}` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One drill request at a time, starts at least `intervalMs` apart, none starting past the deadline. */
class Gate {
  private tail: Promise<unknown> = Promise.resolve();
  private lastStart = Number.NEGATIVE_INFINITY;

  private readonly clock: Clock;
  private readonly intervalMs: number;

  constructor(clock: Clock, intervalMs: number) {
    this.clock = clock;
    this.intervalMs = intervalMs;
  }

  run<T>(work: () => Promise<T>, deadline: number): Promise<T> {
    const turn = this.tail.then(async () => {
      const wait = Math.max(0, this.lastStart + this.intervalMs - this.clock.now());
      if (this.clock.now() + wait >= deadline) throw new DeadlineExceededError('drill (paced)');
      if (wait > 0) await this.clock.sleep(wait);
      this.lastStart = this.clock.now();
      return work();
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
