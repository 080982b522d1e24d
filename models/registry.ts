/**
 * Every model family, by name: the one place a family is registered. A job
 * spec chooses one with `model.family` (default `lr`); the job kinds, the
 * coordinator and the message catalog find it here.
 */
import { JobError } from '../protocol/errors.ts';
import type { ModelFamily } from './family.ts';
import { LR_FAMILY } from './lr/index.ts';
import { TREES_FAMILY } from './trees/index.ts';

export const MODEL_FAMILIES: ReadonlyMap<string, ModelFamily> = new Map(
  [LR_FAMILY, TREES_FAMILY].map((f) => [f.name, f]),
);

export function modelFamily(name: string): ModelFamily {
  const family = MODEL_FAMILIES.get(name);
  if (family === undefined)
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `no model family "${name}" (known: ${[...MODEL_FAMILIES.keys()].join(', ')})`,
    );
  return family;
}
