/**
 * Party sessions and message routing. Every party keeps one stream to the
 * coordinator; the hub authenticates it (the stream's certificate name must
 * match the Hello), relays sealed party-to-party envelopes, hands envelopes
 * addressed to the coordinator to the job service, and keeps an outbox per
 * party so nothing is lost while a party is away: envelopes stay queued
 * until the party acknowledges them, and are resent when it reconnects.
 * With a store the outboxes survive a coordinator restart, and an envelope
 * id once handled is never handled again: a party that resends after its
 * own restart (docs/durability.md) is acknowledged and ignored.
 */
import type { Logger } from '../runtime/logger.ts';
import { EnvelopeLink, type FrameDuplex } from '../runtime/envelope-link.ts';
import { digest, type AuditSink } from '../audit/log.ts';
import { decodeEnvelope, encodeEnvelope, makeEnvelope, type Envelope } from '../protocol/wire/envelope.ts';
import { encodeMessage, REFUSED, type Message, type PropsOf } from '../protocol/messages.ts';
import type { JobStore } from './job-store.ts';
import { faultPoint } from '../runtime/fault.ts';
import type { WireLimits } from '../protocol/wire/chunking.ts';
import { COORDINATOR, PROTOCOL_VERSION } from '../protocol/version.ts';
import { AuthError, ProtocolError, TandemError } from '../protocol/errors.ts';
import type { tandem } from '../protocol/generated/tandem.js';

type Queued = { readonly envelope: Envelope; readonly bytes: Uint8Array; audited: boolean };

type Session = {
  link: EnvelopeLink | undefined;
  readonly outbox: Map<string, Queued>;
  address: string;
  sinceMs: number;
};

/** `bytes` are the envelope exactly as received, so a relay forwards (and audit-logs) the same digest. */
export type EnvelopeHandler = (envelope: Envelope, from: string, bytes: Uint8Array) => Promise<void> | void;

export type HubOptions = {
  readonly limits: WireLimits;
  readonly audit: AuditSink;
  readonly log: Logger;
  readonly heartbeatIntervalMs: number;
  /** Names allowed to connect as parties; undefined admits any name the CA signed. */
  readonly parties: readonly string[] | undefined;
  /** Where outboxes and handled ids are kept across restarts; undefined keeps them in memory only. */
  readonly store?: Pick<JobStore, 'queue' | 'dequeue' | 'queued' | 'accept' | 'accepted'> | undefined;
};

export class Hub {
  readonly #o: HubOptions;
  readonly #sessions = new Map<string, Session>();
  #handler: EnvelopeHandler = () => undefined;
  #onConnect: (party: string) => void = () => undefined;
  #onDisconnect: (party: string) => void = () => undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(options: HubOptions) {
    this.#o = options;
    this.#timer = setInterval(() => this.#heartbeat(), options.heartbeatIntervalMs);
    this.#timer.unref();
    for (const { recipient, bytes } of options.store?.queued() ?? []) {
      const envelope = decodeEnvelope(bytes);
      this.#session(recipient).outbox.set(envelope.id, { envelope, bytes, audited: false });
    }
  }

  /** Where envelopes addressed to the coordinator (or needing a routing decision) go. */
  setHandler(
    handler: EnvelopeHandler,
    onConnect: (party: string) => void,
    onDisconnect: (party: string) => void = () => undefined,
  ): void {
    this.#handler = handler;
    this.#onConnect = onConnect;
    this.#onDisconnect = onDisconnect;
  }

  isConnected(party: string): boolean {
    return this.#sessions.get(party)?.link?.closed === false;
  }

  /**
   * Accepts a party's stream. `authenticated` is the certificate's name,
   * checked by the gRPC edge; `address` is where it connects from (for logs).
   * One live session per party: while a party's session is alive (a frame
   * within three heartbeats), another connection with its certificate is
   * refused (SESSION_DUPLICATE) and gets nothing; otherwise, as after a
   * restart or a silent network, the newcomer replaces it.
   */
  accept(authenticated: string, duplex: FrameDuplex, address = 'unknown'): void {
    const log = this.#o.log.child({ party: authenticated });
    let greeted = false;
    let ignoredAcks = 0;
    const link: EnvelopeLink = new EnvelopeLink(duplex, this.#o.limits, {
      onEnvelope: async (envelope, bytes) => {
        if (!greeted) throw new ProtocolError('PROTOCOL_STAGE', 'an envelope arrived before Hello');
        await this.#receive(authenticated, envelope, bytes);
      },
      onAck: (messageId) => {
        // Only the party's current, greeted session may acknowledge: an ack deletes the envelope here, and
        // ids are predictable, so a stream that never said Hello (or was refused) must not drop its messages.
        const session = this.#sessions.get(authenticated);
        if (!greeted || session?.link !== link) {
          if (ignoredAcks++ === 0)
            log.warn(
              { address, id: messageId },
              "ignored acknowledgements from a connection that is not the party's session",
            );
          return;
        }
        session.outbox.delete(messageId);
        this.#o.store?.dequeue(authenticated, messageId);
      },
      onProtocolError: (error) =>
        log.warn({ code: error.code, err: error }, 'closing a session that broke the protocol'),
      onClose: (reason) => {
        log.info({ reason }, 'party session closed');
        // Only the party's current session counts: a reconnect replaces the old one first.
        if (greeted && this.#sessions.get(authenticated)?.link === link) this.#onDisconnect(authenticated);
      },
    });
    link.on('frame', (frame: tandem.v1.Frame) => {
      if (link.closed) return; // refused or replaced: whatever it says next is not heard
      if (greeted || frame.hello === undefined || frame.hello === null) {
        link.goodbye('PROTOCOL_STAGE', 'expected Hello as the first frame');
        return;
      }
      const hello = frame.hello;
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        log.warn({ version: hello.protocolVersion }, 'refusing a party with another protocol version');
        link.goodbye(
          'PROTOCOL_VERSION_MISMATCH',
          `coordinator speaks protocol ${PROTOCOL_VERSION}, party sent ${hello.protocolVersion}; upgrade the older side`,
        );
        return;
      }
      if (hello.party !== authenticated) {
        link.goodbye('AUTH_NOT_ALLOWED', `Hello names "${hello.party}" but the certificate is for "${authenticated}"`);
        return;
      }
      if (this.#o.parties !== undefined && !this.#o.parties.includes(authenticated)) {
        link.goodbye('AUTH_NOT_ALLOWED', `"${authenticated}" is not a registered party of this federation`);
        return;
      }
      const session = this.#session(authenticated);
      const current = session.link;
      if (
        current !== undefined &&
        !current.closed &&
        Date.now() - current.lastSeenMs < 3 * this.#o.heartbeatIntervalMs
      ) {
        const since = new Date(session.sinceMs).toISOString();
        const message = `${authenticated} is already connected from ${session.address} since ${since}; is a second \`party start\` running on another machine (or with a copy of its certificate)? Stop it: this connection gets nothing`;
        log.warn(
          { code: 'SESSION_DUPLICATE', address, connectedFrom: session.address, since },
          `refused a second connection from ${address}: ${message}`,
        );
        link.goodbye('SESSION_DUPLICATE', message);
        return;
      }
      greeted = true;
      current?.end();
      session.link = link;
      session.address = address;
      session.sinceMs = Date.now();
      link.writeFrame({
        welcome: {
          protocolVersion: PROTOCOL_VERSION,
          coordinator: COORDINATOR,
          maxChunkBytes: this.#o.limits.maxChunkBytes,
          maxMessageBytes: this.#o.limits.maxMessageBytes,
        },
      });
      log.info({ count: session.outbox.size }, 'party connected');
      for (const queued of session.outbox.values()) this.#transmit(authenticated, queued);
      this.#onConnect(authenticated);
    });
  }

  /** Queues an envelope for a party and sends it now if the party is connected. */
  deliver(to: string, envelope: Envelope, bytes: Uint8Array = encodeEnvelope(envelope)): void {
    const session = this.#session(to);
    if (session.outbox.has(envelope.id)) return; // idempotent
    const queued: Queued = { envelope, bytes, audited: false };
    session.outbox.set(envelope.id, queued);
    this.#o.store?.queue(to, envelope.id, envelope.jobId, envelope.step, bytes);
    this.#transmit(to, queued);
  }

  /** Sends a coordinator-authored message. */
  post<M extends Message>(m: M, jobId: string, recipient: string, round: number, body: PropsOf<M>, seq = 0): void {
    this.postEncoded(m, jobId, recipient, round, encodeMessage(m, body), seq);
  }

  /** Sends a coordinator-authored message whose body is already encoded as `m.body`. */
  postEncoded(m: Message, jobId: string, recipient: string, round: number, body: Uint8Array, seq = 0): void {
    this.deliver(
      recipient,
      makeEnvelope(
        { jobId, round, step: m.step, sender: COORDINATOR, recipient, seq, kind: m.kind },
        body,
        false,
        Date.now(),
      ),
    );
  }

  /** Drops everything queued for a job (after it ends) except the orders to stop. */
  forgetJob(jobId: string): void {
    for (const session of this.#sessions.values()) {
      for (const [id, queued] of session.outbox)
        if (queued.envelope.jobId === jobId && queued.envelope.step !== 'control') session.outbox.delete(id);
    }
  }

  close(): void {
    clearInterval(this.#timer);
    for (const session of this.#sessions.values())
      session.link?.goodbye('PEER_UNAVAILABLE', 'coordinator is shutting down');
  }

  #session(party: string): Session {
    let session = this.#sessions.get(party);
    if (session === undefined) {
      session = { link: undefined, outbox: new Map(), address: 'unknown', sinceMs: 0 };
      this.#sessions.set(party, session);
    }
    return session;
  }

  #transmit(to: string, queued: Queued): void {
    const link = this.#sessions.get(to)?.link;
    if (link === undefined || link.closed) return;
    if (!queued.audited) {
      queued.audited = true;
      this.#audit('sent', to, queued.envelope, queued.bytes);
    }
    link.send(queued.envelope.id, queued.bytes).catch(() => {
      // The session dropped; the envelope stays in the outbox for the next connection.
    });
  }

  async #receive(from: string, envelope: Envelope, bytes: Uint8Array): Promise<void> {
    this.#audit('received', from, envelope, bytes);
    faultPoint(envelope.step, envelope.round);
    if (envelope.sender !== from) {
      throw new AuthError('AUTH_NOT_ALLOWED', `"${from}" sent an envelope claiming to be from "${envelope.sender}"`);
    }
    const store = this.#o.store;
    if (store?.accepted(envelope.id) === true) {
      this.#o.log.debug({ party: from, id: envelope.id }, 'dropped a resent envelope');
      return;
    }
    try {
      await this.#handler(envelope, from, bytes);
      // Recorded after its effects: a crash in between makes the resend run again (handlers are idempotent).
      store?.accept(envelope.id, envelope.jobId);
    } catch (error) {
      if (!(error instanceof TandemError)) throw error;
      // A refused message is answered, not fatal: the party learns why and its session stays up.
      this.#o.log.warn(
        { party: from, job: envelope.jobId, step: envelope.step, code: error.code, err: error },
        'refused an envelope',
      );
      this.post(
        REFUSED,
        envelope.jobId,
        from,
        envelope.round,
        { code: error.code, message: error.publicMessage, refused: envelope.id },
        envelope.seq,
      );
    }
  }

  #audit(direction: 'sent' | 'received', peer: string, envelope: Envelope, bytes: Uint8Array): void {
    this.#o.audit.record({
      job: envelope.jobId,
      round: envelope.round,
      step: envelope.step,
      direction,
      peer,
      kind: envelope.kind,
      messageId: envelope.id,
      bytes: bytes.byteLength,
      sha256: digest(bytes),
      sealed: envelope.sealed,
    });
  }

  #heartbeat(): void {
    for (const session of this.#sessions.values()) session.link?.heartbeat();
  }
}
