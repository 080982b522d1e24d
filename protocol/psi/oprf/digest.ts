/**
 * Ids to fixed-size digests, and digests to buckets and cuckoo bins.
 *
 * An id of any length and encoding (it is hashed as its UTF-8 bytes, so
 * "ß", "ss" and "0042" are all different ids) becomes 16 bytes: BLAKE2b
 * keyed with the per-job, per-pair domain key both parties derive. The
 * digest is what OPRF-PSI works on; it never leaves the party (it only feeds
 * the code and the bins, both masked before anything is sent), so being
 * keyed only separates jobs. Two different ids collide with probability
 * 2^-128 per pair.
 *
 * Words of a digest (little-endian uint32): word 0 picks the bucket, words
 * 1–3 the three cuckoo bins inside it (mixed with the receiver's per-session
 * cuckoo seed, so a failed placement can be retried with fresh bins).
 */
import sodium from 'sodium-native';
import { DIGEST_BYTES, HASHES } from './params.ts';

const TWO_POW_32 = 4_294_967_296;

/** Digests ids one at a time into a caller's buffer (a stream of ids needs no array of them). */
export class IdDigester {
  readonly #key: Buffer;
  readonly #digest = Buffer.alloc(DIGEST_BYTES);
  #scratch = Buffer.alloc(4096);

  constructor(domainKey: Uint8Array) {
    if (domainKey.byteLength < 16 || domainKey.byteLength > 64) throw new RangeError(`a digest key is 16 to 64 bytes, got ${domainKey.byteLength}`);
    this.#key = Buffer.from(domainKey);
  }

  /** Writes the digest of `id` at digest index `k` of `out` (16 bytes per digest). */
  digest(id: string, out: Uint8Array, k: number): void {
    if (id.length * 3 > this.#scratch.byteLength) this.#scratch = Buffer.alloc(id.length * 3);
    const length = this.#scratch.write(id, 0, 'utf8');
    sodium.crypto_generichash(this.#digest, this.#scratch.subarray(0, length), this.#key);
    out.set(this.#digest, k * DIGEST_BYTES);
  }
}

/** Digests of `ids`, 16 bytes each, in order. */
export function digestIds(domainKey: Uint8Array, ids: readonly string[]): Uint8Array {
  const out = new Uint8Array(ids.length * DIGEST_BYTES);
  const digester = new IdDigester(domainKey);
  ids.forEach((id, k) => digester.digest(id, out, k));
  return out;
}

/** The bucket of digest k among `buckets` (a power of two): the top bits of word 0. */
export function bucketOf(words: Int32Array, k: number, buckets: number): number {
  return buckets === 1 ? 0 : (words[4 * k]! >>> 0) >>> (32 - Math.log2(buckets));
}

/** MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit over the word. */
function mix(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The three cuckoo bins of each digest, `out[3k + i]` for hash function i, in [0, bins). */
export function cuckooBinsOf(words: Int32Array, count: number, seed: Uint32Array, bins: number, out: Uint32Array): void {
  if (seed.length < HASHES) throw new RangeError('a cuckoo seed has one word per hash function');
  const s0 = seed[0]!;
  const s1 = seed[1]!;
  const s2 = seed[2]!;
  for (let k = 0; k < count; k++) {
    out[3 * k] = Math.floor((mix(words[4 * k + 1]! ^ s0) * bins) / TWO_POW_32);
    out[3 * k + 1] = Math.floor((mix(words[4 * k + 2]! ^ s1) * bins) / TWO_POW_32);
    out[3 * k + 2] = Math.floor((mix(words[4 * k + 3]! ^ s2) * bins) / TWO_POW_32);
  }
}

/** The code input for hash function i: the digest with i folded into its first word, so an id in two bins under two functions has two codewords. */
export function tweakWord(i: number): number {
  return (i + 1) * 0x9e3779b9;
}
