/**
 * Validates a job spec in full, as `job submit` (at the coordinator) and
 * `party-check --job` do: the schema every job shares (protocol/job-spec.ts),
 * the `model:` block against the chosen model family's own schema (so a
 * family's options are checked, with line numbers, without protocol/ knowing
 * the family), and the cross-field rules. Unknown keys are rejected.
 */
import { ConfigError } from '../protocol/errors.ts';
import { jobSpecProblem, jobSpecSchema, type JobSpecInput } from '../protocol/job-spec.ts';
import { validateConfigText } from '../runtime/config-file.ts';
import { MODEL_FAMILIES } from '../models/registry.ts';

/**
 * @param file how to name the spec in errors (its file name)
 * @throws ConfigError JOB_SPEC_INVALID naming the field (and line) and the fix
 */
export function validateJobSpecText(text: string, file: string): JobSpecInput {
  const base = validateConfigText(text, jobSpecSchema, file, 'JOB_SPEC_INVALID');
  const name = base.model?.family ?? 'lr';
  const family = MODEL_FAMILIES.get(name);
  if (family === undefined) {
    throw new ConfigError('JOB_SPEC_INVALID', {
      file,
      field: 'model.family',
      problem: `is "${name}", which is not a model family of this version of tandem`,
      fix: `use one of: ${[...MODEL_FAMILIES.keys()].join(', ')}`,
    });
  }
  const input = validateConfigText(
    text,
    jobSpecSchema.extend({ model: family.modelSchema.optional() }),
    file,
    'JOB_SPEC_INVALID',
  ) as JobSpecInput;
  const problem = jobSpecProblem(input) ?? family.specProblem?.(input);
  if (problem !== undefined)
    throw new ConfigError('JOB_SPEC_INVALID', { file, field: problem[0], problem: problem[1], fix: problem[2] });
  return input;
}
