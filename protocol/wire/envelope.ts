/**
 * Envelopes: the logical messages of the protocol. Encoding, decoding with
 * validation, and the idempotency id every envelope carries.
 */
import { tandem } from '../generated/tandem.js';
import { ProtocolError } from '../errors.ts';

/** What an audit record calls the payload. */
export const MESSAGE_KINDS = [
  'control',
  'key',
  'psi-blinded',
  'ciphertext',
  'masked',
  'aggregate',
  'partial-score',
  'model',
  'psi-prf',
  'psi-oprf',
  'secret-share',
  'dealer',
  'split-bits',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export type EnvelopeHeader = {
  readonly jobId: string;
  readonly round: number;
  readonly step: string;
  readonly sender: string;
  readonly recipient: string;
  readonly seq: number;
  readonly kind: MessageKind;
};

export type Envelope = EnvelopeHeader & {
  readonly id: string;
  readonly body: Uint8Array;
  readonly sealed: boolean;
  readonly sentAtMs: number;
};

/** The idempotency id: the same logical message always gets the same id. */
export function envelopeId(h: Omit<EnvelopeHeader, 'kind'>): string {
  return `${h.jobId}/${h.round}/${h.step}/${h.sender}>${h.recipient}/${h.seq}`;
}

/** The bytes a sealed body is bound to, so a relay cannot move a body to another step or party. */
export function headerAad(h: EnvelopeHeader): Uint8Array {
  return new TextEncoder().encode(`tandem/v1|${envelopeId(h)}|${h.kind}`);
}

export function makeEnvelope(header: EnvelopeHeader, body: Uint8Array, sealed: boolean, sentAtMs: number): Envelope {
  return { ...header, id: envelopeId(header), body, sealed, sentAtMs };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return tandem.v1.Envelope.encode(envelope).finish();
}

/** Decodes and validates an envelope; anything malformed is MESSAGE_CORRUPT. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let raw: tandem.v1.Envelope;
  try {
    raw = tandem.v1.Envelope.decode(bytes);
  } catch (error) {
    throw new ProtocolError('MESSAGE_CORRUPT', `envelope is not valid protobuf: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!(MESSAGE_KINDS as readonly string[]).includes(raw.kind)) {
    throw new ProtocolError('MESSAGE_CORRUPT', `envelope ${raw.id} has unknown kind "${raw.kind}"`);
  }
  const envelope: Envelope = {
    id: raw.id,
    jobId: raw.jobId,
    round: raw.round,
    step: raw.step,
    sender: raw.sender,
    recipient: raw.recipient,
    seq: raw.seq,
    kind: raw.kind as MessageKind,
    body: raw.body,
    sealed: raw.sealed,
    sentAtMs: raw.sentAtMs,
  };
  for (const field of ['jobId', 'step', 'sender', 'recipient'] as const) {
    if (envelope[field] === '') throw new ProtocolError('MESSAGE_CORRUPT', `envelope ${raw.id} has an empty ${field}`);
  }
  if (envelope.id !== envelopeId(envelope)) {
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `envelope id "${envelope.id}" does not match its header (${envelopeId(envelope)})`,
    );
  }
  return envelope;
}

/** Decodes a typed body, turning a protobuf failure into MESSAGE_CORRUPT that names the step. */
export function decodeBody<T>(type: { decode(bytes: Uint8Array): T }, bytes: Uint8Array, what: string): T {
  try {
    return type.decode(bytes);
  } catch (error) {
    throw new ProtocolError('MESSAGE_CORRUPT', `${what}: body is not valid protobuf: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
