/** The values of a DecryptResponse: constant coefficients mod q₀ as 8-byte little-endian integers. */
import { ProtocolError } from '../errors.ts';

export function writeDecryptValues(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, k) => view.setBigUint64(k * 8, v, true));
  return out;
}

export function readDecryptValues(bytes: Uint8Array, count: number): bigint[] {
  if (bytes.byteLength !== count * 8)
    throw new ProtocolError('MESSAGE_CORRUPT', `decrypt response has ${bytes.byteLength} bytes for ${count} values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, k) => view.getBigUint64(k * 8, true));
}
