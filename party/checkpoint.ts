/**
 * A party's durable job state (docs/durability.md): what it must not
 * recompute differently after a `kill -9`, in `<dataDir>/jobs/<job>/`,
 * each file replaced whole (temp file + rename):
 * `kept.v8` (the `keep` results, written when one is added),
 * `checkpoint.v8` (the incarnation and the training states, every round) and
 * `pending/<n>.v8` (one per write-ahead result, deleted when its round
 * completes). Split so that a round rewrites only what changed: at 1M ids
 * the kept PSI result and split are 4 MB, and a host's round writes 9 MB of
 * ciphertexts, each of which used to be rewritten with every save.
 *
 * - `keep(key, compute)`: a result computed once per job and reused after a
 *   restart: the sealing key pair (peers already seal to its public half),
 *   the PSI result, the split, the scoring key, the outcome.
 * - `training(start)`: per training, the state after the last completed
 *   round (weights, optimizer, losses, the guest's loss accumulator) and the
 *   round's write-ahead results: every outbound result of the round (the
 *   host's basis ciphertexts, the guest's residuals, masked sums and their
 *   secret masks), each saved before it is sent, so a re-run sends the same
 *   bytes for every message a peer may already hold and can unmask the
 *   answers the coordinator already gave. Each completed round also commits the
 *   inbox (party/mailbox.ts): messages taken so far are not needed again.
 * - `incarnation`: how often the job has started here; events are numbered
 *   per incarnation so a resumed run's events are not taken for resends.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { OptimizerState } from '../protocol/training/optimizer.ts';
import type { Mailbox } from './mailbox.ts';

export type TrainingState = {
  /** The last completed round. */
  readonly round: number;
  /** Epochs whose end (loss, epoch control) is done. */
  readonly epochs: number;
  /** The guest decided to stop (or the host was told to) after `epochs`. */
  readonly stopped: boolean;
  readonly weights: Float64Array;
  readonly optimizer: OptimizerState;
  readonly losses: readonly number[];
  /** The guest's encrypted loss sum over the epoch in progress. */
  readonly lossCt?: Uint8Array | undefined;
};

/** The hook models/lr/train.ts gets through its context. */
export type TrainingCheckpoint = {
  /** The state after the last completed round, when resuming. */
  readonly resumed: TrainingState | undefined;
  /** Computes a round's outbound results once: saved before they are sent, reused by a re-run. */
  prepare<T>(key: string, compute: () => T | Promise<T>): Promise<T>;
  /** Saves the state after a completed round. */
  completed(state: TrainingState): Promise<void>;
};

type Saved = {
  incarnation: number;
  /** In `kept.v8`; older checkpoints held it in `checkpoint.v8` too. */
  kept: Map<string, unknown>;
  training: Map<number, TrainingState>;
  /** The current round's write-ahead results by key, from `pending/` (older checkpoints held them here, or one `{ key, value }`). */
  pending: Map<string, unknown> | { key: string; value: unknown } | undefined;
};

/** What `checkpoint.v8` holds now: the rest is in `kept.v8` and `pending/`. */
type SavedState = Pick<Saved, 'incarnation' | 'training'>;

export class JobCheckpoint {
  readonly #dir: string;
  readonly #jobId: string;
  readonly #mailbox: Mailbox;
  readonly #saved: Saved;
  /** Whether this start found a checkpoint (the job is resuming). */
  readonly resuming: boolean;

  private constructor(dir: string, jobId: string, mailbox: Mailbox, saved: Saved, resuming: boolean) {
    this.#dir = dir;
    this.#jobId = jobId;
    this.#mailbox = mailbox;
    this.#saved = saved;
    this.resuming = resuming;
  }

  /** Opens (or starts) a job's checkpoint and puts its saved inbox back into the mailbox. */
  static async open(dataDir: string, jobId: string, mailbox: Mailbox): Promise<JobCheckpoint> {
    const dir = join(dataDir, 'jobs', jobId);
    const state = await readSaved<Partial<Saved> & SavedState>(join(dir, 'checkpoint.v8'));
    let saved: Saved | undefined;
    if (state !== undefined) {
      const pending = pendingMap({ pending: state.pending } as Saved);
      for (const { key, value } of await readPending(join(dir, 'pending'))) pending.set(key, value);
      saved = {
        incarnation: state.incarnation,
        training: state.training,
        kept: state.kept ?? (await readSaved<Map<string, unknown>>(join(dir, 'kept.v8'))) ?? new Map<string, unknown>(),
        pending,
      };
    }
    const checkpoint = new JobCheckpoint(
      dir,
      jobId,
      mailbox,
      saved ?? { incarnation: 0, kept: new Map(), training: new Map(), pending: undefined },
      saved !== undefined,
    );
    checkpoint.#saved.incarnation += 1;
    // An older checkpoint's pending results are rewritten as files before its state drops them.
    if (state?.pending !== undefined)
      for (const [key, value] of pendingMap(checkpoint.#saved)) await checkpoint.#writePending(key, value);
    await checkpoint.#writeKept();
    await checkpoint.#writeState();
    mailbox.restore(jobId);
    return checkpoint;
  }

  get incarnation(): number {
    return this.#saved.incarnation;
  }

  kept<T>(key: string): T | undefined {
    return this.#saved.kept.get(key) as T | undefined;
  }

  /** `compute()` the first time, saved; the saved value on every later call, also after a restart. */
  async keep<T>(key: string, compute: () => T | Promise<T>): Promise<T> {
    if (this.#saved.kept.has(key)) return this.#saved.kept.get(key) as T;
    const value = await compute();
    this.#saved.kept.set(key, value);
    await this.#writeKept();
    return value;
  }

  /** The hook for the training that starts after round `start` (a one-vs-rest job runs one per class). */
  readonly training = (start: number): TrainingCheckpoint => {
    const saved = this.#saved;
    return {
      resumed: saved.training.get(start),
      prepare: async <T>(key: string, compute: () => T | Promise<T>): Promise<T> => {
        const pending = pendingMap(saved);
        if (pending.has(key)) return pending.get(key) as T;
        const value = await compute();
        pending.set(key, value);
        await this.#writePending(key, value);
        return value;
      },
      completed: async (state) => {
        saved.training.set(start, structuredClone(state));
        saved.pending = undefined;
        await this.#writeState();
        // After the state: a crash in between leaves results of a completed round, which no later round asks for.
        await rm(join(this.#dir, 'pending'), { recursive: true, force: true });
        this.#mailbox.commit(this.#jobId);
      },
    };
  };

  /** The job finished here: keep only its outcome (so a repeated assignment is answered at once), drop the inbox. */
  async complete(outcomeKey: string): Promise<void> {
    const outcome = this.#saved.kept.get(outcomeKey);
    this.#saved.kept = new Map([[outcomeKey, outcome]]);
    this.#saved.training.clear();
    this.#saved.pending = undefined;
    await this.#writeKept();
    await this.#writeState();
    await rm(join(this.#dir, 'pending'), { recursive: true, force: true });
    await rm(join(this.#dir, 'inbox'), { recursive: true, force: true });
  }

  /** The job ended for good without a result (failed or cancelled): nothing to resume. */
  async discard(): Promise<void> {
    await rm(join(this.#dir, 'inbox'), { recursive: true, force: true });
    await rm(join(this.#dir, 'pending'), { recursive: true, force: true });
    await rm(join(this.#dir, 'checkpoint.v8'), { force: true });
    await rm(join(this.#dir, 'kept.v8'), { force: true });
  }

  #writeKept(): Promise<void> {
    return writeWhole(this.#dir, 'kept.v8', this.#saved.kept);
  }

  #writeState(): Promise<void> {
    const state: SavedState = { incarnation: this.#saved.incarnation, training: this.#saved.training };
    return writeWhole(this.#dir, 'checkpoint.v8', state);
  }

  #writePending(key: string, value: unknown): Promise<void> {
    const index = pendingMap(this.#saved).size;
    return writeWhole(join(this.#dir, 'pending'), `${String(index).padStart(4, '0')}.v8`, { key, value });
  }
}

/** Replaces a file whole. They hold the job's sealing key and secret masks: this node's user only. */
async function writeWhole(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  await writeFile(`${file}.tmp`, serialize(value), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

async function readSaved<T>(file: string): Promise<T | undefined> {
  try {
    return deserialize(await readFile(file)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}

/** The write-ahead results saved as files, in the order they were saved (a `.tmp` is a save a crash cut short). */
async function readPending(dir: string): Promise<Array<{ key: string; value: unknown }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return [];
  }
  const out: Array<{ key: string; value: unknown }> = [];
  for (const name of names.filter((n) => n.endsWith('.v8')).sort())
    out.push(deserialize(await readFile(join(dir, name))) as { key: string; value: unknown });
  return out;
}

/** The round's write-ahead results as a map, converting the one-slot form of older checkpoints. */
function pendingMap(saved: Saved): Map<string, unknown> {
  if (!(saved.pending instanceof Map))
    saved.pending = new Map(saved.pending === undefined ? [] : [[saved.pending.key, saved.pending.value]]);
  return saved.pending;
}

/** `checkpoint.keep(key, compute)`, or just `compute()` for a job without a checkpoint. */
export function keepIn<T>(
  checkpoint: JobCheckpoint | undefined,
  key: string,
  compute: () => T | Promise<T>,
): Promise<T> {
  return checkpoint === undefined ? Promise.resolve(compute()) : checkpoint.keep(key, compute);
}
