// The stale-order sweep. Steps, for every account and widest listing concurrently (the same coverage as
// the kill switch: inverse, spot and option unfiltered, linear per settle coin the exchange lists):
//   1. page through the open orders (50 a page) and select those older than the max age (and, when a
//      prefix is set, whose orderLinkId starts with it, so a bot's sweep never touches manual orders);
//      never an order Bybit's strategies or bots placed (by its createType: strategies.ts): the sweep leaves
//      them to what placed them, which would only place them again;
//   2. cancel them through two lanes at once, because the exchange budgets them separately: cancel-batch
//      (20 a request, 10 for spot, never more than the batch window holds) and single cancels;
//      per-item answers decide: done, already gone (also done), retry later, or failed;
//   3. list again: selected orders still open (not reached, refused, or survived their cancel) go round
//      again, up to five rounds; the report is what the last listing shows.
// Work stops cleanly before the deadline; what was not reached is reported and the next run continues.

import type { BybitClient } from '../bybit/client.ts';
import { classifyRetCode, type RetCodeClass } from '../bybit/codes.ts';
import {
  BATCH_LIMIT,
  type CancelOrderParams,
  type Category,
  type OpenOrder,
  type OrderFilter,
} from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { BybitApiError, IncompleteCancelError } from '../errors.ts';
import { describeError, type Fields } from '../log.ts';
import { isFinal, openOrdersOf, ROUND_PAUSE_MS } from './clear-scope.ts';
import { type CoverageReport, discoverCoverage } from './coverage.ts';
import type { Exchange } from './exchange.ts';
import { placerOf } from './placers.ts';
import { type Coverage, type Scope, scopeLabel, spotKindOf, widestListings } from './scopes.ts';

export interface SweepOptions {
  maxAgeMs: number;
  linkIdPrefix: string;
  dryRun: boolean;
  accounts?: string[];
  categories?: Category[];
}

export interface SweepScopeReport {
  account: string;
  scope: string;
  open: number;
  /** Open orders a Bybit strategy or bot placed (by createType): never swept, whatever their age. */
  placedByExchange: number;
  stale: number;
  /** Selected orders this sweep's own cancels were acknowledged for, and the last listing no longer shows. */
  cancelled: number;
  /**
   * Selected orders the last listing no longer shows that this sweep did not cancel: filled, cancelled by a
   * kill switch or the bot meanwhile, or answered "already gone".
   */
  goneMeanwhile: number;
  /** Items the exchange answered "already gone" (not open any more) instead of cancelling. */
  alreadyGone: number;
  /** Selected orders the exchange still lists after the sweep (not reached, refused, or survived). */
  remaining: number;
  /** False when the scope could not be listed to the end: then `remaining` is a floor, not a count. */
  verified: boolean;
  failed: { orderId: string; code: number; msg: string }[];
  requests: { batch: number; single: number };
  /** Dry run only: what would be cancelled (up to 100). */
  wouldCancel?: { symbol: string; orderId: string; orderLinkId: string; createdTime: string }[];
  error?: Fields;
}

export interface SweepReport {
  operation: 'sweep';
  ok: boolean;
  dryRun: boolean;
  stale: number;
  /** Acknowledged cancels of this sweep only; orders gone by other means are in goneMeanwhile. */
  cancelled: number;
  goneMeanwhile: number;
  remaining: number;
  /** The listings swept: categories and every linear settle coin, and whether the exchange confirmed them. */
  coverage: CoverageReport;
  scopes: SweepScopeReport[];
  durationMs: number;
}

/** Item retries (for "processing", server errors, over-budget items) before an order is reported failed. */
const MAX_ITEM_ATTEMPTS = 5;
/** Cancel-and-list rounds per scope: orders that survive a cancel are cancelled again. */
const MAX_ROUNDS = 5;
/** Single-cancel answers that are about the order itself (codes.ts classes), settled like batch items. */
const ORDER_ANSWERS = new Set<RetCodeClass>(['gone', 'retryable', 'rejected']);
/** Concurrent batch requests per scope; the pacer spaces them to the window. */
const BATCH_WORKERS = 2;

/** Sweeps stale orders; throws IncompleteCancelError (with the report) unless every selected order is gone. */
export async function sweepStaleOrders(
  exchange: Exchange,
  coverage: Coverage,
  options: SweepOptions,
  deadline: number,
  clock: Clock = systemClock,
): Promise<SweepReport> {
  const started = clock.now();
  const accounts = options.accounts ?? (await exchange.accountNames());
  const categories = coverage.categories.filter((c) => !options.categories || options.categories.includes(c));
  const covered = await discoverCoverage(exchange, { ...coverage, categories }, deadline, 'routine');
  const scopes: Scope[] = widestListings(covered.categories, covered.linearSettleCoins);
  const perAccount = await Promise.all(
    accounts.map((account) =>
      exchange
        .withAccount(account, (client) =>
          Promise.all(scopes.map((scope) => sweepScope(client, account, scope, options, deadline, clock))),
        )
        .catch((error): SweepScopeReport[] => [
          { ...emptyReport(account, '*'), error: describeError(error) },
        ]),
    ),
  );
  const scopesReport = perAccount.flat();
  const report: SweepReport = {
    operation: 'sweep',
    // Success is what the final listings show: every scope listed, no selected order still open.
    ok: covered.confirmed && scopesReport.every((s) => s.verified && s.remaining === 0),
    dryRun: options.dryRun,
    stale: sum(scopesReport.map((s) => s.stale)),
    cancelled: sum(scopesReport.map((s) => s.cancelled)),
    goneMeanwhile: sum(scopesReport.map((s) => s.goneMeanwhile)),
    // A floor: scopes whose last listing failed are named in the failure, not counted here.
    remaining: sum(scopesReport.filter((s) => s.verified).map((s) => s.remaining)),
    coverage: covered,
    scopes: scopesReport,
    durationMs: clock.now() - started,
  };
  if (!report.ok) {
    const failed = scopesReport.filter((s) => !s.verified || s.remaining > 0);
    const reasons = failed.map((s) => {
      const refused = s.failed[0]
        ? `${s.failed.length} refused (first: ${s.failed[0].code} ${s.failed[0].msg})`
        : '';
      return `${s.account}: ${s.scope}: ${s.error?.errorMessage ?? (refused || 'orders still open')}`;
    });
    const failedScopes = failed.map((s) => `${s.account}: ${s.scope}`);
    if (!covered.confirmed) {
      failedScopes.push('coverage: linear settle coins not confirmed by the exchange');
      reasons.push(`coverage: ${covered.error?.errorMessage ?? 'not confirmed'}`);
    }
    throw new IncompleteCancelError({ ...report, failedScopes }, reasons);
  }
  return report;
}

async function sweepScope(
  client: BybitClient,
  account: string,
  scope: Scope,
  options: SweepOptions,
  deadline: number,
  clock: Clock,
): Promise<SweepScopeReport> {
  const report = emptyReport(account, scopeLabel(scope));
  let selected: OpenOrder[] | undefined;
  let pending: OpenOrder[] = [];
  // Orders this sweep's cancels were acknowledged for: a sweep beside a kill switch counts only its own.
  const acknowledged = new Set<string>();
  for (let round = 1; ; round++) {
    try {
      const open = await openOrdersOf(client, scope, deadline);
      if (!selected) {
        const cutoff = clock.now() - options.maxAgeMs;
        const prefix = options.linkIdPrefix;
        const own = open.filter((o) => !placerOf(o));
        selected = own.filter(
          (o) => Number(o.createdTime) < cutoff && (prefix === '' || o.orderLinkId.startsWith(prefix)),
        );
        report.open = open.length;
        report.placedByExchange = open.length - own.length;
        report.stale = selected.length;
        if (options.dryRun)
          return { ...report, verified: true, wouldCancel: selected.slice(0, 100).map(summary) };
        pending = selected;
      } else {
        const stillOpen = new Set(open.map((o) => o.orderId));
        pending = selected.filter((o) => stillOpen.has(o.orderId));
      }
      // What is still open is what the exchange lists, never what acknowledgements say.
      Object.assign(report, { verified: true, error: undefined, remaining: pending.length });
      const gone = report.stale - pending.length;
      const left = new Set(pending.map((o) => o.orderId));
      report.cancelled = selected.filter((o) => acknowledged.has(o.orderId) && !left.has(o.orderId)).length;
      report.goneMeanwhile = gone - report.cancelled;
      if (pending.length === 0) return report;
    } catch (error) {
      report.verified = false;
      report.error = describeError(error);
      if (isFinal(error)) return report;
    }
    const pause = ROUND_PAUSE_MS[Math.min(round - 1, ROUND_PAUSE_MS.length - 1)] as number;
    if (round >= MAX_ROUNDS || clock.now() + pause + 50 >= deadline) return report;
    // Cancel what the last listing still showed (after a failed listing, just list again), then give the
    // exchange's asynchronous cancels a moment before the next listing.
    const stopped = report.verified
      ? await cancelSelected(client, scope, pending, report, deadline, acknowledged)
      : undefined;
    if (stopped) {
      report.error = describeError(stopped);
      // A refused key, a ban or the deadline: another round would meet the same; what it cancelled is unlisted.
      if (isFinal(stopped)) return { ...report, verified: false };
    }
    await clock.sleep(pause);
  }
}

function summary({ symbol, orderId, orderLinkId, createdTime }: OpenOrder) {
  return { symbol, orderId, orderLinkId, createdTime };
}

interface Pending {
  order: OpenOrder;
  attempts: number;
}

/**
 * Drains the selected orders through a batch lane and a single-cancel lane until done or out of time.
 * Returns why a lane stopped with orders still queued, if one did.
 */
async function cancelSelected(
  client: BybitClient,
  scope: Scope,
  orders: OpenOrder[],
  report: SweepScopeReport,
  deadline: number,
  acknowledged: Set<string>,
): Promise<Error | undefined> {
  const { category } = scope;
  report.failed = [];
  // The only way to address one spot order of a kind is to name its kind, and a spot batch cannot name
  // one: spot orders other than plain ones go one by one with their kind as filter. Bybit documents Order,
  // tpslOrder and StopOrder there; should it refuse OcoOrder or BidirectionalTpslOrder, the order is
  // reported, not lost.
  const kindOf = (order: OpenOrder): OrderFilter | undefined =>
    category === 'spot' ? ((scope.orderFilter as OrderFilter | undefined) ?? spotKindOf(order)) : undefined;
  const byBatch: Pending[] = [];
  const singleOnly: Pending[] = [];
  const enqueue = (item: Pending) => {
    if (category !== 'spot' || kindOf(item.order) === 'Order') byBatch.push(item);
    else singleOnly.push(item);
  };
  for (const order of orders) enqueue({ order, attempts: 0 });
  const batchSize = Math.max(
    1,
    Math.min(BATCH_LIMIT[category], client.pacer.capacity('cancel-batch', category)),
  );
  const singleWorkers = Math.max(1, client.pacer.capacity('cancel', category));

  const settle = (item: Pending, code: number, msg: string) => {
    const kind = classifyRetCode(code);
    if (kind === 'ok') {
      acknowledged.add(item.order.orderId);
      return;
    }
    if (kind === 'gone') report.alreadyGone++;
    else if (kind === 'retryable' && ++item.attempts < MAX_ITEM_ATTEMPTS) enqueue(item);
    else report.failed.push({ orderId: item.order.orderId, code, msg });
  };

  const batchLane = async () => {
    while (byBatch.length > 0) {
      const items = byBatch.splice(0, batchSize);
      report.requests.batch++;
      try {
        const request = items.map(({ order }) => ({ symbol: order.symbol, orderId: order.orderId }));
        const answers = await client.cancelBatch({ category, request }, { deadline });
        for (const [i, answer] of answers.entries()) settle(items[i] as Pending, answer.code, answer.msg);
      } catch (error) {
        byBatch.unshift(...items);
        throw error;
      }
    }
  };

  const singleLane = async () => {
    while (singleOnly.length > 0 || byBatch.length > 0) {
      const item = (singleOnly.pop() ?? byBatch.pop()) as Pending;
      report.requests.single++;
      const orderFilter = kindOf(item.order) as CancelOrderParams['orderFilter'];
      try {
        await client.cancelOrder(
          { category, symbol: item.order.symbol, orderId: item.order.orderId, orderFilter },
          { deadline },
        );
        settle(item, 0, 'OK');
      } catch (error) {
        // An answer about this order settles it, as a batch item's code would; an answer about the key or
        // the clock, a ban or the deadline stops the lane.
        if (error instanceof BybitApiError && ORDER_ANSWERS.has(error.kind))
          settle(item, error.retCode, error.retMsg);
        else {
          enqueue(item);
          throw error;
        }
      }
    }
  };

  const lanes = [
    ...Array.from({ length: BATCH_WORKERS }, batchLane),
    ...Array.from({ length: singleWorkers }, singleLane),
  ];
  const outcomes = await Promise.allSettled(lanes);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  // A lane that stopped early (deadline, refused key) leaves its items queued; the verification counts them.
  return failure && byBatch.length + singleOnly.length > 0 ? (failure.reason as Error) : undefined;
}

function emptyReport(account: string, scope: string): SweepScopeReport {
  return {
    account,
    scope,
    open: 0,
    placedByExchange: 0,
    stale: 0,
    cancelled: 0,
    goneMeanwhile: 0,
    alreadyGone: 0,
    remaining: 0,
    verified: false,
    failed: [],
    requests: { batch: 0, single: 0 },
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
