/**
 * Cutting serialized envelopes into chunks and putting them back together,
 * with size limits checked before any memory is committed and a SHA-256 over
 * the whole message checked at the end. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { ProtocolError } from '../errors.ts';

export type WireLimitsOptions = {
  /** Largest chunk a peer may send. @default 4 MiB */
  readonly maxChunkBytes?: number;
  /** Largest whole message. @default 1 GiB */
  readonly maxMessageBytes?: number;
  /** Largest number of partially received messages per stream. @default 64 */
  readonly maxPendingMessages?: number;
};

export type WireLimits = Required<WireLimitsOptions>;

/**
 * Chunk size every sender uses, whatever its own receive limit: a receiver
 * may lower `maxChunkBytes` to this and no further, so two nodes with
 * different configs always understand each other.
 */
export const SEND_CHUNK_BYTES = 1024 * 1024;

export function compileWireLimits(options: WireLimitsOptions = {}): WireLimits {
  if (options.maxChunkBytes !== undefined && options.maxChunkBytes < SEND_CHUNK_BYTES) {
    throw new ProtocolError(
      'MESSAGE_TOO_LARGE',
      `maxChunkBytes ${options.maxChunkBytes} is below the ${SEND_CHUNK_BYTES}-byte chunks every node sends`,
    );
  }
  return Object.freeze({
    maxChunkBytes: options.maxChunkBytes ?? 4 * 1024 * 1024,
    maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024 * 1024,
    maxPendingMessages: options.maxPendingMessages ?? 64,
  });
}

/** The fields of a `tandem.v1.Chunk`, all required. */
export type ChunkFields = {
  messageId: string;
  index: number;
  count: number;
  totalBytes: number;
  sha256: Uint8Array;
  data: Uint8Array;
};

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** Splits a serialized message into chunks of at most `maxChunkBytes` (an empty message is one empty chunk). */
export function splitMessage(messageId: string, bytes: Uint8Array, maxChunkBytes: number): ChunkFields[] {
  const digest = sha256(bytes);
  const count = Math.max(1, Math.ceil(bytes.byteLength / maxChunkBytes));
  const chunks: ChunkFields[] = [];
  for (let index = 0; index < count; index++) {
    const data = bytes.subarray(index * maxChunkBytes, Math.min(bytes.byteLength, (index + 1) * maxChunkBytes));
    chunks.push({ messageId, index, count, totalBytes: bytes.byteLength, sha256: digest, data });
  }
  return chunks;
}

type Pending = {
  count: number;
  totalBytes: number;
  sha256: Uint8Array;
  next: number;
  buffer: Uint8Array;
  filled: number;
};

/** Reassembles chunks arriving in order on one stream. */
export class Reassembler {
  readonly #limits: WireLimits;
  readonly #pending = new Map<string, Pending>();

  constructor(limits: WireLimits) {
    this.#limits = limits;
  }

  /** Adds a chunk; returns the whole message when this was its last chunk. */
  add(chunk: ChunkFields): Uint8Array | undefined {
    const { messageId, index, count, totalBytes, data } = chunk;
    if (messageId === '') throw corrupt('a chunk has no message id');
    if (data.byteLength > this.#limits.maxChunkBytes) {
      throw new ProtocolError(
        'MESSAGE_TOO_LARGE',
        `chunk of ${data.byteLength} bytes exceeds the ${this.#limits.maxChunkBytes}-byte chunk limit`,
      );
    }
    if (totalBytes > this.#limits.maxMessageBytes) {
      throw new ProtocolError(
        'MESSAGE_TOO_LARGE',
        `message ${messageId} of ${totalBytes} bytes exceeds the ${this.#limits.maxMessageBytes}-byte limit`,
      );
    }
    let pending = this.#pending.get(messageId);
    if (pending === undefined) {
      if (index !== 0) throw corrupt(`message ${messageId} started at chunk ${index}, not 0`);
      if (count < 1 || count > Math.max(1, totalBytes))
        throw corrupt(`message ${messageId} claims ${count} chunks for ${totalBytes} bytes`);
      if (this.#pending.size >= this.#limits.maxPendingMessages) {
        throw new ProtocolError(
          'MESSAGE_TOO_LARGE',
          `more than ${this.#limits.maxPendingMessages} messages are partially received on this stream`,
        );
      }
      pending = { count, totalBytes, sha256: chunk.sha256, next: 0, buffer: new Uint8Array(totalBytes), filled: 0 };
      this.#pending.set(messageId, pending);
    }
    if (index !== pending.next || count !== pending.count || totalBytes !== pending.totalBytes) {
      this.#pending.delete(messageId);
      throw corrupt(`message ${messageId}: chunk ${index}/${count} arrived out of order or changed its header`);
    }
    if (pending.filled + data.byteLength > pending.totalBytes) {
      this.#pending.delete(messageId);
      throw corrupt(`message ${messageId}: chunks carry more than the announced ${pending.totalBytes} bytes`);
    }
    pending.buffer.set(data, pending.filled);
    pending.filled += data.byteLength;
    pending.next += 1;
    if (pending.next < pending.count) return undefined;
    this.#pending.delete(messageId);
    if (pending.filled !== pending.totalBytes)
      throw corrupt(`message ${messageId}: received ${pending.filled} of ${pending.totalBytes} bytes`);
    if (!equalBytes(sha256(pending.buffer), pending.sha256))
      throw corrupt(`message ${messageId}: SHA-256 of the reassembled message does not match`);
    return pending.buffer;
  }

  /** Messages still incomplete (dropped when a stream ends). */
  get pendingCount(): number {
    return this.#pending.size;
  }
}

function corrupt(message: string): ProtocolError {
  return new ProtocolError('MESSAGE_CORRUPT', message);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
