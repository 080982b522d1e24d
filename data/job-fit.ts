/**
 * What a job kind needs from the dataset a party brings to it, in one table,
 * so `party-check --job` and the job itself can ask the same question and
 * give the same answer. `party-check` used to ask every guest for a binary
 * label: it refused a lookalike seed list (ids only, no label) and a 3-class
 * cold-start label, both of which the jobs run.
 *
 * Two stages: `configProblem` needs only the node config; `dataProblem`
 * needs the loaded rows (how many classes the label really has).
 */
import type { JobSpecInput } from '../protocol/job-spec.ts';
import type { DatasetConfig, LabelConfig } from '../party/config.ts';
import type { Dataset } from './dataset.ts';

export type JobKindName = JobSpecInput['kind'];
export type Role = 'guest' | 'host';

type Needs = {
  /** Label types the guest may bring; undefined: the guest needs no label (one it has is ignored). */
  readonly guestLabels: readonly LabelConfig['type'][] | undefined;
  /** Classes a multiclass label may have. */
  readonly classes: { readonly min: number; readonly max: number };
  /** Whether a host must bring features (a host of a training job with `features: none` adds nothing). */
  readonly hostFeatures: boolean;
  /** What the kind predicts, for messages. */
  readonly predicts: string;
};

/** Most classes a cold-start job trains (one encrypted one-vs-rest model each): jobs/supervised/outputs.ts MAX_CLASSES (a test keeps them equal). */
export const MAX_COLD_START_CLASSES = 32;
/** Fewest training rows a class of a multi-class label may have: jobs/supervised/outputs.ts MIN_CLASS_TRAINING_ROWS (a test keeps them equal). */
export const MIN_CLASS_ROWS = 5;

/** Per kind. A continuous label trains a regression in hetero-lr (models/lr/regression.ts), not under privacy.dp. */
export const DATASET_NEEDS: Readonly<Record<JobKindName, Needs>> = {
  'hetero-lr': {
    guestLabels: ['binary', 'multiclass', 'continuous'],
    classes: { min: 2, max: 2 },
    hostFeatures: true,
    predicts: 'a binary label, or a number (continuous)',
  },
  'cold-start': {
    guestLabels: ['binary', 'multiclass'],
    classes: { min: 2, max: MAX_COLD_START_CLASSES },
    hostFeatures: true,
    predicts: 'a segment (a binary or multi-class label)',
  },
  lookalike: {
    guestLabels: undefined,
    classes: { min: 2, max: 2 },
    hostFeatures: true,
    predicts: 'which pool users look like the seeds',
  },
  reach: {
    guestLabels: undefined,
    classes: { min: 2, max: 2 },
    hostFeatures: false,
    predicts: 'nothing (it counts the overlap)',
  },
};

/** A problem with a dataset for its role, pointing at the config field to change. */
export type FitProblem = { readonly field: string; readonly problem: string; readonly fix: string };

/** What of the job spec decides what a dataset must be. */
export type JobShape = { readonly kind: JobKindName; /** `privacy.dp` is set. */ readonly dp: boolean };

/**
 * Checks a dataset's config for a role in a job.
 * @param node - this node's name, for messages.
 */
export function configProblem(job: JobShape, role: Role, node: string, dataset: DatasetConfig): FitProblem | undefined {
  const { kind } = job;
  const needs = DATASET_NEEDS[kind];
  const at = `datasets.${dataset.name}`;
  if (role === 'host') {
    if (needs.hostFeatures && dataset.features === 'none') {
      return {
        field: `${at}.features`,
        problem: `is none, but ${node} is a host of a ${kind} job and the hosts bring the features`,
        fix: `list the feature columns (or write features: all), or use a dataset with features`,
      };
    }
    return undefined;
  }
  const allowed = needs.guestLabels;
  if (allowed === undefined) return undefined;
  const label = dataset.label;
  if (label === undefined) {
    return {
      field: `${at}.label`,
      problem: `is missing, but ${node} is the guest of a ${kind} job and the guest holds the labels`,
      fix: `add label: { column: <the label column> } to ${at}, or make another party the guest`,
    };
  }
  if (!allowed.includes(label.type)) {
    const other = (Object.entries(DATASET_NEEDS) as [JobKindName, Needs][]).find(
      ([, n]) => n.guestLabels?.includes(label.type) === true,
    )?.[0];
    return {
      field: `${at}.label.type`,
      problem: `is ${label.type}, but a ${kind} job predicts ${needs.predicts}`,
      fix:
        other === undefined
          ? `use a ${allowed.join(' or ')} label for this job`
          : `use kind: ${other} for a ${label.type} label, or a ${allowed.join(' or ')} label`,
    };
  }
  if (label.type === 'continuous' && job.dp) {
    return {
      field: `${at}.label.type`,
      problem:
        'is continuous, but the job sets privacy.dp, which bounds each row through a residual in [−1, 1]; a squared loss has no such bound',
      fix: 'remove privacy.dp from the job, or use a binary label',
    };
  }
  return undefined;
}

/**
 * Checks the loaded rows for a role: the classes the guest's label really
 * has, and, for cold start, classes too small to train even if every one of
 * their rows were shared and in the training part (the job checks the
 * shared training rows, which party-check cannot know).
 */
export function dataProblem(
  kind: JobKindName,
  role: Role,
  dataset: DatasetConfig,
  data: Dataset,
): FitProblem | undefined {
  const needs = DATASET_NEEDS[kind];
  if (
    role !== 'guest' ||
    needs.guestLabels === undefined ||
    data.labelClasses === undefined ||
    data.labels === undefined ||
    dataset.label?.type !== 'multiclass'
  )
    return undefined;
  const classes = data.labelClasses;
  const k = classes.length;
  const field = `datasets.${dataset.name}.label`;
  if (k > 2 && k <= needs.classes.max) {
    const counts = new Array<number>(k).fill(0);
    for (const c of data.labels) counts[c] = (counts[c] ?? 0) + 1;
    const small = classes.map((name, c) => ({ name, rows: counts[c] ?? 0 })).filter((c) => c.rows < MIN_CLASS_ROWS);
    if (small.length > 0) {
      return {
        field,
        problem: `has ${small.length} of its ${k} classes with fewer than ${MIN_CLASS_ROWS} rows in the whole file (${small.map((c) => `${JSON.stringify(c.name)}: ${c.rows}`).join(', ')}); a one-vs-rest model per class cannot learn from so few`,
        fix: `merge rare classes into broader ones in the data, or list the classes to keep under ${field}.classes and drop the other rows`,
      };
    }
  }
  if (k < needs.classes.min)
    return {
      field,
      problem: `has ${k} class${k === 1 ? '' : 'es'} (${data.labelClasses.join(', ')}), so there is nothing to tell apart`,
      fix: 'check the label column, or use data with more than one class',
    };
  if (k > needs.classes.max) {
    return needs.classes.max === 2
      ? {
          field,
          problem: `has ${k} classes, but a ${kind} job predicts ${needs.predicts}`,
          fix: `use kind: cold-start to predict one of ${k} classes, or recode the column into two values`,
        }
      : {
          field,
          problem: `has ${k} classes; a ${kind} job trains at most ${needs.classes.max} (one encrypted model per class)`,
          fix: `merge rare classes, or list the ones to keep under ${field}.classes`,
        };
  }
  return undefined;
}
