// Metrics as CloudWatch Embedded Metric Format: one JSON line per invocation that CloudWatch Logs turns into
// metrics, with no API call and no extra latency. Dimension: the operation (cancel, cancelAll, killSwitch, sweep,
// …); what is about the stack rather than the operation (notifications, the state table) has no dimension.

export type Operation =
  | 'cancel'
  | 'cancelAll'
  | 'killSwitch'
  | 'sweep'
  | 'heartbeat'
  | 'drill'
  /** A webhook drill handed to the drill function: not a drill run (the drill function counts that). */
  | 'drillStart'
  | 'status'
  | 'reset'
  | 'masterCheck'
  | 'telegram'
  | 'unknown';

/** Every metric an invocation writes (the dashboard and the alarms use no other). */
export const METRIC_NAMES = [
  'Runs',
  'OrdersCancelled',
  'OrdersLeftOpen',
  'Failures',
  'Refusals',
  'Duration',
  'DrillProblems',
  'DrillWarnings',
  'IpBudgetWaits',
  'IpRefusals',
  'NotifyFailures',
  'StateFailures',
] as const;

export interface InvocationMetrics {
  operation: Operation;
  /** Orders the exchange acknowledged cancelling. */
  ordersCancelled: number;
  /** Orders still open in scope at the end (a floor when a scope could not be listed). */
  ordersLeftOpen: number;
  failed: boolean;
  /** The caller was refused (a 4xx answer): the operation did not run. */
  refused?: boolean;
  durationMs: number;
  /** Who fired a kill switch, when its event says (`deadMansSwitch`). */
  origin?: string;
  /** Drill only: problems (the kill switch would fail) and warnings found over all accounts. */
  drillProblems?: number;
  drillWarnings?: number;
  /** Requests that queued for the IP budget, and 403 refusals that started a hold, in this invocation. */
  ipBudgetWaits?: number;
  ipRefusals?: number;
  /** Messages a channel could not take, and state-table calls that failed, in this invocation. */
  notifyFailures?: number;
  stateFailures?: number;
}

/** The EMF document for one invocation's metrics; `requestId` ties it to the invocation's log lines. */
export function emfLine(
  namespace: string,
  metrics: InvocationMetrics,
  now: number,
  requestId?: string,
): string {
  const drill = metrics.drillProblems !== undefined || metrics.drillWarnings !== undefined;
  // Written only when they happened: CloudWatch bills each metric that has data in a month, and an
  // alarm or a graph reads a missing point as nothing happened.
  const occasional = {
    Refusals: metrics.refused ? 1 : 0,
    IpBudgetWaits: metrics.ipBudgetWaits ?? 0,
    IpRefusals: metrics.ipRefusals ?? 0,
  };
  const stack = { NotifyFailures: metrics.notifyFailures ?? 0, StateFailures: metrics.stateFailures ?? 0 };
  const occasionalMetrics = Object.entries(occasional).filter(([, value]) => value > 0);
  const stackFailed = stack.NotifyFailures > 0 || stack.StateFailures > 0;
  return JSON.stringify({
    requestId,
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          // With an origin, also per origin: the Operation-only series (and its alarm) stays complete.
          Dimensions: metrics.origin ? [['Operation'], ['Operation', 'Origin']] : [['Operation']],
          Metrics: [
            { Name: 'Runs', Unit: 'Count' },
            { Name: 'OrdersCancelled', Unit: 'Count' },
            { Name: 'OrdersLeftOpen', Unit: 'Count' },
            { Name: 'Failures', Unit: 'Count' },
            { Name: 'Duration', Unit: 'Milliseconds' },
            ...occasionalMetrics.map(([name]) => ({ Name: name, Unit: 'Count' })),
            ...(drill
              ? [
                  { Name: 'DrillProblems', Unit: 'Count' },
                  { Name: 'DrillWarnings', Unit: 'Count' },
                ]
              : []),
          ],
        },
        // One series each for the whole stack: its alarm hears of any operation's failure.
        ...(stackFailed
          ? [
              {
                Namespace: namespace,
                Dimensions: [[]],
                Metrics: [
                  { Name: 'NotifyFailures', Unit: 'Count' },
                  { Name: 'StateFailures', Unit: 'Count' },
                ],
              },
            ]
          : []),
      ],
    },
    Operation: metrics.operation,
    ...(metrics.origin ? { Origin: metrics.origin } : {}),
    // A refused request ran nothing: it counts in Refusals, not in Runs.
    Runs: metrics.refused ? 0 : 1,
    OrdersCancelled: metrics.ordersCancelled,
    OrdersLeftOpen: metrics.ordersLeftOpen,
    Failures: metrics.failed ? 1 : 0,
    Duration: metrics.durationMs,
    ...Object.fromEntries(occasionalMetrics),
    ...(stackFailed ? stack : {}),
    ...(drill
      ? { DrillProblems: metrics.drillProblems ?? 0, DrillWarnings: metrics.drillWarnings ?? 0 }
      : {}),
  });
}

interface Report {
  operation?: Operation;
  origin?: string;
  cancelled?: number;
  remaining?: number;
  orderId?: string;
  accounts?: unknown;
  master?: unknown;
}

/** The report of a run: its result, the JSON body of its HTTP answer, or the report its error carries. */
export function runReport(outcome: {
  result?: unknown;
  error?: unknown;
}): Record<string, unknown> | undefined {
  return (reportOf(outcome.result) ??
    reportOf((outcome.error as { report?: unknown } | undefined)?.report)) as
    | Record<string, unknown>
    | undefined;
}

/** What an invocation achieved, read from its report (or the report an IncompleteCancelError carries). */
export function metricsOf(
  outcome: { result?: unknown; error?: unknown },
  durationMs: number,
  fallback: Operation,
): InvocationMetrics {
  const report = runReport(outcome) as Report | undefined;
  const failed = outcome.error !== undefined || isFailedHttp(outcome.result);
  const refused = outcome.error === undefined && isRefusedHttp(outcome.result);
  return {
    operation: report?.operation ?? fallback,
    ordersCancelled: report?.operation === 'cancel' && !failed && !refused ? 1 : (report?.cancelled ?? 0),
    ordersLeftOpen: report?.remaining ?? 0,
    failed,
    ...(refused ? { refused } : {}),
    durationMs,
    ...(typeof report?.origin === 'string' ? { origin: report.origin } : {}),
    ...(report?.operation === 'drill' ? drillCounts([...listOf(report.accounts), report.master]) : {}),
  };
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Problems and warnings over a drill report's accounts and its master key. */
function drillCounts(accounts: unknown): Pick<InvocationMetrics, 'drillProblems' | 'drillWarnings'> {
  const list = Array.isArray(accounts) ? (accounts as { problems?: unknown; warnings?: unknown }[]) : [];
  const count = (field: 'problems' | 'warnings') =>
    list.reduce((sum, a) => sum + (Array.isArray(a?.[field]) ? (a[field] as unknown[]).length : 0), 0);
  return { drillProblems: count('problems'), drillWarnings: count('warnings') };
}

/** A report, or the JSON body of an HTTP answer carrying one. */
function reportOf(value: unknown): Report | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const body = (value as { body?: unknown }).body;
  if (typeof body === 'string' && 'statusCode' in value) {
    try {
      return reportOf(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return 'operation' in value ? (value as Report) : undefined;
}

/** True for an answer (HTTP, or a direct heartbeat's) with a 4xx status: the caller was refused. */
export function isRefusedHttp(value: unknown): boolean {
  const status = (value as { statusCode?: number } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** True for an HTTP answer with a 5xx status. */
export function isFailedHttp(value: unknown): boolean {
  const status = (value as { statusCode?: number } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 500;
}

/** What a cancel-all body asks for: the drill, one scope when it names a category, otherwise the kill switch. */
export function requestedCancelAll(request: unknown): Operation {
  const body = request as { category?: unknown; drill?: unknown } | null | undefined;
  if (body?.drill === true) return 'drillStart';
  return body?.category === undefined ? 'killSwitch' : 'cancelAll';
}

/** The metric a secret served from cache after a failed read counts in (alarmed: reads are failing). */
export const STALE_SECRET_METRIC = 'SecretsServedStale';

/** One EMF line counting one secret served from cache after a failed read; no dimension, one series. */
export function staleSecretLine(namespace: string, now: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [[]], Metrics: [{ Name: STALE_SECRET_METRIC, Unit: 'Count' }] },
      ],
    },
    [STALE_SECRET_METRIC]: 1,
  });
}
