/**
 * Pseudorandom words from a 32-byte seed and a label (AES-256-CTR over
 * zeros, keyed by SHA-256 of the seed and label): the masks of secret-shared
 * histograms. The party that holds a seed and the coordinator it gave the
 * seed to draw the same words; nobody else can tell them from random.
 */
import { createCipheriv, createHash } from 'node:crypto';

export function prfWords(seed: Uint8Array, label: string, count: number): Uint32Array {
  const key = createHash('sha256').update(seed).update('|tandem/v1/trees|').update(label).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const bytes = cipher.update(Buffer.alloc(count * 4));
  const out = new Uint32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
