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
 * is 2^-28 of a slot sum, so the default 2^20 costs about 4e-3 absolute on a
 * gradient sum over thousands of rows). A ciphertext at a larger scale than
 * Δ — the gradient step's products, at Δ·2^columnScaleBits, whose error is
 * larger by as much — gets noise larger by the same factor, so the noise
 * stays the same in value units and the same multiple of the error; a
 * ciphertext claiming a smaller scale gets no less than 2^bits.
 *
 * The noise is derived from a per-job secret and the request id: a retried
 * request gets the same answer (no averaging attack by resending), and a
 * restarted coordinator answers identically.
 */
import { createHmac } from 'node:crypto';
import type { CkksKeyHolder } from '../protocol/he/ckks.ts';
import { writeDecryptValues } from '../protocol/wire/decrypt-values.ts';
import { gaussianFromBytes } from '../protocol/random.ts';

export type DecryptServiceOptions = {
  readonly keys: CkksKeyHolder;
  readonly q0: bigint;
  /** log2 of the flooding noise's standard deviation. */
  readonly noiseBits: number;
  /** Secret seed for the noise, kept by the coordinator only. */
  readonly noiseKey: Uint8Array;
  /** Ring dimension N, to convert value-unit noise into constant-coefficient units. */
  readonly polyModulusDegree: number;
  /** The job's Δ: ciphertexts at a larger scale get flooding noise larger by scale / Δ. */
  readonly scale: number;
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
        let noise = this.noise(requestId, index, scale);
        if (dpSigma > 0) {
          // slot sum = coefficient · N / (2·scale), so σ value units = σ·2·scale/N coefficient units.
          noise += BigInt(Math.round(this.#gaussian(`dp|${requestId}#${index}`) * dpSigma * ((2 * scale) / this.#o.polyModulusDegree)));
        }
        return (((value + noise) % this.#o.q0) + this.#o.q0) % this.#o.q0;
      }),
    );
  }

  /** Integer Gaussian noise, σ = 2^noiseBits · max(1, scale / Δ), deterministic per (request, index). */
  noise(requestId: string, index: number, scale = this.#o.scale): bigint {
    if (this.#o.noiseBits === 0) return 0n;
    const factor = Number.isFinite(scale) && scale > this.#o.scale ? scale / this.#o.scale : 1;
    return BigInt(Math.round(this.#gaussian(`${requestId}#${index}`) * 2 ** this.#o.noiseBits * factor));
  }

  /** A standard normal draw keyed by the coordinator's secret and a label. */
  #gaussian(label: string): number {
    return gaussianFromBytes(createHmac('sha256', this.#o.noiseKey).update(label).digest());
  }

}
