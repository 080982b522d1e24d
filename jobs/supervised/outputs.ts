/**
 * How many outputs a supervised model has: 1 for a binary label, K for a
 * label with K ≥ 3 classes. The guest counts its label's classes and tells
 * the hosts (sealed): they learn K, never the class names.
 */
import { DataError, JobError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { JobChannel } from '../../party/channel.ts';
import { CLASSES } from './messages.ts';

/** Most classes a cold-start job trains (one encrypted training each). */
export const MAX_CLASSES = 32;

/** Fewest training rows a class may have: a one-vs-rest model of fewer learns nothing and its metrics mean nothing. */
export const MIN_CLASS_TRAINING_ROWS = 5;

/**
 * The guest's check, before any training: every class of a multi-class
 * label has at least {@link MIN_CLASS_TRAINING_ROWS} training rows.
 * @throws DataError DATA_LABEL_INVALID naming every class that has fewer, and its count
 */
export function checkClassSizes(
  labels: ArrayLike<number>,
  train: Uint32Array,
  aligned: Uint32Array,
  classes: readonly string[],
  file: string,
  column: string,
): void {
  if (classes.length <= 2) return;
  const counts = new Array<number>(classes.length).fill(0);
  for (const p of train) counts[labels[aligned[p] ?? 0] ?? 0] = (counts[labels[aligned[p] ?? 0] ?? 0] ?? 0) + 1;
  const small = classes
    .map((name, c) => ({ name, rows: counts[c] ?? 0 }))
    .filter((c) => c.rows < MIN_CLASS_TRAINING_ROWS);
  if (small.length === 0) return;
  throw new DataError('DATA_LABEL_INVALID', {
    file,
    column,
    problem: `${small.length} of the label's ${classes.length} classes have fewer than ${MIN_CLASS_TRAINING_ROWS} training rows among the shared rows (${small.map((c) => `${JSON.stringify(c.name)}: ${c.rows}`).join(', ')}); a one-vs-rest model per class cannot learn from so few`,
    fix: 'merge rare classes into broader ones in the data (e.g. grade bands), or list the classes to keep under label.classes and drop the other rows',
  });
}

export async function agreeOutputs(
  channel: JobChannel,
  spec: JobSpec,
  role: 'guest' | 'host',
  labelClasses: readonly string[] | undefined,
): Promise<number> {
  if (spec.kind !== 'cold-start') return 1;
  if (role === 'host') {
    const outputs = (await channel.take(spec.guest.name, CLASSES, 0)).epoch;
    if (!(Number.isInteger(outputs) && outputs >= 1 && outputs <= MAX_CLASSES))
      throw new JobError('JOB_STATE_CONFLICT', `the guest asked for ${outputs} one-vs-rest models (1..${MAX_CLASSES})`);
    return outputs;
  }
  const k = labelClasses?.length ?? 2;
  if (k > MAX_CLASSES) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `the guest's label has ${k} classes; a cold-start job trains at most ${MAX_CLASSES} (one encrypted model each). Fix: merge rare classes, or list the ones to keep under label.classes in the node config`,
      { publicMessage: `the guest's label has more than ${MAX_CLASSES} classes` },
    );
  }
  const outputs = k <= 2 ? 1 : k;
  for (const h of spec.hosts) channel.post(h.name, CLASSES, 0, { action: 'outputs', epoch: outputs });
  return outputs;
}

/**
 * The guest's check that its label varies over the training rows: a binary
 * label of one value (or a constant continuous one) leaves nothing to learn,
 * and its metrics (AUC, R²) are undefined.
 * @throws DataError DATA_LABEL_INVALID naming the file, the column and the value
 */
export function checkLabelVaries(
  labels: ArrayLike<number>,
  train: Uint32Array,
  aligned: Uint32Array,
  describe: (value: number) => string,
  file: string,
  column: string,
): void {
  if (train.length === 0) return;
  const first = labels[aligned[train[0] ?? 0] ?? 0] ?? 0;
  for (const p of train) if ((labels[aligned[p] ?? 0] ?? 0) !== first) return;
  throw new DataError('DATA_LABEL_INVALID', {
    file,
    column,
    problem: `every one of the ${train.length} training rows among the shared rows has the label ${describe(first)}, so there is nothing to learn (and AUC or R² would be undefined)`,
    fix: 'check the label column and its positive/negative values, or use rows where the label varies',
  });
}
