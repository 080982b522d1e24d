/**
 * OPRF-PSI messages to and from their protobuf bodies (tandem.v1.PsiOprf*,
 * and RowSelection for psi-result), so every transport carries the same
 * bytes: a JobChannel posts the body with round = bucket and seq = chunk, a
 * bench link frames it. Decoding checks what protobuf cannot (byte lengths
 * are checked again by the state machines, against the session).
 */
import { tandem } from '../../generated/tandem.js';
import { ProtocolError } from '../../errors.ts';
import type { OprfMessage } from './messages.ts';

export const OPRF_STEPS = [
  'psi-oprf-hello',
  'psi-oprf-setup',
  'psi-oprf-correction',
  'psi-oprf-values',
  'psi-result',
] as const;
export type OprfStep = (typeof OPRF_STEPS)[number];

/** The envelope coordinates of a message: round = bucket, seq = chunk (0 for the opening and the result). */
export function coordinates(message: OprfMessage): { readonly round: number; readonly seq: number } {
  return message.step === 'psi-oprf-correction' || message.step === 'psi-oprf-values'
    ? { round: message.bucket, seq: message.chunk }
    : { round: 0, seq: 0 };
}

/** The protobuf body of a message (the writer's own buffer, not a copy: a correction chunk is 4 MiB). */
export function encodeOprf(message: OprfMessage): Uint8Array {
  switch (message.step) {
    case 'psi-oprf-hello':
      return tandem.v1.PsiOprfHello.encode({
        points: message.points,
        codeSeed: message.codeSeed,
        count: message.count,
      }).finish(true);
    case 'psi-oprf-setup':
      return tandem.v1.PsiOprfSetup.encode({
        reply: message.reply,
        cuckooSeed: message.cuckooSeed,
        count: message.count,
        buckets: message.buckets,
      }).finish(true);
    case 'psi-oprf-correction':
      return tandem.v1.PsiOprfCorrection.encode({
        bucket: message.bucket,
        chunk: message.chunk,
        rows: message.rows,
      }).finish(true);
    case 'psi-oprf-values':
      return tandem.v1.PsiOprfValues.encode({
        bucket: message.bucket,
        chunk: message.chunk,
        values: message.values,
      }).finish(true);
    case 'psi-result': {
      const indices = new Uint8Array(message.positions.length * 4);
      const view = new DataView(indices.buffer);
      message.positions.forEach((p, k) => view.setUint32(4 * k, p, true));
      return tandem.v1.RowSelection.encode({ indices, count: message.positions.length, purpose: 'alignment' }).finish(
        true,
      );
    }
  }
}

/** The message a body carries, given its step; a body protobuf cannot parse is MESSAGE_CORRUPT. */
export function decodeOprf(step: OprfStep, body: Uint8Array): OprfMessage {
  try {
    switch (step) {
      case 'psi-oprf-hello': {
        const m = tandem.v1.PsiOprfHello.decode(body);
        return { step, points: m.points, codeSeed: m.codeSeed, count: m.count };
      }
      case 'psi-oprf-setup': {
        const m = tandem.v1.PsiOprfSetup.decode(body);
        return { step, reply: m.reply, cuckooSeed: m.cuckooSeed, count: m.count, buckets: m.buckets };
      }
      case 'psi-oprf-correction': {
        const m = tandem.v1.PsiOprfCorrection.decode(body);
        return { step, bucket: m.bucket, chunk: m.chunk, rows: m.rows };
      }
      case 'psi-oprf-values': {
        const m = tandem.v1.PsiOprfValues.decode(body);
        return { step, bucket: m.bucket, chunk: m.chunk, values: m.values };
      }
      case 'psi-result': {
        const m = tandem.v1.RowSelection.decode(body);
        if (m.indices.byteLength !== m.count * 4)
          throw new RangeError(`${m.indices.byteLength} bytes for ${m.count} positions`);
        const view = new DataView(m.indices.buffer, m.indices.byteOffset, m.indices.byteLength);
        return { step, positions: Uint32Array.from({ length: m.count }, (_, k) => view.getUint32(4 * k, true)) };
      }
    }
  } catch (error) {
    throw new ProtocolError('MESSAGE_CORRUPT', `${step}: body is not a valid message: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
