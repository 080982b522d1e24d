/**
 * Signatures with node keys: ECDSA over P-256 with SHA-256, the key type of
 * every Tandem certificate. Parties sign their per-job sealing keys and
 * audit records with them; peers verify against the signer's certificate.
 *
 * Encoding: DER (ASN.1 `ECDSA-Sig-Value`, 70–72 bytes), not IEEE-P1363. It is
 * what X.509, OpenSSL (`openssl dgst -sha256 -verify`) and the audit log use,
 * so one signature format runs through the whole system; a P1363 signature
 * does not verify here.
 *
 * The bytes are signed as given: callers put the context (job, party,
 * purpose) into them, so a signature cannot be replayed for another purpose.
 */
import { X509Certificate, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { AuthError, TandemError } from '../errors.ts';

const HASH = 'sha256';
const CURVE = 'prime256v1';

/**
 * Signs `bytes` with a node's P-256 private key; returns a DER signature.
 * @throws TandemError `INTERNAL` if the key is not an ECDSA P-256 private key (node identities always are)
 */
export function sign(privateKey: KeyObject, bytes: Uint8Array): Uint8Array {
  if (privateKey.type !== 'private' || !isP256(privateKey)) {
    throw new TandemError(
      'INTERNAL',
      `signing needs an ECDSA P-256 private key, got a ${privateKey.type} ${keyKind(privateKey)} key`,
    );
  }
  return new Uint8Array(nodeSign(HASH, bytes, { key: privateKey, dsaEncoding: 'der' }));
}

/**
 * Checks a DER signature over `bytes`. The signer is a public KeyObject, a
 * PEM certificate (its key is used; check the certificate itself with
 * `verifyPeerCertificate` first) or a PEM public key. Returns false for a
 * wrong or malformed signature.
 * @throws AuthError `AUTH_CERTIFICATE_REJECTED` if the signer cannot be parsed or is not a P-256 key
 */
export function verify(publicKeyOrCertPem: KeyObject | string, bytes: Uint8Array, signature: Uint8Array): boolean {
  const key = signerKey(publicKeyOrCertPem);
  try {
    return nodeVerify(HASH, bytes, { key, dsaEncoding: 'der' }, signature);
  } catch {
    // OpenSSL throws on some malformed DER; to a caller that is just a bad signature.
    return false;
  }
}

function signerKey(signer: KeyObject | string): KeyObject {
  let key: KeyObject;
  try {
    if (typeof signer !== 'string') key = signer.type === 'private' ? createPublicKey(signer) : signer;
    else if (signer.includes('-----BEGIN CERTIFICATE-----')) key = new X509Certificate(signer).publicKey;
    else key = createPublicKey(signer);
  } catch (error) {
    throw new AuthError('AUTH_CERTIFICATE_REJECTED', 'the signer is neither a PEM certificate nor a PEM public key', {
      cause: error,
    });
  }
  if (!isP256(key)) {
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `the signer's key is ${keyKind(key)}, but Tandem signatures are ECDSA P-256`,
    );
  }
  return key;
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE;
}

/** `ec/secp384r1`, `ed25519`, `rsa`…: enough to tell someone which key they configured. */
function keyKind(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? 'symmetric'}${curve === undefined ? '' : `/${curve}`}`;
}
