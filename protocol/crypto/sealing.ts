/**
 * End-to-end sealing of party-to-party payloads. The coordinator relays them
 * but holds the job's CKKS secret key, so any ciphertext it could read it
 * could decrypt: it must see only AES-256-GCM output.
 *
 * Each party makes an X25519 key pair per job and publishes the public half,
 * signed with its node key. A direction (sender → recipient) gets its own
 * key: HKDF-SHA256 over the X25519 shared secret, salted with the job id,
 * with both names and the direction in `info`. The envelope header is the
 * AAD, so a body cannot be replayed at another step or for another party.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { ProtocolError } from '../errors.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

export type SealingKeyPair = { readonly privateKey: KeyObject; readonly publicKey: Uint8Array };

export function generateSealingKeyPair(): SealingKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(der.subarray(der.byteLength - 32)) };
}

/** Restores a key pair saved with {@link exportSealingPrivateKey} (for resuming a job). */
export function importSealingKeyPair(pkcs8: Uint8Array): SealingKeyPair {
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(der.subarray(der.byteLength - 32)) };
}

export function exportSealingPrivateKey(pair: SealingKeyPair): Uint8Array {
  return new Uint8Array(pair.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** The key for messages from `sender` to `recipient` in `jobId`. */
export function directionalKey(
  own: SealingKeyPair,
  peerPublicKey: Uint8Array,
  jobId: string,
  sender: string,
  recipient: string,
): Uint8Array {
  return derivedKey(own, peerPublicKey, jobId, `tandem/v1/seal|${sender}>${recipient}`);
}

/**
 * A key only `a` and `b` can compute, for `purpose` in `jobId` (the same at
 * both ends: the names are sorted). Used where the two parties need a shared
 * secret the coordinator must not hold, such as coordinator-aided PSI's PRF key.
 */
export function pairKey(
  own: SealingKeyPair,
  peerPublicKey: Uint8Array,
  jobId: string,
  purpose: string,
  a: string,
  b: string,
): Uint8Array {
  return derivedKey(own, peerPublicKey, jobId, `tandem/v1/pair|${purpose}|${[a, b].sort().join('&')}`);
}

function derivedKey(own: SealingKeyPair, peerPublicKey: Uint8Array, jobId: string, info: string): Uint8Array {
  if (peerPublicKey.byteLength !== 32)
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `a sealing public key must be 32 bytes, got ${peerPublicKey.byteLength}`,
    );
  const peer = createPublicKey({
    key: Buffer.concat([X25519_SPKI_PREFIX, peerPublicKey]),
    format: 'der',
    type: 'spki',
  });
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: peer });
  if (shared.every((b) => b === 0))
    throw new ProtocolError('MESSAGE_CORRUPT', 'the peer sealing key is of small order');
  return new Uint8Array(hkdfSync('sha256', shared, Buffer.from(jobId), Buffer.from(info), 32));
}

/** nonce ‖ ciphertext ‖ tag */
export function seal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

export function open(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array, what: string): Uint8Array {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES)
    throw new ProtocolError('SEAL_OPEN_FAILED', `${what}: sealed payload is too short`);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.byteLength - TAG_BYTES)), decipher.final()]),
    );
  } catch (error) {
    throw new ProtocolError(
      'SEAL_OPEN_FAILED',
      `${what}: sealed payload failed authentication (tampered, or sealed for another party or step)`,
      { cause: error },
    );
  }
}

/** The bytes a party signs to bind its sealing key to a job and its name. */
export function partyKeyStatement(jobId: string, party: string, publicKey: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`tandem/v1/party-key|${jobId}|${party}|`), publicKey]);
}
