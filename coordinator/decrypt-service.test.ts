import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../protocol/he/params.ts';
import { readDecryptValues } from '../protocol/wire/decrypt-values.ts';
import { centre } from '../protocol/he/plaintext-layout.ts';
import { DecryptService } from './decrypt-service.ts';

describe('masked decryption with noise flooding', () => {
  let suite: CkksSuite;
  let keys: CkksKeyHolder;
  let enc: CkksEncryptor;
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

  const service = (noiseBits: number, key = 7) => new DecryptService({ keys, q0: suite.q0, noiseBits, noiseKey: new Uint8Array(32).fill(key), polyModulusDegree: suite.params.polyModulusDegree, scale: suite.scale });

  it('returns the raw decryption plus Gaussian noise of the configured size, the same for a retried request', () => {
    const values = Float64Array.from({ length: 4096 }, (_, k) => Math.sin(k) * 0.5);
    const masked = suite.maskedSum([suite.combine([enc.encrypt(values)], [new Float64Array(4096).fill(1)], new Float64Array(4096), enc)], 'residual');
    const raw = readDecryptValues(service(0).decrypt('req-0', [masked.ciphertext]), 1)[0]!;
    const differences: number[] = [];
    for (let r = 0; r < 400; r++) {
      const flooded = readDecryptValues(service(20).decrypt(`req-${r}`, [masked.ciphertext]), 1)[0]!;
      differences.push(Number(centre(flooded - raw, suite.q0)));
    }
    const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
    const std = Math.sqrt(differences.reduce((a, b) => a + (b - mean) ** 2, 0) / differences.length);
    // σ = 2^20 in units of the constant coefficient; 400 samples estimate it within ~10 %.
    expect(std / 2 ** 20).toBeGreaterThan(0.85);
    expect(std / 2 ** 20).toBeLessThan(1.15);
    expect(Math.abs(mean) / 2 ** 20).toBeLessThan(0.2);
    // A resent request gets the same answer, so resending cannot average the noise away.
    expect(service(20).decrypt('req-3', [masked.ciphertext])).toEqual(service(20).decrypt('req-3', [masked.ciphertext]));
    // And another coordinator secret gives other noise.
    expect(service(20, 8).decrypt('req-3', [masked.ciphertext])).not.toEqual(service(20).decrypt('req-3', [masked.ciphertext]));
    // The party still recovers the sum; the flooding costs about 2^20 · N/(2Δ) ≈ 4e-3 absolute.
    const recovered = suite.unmask(readDecryptValues(service(20).decrypt('req-9', [masked.ciphertext]), 1)[0]!, masked);
    const exact = values.reduce((a, b) => a + b, 0);
    expect(Math.abs(recovered - exact)).toBeLessThan(0.05);
    expect(recovered).not.toBe(suite.unmask(raw, masked));
  });

  it('floods a gradient-step sum in proportion to its scale, and a forged smaller scale gets no less noise', () => {
    // A masked weighted sum is at scale Δ·2^columnScaleBits (no rescale after the column), its error larger by as much.
    const values = Float64Array.from({ length: 4096 }, (_, k) => Math.cos(k) * 0.5);
    const residual = suite.combine([enc.encrypt(values)], [new Float64Array(4096).fill(1)], new Float64Array(4096), enc);
    const [masked] = suite.maskedWeightedSums([residual], 1, () => new Float64Array(4096).fill(0.25), enc);
    expect(masked!.scale / suite.scale).toBeCloseTo(suite.columnScale, -1);
    const spread = (ciphertext: Uint8Array): number => {
      const raw = readDecryptValues(service(0).decrypt('req-0', [ciphertext]), 1)[0]!;
      const d = Array.from({ length: 300 }, (_, r) => Number(centre(readDecryptValues(service(20).decrypt(`req-${r}`, [ciphertext]), 1)[0]! - raw, suite.q0)));
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      return Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    };
    const ratio = spread(masked!.ciphertext) / (2 ** 20 * (masked!.scale / suite.scale));
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.15);
    // In value units that is the same 4e-3 as at scale Δ: the party still recovers its sum to the column's precision.
    const recovered = suite.unmask(readDecryptValues(service(20).decrypt('req-x', [masked!.ciphertext]), 1)[0]!, masked!);
    expect(Math.abs(recovered - values.reduce((a, b) => a + b * 0.25, 0))).toBeLessThan(0.05);

    // The scale is written in the ciphertext's header, which the party controls: claiming 1 must not shrink the noise.
    const forged = masked!.ciphertext.slice();
    const view = new DataView(forged.buffer);
    const at = Array.from({ length: forged.byteLength - 8 }, (_, i) => i).find((i) => view.getFloat64(i, true) === masked!.scale);
    expect(at).toBeDefined();
    view.setFloat64(at!, 1, true);
    const floor = spread(forged) / 2 ** 20;
    expect(floor).toBeGreaterThan(0.85);
    expect(floor).toBeLessThan(1.15);
  });
});
