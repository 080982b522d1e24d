import { describe, expect, it } from 'vitest';
import { bucketCapacity, bucketCount, cuckooBins, cuckooFailureBoundLog2, valueBytes } from './params.ts';
import { Random } from '../../random.ts';

describe('OPRF-PSI parameters', () => {
  it('size the cuckoo table by the 2^-40 fit for large buckets and by the small-set bound for small ones', () => {
    expect(cuckooBins(0)).toBe(0);
    expect(cuckooBins(1 << 20) / (1 << 20)).toBeCloseTo((40 + 256 + 20) / 240, 2);
    for (const n of [1, 2, 10, 100, 1000, 4096]) {
      const m = cuckooBins(n);
      expect(m % 32).toBe(0);
      expect(cuckooFailureBoundLog2(n, m)).toBeLessThanOrEqual(-41);
    }
    // Two ids whose six bins coincide already fail with probability ~ n²/m⁵: 10 ids need hundreds of bins.
    expect(cuckooBins(10)).toBeGreaterThan(500);
  });

  it('compare values long enough that 3·n_R·n_S chance comparisons collide with probability below 2^-40', () => {
    expect(valueBytes(1 << 20, 1 << 20)).toBe(Math.ceil((40 + Math.log2(3) + 40) / 8));
    expect(valueBytes(1e6, 1e8)).toBe(12);
    expect(valueBytes(1, 1)).toBe(8);
    expect(valueBytes(2 ** 40, 2 ** 40)).toBe(16);
  });

  it('choose a power of two of buckets, at least the requested count and about 2^20 ids each', () => {
    expect(bucketCount(1000, 1000)).toBe(1);
    expect(bucketCount(10_000_000, 10_000_000)).toBe(16);
    expect(bucketCount(1_000_000, 100_000_000)).toBe(128);
    expect(bucketCount(1000, 1000, 3)).toBe(4);
  });

  it('pad buckets above what a seeded multinomial ever reaches, and not at all with one bucket', () => {
    expect(bucketCapacity(12345, 1)).toBe(12345);
    const random = new Random('buckets');
    const n = 200_000;
    const k = 16;
    const capacity = bucketCapacity(n, k);
    expect(capacity).toBeLessThan((n / k) * 1.1);
    for (let trial = 0; trial < 5; trial++) {
      const sizes = new Uint32Array(k);
      for (let i = 0; i < n; i++) sizes[random.nextUint32() >>> 28]!++;
      expect(Math.max(...sizes)).toBeLessThanOrEqual(capacity);
    }
  });
});
