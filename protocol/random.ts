/**
 * Seeded randomness for protocol decisions every party must make identically
 * (the validation split, mini-batch order) and for secret choices a party
 * makes alone (the PSI output permutation).
 *
 * The generator is the AES-256-CTR keystream under a key hashed from the
 * seed. A fast non-cryptographic PRNG (xoshiro, splitmix) would do for the
 * shared choices, but the same class also draws secret permutations, and a
 * linear generator's state can be recovered from a few outputs. AES-CTR is
 * a standard, reproducible cipher available to any implementation, and at
 * ~1 GB/s its cost is negligible next to the protocol's cryptography.
 */
import { createCipheriv, createHash, type Cipheriv } from 'node:crypto';

/** Seed material: bytes (e.g. from {@link seedFrom} or a secret), or a string hashed by {@link seedFrom}. */
export type Seed = Uint8Array | string;

/** Anything indexable and writable: arrays and typed arrays. */
export type MutableList<T> = { length: number; [index: number]: T };

/** Bytes of keystream produced per refill; a multiple of the 16-byte AES block. */
const CHUNK_BYTES = 16_384;
const TWO_POW_32 = 4_294_967_296;

/**
 * A 32-byte seed from strings, SHA-256 over the length-prefixed parts, so that
 * `seedFrom('a', 'bc')` and `seedFrom('ab', 'c')` differ. Parties derive
 * independent streams for separate purposes from one job seed:
 * `seedFrom(jobSeed, 'batches', String(epoch))`.
 */
export function seedFrom(...parts: string[]): Uint8Array {
  const hash = createHash('sha256').update('tandem/seed/v1');
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  }
  return new Uint8Array(hash.digest());
}

/** A deterministic random stream: the same seed gives the same draws on every party and platform. */
export class Random {
  readonly #cipher: Cipheriv;
  readonly #zeros = new Uint8Array(CHUNK_BYTES);
  #chunk = new DataView(new ArrayBuffer(0));
  #offset = 0;
  #spareGaussian: number | undefined;

  constructor(seed: Seed) {
    const bytes = typeof seed === 'string' ? seedFrom(seed) : seed;
    if (bytes.length < 16) throw new RangeError(`a Random seed needs at least 16 bytes, got ${bytes.length}`);
    // Hashing makes any seed length a valid key and separates this use of a secret from its others.
    const key = createHash('sha256').update('tandem/random/aes-256-ctr').update(bytes).digest();
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** A uniform integer in [0, 2³²). */
  nextUint32(): number {
    if (this.#offset === this.#chunk.byteLength) {
      const block = this.#cipher.update(this.#zeros);
      // Copy into an aligned buffer of our own; read little-endian so big-endian hosts agree.
      this.#chunk = new DataView(new Uint8Array(block).buffer);
      this.#offset = 0;
    }
    const value = this.#chunk.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  }

  /** A uniform integer in [0, bound), without modulo bias. `bound` must be in [1, 2³²]. */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32)
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${bound}`);
    // Reject the top partial copy of [0, bound) so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % bound;
    }
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  nextGaussian(): number {
    const spare = this.#spareGaussian;
    if (spare !== undefined) {
      this.#spareGaussian = undefined;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat())); // 1 − u is in (0, 1]: no log(0)
    const angle = 2 * Math.PI * this.nextFloat();
    this.#spareGaussian = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<A extends MutableList<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const held = array[i] as A[number];
      array[i] = array[j];
      array[j] = held;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n−1. */
  permutation(n: number): Uint32Array {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`permutation size must be a non-negative integer, got ${n}`);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }
}

/** Row positions of a train/test split, each sorted ascending. */
export type Split = { readonly train: Uint32Array; readonly test: Uint32Array };

/**
 * Splits rows so every class keeps its share: per class (in ascending label
 * order), `round(count · testFraction)` rows drawn uniformly go to `test`.
 * The guest computes this and sends the test rows; hosts never see labels.
 */
export function stratifiedSplit(labels: Int32Array, testFraction: number, seed: Seed): Split {
  if (!(testFraction >= 0 && testFraction <= 1))
    throw new RangeError(`testFraction must be in [0, 1], got ${testFraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] ?? 0;
    const rows = byClass.get(label);
    if (rows === undefined) byClass.set(label, [i]);
    else rows.push(i);
  }
  const random = new Random(seed);
  const inTest = new Uint8Array(labels.length);
  let testCount = 0;
  // Map order is insertion order, which depends on the row order; sort so only the label set matters.
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = random.shuffle(byClass.get(label) ?? []);
    const take = Math.round(rows.length * testFraction);
    for (let r = 0; r < take; r++) inTest[rows[r] ?? 0] = 1;
    testCount += take;
  }
  const train = new Uint32Array(labels.length - testCount);
  const test = new Uint32Array(testCount);
  for (let i = 0, a = 0, b = 0; i < labels.length; i++) {
    if (inTest[i] === 1) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

/**
 * A standard normal draw from 16 bytes (two 52-bit uniforms, Box–Muller),
 * for noise whose bytes come from a key or the OS rather than a seeded
 * stream (differential privacy, noise flooding).
 */
export function gaussianFromBytes(bytes: Uint8Array): number {
  if (bytes.byteLength < 16) throw new RangeError('gaussianFromBytes needs 16 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const u1 = (Number(view.getBigUint64(0, true) >> 12n) + 1) / 2 ** 52; // (0, 1]: no log(0)
  const u2 = Number(view.getBigUint64(8, true) >> 12n) / 2 ** 52;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
