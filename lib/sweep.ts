// The stale-order sweep. Steps, for every account and scope concurrently:
//   1. page through the open orders (50 a page) and select those older than the max age (and, when a
//      prefix is set, whose orderLinkId starts with it, so a bot's sweep never touches manual orders);
//   2. cancel them through two lanes at once, because the exchange budgets them separately: cancel-batch
//      (20 a request, 10 for spot, never more than the batch window holds) and single cancels;
//      per-item answers decide: done, already gone (also done), retry later, or failed;
//   3. list again and count selected orders still open: the report is what the exchange shows.
// Work stops cleanly before the deadline; what was not reached is reported and the next run continues.

import type { BybitClient } from './bybit/client.ts';
import { classifyRetCode } from './bybit/codes.ts';
import { BATCH_LIMIT, type Category, type OpenOrder } from './bybit/types.ts';
import { type Clock, openOrdersOf, systemClock } from './clear-scope.ts';
import type { Config } from './config.ts';
import { IncompleteCancelError, OrderNotOpenError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { describeError, type Fields } from './log.ts';
import type { SweepInput } from './requests.ts';
import { everythingScopes, type Scope, scopeLabel } from './scopes.ts';

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
  cancelled: number;
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
/** Concurrent batch requests per scope; the pacer spaces them to the window. */
const BATCH_WORKERS = 2;

/** Sweeps stale orders; throws IncompleteCancelError (with the report) unless every selected order is gone. */
export async function sweepStaleOrders(
  exchange: Exchange,
  scopeConfig: Config['scope'],
  options: SweepOptions,
  deadline: number,
  clock: Clock = systemClock,
): Promise<SweepReport> {
  const started = clock.now();
  const accounts = options.accounts ?? (await exchange.accountNames());
  const scopes = everythingScopes(scopeConfig, options.categories);
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
    ok: scopesReport.every((s) => s.verified && !s.error && s.remaining === 0 && s.failed.length === 0),
    dryRun: options.dryRun,
    stale: sum(scopesReport.map((s) => s.stale)),
    cancelled: sum(scopesReport.map((s) => s.cancelled + s.alreadyGone)),
    remaining: sum(scopesReport.map((s) => s.remaining)),
    scopes: scopesReport,
    durationMs: clock.now() - started,
  };
  if (!report.ok) {
    const failed = scopesReport.filter(
      (s) => !s.verified || s.error || s.remaining > 0 || s.failed.length > 0,
    );
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
  try {
    const open = await openOrdersOf(client, scope, deadline);
    const cutoff = clock.now() - options.maxAgeMs;
    const stale = open.filter(
      (o) =>
        Number(o.createdTime) < cutoff &&
        (options.linkIdPrefix === '' || o.orderLinkId.startsWith(options.linkIdPrefix)),
    );
    report.open = open.length;
    report.stale = stale.length;
    if (options.dryRun) {
      report.verified = true;
      report.wouldCancel = stale.slice(0, 100).map(({ symbol, orderId, orderLinkId, createdTime }) => ({
        symbol,
        orderId,
        orderLinkId,
        createdTime,
      }));
      return report;
    }
    if (stale.length === 0) return { ...report, verified: true };
    await cancelSelected(client, scope, stale, report, deadline);
    const selected = new Set(stale.map((o) => o.orderId));
    const after = await openOrdersOf(client, scope, deadline);
    report.remaining = after.filter((o) => selected.has(o.orderId)).length;
    report.verified = true;
  } catch (error) {
    report.error = describeError(error);
    report.remaining = report.stale - report.cancelled - report.alreadyGone;
  }
  return report;
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
  const queue: Pending[] = orders.map((order) => ({ order, attempts: 0 }));
  // Spot batches cannot say which order kind they mean: other spot kinds go one by one with their filter.
  const batchable = category !== 'spot' || scope.orderFilter === 'Order';
  const batchSize = Math.max(
    1,
    Math.min(BATCH_LIMIT[category], client.pacer.capacity('cancel-batch', category)),
  );
  const singleWorkers = Math.max(1, client.pacer.capacity('cancel', category));
  const singleFilter =
    scope.orderFilter === 'tpslOrder' || scope.orderFilter === 'StopOrder' || scope.orderFilter === 'Order'
      ? scope.orderFilter
      : undefined;

  const settle = (item: Pending, code: number, msg: string) => {
    const kind = classifyRetCode(code);
    if (kind === 'ok') report.cancelled++;
    else if (kind === 'gone') report.alreadyGone++;
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

/** Sweep options from the configuration, overridden by a schedule's constant input. */
export function sweepOptions(config: Config['sweep'], input: SweepInput): SweepOptions {
  return {
    maxAgeMs: input.maxAgeSeconds !== undefined ? input.maxAgeSeconds * 1000 : config.maxAgeMs,
    linkIdPrefix: input.linkIdPrefix ?? config.linkIdPrefix,
    dryRun: input.dryRun ?? config.dryRun,
    accounts: input.accounts,
    categories: input.categories,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
