import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { CkksEncryptor, CkksKeyHolder, CkksSuite, type MaskedSum } from './ckks.ts';
import { DEFAULT_CKKS_PARAMS } from './params.ts';
import { liveSealObjects, withScope } from './seal-runtime.ts';
import { ProtocolError } from '../errors.ts';
import { inflateMasked } from './compact-masked.ts';
import { modPow, SCALE_OFFSET } from './plaintext-layout.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vector(n: number, random: () => number, amplitude = 1): Float64Array {
  return Float64Array.from({ length: n }, () => (random() * 2 - 1) * amplitude);
}

describe('CKKS suite', () => {
  let suite: CkksSuite;
  let keys: CkksKeyHolder;
  let enc: CkksEncryptor;
  const decryptSum = (masked: MaskedSum): number => suite.unmask(keys.maskedConstant(masked.ciphertext), masked);

  beforeAll(async () => {
    suite = await CkksSuite.create(DEFAULT_CKKS_PARAMS);
    keys = new CkksKeyHolder(suite);
    enc = new CkksEncryptor(suite, keys.publicKey);
  });
  afterAll(() => {
    enc.dispose();
    keys.dispose();
    suite.dispose();
  });

  it('recovers the slot sum of a residual times a feature column through a uniformly random mask', () => {
    // Arrange: one host basis ciphertext (the identity basis) so the residual equals coefficient ⊙ basis + constant.
    const random = seeded(1);
    const n = suite.slots;
    const basisValues = vector(n, random);
    const coefficient = vector(n, random);
    const constant = vector(n, random, 0.5);
    const feature = vector(n, random, 3);
    let expected = 0;
    for (let i = 0; i < n; i++) expected += (coefficient[i]! * basisValues[i]! + constant[i]!) * feature[i]!;

    // Act
    const residual = suite.combine([enc.encrypt(basisValues)], [coefficient], constant, enc);
    const [masked] = suite.maskedWeightedSums([residual], 1, () => feature, enc);
    const got = decryptSum(masked!);

    // Assert: CKKS error on a sum of 4096 products is far below 1e-4.
    expect(Math.abs(got - expected)).toBeLessThan(1e-4);
  });

  it('sums several chunks and several basis ciphertexts the way a mini-batch does', () => {
    const random = seeded(2);
    const n = suite.slots;
    const chunks = 3;
    const basisCount = 4;
    let expected = 0;
    let expectedBias = 0;
    const residuals: Uint8Array[] = [];
    const features: Float64Array[] = [];
    for (let c = 0; c < chunks; c++) {
      const rows = c === chunks - 1 ? 1000 : n; // a short last chunk, as in real batches
      const basis = Array.from({ length: basisCount }, () => vector(rows, random));
      const coeffs = Array.from({ length: basisCount }, () => vector(rows, random, 0.3));
      const constant = vector(rows, random, 0.5);
      const x = vector(rows, random, 2);
      for (let i = 0; i < rows; i++) {
        let d = constant[i]!;
        for (let k = 0; k < basisCount; k++) d += coeffs[k]![i]! * basis[k]![i]!;
        expected += d * x[i]!;
        expectedBias += d;
      }
      residuals.push(
        suite.combine(
          basis.map((b) => enc.encrypt(b)),
          coeffs,
          constant,
          enc,
        ),
      );
      features.push(x);
    }

    const [gradient] = suite.maskedWeightedSums(residuals, 1, (c) => features[c]!, enc);
    const bias = suite.maskedSum(residuals, 'residual');
    // The same columns encoded ahead of time (as a host does for its next batch) give the same sum.
    const encoded = suite.encodeColumns(features);
    const [ahead] = suite.maskedWeightedSums(residuals, 1, (c) => encoded[c]!, enc);

    expect(Math.abs(decryptSum(gradient!) - expected)).toBeLessThan(1e-4);
    expect(Math.abs(decryptSum(bias) - expectedBias)).toBeLessThan(1e-4);
    expect(Math.abs(decryptSum(ahead!) - expected)).toBeLessThan(1e-4);
  });

  it('refuses an encoded column that is not at the residual level and scale', () => {
    const random = seeded(6);
    const residual = suite.combine([enc.encrypt(vector(64, random))], [vector(64, random)], vector(64, random), enc);
    const [good] = suite.encodeColumns([vector(64, random)]);
    // A fresh-level encoding (one prime more), as encrypt would use.
    const wrongLevel = withScope(
      (scope) =>
        suite.encode(scope, vector(64, random), suite.scale).saveToArray(suite.seal.ComprModeType.none) as Uint8Array,
    );
    expect(suite.maskedWeightedSums([residual], 1, () => good!, enc)).toHaveLength(1);
    for (const bad of [wrongLevel, good!.slice(0, 100)]) {
      expect(() => suite.maskedWeightedSums([residual], 1, () => bad, enc)).toThrow(
        expect.objectContaining({
          code: 'CIPHERTEXT_INVALID',
          message: expect.stringMatching(/encoded feature column is not valid/),
        }),
      );
    }
  });

  it('shows the key holder the second polynomial and one uniformly random residue, nothing else', () => {
    // Masking the same sum many times: the payloads differ only in the 8 bytes of the masked residue S0,
    // S0 is spread over the whole of [0, q0) (an unmasked Σ of residues is one fixed value), and each
    // decrypts, once unmasked, to the same slot sum.
    const random = seeded(3);
    const values = vector(suite.slots, random);
    const ct = enc.encrypt(values);
    const masks = Array.from({ length: 200 }, () => suite.maskedSum([ct], 'fresh'));
    const first = masks[0]!.ciphertext;
    const n = suite.params.polyModulusDegree;
    const s0At = first.byteLength - n * 8 - 8;
    const full = inflateMasked(first, n, suite.q0);
    const loaded = new suite.seal.Ciphertext();
    loaded.loadFromArray(suite.context, full);
    expect(loaded.coeffModulusSize()).toBe(1);
    loaded.delete();
    expect(first.byteLength).toBe(full.byteLength - (n - 1) * 8 + 4);
    let high = 0;
    for (const m of masks) {
      expect(Buffer.compare(Buffer.from(m.ciphertext.subarray(0, s0At)), Buffer.from(first.subarray(0, s0At)))).toBe(0);
      expect(Buffer.compare(Buffer.from(m.ciphertext.subarray(s0At + 8)), Buffer.from(first.subarray(s0At + 8)))).toBe(
        0,
      );
      const s0 = new DataView(m.ciphertext.buffer, m.ciphertext.byteOffset + s0At, 8).getBigUint64(0, true);
      expect(s0 < suite.q0).toBe(true);
      if (s0 > suite.q0 / 2n) high += 1;
      expect(decryptSum(m)).toBeCloseTo(
        values.reduce((a, b) => a + b, 0),
        3,
      );
    }
    expect(high / masks.length).toBeGreaterThan(0.38);
    expect(high / masks.length).toBeLessThan(0.62);
  });

  it('does not let the key holder read a column by dividing its masked sum by the bias sum of the same residual', () => {
    // What the coordinator holds for one batch: the guest's bias sum Σ[[d]] (second polynomial c1) and a host
    // column's Σ[[d]]·x (second polynomial from c1 and the encoded column p). Were the latter exactly c1·p mod q₀
    // (a product taken without a rescale), c1-bar / c1 would be p itself, and decoding it would give the column.
    const random = seeded(7);
    const n = suite.params.polyModulusDegree;
    const residual = suite.combine(
      [enc.encrypt(vector(suite.slots, random))],
      [vector(suite.slots, random)],
      vector(suite.slots, random),
      enc,
    );
    const x = vector(suite.slots, random, 2);
    const [column] = suite.maskedWeightedSums([residual], 1, () => x, enc);
    const bias = suite.maskedSum([residual], 'residual');
    const secondPolynomial = (payload: Uint8Array): bigint[] => {
      const view = new DataView(payload.buffer, payload.byteOffset + payload.byteLength - n * 8, n * 8);
      return Array.from({ length: n }, (_, i) => view.getBigUint64(i * 8, true));
    };
    const q = suite.q0;
    const product = secondPolynomial(column!.ciphertext);
    const ratio = batchInverse(secondPolynomial(bias.ciphertext), q).map((inv, i) => (product[i]! * inv) % q);
    // Decode the ratio as the coordinator would: a plaintext at q₀ in NTT form, at the scale the two sums' scales imply.
    const decoded = withScope((scope) => {
      const template = suite.encode(
        scope,
        new Float64Array(suite.slots),
        1,
        suite.loadCiphertext(scope, inflateMasked(bias.ciphertext, n, q), 'last'),
      );
      const bytes = (template.saveToArray(suite.seal.ComprModeType.none) as Uint8Array).slice();
      const view = new DataView(bytes.buffer);
      view.setFloat64(SCALE_OFFSET, column!.scale / bias.scale, true);
      ratio.forEach((r, i) => view.setBigUint64(bytes.byteLength - (n - i) * 8, r, true));
      const pt = scope.track(new suite.seal.Plaintext());
      pt.loadFromArray(suite.context, bytes);
      return Float64Array.from(suite.encoder.decodeFloat64(pt) as Float64Array);
    });
    expect(Math.abs(correlation(decoded, x))).toBeLessThan(0.1);
  });

  it('rejects a ciphertext at the wrong level with CIPHERTEXT_INVALID', () => {
    const fresh = enc.encrypt(new Float64Array([1, 2, 3]));
    expect(() => keys.maskedConstant(fresh)).toThrow(ProtocolError);
    try {
      keys.maskedConstant(fresh);
    } catch (error) {
      expect((error as ProtocolError).code).toBe('CIPHERTEXT_INVALID');
      expect((error as ProtocolError).message).toMatch(/masked ciphertext.*expected a last ciphertext/);
    }
  });

  it('never returns a transparent ciphertext when coefficients or a feature column are all zero', () => {
    // At the first round every weight is 0, so even Chebyshev terms have zero coefficients.
    const random = seeded(5);
    const basis = [enc.encrypt(vector(64, random)), enc.encrypt(vector(64, random))];
    const constant = vector(64, random);
    const residual = suite.combine(basis, [new Float64Array(64), new Float64Array(64)], constant, enc);
    const ones = new Float64Array(64).fill(1);
    const zero = new Float64Array(64);
    const [sum, zeroColumn] = suite.maskedWeightedSums([residual], 2, (_c, j) => (j === 0 ? ones : zero), enc);
    const expected = constant.reduce((a, b) => a + b, 0);
    expect(decryptSum(sum!)).toBeCloseTo(expected, 4);
    expect(decryptSum(zeroColumn!)).toBeCloseTo(0, 4);
  });

  it('rejects a truncated or tampered compact masked sum with CIPHERTEXT_INVALID', () => {
    const masked = suite.maskedSum([enc.encrypt(new Float64Array([1, 2]))], 'fresh').ciphertext;
    const n = suite.params.polyModulusDegree;
    const overQ = masked.slice();
    new DataView(overQ.buffer).setBigUint64(masked.byteLength - n * 8 - 8, suite.q0, true);
    for (const bad of [masked.slice(0, masked.byteLength - 8), overQ]) {
      expect(() => keys.maskedConstant(bad)).toThrow(
        expect.objectContaining({
          code: 'CIPHERTEXT_INVALID',
          message: expect.stringMatching(/masked ciphertext is not valid/),
        }),
      );
    }
  });

  it('rejects corrupt ciphertext bytes with CIPHERTEXT_INVALID instead of crashing', () => {
    const bytes = enc.encrypt(new Float64Array([1]));
    const corrupt = bytes.slice(0, 200);
    expect(() => suite.combine([corrupt], [new Float64Array([1])], new Float64Array([0]), enc)).toThrow(
      /basis ciphertext is not valid/,
    );
  });

  it('deletes every SEAL object it creates', () => {
    const before = liveSealObjects();
    const random = seeded(4);
    for (let i = 0; i < 3; i++) {
      const r = suite.combine([enc.encrypt(vector(100, random))], [vector(100, random)], vector(100, random), enc);
      const sums = suite.maskedWeightedSums([r], 2, () => vector(100, random), enc);
      keys.maskedConstant(sums[0]!.ciphertext);
    }
    try {
      suite.combine([new Uint8Array(10)], [new Float64Array(1)], new Float64Array(1), enc);
    } catch {
      // the failure path must clean up too
    }
    expect(liveSealObjects()).toBe(before);
  });
});

/** Modular inverses of many residues with one exponentiation (Montgomery's trick). */
function batchInverse(values: readonly bigint[], q: bigint): bigint[] {
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const v of values) {
    prefix.push(acc);
    acc = (acc * v) % q;
  }
  let inv = modPow(acc, q - 2n, q);
  const out = new Array<bigint>(values.length);
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]!) % q;
    inv = (inv * values[i]!) % q;
  }
  return out;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb || 1);
}
