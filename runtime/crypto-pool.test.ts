import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { blind, hashIds, newScalar } from '../protocol/psi/group.ts';
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../protocol/he/params.ts';
import { Random } from '../protocol/random.ts';
import { liveSealObjects } from '../protocol/he/seal-runtime.ts';
import { CryptoPool } from './crypto-pool.ts';

describe('the crypto worker pool', () => {
  let suite: CkksSuite;
  let keys: CkksKeyHolder;
  let enc: CkksEncryptor;
  const random = new Random('crypto-pool-test');
  const pool = new CryptoPool(2);
  const vector = (n: number, amplitude = 1): Float64Array =>
    Float64Array.from({ length: n }, () => (random.nextFloat() * 2 - 1) * amplitude);

  beforeAll(async () => {
    suite = await CkksSuite.create(DEFAULT_CKKS_PARAMS);
    keys = new CkksKeyHolder(suite);
    enc = new CkksEncryptor(suite, keys.publicKey);
  });
  afterAll(async () => {
    enc.dispose();
    keys.dispose();
    suite.dispose();
    await pool.close();
  });

  it('blinds PSI elements to the same bytes as one thread', async () => {
    const elements = hashIds(
      randomBytes(32),
      Array.from({ length: 5000 }, (_, i) => `user-${i}`),
    );
    const scalar = newScalar();
    const progress: number[] = [];
    const pooled = await pool.blind(scalar, elements, (done) => progress.push(done));
    expect(Buffer.from(pooled).equals(Buffer.from(blind(scalar, elements)))).toBe(true);
    expect(progress.at(-1)).toBe(5000);
  });

  it('names the low-order element a worker rejected, as one thread does', async () => {
    const elements = hashIds(
      randomBytes(32),
      Array.from({ length: 4000 }, (_, i) => `user-${i}`),
    );
    elements.fill(0, 3001 * 32, 3002 * 32); // u = 0: a point of order 2
    expect(() => blind(newScalar(), elements)).toThrow('PSI element 3001 is a low-order point');
    await expect(pool.blind(newScalar(), elements)).rejects.toThrow('PSI element 3001 is a low-order point');
  });

  it('encrypts and computes masked weighted sums that decrypt like the single-thread path', async () => {
    const slots = suite.slots;
    const basisValues = Array.from({ length: 6 }, () => vector(slots));
    const pooledBasis = await pool.encryptAll(suite, enc, basisValues);
    expect(pooledBasis).toHaveLength(6);
    const coefficients = Array.from({ length: 6 }, () => vector(slots, 0.3));
    const constant = vector(slots, 0.5);
    const residual = suite.combine(pooledBasis, coefficients, constant, enc);
    const single = suite.combine(
      basisValues.map((v) => enc.encrypt(v)),
      coefficients,
      constant,
      enc,
    );
    const columns = Array.from({ length: 9 }, () => vector(slots, 2));
    const column = (_c: number, j: number): Float64Array => columns[j] as Float64Array;
    const pooled = await pool.maskedWeightedSumsAll(suite, enc, [residual], columns.length, column);
    const reference = suite.maskedWeightedSums([single], columns.length, column, enc);
    const d = Float64Array.from(
      constant,
      (c, i) => c + coefficients.reduce((s, co, k) => s + (co[i] ?? 0) * (basisValues[k]?.[i] ?? 0), 0),
    );
    expect(pooled).toHaveLength(columns.length);
    pooled.forEach((m, j) => {
      const plain = (columns[j] as Float64Array).reduce((s, x, i) => s + x * (d[i] ?? 0), 0);
      const fromPool = suite.unmask(keys.maskedConstant(m.ciphertext), m);
      const fromOne = suite.unmask(keys.maskedConstant(reference[j]!.ciphertext), reference[j]!);
      // Both within CKKS precision of plaintext, so within twice that of each other.
      expect(Math.abs(fromPool - plain)).toBeLessThan(1e-3);
      expect(Math.abs(fromPool - fromOne)).toBeLessThan(2e-3);
    });
  });

  it(
    'frees every SEAL object it allocates, on the workers and here, round after round',
    { timeout: 120_000 },
    async () => {
      const slots = suite.slots;
      const columns = Array.from({ length: 20 }, () => vector(slots));
      const round = async (): Promise<void> => {
        const cts = await pool.encryptAll(
          suite,
          enc,
          Array.from({ length: 6 }, () => vector(slots)),
        );
        const residual = suite.combine(
          cts,
          Array.from({ length: 6 }, () => vector(slots, 0.3)),
          vector(slots),
          enc,
        );
        await pool.maskedWeightedSumsAll(suite, enc, [residual], columns.length, (_c, j) => columns[j] as Float64Array);
      };
      for (let k = 0; k < 3; k++) await round(); // every worker has its SEAL context and encryptor
      const workersBefore = await pool.workerSealObjects();
      const here = liveSealObjects();
      const rss = process.memoryUsage().rss;
      for (let k = 0; k < 25; k++) await round();
      expect(workersBefore).toHaveLength(2);
      expect(await pool.workerSealObjects()).toEqual(workersBefore);
      expect(liveSealObjects()).toBe(here);
      // Loose: V8 heaps take ~60 such rounds to settle (then flat, measured); a leaked round would add ~10 MB of WASM heap that never shrinks.
      expect(process.memoryUsage().rss - rss).toBeLessThan(192 * 2 ** 20);
    },
  );
});
