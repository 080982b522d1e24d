/**
 * Pseudorandom words from a 32-byte seed and a label (AES-256-CTR over
 * zeros, keyed by SHA-256 of the seed and label): the masks of secret-shared
 * histograms. The party that holds a seed and the coordinator it gave the
 * seed to draw the same words; nobody else can tell them from random. The
 * stream is seekable, so a matrix too large to hold is drawn a block of rows
 * at a time (share-matrix.ts), word for word the same as drawn whole.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** Zeros encrypted a chunk at a time: one output buffer, not three of its size (setup at 300k rows × 330 bins drew 99M words). */
const CHUNK_BYTES = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK_BYTES);
const WORDS_PER_AES_BLOCK = 4;

/** Words `from` … `from + count − 1` of the stream for (seed, label). */
export function prfWords(seed: Uint8Array, label: string, count: number, from = 0): Uint32Array {
  const key = createHash('sha256').update(seed).update('|tandem/v1/trees|').update(label).digest();
  // CTR's counter is the 128-bit big-endian IV: start at the AES block holding word `from`.
  const iv = Buffer.alloc(16);
  const block = Math.floor(from / WORDS_PER_AES_BLOCK);
  iv.writeUInt32BE(Math.floor(block / 2 ** 32), 8);
  iv.writeUInt32BE(block % 2 ** 32, 12);
  const skip = from - block * WORDS_PER_AES_BLOCK;
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const out = new Uint32Array(count + skip);
  const bytes = new Uint8Array(out.buffer);
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, bytes.length - at);
    bytes.set(cipher.update(ZEROS.subarray(0, n)), at);
  }
  return skip === 0 ? out : out.slice(skip);
}
