import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError, TandemError } from '../errors.ts';
import { sign, verify } from './signing.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** What it threw, so class, code and message can be asserted together. */
function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('signing', () => {
  const brand = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const partner = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const statement = enc('tandem/party-key/v1 job-1 brand <x25519 key>');

  it('verifies what the signer signed, given its public key as a KeyObject or as PEM', () => {
    const signature = sign(brand.privateKey, statement);

    expect(verify(brand.publicKey, statement, signature)).toBe(true);
    expect(verify(brand.publicKey.export({ format: 'pem', type: 'spki' }) as string, statement, signature)).toBe(true);
  });

  it('produces DER signatures, so a P1363 signature of the same bytes does not verify', () => {
    const signature = sign(brand.privateKey, statement);
    const p1363 = nodeSign('sha256', statement, { key: brand.privateKey, dsaEncoding: 'ieee-p1363' });

    expect(signature[0]).toBe(0x30);
    expect(signature.byteLength).toBeGreaterThanOrEqual(68);
    expect(signature.byteLength).toBeLessThanOrEqual(72);
    expect(verify(brand.publicKey, statement, p1363)).toBe(false);
  });

  it('rejects a changed statement, a flipped signature bit and another signer', () => {
    const signature = sign(brand.privateKey, statement);
    const flipped = Uint8Array.from(signature);
    flipped[10] = (flipped[10] ?? 0) ^ 1;

    expect(verify(brand.publicKey, enc('tandem/party-key/v1 job-2 brand <x25519 key>'), signature)).toBe(false);
    expect(verify(brand.publicKey, statement, flipped)).toBe(false);
    expect(verify(partner.publicKey, statement, signature)).toBe(false);
  });

  it('treats a malformed signature as a bad signature, not a crash', () => {
    expect(verify(brand.publicKey, statement, new Uint8Array(0))).toBe(false);
    expect(verify(brand.publicKey, statement, new Uint8Array(300).fill(0x30))).toBe(false);
  });

  it('refuses to sign with a key that is not ECDSA P-256', () => {
    const ed = generateKeyPairSync('ed25519');

    const error = failure(() => sign(ed.privateKey, statement));

    expect(error).toBeInstanceOf(TandemError);
    expect(error).toMatchObject({
      code: 'INTERNAL',
      message: 'signing needs an ECDSA P-256 private key, got a private ed25519 key',
    });
  });

  it('rejects a signer that is not a P-256 key or cannot be parsed', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

    const wrongCurve = failure(() => verify(p384.publicKey, statement, new Uint8Array(64)));
    const garbage = failure(() =>
      verify('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', statement, new Uint8Array(64)),
    );

    expect(wrongCurve).toBeInstanceOf(AuthError);
    expect(wrongCurve).toMatchObject({
      code: 'AUTH_CERTIFICATE_REJECTED',
      message: "the signer's key is ec/secp384r1, but Tandem signatures are ECDSA P-256",
    });
    expect(garbage).toBeInstanceOf(AuthError);
    expect(garbage).toMatchObject({
      code: 'AUTH_CERTIFICATE_REJECTED',
      message: 'the signer is neither a PEM certificate nor a PEM public key',
    });
  });
});
