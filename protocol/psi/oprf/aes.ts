/**
 * AES from node:crypto, used the way OpenSSL is fast: on buffers of tens of
 * kilobytes (one call costs a few microseconds, so per-block calls would
 * cost more than the AES itself; slices above ~1 MiB fall out of Node's
 * buffer pool and run at a third of the speed). Three uses in OPRF-PSI:
 *
 * - {@link ColumnStreams}: the 512 pseudorandom columns of OT extension,
 *   AES-128-CTR keyed by each base-OT seed, the IV's top word naming the
 *   bucket so every bucket draws its own streams from one set of base OTs.
 * - {@link CodeCipher}: the pseudorandom code C(w) = (AES_k0(w) ⊕ w, …,
 *   AES_k3(w) ⊕ w), 512 bits from four keys, as libOTe's KKRT implementation
 *   builds it (its MultiKeyAES code).
 * - {@link RowHasher}: the hash H applied to each 512-bit OT row,
 *   H(x) = ⊕ₖ π(xₖ) ⊕ xₖ over the four 128-bit blocks, with π fixed-key AES:
 *   the correlation-robust hash π(x) ⊕ x of Guo, Katz, Wang and Yu
 *   ("Efficient and Secure Multiparty Computation from Fixed-Key Block
 *   Ciphers", S&P 2020, §7), folded over the blocks as libOTe's KKRT does by
 *   default (its alternative is a SHA hash per row, ten times slower here).
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';
import { CODE_BITS, ROW_WORDS } from './params.ts';

/** Bytes per AES call: Node's sweet spot on this machine (≈ 3 GB/s). */
const SLICE_BYTES = 65_536;

/** AES-128-ECB over whole buffers of 16-byte blocks. */
export class BlockCipher {
  readonly #cipher: Cipheriv;

  constructor(key: Uint8Array) {
    if (key.byteLength !== 16) throw new RangeError(`an AES-128 key is 16 bytes, got ${key.byteLength}`);
    this.#cipher = createCipheriv('aes-128-ecb', key, null);
    this.#cipher.setAutoPadding(false);
  }

  /** Encrypts `input` (whole blocks) into `output` (at least as long). */
  encrypt(input: Uint8Array, output: Uint8Array): void {
    if (input.byteLength % 16 !== 0) throw new RangeError('BlockCipher.encrypt needs whole 16-byte blocks');
    for (let from = 0; from < input.byteLength; from += SLICE_BYTES) {
      output.set(this.#cipher.update(input.subarray(from, Math.min(input.byteLength, from + SLICE_BYTES))), from);
    }
  }
}

/** 16-byte AES keys laid end to end, as base OTs and seeds hand them over. */
function keyAt(keys: Uint8Array, i: number): Uint8Array {
  return keys.subarray(16 * i, 16 * i + 16);
}

/** The 512 column streams of one bucket: stream i is AES-128-CTR under key i with IV (bucket, 0, 0, 0). */
export class ColumnStreams {
  readonly #ciphers: Cipheriv[];
  #zeros = new Uint8Array(0);

  constructor(keys: Uint8Array, bucket: number) {
    if (keys.byteLength !== 16 * CODE_BITS) throw new RangeError(`column streams need ${CODE_BITS} keys of 16 bytes`);
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(bucket, 0);
    this.#ciphers = Array.from({ length: CODE_BITS }, (_, i) => createCipheriv('aes-128-ctr', keyAt(keys, i), iv));
  }

  /** The next `rows` bits of every column, column-major into `out`, column i from word i·`stride`; `rows` a multiple of 32. */
  next(rows: number, out: Int32Array, stride: number): void {
    const bytes = rows / 8;
    if (this.#zeros.byteLength !== bytes) this.#zeros = new Uint8Array(bytes);
    const target = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    this.#ciphers.forEach((cipher, i) => target.set(cipher.update(this.#zeros), 4 * i * stride));
  }
}

/** The pseudorandom code: four AES keys, one per 128-bit block of a codeword. */
export class CodeCipher {
  readonly #blocks: BlockCipher[];
  #scratch = new Int32Array(0);

  /** `keys`: 64 bytes, the four AES-128 keys. */
  constructor(keys: Uint8Array) {
    if (keys.byteLength !== 64) throw new RangeError('the code needs four 16-byte keys');
    this.#blocks = [0, 1, 2, 3].map((k) => new BlockCipher(keyAt(keys, k)));
  }

  /** Codewords of `count` 16-byte words (4 Int32 each) into rows of 16 Int32 words. */
  encode(words: Int32Array, count: number, out: Int32Array): void {
    if (this.#scratch.length < count * 4) this.#scratch = new Int32Array(count * 4);
    const input = new Uint8Array(words.buffer, words.byteOffset, count * 16);
    const enc = this.#scratch;
    const encBytes = new Uint8Array(enc.buffer, enc.byteOffset, count * 16);
    for (let k = 0; k < 4; k++) {
      this.#blocks[k]?.encrypt(input, encBytes);
      for (let j = 0; j < count; j++) {
        const w = 4 * j;
        const o = ROW_WORDS * j + 4 * k;
        out[o] = enc[w]! ^ words[w]!;
        out[o + 1] = enc[w + 1]! ^ words[w + 1]!;
        out[o + 2] = enc[w + 2]! ^ words[w + 2]!;
        out[o + 3] = enc[w + 3]! ^ words[w + 3]!;
      }
    }
  }
}

/** H over 512-bit rows: the folded fixed-key-AES correlation-robust hash, 16 bytes out. */
export class RowHasher {
  readonly #pi: BlockCipher;
  #scratch = new Int32Array(0);

  constructor(key: Uint8Array) {
    this.#pi = new BlockCipher(key);
  }

  /** H of `count` rows (16 words each) into `out`, 4 words per row. */
  hash(rows: Int32Array, count: number, out: Int32Array): void {
    const words = count * ROW_WORDS;
    if (this.#scratch.length < words) this.#scratch = new Int32Array(words);
    const enc = this.#scratch;
    this.#pi.encrypt(
      new Uint8Array(rows.buffer, rows.byteOffset, words * 4),
      new Uint8Array(enc.buffer, enc.byteOffset, words * 4),
    );
    for (let j = 0; j < count; j++) {
      const r = ROW_WORDS * j;
      for (let w = 0; w < 4; w++) {
        out[4 * j + w] =
          rows[r + w]! ^
          enc[r + w]! ^
          rows[r + 4 + w]! ^
          enc[r + 4 + w]! ^
          rows[r + 8 + w]! ^
          enc[r + 8 + w]! ^
          rows[r + 12 + w]! ^
          enc[r + 12 + w]!;
      }
    }
  }
}
