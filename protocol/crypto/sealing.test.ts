import { describe, expect, it } from 'vitest';
import {
  directionalKey,
  exportSealingPrivateKey,
  generateSealingKeyPair,
  importSealingKeyPair,
  open,
  seal,
} from './sealing.ts';
import { ProtocolError } from '../errors.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sealing', () => {
  const brand = generateSealingKeyPair();
  const partner = generateSealingKeyPair();

  it('lets the recipient open what the sender sealed, and both derive the same directional key', () => {
    const k1 = directionalKey(brand, partner.publicKey, 'job', 'brand', 'partner');
    const k2 = directionalKey(partner, brand.publicKey, 'job', 'brand', 'partner');
    const sealed = seal(k1, enc('aad'), enc('residuals'));
    expect(Buffer.from(k1).equals(Buffer.from(k2))).toBe(true);
    expect(new TextDecoder().decode(open(k2, enc('aad'), sealed, 'test'))).toBe('residuals');
  });

  it('uses a different key per direction and per job', () => {
    const forward = directionalKey(brand, partner.publicKey, 'job', 'brand', 'partner');
    const backward = directionalKey(brand, partner.publicKey, 'job', 'partner', 'brand');
    const otherJob = directionalKey(brand, partner.publicKey, 'job-2', 'brand', 'partner');
    expect(Buffer.from(forward).equals(Buffer.from(backward))).toBe(false);
    expect(Buffer.from(forward).equals(Buffer.from(otherJob))).toBe(false);
  });

  it('refuses a payload moved to another header (AAD) or tampered with', () => {
    const key = directionalKey(brand, partner.publicKey, 'job', 'brand', 'partner');
    const sealed = seal(key, enc('round 1'), enc('x'));
    expect(() => open(key, enc('round 2'), sealed, 'residual')).toThrow(ProtocolError);
    expect(() => open(key, enc('round 2'), sealed, 'residual')).toThrow(
      /residual: sealed payload failed authentication/,
    );
    const flipped = Uint8Array.from(sealed);
    flipped[14] = (flipped[14] ?? 0) ^ 1;
    expect(() => open(key, enc('round 1'), flipped, 'residual')).toThrow(/failed authentication/);
  });

  it('does not contain the plaintext', () => {
    const key = directionalKey(brand, partner.publicKey, 'job', 'brand', 'partner');
    const sealed = seal(key, enc(''), enc('customer-42 spent 123.45'));
    expect(Buffer.from(sealed).includes(Buffer.from('customer-42'))).toBe(false);
  });

  it('restores a saved key pair for a resumed job', () => {
    const restored = importSealingKeyPair(exportSealingPrivateKey(brand));
    expect(Buffer.from(restored.publicKey).equals(Buffer.from(brand.publicKey))).toBe(true);
  });
});
