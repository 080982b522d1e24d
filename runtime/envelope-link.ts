/**
 * One side of a session stream: sends envelopes as chunks (waiting for the
 * stream to drain), reassembles incoming chunks, acknowledges what it has
 * accepted, and answers heartbeats. Works over any duplex of `Frame`s, so
 * the grpc-js adapters stay thin and tests can use an in-memory pair.
 */
import { EventEmitter, once } from 'node:events';
import type { tandem } from '../protocol/generated/tandem.js';
import { Reassembler, SEND_CHUNK_BYTES, splitMessage, type WireLimits } from '../protocol/wire/chunking.ts';
import { decodeEnvelope, type Envelope } from '../protocol/wire/envelope.ts';
import { emitWire, wireTapped } from './wire-tap.ts';
import { ProtocolError, TandemError, asTandemError } from '../protocol/errors.ts';

export type Frame = tandem.v1.Frame.$Properties;

/** The part of a grpc-js duplex stream the link uses. */
export type FrameDuplex = {
  write(frame: Frame): boolean;
  end(): void;
  on(event: 'data', listener: (frame: tandem.v1.Frame) => void): unknown;
  on(event: 'end' | 'close' | 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
};

export type LinkHandlers = {
  /** A whole, decoded envelope arrived; resolve once it is safely handed over (then it is acked). */
  readonly onEnvelope: (envelope: Envelope, bytes: Uint8Array) => Promise<void> | void;
  /** The peer acknowledged one of our envelopes. */
  readonly onAck?: (messageId: string) => void;
  /** The peer broke the protocol; the link is about to close. */
  readonly onProtocolError?: (error: TandemError) => void;
  readonly onClose?: (reason: string) => void;
  readonly onGoodbye?: (code: string, message: string) => void;
};

export class EnvelopeLink extends EventEmitter {
  readonly #duplex: FrameDuplex;
  readonly #limits: WireLimits;
  readonly #handlers: LinkHandlers;
  readonly #reassembler: Reassembler;
  #closed = false;
  #lastSeenMs = Date.now();
  /** Incoming envelopes are handled one at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #sendLock: Promise<void> = Promise.resolve();

  constructor(duplex: FrameDuplex, limits: WireLimits, handlers: LinkHandlers) {
    super();
    this.#duplex = duplex;
    this.#limits = limits;
    this.#handlers = handlers;
    this.#reassembler = new Reassembler(limits);
    duplex.on('data', (frame) => this.#onFrame(frame));
    duplex.on('end', () => this.#close('peer ended the stream'));
    duplex.on('close', () => this.#close('stream closed'));
    duplex.on('error', (error) => this.#close(`stream error: ${error.message}`));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get lastSeenMs(): number {
    return this.#lastSeenMs;
  }

  /** Writes one serialized envelope as chunks; resolves when all are written (not when acked). */
  send(messageId: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > this.#limits.maxMessageBytes) {
      // Refused here rather than by the receiver, which would close the session and make us resend it forever.
      return Promise.reject(
        new ProtocolError(
          'MESSAGE_TOO_LARGE',
          `message ${messageId} of ${bytes.byteLength} bytes exceeds the ${this.#limits.maxMessageBytes}-byte limit`,
        ),
      );
    }
    if (wireTapped()) emitWire({ layer: 'link', direction: 'out', bytes });
    const run = this.#sendLock.then(async () => {
      for (const chunk of splitMessage(messageId, bytes, SEND_CHUNK_BYTES)) {
        if (this.#closed) throw new TandemError('PEER_UNAVAILABLE', 'the session closed while sending');
        if (!this.#duplex.write({ chunk })) {
          // Whichever comes first; the other's listener is removed (a long send waits thousands of times).
          const done = new AbortController();
          let onDrain = (): void => undefined;
          await Promise.race([
            once(this as EventEmitter, 'closed', { signal: done.signal }).catch(() => undefined),
            new Promise<void>((resolve) => {
              onDrain = resolve;
              this.#duplex.once('drain', onDrain);
            }),
          ]);
          done.abort();
          this.#duplex.removeListener('drain', onDrain);
        }
      }
    });
    this.#sendLock = run.catch(() => undefined);
    return run;
  }

  writeFrame(frame: Frame): void {
    if (!this.#closed) this.#duplex.write(frame);
  }

  heartbeat(): void {
    this.writeFrame({ heartbeat: { sentAtMs: Date.now() } });
  }

  /** Sends a Goodbye with a public message and ends the stream. */
  goodbye(code: string, message: string): void {
    if (this.#closed) return;
    this.writeFrame({ goodbye: { code, message } });
    this.#duplex.end();
    this.#close(`goodbye sent: ${code}`);
  }

  end(): void {
    if (this.#closed) return;
    this.#duplex.end();
    this.#close('ended locally');
  }

  #onFrame(frame: tandem.v1.Frame): void {
    this.#lastSeenMs = Date.now();
    if (frame.chunk !== undefined && frame.chunk !== null) {
      const c = frame.chunk;
      let bytes: Uint8Array | undefined;
      try {
        bytes = this.#reassembler.add({
          messageId: c.messageId ?? '',
          index: c.index ?? 0,
          count: c.count ?? 0,
          totalBytes: c.totalBytes ?? 0,
          sha256: c.sha256 ?? new Uint8Array(),
          data: c.data ?? new Uint8Array(),
        });
      } catch (error) {
        this.#fail(asTandemError(error));
        return;
      }
      if (bytes !== undefined) this.#deliver(bytes);
    } else if (frame.ack !== undefined && frame.ack !== null) {
      this.#handlers.onAck?.(frame.ack.messageId ?? '');
    } else if (frame.goodbye !== undefined && frame.goodbye !== null) {
      this.#handlers.onGoodbye?.(frame.goodbye.code ?? '', frame.goodbye.message ?? '');
    } else if (frame.heartbeat !== undefined && frame.heartbeat !== null) {
      // lastSeen already updated
    } else {
      this.emit('frame', frame);
    }
  }

  #deliver(bytes: Uint8Array): void {
    const whole = bytes;
    if (wireTapped()) emitWire({ layer: 'link', direction: 'in', bytes: whole });
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      let envelope: Envelope;
      try {
        envelope = decodeEnvelope(whole);
      } catch (error) {
        this.#fail(asTandemError(error));
        return;
      }
      try {
        await this.#handlers.onEnvelope(envelope, whole);
        this.writeFrame({ ack: { messageId: envelope.id } });
      } catch (error) {
        this.#fail(asTandemError(error));
      }
    });
  }

  #fail(error: TandemError): void {
    this.#handlers.onProtocolError?.(error);
    this.goodbye(error.code, error.publicMessage);
  }

  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('closed');
    this.#handlers.onClose?.(reason);
  }
}
