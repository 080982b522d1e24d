/**
 * Pseudonyms for online scoring: HMAC-SHA256 of a user id under the job's
 * scoring key (32 random bytes the guest sent the hosts, sealed, at the end
 * of training), base64url. Only the job's parties hold the key, so a
 * pseudonym tells an outsider nothing; a host maps it to its own row by
 * hashing its own ids, and learns nothing from a pseudonym of an id it does
 * not hold except by guessing that id.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

// HMAC with raw key bytes imports the key on every call (≈ 28 µs); with a KeyObject, ≈ 7 µs. Made once per key.
const keyObjects = new WeakMap<Uint8Array, KeyObject>();

function keyObject(key: Uint8Array): KeyObject {
  let k = keyObjects.get(key);
  if (k === undefined) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

export function pseudonym(key: Uint8Array, id: string): string {
  return createHmac('sha256', keyObject(key)).update(id, 'utf8').digest('base64url');
}

/** pseudonym → position in `ids`. */
export function pseudonymIndex(key: Uint8Array, ids: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  ids.forEach((id, row) => index.set(pseudonym(key, id), row));
  return index;
}
