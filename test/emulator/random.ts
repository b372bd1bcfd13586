/** A uniform number in [0, 1). */
export type Random = () => number;

export const DEFAULT_SEED = 1;

/**
 * A small seeded PRNG (mulberry32): faults, survivors and cancel-all's pick must replay identically
 * from a seed, which Math.random cannot do.
 */
export function seededRandom(seed: number = DEFAULT_SEED): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
