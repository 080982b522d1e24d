/**
 * A party's durable job state (docs/durability.md): what it must not
 * recompute differently after a `kill -9`, in `<dataDir>/jobs/<job>/checkpoint.v8`,
 * replaced whole (temp file + rename) at every save.
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
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { OptimizerState } from '../../protocol/training/optimizer.ts';
import { exportSealingPrivateKey, generateSealingKeyPair, importSealingKeyPair } from '../../protocol/crypto/sealing.ts';
import type { NodeIdentity } from '../../runtime/certs.ts';
import type { Mailbox } from '../mailbox.ts';
import type { JobChannel } from './channel.ts';
import { exchangeSealingKeys } from './setup.ts';

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

/** The hook hetero-lr.ts gets through its context. */
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
  kept: Map<string, unknown>;
  training: Map<number, TrainingState>;
  /** The current round's write-ahead results by key (older checkpoints held one `{ key, value }`). */
  pending: Map<string, unknown> | { key: string; value: unknown } | undefined;
};

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
    let saved: Saved | undefined;
    try {
      saved = deserialize(await readFile(join(dir, 'checkpoint.v8'))) as Saved;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const checkpoint = new JobCheckpoint(dir, jobId, mailbox, saved ?? { incarnation: 0, kept: new Map(), training: new Map(), pending: undefined }, saved !== undefined);
    checkpoint.#saved.incarnation += 1;
    await checkpoint.#write();
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
    await this.#write();
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
        await this.#write();
        return value;
      },
      completed: async (state) => {
        saved.training.set(start, structuredClone(state));
        saved.pending = undefined;
        await this.#write();
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
    await this.#write();
    await rm(join(this.#dir, 'inbox'), { recursive: true, force: true });
  }

  /** The job ended for good without a result (failed or cancelled): nothing to resume. */
  async discard(): Promise<void> {
    await rm(join(this.#dir, 'inbox'), { recursive: true, force: true });
    await rm(join(this.#dir, 'checkpoint.v8'), { force: true });
  }

  async #write(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const file = join(this.#dir, 'checkpoint.v8');
    // It holds the job's sealing key and secret masks: this node's user only.
    await writeFile(`${file}.tmp`, serialize(this.#saved), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}

/** The round's write-ahead results as a map, converting the one-slot form of older checkpoints. */
function pendingMap(saved: Saved): Map<string, unknown> {
  if (!(saved.pending instanceof Map)) saved.pending = new Map(saved.pending === undefined ? [] : [[saved.pending.key, saved.pending.value]]);
  return saved.pending;
}

/** `checkpoint.keep(key, compute)`, or just `compute()` for a job without a checkpoint. */
export function keepIn<T>(checkpoint: JobCheckpoint | undefined, key: string, compute: () => T | Promise<T>): Promise<T> {
  return checkpoint === undefined ? Promise.resolve(compute()) : checkpoint.keep(key, compute);
}

/**
 * Job setup that survives a restart: the sealing key pair is saved before
 * its public half is published, and the verified peer keys once known.
 */
export async function durableSealingKeys(checkpoint: JobCheckpoint | undefined, channel: JobChannel, identity: NodeIdentity, parties: readonly string[]): Promise<void> {
  if (checkpoint === undefined) {
    await exchangeSealingKeys(channel, identity, parties);
    return;
  }
  const own = importSealingKeyPair(await checkpoint.keep('sealing-key', () => exportSealingPrivateKey(generateSealingKeyPair())));
  const peers = checkpoint.kept<Map<string, Uint8Array>>('sealing-peers');
  if (peers === undefined) await checkpoint.keep('sealing-peers', () => exchangeSealingKeys(channel, identity, parties, own));
  else channel.setSealing(own, peers);
}
