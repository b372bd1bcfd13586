import { type Random, seededRandom } from './random.ts';
import type { SurvivorPlan } from './types.ts';

interface Fate {
  chosen: boolean;
  survived: number;
}

/**
 * Orders whose cancel is acknowledged but does not take: Bybit's cancel is asynchronous, so an acknowledged
 * order can still be open (or fill) afterwards, and a sweep must verify rather than trust the acknowledgement.
 */
export class Survivors {
  #plan: SurvivorPlan | null = null;
  #fates = new Map<string, Fate>();
  #random: Random;
  #defaultSeed: number;

  constructor(defaultSeed: number) {
    this.#defaultSeed = defaultSeed;
    this.#random = seededRandom(defaultSeed);
  }

  set(plan: SurvivorPlan | null): void {
    if (plan?.rate !== undefined && !(plan.rate >= 0 && plan.rate <= 1)) {
      throw new Error(`survivor rate must be within [0, 1]: ${plan.rate}`);
    }
    this.#plan = plan ? { ...plan, orderIds: plan.orderIds && [...plan.orderIds] } : null;
    this.#fates.clear();
    this.#random = seededRandom(plan?.seed ?? this.#defaultSeed);
  }

  /** Called once per acknowledged cancel of `orderId`: true when the order is to stay open this time. */
  survives(orderId: string): boolean {
    const plan = this.#plan;
    if (!plan) return false;
    let fate = this.#fates.get(orderId);
    if (!fate) {
      const named = plan.orderIds?.includes(orderId) ?? false;
      // The draw happens once per order, on its first cancel: `rate` picks orders, not attempts.
      const chosen = named || (plan.rate !== undefined && this.#random() < plan.rate);
      fate = { chosen, survived: 0 };
      this.#fates.set(orderId, fate);
    }
    if (!fate.chosen) return false;
    const named = plan.orderIds?.includes(orderId) ?? false;
    const times = plan.times ?? (named ? Number.POSITIVE_INFINITY : 1);
    if (fate.survived >= times) return false;
    fate.survived += 1;
    return true;
  }

  clear(): void {
    this.set(null);
  }
}
