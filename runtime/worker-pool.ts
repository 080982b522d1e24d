/**
 * A fixed-size pool of worker threads running one script, with two ways in:
 *
 * - `run(task)`: an async task, queued until a worker is free; the worker
 *   answers with a message. For work the caller can await (CKKS in training).
 * - `runShared(tasks, control)`: one task per worker over shared memory
 *   (PSI's large element arrays are written in place, never copied through
 *   messages), awaited with `Atomics.waitAsync`.
 *
 * Workers start on first use and are unref'd while idle, so an idle pool
 * never keeps a process alive.
 */
import { Worker, type Transferable } from 'node:worker_threads';

type Job = {
  readonly message: unknown;
  readonly transfer: readonly Transferable[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
};

/** What a worker posts back for an async task. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** An error as it crosses threads (classes do not survive structured cloning). */
export type SerializedError = {
  readonly name: string;
  readonly message: string;
  readonly code?: string | undefined;
  readonly publicMessage?: string | undefined;
};

/** Slots of the shared control array of `runShared`. */
export const Control = { done: 0, progress: 1, failedAt: 2, failed: 3, length: 4 } as const;

export class WorkerPool {
  readonly size: number;
  readonly #script: URL;
  readonly #revive: (error: SerializedError) => Error;
  #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #running = new Map<Worker, Job>();
  #nextId = 0;
  #closed = false;

  /** @param revive - turns a worker's serialized error back into a typed one. */
  constructor(
    script: URL,
    size: number,
    revive: (error: SerializedError) => Error = (e) => Object.assign(new Error(e.message), { name: e.name }),
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a worker pool needs at least one thread, got ${size}`);
    this.size = size;
    this.#script = script;
    this.#revive = revive;
  }

  /** Runs one task on the next free worker. */
  run<R>(message: object, transfer: readonly Transferable[] = []): Promise<R> {
    if (this.#closed) return Promise.reject(new Error('the worker pool is closed'));
    this.#start();
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ message, transfer, resolve: resolve as (value: unknown) => void, reject });
      this.#dispatch();
    });
  }

  /**
   * Posts `tasks[k]` to worker k (at most `size` tasks) and resolves once
   * every one has added 1 to `control[Control.done]` (waited for with
   * `Atomics.waitAsync`, so this thread's event loop keeps running).
   * `onProgress` sees `control[Control.progress]` about every `pollMs`.
   */
  async runShared(
    tasks: readonly object[],
    control: Int32Array,
    onProgress?: (progress: number) => void,
    pollMs = 200,
  ): Promise<void> {
    if (this.#closed) throw new Error('the worker pool is closed');
    if (tasks.length > this.size)
      throw new RangeError(`runShared takes at most ${this.size} tasks, got ${tasks.length}`);
    this.#start();
    tasks.forEach((task, k) => this.#workers[k]?.postMessage({ id: -1, shared: true, task }));
    const workers = this.#workers.slice(0, tasks.length);
    workers.forEach((w) => w.ref());
    try {
      for (;;) {
        const done = Atomics.load(control, Control.done);
        if (done >= tasks.length) break;
        const wait = Atomics.waitAsync(control, Control.done, done, pollMs);
        if (wait.async) await wait.value;
        onProgress?.(Atomics.load(control, Control.progress));
      }
    } finally {
      workers.forEach((w) => w.unref());
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('the worker pool was closed'));
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #start(): void {
    if (this.#workers.length > 0) return;
    for (let k = 0; k < this.size; k++) this.#workers.push(this.#spawn());
  }

  #spawn(): Worker {
    const worker = new Worker(this.#script);
    worker.on('message', (reply: WorkerReply) => this.#settle(worker, reply));
    worker.on('error', (error: Error) => this.#fail(worker, error));
    worker.unref();
    this.#idle.push(worker);
    return worker;
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop() as Worker;
      const job = this.#queue.shift() as Job;
      this.#running.set(worker, job);
      worker.ref(); // a running task keeps the process alive until it answers
      worker.postMessage({ id: this.#nextId++, task: job.message }, [...job.transfer]);
    }
  }

  #settle(worker: Worker, reply: WorkerReply): void {
    const job = this.#running.get(worker);
    if (job === undefined) return;
    this.#running.delete(worker);
    worker.unref();
    this.#idle.push(worker);
    if (reply.ok) job.resolve(reply.result);
    else job.reject(this.#revive(reply.error));
    this.#dispatch();
  }

  /** A worker died (e.g. out of memory): fail its task and replace it. */
  #fail(worker: Worker, error: Error): void {
    this.#running.get(worker)?.reject(error);
    this.#running.delete(worker);
    const idle = this.#idle.indexOf(worker);
    if (idle >= 0) this.#idle.splice(idle, 1);
    const k = this.#workers.indexOf(worker);
    if (k < 0 || this.#closed) return;
    this.#workers[k] = this.#spawn();
    this.#dispatch();
  }
}
