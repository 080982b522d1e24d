/**
 * The receiver's own OPRF values by value, so each value the sender streams
 * is looked up in O(1): open addressing on the first 32-bit word (values are
 * pseudorandom, so it spreads them), each slot holding that word next to the
 * value's index, so a miss — almost every lookup — touches one cache line;
 * the rest of the ℓ bytes is compared only when the first word matches. No string or Map per value: at 2^20 values a
 * Map of hex keys costs seconds and hundreds of MB.
 */

/** Reads ℓ bytes at `at` as up to four little-endian words, zero beyond ℓ. */
function wordOf(bytes: Uint8Array, at: number, length: number, w: number): number {
  let word = 0;
  for (let b = 0; b < 4; b++) {
    const i = 4 * w + b;
    if (i < length) word |= (bytes[at + i] ?? 0) << (8 * b);
  }
  return word;
}

export class ValueTable {
  readonly #values: Int32Array;
  /** Pairs (first word, index + 1); index 0 marks an empty slot. */
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #length: number;

  /** Indexes `count` values of `length` bytes, packed. */
  constructor(packed: Uint8Array, count: number, length: number) {
    if (length < 4 || length > 16) throw new RangeError(`values are 4 to 16 bytes, got ${length}`);
    this.#length = length;
    this.#values = new Int32Array(count * 4);
    for (let k = 0; k < count; k++)
      for (let w = 0; w < 4; w++) this.#values[4 * k + w] = wordOf(packed, k * length, length, w);
    let size = 16;
    while (size < count * 2) size *= 2;
    this.#slots = new Int32Array(2 * size);
    this.#mask = size - 1;
    for (let k = 0; k < count; k++) {
      let slot = this.#values[4 * k]! & this.#mask;
      while (this.#slots[2 * slot + 1] !== 0) slot = (slot + 1) & this.#mask;
      this.#slots[2 * slot] = this.#values[4 * k]!;
      this.#slots[2 * slot + 1] = k + 1;
    }
  }

  /** The index of the value at byte `at` of `bytes` among the indexed ones, or -1. */
  find(bytes: Uint8Array, at: number): number {
    const first = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    let slot = first & this.#mask;
    for (;;) {
      const k = this.#slots[2 * slot + 1]! - 1;
      if (k < 0) return -1;
      if (this.#slots[2 * slot] === first && this.#rest(k, bytes, at)) return k;
      slot = (slot + 1) & this.#mask;
    }
  }

  #rest(k: number, bytes: Uint8Array, at: number): boolean {
    for (let w = 1; w < 4; w++) if (this.#values[4 * k + w] !== wordOf(bytes, at, this.#length, w)) return false;
    return true;
  }
}
