/**
 * The 512 base oblivious transfers that seed OT extension: Bellare–Micali
 * ("Non-Interactive Oblivious Transfer and Applications", CRYPTO 1989) in the
 * random-OT form, over Curve25519 in Edwards form (libsodium's ed25519
 * arithmetic: the OT needs point addition, which the u-only X25519 API of
 * protocol/psi/group.ts lacks). Semi-honest, two messages.
 *
 * Roles are those of OT extension, reversed from PSI: the PSI *sender*
 * chooses (bit sᵢ per OT, its secret for all of the extension), the PSI
 * *receiver* ends with both seeds of every OT.
 *
 *   C = a point nobody knows the discrete log of: hash-to-curve of the context.
 *   chooser:  aᵢ random, Pᵢ = aᵢ·B;  sends Xᵢ = Pᵢ if sᵢ = 0, else C − Pᵢ
 *   sender:   r random; sends R = r·B; seeds kᵢ⁰ = H(i, 0, r·Xᵢ), kᵢ¹ = H(i, 1, r·(C − Xᵢ))
 *   chooser:  kᵢ^sᵢ = H(i, sᵢ, aᵢ·R)     (the point it chose is Pᵢ, and r·Pᵢ = aᵢ·R)
 *
 * Xᵢ is a uniform point whatever sᵢ is (aᵢ·B is, and so is C − aᵢ·B), so the
 * sender learns nothing about the choices. The chooser knows the discrete
 * log of one of Xᵢ, C − Xᵢ only (knowing both would give log C), so the other
 * seed is hidden by computational Diffie–Hellman.
 */
import sodium from 'sodium-native';
import { ProtocolError } from '../../errors.ts';
import { CODE_BITS } from './params.ts';

/** The ed25519 arithmetic of libsodium (types/sodium-native.d.ts declares only what ECDH uses). */
type Ed25519 = {
  crypto_generichash(output: Buffer, input: Buffer, key?: Buffer): void;
  crypto_core_ed25519_from_uniform(point: Buffer, uniform: Buffer): void;
  crypto_core_ed25519_scalar_reduce(scalar: Buffer, wide: Buffer): void;
  crypto_core_ed25519_is_valid_point(point: Buffer): boolean;
  crypto_core_ed25519_sub(out: Buffer, p: Buffer, q: Buffer): void;
  crypto_scalarmult_ed25519_base_noclamp(out: Buffer, scalar: Buffer): void;
  crypto_scalarmult_ed25519_noclamp(out: Buffer, scalar: Buffer, point: Buffer): void;
};
const ed = sodium as unknown as Ed25519;

export const POINT_BYTES = 32;
export const SEED_BYTES = 16;
/** Uniform bytes per secret scalar (reduced mod the group order). */
export const SCALAR_SOURCE_BYTES = 64;

/** The seeds the base-OT sender (PSI receiver) holds: kᵢ⁰ and kᵢ¹ for every OT. */
export type BaseOtSenderSeeds = { readonly zero: Uint8Array; readonly one: Uint8Array };

function commonPoint(context: Uint8Array): Buffer {
  const uniform = Buffer.alloc(32);
  ed.crypto_generichash(uniform, Buffer.concat([Buffer.from('tandem/v1/psi-oprf/base-ot/C|'), context]));
  const point = Buffer.alloc(POINT_BYTES);
  ed.crypto_core_ed25519_from_uniform(point, uniform);
  return point;
}

function scalarFrom(source: Uint8Array, i: number): Buffer {
  const scalar = Buffer.alloc(32);
  ed.crypto_core_ed25519_scalar_reduce(
    scalar,
    Buffer.from(source.buffer, source.byteOffset + i * SCALAR_SOURCE_BYTES, SCALAR_SOURCE_BYTES),
  );
  return scalar;
}

function seedOf(
  context: Uint8Array,
  i: number,
  bit: number,
  reply: Uint8Array,
  shared: Uint8Array,
  out: Uint8Array,
): void {
  const label = Buffer.alloc(5);
  label.writeUInt32BE(i, 0);
  label[4] = bit;
  const seed = Buffer.alloc(SEED_BYTES);
  ed.crypto_generichash(
    seed,
    Buffer.concat([Buffer.from('tandem/v1/psi-oprf/base-ot/seed|'), context, label, reply, shared]),
  );
  out.set(seed, i * SEED_BYTES);
}

function checkedPoint(bytes: Uint8Array, what: string): Buffer {
  const point = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(POINT_BYTES, bytes.byteLength));
  if (bytes.byteLength !== POINT_BYTES || !ed.crypto_core_ed25519_is_valid_point(point)) {
    throw new ProtocolError('MESSAGE_CORRUPT', `OPRF-PSI base OT: ${what} is not a point of the prime-order group`);
  }
  return point;
}

function bitAt(bits: Uint8Array, i: number): number {
  return ((bits[i >>> 3] ?? 0) >>> (i & 7)) & 1;
}

/**
 * The chooser's message: one point per OT. `choices` holds 512 bits (64
 * bytes, LSB first); `scalarSource` 512 × 64 uniform bytes.
 */
export function chooserPoints(context: Uint8Array, choices: Uint8Array, scalarSource: Uint8Array): Uint8Array {
  const c = commonPoint(context);
  const out = Buffer.alloc(CODE_BITS * POINT_BYTES);
  const p = Buffer.alloc(POINT_BYTES);
  for (let i = 0; i < CODE_BITS; i++) {
    ed.crypto_scalarmult_ed25519_base_noclamp(p, scalarFrom(scalarSource, i));
    const x = out.subarray(i * POINT_BYTES, (i + 1) * POINT_BYTES);
    if (bitAt(choices, i) === 0) p.copy(x);
    else ed.crypto_core_ed25519_sub(x, c, p);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The sender's reply R = r·B and both seeds of every OT. */
export function senderSeeds(
  context: Uint8Array,
  points: Uint8Array,
  scalarSource: Uint8Array,
): { readonly reply: Uint8Array; readonly seeds: BaseOtSenderSeeds } {
  if (points.byteLength !== CODE_BITS * POINT_BYTES)
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `OPRF-PSI base OT: expected ${CODE_BITS} points, got ${points.byteLength} bytes`,
    );
  const c = commonPoint(context);
  const r = scalarFrom(scalarSource, 0);
  const reply = Buffer.alloc(POINT_BYTES);
  ed.crypto_scalarmult_ed25519_base_noclamp(reply, r);
  const zero = new Uint8Array(CODE_BITS * SEED_BYTES);
  const one = new Uint8Array(CODE_BITS * SEED_BYTES);
  const other = Buffer.alloc(POINT_BYTES);
  const shared = Buffer.alloc(POINT_BYTES);
  for (let i = 0; i < CODE_BITS; i++) {
    const x = checkedPoint(points.subarray(i * POINT_BYTES, (i + 1) * POINT_BYTES), `point ${i}`);
    ed.crypto_scalarmult_ed25519_noclamp(shared, r, x);
    seedOf(context, i, 0, reply, shared, zero);
    ed.crypto_core_ed25519_sub(other, c, x);
    ed.crypto_scalarmult_ed25519_noclamp(shared, r, other);
    seedOf(context, i, 1, reply, shared, one);
  }
  return { reply: new Uint8Array(reply), seeds: { zero, one } };
}

/** The chooser's seeds kᵢ^sᵢ from the sender's reply. */
export function chosenSeeds(
  context: Uint8Array,
  choices: Uint8Array,
  scalarSource: Uint8Array,
  reply: Uint8Array,
): Uint8Array {
  const r = checkedPoint(reply, 'the reply');
  const out = new Uint8Array(CODE_BITS * SEED_BYTES);
  const shared = Buffer.alloc(POINT_BYTES);
  for (let i = 0; i < CODE_BITS; i++) {
    ed.crypto_scalarmult_ed25519_noclamp(shared, scalarFrom(scalarSource, i), r);
    seedOf(context, i, bitAt(choices, i), reply, shared, out);
  }
  return out;
}
