import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Random, seedFrom, stratifiedSplit } from './random.ts';

/** First four words of `new Random('42')`, printed by this implementation when it was written. */
const GOLDEN_42 = [563361429, 1860017022, 3457806592, 128296802];

const draws = (random: Random, count: number): number[] => Array.from({ length: count }, () => random.nextUint32());

describe('seedFrom', () => {
  it('gives 32 bytes that depend on every part and on where the parts break', () => {
    const seed = seedFrom('job-1', 'batches', '0');

    expect(seed).toHaveLength(32);
    expect(seedFrom('job-1', 'batches', '0')).toEqual(seed);
    expect(seedFrom('job-1', 'batches', '1')).not.toEqual(seed);
    expect(seedFrom('a', 'bc')).not.toEqual(seedFrom('ab', 'c'));
    expect(seedFrom('a', '')).not.toEqual(seedFrom('a'));
  });
});

describe('Random', () => {
  it('is the AES-256-CTR keystream under a hash of the seed, read as little-endian words', () => {
    // Independent derivation with ECB on explicit counter blocks, so a change to the stream is caught.
    const seed = seedFrom('tandem');
    const key = createHash('sha256').update('tandem/random/aes-256-ctr').update(seed).digest();
    const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const counters = Buffer.alloc(32);
    counters[31] = 1; // blocks 0 and 1 of a zero IV
    const keystream = ecb.update(counters);

    const words = draws(new Random(seed), 8);

    expect(words).toEqual(Array.from({ length: 8 }, (_, i) => keystream.readUInt32LE(4 * i)));
  });

  it('pins the stream for a string seed so releases stay reproducible', () => {
    // A change here means jobs run by an older release no longer replay.
    expect(draws(new Random('42'), 4)).toEqual(draws(new Random(seedFrom('42')), 4));
    expect(draws(new Random('42'), 4)).toEqual(GOLDEN_42);
  });

  it('repeats exactly for the same seed and differs for another, across chunk refills', () => {
    const a = draws(new Random(seedFrom('s')), 10_000);
    const b = draws(new Random(seedFrom('s')), 10_000);
    const c = draws(new Random(seedFrom('t')), 10_000);

    expect(a).toEqual(b);
    expect(a.filter((x, i) => x === c[i]).length).toBeLessThan(3);
  });

  it('rejects a seed shorter than 16 bytes', () => {
    expect(() => new Random(new Uint8Array(8))).toThrow(new RangeError('a Random seed needs at least 16 bytes, got 8'));
  });

  it('draws floats in [0, 1) with mean 1/2 and variance 1/12', () => {
    const random = new Random('floats');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = random.nextFloat();
      sum += u;
      sumSq += u * u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    const mean = sum / n;

    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // Standard error of the mean is √(1/12/n) ≈ 6.5e-4; 5 SE keeps the test deterministic-safe.
    expect(Math.abs(mean - 0.5)).toBeLessThan(3.3e-3);
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(2e-3);
  });

  it('draws Gaussians with mean 0, variance 1 and about 95 % within ±1.96', () => {
    const random = new Random('gauss');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const z = random.nextGaussian();
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) < 1.96) inside++;
    }

    expect(Math.abs(sum / n)).toBeLessThan(0.012); // 5 standard errors
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.016);
    expect(Math.abs(inside / n - 0.95)).toBeLessThan(0.0025);
  });

  it('draws integers below a bound without favouring the low residues', () => {
    // Bound 3·2³⁰ is where plain modulo would be worst: residues below 2³⁰ would be twice as likely.
    const random = new Random('ints');
    const bound = 3 * 2 ** 30;
    let low = 0;
    const n = 60_000;
    for (let i = 0; i < n; i++) if (random.nextInt(bound) < 2 ** 30) low++;

    expect(Math.abs(low / n - 1 / 3)).toBeLessThan(0.01);
    expect(() => random.nextInt(0)).toThrow(new RangeError('nextInt bound must be an integer in [1, 2^32], got 0'));
  });

  it('makes permutations that contain every index once and put each index everywhere evenly', () => {
    const random = new Random('perm');
    const n = 5;
    const trials = 50_000;
    const counts = new Array<number>(n * n).fill(0);
    let invalid = 0;
    for (let t = 0; t < trials; t++) {
      const p = random.permutation(n);
      if (new Set(p).size !== n || p.some((v) => v >= n)) invalid++;
      p.forEach((value, position) => counts[value * n + position]!++);
    }

    expect(invalid).toBe(0);

    // Each cell expects 10,000; the binomial SD is ~89, so 500 is > 5 SD.
    for (const c of counts) expect(Math.abs(c - trials / n)).toBeLessThan(500);
  });

  it('shuffles plain arrays in place and returns the same array', () => {
    const array = ['a', 'b', 'c', 'd', 'e', 'f'];

    const returned = new Random('shuffle').shuffle(array);

    expect(returned).toBe(array);
    expect([...array].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(new Random('shuffle').permutation(0)).toHaveLength(0);
  });
});

describe('stratifiedSplit', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : i % 10 < 4 ? 2 : 0)); // 600 / 300 / 100

  it('puts round(count · fraction) of every class in the test set', () => {
    const { train, test } = stratifiedSplit(labels, 0.25, '42|split');

    const testByClass = [0, 0, 0];
    for (const i of test) testByClass[labels[i]!]!++;
    expect(testByClass).toEqual([150, 75, 25]);
    expect(train.length + test.length).toBe(1000);
  });

  it('returns sorted, disjoint index sets that cover every row', () => {
    const { train, test } = stratifiedSplit(labels, 0.2, '42|split');

    const isSorted = (a: Uint32Array): boolean => a.every((v, i) => i === 0 || v > a[i - 1]!);
    expect(isSorted(train) && isSorted(test)).toBe(true);
    expect(new Set([...train, ...test]).size).toBe(1000);
  });

  it('is the same for the same seed and different for another', () => {
    const a = stratifiedSplit(labels, 0.2, '42|split');
    const b = stratifiedSplit(labels, 0.2, seedFrom('42|split'));
    const c = stratifiedSplit(labels, 0.2, '43|split');

    expect(b.test).toEqual(a.test);
    expect(c.test).not.toEqual(a.test);
  });

  it('rounds each class separately, so a class of 3 at 20 % gives 1 row', () => {
    const { test } = stratifiedSplit(Int32Array.of(0, 0, 0, 1, 1, 1, 1, 1, 1, 1), 0.2, 'tiny');

    expect(test.length).toBe(1 + 1); // round(0.6) + round(1.4)
  });

  it('handles the edges: fraction 0, fraction 1, and no rows', () => {
    expect(stratifiedSplit(labels, 0, 's').test).toHaveLength(0);
    expect(stratifiedSplit(labels, 1, 's').train).toHaveLength(0);
    expect(stratifiedSplit(new Int32Array(0), 0.2, 's').test).toHaveLength(0);
    expect(() => stratifiedSplit(labels, 1.5, 's')).toThrow(new RangeError('testFraction must be in [0, 1], got 1.5'));
  });
});
