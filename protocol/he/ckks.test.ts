import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { CkksEncryptor, CkksKeyHolder, CkksSuite, type MaskedSum } from './ckks.ts';
import { DEFAULT_CKKS_PARAMS } from './params.ts';
import { liveSealObjects } from './seal-runtime.ts';
import { ProtocolError } from '../errors.ts';
import { viewPlaintext } from './plaintext-layout.ts';

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
      residuals.push(suite.combine(basis.map((b) => enc.encrypt(b)), coeffs, constant, enc));
      features.push(x);
    }

    const [gradient] = suite.maskedWeightedSums(residuals, 1, (c) => features[c]!, enc);
    const bias = suite.maskedSum(residuals, 'residual');

    expect(Math.abs(decryptSum(gradient!) - expected)).toBeLessThan(1e-4);
    expect(Math.abs(decryptSum(bias) - expectedBias)).toBeLessThan(1e-4);
  });

  it('shows the key holder only a uniformly random polynomial', () => {
    // The masked ciphertext decrypts to residues spread over the whole of [0, q0):
    // check the mean and the top-bit frequency, which an unmasked small value cannot match.
    const random = seeded(3);
    const masked = suite.maskedSum([enc.encrypt(vector(suite.slots, random))], 'fresh');
    const seal = suite.seal;
    const ct = new seal.Ciphertext();
    ct.loadFromArray(suite.context, masked.ciphertext);
    expect(ct.coeffModulusSize()).toBe(1);
    ct.delete();
    // Decrypt via a throwaway decryptor that exposes the raw plaintext.
    const keygen = new seal.KeyGenerator(suite.context);
    const secret = keygen.secretKey();
    const pkBytes = keygen.createPublicKey();
    const ownEnc = new seal.Encryptor(suite.context, pkBytes);
    const dec = new seal.Decryptor(suite.context, secret);
    const local = new CkksEncryptorShim(suite, ownEnc);
    const m = suite.maskedSum([local.encrypt(vector(suite.slots, random))], 'fresh');
    const ct2 = new seal.Ciphertext();
    ct2.loadFromArray(suite.context, m.ciphertext);
    const pt = new seal.Plaintext();
    dec.decrypt(ct2, pt);
    const view = viewPlaintext(pt.saveToArray(seal.ComprModeType.none) as Uint8Array);
    let high = 0;
    let mean = 0;
    const q = Number(suite.q0);
    for (let i = 0; i < view.coeffCount; i++) {
      const v = Number(view.data.getBigUint64(i * 8, true));
      if (v > q / 2) high += 1;
      mean += v / q / view.coeffCount;
    }
    for (const o of [pt, ct2, dec, ownEnc, pkBytes, secret, keygen]) o.delete();
    expect(high / view.coeffCount).toBeGreaterThan(0.45);
    expect(high / view.coeffCount).toBeLessThan(0.55);
    expect(mean).toBeGreaterThan(0.47);
    expect(mean).toBeLessThan(0.53);
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

  it('rejects corrupt ciphertext bytes with CIPHERTEXT_INVALID instead of crashing', () => {
    const bytes = enc.encrypt(new Float64Array([1]));
    const corrupt = bytes.slice(0, 200);
    expect(() => suite.combine([corrupt], [new Float64Array([1])], new Float64Array([0]), enc)).toThrow(/basis ciphertext is not valid/);
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

/** Encrypts with a raw SEAL encryptor (test only), so the test can hold the secret key. */
class CkksEncryptorShim {
  readonly suite: CkksSuite;
  readonly encryptor: { encrypt(pt: unknown, ct: unknown): void };
  constructor(suite: CkksSuite, encryptor: { encrypt(pt: unknown, ct: unknown): void }) {
    this.suite = suite;
    this.encryptor = encryptor;
  }
  encrypt(values: Float64Array): Uint8Array {
    const pt = new this.suite.seal.Plaintext();
    this.suite.encoder.encode(values, this.suite.scale, pt);
    const ct = new this.suite.seal.Ciphertext();
    this.encryptor.encrypt(pt, ct);
    const bytes = this.suite.save(ct);
    pt.delete();
    ct.delete();
    return bytes;
  }
}
