/**
 * The process's crypto worker pool and the parallel forms of the hot loops
 * that use it: PSI blinding (X25519), CKKS encryption, and the masked
 * weighted sums Σ [[d]]·x per feature. Each gives the same result as its
 * single-threaded form — byte for byte for PSI, equal within CKKS precision
 * for CKKS (fresh encryption randomness and masks differ) — and falls back
 * to it when the pool is off (`node.cryptoThreads: 0`) or the work is too
 * small to split.
 *
 * One pool per party node, sized by its config (`node.cryptoThreads`) and
 * handed to its jobs through their context, so several nodes in one process
 * (as tests start them) each get their own size. The threads start on first
 * use.
 */
import { availableParallelism } from 'node:os';
import { blind, checkedCount, ELEMENT_BYTES, lowOrderError } from '../protocol/psi/group.ts';
import type { AsyncBlinder } from '../protocol/psi/psi-session.ts';
import type { CkksEncryptor, CkksSuite, MaskedSum } from '../protocol/he/ckks.ts';
import { ERROR_CATALOG, ProtocolError, type ErrorCode } from '../protocol/errors.ts';
import { Control, WorkerPool, type SerializedError } from './worker-pool.ts';
import type { BlindTask, EncodeColumnsTask, EncryptTask, StatsTask, WeightedSumsTask } from './crypto-worker.ts';

const WORKER = new URL('./crypto-worker.ts', import.meta.url);
/** Below this many elements one thread is faster than handing out shares (≈ 60 ms of work). */
const MIN_SHARED_ELEMENTS = 1024;

function revive(e: SerializedError): Error {
  if (e.code !== undefined && e.code in ERROR_CATALOG)
    return new ProtocolError(
      e.code as ErrorCode,
      e.message,
      e.publicMessage === undefined ? {} : { publicMessage: e.publicMessage },
    );
  return Object.assign(new Error(e.message), { name: e.name });
}

/** [from, to) ranges splitting `count` items into at most `parts` near-equal pieces. */
function ranges(count: number, parts: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(parts, count));
  return Array.from(
    { length: n },
    (_, k) => [Math.floor((k * count) / n), Math.floor(((k + 1) * count) / n)] as [number, number],
  ).filter(([a, b]) => b > a);
}

function keyOf(suite: CkksSuite, encryptor: CkksEncryptor): Pick<EncryptTask, 'params' | 'keyId' | 'publicKey'> {
  return { params: suite.params, keyId: encryptor.keyId, publicKey: encryptor.publicKey };
}

/** A party node's crypto worker threads (none with `threads: 0`: everything on the calling thread). */
export class CryptoPool {
  readonly threads: number;
  #workers: WorkerPool | undefined;
  #closed = false;

  /** @param threads worker threads; @default the machine's cores */
  constructor(threads: number = availableParallelism()) {
    if (!Number.isInteger(threads) || threads < 0)
      throw new RangeError(`cryptoThreads must be a non-negative integer, got ${threads}`);
    this.threads = threads;
  }

  /** The worker pool, started on first use; undefined when configured off or closed. */
  #pool(): WorkerPool | undefined {
    if (this.threads === 0 || this.#closed) return undefined;
    this.#workers ??= new WorkerPool(WORKER, this.threads, revive);
    return this.#workers;
  }

  /** Stops the threads; later calls run on the calling thread. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers;
    this.#workers = undefined;
    await workers?.close();
  }

  /**
   * {@link blind} with one share of the elements per worker, over shared
   * memory: same bytes, every core, and this thread stays free to answer its
   * peers (a thread blocked for a minute blinding 1M ids misses gRPC keepalives
   * and is dropped by the coordinator).
   */
  readonly blind: AsyncBlinder = async (scalar, elements, onProgress) => {
    const count = checkedCount(elements);
    const workers = this.#pool();
    if (workers === undefined || count < MIN_SHARED_ELEMENTS) return blind(scalar, elements, onProgress);
    const input = new SharedArrayBuffer(elements.byteLength);
    new Uint8Array(input).set(elements);
    const output = new SharedArrayBuffer(elements.byteLength);
    const controlBuffer = new SharedArrayBuffer(Control.length * 4);
    const control = new Int32Array(controlBuffer);
    const tasks = ranges(count, workers.size).map(([from, to]): BlindTask => ({
      kind: 'blind',
      scalar: Uint8Array.from(scalar),
      input,
      output,
      control: controlBuffer,
      from,
      to,
    }));
    await workers.runShared(tasks, control, onProgress);
    if (Atomics.load(control, Control.failed) !== 0) {
      const at = Atomics.load(control, Control.failedAt);
      if (at > 0) throw lowOrderError(at - 1);
      throw new ProtocolError('MESSAGE_CORRUPT', 'PSI blinding failed on a worker thread');
    }
    onProgress?.(count);
    const out = new Uint8Array(count * ELEMENT_BYTES);
    out.set(new Uint8Array(output));
    return out;
  };

  /** `encryptor.encrypt` of every vector, spread over the workers; results in input order. */
  async encryptAll(suite: CkksSuite, encryptor: CkksEncryptor, values: readonly Float64Array[]): Promise<Uint8Array[]> {
    const workers = this.#pool();
    if (workers === undefined || values.length < 2) return values.map((v) => encryptor.encrypt(v));
    const key = keyOf(suite, encryptor);
    const parts = await Promise.all(
      ranges(values.length, workers.size).map(([from, to]) => {
        // slice(): a subarray would clone its whole underlying buffer.
        const task: EncryptTask = { kind: 'encrypt', ...key, values: values.slice(from, to).map((v) => v.slice()) };
        return workers.run<Uint8Array[]>(task);
      }),
    );
    return parts.flat();
  }

  /**
   * `suite.encodeColumns` of every column of every chunk, in pieces over the
   * workers (small, so that an encryption queued behind them waits little);
   * `result[j][c]` is column j in chunk c.
   */
  async encodeColumnsAll(
    suite: CkksSuite,
    encryptor: CkksEncryptor,
    chunks: number,
    columns: number,
    column: (chunk: number, j: number) => Float64Array,
  ): Promise<Uint8Array[][]> {
    const workers = this.#pool();
    const read = (from: number, to: number): Float64Array[] =>
      Array.from({ length: to - from }, (_, k) =>
        Array.from({ length: chunks }, (_c, c) => column(c, from + k)),
      ).flat();
    const parts =
      workers === undefined
        ? [suite.encodeColumns(read(0, columns))]
        : await Promise.all(
            ranges(columns, 4 * workers.size).map(([from, to]) => {
              const task: EncodeColumnsTask = {
                kind: 'encode-columns',
                ...keyOf(suite, encryptor),
                columns: read(from, to),
              };
              return workers.run<Uint8Array[]>(task);
            }),
          );
    const flat = parts.flat();
    return Array.from({ length: columns }, (_, j) => flat.slice(j * chunks, (j + 1) * chunks));
  }

  /**
   * `suite.maskedWeightedSums` with the feature columns split over the
   * workers; masked sums in column order. `column(c, j)` is read on this
   * thread, so the caller's matrix never crosses a thread boundary whole; it
   * may give the column's encoding from {@link encodeColumnsAll} instead.
   */
  async maskedWeightedSumsAll(
    suite: CkksSuite,
    encryptor: CkksEncryptor,
    residuals: readonly Uint8Array[],
    columns: number,
    column: (chunk: number, j: number) => Float64Array | Uint8Array,
  ): Promise<MaskedSum[]> {
    const workers = this.#pool();
    if (workers === undefined || columns < 2) return suite.maskedWeightedSums(residuals, columns, column, encryptor);
    const key = keyOf(suite, encryptor);
    const parts = await Promise.all(
      ranges(columns, workers.size).map(([from, to]) => {
        const task: WeightedSumsTask = {
          kind: 'weighted-sums',
          ...key,
          residuals,
          columns: Array.from({ length: to - from }, (_, k) => residuals.map((_r, c) => column(c, from + k))),
        };
        return workers.run<MaskedSum[]>(task);
      }),
    );
    return parts.flat();
  }

  /** Live SEAL objects per worker (one answer per worker while the pool is otherwise idle). */
  async workerSealObjects(): Promise<number[]> {
    const workers = this.#pool();
    if (workers === undefined) return [];
    const task: StatsTask = { kind: 'stats' };
    return Promise.all(Array.from({ length: workers.size }, () => workers.run<number>(task)));
  }
}
