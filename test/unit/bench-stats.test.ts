import { describe, expect, it } from 'vitest';
import { median, percentile } from '../../scripts/bench/stats.ts';

describe('median', () => {
  it('takes the middle sample of an odd count, whatever the input order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it('averages the two middle samples of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('leaves the samples it was given in their order', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('throws on no samples rather than inventing a value', () => {
    expect(() => median([])).toThrow(/no samples/);
  });
});

describe('percentile', () => {
  const oneToThousand = Array.from({ length: 1000 }, (_, i) => 1000 - i);

  it('returns the nearest-rank sample: p99 of 1..1000 is 990', () => {
    expect(percentile(oneToThousand, 99)).toBe(990);
  });

  it('returns the largest sample at p100 and the smallest at p0', () => {
    expect(percentile(oneToThousand, 100)).toBe(1000);
    expect(percentile(oneToThousand, 0)).toBe(1);
  });

  it('returns a sample of a small set, never an interpolation', () => {
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([10, 20, 30], 99)).toBe(30);
  });

  it('refuses a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(/within/);
  });
});
