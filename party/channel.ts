/**
 * A job's view of the network for one party: post and take catalogued
 * messages (protocol/messages.ts) by (peer, step, round), each body encoded
 * and decoded with the type its step declares. Bodies for other parties are
 * sealed end to end; bodies for the coordinator (masked ciphertexts, events)
 * are not, since the coordinator must read them.
 */
import { headerAad, makeEnvelope, type EnvelopeHeader } from '../protocol/wire/envelope.ts';
import { directionalKey, open, pairKey, seal, type SealingKeyPair } from '../protocol/crypto/sealing.ts';
import { decodeMessage, encodeMessage, EVENT, type BodyOf, type Message, type PropsOf } from '../protocol/messages.ts';
import { COORDINATOR } from '../protocol/version.ts';
import type { tandem } from '../protocol/generated/tandem.js';
import { emitWire, wireTapped } from '../runtime/wire-tap.ts';
import type { Mailbox } from './mailbox.ts';
import type { PartySession } from './grpc-session.ts';

export type ChannelOptions = {
  readonly jobId: string;
  readonly me: string;
  /** Where envelopes go; `drained` (backpressure) is optional: without it {@link JobChannel.drained} resolves at once. */
  readonly session: Pick<PartySession, 'send'> & Partial<Pick<PartySession, 'drained'>>;
  readonly mailbox: Mailbox;
  readonly stepTimeoutMs: number;
  readonly signal: AbortSignal;
  /** First event number; a resumed job starts past its earlier runs' events (party/checkpoint.ts). @default 0 */
  readonly eventSeqBase?: number | undefined;
};

/** Unacknowledged bytes {@link JobChannel.drained} waits below by default. */
const DRAINED_BYTES = 16 * 1024 * 1024;

export class JobChannel {
  readonly #o: ChannelOptions;
  #sealing: SealingKeyPair | undefined;
  readonly #peerKeys = new Map<string, Uint8Array>();
  readonly #keys = new Map<string, Uint8Array>();
  #eventSeq = 0;
  /** The job phase this party is in (setup, psi, training, evaluation), for failure reports. */
  phase = 'setup';

  constructor(options: ChannelOptions) {
    this.#o = options;
    this.#eventSeq = options.eventSeqBase ?? 0;
  }

  get jobId(): string {
    return this.#o.jobId;
  }

  get me(): string {
    return this.#o.me;
  }

  get signal(): AbortSignal {
    return this.#o.signal;
  }

  /** Installs this party's sealing key pair and the verified public keys of the others. */
  setSealing(own: SealingKeyPair, peers: ReadonlyMap<string, Uint8Array>): void {
    this.#sealing = own;
    for (const [name, key] of peers) this.#peerKeys.set(name, key);
  }

  /** Sends message `m` with this body to `to` (sealed unless `to` is the coordinator). */
  post<M extends Message>(to: string, m: M, round: number, body: PropsOf<M>, seq = 0): void {
    this.#send(to, m, round, encodeMessage(m, body), seq);
  }

  /**
   * Resolves once this party's envelopes not yet acknowledged by the
   * coordinator hold at most `limitBytes`. A sender of many large messages
   * awaits it after each post (OPRF-PSI: jobs/common/oprf-psi.ts), so memory
   * stays bounded by a few messages instead of the whole stream; rejects
   * when the job is aborted.
   * @param limitBytes @default 16 MiB (four OPRF-PSI correction chunks)
   */
  drained(limitBytes = DRAINED_BYTES): Promise<void> {
    return this.#o.session.drained?.(limitBytes, this.#o.signal) ?? Promise.resolve();
  }

  /** Sends a progress event to the coordinator (events are numbered so none is mistaken for a resend). */
  event(event: tandem.v1.JobEvent.$Properties): void {
    this.post(COORDINATOR, EVENT, 0, event, this.#eventSeq++);
  }

  /** Waits for message `m` from `from` and decodes its body. */
  async take<M extends Message>(
    from: string,
    m: M,
    round: number,
    seq = 0,
    timeoutMs = this.#o.stepTimeoutMs,
  ): Promise<BodyOf<M>> {
    const envelope = await this.#o.mailbox.take(
      { jobId: this.#o.jobId, step: m.step, round, sender: from, seq },
      timeoutMs,
      this.#o.signal,
    );
    const body =
      from === COORDINATOR
        ? envelope.body
        : open(this.#key(from, this.#o.me), headerAad(envelope), envelope.body, `${m.step} from ${from}`);
    return decodeMessage(m, body);
  }

  #send(to: string, m: Message, round: number, body: Uint8Array, seq: number): void {
    this.#o.signal.throwIfAborted();
    const header: EnvelopeHeader = {
      jobId: this.#o.jobId,
      round,
      step: m.step,
      sender: this.#o.me,
      recipient: to,
      seq,
      kind: m.kind,
    };
    const sealed = to !== COORDINATOR;
    if (wireTapped()) emitWire({ layer: 'body', from: this.#o.me, to, step: m.step, kind: m.kind, bytes: body });
    const payload = sealed ? seal(this.#key(this.#o.me, to), headerAad(header), body) : body;
    this.#o.session.send(makeEnvelope(header, payload, sealed, Date.now()));
  }

  /** A secret only this party and `peer` can compute, per job and purpose (protocol/crypto/sealing.ts pairKey). */
  pairKey(peer: string, purpose: string): Uint8Array {
    const peerKey = this.#peerKeys.get(peer);
    if (this.#sealing === undefined || peerKey === undefined) throw new RangeError(`no sealing key for ${peer} yet`);
    return pairKey(this.#sealing, peerKey, this.#o.jobId, purpose, this.#o.me, peer);
  }

  #key(sender: string, recipient: string): Uint8Array {
    const id = `${sender}>${recipient}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      const peer = sender === this.#o.me ? recipient : sender;
      const peerKey = this.#peerKeys.get(peer);
      if (this.#sealing === undefined || peerKey === undefined) throw new RangeError(`no sealing key for ${peer} yet`);
      key = directionalKey(this.#sealing, peerKey, this.#o.jobId, sender, recipient);
      this.#keys.set(id, key);
    }
    return key;
  }
}
