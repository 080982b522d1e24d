/**
 * The message catalog. Every step of the protocol is declared once, as a
 * value: who may send it, who may receive it, what kind the audit log calls
 * it, its protobuf body, and what it carries in words an auditor reads.
 * Senders and receivers use these values (JobChannel.post / take, the
 * coordinator's handlers), so a body is always encoded and decoded with the
 * type its step declares; the coordinator checks every envelope it relays
 * against the catalog; the audit report explains steps from it.
 *
 * This file declares the steps every job kind shares (setup, alignment,
 * split, progress, control). A job kind or model family declares its own in
 * its folder (`jobs/<kind>/messages.ts`, `models/<family>/messages.ts`) and
 * `jobs/catalog.ts` gathers them all.
 */
import { tandem } from './generated/tandem.js';
import { ProtocolError } from './errors.ts';
import type { MessageKind } from './wire/envelope.ts';

export type Role = 'guest' | 'host' | 'coordinator';

/**
 * A protobuf message type as protobufjs generates it (method syntax on
 * purpose: a catalog of different bodies is one array).
 */
export type BodyType<T, P> = {
  encode(message: P): { finish(shared?: boolean): Uint8Array };
  decode(bytes: Uint8Array): T;
};

export type Message<T = unknown, P = unknown> = {
  /** The envelope's `step`: unique across the catalog. */
  readonly step: string;
  /** What the audit log calls the payload. */
  readonly kind: MessageKind;
  readonly from: readonly Role[];
  readonly to: readonly Role[];
  readonly body: BodyType<T, P>;
  /** What it carries, for the audit report. */
  readonly meaning: string;
};

/** The decoded body of a message. */
export type BodyOf<M> = M extends Message<infer T, unknown> ? T : never;
/** What a sender passes to encode a message's body. */
export type PropsOf<M> = M extends Message<unknown, infer P> ? P : never;

/** Declares a message (frozen, so a catalog entry cannot be changed at run time). */
export function message<T, P>(m: Message<T, P>): Message<T, P> {
  return Object.freeze({ ...m, from: Object.freeze([...m.from]), to: Object.freeze([...m.to]) });
}

/** Encodes a message's body (the writer's own buffer, not a copy: a host's masked sums are 13 MB). */
export function encodeMessage<M extends Message>(m: M, body: PropsOf<M>): Uint8Array {
  return m.body.encode(body).finish(true);
}

/** Decodes a message's body; a protobuf failure is MESSAGE_CORRUPT naming the step. */
export function decodeMessage<M extends Message>(m: M, bytes: Uint8Array): BodyOf<M> {
  try {
    return m.body.decode(bytes) as BodyOf<M>;
  } catch (error) {
    throw new ProtocolError('MESSAGE_CORRUPT', `${m.step}: body is not valid protobuf: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const PARTIES: readonly Role[] = ['guest', 'host'];

// ---------------------------------------------------------------- setup and control

export const ASSIGNMENT = message({
  step: 'assignment',
  kind: 'key',
  from: ['coordinator'],
  to: PARTIES,
  body: tandem.v1.JobAssignment,
  meaning: "the job description and the job's public encryption key",
});
export const PARTY_KEY = message({
  step: 'party-key',
  kind: 'key',
  from: PARTIES,
  to: ['coordinator'],
  body: tandem.v1.PartyKey,
  meaning: "the party's public sealing key for this job, signed with its certificate",
});
export const KEY_DIRECTORY = message({
  step: 'key-directory',
  kind: 'key',
  from: ['coordinator'],
  to: PARTIES,
  body: tandem.v1.KeyDirectory,
  meaning: "every party's public sealing key, collected by the coordinator",
});
export const EVENT = message({
  step: 'event',
  kind: 'control',
  from: PARTIES,
  to: ['coordinator'],
  body: tandem.v1.JobEvent,
  meaning:
    'progress reports: phase, row counts, the size of the overlap, training loss per pass, final accuracy figures',
});
export const JOB_CONTROL = message({
  step: 'control',
  kind: 'control',
  from: ['coordinator'],
  to: PARTIES,
  body: tandem.v1.JobControl,
  meaning: 'a stop instruction (the job was cancelled, or another party failed)',
});
export const REFUSED = message({
  step: 'refused',
  kind: 'control',
  from: ['coordinator'],
  to: PARTIES,
  body: tandem.v1.Refusal,
  meaning: 'a notice that the coordinator refused a message, and why',
});

// ---------------------------------------------------------------- alignment (PSI)

export const PSI_GUEST_SET = message({
  step: 'psi-guest-set',
  kind: 'psi-blinded',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.PsiElements,
  meaning: "the guest's identifiers, blinded with its secret key and shuffled",
});
export const PSI_HOST_SET = message({
  step: 'psi-host-set',
  kind: 'psi-blinded',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.PsiElements,
  meaning: "the host's identifiers, blinded with its secret key and shuffled",
});
export const PSI_GUEST_REBLINDED = message({
  step: 'psi-guest-reblinded',
  kind: 'psi-blinded',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.PsiElements,
  meaning: "the guest's blinded identifiers, blinded again by the host",
});
export const PSI_RESULT = message({
  step: 'psi-result',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.RowSelection,
  meaning:
    "which of the host's rows are shared, as positions in the host's own shuffled list, in a common order (reach jobs: only the overlap count)",
});
export const PSI_PRF = message({
  step: 'psi-prf',
  kind: 'psi-prf',
  from: PARTIES,
  to: ['coordinator'],
  body: tandem.v1.PsiPrfSet,
  meaning:
    "a party's identifiers as keyed random-looking values, shuffled, for the coordinator to match (it cannot compute them itself)",
});
export const PSI_MATCHES = message({
  step: 'psi-matches',
  kind: 'psi-prf',
  from: ['coordinator'],
  to: ['guest'],
  body: tandem.v1.PsiPrfMatches,
  meaning: "which positions of the guest's and the host's lists matched, from the coordinator to the guest",
});
// OPRF-PSI (alignment.psi: oprf; protocol/psi/oprf/, docs/psi-oprf.md): round = bucket, seq = chunk.
export const PSI_OPRF_HELLO = message({
  step: 'psi-oprf-hello',
  kind: 'psi-oprf',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.PsiOprfHello,
  meaning:
    "the host's opening of OPRF-PSI: its base oblivious-transfer points (random to the guest), a random code seed and how many ids it has",
});
export const PSI_OPRF_SETUP = message({
  step: 'psi-oprf-setup',
  kind: 'psi-oprf',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.PsiOprfSetup,
  meaning:
    "the guest's answer: its base oblivious-transfer reply, a random hashing seed, how many ids it has and the number of buckets",
});
export const PSI_OPRF_CORRECTION = message({
  step: 'psi-oprf-correction',
  kind: 'psi-oprf',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.PsiOprfCorrection,
  meaning:
    "per bucket and chunk, the guest's oblivious-transfer corrections: uniformly random to the host, they let it compute a keyed function of ids without learning the guest's",
});
export const PSI_OPRF_VALUES = message({
  step: 'psi-oprf-values',
  kind: 'psi-oprf',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.PsiOprfValues,
  meaning:
    "per bucket and chunk, the host's ids as keyed pseudorandom values in a shuffled order: the guest can tell only which of its own ids they match",
});

// ---------------------------------------------------------------- rows and keys every trained model uses

export const SPLIT = message({
  step: 'split',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.RowSelection,
  meaning: 'which shared rows are held out for validation, as positions in the common order',
});
export const SCORING_KEY = message({
  step: 'scoring-key',
  kind: 'key',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.ScoringKey,
  meaning: "the job's pseudonym key for online scoring (hosts look users up by HMAC of the id under it)",
});

/** The steps every job kind shares. */
export const CORE_MESSAGES: readonly Message[] = [
  ASSIGNMENT,
  PARTY_KEY,
  KEY_DIRECTORY,
  EVENT,
  JOB_CONTROL,
  REFUSED,
  PSI_GUEST_SET,
  PSI_HOST_SET,
  PSI_GUEST_REBLINDED,
  PSI_RESULT,
  PSI_PRF,
  PSI_MATCHES,
  PSI_OPRF_HELLO,
  PSI_OPRF_SETUP,
  PSI_OPRF_CORRECTION,
  PSI_OPRF_VALUES,
  SPLIT,
  SCORING_KEY,
];

/** A checked set of messages, looked up by step. */
export class MessageCatalog {
  readonly #byStep = new Map<string, Message>();

  constructor(messages: readonly Message[]) {
    for (const m of messages) {
      if (this.#byStep.has(m.step)) throw new RangeError(`the message catalog declares step "${m.step}" twice`);
      this.#byStep.set(m.step, m);
    }
  }

  get(step: string): Message | undefined {
    return this.#byStep.get(step);
  }

  get all(): readonly Message[] {
    return [...this.#byStep.values()];
  }

  /**
   * Why an envelope with this header breaks the catalog (unknown step, a
   * sender or recipient role the step does not allow, another kind), or
   * undefined when it fits.
   */
  problem(step: string, kind: string, fromRole: Role, toRole: Role): string | undefined {
    const m = this.#byStep.get(step);
    if (m === undefined) return `step "${step}" is not in the message catalog`;
    if (m.kind !== kind) return `step "${step}" is of kind ${m.kind}, not ${kind}`;
    if (!m.from.includes(fromRole)) return `step "${step}" may be sent by ${m.from.join(' or ')}, not by a ${fromRole}`;
    if (!m.to.includes(toRole)) return `step "${step}" may be sent to ${m.to.join(' or ')}, not to a ${toRole}`;
    return undefined;
  }
}
