/**
 * The hub's one-session-per-party rule, over in-memory streams (the e2e
 * test does the same over gRPC and mTLS): an acknowledgement deletes an
 * envelope at the coordinator, so only the party's current session may send one.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../runtime/envelope-link.ts';
import { silentLogger } from '../runtime/logger.ts';
import { compileWireLimits } from '../protocol/wire/chunking.ts';
import { makeEnvelope } from '../protocol/wire/envelope.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { Hub } from './hub.ts';

/** The coordinator's end of a party stream, in memory: what the hub writes is kept, what the party says is pushed in. */
class Stream extends EventEmitter {
  readonly written: Frame[] = [];
  write(frame: Frame): boolean {
    this.written.push(frame);
    return true;
  }
  end(): void {
    this.emit('close');
  }
  say(frame: Frame): void {
    this.emit('data', frame);
  }
  /** Ids of the envelopes the hub sent down this stream. */
  get envelopeIds(): string[] {
    return [
      ...new Set(
        this.written.flatMap((f) =>
          f.chunk?.messageId === undefined || f.chunk.messageId === null ? [] : [f.chunk.messageId],
        ),
      ),
    ];
  }
  get goodbye(): { code?: string | null; message?: string | null } | undefined {
    return this.written.find((f) => f.goodbye !== undefined && f.goodbye !== null)?.goodbye ?? undefined;
  }
}

const hello: Frame = { hello: { protocolVersion: PROTOCOL_VERSION, party: 'partner' } };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the hub keeps one session per party', () => {
  it("refuses a second connection while the first is alive, and neither it nor a stream without Hello can acknowledge (drop) the party's messages", async () => {
    const hub = new Hub({
      limits: compileWireLimits(),
      audit: { record: () => undefined },
      log: silentLogger(),
      heartbeatIntervalMs: 60_000,
      parties: ['brand', 'partner'],
    });
    const first = new Stream();
    hub.accept('partner', first, 'ipv4:10.0.0.1:50000');
    first.say(hello);
    expect(first.written.some((f) => f.welcome !== undefined && f.welcome !== null)).toBe(true);
    const envelope = makeEnvelope(
      {
        jobId: 'job-0123456789',
        round: 3,
        step: 'residual',
        sender: 'brand',
        recipient: 'partner',
        seq: 0,
        kind: 'ciphertext',
      },
      new Uint8Array(64).fill(7),
      true,
      0,
    );
    hub.deliver('partner', envelope);
    await settle();
    expect(first.envelopeIds).toEqual([envelope.id]);

    // A stream with the partner's certificate that acknowledges before any Hello (ids are predictable)…
    const silent = new Stream();
    hub.accept('partner', silent, 'ipv4:10.6.6.6:40000');
    silent.say({ ack: { messageId: envelope.id } });
    // …and one that says Hello, is refused, and acknowledges anyway.
    const rogue = new Stream();
    hub.accept('partner', rogue, 'ipv4:10.6.6.6:40001');
    rogue.say({ ack: { messageId: envelope.id } });
    rogue.say(hello);
    rogue.say({ ack: { messageId: envelope.id } });
    rogue.say(hello);
    expect(rogue.goodbye?.code).toBe('SESSION_DUPLICATE');
    expect(rogue.goodbye?.message).toMatch(
      /^partner is already connected from ipv4:10\.0\.0\.1:50000 since \d{4}-\d\d-\d\dT[\d:.]+Z; is a second `party start` running on another machine/,
    );
    expect(rogue.written.filter((f) => f.goodbye === undefined || f.goodbye === null)).toEqual([]);
    expect(silent.envelopeIds).toEqual([]);

    // The party's own connection drops (the old one is silent or closed): its next session is sent the envelope again.
    first.emit('close');
    const second = new Stream();
    hub.accept('partner', second, 'ipv4:10.0.0.1:50001');
    second.say(hello);
    await settle();
    expect(second.envelopeIds).toEqual([envelope.id]);

    // Its own acknowledgement does count.
    second.say({ ack: { messageId: envelope.id } });
    second.emit('close');
    const third = new Stream();
    hub.accept('partner', third, 'ipv4:10.0.0.1:50002');
    third.say(hello);
    await settle();
    expect(third.envelopeIds).toEqual([]);
    hub.close();
  });

  it('lets a party back in once its old session has been silent for three heartbeats', async () => {
    const hub = new Hub({
      limits: compileWireLimits(),
      audit: { record: () => undefined },
      log: silentLogger(),
      heartbeatIntervalMs: 20,
      parties: ['partner'],
    });
    const old = new Stream();
    hub.accept('partner', old, 'ipv4:10.0.0.1:50000');
    old.say(hello);
    await new Promise((resolve) => setTimeout(resolve, 80));
    const fresh = new Stream();
    hub.accept('partner', fresh, 'ipv4:10.0.0.2:50000');
    fresh.say(hello);
    expect(fresh.goodbye).toBeUndefined();
    expect(fresh.written.some((f) => f.welcome !== undefined && f.welcome !== null)).toBe(true);
    expect(hub.isConnected('partner')).toBe(true);
    hub.close();
  });
});
