// The IP budget: Bybit allows 600 requests per 5 s per source IP, for every key together, and answers a
// request past that with HTTP 403 and a ban of ten minutes or more (docs/v5/rate-limit/rate-limit.mdx).
// One budget per container is shared by every client of every account; each attempt takes a unit before
// it is sent. Waiting requests hold no socket: they queue here, by priority, and round-robin across
// accounts within a priority. A 403 closes the budget: everything queued fails at once, and so does every
// later request until the ban has passed, in this invocation and the next warm one.

import { DeadlineExceededError, type IpRefusedError } from '../errors.ts';

export type Priority = 'first-wave' | 'verify' | 'routine' | 'background';

/** Bybit's window for the IP limit. */
export const IP_WINDOW_MS = 5000;
/** Bybit's limit per IP in that window, for every key together ("600 requests within a 5-second window"). */
export const IP_LIMIT_PER_5S = 600;
/** Per container: two thirds of Bybit's 600, the rest is headroom (see the README's capacity section). */
export const DEFAULT_IP_REQUESTS_PER_5S = 400;
/** Bybit: "wait for at least 10 minutes". Until then this container sends nothing. */
export const BAN_HOLD_MS = 10 * 60_000;
/** Slack for the exchange counting a request later than we do. */
const SAFETY_MS = 50;
/** A waiter with less time than this left could not complete a request: fail it instead. */
const MIN_LEFT_MS = 25;

const ORDER: readonly Priority[] = ['first-wave', 'verify', 'routine', 'background'];

export interface IpBudgetOptions {
  /** Requests this container may send in any 5 s window. */
  requestsPer5s?: number;
  /** Requests in flight at once; default one second's worth of the budget (so 400 → 80 sockets). */
  maxInFlight?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A unit taken from the budget: give it back with `release` once the request has an answer (or failed). */
export interface IpTicket {
  released: boolean;
}

interface Waiter {
  owner: unknown;
  deadline: number;
  resolve: (ticket: IpTicket) => void;
  reject: (error: Error) => void;
}

/** Per priority: one FIFO per owner (account), served round-robin. */
class Lane {
  private readonly queues = new Map<unknown, Waiter[]>();
  private turn: unknown[] = [];

  get size(): number {
    return this.turn.length;
  }

  push(waiter: Waiter): void {
    this.soonest = Math.min(this.soonest, waiter.deadline);
    const queue = this.queues.get(waiter.owner);
    if (queue) queue.push(waiter);
    else {
      this.queues.set(waiter.owner, [waiter]);
      this.turn.push(waiter.owner);
    }
  }

  /** The next owner's oldest waiter; that owner goes to the back of the turn. */
  shift(): Waiter | undefined {
    const owner = this.turn.shift();
    if (owner === undefined) return undefined;
    const queue = this.queues.get(owner) as Waiter[];
    const waiter = queue.shift() as Waiter;
    if (queue.length > 0) this.turn.push(owner);
    else this.queues.delete(owner);
    return waiter;
  }

  /**
   * No waiter's deadline is earlier; kept on push, exact again after `remove`, so a pump pays for a scan
   * of the queues only when a deadline may have come (a served waiter leaves it early, never late).
   */
  soonest = Number.POSITIVE_INFINITY;

  /** Removes and returns the waiters `drop` selects. */
  remove(drop: (waiter: Waiter) => boolean): Waiter[] {
    this.soonest = Number.POSITIVE_INFINITY;
    const removed: Waiter[] = [];
    for (const [owner, queue] of this.queues) {
      const kept: Waiter[] = [];
      for (const w of queue) {
        if (drop(w)) removed.push(w);
        else {
          kept.push(w);
          this.soonest = Math.min(this.soonest, w.deadline);
        }
      }
      if (kept.length > 0) this.queues.set(owner, kept);
      else this.queues.delete(owner);
    }
    this.turn = this.turn.filter((owner) => this.queues.has(owner));
    return removed;
  }
}

export class IpBudget {
  readonly requestsPer5s: number;
  readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When each unit of the window frees up; Infinity while its request is in flight. */
  private frees: number[] = [];
  private inFlight = 0;
  private readonly lanes = new Map<Priority, Lane>(ORDER.map((p) => [p, new Lane()]));
  private refusal: { error: IpRefusedError; until: number } | undefined;
  /** When the pending wake-up fires (only one is kept: the earliest). */
  private wakeAt = Number.POSITIVE_INFINITY;
  /** Requests sent since the container started (for reports and benchmarks). */
  sent = 0;
  /** Requests that had to queue for a unit since the container started (a metric: the budget slowed work). */
  waits = 0;
  /** 403 refusals that started a hold since the container started (a metric, and a message to a person). */
  refusals = 0;

  constructor(options: IpBudgetOptions = {}) {
    this.requestsPer5s = options.requestsPer5s ?? DEFAULT_IP_REQUESTS_PER_5S;
    this.maxInFlight = options.maxInFlight ?? Math.max(1, Math.ceil(this.requestsPer5s / 5));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The refusal in force (a 403 less than BAN_HOLD_MS ago), if any. */
  get refused(): IpRefusedError | undefined {
    if (this.refusal && this.now() >= this.refusal.until) this.refusal = undefined;
    return this.refusal?.error;
  }

  /**
   * Waits for a unit, then takes it. `owner` identifies the account (its client), for fairness. Throws the
   * refusal when the IP is banned, DeadlineExceededError when no unit came in time.
   */
  acquire(owner: unknown, priority: Priority, deadline: number): Promise<IpTicket> {
    const refused = this.refused;
    if (refused) return Promise.reject(refused);
    return new Promise<IpTicket>((resolve, reject) => {
      let served = false;
      const take = (ticket: IpTicket) => {
        served = true;
        resolve(ticket);
      };
      (this.lanes.get(priority) as Lane).push({ owner, deadline, resolve: take, reject });
      this.pump();
      if (!served) this.waits++;
    });
  }

  /**
   * The request has an answer: Bybit has counted it, its unit frees one window later. A request that got
   * none (timed out, connection lost) may still reach Bybit: `unansweredMs` keeps its unit that much longer.
   */
  release(ticket: IpTicket, unansweredMs = 0): void {
    if (ticket.released) return;
    ticket.released = true;
    this.inFlight--;
    const slot = this.frees.indexOf(Number.POSITIVE_INFINITY);
    if (slot >= 0) this.frees[slot] = this.now() + IP_WINDOW_MS + SAFETY_MS + unansweredMs;
    this.pump();
  }

  /** The request never left this machine: Bybit did not count it, so its unit frees now. */
  giveBack(ticket: IpTicket): void {
    if (ticket.released) return;
    ticket.released = true;
    this.inFlight--;
    this.sent--;
    const slot = this.frees.indexOf(Number.POSITIVE_INFINITY);
    if (slot >= 0) this.frees.splice(slot, 1);
    this.pump();
  }

  /** Bybit answered 403: nothing more goes out until the hold has passed; every waiter fails now. */
  refuse(error: IpRefusedError): void {
    if (!this.refused) {
      this.refusal = { error, until: this.now() + BAN_HOLD_MS };
      this.refusals++;
    }
    const current = this.refusal?.error ?? error;
    for (const lane of this.lanes.values()) for (const w of lane.remove(() => true)) w.reject(current);
  }

  private pump(): void {
    const now = this.now();
    this.frees = this.frees.filter((t) => t > now);
    this.expire(now);
    while (this.inFlight < this.maxInFlight && this.frees.length < this.requestsPer5s) {
      const waiter = this.next();
      if (!waiter) return;
      this.inFlight++;
      this.sent++;
      this.frees.push(Number.POSITIVE_INFINITY);
      waiter.resolve({ released: false });
    }
    if (![...this.lanes.values()].some((lane) => lane.size > 0)) return;
    // Window-bound: wake when its oldest unit frees. In-flight-bound: release() pumps. Deadlines: wake for them.
    const frees = this.frees.filter(Number.isFinite);
    const windowWake =
      this.frees.length >= this.requestsPer5s && frees.length > 0 ? Math.min(...frees) : Infinity;
    this.schedule(Math.min(windowWake, this.earliestDeadline() - MIN_LEFT_MS));
  }

  private next(): Waiter | undefined {
    for (const priority of ORDER) {
      const waiter = (this.lanes.get(priority) as Lane).shift();
      if (waiter) return waiter;
    }
    return undefined;
  }

  private expire(now: number): void {
    for (const lane of this.lanes.values()) {
      if (lane.soonest - now >= MIN_LEFT_MS) continue;
      for (const w of lane.remove((w) => w.deadline - now < MIN_LEFT_MS)) {
        w.reject(new DeadlineExceededError('IP budget (queued)'));
      }
    }
  }

  private earliestDeadline(): number {
    return Math.min(...[...this.lanes.values()].map((lane) => lane.soonest));
  }

  private schedule(at: number): void {
    if (!Number.isFinite(at) || at >= this.wakeAt) return;
    this.wakeAt = at;
    void this.sleep(Math.max(1, at - this.now())).then(() => {
      if (this.wakeAt === at) this.wakeAt = Number.POSITIVE_INFINITY;
      this.pump();
    });
  }
}
