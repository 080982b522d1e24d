/**
 * Every random choice a party makes in OPRF-PSI, derived from one secret it
 * passes in: the base-OT choices and scalars, the code seed, the cuckoo seed,
 * each bucket's shuffle and padding values. The same secret gives the same
 * messages, so a party restarted mid-PSI resends exactly what its peer may
 * already have used (alignment.ts derives the secret from the node secret,
 * the job and the peer, as it does for ECDH's scalar). Labels keep the
 * streams independent; AES-256-CTR expands them (protocol/random.ts explains
 * why a cipher rather than a fast PRNG).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Random } from '../../random.ts';

/** A 32-byte key for one purpose: SHA-256 of the label and the secret. */
export function derive(secret: Uint8Array, label: string): Uint8Array {
  if (secret.byteLength < 16)
    throw new RangeError(`an OPRF-PSI secret needs at least 16 bytes, got ${secret.byteLength}`);
  return new Uint8Array(createHash('sha256').update(`tandem/v1/psi-oprf|${label}|`).update(secret).digest());
}

/** `bytes` pseudorandom bytes for one purpose. */
export function expand(secret: Uint8Array, label: string, bytes: number): Uint8Array {
  const cipher = createCipheriv('aes-256-ctr', derive(secret, label), Buffer.alloc(16));
  const out = cipher.update(Buffer.alloc(bytes));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** A seeded random stream for one purpose (permutations). */
export function streamFor(secret: Uint8Array, label: string): Random {
  return new Random(derive(secret, label));
}

/** 16 bytes as the four little-endian words the cuckoo hash functions take (three used). */
export function seedWords(seed: Uint8Array): Uint32Array {
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  return Uint32Array.from({ length: 4 }, (_, i) => view.getUint32(4 * i, true));
}

/** The four code keys and the row-hash key, from the sender's code seed. */
export function codeKeys(codeSeed: Uint8Array): { readonly code: Uint8Array; readonly hash: Uint8Array } {
  const keys = createHash('sha512').update('tandem/v1/psi-oprf/code|').update(codeSeed).digest();
  const hash = createHash('sha256').update('tandem/v1/psi-oprf/row-hash|').update(codeSeed).digest();
  return { code: new Uint8Array(keys), hash: new Uint8Array(hash.subarray(0, 16)) };
}
