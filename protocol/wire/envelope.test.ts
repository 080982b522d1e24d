import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, envelopeId, makeEnvelope, type EnvelopeHeader } from './envelope.ts';
import { tandem } from '../generated/tandem.js';
import { ProtocolError } from '../errors.ts';

const header: EnvelopeHeader = {
  jobId: 'job-1',
  round: 7,
  step: 'residual',
  sender: 'brand',
  recipient: 'partner',
  seq: 0,
  kind: 'ciphertext',
};

describe('envelopes', () => {
  it('derive the same id for the same logical message, so a retry is recognised', () => {
    expect(envelopeId(header)).toBe('job-1/7/residual/brand>partner/0');
    expect(makeEnvelope(header, new Uint8Array([1]), true, 1).id).toBe(
      makeEnvelope(header, new Uint8Array([2]), true, 2).id,
    );
  });

  it('round-trip through protobuf', () => {
    const envelope = makeEnvelope(header, new Uint8Array([1, 2, 3]), true, 1_700_000_000_123);
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual({ ...envelope, body: expect.any(Uint8Array) as unknown });
    expect([...decodeEnvelope(encodeEnvelope(envelope)).body]).toEqual([1, 2, 3]);
  });

  it('reject malformed protobuf with MESSAGE_CORRUPT', () => {
    expect(() => decodeEnvelope(new Uint8Array([0x0a, 0xff, 0xff]))).toThrow(ProtocolError);
    expect(() => decodeEnvelope(new Uint8Array([0x0a, 0xff, 0xff]))).toThrow(/envelope is not valid protobuf/);
  });

  it('reject an unknown kind and an id that does not match the header', () => {
    const unknownKind = tandem.v1.Envelope.encode({
      ...makeEnvelope(header, new Uint8Array(), false, 0),
      kind: 'secrets',
    }).finish();
    expect(() => decodeEnvelope(unknownKind)).toThrow(/unknown kind "secrets"/);
    const forged = tandem.v1.Envelope.encode({
      ...makeEnvelope(header, new Uint8Array(), false, 0),
      round: 8,
    }).finish();
    expect(() => decodeEnvelope(forged)).toThrow(/does not match its header/);
  });
});
