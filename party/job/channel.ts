/**
 * A job's view of the network for one party: send and receive typed bodies
 * by (peer, step, round). Bodies for other parties are sealed end to end;
 * bodies for the coordinator (masked ciphertexts, events) are not, since the
 * coordinator must read them.
 */
import { headerAad, makeEnvelope, type EnvelopeHeader, type MessageKind } from '../../protocol/wire/envelope.ts';
import { directionalKey, open, pairKey, seal, type SealingKeyPair } from '../../protocol/crypto/sealing.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import { emitWire, wireTapped } from '../../runtime/wire-tap.ts';
import type { Mailbox } from '../mailbox.ts';
import type { PartySession } from '../grpc-session.ts';

export type ChannelOptions = {
  readonly jobId: string;
  readonly me: string;
  readonly session: Pick<PartySession, 'send'>;
  readonly mailbox: Mailbox;
  readonly stepTimeoutMs: number;
  readonly signal: AbortSignal;
  /** First event number; a resumed job starts past its earlier runs' events (party/job/checkpoint.ts). @default 0 */
  readonly eventSeqBase?: number | undefined;
};

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

  send(to: string, step: string, round: number, kind: MessageKind, body: Uint8Array, seq = 0): void {
    this.#o.signal.throwIfAborted();
    const header: EnvelopeHeader = { jobId: this.#o.jobId, round, step, sender: this.#o.me, recipient: to, seq, kind };
    const sealed = to !== COORDINATOR;
    if (wireTapped()) emitWire({ layer: 'body', from: this.#o.me, to, step, kind, bytes: body });
    const payload = sealed ? seal(this.#key(this.#o.me, to), headerAad(header), body) : body;
    this.#o.session.send(makeEnvelope(header, payload, sealed, Date.now()));
  }

  /** Sends a JobEvent body to the coordinator (events are numbered so none is mistaken for a resend). */
  event(body: Uint8Array): void {
    this.send(COORDINATOR, 'event', 0, 'control', body, this.#eventSeq++);
  }

  async receive(from: string, step: string, round: number, seq = 0, timeoutMs = this.#o.stepTimeoutMs): Promise<Uint8Array> {
    const envelope = await this.#o.mailbox.take({ jobId: this.#o.jobId, step, round, sender: from, seq }, timeoutMs, this.#o.signal);
    if (from === COORDINATOR) return envelope.body;
    return open(this.#key(from, this.#o.me), headerAad(envelope), envelope.body, `${step} from ${from}`);
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
