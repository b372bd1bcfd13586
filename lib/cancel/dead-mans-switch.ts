// The dead man's switch: a bot that stops sending heartbeats gets everything cancelled. Each heartbeat moves
// one one-time schedule to now + ttl; when the schedule fires, it delivers the kill-switch event. Steps of a
// heartbeat:
//   0. while an account the heartbeat covers is halted (halt.ts), nothing of what follows happens: it is
//      refused (HaltedError, HTTP 423) and the schedule stays as it is, armed or not, until a person resets;
//   1. a heartbeat naming accounts: check them against the names the stack knows (never the keys); an unknown
//      one is refused by name, before anything moves;
//   2. take the switch's turn, in the order the heartbeats were made (their signed x-timestamp, or the
//      invocation's time): one older than the last one applied is refused and changes nothing, and only one
//      heartbeat moves the schedule at a time, so an answer is still true when it is given;
//   3. disarm: delete the schedule (a planned shutdown), and say it is off; otherwise compute when it fires
//      (now + ttl, whole seconds, never earlier than the ttl) and the kill-switch detail it will deliver, naming
//      this heartbeat's time, and create or move the schedule;
//   4. end the turn, recording this heartbeat as the last one applied, and say where the switch stands.
// Where the turns or the names are kept cannot be read, the heartbeat goes on unordered and unchecked: a detail
// of bookkeeping never fires the switch. The scheduler invokes with 60-second precision: it fires between
// firesAt and firesAt + 60 s.

import { type Clock, systemClock } from '../clock.ts';
import {
  HaltedError,
  HeartbeatBusyError,
  StaleHeartbeatError,
  type StandingHalt,
  ValidationError,
} from '../errors.ts';
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
  /** The accounts the kill switch will cover, when the heartbeat named some. */
  accounts?: string[];
  /** What the caller should know: the account names could not be checked. */
  warnings?: string[];
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

/** The last heartbeat or disarm applied to the schedule. */
export interface AppliedHeartbeat {
  /** When it was made (epoch ms): its order. */
  at: number;
  armed: boolean;
  firesAt: string | null;
}

/** What taking the switch's turn gave. */
export type Turn =
  /** This heartbeat is the newest, and it alone may move the schedule until it ends its turn. */
  | { kind: 'taken' }
  /** A heartbeat or disarm made at `newerAt` (or at the same time) was applied: this one is too late. */
  | { kind: 'stale'; newerAt: number }
  /** Another heartbeat is moving the schedule now. */
  | { kind: 'busy' }
  /** The order cannot be read (the state table): the heartbeat goes on without it. */
  | { kind: 'unordered' };

/** The order of heartbeats and disarms (the state table in production). */
export interface HeartbeatTurns {
  /** Takes the turn for a heartbeat made at `at` (epoch ms), held until `until` at the latest. */
  take(at: number, until: number): Promise<Turn>;
  /** Ends a taken turn; `applied` records the heartbeat as the last one applied (absent: it changed nothing). */
  end(applied?: AppliedHeartbeat): Promise<void>;
}

/** The account names the kill switch can cover (names only, never keys). */
export interface KnownAccounts {
  /** The names; undefined when they are not known (not yet recorded, or unreadable). */
  names(): Promise<string[] | undefined>;
}

/** What a heartbeat runs with. */
export interface HeartbeatContext {
  schedule: DeadMansSwitchSchedule;
  turns: HeartbeatTurns;
  accounts: KnownAccounts;
  /** When the heartbeat was made: its signed x-timestamp, or the invocation's start (epoch ms). */
  at: number;
  /** Epoch ms by which the heartbeat must have answered. */
  deadline: number;
  clock?: Clock;
  /** The halts standing now; without it, no halt refuses the heartbeat (a local run without a table). */
  halts?: HaltReader;
}

/** A turn is held this much past the holder's deadline: its last Scheduler call has ended by then. */
export const TURN_MARGIN_MS = 2000;
/** What a heartbeat keeps back from its deadline for its own Scheduler calls before it gives up waiting. */
const TURN_WAIT_RESERVE_MS = 1000;
/** Between two tries for a busy turn: a short pause, jittered so that two waiting heartbeats do not collide. */
const TURN_RETRY_MS = { min: 25, max: 100 };
export const UNCHECKED_HALTS_WARNING =
  'the halts could not be read (the state table did not answer): if trading is halted, stop, and ask a person';
export const UNCHECKED_ACCOUNTS_WARNING =
  'the account names could not be checked (no function has read the exchange secret since the deploy, or the state table did not answer); if a name is not in the secret when the switch fires, it covers every account';

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
export type HaltReader = () => Promise<HaltRecord[] | undefined>;

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
 * One heartbeat: moves (or deletes, on disarm) the schedule, in turn, and says where it stands. With `halts`, a
 * heartbeat covering a halted account throws HaltedError before anything else. Halts that cannot be read
 * (undefined) do not refuse it: like its order and its accounts, it goes on unchecked and says so, because a
 * refused heartbeat would fire the switch over a detail of bookkeeping.
 */
export async function heartbeat(
  request: HeartbeatRequest,
  context: HeartbeatContext,
): Promise<HeartbeatReport> {
  const clock = context.clock ?? systemClock;
  const halts = context.halts ? await context.halts() : [];
  const standing = haltsCovering(halts ?? [], request.accounts);
  if (standing.length > 0) throw new HaltedError(standing);
  const warnings = request.disarm ? [] : await checkAccounts(request.accounts, context.accounts);
  if (!halts) warnings.push(UNCHECKED_HALTS_WARNING);
  const turn = await takeTurn(context, clock);
  const now = new Date(clock.now());
  let applied: AppliedHeartbeat;
  try {
    if (request.disarm) {
      await context.schedule.disarm();
      applied = { at: context.at, armed: false, firesAt: null };
    } else {
      const plan = armPlan(request, now);
      await context.schedule.arm(plan);
      applied = { at: context.at, armed: true, firesAt: plan.firesAt.toISOString() };
    }
  } catch (error) {
    if (turn === 'taken') await context.turns.end();
    throw error;
  }
  if (turn === 'taken') await context.turns.end(applied);
  return {
    operation: 'heartbeat',
    armed: applied.armed,
    firesAt: applied.firesAt,
    ttlSeconds: request.ttlSeconds,
    ...(request.accounts && !request.disarm ? { accounts: request.accounts } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Refuses a heartbeat naming an account the stack does not know; a warning when the names are not known. */
async function checkAccounts(named: string[] | undefined, accounts: KnownAccounts): Promise<string[]> {
  if (!named) return [];
  const known = await accounts.names();
  if (!known) return [UNCHECKED_ACCOUNTS_WARNING];
  const unknown = named.filter((name) => !known.includes(name));
  if (unknown.length === 0) return [];
  const list = unknown.map((name) => `"${name}"`).join(', ');
  throw new ValidationError(
    'accounts',
    `unknown account${unknown.length > 1 ? 's' : ''} ${list}: the exchange secret holds ${known.join(', ')}`,
  );
}

/** Waits its turn (never past the deadline): `taken`, or `unordered` when the order cannot be read. */
async function takeTurn(context: HeartbeatContext, clock: Clock): Promise<'taken' | 'unordered'> {
  for (;;) {
    const turn = await context.turns.take(context.at, context.deadline + TURN_MARGIN_MS);
    if (turn.kind === 'taken' || turn.kind === 'unordered') return turn.kind;
    if (turn.kind === 'stale') throw new StaleHeartbeatError(new Date(turn.newerAt).toISOString());
    const pause = TURN_RETRY_MS.min + Math.random() * (TURN_RETRY_MS.max - TURN_RETRY_MS.min);
    if (clock.now() + pause > context.deadline - TURN_WAIT_RESERVE_MS) throw new HeartbeatBusyError();
    await clock.sleep(pause);
  }
}
