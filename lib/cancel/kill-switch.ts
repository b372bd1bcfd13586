// The kill switch: every account, everything the exchange lists, all at once. Steps:
//   1. resolve the accounts (all in the secret, or the ones the request names); unknown names and
//      malformed entries of the secret fail alone and are reported by name, the others proceed;
//   2. at once: per account the first wave of cancel-alls over the configured scopes (SCOPE_*), beside them
//      the strategy phase (list the strategies that can still trade, stop each, list again: strategies.ts),
//      and an inverse listing with no filter (it shows every inverse coin, configured or not); for all
//      accounts together, the discovery of the linear settle coins the exchange lists. Nothing waits for
//      discovery;
//   3. per widest listing (inverse, spot and option unfiltered; linear per settle coin, configured and
//      discovered), once the cancel-alls it covers are back and the stops have been listed: list it, cancel
//      whatever it shows in the fewest requests, and list again, until it shows nothing (after the strategy
//      phase is over: a running strategy re-places its child), only orders Bybit will not cancel now
//      (named at once), or the deadline nears; after cancels of its own were acknowledged, "nothing" takes
//      two empty listings a short pause apart (Bybit cancels asynchronously);
//   4. report per account and listing. The run succeeds only when every widest listing showed nothing
//      after the last cancel, the strategy list showed none able to trade after the last stop, and the
//      exchange confirmed the coverage; anything else throws.
// With a halt store, every account is also halted (halt.ts): started right after the account's first-wave
// cancel-alls are sent, and its verification listings wait until its sub-account keys are read-only.

import type { BybitClient, CallOptions } from '../bybit/client.ts';
import {
  BATCH_LIMIT,
  type CancelAllParams,
  type Category,
  type OpenOrder,
  type OpenOrdersParams,
  type OrderFilter,
  SPOT_ORDER_FILTERS,
} from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { DeadlineExceededError, IncompleteCancelError } from '../errors.ts';
import { describeError, type Fields } from '../log.ts';
import { cancelAllOf, cancelledCount, isFinal, openOrdersOf, ROUND_PAUSE_MS } from './clear-scope.ts';
import { type CoverageReport, discoverCoverage, preMarketPhases, whyUncancellable } from './coverage.ts';
import { DEAD_MANS_SWITCH_ORIGIN } from './dead-mans-switch.ts';
import { type Exchange, isRotationRefusal } from './exchange.ts';
import { Halt, type HaltReport, type HaltSetup } from './halt.ts';
import { placerOf } from './placers.ts';
import {
  type Coverage,
  everythingScopes,
  type Scope,
  scopeLabel,
  spotKindOf,
  widestListings,
} from './scopes.ts';
import {
  botWarnings,
  type StrategyPhase,
  type StrategyReport,
  StrategyWatch,
  strategyReasons,
} from './strategies.ts';

export interface KillSwitchRequest {
  accounts?: string[];
  categories?: Category[];
  reason?: string;
  /** Who fired it, when it says (`deadMansSwitch`). */
  origin?: string;
  /** What the caller asked for that was ignored (a lenient event covers more instead); echoed in the report. */
  ignored?: string[];
  /** `false`: a routine clean-up, no halt (the dead man's switch halts regardless). */
  halt?: boolean;
  /** The kill-switch event's id, recorded with the halt. */
  eventId?: string;
}

export interface ScopeReport {
  account: string;
  /** A widest listing (`linear settleCoin=USDT`, `inverse`, `spot`, `option`), or `*` for the account. */
  scope: string;
  cancelled: number;
  remaining: number;
  /** False when the last listing failed: then `remaining` may be out of date. */
  verified: boolean;
  /** Up to 20 of the orders still open, to act on by hand; `createType` says what placed each (not on spot). */
  remainingOrders?: { symbol: string; orderId: string; orderLinkId: string; createType?: string }[];
  error?: Fields;
}

/** An order Bybit will not cancel right now, and why. */
export interface UncancellableOrder {
  account: string;
  category: Category;
  symbol: string;
  orderId: string;
  orderLinkId: string;
  orderStatus: string;
  createType?: string;
  why: string;
}

export interface KillSwitchReport {
  operation: 'killSwitch';
  ok: boolean;
  reason?: string;
  origin?: string;
  ignored?: string[];
  accounts: string[];
  cancelled: number;
  remaining: number;
  failedScopes: string[];
  durationMs: number;
  /** What was verified: the categories and every linear settle coin, and whether the exchange confirmed them. */
  coverage: CoverageReport;
  uncancellable: UncancellableOrder[];
  scopes: ScopeReport[];
  /** Per account: the strategies found, stopped and still able to trade. */
  strategies: StrategyReport[];
  /** What a person must still do (bots whose orders showed up may place them again). */
  warnings: string[];
  /** The halt set on the accounts (absent when no halt store is configured and none was declined). */
  halt?: HaltReport;
}

/**
 * The accounts a kill switch covers: the ones it names, or every account. A dead man's switch whose narrowing
 * names an account the secret does not hold covers every account instead: it fires when nobody is watching, and
 * a misspelt name must not leave the bot's orders on the book (an unknown name in any other kill switch fails
 * alone and is reported).
 */
function accountsToCover(
  request: KillSwitchRequest,
  known: string[],
): { accounts: string[]; ignored: string[] } {
  const ignored = [...(request.ignored ?? [])];
  if (!request.accounts) return { accounts: known, ignored };
  const unknown = request.accounts.filter((account) => !known.includes(account));
  if (request.origin !== DEAD_MANS_SWITCH_ORIGIN || unknown.length === 0)
    return { accounts: request.accounts, ignored };
  const names = unknown.map((account) => `"${account}"`).join(', ');
  ignored.push(`accounts ${names} not in the secret: the dead man's switch covers every account`);
  return { accounts: known, ignored };
}

/**
 * Cancels everything the exchange lists and verifies it, and halts the accounts when given a halt store;
 * throws IncompleteCancelError (with the report) unless all clear and every halt is set.
 */
export async function killSwitch(
  exchange: Exchange,
  coverage: Coverage,
  request: KillSwitchRequest,
  deadline: number,
  clock: Clock = systemClock,
  haltSetup?: HaltSetup,
): Promise<KillSwitchReport> {
  const started = clock.now();
  const known = await exchange.accountNames();
  const { accounts, ignored } = accountsToCover(request, known);
  const plan: Coverage = {
    ...coverage,
    categories: coverage.categories.filter((c) => !request.categories || request.categories.includes(c)),
  };
  // Started with the first wave, never in front of it.
  const discovery = discoverCoverage(exchange, plan, deadline, 'verify');
  const halt = startHalt(exchange, request, deadline, clock, haltSetup);

  const outcomes = await Promise.all(
    accounts.map((account): AccountOutcome | Promise<AccountOutcome> =>
      known.includes(account)
        ? clearAccount(exchange, account, plan, discovery, deadline, clock, () => halt?.keysSettled(account))
        : {
            scopes: [
              accountFailure(account, {
                errorType: 'UnknownAccount',
                errorMessage: `no account "${account}" in the secret`,
              }),
            ],
            uncancellable: [],
          },
    ),
  );
  const covered = await discovery;
  // Accounts whose cancels never started (a malformed key) are halted too.
  const haltReport: HaltReport | undefined = halt
    ? await halt.report(accounts.filter((a) => known.includes(a)))
    : declined(request)
      ? { set: false, why: 'the kill switch said "halt": false', accounts: [] }
      : undefined;

  const scopes = outcomes.flatMap((o) => o.scopes);
  const uncancellable = outcomes.flatMap((o) => o.uncancellable);
  const strategies = outcomes.flatMap((o) => (o.strategies ? [o.strategies] : []));
  const failed = scopes.filter((r) => r.error || r.remaining > 0 || !r.verified);
  const failedScopes = failed.map((r) => `${r.account}: ${r.scope}`);
  const unstopped = strategies.filter((r) => !r.verified || r.remaining.length > 0);
  failedScopes.push(...unstopped.map((r) => `${r.account}: strategies`));
  if (!covered.confirmed) failedScopes.push('coverage: linear settle coins not confirmed by the exchange');
  const haltFailures = (haltReport?.accounts ?? []).filter((a) => a.failed.length > 0);
  const cancelsClear = failedScopes.length === 0;
  failedScopes.push(...haltFailures.map((a) => `${a.account}: halt`));
  const result: KillSwitchReport = {
    operation: 'killSwitch',
    ok: failedScopes.length === 0,
    reason: request.reason,
    ...(request.origin ? { origin: request.origin } : {}),
    ...(ignored.length ? { ignored } : {}),
    accounts,
    cancelled: sum(scopes.map((r) => r.cancelled)),
    // A floor: a scope whose last listing failed is named in failedScopes, not counted here.
    remaining: sum(scopes.filter((r) => r.verified).map((r) => r.remaining)),
    failedScopes,
    durationMs: clock.now() - started,
    coverage: covered,
    uncancellable,
    scopes,
    strategies,
    warnings: strategies.flatMap(botWarnings),
    ...(haltReport ? { halt: haltReport } : {}),
  };
  if (!result.ok) {
    const reasons = [
      ...failed.filter((r) => r.error).map((r) => `${r.account}: ${r.scope}: ${r.error?.errorMessage}`),
      ...unstopped.flatMap(strategyReasons),
      ...failed.flatMap(placedRemaining),
      ...uncancellable.map((u) => `${u.account}: ${u.category} ${u.symbol} ${u.orderId}: ${u.why}`),
      ...(covered.confirmed ? [] : [`coverage: ${covered.error?.errorMessage ?? 'not confirmed'}`]),
      ...haltFailures.flatMap((a) =>
        a.failed.map((f) => `${a.account}: halt: ${f.key ? `key ${f.key}: ` : ''}${f.error}`),
      ),
    ];
    const summary = cancelsClear
      ? 'every order was cancelled and verified, but the halt is incomplete'
      : undefined;
    throw new IncompleteCancelError({ ...result }, reasons, summary);
  }
  return result;
}

interface AccountOutcome {
  scopes: ScopeReport[];
  uncancellable: UncancellableOrder[];
  strategies?: StrategyReport;
}

interface ListingOutcome {
  listing: OpenOrdersParams;
  remaining: OpenOrder[];
  verified: boolean;
  uncancellable: { order: OpenOrder; why: string }[];
  error?: Error;
}

/** Acknowledged cancels by listing label; kept across a key rotation so that no count is lost. */
type Acknowledged = Map<string, Set<string>>;

/**
 * Starts once, right after the account's first-wave requests are sent, and settles (never rejects) when
 * the verification listings may begin: the account's halt, when there is one.
 */
type AfterFirstWave = () => Promise<unknown> | undefined;

async function clearAccount(
  exchange: Exchange,
  account: string,
  plan: Coverage,
  discovery: Promise<CoverageReport>,
  deadline: number,
  clock: Clock,
  afterFirstWave: AfterFirstWave,
): Promise<AccountOutcome> {
  const acknowledged: Acknowledged = new Map();
  const strategies = new StrategyWatch(plan.categories);
  try {
    let outcomes = await exchange.withAccount(account, (client) =>
      clearWith(client, plan, discovery, deadline, clock, acknowledged, strategies, afterFirstWave),
    );
    // A refused key fails its scopes, not the account's report; a rotated key gets one more run.
    if (outcomes.some((o) => isRotationRefusal(o.error))) {
      const rotated = await exchange.rotated(account).catch(() => undefined);
      if (rotated)
        outcomes = await clearWith(
          rotated,
          plan,
          discovery,
          deadline,
          clock,
          acknowledged,
          strategies,
          afterFirstWave,
        );
    }
    return {
      scopes: outcomes.map((o) => scopeReport(account, o, acknowledged)),
      uncancellable: outcomes.flatMap((o) =>
        o.uncancellable.map(({ order, why }) => ({
          account,
          category: o.listing.category,
          symbol: order.symbol,
          orderId: order.orderId,
          orderLinkId: order.orderLinkId,
          orderStatus: order.orderStatus,
          ...(order.createType ? { createType: order.createType } : {}),
          why,
        })),
      ),
      strategies: strategies.report(account),
    };
  } catch (error) {
    return { scopes: [accountFailure(account, describeError(error))], uncancellable: [] };
  }
}

async function clearWith(
  client: BybitClient,
  plan: Coverage,
  discovery: Promise<CoverageReport>,
  deadline: number,
  clock: Clock,
  acknowledged: Acknowledged,
  strategies: StrategyWatch,
  afterFirstWave: AfterFirstWave,
): Promise<ListingOutcome[]> {
  const acked = (label: string) => {
    const ids = acknowledged.get(label) ?? new Set<string>();
    acknowledged.set(label, ids);
    return ids;
  };
  const firstWave: CallOptions = { deadline, priority: 'first-wave' };

  // A failed first-wave call is not a failure by itself: the listings after it show what it missed.
  const waves = new Map<string, Promise<unknown>[]>();
  for (const scope of everythingScopes(plan)) {
    const label = scopeLabel(listingCovering(scope));
    const sent = cancelAllOf(client, scope, firstWave, acked(label)).catch(() => undefined);
    waves.set(label, [...(waves.get(label) ?? []), sent]);
  }
  const waveOf = (label: string) => Promise.all(waves.get(label) ?? []);
  // Beside the first wave, never in front of it: queued after the account's cancel-alls.
  const phase = strategies.start(client, deadline, clock);
  // So is the halt; the verification listings wait for its flips.
  const halted = afterFirstWave() ?? Promise.resolve();

  // The first wave names inverse coins; this listing shows the others while it runs.
  const inverseSeen = plan.categories.includes('inverse')
    ? listWhile(client, { category: 'inverse' }, waveOf('inverse'), deadline)
    : Promise.resolve([]);

  let settled: CoverageReport | undefined;
  discovery.then((report) => {
    settled = report;
  });
  const run = (listing: OpenOrdersParams, before: () => Promise<unknown>) =>
    verifyListing(
      client,
      listing,
      async () => {
        await before();
        await phase.ready;
        await halted;
      },
      () => settled,
      acked(scopeLabel(listing)),
      deadline,
      clock,
      phase,
    );

  const configured = widestListings(plan.categories, plan.linearSettleCoins).map((listing) => {
    const label = scopeLabel(listing);
    if (listing.category !== 'inverse') return run(listing, () => waveOf(label));
    return run(listing, async () => {
      await waveOf(label);
      const ids = acked(label);
      const seen = await inverseSeen;
      phase.noteOrders(seen);
      const outside = seen.filter((o) => !ids.has(o.orderId));
      if (outside.length > 0)
        await cancelStragglers(client, listing, outside, firstWave, ids).catch(() => undefined);
    });
  });
  // Settle coins the configuration does not name: a cancel-all on each as soon as discovery names it.
  const discovered = discovery.then((report) =>
    Promise.all(
      report.discovered.map((settleCoin) => {
        const listing: OpenOrdersParams = { category: 'linear', settleCoin };
        return run(listing, () =>
          cancelAllOf(client, listing, firstWave, acked(scopeLabel(listing))).catch(() => undefined),
        );
      }),
    ),
  );
  const outcomes = [...(await Promise.all(configured)), ...(await discovered)];
  // The report says what the strategy list showed last: the phase ends before the account's report is made.
  await phase.done;
  return outcomes;
}

/** Lists, cancels what the listing shows, and lists again until it shows nothing it can cancel. */
async function verifyListing(
  client: BybitClient,
  listing: OpenOrdersParams,
  before: () => Promise<unknown>,
  coverage: () => CoverageReport | undefined,
  acked: Set<string>,
  deadline: number,
  clock: Clock,
  strategies: StrategyPhase,
): Promise<ListingOutcome> {
  const verify: CallOptions = { deadline, priority: 'verify' };
  await before();
  let remaining: OpenOrder[] = [];
  let uncancellable: ListingOutcome['uncancellable'] = [];
  let verified = false;
  let error: Error | undefined;
  let empty = 0;
  for (let round = 1; ; round++) {
    try {
      // Nothing open counts only when the strategy phase was quiet before the listing went out (over, or no
      // strategy seen able to trade): until then a running strategy may re-place its child right after it.
      const quiet = strategies.quiet;
      remaining = await openOrdersOf(client, listing, deadline, 'verify');
      strategies.noteOrders(remaining);
      verified = true;
      error = undefined;
      if (remaining.length === 0) {
        empty++;
        // Bybit cancels asynchronously: after this run's own acknowledged cancels, one empty page may be a
        // stale one. A second, a short pause later, is the proof (one more request per listing).
        const proven = acked.size === 0 || empty >= 2;
        if (quiet && proven) return { listing, remaining, verified, uncancellable: [] };
        uncancellable = [];
        if (quiet) {
          if (clock.now() + SECOND_LISTING_PAUSE_MS + 50 >= deadline) {
            verified = false;
            error = new DeadlineExceededError('realtime (second empty listing)');
            break;
          }
          await clock.sleep(SECOND_LISTING_PAUSE_MS);
          continue;
        }
      } else {
        empty = 0;
        const phases = await phasesFor(client, listing, remaining, round, coverage(), verify);
        uncancellable = remaining.flatMap((order) => {
          const why = whyUncancellable(listing.category, order, phases);
          return why ? [{ order, why }] : [];
        });
        const cancellable = remaining.filter((o) => !uncancellable.some((u) => u.order === o));
        // Orders Bybit will not cancel now are named at once, not retried until the deadline.
        if (cancellable.length === 0) break;
        // The run ends on a listing: no cancel without the time to list after it.
        if (clock.now() + pauseAfter(round) + 50 >= deadline) break;
        verified = false;
        await cancelStragglers(client, listing, cancellable, verify, acked);
      }
    } catch (failure) {
      verified = false;
      error = failure as Error;
      if (isFinal(failure)) break;
    }
    if (clock.now() + pauseAfter(round) + 50 >= deadline) break;
    await clock.sleep(pauseAfter(round));
  }
  return { listing, remaining, verified, uncancellable, error };
}

/** Between the first empty listing after acknowledged cancels and the second that confirms it. */
export const SECOND_LISTING_PAUSE_MS = 50;

function pauseAfter(round: number): number {
  return ROUND_PAUSE_MS[Math.min(round - 1, ROUND_PAUSE_MS.length - 1)] as number;
}

/**
 * Auction phases, read fresh, when a linear listing shows orders on a known pre-market symbol, or shows
 * orders still open after a cancel (the contract may have been listed since discovery was cached).
 */
async function phasesFor(
  client: BybitClient,
  listing: OpenOrdersParams,
  orders: OpenOrder[],
  round: number,
  coverage: CoverageReport | undefined,
  call: CallOptions,
): Promise<Map<string, string>> {
  const preMarket = new Set(coverage?.preMarketSymbols ?? []);
  const suspect = round > 1 || orders.some((o) => preMarket.has(o.symbol));
  if (listing.category !== 'linear' || !suspect) return new Map();
  // Unknown phases leave the orders to be retried: the safe side.
  return preMarketPhases(client, call.deadline as number, 'verify').catch(() => new Map());
}

/**
 * Cancels what a widest listing still shows, in the fewest rate-limit units: futures cancel-all costs one
 * unit per call while a futures or spot batch costs one per order, so linear goes by settle coin, inverse
 * by symbol and spot by kind (a spot batch reaches plain orders only); option allows one cancel-all a
 * second but a batch of 20 costs one unit of a 10/s window, so option goes by batch.
 */
export function stragglerCalls(
  listing: OpenOrdersParams,
  orders: OpenOrder[],
): ({ kind: 'cancel-all'; params: CancelAllParams } | { kind: 'batch'; orders: OpenOrder[] })[] {
  const { category } = listing;
  const distinct = <T>(values: T[]) => [...new Set(values)];
  switch (category) {
    case 'linear':
      return [{ kind: 'cancel-all', params: { category, settleCoin: listing.settleCoin } }];
    case 'inverse':
      return distinct(orders.map((o) => o.symbol)).map((symbol) => ({
        kind: 'cancel-all',
        params: { category, symbol },
      }));
    case 'spot': {
      const kinds = orders.map((o) => spotKindOf(o));
      const filters = kinds.includes(undefined) ? [...SPOT_ORDER_FILTERS] : distinct(kinds as OrderFilter[]);
      return filters.map((orderFilter) => ({ kind: 'cancel-all', params: { category, orderFilter } }));
    }
    case 'option': {
      const size = BATCH_LIMIT.option;
      if (orders.length > size * 10) return [{ kind: 'cancel-all', params: { category } }];
      return Array.from({ length: Math.ceil(orders.length / size) }, (_, i) => ({
        kind: 'batch',
        orders: orders.slice(i * size, (i + 1) * size),
      }));
    }
  }
}

async function cancelStragglers(
  client: BybitClient,
  listing: OpenOrdersParams,
  orders: OpenOrder[],
  call: CallOptions,
  acked: Set<string>,
): Promise<void> {
  const sent = stragglerCalls(listing, orders).map(async (step) => {
    if (step.kind === 'cancel-all') return cancelAllOf(client, step.params, call, acked);
    const request = step.orders.map(({ symbol, orderId }) => ({ symbol, orderId }));
    const items = await client.cancelBatch({ category: listing.category, request }, call);
    for (const item of items) if (item.code === 0) acked.add(item.orderId);
  });
  const failure = (await Promise.allSettled(sent)).find((o) => o.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/** Pages of a listing while `until` is pending (and always the first); a failure just ends it early. */
async function listWhile(
  client: BybitClient,
  listing: OpenOrdersParams,
  until: Promise<unknown>,
  deadline: number,
): Promise<OpenOrder[]> {
  let done = false;
  until.then(() => {
    done = true;
  });
  const orders: OpenOrder[] = [];
  let cursor = '';
  try {
    do {
      const page = await client.openOrders(
        { ...listing, limit: 50, cursor },
        { deadline, priority: 'verify' },
      );
      orders.push(...page.list);
      cursor = page.nextPageCursor;
    } while (cursor && !done);
  } catch {
    // The verification listing shows what this one missed.
  }
  return orders;
}

/** The widest listing that shows what a first-wave scope cancels. */
function listingCovering(scope: Scope): OpenOrdersParams {
  return scope.category === 'linear'
    ? { category: 'linear', settleCoin: scope.settleCoin }
    : { category: scope.category };
}

function scopeReport(account: string, outcome: ListingOutcome, acknowledged: Acknowledged): ScopeReport {
  const label = scopeLabel(outcome.listing);
  const entry: ScopeReport = {
    account,
    scope: label,
    cancelled: cancelledCount(acknowledged.get(label) ?? new Set()),
    remaining: outcome.remaining.length,
    verified: outcome.verified,
  };
  if (outcome.remaining.length > 0) {
    entry.remainingOrders = outcome.remaining
      .slice(0, 20)
      .map(({ symbol, orderId, orderLinkId, createType }) => ({
        symbol,
        orderId,
        orderLinkId,
        ...(createType ? { createType } : {}),
      }));
  }
  if (outcome.error) entry.error = describeError(outcome.error);
  return entry;
}

/**
 * Leftover orders something other than the user placed, named by their createType (docs/v5/enum.mdx), so
 * that a person sees what created them: `… 2 order(s) placed by a TWAP strategy (CreateByTWAP) still open`.
 */
function placedRemaining(scope: ScopeReport): string[] {
  const byPlacer = new Map<string, string[]>();
  for (const order of scope.remainingOrders ?? []) {
    if (!order.createType || order.createType === 'CreateByUser') continue;
    byPlacer.set(order.createType, [...(byPlacer.get(order.createType) ?? []), order.orderId]);
  }
  return [...byPlacer].map(([createType, ids]) => {
    const placer = placerOf({ createType });
    const by = placer ? `a ${placer.name} (${createType})` : createType;
    return `${scope.account}: ${scope.scope}: ${ids.length} order(s) placed by ${by} still open: ${ids.join(', ')}`;
  });
}

function accountFailure(account: string, error: Fields): ScopeReport {
  return { account, scope: '*', cancelled: 0, remaining: 0, verified: false, error };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The halt of this kill switch, unless there is no store or the request declines it (the dead man's switch cannot). */
function startHalt(
  exchange: Exchange,
  request: KillSwitchRequest,
  deadline: number,
  clock: Clock,
  setup: HaltSetup | undefined,
): Halt | undefined {
  if (!setup || declined(request)) return undefined;
  const origin = { origin: request.origin ?? 'killSwitch', reason: request.reason, eventId: request.eventId };
  return new Halt(exchange, setup, origin, deadline, clock);
}

/** A routine clean-up that asks for no halt; the dead man's switch always halts. */
function declined(request: KillSwitchRequest): boolean {
  return request.halt === false && request.origin !== DEAD_MANS_SWITCH_ORIGIN;
}
