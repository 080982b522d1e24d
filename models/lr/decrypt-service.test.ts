import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../../protocol/he/params.ts';
import { readDecryptValues } from '../../protocol/wire/decrypt-values.ts';
import { centre } from '../../protocol/he/plaintext-layout.ts';
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

  const service = (noiseBits: number, key = 7) =>
    new DecryptService({
      keys,
      q0: suite.q0,
      noiseBits,
      noiseKey: new Uint8Array(32).fill(key),
      polyModulusDegree: suite.params.polyModulusDegree,
    });

  it('returns the raw decryption plus Gaussian noise of the configured size, the same for a retried request', () => {
    const values = Float64Array.from({ length: 4096 }, (_, k) => Math.sin(k) * 0.5);
    const masked = suite.maskedSum(
      [suite.combine([enc.encrypt(values)], [new Float64Array(4096).fill(1)], new Float64Array(4096), enc)],
      'residual',
    );
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
    expect(service(20).decrypt('req-3', [masked.ciphertext])).toEqual(
      service(20).decrypt('req-3', [masked.ciphertext]),
    );
    // And another coordinator secret gives other noise.
    expect(service(20, 8).decrypt('req-3', [masked.ciphertext])).not.toEqual(
      service(20).decrypt('req-3', [masked.ciphertext]),
    );
    // The party still recovers the sum; the flooding costs about 2^20 · N/(2Δ) ≈ 4e-3 absolute.
    const recovered = suite.unmask(readDecryptValues(service(20).decrypt('req-9', [masked.ciphertext]), 1)[0]!, masked);
    const exact = values.reduce((a, b) => a + b, 0);
    expect(Math.abs(recovered - exact)).toBeLessThan(0.05);
    expect(recovered).not.toBe(suite.unmask(raw, masked));
  });
});
