/**
 * A party's one outbound connection to the coordinator (parties open no
 * port). Sends Hello, waits for Welcome, then exchanges envelopes. Outgoing
 * envelopes stay queued until the coordinator acknowledges them and are
 * resent after a reconnect (ids make that harmless); with `outboxDir` the
 * queue is on disk too, so a party restarted after a crash still delivers
 * what it had sent (docs/durability.md). Reconnects with
 * exponential backoff; a refusal that cannot heal (wrong protocol version,
 * unknown party) stops the session with that error.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { CoordinatorClient, grpcOptions } from '../runtime/grpc-service.ts';
import { channelCredentials } from '../runtime/grpc-tls.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import { EnvelopeLink } from '../runtime/envelope-link.ts';
import { digest, type AuditSink } from '../audit/log.ts';
import type { Logger } from '../runtime/logger.ts';
import type { WireLimits } from '../protocol/wire/chunking.ts';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../protocol/wire/envelope.ts';
import { PROTOCOL_VERSION, SOFTWARE } from '../protocol/version.ts';
import { TandemError, type ErrorCode } from '../protocol/errors.ts';
import type { tandem } from '../protocol/generated/tandem.js';

const FATAL: readonly string[] = ['PROTOCOL_VERSION_MISMATCH', 'AUTH_NOT_ALLOWED', 'AUTH_CERTIFICATE_REJECTED'];

export type PartySessionOptions = {
  readonly name: string;
  readonly address: string;
  readonly identity: NodeIdentity;
  readonly limits: WireLimits;
  readonly log: Logger;
  readonly audit: AuditSink;
  readonly heartbeatIntervalMs: number;
  /** TLS name of the coordinator when the address is not in its certificate. */
  readonly serverName?: string;
  /** Every envelope from the coordinator, after it is audit-logged; it is acknowledged once this returns. */
  readonly onEnvelope: (envelope: Envelope) => void;
  /** Keeps unacknowledged envelopes in this directory, one file each, across restarts. @default in memory only */
  readonly outboxDir?: string | undefined;
};

type Queued = { readonly envelope: Envelope; readonly bytes: Uint8Array; readonly file?: string | undefined };

type ConnectClient = grpc.Client & { connect(): grpc.ClientDuplexStream<tandem.v1.Frame.$Properties, tandem.v1.Frame> };

export class PartySession extends EventEmitter {
  readonly #o: PartySessionOptions;
  readonly #outbox = new Map<string, Queued>();
  readonly #client: ConnectClient;
  #link: EnvelopeLink | undefined;
  #call: grpc.ClientDuplexStream<tandem.v1.Frame.$Properties, tandem.v1.Frame> | undefined;
  #stopped = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #files = 0;
  /** Bytes of the envelopes in the outbox (sent or queued, not yet acknowledged). */
  #outboxBytes = 0;
  readonly #drainWaiters = new Set<{ readonly limitBytes: number; readonly resolve: () => void }>();

  constructor(options: PartySessionOptions) {
    super();
    this.#o = options;
    if (options.outboxDir !== undefined) this.#restoreOutbox(options.outboxDir);
    const channelOptions: grpc.ChannelOptions = { ...grpcOptions(options.limits) };
    // TLS cannot send an IP address as the server name; expect the default coordinator name instead.
    const host = options.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const serverName = options.serverName ?? (isIP(host) === 0 ? undefined : 'coordinator');
    if (serverName !== undefined) channelOptions['grpc.ssl_target_name_override'] = serverName;
    this.#client = new CoordinatorClient(
      options.address,
      channelCredentials(options.identity),
      channelOptions,
    ) as unknown as ConnectClient;
  }

  get connected(): boolean {
    return this.#link !== undefined && !this.#link.closed;
  }

  start(): void {
    this.#connect();
    this.#timer = setInterval(() => this.#link?.heartbeat(), this.#o.heartbeatIntervalMs);
    this.#timer.unref();
  }

  /** Queues an envelope for the coordinator; it is retransmitted until acknowledged. */
  send(envelope: Envelope): void {
    if (this.#outbox.has(envelope.id)) return;
    const bytes = encodeEnvelope(envelope);
    this.#o.audit.record({
      job: envelope.jobId,
      round: envelope.round,
      step: envelope.step,
      direction: 'sent',
      peer: envelope.recipient === 'coordinator' ? 'coordinator' : envelope.recipient,
      kind: envelope.kind,
      messageId: envelope.id,
      bytes: bytes.byteLength,
      sha256: digest(bytes),
      sealed: envelope.sealed,
    });
    const queued = { envelope, bytes, file: this.#persist(bytes) };
    this.#outbox.set(envelope.id, queued);
    this.#outboxBytes += bytes.byteLength;
    this.#transmit(queued);
  }

  /** Writes an outgoing envelope to the outbox directory (whole or not at all) before it may leave. */
  #persist(bytes: Uint8Array): string | undefined {
    const dir = this.#o.outboxDir;
    if (dir === undefined) return undefined;
    // Names sort in sending order, so a restarted party resends in the original order.
    const file = join(dir, `${String(Date.now()).padStart(14, '0')}-${String(this.#files++).padStart(9, '0')}.env`);
    writeFileSync(`${file}.tmp`, bytes, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return file;
  }

  #restoreOutbox(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name);
      if (!name.endsWith('.env')) {
        rmSync(file, { force: true }); // a write cut short by a crash: never sent
        continue;
      }
      const bytes = new Uint8Array(readFileSync(file));
      const envelope = decodeEnvelope(bytes);
      this.#outbox.set(envelope.id, { envelope, bytes, file });
      this.#outboxBytes += bytes.byteLength;
    }
    if (this.#outbox.size > 0)
      this.#o.log.info({ count: this.#outbox.size }, 'resending envelopes queued before a restart');
  }

  #acknowledged(id: string): void {
    const queued = this.#outbox.get(id);
    if (queued === undefined) return;
    this.#outbox.delete(id);
    this.#outboxBytes -= queued.bytes.byteLength;
    if (queued.file !== undefined) rmSync(queued.file, { force: true });
    for (const waiter of this.#drainWaiters) {
      if (this.#outboxBytes > waiter.limitBytes) continue;
      this.#drainWaiters.delete(waiter);
      waiter.resolve();
    }
  }

  /**
   * Resolves once the envelopes not yet acknowledged by the coordinator hold
   * at most `limitBytes`: backpressure for a sender of many large messages
   * (OPRF-PSI's corrections, 85 MB per million ids), which would otherwise
   * queue them all in memory here and at the coordinator. The coordinator
   * acknowledges an envelope once it has stored it for the recipient.
   * Senders that do not wait (training rounds) are unaffected.
   */
  drained(limitBytes: number, signal?: AbortSignal): Promise<void> {
    if (this.#outboxBytes <= limitBytes) return Promise.resolve();
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#drainWaiters.delete(waiter);
        reject(signal?.reason as Error);
      };
      const waiter = {
        limitBytes,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#drainWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Bytes of envelopes not yet acknowledged. */
  get unacknowledgedBytes(): number {
    return this.#outboxBytes;
  }

  /** Envelopes not yet acknowledged (a clean shutdown waits for zero). */
  get unacknowledged(): number {
    return this.#outbox.size;
  }

  close(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#link?.end();
    // End our half, then cancel: grpc-js keeps the call (and its socket) open until the
    // server ends its half too, which held a stopped node's process up for ~17 s.
    this.#call?.cancel();
    this.#client.close();
  }

  #transmit(queued: Queued): void {
    const link = this.#link;
    if (link === undefined || link.closed) return;
    link.send(queued.envelope.id, queued.bytes).catch(() => {
      // Stays queued; resent on reconnect.
    });
  }

  #connect(): void {
    if (this.#stopped) return;
    const log = this.#o.log;
    const call = this.#client.connect();
    this.#call = call;
    let welcomed = false;
    const link: EnvelopeLink = new EnvelopeLink(call, this.#o.limits, {
      onEnvelope: (envelope, bytes) => {
        this.#o.audit.record({
          job: envelope.jobId,
          round: envelope.round,
          step: envelope.step,
          direction: 'received',
          peer: envelope.sender,
          kind: envelope.kind,
          messageId: envelope.id,
          bytes: bytes.byteLength,
          sha256: digest(bytes),
          sealed: envelope.sealed,
        });
        this.#o.onEnvelope(envelope);
      },
      onAck: (id) => this.#acknowledged(id),
      onGoodbye: (code, message) => {
        log.warn(
          { code, reason: message },
          code === 'SESSION_DUPLICATE'
            ? `the coordinator refused this connection: ${message}`
            : 'the coordinator closed the session',
        );
        if (FATAL.includes(code))
          this.#fatal(new TandemError(code as ErrorCode, `the coordinator refused this party: ${message}`));
      },
      onProtocolError: (error) =>
        log.warn({ code: error.code, err: error }, 'closing a session that broke the protocol'),
      onClose: (reason) => {
        if (this.#link === link) this.#link = undefined;
        if (welcomed) this.emit('disconnected');
        if (!this.#stopped) this.#retry(reason);
      },
    });
    link.on('frame', (frame: tandem.v1.Frame) => {
      if (frame.welcome === undefined || frame.welcome === null) return;
      welcomed = true;
      this.#attempt = 0;
      this.#link = link;
      log.info({ address: this.#o.address, count: this.#outbox.size }, 'connected to the coordinator');
      for (const queued of this.#outbox.values()) this.#transmit(queued);
      this.emit('connected');
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code === grpc.status.UNAUTHENTICATED || error.code === grpc.status.PERMISSION_DENIED) {
        this.#fatal(
          new TandemError(
            'AUTH_CERTIFICATE_REJECTED',
            `the coordinator refused this party's certificate: ${error.details}`,
          ),
        );
      }
    });
    link.writeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, party: this.#o.name, software: SOFTWARE } });
  }

  #retry(reason: string): void {
    this.#attempt += 1;
    const delayMs = Math.min(10_000, 250 * 2 ** Math.min(this.#attempt, 6)) * (0.75 + Math.random() / 2);
    this.#o.log.info(
      { attempt: this.#attempt, delayMs: Math.round(delayMs), reason },
      'reconnecting to the coordinator',
    );
    setTimeout(() => this.#connect(), delayMs);
  }

  #fatal(error: TandemError): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.emit('fatal', error);
  }
}
