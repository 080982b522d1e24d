/**
 * The job specification: one YAML file per job, the same for every node.
 * It names parties, roles and datasets, but no columns or paths: those stay
 * in each party's own node config. Validated with unknown keys rejected,
 * then compiled (defaults filled) and frozen.
 */
import { z } from 'zod';
import { compileCkksParams, type CkksParams } from './he/params.ts';
import { compileTraining, type TrainingPlan } from './training/plan.ts';
import type { DpOptions } from './privacy/dp-plan.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

const party = z.strictObject({
  /** Node name: the CN of the party's certificate. */
  name: z.string().regex(NAME, 'must be lowercase letters, digits and dashes, starting with a letter'),
  /** guest holds the labels; hosts hold features only. */
  role: z.enum(['guest', 'host']),
  /** Name of a dataset in that party's node config. */
  dataset: z.string().min(1),
});

const optimizer = z.strictObject({
  type: z.enum(['adam', 'sgd']).optional(),
  learningRate: z.number().positive().optional(),
  decay: z.enum(['none', 'inverse-sqrt', 'exponential']).optional(),
  decayRate: z.number().positive().max(1).optional(),
  l2: z.number().min(0).optional(),
});

export const jobSpecSchema = z.strictObject({
  /** Human-readable name. */
  name: z.string().min(1).max(100),
  /** What to train. */
  kind: z.enum(['hetero-lr', 'lookalike', 'reach', 'cold-start']),
  parties: z.array(party).min(2, 'a job needs a guest and at least one host'),
  alignment: z
    .strictObject({
      mode: z.enum(['intersection']).optional(),
      /**
       * How ids are matched. `ecdh`: the parties run ECDH-PSI between them
       * (four X25519 multiplications per pair of ids; nothing rests on the
       * coordinator). `coordinator`: each party sends the coordinator keyed
       * PRF values of its ids, under a key the coordinator cannot compute, and
       * it matches them (protocol/psi/coordinator-aided.ts): a tenth of the CPU,
       * sound only while the coordinator colludes with no party
       * (docs/threat-model.md). Every job kind: lookalike (membership) and
       * reach (size only) too. `oprf`: OPRF-PSI from oblivious transfer
       * between the parties (KKRT16, docs/psi-oprf.md): about 15 times less
       * CPU than ECDH and nothing rests on the coordinator; hetero-lr,
       * cold-start and lookalike, not reach (its receiver always learns which
       * of its ids matched).
       * @default ecdh
       */
      psi: z.enum(['ecdh', 'coordinator', 'oprf']).optional(),
      /** Options of `psi: oprf`. */
      oprf: z
        .strictObject({
          /**
           * At least this many buckets (rounded up to a power of two): both
           * sides hash-partition their ids and run buckets independently.
           * @default enough for about 2^20 ids per bucket on the larger side
           */
          buckets: z.number().int().min(1).max(4096).optional(),
          /** Worker threads running buckets at each party (0: the node's main thread). @default 1 */
          workers: z.number().int().min(0).max(64).optional(),
        })
        .optional(),
    })
    .optional(),
  validation: z
    .strictObject({
      /** Share of aligned rows held out for evaluation. @default 0.2 */
      fraction: z.number().gt(0).lt(1).optional(),
      /** Keep the label mix the same in both parts. @default true */
      stratified: z.boolean().optional(),
    })
    .optional(),
  /**
   * The model: `family` (models/registry.ts; default `lr`) and that family's
   * options, which the family's own schema checks (jobs/spec.ts).
   */
  model: z
    .looseObject({ family: z.string().regex(NAME, 'must be a model family name, such as lr').optional() })
    .optional(),
  training: z
    .strictObject({
      maxEpochs: z.number().int().min(1).max(10_000).optional(),
      batchSize: z.number().int().min(1).max(1_048_576).optional(),
      optimizer: optimizer.optional(),
      tolerance: z.number().min(0).optional(),
      patience: z.number().int().min(1).optional(),
      /** Start from an earlier job's model (same parties and data layout): each party loads its own part. */
      warmStart: z
        .strictObject({ job: z.string().regex(/^job-[0-9a-f]{10}$/, 'must be a job id like job-0123456789') })
        .optional(),
    })
    .optional(),
  privacy: z
    .strictObject({
      ckks: z
        .strictObject({
          polyModulusDegree: z.union([z.literal(8192), z.literal(16384)]).optional(),
          coeffModulusBits: z.array(z.number().int().min(20).max(60)).min(4).optional(),
          scaleBits: z.number().int().min(20).max(50).optional(),
        })
        .optional(),
      /** log2 of the standard deviation of the coordinator's flooding noise, in units of the decrypted constant coefficient. @default 20 */
      noiseFloodingBits: z.number().int().min(0).max(40).optional(),
      /** Differential privacy for the training rows (see protocol/privacy/dp-plan.ts). Off unless given. */
      dp: z
        .strictObject({
          /** The ε budget; the noise is calibrated so the planned epochs spend at most this. */
          epsilon: z.number().positive().max(100),
          /** @default 1e-5 */
          delta: z.number().positive().max(0.01).optional(),
          /** L2 norm every example's feature vector is clipped to (split evenly across parties). @default 3 */
          clip: z.number().positive().max(1000).optional(),
        })
        .optional(),
    })
    .optional(),
  evaluation: z
    .strictObject({
      /** Hosts send partial scores of validation rows to the guest at the end, so it can compute metrics. @default true */
      shareValidationScores: z.boolean().optional(),
    })
    .optional(),
  /** Lookalike jobs only: the guest's seeds are expanded into the host's pool. */
  lookalike: z
    .strictObject({
      /** Random non-seed pool rows (label 0) drawn per seed (label 1) for training. @default 1 */
      decoyRatio: z.number().positive().max(100).optional(),
      /** The audience the host writes on its side: the top percent of its pool. @default 5 */
      audiencePercent: z.number().gt(0).max(100).optional(),
    })
    .optional(),
  /** Seed for every shared random choice (split, batch order). @default 42 */
  seed: z.union([z.number().int(), z.string().min(1)]).optional(),
});

export type JobSpecInput = z.infer<typeof jobSpecSchema>;

/** The `model:` block of a logistic-regression job (models/lr). */
export const lrModelSchema = z.strictObject({
  family: z.literal('lr').optional(),
  /** Chebyshev expansion of the sigmoid around the guest's logit. */
  link: z
    .strictObject({
      degree: z.number().int().min(1).max(16).optional(),
      clip: z.number().positive().max(64).optional(),
    })
    .optional(),
  /**
   * Each party decorrelates its own standardised columns before training
   * (protocol/training/decorrelate.ts): far fewer epochs on correlated data.
   * @default true for cold-start, false otherwise
   */
  decorrelate: z.boolean().optional(),
  /**
   * Each party cuts its numeric columns into this many quantile bins (fitted
   * on its training rows) and one-hot encodes them, instead of
   * standardising: a non-linear feature map with no protocol change.
   * @default none (standardised)
   */
  bins: z.number().int().min(2).max(64).optional(),
});

/** The LR options of a spec's model block (defaults when another family trains). */
export function lrModel(input: Pick<JobSpecInput, 'model'>): z.infer<typeof lrModelSchema> {
  const parsed = lrModelSchema.safeParse(input.model ?? {});
  return parsed.success ? parsed.data : {};
}

export type PartySpec = { readonly name: string; readonly role: 'guest' | 'host'; readonly dataset: string };

/** A validated job spec with every default filled in. */
export type JobSpec = {
  readonly name: string;
  readonly kind: 'hetero-lr' | 'lookalike' | 'reach' | 'cold-start';
  readonly lookalike: { readonly decoyRatio: number; readonly audiencePercent: number };
  readonly parties: readonly PartySpec[];
  readonly guest: PartySpec;
  readonly hosts: readonly PartySpec[];
  readonly alignmentMode: 'intersection';
  /** How ids are matched (job spec `alignment.psi`). */
  readonly alignmentPsi: 'ecdh' | 'coordinator' | 'oprf';
  /** `alignment.oprf`: the least bucket count (undefined: from the set sizes) and worker threads per party. */
  readonly alignmentOprf: { readonly buckets: number | undefined; readonly workers: number };
  readonly validationFraction: number;
  readonly stratified: boolean;
  /** The model family that trains it (`model.family`). */
  readonly family: string;
  /** The whole `model:` block, for the family to read its options from (validated by its schema at submission). */
  readonly model: Readonly<Record<string, unknown>>;
  readonly training: TrainingPlan;
  /** Parties train on their own decorrelated columns (weights are mapped back before saving). */
  readonly decorrelate: boolean;
  readonly ckks: CkksParams;
  readonly noiseFloodingBits: number;
  readonly dp: DpOptions | undefined;
  readonly shareValidationScores: boolean;
  readonly seed: string;
  /** The job whose model parts seed this one's weights and preprocessing. */
  readonly warmStartJob: string | undefined;
};

/** Cross-field rules the schema cannot express; returns [field, problem, fix] or undefined. */
export function jobSpecProblem(input: JobSpecInput): readonly [string, string, string] | undefined {
  const guests = input.parties.filter((p) => p.role === 'guest');
  if (guests.length !== 1)
    return [
      'parties',
      `has ${guests.length} guests`,
      'name exactly one party with role: guest (the one holding the labels)',
    ];
  const names = new Set<string>();
  for (const [k, p] of input.parties.entries()) {
    if (names.has(p.name)) return [`parties[${k}].name`, `"${p.name}" appears twice`, 'list each party once'];
    names.add(p.name);
  }
  if (input.parties.some((p) => p.name === 'coordinator'))
    return ['parties', '"coordinator" is reserved', 'rename the party'];
  if (input.kind === 'cold-start') {
    // One-vs-rest runs one training per class; the DP accountant and warm start know one training per job.
    if (input.privacy?.dp !== undefined)
      return [
        'privacy.dp',
        'is not supported for cold-start jobs yet (one training per class would spend the budget once per class)',
        'remove privacy.dp, or train a binary model with kind: hetero-lr',
      ];
    if (input.training?.warmStart !== undefined)
      return ['training.warmStart', 'is not supported for cold-start jobs yet', 'remove training.warmStart'];
  }
  if (input.kind !== 'hetero-lr' && input.kind !== 'cold-start' && input.parties.length !== 2)
    return [
      'parties',
      `a ${input.kind} job has one guest and one host, not ${input.parties.length} parties`,
      'name exactly one host',
    ];
  if (input.alignment?.oprf !== undefined && input.alignment.psi !== 'oprf')
    return [
      'alignment.oprf',
      `applies only to psi: oprf, not ${input.alignment.psi ?? 'ecdh'}`,
      'remove it, or set alignment.psi: oprf',
    ];
  if (input.kind === 'reach' && input.alignment?.psi === 'oprf') {
    return [
      'alignment.psi',
      "is oprf, which cannot count a reach without telling the guest which of its ids matched (an OPRF receiver computes its own ids' values)",
      'use psi: ecdh (size-only PSI, nothing rests on the coordinator) or psi: coordinator (faster, trusts the coordinator not to collude)',
    ];
  }
  if (input.kind !== 'lookalike' && input.lookalike !== undefined)
    return ['lookalike', `applies only to kind: lookalike, not ${input.kind}`, 'remove it, or set kind: lookalike'];
  try {
    compileCkksParams(input.privacy?.ckks ?? {});
  } catch (error) {
    return [
      'privacy.ckks',
      (error as Error).message,
      'use the defaults (omit privacy.ckks) or a 128-bit-secure parameter set',
    ];
  }
  return undefined;
}

/**
 * Lookalike stops after 4 epochs of less than 0.01 % improvement, not 2: on
 * the selected rows Adam's loss rises for an epoch or two around the 10th,
 * and two such epochs stopped training there, short of the optimum. On
 * default-credit (100 seeded selections and splits, plaintext twin,
 * recall@top-20 % against exact Newton on the same rows) the worst gap went
 * from −0.0106 to −0.0060 and the mean from −0.0012 to −0.0002, at ~24
 * epochs instead of 10.
 */
const LOOKALIKE_PATIENCE = 4;

/**
 * Training defaults for decorrelated columns (cold start): Adam at step 0.2,
 * full batches, up to 60 epochs, stopping when the loss improves by less
 * than 0.1 % twice in a row. On vehicle (9 random 80/20 splits, plaintext
 * twin) this lands 0.008 below the centralised multinomial fit on average
 * (worst split −0.036) after ~40 epochs per class; Adam at its usual 0.05
 * on raw columns is 0.049 below after 60 (README "Cold start"). The
 * hetero-LR tolerance (0.01 %) sat exactly on one class's improvement there,
 * so whether that class stopped at 22 or 41 epochs was down to CKKS noise.
 * Only fills what the spec leaves out.
 */
function trainingFor(input: JobSpecInput, decorrelate: boolean): NonNullable<JobSpecInput['training']> {
  const given =
    input.kind === 'lookalike' ? { patience: LOOKALIKE_PATIENCE, ...input.training } : (input.training ?? {});
  if (!decorrelate) return given;
  return {
    maxEpochs: 60,
    tolerance: 1e-3,
    ...given,
    optimizer: { learningRate: given.optimizer?.type === 'sgd' ? undefined : 0.2, ...given.optimizer },
  };
}

export function compileJobSpec(input: JobSpecInput): JobSpec {
  const lr = lrModel(input);
  const decorrelate = lr.decorrelate ?? input.kind === 'cold-start';
  const guest = input.parties.find((p) => p.role === 'guest') as PartySpec;
  const spec: JobSpec = {
    name: input.name,
    kind: input.kind,
    lookalike: { decoyRatio: input.lookalike?.decoyRatio ?? 1, audiencePercent: input.lookalike?.audiencePercent ?? 5 },
    parties: input.parties,
    guest,
    hosts: input.parties.filter((p) => p.role === 'host'),
    alignmentMode: input.alignment?.mode ?? 'intersection',
    alignmentPsi: input.alignment?.psi ?? 'ecdh',
    alignmentOprf: { buckets: input.alignment?.oprf?.buckets, workers: input.alignment?.oprf?.workers ?? 1 },
    validationFraction: input.validation?.fraction ?? 0.2,
    stratified: input.validation?.stratified ?? true,
    family: input.model?.family ?? 'lr',
    model: Object.freeze({ ...input.model }),
    training: compileTraining({
      ...trainingFor(input, decorrelate),
      ...(lr.link === undefined ? {} : { link: lr.link }),
    }),
    decorrelate,
    ckks: compileCkksParams(input.privacy?.ckks ?? {}),
    noiseFloodingBits: input.privacy?.noiseFloodingBits ?? 20,
    dp:
      input.privacy?.dp === undefined
        ? undefined
        : {
            epsilon: input.privacy.dp.epsilon,
            delta: input.privacy.dp.delta ?? 1e-5,
            clip: input.privacy.dp.clip ?? 3,
          },
    shareValidationScores: input.evaluation?.shareValidationScores ?? true,
    seed: String(input.seed ?? 42),
    warmStartJob: input.training?.warmStart?.job,
  };
  return Object.freeze(spec);
}
