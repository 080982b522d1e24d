/**
 * Pseudonyms for online scoring: HMAC-SHA256 of a user id under the job's
 * scoring key (32 random bytes the guest sent the hosts, sealed, at the end
 * of training), base64url. Only the job's parties hold the key, so a
 * pseudonym tells an outsider nothing; a host maps it to its own row by
 * hashing its own ids, and learns nothing from a pseudonym of an id it does
 * not hold except by guessing that id.
 */
import { hash } from 'node:crypto';

/** HMAC-SHA256 under one key, as `createHmac('sha256', key)` computes it. */
export type KeyedHash = {
  /** The MAC of `message` (UTF-8), base64url. */
  base64url(message: string): string;
  /** The MAC's first 48 bits, big-endian, as an integer. */
  uint48(message: string): number;
};

/**
 * HMAC-SHA256 (RFC 2104) for the PRFs serving runs on every request: the
 * pseudonym of an id, a host's decoy row. It is the RFC's two hashes over
 * the padded key, done with one-shot `crypto.hash` in scratch buffers and
 * with strings for results: `createHmac` makes a native object per call,
 * and a Buffer result an ArrayBuffer, and at 1,000 requests a second the
 * weak handles and buffers to sweep made each young-generation GC pause of
 * the endpoints 2–4 times longer, which is what the serve bench's p99 is
 * made of. Equal to `createHmac` for every key and message
 * (pseudonym.test.ts).
 */
export function keyedHash(key: Uint8Array): KeyedHash {
  const block = 64;
  const k = key.length > block ? hash('sha256', key, 'buffer') : key;
  const outer = Buffer.alloc(block + 32, 0x5c);
  let inner = Buffer.alloc(block + 256, 0x36);
  for (let i = 0; i < k.length; i++) {
    outer[i] = (outer[i] ?? 0) ^ (k[i] ?? 0);
    inner[i] = (inner[i] ?? 0) ^ (k[i] ?? 0);
  }
  /** Fills `outer` with the outer hash's input: its pad, then the inner hash of `message`. */
  const innerHash = (message: string): Buffer => {
    // A UTF-16 code unit is at most 3 bytes of UTF-8: grow first, as write() would cut a longer message short.
    if (block + message.length * 3 > inner.length) {
      const grown = Buffer.alloc(block + message.length * 3);
      inner.copy(grown, 0, 0, block);
      inner = grown;
    }
    const n = inner.write(message, block, 'utf8');
    outer.write(hash('sha256', inner.subarray(0, block + n), 'binary'), block, 'binary');
    return outer;
  };
  return {
    base64url: (message) => hash('sha256', innerHash(message), 'base64url'),
    uint48: (message) => Number.parseInt(hash('sha256', innerHash(message), 'hex').slice(0, 12), 16),
  };
}

// One per key, as the key's pads are worked out once.
const hashes = new WeakMap<Uint8Array, KeyedHash>();

export function pseudonym(key: Uint8Array, id: string): string {
  let h = hashes.get(key);
  if (h === undefined) {
    h = keyedHash(key);
    hashes.set(key, h);
  }
  return h.base64url(id);
}

/** pseudonym → position in `ids`. */
export function pseudonymIndex(key: Uint8Array, ids: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  ids.forEach((id, row) => index.set(pseudonym(key, id), row));
  return index;
}
