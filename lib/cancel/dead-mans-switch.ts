// The dead man's switch: a bot that stops sending heartbeats gets everything cancelled. Each heartbeat moves
// one one-time schedule to now + ttl; when the schedule fires, it delivers the kill-switch event. Steps of a
// heartbeat:
//   1. disarm: delete the schedule (a planned shutdown), and say it is off;
//   2. otherwise compute when it fires (now + ttl, whole seconds, never earlier than the ttl) and the
//      kill-switch detail it will deliver, naming this heartbeat's time;
//   3. create or move the schedule, and say when it fires.
// The scheduler invokes with 60-second precision: it fires between firesAt and firesAt + 60 s.
// While an account the heartbeat covers is halted (halt.ts), nothing of this happens: the heartbeat is
// refused (HaltedError, HTTP 423) and the schedule stays as it is, armed or not, until a person resets.

import { HaltedError, type StandingHalt } from '../errors.ts';
import type { HaltRecord } from './halt.ts';

export const TTL_MIN_SECONDS = 120;
export const TTL_MAX_SECONDS = 86_400;
/** EventBridge Scheduler runs a one-time schedule within the minute of its time. */
export const PRECISION_SECONDS = 60;
/** The `origin` a kill-switch event of the dead man's switch carries (detail, report, logs, metrics). */
export const DEAD_MANS_SWITCH_ORIGIN = 'deadMansSwitch';
/** Room left in the kill switch's 500-character reason for the prefix this switch adds. */
export const HEARTBEAT_REASON_MAX = 400;

export interface HeartbeatRequest {
  ttlSeconds: number;
  disarm: boolean;
  accounts?: string[];
  reason?: string;
}

export interface HeartbeatReport {
  operation: 'heartbeat';
  armed: boolean;
  /** ISO time the schedule is set for (it fires within the following minute); null when disarmed. */
  firesAt: string | null;
  ttlSeconds: number;
}

/** The `detail` of the kill-switch event the schedule delivers (parseKillSwitchDetail's fields). */
export interface DeadMansSwitchDetail {
  origin: typeof DEAD_MANS_SWITCH_ORIGIN;
  reason: string;
  accounts?: string[];
}

/** What the schedule must hold after a heartbeat. */
export interface ArmPlan {
  firesAt: Date;
  /** `at(yyyy-mm-ddThh:mm:ss)`, UTC. */
  expression: string;
  detail: DeadMansSwitchDetail;
}

/** The one schedule, wherever it lives (EventBridge Scheduler in production). */
export interface DeadMansSwitchSchedule {
  /** Creates the schedule, or moves it when it exists. */
  arm(plan: ArmPlan): Promise<{ created: boolean }>;
  /** Deletes the schedule; false when there was none. */
  disarm(): Promise<boolean>;
}

/** The schedule's name, so the deployment can grant IAM on exactly that name. */
export function scheduleName(stage: string): string {
  return `bybit-cancel-${stage}-dead-mans-switch`;
}

/** True when `ttlSeconds` is a whole number of seconds inside the allowed range. */
export function isAllowedTtl(ttlSeconds: number): boolean {
  return Number.isInteger(ttlSeconds) && ttlSeconds >= TTL_MIN_SECONDS && ttlSeconds <= TTL_MAX_SECONDS;
}

/** now + ttl, rounded up to the whole second `at()` can name, so it never fires before the ttl has passed. */
export function firesAt(now: Date, ttlSeconds: number): Date {
  return new Date(Math.ceil((now.getTime() + ttlSeconds * 1000) / 1000) * 1000);
}

/** A one-time schedule expression for `time`, in UTC. */
export function atExpression(time: Date): string {
  return `at(${time.toISOString().slice(0, 19)})`;
}

/** The time an `at(yyyy-mm-ddThh:mm:ss)` expression names (UTC), or undefined when it is not one. */
export function parseAtExpression(expression: string): Date | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match) return undefined;
  const time = new Date(`${match[1]}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** The kill switch's reason: when the last heartbeat came, then the bot's own words. */
export function deadMansSwitchReason(lastHeartbeat: Date, reason?: string): string {
  const base = `dead man's switch: no heartbeat since ${lastHeartbeat.toISOString()}`;
  return reason ? `${base}; ${reason}` : base;
}

/** What a heartbeat at `now` makes the schedule hold. */
export function armPlan(request: HeartbeatRequest, now: Date): ArmPlan {
  const time = firesAt(now, request.ttlSeconds);
  const detail: DeadMansSwitchDetail = {
    origin: DEAD_MANS_SWITCH_ORIGIN,
    reason: deadMansSwitchReason(now, request.reason),
  };
  if (request.accounts) detail.accounts = request.accounts;
  return { firesAt: time, expression: atExpression(time), detail };
}

/** The halts standing now (the state table, in production). */
export type HaltReader = () => Promise<HaltRecord[]>;

/**
 * The halts that refuse a heartbeat: those of the accounts it names, or, when it names none, every halt. A
 * heartbeat that names no account arms a switch that cancels every account, so any halt stops it.
 */
export function haltsCovering(halts: HaltRecord[], accounts: readonly string[] | undefined): StandingHalt[] {
  return halts
    .filter((h) => !accounts || accounts.includes(h.account))
    .map(({ account, since, origin, reason }) => ({
      account,
      since,
      origin,
      ...(reason !== undefined ? { reason } : {}),
    }));
}

/**
 * One heartbeat: moves (or deletes, on disarm) the schedule and says where it stands. With `halts`, a heartbeat
 * covering a halted account throws HaltedError before any Scheduler call; a halt that cannot be read throws
 * too (the schedule stays: if the bot goes quiet, it fires, which is the safe side).
 */
export async function heartbeat(
  schedule: DeadMansSwitchSchedule,
  request: HeartbeatRequest,
  now: Date,
  halts?: HaltReader,
): Promise<HeartbeatReport> {
  if (halts) {
    const standing = haltsCovering(await halts(), request.accounts);
    if (standing.length > 0) throw new HaltedError(standing);
  }
  if (request.disarm) {
    await schedule.disarm();
    return { operation: 'heartbeat', armed: false, firesAt: null, ttlSeconds: request.ttlSeconds };
  }
  const plan = armPlan(request, now);
  await schedule.arm(plan);
  return {
    operation: 'heartbeat',
    armed: true,
    firesAt: plan.firesAt.toISOString(),
    ttlSeconds: request.ttlSeconds,
  };
}
