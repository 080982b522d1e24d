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
import type { JobSpecInput } from '../../protocol/job-spec.ts';
import type { DatasetConfig, LabelConfig } from '../config.ts';
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

/** Most classes a cold-start job trains (one encrypted one-vs-rest model each); jobs/supervised/outputs.ts refuses more. */
export const MAX_COLD_START_CLASSES = 32;

/**
 * Per kind. `continuous` labels load (Dataset.targets) but no kind trains
 * them yet: add it to hetero-lr's `guestLabels` when linear regression lands
 * (issue #19 item 4).
 */
export const DATASET_NEEDS: Readonly<Record<JobKindName, Needs>> = {
  'hetero-lr': { guestLabels: ['binary', 'multiclass'], classes: { min: 2, max: 2 }, hostFeatures: true, predicts: 'a binary label' },
  'cold-start': { guestLabels: ['binary', 'multiclass'], classes: { min: 2, max: MAX_COLD_START_CLASSES }, hostFeatures: true, predicts: 'a segment (a binary or multi-class label)' },
  lookalike: { guestLabels: undefined, classes: { min: 2, max: 2 }, hostFeatures: true, predicts: 'which pool users look like the seeds' },
  reach: { guestLabels: undefined, classes: { min: 2, max: 2 }, hostFeatures: false, predicts: 'nothing (it counts the overlap)' },
};

/** A problem with a dataset for its role, pointing at the config field to change. */
export type FitProblem = { readonly field: string; readonly problem: string; readonly fix: string };

/**
 * Checks a dataset's config for a role in a job of `kind`.
 * @param node - this node's name, for messages.
 */
export function configProblem(kind: JobKindName, role: Role, node: string, dataset: DatasetConfig): FitProblem | undefined {
  const needs = DATASET_NEEDS[kind];
  const at = `datasets.${dataset.name}`;
  if (role === 'host') {
    if (needs.hostFeatures && dataset.features === 'none') {
      return { field: `${at}.features`, problem: `is none, but ${node} is a host of a ${kind} job and the hosts bring the features`, fix: `list the feature columns (or write features: all), or use a dataset with features` };
    }
    return undefined;
  }
  const allowed = needs.guestLabels;
  if (allowed === undefined) return undefined;
  const label = dataset.label;
  if (label === undefined) {
    return { field: `${at}.label`, problem: `is missing, but ${node} is the guest of a ${kind} job and the guest holds the labels`, fix: `add label: { column: <the label column> } to ${at}, or make another party the guest` };
  }
  if (!allowed.includes(label.type)) {
    const other = (Object.entries(DATASET_NEEDS) as [JobKindName, Needs][]).find(([, n]) => n.guestLabels?.includes(label.type) === true)?.[0];
    return {
      field: `${at}.label.type`,
      problem: `is ${label.type}, but a ${kind} job predicts ${needs.predicts}${label.type === 'continuous' ? '; no job kind trains a continuous label yet' : ''}`,
      fix: other === undefined ? `use a ${allowed.join(' or ')} label for this job` : `use kind: ${other} for a ${label.type} label, or a ${allowed.join(' or ')} label`,
    };
  }
  return undefined;
}

/** Checks the loaded rows for a role: the number of classes the guest's label really has. */
export function dataProblem(kind: JobKindName, role: Role, dataset: DatasetConfig, data: Dataset): FitProblem | undefined {
  const needs = DATASET_NEEDS[kind];
  if (role !== 'guest' || needs.guestLabels === undefined || data.labelClasses === undefined || dataset.label?.type !== 'multiclass') return undefined;
  const k = data.labelClasses.length;
  const field = `datasets.${dataset.name}.label`;
  if (k < needs.classes.min) return { field, problem: `has ${k} class${k === 1 ? '' : 'es'} (${data.labelClasses.join(', ')}), so there is nothing to tell apart`, fix: 'check the label column, or use data with more than one class' };
  if (k > needs.classes.max) {
    return needs.classes.max === 2
      ? { field, problem: `has ${k} classes, but a ${kind} job predicts ${needs.predicts}`, fix: `use kind: cold-start to predict one of ${k} classes, or recode the column into two values` }
      : { field, problem: `has ${k} classes; a ${kind} job trains at most ${needs.classes.max} (one encrypted model per class)`, fix: `merge rare classes, or list the ones to keep under ${field}.classes` };
  }
  return undefined;
}
