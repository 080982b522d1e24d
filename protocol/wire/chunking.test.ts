import { describe, expect, it } from 'vitest';
import { compileWireLimits, Reassembler, SEND_CHUNK_BYTES, splitMessage, type WireLimits } from './chunking.ts';
import { ProtocolError } from '../errors.ts';

// Small limits exercise the reassembler; real configs cannot go below the 1 MiB send chunk.
const limits: WireLimits = Object.freeze({ maxChunkBytes: 1024, maxMessageBytes: 10_000, maxPendingMessages: 2 });
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe(code);
  expect((caught as ProtocolError).message).toMatch(pattern);
}

describe('chunking', () => {
  it('round-trips a message larger than one chunk, in chunks no larger than the limit', () => {
    const message = bytes(5000);
    const chunks = splitMessage('m1', message, 1024);
    const r = new Reassembler(limits);
    const results = chunks.map((c) => r.add(c));
    expect(chunks).toHaveLength(5);
    expect(chunks.every((c) => c.data.byteLength <= 1024)).toBe(true);
    expect(results.slice(0, 4).every((x) => x === undefined)).toBe(true);
    expect(results[4]).toEqual(message);
    expect(r.pendingCount).toBe(0);
  });

  it('sends an empty message as one empty chunk', () => {
    const [chunk, ...rest] = splitMessage('e', new Uint8Array(0), 1024);
    expect(rest).toHaveLength(0);
    expect(new Reassembler(limits).add(chunk!)).toEqual(new Uint8Array(0));
  });

  it('rejects a message announced larger than the limit before buffering it', () => {
    const [first] = splitMessage('big', bytes(20_000), 1024);
    expectError(
      () => new Reassembler(limits).add(first!),
      'MESSAGE_TOO_LARGE',
      /20000 bytes exceeds the 10000-byte limit/,
    );
  });

  it('rejects an oversized chunk', () => {
    const [first] = splitMessage('c', bytes(3000), 3000);
    expectError(() => new Reassembler(limits).add(first!), 'MESSAGE_TOO_LARGE', /chunk of 3000 bytes exceeds/);
  });

  it('rejects a tampered chunk by digest', () => {
    const chunks = splitMessage('t', bytes(2000), 1024);
    chunks[1] = { ...chunks[1]!, data: Uint8Array.from(chunks[1]!.data, (b) => b ^ 1) };
    const r = new Reassembler(limits);
    r.add(chunks[0]!);
    expectError(() => r.add(chunks[1]!), 'MESSAGE_CORRUPT', /SHA-256 of the reassembled message does not match/);
  });

  it('rejects chunks out of order and a message that starts mid-way', () => {
    const chunks = splitMessage('o', bytes(3000), 1024);
    const r = new Reassembler(limits);
    r.add(chunks[0]!);
    expectError(() => r.add(chunks[2]!), 'MESSAGE_CORRUPT', /chunk 2\/3 arrived out of order/);
    expectError(() => new Reassembler(limits).add(chunks[1]!), 'MESSAGE_CORRUPT', /started at chunk 1, not 0/);
  });

  it('limits the number of partially received messages', () => {
    const r = new Reassembler(limits);
    r.add(splitMessage('a', bytes(2000), 1024)[0]!);
    r.add(splitMessage('b', bytes(2000), 1024)[0]!);
    expectError(
      () => r.add(splitMessage('c', bytes(2000), 1024)[0]!),
      'MESSAGE_TOO_LARGE',
      /more than 2 messages are partially received/,
    );
  });
});

describe('configured limits', () => {
  it('refuse a chunk limit below the size every node sends', () => {
    expect(() => compileWireLimits({ maxChunkBytes: SEND_CHUNK_BYTES - 1 })).toThrow(
      /below the 1048576-byte chunks every node sends/,
    );
    expect(compileWireLimits({ maxChunkBytes: SEND_CHUNK_BYTES }).maxChunkBytes).toBe(SEND_CHUNK_BYTES);
  });
});
