/**
 * Masked decryption with noise flooding. The coordinator is the only holder
 * of a job's CKKS secret key. A party sends ciphertexts it has masked with a
 * uniformly random polynomial; the coordinator returns, per ciphertext, only
 * the constant coefficient mod q₀ plus integer Gaussian noise.
 *
 * Why flooding: a decrypted CKKS value exposes the encryption error, and to
 * whoever knows the underlying message that error reveals the secret key
 * (Li–Micciancio 2021). The party knows its mask and, roughly, its data, so
 * the returned value is flooded with noise of standard deviation 2^bits
 * (in units of the constant coefficient; with N = 8192 and Δ = 2^40 a unit
 * is 2^-29 of a slot sum, so the default 2^20 costs about 2e-3 absolute on a
 * gradient sum over thousands of rows).
 *
 * The noise is derived from a per-job secret and the request id: a retried
 * request gets the same answer (no averaging attack by resending), and a
 * restarted coordinator answers identically.
 */
import { createHmac } from 'node:crypto';
import type { CkksKeyHolder } from '../../protocol/he/ckks.ts';
import { writeDecryptValues } from '../../protocol/wire/decrypt-values.ts';
import { gaussianFromBytes } from '../../protocol/random.ts';

export type DecryptServiceOptions = {
  readonly keys: CkksKeyHolder;
  readonly q0: bigint;
  /** log2 of the flooding noise's standard deviation. */
  readonly noiseBits: number;
  /** Secret seed for the noise, kept by the coordinator only. */
  readonly noiseKey: Uint8Array;
  /** Ring dimension N, to convert value-unit noise into constant-coefficient units. */
  readonly polyModulusDegree: number;
};

export class DecryptService {
  readonly #o: DecryptServiceOptions;

  constructor(options: DecryptServiceOptions) {
    this.#o = options;
  }

  /**
   * Constant coefficients (mod q₀, flooded) of each masked ciphertext, as
   * 8-byte little-endian values. `dpSigma` > 0 adds differential-privacy
   * noise of that standard deviation in value units (slot-sum units) too.
   */
  decrypt(requestId: string, ciphertexts: readonly Uint8Array[], dpSigma = 0): Uint8Array {
    return writeDecryptValues(
      ciphertexts.map((ct, index) => {
        const { value, scale } = this.#o.keys.maskedConstantAndScale(ct);
        let noise = this.noise(requestId, index);
        if (dpSigma > 0) {
          // slot sum = coefficient · N / (2·scale), so σ value units = σ·2·scale/N coefficient units.
          noise += BigInt(
            Math.round(
              this.#gaussian(`dp|${requestId}#${index}`) * dpSigma * ((2 * scale) / this.#o.polyModulusDegree),
            ),
          );
        }
        return (((value + noise) % this.#o.q0) + this.#o.q0) % this.#o.q0;
      }),
    );
  }

  /** Integer Gaussian noise, σ = 2^noiseBits, deterministic per (request, index). */
  noise(requestId: string, index: number): bigint {
    if (this.#o.noiseBits === 0) return 0n;
    return BigInt(Math.round(this.#gaussian(`${requestId}#${index}`) * 2 ** this.#o.noiseBits));
  }

  /** A standard normal draw keyed by the coordinator's secret and a label. */
  #gaussian(label: string): number {
    return gaussianFromBytes(createHmac('sha256', this.#o.noiseKey).update(label).digest());
  }
}
