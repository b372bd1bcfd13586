// How the stack stands, for a person (`npm run kill-switch -- --status`) and for a script (signed POST /status):
// whether trading is halted, whether the dead man's switch is armed and when it fires (from the Scheduler), the
// last kill switch and the last drill (from the state table). Each part is read on its own: one that cannot be
// read says why, and the others still answer. `ok` is true only when nothing needs a person's attention.

import type { AccountDrill } from '../cancel/drill.ts';
import type { HaltRecord } from '../cancel/halt.ts';
import type { KillSwitchReport } from '../cancel/kill-switch.ts';
import { StateHaltStore } from './halts.ts';
import { firedBy, when } from './messages.ts';
import { PARTITIONS, type RunRecord, recordKeys } from './records.ts';
import type { ScheduleStatus } from './scheduler.ts';
import type { StateStore } from './state.ts';

/** A drill older than this is overdue (the drill-missing alarm uses the same window). */
export const DRILL_OVERDUE_HOURS = 26;
const RECENT_DRILLS = 7;
const HOUR_MS = 3_600_000;

export interface Unreadable {
  error: string;
}

export interface KillSwitchSummary {
  at: string;
  ok: boolean;
  firedBy: string;
  origin?: string;
  reason?: string;
  accounts: number;
  cancelled: number;
  remaining: number;
  failedScopes: string[];
  durationMs: number;
  requestId: string;
  eventId?: string;
  logGroup: string;
  error?: { type: string; message: string };
}

export interface DrillFinding {
  account: string;
  code: string;
  message: string;
}

export interface DrillSummary {
  at: string;
  ok: boolean;
  accounts: number;
  problems: DrillFinding[];
  warnings: DrillFinding[];
  requestId: string;
  logGroup: string;
  error?: { type: string; message: string };
  /** The drills before it, newest first. */
  recent: { at: string; ok: boolean }[];
}

/** An account's halt as the status shows it. */
export interface HaltedAccount {
  account: string;
  since: string;
  /** What fired the kill switch that set it (`cli`, `deadMansSwitch`, `killSwitch`, …). */
  origin: string;
  reason?: string;
  eventId?: string;
  /** `enforced`: it made sub-account keys read-only (`keysReadOnly` confirmed so); `cooperative`: recorded only. */
  mode: 'enforced' | 'cooperative';
  keysReadOnly: number;
}

/** Whether trading is halted, from the halt records (partition `halt`, lib/lambda/halts.ts). */
export interface HaltStatus {
  halted: boolean;
  accounts: HaltedAccount[];
}

export interface StackStatus {
  operation: 'status';
  stage: string;
  ok: boolean;
  /** What needs a person, in words; empty when all is well. */
  attention: string[];
  checkedAt: string;
  halt: HaltStatus | Unreadable;
  deadMansSwitch: ScheduleStatus | Unreadable;
  /** Null when no kill switch has run (that the table remembers). */
  lastKillSwitch: KillSwitchSummary | null | Unreadable;
  /** Null when no drill has run. */
  lastDrill: DrillSummary | null | Unreadable;
}

export interface StatusSources {
  state: StateStore;
  schedule: { read(deadline?: number): Promise<ScheduleStatus> };
  stage: string;
  /** Epoch ms by which every read must have ended. */
  deadline?: number;
  now?: () => number;
}

/** Reads every part at once; never throws for a part that cannot be read. */
export async function readStatus(sources: StatusSources): Promise<StackStatus> {
  const now = (sources.now ?? Date.now)();
  const [halt, deadMansSwitch, lastKillSwitch, lastDrill] = await Promise.all([
    readable(() => readHalt(sources.state)),
    readable(() => sources.schedule.read(sources.deadline)),
    readable(() => lastKillSwitchOf(sources.state)),
    readable(() => lastDrillOf(sources.state)),
  ]);
  const attention = [
    ...unreadable('the halt', halt),
    ...('halted' in halt ? haltAttention(halt, sources.stage) : []),
    ...unreadable("the dead man's switch", deadMansSwitch),
    ...unreadable('the last kill switch', lastKillSwitch),
    ...killSwitchAttention(lastKillSwitch),
    ...unreadable('the last drill', lastDrill),
    ...drillAttention(lastDrill, now, sources.stage),
  ];
  return {
    operation: 'status',
    stage: sources.stage,
    ok: attention.length === 0,
    attention,
    checkedAt: new Date(now).toISOString(),
    halt,
    deadMansSwitch,
    lastKillSwitch,
    lastDrill,
  };
}

/** The halts standing now; a table that is not configured has none. */
async function readHalt(state: StateStore): Promise<HaltStatus> {
  if (!state.enabled) return { halted: false, accounts: [] };
  const accounts = (await new StateHaltStore(state).list()).map(haltedAccount);
  return { halted: accounts.length > 0, accounts };
}

export function haltedAccount(record: HaltRecord): HaltedAccount {
  const readOnly = record.keys.filter((k) => k.flipped).length;
  return {
    account: record.account,
    since: record.since,
    origin: record.origin,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.eventId !== undefined ? { eventId: record.eventId } : {}),
    mode: record.keys.length > 0 ? 'enforced' : 'cooperative',
    keysReadOnly: readOnly,
  };
}

function haltAttention(halt: HaltStatus, stage: string): string[] {
  if (!halt.halted) return [];
  const each = halt.accounts.map(
    (a) => `${a.account} since ${when(a.since)} (${a.origin}${a.reason ? `: ${a.reason}` : ''})`,
  );
  return [
    `trading is halted on ${each.join('; ')}: find out why, then reset: npm run kill-switch -- --reset --stage ${stage}`,
  ];
}

async function lastKillSwitchOf(state: StateStore): Promise<KillSwitchSummary | null> {
  const record = (await state.get<RunRecord>(recordKeys.last('killSwitch')))?.value;
  if (!record) return null;
  const report = record.report as Partial<KillSwitchReport> | undefined;
  return {
    at: record.at,
    ok: record.ok,
    firedBy: firedBy(record),
    ...(record.origin ? { origin: record.origin } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
    accounts: report?.accounts?.length ?? 0,
    cancelled: report?.cancelled ?? 0,
    remaining: report?.remaining ?? 0,
    failedScopes: report?.failedScopes ?? [],
    durationMs: report?.durationMs ?? record.durationMs,
    requestId: record.requestId,
    ...(record.eventId ? { eventId: record.eventId } : {}),
    logGroup: record.logGroup,
    ...(record.error ? { error: record.error } : {}),
  };
}

async function lastDrillOf(state: StateStore): Promise<DrillSummary | null> {
  const [last, recent] = await Promise.all([
    state.get<RunRecord>(recordKeys.last('drill')),
    state.query<RunRecord>(PARTITIONS.drills, { limit: RECENT_DRILLS }),
  ]);
  const record = last?.value;
  if (!record) return null;
  const accounts = ((record.report as { accounts?: AccountDrill[] } | undefined)?.accounts ?? []).filter(
    (a) => typeof a?.account === 'string',
  );
  const findings = (kind: 'problems' | 'warnings') =>
    accounts.flatMap((a) =>
      (a[kind] ?? []).map((f) => ({ account: a.account, code: f.code, message: f.message })),
    );
  return {
    at: record.at,
    ok: record.ok,
    accounts: accounts.length,
    problems: findings('problems'),
    warnings: findings('warnings'),
    requestId: record.requestId,
    logGroup: record.logGroup,
    ...(record.error ? { error: record.error } : {}),
    recent: recent
      .map((item) => item.value)
      .filter((r) => r.requestId !== record.requestId)
      .map((r) => ({ at: r.at, ok: r.ok })),
  };
}

function killSwitchAttention(last: KillSwitchSummary | null | Unreadable): string[] {
  if (last === null || isUnreadable(last) || last.ok) return [];
  const what =
    last.remaining > 0 ? `${last.remaining} order(s) still open` : 'it could not confirm everything clear';
  return [`the last kill switch (${last.at}) failed: ${what}`];
}

function drillAttention(last: DrillSummary | null | Unreadable, now: number, stage: string): string[] {
  if (last !== null && isUnreadable(last)) return [];
  if (last === null) return [`no drill has run yet: npm run kill-switch -- --drill --stage ${stage}`];
  const notes: string[] = [];
  if (!last.ok) {
    const accounts = [...new Set(last.problems.map((p) => p.account))];
    notes.push(
      last.problems.length
        ? `the last drill (${last.at}) found ${last.problems.length} problem(s) on ${accounts.join(', ')}`
        : `the last drill (${last.at}) failed: ${last.error?.message ?? 'no report'}`,
    );
  }
  const hours = (now - Date.parse(last.at)) / HOUR_MS;
  if (hours > DRILL_OVERDUE_HOURS) notes.push(`no drill for ${Math.floor(hours)} h (it runs daily)`);
  return notes;
}

function isUnreadable(value: unknown): value is Unreadable {
  return typeof value === 'object' && value !== null && typeof (value as Unreadable).error === 'string';
}

function unreadable(what: string, value: unknown): string[] {
  return isUnreadable(value) ? [`${what} could not be read: ${value.error}`] : [];
}

async function readable<T>(read: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await read();
  } catch (error) {
    return { error: (error as Error)?.message ?? String(error) };
  }
}
