/**
 * What a model family (logistic regression, trees…) gives the job kinds and
 * the coordinator. A family is one folder, `models/<family>/`, registered in
 * models/registry.ts; job kinds (jobs/<kind>/) run the workflow around it
 * (alignment, split, scoring key, saving) and call it for what depends on
 * the model: preparing features, training under encryption, federated
 * evaluation, and the model part's contents. At the coordinator, its key
 * holder answers the steps addressed to the coordinator that the family
 * declares (e.g. masked decryption).
 */
import type { ZodType } from 'zod';
import type { tandem } from '../protocol/generated/tandem.js';
import type { Envelope } from '../protocol/wire/envelope.ts';
import type { Message, PropsOf } from '../protocol/messages.ts';
import type { JobSpec, JobSpecInput } from '../protocol/job-spec.ts';
import type { Logger } from '../runtime/logger.ts';
import type { DatasetConfig } from '../party/config.ts';
import type { Dataset } from '../jobs/common/features.ts';
import type { JobContext, Progress } from '../jobs/context.ts';

/** One epoch (or boosting round) finished: for progress bars and logs. */
export type EpochReport = {
  readonly epoch: number;
  readonly maxEpochs: number;
  /** The guest's training loss, when it has one. */
  readonly loss?: number | undefined;
  /** What `epoch` counts. @default 'epochs' (a tree family counts 'trees') */
  readonly unit?: 'epochs' | 'trees' | undefined;
  /** Several models in one job (one-vs-rest classes): which one. */
  readonly model?: { readonly index: number; readonly of: number } | undefined;
};

/** A supervised job (hetero-lr, cold-start) as a family sees it, after alignment and the split. */
export type SupervisedRun = {
  readonly job: JobContext;
  readonly spec: JobSpec;
  readonly role: 'guest' | 'host';
  readonly log: Logger;
  readonly dataset: Dataset;
  readonly datasetConfig: DatasetConfig;
  /** This party's rows in the shared order. */
  readonly aligned: Uint32Array;
  /** Indices into `aligned`. */
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
  /** Guest only: what the label is (a continuous label fits a regression). */
  readonly labelType: 'binary' | 'multiclass' | 'continuous';
  /** Guest only: per aligned row, the label (0/1, the class index, or the value of a continuous label). */
  readonly labels: Float64Array | undefined;
  /** Guest only, multi-class: the class labels in index order. */
  readonly classes: readonly string[] | undefined;
  /** Logits per row: 1 for a binary label, K for K classes (agreed with the hosts). */
  readonly outputs: number;
  readonly progress: Progress;
  readonly onEpoch: (report: EpochReport) => void;
};

/** A lookalike job as a family sees it: the guest has labels (seed or decoy) and no features; the host the pool. */
export type LookalikeRun = {
  readonly job: JobContext;
  readonly spec: JobSpec;
  readonly role: 'guest' | 'host';
  readonly log: Logger;
  /** Host only: the pool and its config. */
  readonly dataset: Dataset | undefined;
  readonly datasetConfig: DatasetConfig | undefined;
  /** Host only: the selected pool rows, in the guest's (secret) order. */
  readonly rows: Uint32Array;
  /** Indices into `rows`. */
  readonly train: Uint32Array;
  /** Guest only: 1 for a seed, 0 for a decoy, per selected row. */
  readonly labels: Float64Array | undefined;
  readonly onEpoch: (report: EpochReport) => void;
};

/** What training left at this party. */
export type TrainedModel = {
  /** What the job reports (guest: metrics; host: aggregates), before the kind adds its own. */
  readonly summary: Record<string, unknown>;
  /** The family's fields of `model-part.json`. */
  readonly model: Record<string, unknown>;
};

/** A lookalike host's trained part, which also scores the whole pool locally. */
export type LookalikeModel = TrainedModel & {
  /** Host only: one score per pool row (higher: more like the seeds). */
  readonly poolScores?: Float64Array | undefined;
};

/** The family's part of the coordinator for one job. */
export type KeyHolder = {
  /** Fields of the job assignment every party receives (e.g. the CKKS public key). */
  readonly assignment: Partial<tandem.v1.JobAssignment.$Properties>;
  /** The secrets a restarted coordinator needs to resume the job (kept in its job store while the job runs). */
  readonly secrets: { readonly secretKey: Uint8Array; readonly noiseKey: Uint8Array };
  /** Handles a message addressed to the coordinator whose step this family declares; `reply` sends the answer back. */
  handle(envelope: Envelope, from: string, reply: <M extends Message>(m: M, body: PropsOf<M>) => void): void;
  /** State a restarted coordinator restores (JSON), beside the secrets. */
  state(): Record<string, unknown>;
  restore(state: Record<string, unknown>): void;
  dispose(): void;
};

export type ModelFamily = {
  readonly name: string;
  /** The job spec's `model:` block for this family (unknown keys rejected), checked at submission (jobs/spec.ts). */
  readonly modelSchema: ZodType;
  /** Cross-field rules of a spec that trains this family: (field, problem, fix) of the first broken one. */
  readonly specProblem?: ((input: JobSpecInput) => readonly [string, string, string] | undefined) | undefined;
  /** Every message the family sends, for the catalog (jobs/catalog.ts). */
  readonly messages: readonly Message[];
  /** The coordinator's side for one job; `saved` when resuming after a coordinator restart. */
  keyHolder(jobId: string, spec: JobSpec, log: Logger, saved?: KeyHolder['secrets']): Promise<KeyHolder>;
  /** Trains and evaluates this party's part of a supervised job. */
  supervised(run: SupervisedRun): Promise<TrainedModel>;
  /** Trains this party's part of a lookalike job (the host also scores its pool). */
  lookalike(run: LookalikeRun): Promise<LookalikeModel>;
};
