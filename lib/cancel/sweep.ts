// The stale-order sweep. Steps, for every account and scope concurrently:
//   1. page through the open orders (50 a page) and select those older than the max age (and, when a
//      prefix is set, whose orderLinkId starts with it, so a bot's sweep never touches manual orders);
//   2. cancel them through two lanes at once, because the exchange budgets them separately: cancel-batch
//      (20 a request, 10 for spot, never more than the batch window holds) and single cancels;
//      per-item answers decide: done, already gone (also done), retry later, or failed;
//   3. list again: selected orders still open (not reached, refused, or survived their cancel) go round
//      again, up to five rounds; the report is what the last listing shows.
// Work stops cleanly before the deadline; what was not reached is reported and the next run continues.

import type { BybitClient } from '../bybit/client.ts';
import { classifyRetCode } from '../bybit/codes.ts';
import { BATCH_LIMIT, type CancelOrderParams, type Category, type OpenOrder } from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { IncompleteCancelError, OrderNotOpenError } from '../errors.ts';
import { describeError, type Fields } from '../log.ts';
import { isFinal, openOrdersOf, ROUND_PAUSE_MS } from './clear-scope.ts';
import type { Exchange } from './exchange.ts';
import { type Coverage, everythingScopes, type Scope, scopeLabel } from './scopes.ts';

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
  stale: number;
  /** Selected orders the last listing no longer shows: cancelled by the sweep, or gone meanwhile. */
  cancelled: number;
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
  cancelled: number;
  remaining: number;
  scopes: SweepScopeReport[];
  durationMs: number;
}

/** Item retries (for "processing", server errors, over-budget items) before an order is reported failed. */
const MAX_ITEM_ATTEMPTS = 5;
/** Cancel-and-list rounds per scope: orders that survive a cancel are cancelled again. */
const MAX_ROUNDS = 5;
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
  const scopes = everythingScopes(coverage, options.categories);
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
    ok: scopesReport.every((s) => s.verified && s.remaining === 0),
    dryRun: options.dryRun,
    stale: sum(scopesReport.map((s) => s.stale)),
    cancelled: sum(scopesReport.map((s) => s.cancelled)),
    // A floor: scopes whose last listing failed are named in the failure, not counted here.
    remaining: sum(scopesReport.filter((s) => s.verified).map((s) => s.remaining)),
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
    throw new IncompleteCancelError(
      { ...report, failedScopes: failed.map((s) => `${s.account}: ${s.scope}`) },
      reasons,
    );
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
  for (let round = 1; ; round++) {
    try {
      const open = await openOrdersOf(client, scope, deadline);
      if (!selected) {
        const cutoff = clock.now() - options.maxAgeMs;
        const prefix = options.linkIdPrefix;
        selected = open.filter(
          (o) => Number(o.createdTime) < cutoff && (prefix === '' || o.orderLinkId.startsWith(prefix)),
        );
        report.open = open.length;
        report.stale = selected.length;
        if (options.dryRun)
          return { ...report, verified: true, wouldCancel: selected.slice(0, 100).map(summary) };
        pending = selected;
      } else {
        const stillOpen = new Set(open.map((o) => o.orderId));
        pending = selected.filter((o) => stillOpen.has(o.orderId));
      }
      // Counted from what the exchange lists, never from acknowledgements.
      Object.assign(report, { verified: true, error: undefined, remaining: pending.length });
      report.cancelled = report.stale - pending.length;
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
    if (report.verified) await cancelSelected(client, scope, pending, report, deadline);
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

/** Drains the selected orders through a batch lane and a single-cancel lane until done or out of time. */
async function cancelSelected(
  client: BybitClient,
  scope: Scope,
  orders: OpenOrder[],
  report: SweepScopeReport,
  deadline: number,
): Promise<void> {
  const { category } = scope;
  report.failed = [];
  const queue: Pending[] = orders.map((order) => ({ order, attempts: 0 }));
  // Spot batches cannot say which order kind they mean: other spot kinds go one by one with their filter.
  const batchable = category !== 'spot' || scope.orderFilter === 'Order';
  const batchSize = Math.max(
    1,
    Math.min(BATCH_LIMIT[category], client.pacer.capacity('cancel-batch', category)),
  );
  const singleWorkers = Math.max(1, client.pacer.capacity('cancel', category));
  // The only way to address one spot order of a kind is to name its kind. Bybit documents Order, tpslOrder
  // and StopOrder here; should it refuse OcoOrder or BidirectionalTpslOrder, the order is reported, not lost.
  const singleFilter = scope.orderFilter as CancelOrderParams['orderFilter'];

  const settle = (item: Pending, code: number, msg: string) => {
    const kind = classifyRetCode(code);
    if (kind === 'ok') return;
    if (kind === 'gone') report.alreadyGone++;
    else if (kind === 'retryable' && ++item.attempts < MAX_ITEM_ATTEMPTS) queue.push(item);
    else report.failed.push({ orderId: item.order.orderId, code, msg });
  };

  const batchLane = async () => {
    while (queue.length > 0) {
      const items = queue.splice(0, batchSize);
      report.requests.batch++;
      try {
        const request = items.map(({ order }) => ({ symbol: order.symbol, orderId: order.orderId }));
        const answers = await client.cancelBatch({ category, request }, { deadline });
        for (const [i, answer] of answers.entries()) settle(items[i] as Pending, answer.code, answer.msg);
      } catch (error) {
        queue.unshift(...items);
        throw error;
      }
    }
  };

  const singleLane = async () => {
    while (queue.length > 0) {
      const item = queue.pop() as Pending;
      report.requests.single++;
      try {
        await client.cancelOrder(
          { category, symbol: item.order.symbol, orderId: item.order.orderId, orderFilter: singleFilter },
          { deadline },
        );
        settle(item, 0, 'OK');
      } catch (error) {
        if (error instanceof OrderNotOpenError) settle(item, error.retCode, error.retMsg);
        else {
          queue.push(item);
          throw error;
        }
      }
    }
  };

  const lanes = [
    ...(batchable ? Array.from({ length: BATCH_WORKERS }, batchLane) : []),
    ...Array.from({ length: singleWorkers }, singleLane),
  ];
  const outcomes = await Promise.allSettled(lanes);
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  // A lane that stopped early (deadline, refused key) leaves its items queued; the verification counts them.
  if (failure && queue.length > 0) report.error = describeError(failure.reason);
}

function emptyReport(account: string, scope: string): SweepScopeReport {
  return {
    account,
    scope,
    open: 0,
    stale: 0,
    cancelled: 0,
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
