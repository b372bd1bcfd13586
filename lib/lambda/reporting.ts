// After a run has its final report (or its final error): the report logged, the run remembered, and a person
// told when it matters. Steps:
//   1. log the report once, whole, as a `report` line (shortened only if it would not fit a log event);
//   2. a drill reads the last drill first, to tell the first pass after a failure;
//   3. at once: record the run in the state table (a kill switch by its event id, every run as the last of its
//      operation, a drill among the recent drills) and send its message, if it has one: every kill switch
//      (with the halt it set), a reset that changed something or failed, a failed drill, the first drill that
//      passes after one that failed, and an IP ban.
// Nothing here starts before the work has ended, so a cancel never waits for the table or a message; and
// nothing here throws: a table or a channel that fails is logged and counted (StateFailures, NotifyFailures),
// and everything ends by `until`.

import { type Clock, systemClock } from '../clock.ts';
import { ValidationError } from '../errors.ts';
import { describeError, type Logger } from '../log.ts';
import {
  drillFailedMessage,
  drillRecoveredMessage,
  ipBanMessage,
  killSwitchMessage,
  type Message,
  type MessageContext,
  resetMessage,
} from './messages.ts';
import { type Operation, runReport } from './metrics.ts';
import type { Notifier } from './notify.ts';
import { RECORD_TTL_SECONDS, type RunRecord, recordKeys } from './records.ts';
import type { SecretStore } from './secrets.ts';
import type { StateStore } from './state.ts';
import type { Trigger } from './triggers.ts';

/** What a run's aftermath needs of the app. */
export interface ReportingDeps {
  logger: Logger;
  state: StateStore;
  notifier: Notifier;
  secrets: SecretStore;
  clock?: Clock;
  stage: string;
}

export interface FinishedRun {
  trigger: Trigger;
  /** The raw event (for the EventBridge event id). */
  event: unknown;
  operation: Operation;
  /** What the work returned or threw, before any HTTP answer was made of it. */
  outcome: { result?: unknown; error?: unknown };
  requestId: string;
  functionName: string;
  logGroup: string;
  /** Epoch ms the work started. */
  startedAt: number;
  /** Epoch ms by which everything here must have ended. */
  until: number;
  /** A 403 refusal of this IP that started during the run. */
  ipRefusal?: Error;
}

/** What the aftermath could not do, for the invocation's metrics. */
export interface Aftermath {
  notifyFailures: number;
  stateFailures: number;
}

/** The operations whose report is logged and recorded. */
const REPORTED = new Set<Operation>(['cancel', 'cancelAll', 'killSwitch', 'sweep', 'drill', 'reset']);
/** A CloudWatch Logs event holds 256 KB; a DynamoDB item 400 KB. */
const LOG_REPORT_MAX_CHARS = 200_000;
const RECORD_REPORT_MAX_CHARS = 300_000;

/** Logs, records and tells; resolves by `run.until` and never rejects. */
export async function afterRun(deps: ReportingDeps, run: FinishedRun): Promise<Aftermath> {
  const counts: Aftermath = { notifyFailures: 0, stateFailures: 0 };
  const { logger, state, notifier, secrets } = deps;
  try {
    // A request refused as invalid ran nothing: its caller has the 400 (or the error), there is no report.
    if (!REPORTED.has(run.operation) || run.outcome.error instanceof ValidationError) return counts;
    const report = runReport(run.outcome);
    if (report) logger.info('report', { report: fitted(report, LOG_REPORT_MAX_CHARS) });
    const record = recordOf(run, report, deps.clock ?? systemClock);
    state.deadline = run.until;
    secrets.deadline = run.until;

    const stateCall = async <T>(call: () => Promise<T>, what: string): Promise<T | undefined> => {
      try {
        return await call();
      } catch (error) {
        counts.stateFailures++;
        logger.error('state table call failed', { what, ...describeError(error) });
        return undefined;
      }
    };
    const previousDrill =
      record.operation === 'drill' && record.ok && state.enabled
        ? await stateCall(() => state.get<RunRecord>(recordKeys.last('drill')), 'read the last drill')
        : undefined;
    const messages = messagesFor(
      record,
      { stage: deps.stage, ipRefusal: run.ipRefusal?.message },
      previousDrill?.value,
    );

    await Promise.all([
      ...(state.enabled ? writes(record) : []).map(([key, ttlSeconds, what]) =>
        stateCall(() => state.put(key, record, ttlSeconds ? { ttlSeconds } : {}), what),
      ),
      ...(notifier.enabled ? messages : []).map(async (message) => {
        for (const delivery of await notifier.send(message, run.until)) {
          const fields = { kind: message.kind, channel: delivery.channel, subject: message.subject };
          if (!delivery.error) logger.info('notification sent', fields);
          else {
            counts.notifyFailures++;
            logger.error('notification failed', { ...fields, ...describeError(delivery.error) });
          }
        }
      }),
    ]);
  } catch (error) {
    // A bug here must not turn a finished run into a failed one: say so, and count it against both.
    counts.stateFailures++;
    logger.error('reporting failed', describeError(error));
  }
  return counts;
}

/** The messages a run sends: at most one, which also says when Bybit refused the IP. */
function messagesFor(record: RunRecord, context: MessageContext, previousDrill?: RunRecord): Message[] {
  if (record.operation === 'killSwitch') return [killSwitchMessage(record, context)];
  // A reset that found nothing halted changed nothing: the log says so, nobody needs a message.
  const resetAccounts = (record.report as { accounts?: unknown[] } | undefined)?.accounts;
  if (record.operation === 'reset' && (!record.ok || (resetAccounts?.length ?? 0) > 0))
    return [resetMessage(record, context)];
  if (record.operation === 'drill' && !record.ok) return [drillFailedMessage(record, context)];
  if (record.operation === 'drill' && previousDrill && !previousDrill.ok) {
    return [drillRecoveredMessage(record, context, previousDrill.at)];
  }
  return context.ipRefusal ? [ipBanMessage(record, context)] : [];
}

/** Where a record goes: [key, ttl seconds (0: kept), what it is for the log]. */
function writes(record: RunRecord): [ReturnType<typeof recordKeys.last>, number, string][] {
  const list: [ReturnType<typeof recordKeys.last>, number, string][] = [
    [recordKeys.last(record.operation), 0, `the last ${record.operation}`],
  ];
  if (record.operation === 'killSwitch') {
    list.push([recordKeys.event(record.eventId ?? record.requestId), RECORD_TTL_SECONDS, 'the event record']);
  }
  if (record.operation === 'drill') {
    list.push([recordKeys.drill(record.at, record.requestId), RECORD_TTL_SECONDS, 'the drill history']);
  }
  return list;
}

/** The run as the stack remembers it. */
function recordOf(run: FinishedRun, report: Record<string, unknown> | undefined, clock: Clock): RunRecord {
  const { outcome, trigger } = run;
  const error = outcome.error as Error | undefined;
  const detail =
    trigger.type === 'killSwitch' ? (trigger.detail as Record<string, unknown> | null) : undefined;
  const origin = text(report?.origin) ?? text(detail?.origin);
  const reason = text(report?.reason) ?? text(detail?.reason);
  const eventId = trigger.type === 'killSwitch' ? text((run.event as { id?: unknown }).id) : undefined;
  const result = report as { ok?: unknown; confirmed?: unknown } | undefined;
  return {
    operation: run.operation,
    ok: error === undefined && result?.ok !== false && result?.confirmed !== false,
    at: new Date(run.startedAt).toISOString(),
    durationMs: clock.now() - run.startedAt,
    requestId: run.requestId,
    ...(eventId ? { eventId } : {}),
    trigger: TRIGGERS[trigger.type],
    ...(origin ? { origin } : {}),
    ...(reason ? { reason } : {}),
    functionName: run.functionName,
    logGroup: run.logGroup,
    ...(report ? { report: fitted(report, RECORD_REPORT_MAX_CHARS) } : {}),
    ...(error
      ? { error: { type: error.name ?? 'Error', message: String(error.message).slice(0, 1000) } }
      : {}),
  };
}

const TRIGGERS: Record<Trigger['type'], string> = {
  http: 'webhook',
  killSwitch: 'eventBridge',
  schedule: 'schedule',
  direct: 'direct',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, 500) : undefined;
}

/**
 * The report, or, when its JSON is longer than `maxChars`, the same with every list cut shorter until it fits
 * (`truncated: true`, and `<list>Omitted` counts beside each cut list). The totals stay whole.
 */
export function fitted(report: Record<string, unknown>, maxChars: number): Record<string, unknown> {
  if (JSON.stringify(report).length <= maxChars) return report;
  for (const keep of [100, 20, 5, 1, 0]) {
    const cut = { ...(capLists(report, keep) as Record<string, unknown>), truncated: true };
    if (JSON.stringify(cut).length <= maxChars) return cut;
  }
  return { operation: report.operation, ok: report.ok, truncated: true };
}

function capLists(value: unknown, keep: number): unknown {
  if (Array.isArray(value)) return value.slice(0, keep).map((item) => capLists(item, keep));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = capLists(item, keep);
    if (Array.isArray(item) && item.length > keep) out[`${key}Omitted`] = item.length - keep;
  }
  return out;
}
