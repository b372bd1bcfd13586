import { type Random, seededRandom } from './random.ts';
import { FAULT_KINDS, type FaultKind, type FaultPlan } from './types.ts';

interface Scheduled {
  kind: FaultKind;
  remaining: number;
  path: string | undefined;
}

/**
 * Decides which requests fail and how: first the deterministic `failNext` queue, then the random plan.
 * Without an explicit path a fault only hits private endpoints, so clients can still read the server time.
 */
export class FaultInjector {
  #queue: Scheduled[] = [];
  #plan: FaultPlan | null = null;
  #random: Random;
  #defaultSeed: number;

  constructor(defaultSeed: number) {
    this.#defaultSeed = defaultSeed;
    this.#random = seededRandom(defaultSeed);
  }

  setPlan(plan: FaultPlan | null): void {
    if (plan) {
      if (!(plan.rate >= 0 && plan.rate <= 1))
        throw new Error(`fault rate must be within [0, 1]: ${plan.rate}`);
      if (plan.kinds.length === 0) throw new Error('a fault plan needs at least one kind');
      plan.kinds.forEach(assertKind);
    }
    this.#plan = plan ? { ...plan, kinds: [...plan.kinds] } : null;
    this.#random = seededRandom(plan?.seed ?? this.#defaultSeed);
  }

  failNext(kind: FaultKind, count = 1, path?: string): void {
    assertKind(kind);
    if (count > 0) this.#queue.push({ kind, remaining: count, path });
  }

  /** The fault for this request, if any; consumes a queued one. */
  draw(path: string, isPrivate: boolean): FaultKind | undefined {
    const applies = (paths: string[] | undefined) => (paths ? paths.includes(path) : isPrivate);
    const queued = this.#queue.find((s) => applies(s.path === undefined ? undefined : [s.path]));
    if (queued) {
      queued.remaining -= 1;
      if (queued.remaining === 0) this.#queue.splice(this.#queue.indexOf(queued), 1);
      return queued.kind;
    }
    const plan = this.#plan;
    if (!plan || !applies(plan.paths)) return undefined;
    if (this.#random() >= plan.rate) return undefined;
    return plan.kinds[Math.floor(this.#random() * plan.kinds.length)];
  }

  /** One of 502/503/504, from the same seeded sequence so that runs replay. */
  gatewayStatus(): number {
    return [502, 503, 504][Math.floor(this.#random() * 3)] ?? 502;
  }

  clear(): void {
    this.#queue = [];
    this.setPlan(null);
  }
}

function assertKind(kind: FaultKind): void {
  if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind ${String(kind)}`);
}
