/**
 * A bench-only transport between two role processes: one TCP connection on
 * loopback, frames of (step, round, seq, body), a mailbox on each side that
 * hands bodies out by (step, round, seq) whatever order they arrived in —
 * what a JobChannel gives a job, without the coordinator relay, sealing and
 * mTLS (the bench measures the protocol; `bench psi` measures whole jobs).
 * Counts the bytes each side writes.
 */
import type { Socket } from 'node:net';
import { coordinates, decodeOprf, encodeOprf } from '../../protocol/psi/oprf/codec.ts';
import type { OprfLink } from '../../runtime/psi-workers.ts';

const keyOf = (step: string, round: number, seq: number): string => `${step}|${round}|${seq}`;

export class FrameSocket {
  readonly #socket: Socket;
  readonly #waiting = new Map<string, Uint8Array>();
  readonly #takers = new Map<string, (body: Uint8Array) => void>();
  #failure: Error | undefined;
  bytesSent = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the peer closed the connection')));
  }

  /** Writes one frame; resolves once the socket has room again (backpressure). */
  send(step: string, round: number, seq: number, body: Uint8Array): Promise<void> {
    const name = Buffer.from(step, 'utf8');
    const header = Buffer.alloc(4 + 1 + name.byteLength + 8);
    header.writeUInt32LE(header.byteLength - 4 + body.byteLength, 0);
    header[4] = name.byteLength;
    name.copy(header, 5);
    header.writeUInt32LE(round, 5 + name.byteLength);
    header.writeUInt32LE(seq, 9 + name.byteLength);
    this.bytesSent += header.byteLength + body.byteLength;
    this.#socket.write(header);
    const roomLeft = this.#socket.write(body);
    return roomLeft ? Promise.resolve() : new Promise((resolve) => this.#socket.once('drain', () => resolve()));
  }

  take(step: string, round: number, seq: number): Promise<Uint8Array> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const key = keyOf(step, round, seq);
    const body = this.#waiting.get(key);
    if (body !== undefined) {
      this.#waiting.delete(key);
      return Promise.resolve(body);
    }
    return new Promise((resolve) => this.#takers.set(key, resolve));
  }

  close(): void {
    this.#takers.clear();
    this.#socket.end();
  }

  /** Frames are copied once into a buffer of their own as they arrive (4 MiB frames come in 64 KiB reads). */
  #frame: Buffer | undefined;
  #frameFilled = 0;
  #header = Buffer.alloc(4);
  #headerFilled = 0;

  #onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#frame === undefined) {
        const take = Math.min(4 - this.#headerFilled, chunk.byteLength - at);
        chunk.copy(this.#header, this.#headerFilled, at, at + take);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < 4) return;
        this.#frame = Buffer.allocUnsafe(this.#header.readUInt32LE(0));
        this.#frameFilled = 0;
        this.#headerFilled = 0;
      }
      const take = Math.min(this.#frame.byteLength - this.#frameFilled, chunk.byteLength - at);
      chunk.copy(this.#frame, this.#frameFilled, at, at + take);
      this.#frameFilled += take;
      at += take;
      if (this.#frameFilled === this.#frame.byteLength) {
        this.#deliver(this.#frame);
        this.#frame = undefined;
      }
    }
  }

  #deliver(frame: Buffer): void {
    const nameLength = frame[0]!;
    const step = frame.toString('utf8', 1, 1 + nameLength);
    const round = frame.readUInt32LE(1 + nameLength);
    const seq = frame.readUInt32LE(5 + nameLength);
    const body = frame.subarray(9 + nameLength);
    const key = keyOf(step, round, seq);
    const taker = this.#takers.get(key);
    if (taker === undefined) {
      this.#waiting.set(key, body);
    } else {
      this.#takers.delete(key);
      taker(body);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
  }
}

/** OPRF-PSI over a frame socket: protobuf bodies, round = bucket, seq = chunk. */
export function oprfLink(frames: FrameSocket): OprfLink {
  return {
    send: (message) => {
      const { round, seq } = coordinates(message);
      return frames.send(message.step, round, seq, encodeOprf(message));
    },
    receive: async (step, bucket, chunk) => decodeOprf(step, await frames.take(step, bucket, chunk)),
  };
}
