/**
 * CKKS operations Tandem needs, bytes in and bytes out, so no SEAL object
 * escapes this module and every one is deleted (see seal-runtime.ts).
 *
 * Levels (default primes {60, 40, 40, 60}): a fresh ciphertext has three
 * data primes; the guest's residual (one plaintext multiply + rescale) two;
 * a party's gradient accumulator (a second multiply + rescale) one, the
 * decryption prime q₀ only. Masking happens at that last level.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CKKSEncoder, Ciphertext, Evaluator, ParmsIdType, Plaintext, SEALContext } from 'node-seal/throws';
import type { CkksParams } from './params.ts';
import { centre, constantCoefficient, inverseOfN, slotSumFromConstant, viewPlaintext } from './plaintext-layout.ts';
import { compactMasked, inflateMasked, isCompactMasked } from './compact-masked.ts';
import { loadSeal, release, SealScope, translateSealError, withScope, type Seal } from './seal-runtime.ts';

/** Number of data primes a ciphertext has at each protocol stage. */
export const Level = { fresh: 3, residual: 2, last: 1 } as const;
export type LevelName = keyof typeof Level;

/** A masked ciphertext ready for the key holder, and what the party needs to unmask the answer. */
export type MaskedSum = {
  readonly ciphertext: Uint8Array;
  /** Constant coefficient of the mask, mod q₀. Secret: never leaves the party. */
  readonly maskConstant: bigint;
  /** Scale of the masked ciphertext. */
  readonly scale: number;
};

/** One CKKS context with its encoder and evaluator, for one thread. */
export class CkksSuite {
  readonly params: CkksParams;
  readonly slots: number;
  /** The decryption prime. */
  readonly q0: bigint;
  readonly nInverse: bigint;
  readonly seal: Seal;
  readonly #scope = new SealScope();
  readonly context: SEALContext;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  readonly #scale: number;

  private constructor(seal: Seal, params: CkksParams) {
    this.seal = seal;
    this.params = params;
    this.slots = params.slots;
    this.#scale = 2 ** params.scaleBits;
    const parms = this.#scope.track(new seal.EncryptionParameters(seal.SchemeType.ckks));
    parms.setPolyModulusDegree(params.polyModulusDegree);
    parms.setCoeffModulus(
      this.#scope.track(seal.CoeffModulus.Create(params.polyModulusDegree, Int32Array.from(params.coeffModulusBits))),
    );
    this.context = this.#scope.track(new seal.SEALContext(parms, true, seal.SecLevelType.tc128));
    if (!this.context.parametersSet())
      throw new RangeError(`SEAL rejected the CKKS parameters: ${JSON.stringify(params)}`);
    this.encoder = this.#scope.track(new seal.CKKSEncoder(this.context));
    this.evaluator = this.#scope.track(new seal.Evaluator(this.context));
    const lastModuli = seal.jsArrayFromVecModulus(this.context.lastContextData().parms().coeffModulus()) as bigint[];
    this.q0 = lastModuli[0] ?? 0n;
    this.nInverse = inverseOfN(params.polyModulusDegree, this.q0);
  }

  static async create(params: CkksParams): Promise<CkksSuite> {
    return new CkksSuite(await loadSeal(), params);
  }

  get scale(): number {
    return this.#scale;
  }

  dispose(): void {
    this.#scope.dispose();
  }

  /** Loads a ciphertext and checks it sits at the level the protocol step expects. */
  loadCiphertext(scope: SealScope, bytes: Uint8Array, level: LevelName, what = 'ciphertext'): Ciphertext {
    const ct = scope.track(new this.seal.Ciphertext());
    try {
      ct.loadFromArray(this.context, bytes);
    } catch (error) {
      throw translateSealError(this.seal, what, error);
    }
    if (ct.size() !== 2 || ct.coeffModulusSize() !== Level[level]) {
      throw translateSealError(
        this.seal,
        what,
        new Error(
          `expected a ${level} ciphertext (${Level[level]} primes, size 2), got ${ct.coeffModulusSize()} primes, size ${ct.size()}`,
        ),
      );
    }
    return ct;
  }

  /** Encodes values (length ≤ slots; the rest are zero) at a scale and at the level of `like`. */
  encode(scope: SealScope, values: Float64Array, scale: number, like?: Ciphertext): Plaintext {
    const pt = scope.track(new this.seal.Plaintext());
    this.encoder.encode(values.length === this.slots ? values : padded(values, this.slots), scale, pt);
    if (like !== undefined) this.evaluator.plainModSwitchToInplace(pt, like.parmsId());
    return pt;
  }

  save(ct: Ciphertext): Uint8Array {
    return ct.saveToArray(this.seal.ComprModeType.none) as Uint8Array;
  }

  /**
   * The guest's residual for one chunk of rows:
   * Σₖ coefficientsₖ ⊙ [[basisₖ]] + constant, at the `residual` level.
   * Each party's basis ciphertexts are fresh; coefficients are plaintext per row.
   *
   * A coefficient vector that encodes to zero would make SEAL's product
   * "transparent" (a ciphertext anyone can read), so it is skipped; when
   * every one is zero the sum starts from a fresh encryption of zero by
   * `zeros`, so the result is always a proper ciphertext.
   */
  combine(
    basis: readonly Uint8Array[],
    coefficients: readonly Float64Array[],
    constant: Float64Array,
    zeros: CkksEncryptor,
  ): Uint8Array {
    if (basis.length !== coefficients.length || basis.length === 0)
      throw new RangeError('combine needs one coefficient vector per basis ciphertext');
    return withScope((scope) => {
      let acc: Ciphertext | undefined;
      let like: Ciphertext | undefined;
      for (let k = 0; k < basis.length; k++) {
        const ct = this.loadCiphertext(scope, basis[k] as Uint8Array, 'fresh', 'basis ciphertext');
        like ??= ct;
        const pt = this.encode(scope, coefficients[k] as Float64Array, this.#scale, ct);
        if (pt.isZero()) continue;
        this.evaluator.multiplyPlainInplace(ct, pt);
        if (acc === undefined) acc = ct;
        else this.evaluator.addInplace(acc, ct);
      }
      const first = like as Ciphertext;
      const result = acc ?? zeros.encryptZeros(scope, first.parmsId(), first.scale() * this.#scale);
      this.evaluator.rescaleToNextInplace(result);
      this.evaluator.addPlainInplace(result, this.encode(scope, constant, result.scale(), result));
      return this.save(result);
    });
  }

  /** Sums ciphertexts of one level. */
  sum(ciphertexts: readonly Uint8Array[], level: LevelName): Uint8Array {
    return withScope((scope) => {
      const [first, ...rest] = ciphertexts.map((bytes) => this.loadCiphertext(scope, bytes, level));
      if (first === undefined) throw new RangeError('sum needs at least one ciphertext');
      for (const ct of rest) this.evaluator.addInplace(first, ct);
      return this.save(first);
    });
  }

  /**
   * Feature columns encoded as the gradient step multiplies them (scale Δ, at
   * the residual level), saved: a party encodes its next mini-batch's
   * columns while it waits for this one's residual, and
   * {@link maskedWeightedSums} only loads them (0.15 ms instead of 1.5 ms a
   * column). Encoding is deterministic, so nothing about the protocol changes.
   */
  encodeColumns(columns: readonly Float64Array[]): Uint8Array[] {
    return withScope((scope) =>
      columns.map((values) => {
        const pt = scope.track(new this.seal.Plaintext());
        this.encoder.encode(values.length === this.slots ? values : padded(values, this.slots), this.#scale, pt);
        this.evaluator.plainModSwitchToNextInplace(pt); // fresh → residual level
        return pt.saveToArray(this.seal.ComprModeType.none) as Uint8Array;
      }),
    );
  }

  /** A column for the gradient step: encoded now, or loaded as {@link encodeColumns} saved it. */
  #columnPlaintext(scope: SealScope, column: Float64Array | Uint8Array, like: Ciphertext): Plaintext {
    if (column instanceof Float64Array) return this.encode(scope, column, this.#scale, like);
    const pt = scope.track(new this.seal.Plaintext());
    try {
      pt.loadFromArray(this.context, column);
    } catch (error) {
      throw translateSealError(this.seal, 'encoded feature column', error);
    }
    if (!equalParms(scope.track(pt.parmsId()), scope.track(like.parmsId())) || pt.scale() !== this.#scale)
      throw translateSealError(
        this.seal,
        'encoded feature column',
        new Error('not encoded at the residual level and scale'),
      );
    return pt;
  }

  /**
   * For each column j: Σ over chunks c of [[residual_c]] ⊙ column(c, j), one
   * rescale per column, then masked. This is the gradient numerator of every
   * feature a party holds, for one mini-batch. A column is its values, or
   * their encoding from {@link encodeColumns}.
   */
  maskedWeightedSums(
    residuals: readonly Uint8Array[],
    columns: number,
    column: (chunk: number, j: number) => Float64Array | Uint8Array,
    zeros: CkksEncryptor,
  ): MaskedSum[] {
    return withScope((scope) => {
      const cts = residuals.map((bytes) => this.loadCiphertext(scope, bytes, 'residual', 'residual ciphertext'));
      const out: MaskedSum[] = [];
      for (let j = 0; j < columns; j++) {
        const inner = new SealScope();
        try {
          let acc: Ciphertext | undefined;
          for (let c = 0; c < cts.length; c++) {
            const ct = cts[c] as Ciphertext;
            const pt = this.#columnPlaintext(inner, column(c, j), ct);
            if (pt.isZero()) continue; // see combine: a zero product would be transparent
            const product = inner.track(new this.seal.Ciphertext());
            this.evaluator.multiplyPlain(ct, pt, product);
            if (acc === undefined) acc = product;
            else this.evaluator.addInplace(acc, product);
          }
          const first = cts[0] as Ciphertext;
          const result = acc ?? zeros.encryptZeros(inner, first.parmsId(), first.scale() * this.#scale);
          this.evaluator.rescaleToNextInplace(result);
          out.push(this.#mask(result));
        } finally {
          inner.dispose();
        }
      }
      return out;
    });
  }

  /** Masks the sum of the given ciphertexts (e.g. the bias gradient Σ residuals, or an epoch's loss). */
  maskedSum(ciphertexts: readonly Uint8Array[], level: LevelName): MaskedSum {
    return withScope((scope) => {
      const cts = ciphertexts.map((bytes) => this.loadCiphertext(scope, bytes, level));
      const [first, ...rest] = cts;
      if (first === undefined) throw new RangeError('maskedSum needs at least one ciphertext');
      for (const ct of rest) this.evaluator.addInplace(first, ct);
      return this.#mask(first);
    });
  }

  /** Brings a sum to the last level and masks it in compact form (compact-masked.ts): the key holder gets ĉ1 and one uniform residue. */
  #mask(ct: Ciphertext): MaskedSum {
    while (ct.coeffModulusSize() > Level.last) this.evaluator.cipherModSwitchToNextInplace(ct);
    const { payload, maskConstant } = compactMasked(
      this.save(ct),
      this.params.polyModulusDegree,
      this.q0,
      this.nInverse,
      randomBytes,
    );
    return { ciphertext: payload, maskConstant, scale: ct.scale() };
  }

  /** Recovers the slot sum from the key holder's answer. */
  unmask(answer: bigint, masked: Pick<MaskedSum, 'maskConstant' | 'scale'>): number {
    return slotSumFromConstant(
      centre(answer - masked.maskConstant, this.q0),
      this.params.polyModulusDegree,
      masked.scale,
    );
  }
}

function equalParms(a: ParmsIdType, b: ParmsIdType): boolean {
  const x = a.values() as BigUint64Array;
  const y = b.values() as BigUint64Array;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function padded(values: Float64Array, length: number): Float64Array {
  if (values.length > length) throw new RangeError(`cannot encode ${values.length} values into ${length} slots`);
  const out = new Float64Array(length);
  out.set(values);
  return out;
}

/** A party's encryptor under the job's public key. */
export class CkksEncryptor {
  readonly #suite: CkksSuite;
  readonly #scope = new SealScope();
  readonly #encryptor;
  /** The public key as received, so worker threads can build their own encryptor. */
  readonly publicKey: Uint8Array;
  /** A short digest of the public key: worker threads cache one encryptor per key. */
  readonly keyId: string;

  constructor(suite: CkksSuite, publicKeyBytes: Uint8Array) {
    this.#suite = suite;
    this.publicKey = publicKeyBytes;
    this.keyId = createHash('sha256').update(publicKeyBytes).digest('hex').slice(0, 32);
    const seal = suite.seal;
    const pk = this.#scope.track(new seal.PublicKey());
    try {
      pk.loadFromArray(suite.context, publicKeyBytes);
    } catch (error) {
      this.#scope.dispose();
      throw translateSealError(seal, 'public key', error);
    }
    this.#encryptor = this.#scope.track(new seal.Encryptor(suite.context, pk));
  }

  /** Encrypts up to `slots` values as one fresh ciphertext. */
  encrypt(values: Float64Array): Uint8Array {
    return withScope((scope) => {
      const pt = this.#suite.encode(scope, values, this.#suite.scale);
      const ct = scope.track(new this.#suite.seal.Ciphertext());
      this.#encryptor.encrypt(pt, ct);
      return this.#suite.save(ct);
    });
  }

  /** A fresh encryption of zeros at a given level and scale (SEAL encrypts at the plaintext's level). */
  encryptZeros(scope: SealScope, parmsId: ParmsIdType, scale: number): Ciphertext {
    const pt = scope.track(new this.#suite.seal.Plaintext());
    this.#suite.encoder.encode(new Float64Array(this.#suite.slots), scale, pt);
    this.#suite.evaluator.plainModSwitchToInplace(pt, parmsId);
    const ct = scope.track(new this.#suite.seal.Ciphertext());
    this.#encryptor.encrypt(pt, ct);
    return ct;
  }

  dispose(): void {
    this.#scope.dispose();
  }
}

/** The coordinator's per-job key pair. The secret key never leaves it. */
export class CkksKeyHolder {
  readonly #suite: CkksSuite;
  readonly #scope = new SealScope();
  readonly #decryptor;
  readonly #secret;
  readonly publicKey: Uint8Array;

  /**
   * A new key pair, or — for a coordinator resuming a job after a restart —
   * the one saved with {@link exportSecretKey} (the public key is then
   * re-derived: a fresh encryption of the same secret, equally valid).
   */
  constructor(suite: CkksSuite, savedSecretKey?: Uint8Array) {
    this.#suite = suite;
    const seal = suite.seal;
    let keygen;
    if (savedSecretKey === undefined) {
      keygen = this.#scope.track(new seal.KeyGenerator(suite.context));
    } else {
      const saved = this.#scope.track(new seal.SecretKey());
      try {
        saved.loadFromArray(suite.context, savedSecretKey);
      } catch (error) {
        this.#scope.dispose();
        throw translateSealError(seal, 'saved secret key', error);
      }
      keygen = this.#scope.track(new seal.KeyGenerator(suite.context, saved));
    }
    const secret = this.#scope.track(keygen.secretKey());
    const pk = this.#scope.track(keygen.createPublicKey());
    this.publicKey = pk.saveToArray(seal.ComprModeType.none) as Uint8Array;
    this.#secret = secret;
    this.#decryptor = this.#scope.track(new seal.Decryptor(suite.context, secret));
    release(this.#scope.keep(pk));
    release(this.#scope.keep(keygen));
  }

  /** The secret key's bytes, for the coordinator's job store only (a running job must survive a restart). */
  exportSecretKey(): Uint8Array {
    return this.#secret.saveToArray(this.#suite.seal.ComprModeType.none) as Uint8Array;
  }

  /** Decrypts a masked last-level ciphertext and returns only its constant coefficient mod q₀. */
  maskedConstant(ciphertext: Uint8Array): bigint {
    return this.maskedConstantAndScale(ciphertext).value;
  }

  /** As `maskedConstant`, with the ciphertext's scale (to convert value-unit noise into coefficient units). */
  maskedConstantAndScale(ciphertext: Uint8Array): { value: bigint; scale: number } {
    return withScope((scope) => {
      const ct = this.#suite.loadCiphertext(scope, this.#inflate(ciphertext), 'last', 'masked ciphertext');
      const pt = scope.track(new this.#suite.seal.Plaintext());
      this.#decryptor.decrypt(ct, pt);
      const bytes = pt.saveToArray(this.#suite.seal.ComprModeType.none) as Uint8Array;
      return {
        value: constantCoefficient(
          viewPlaintext(bytes),
          this.#suite.params.polyModulusDegree,
          this.#suite.q0,
          this.#suite.nInverse,
        ),
        scale: ct.scale(),
      };
    });
  }

  /** A compact masked sum as the SEAL ciphertext it stands for; a plain ciphertext as it is. */
  #inflate(bytes: Uint8Array): Uint8Array {
    if (!isCompactMasked(bytes)) return bytes;
    try {
      return inflateMasked(bytes, this.#suite.params.polyModulusDegree, this.#suite.q0);
    } catch (error) {
      throw translateSealError(this.#suite.seal, 'masked ciphertext', error);
    }
  }

  dispose(): void {
    this.#scope.dispose();
  }
}
