/**
 * The console's job form: a spec's YAML is checked here with the schema and
 * cross-field rules `tandem job submit` meets at the coordinator
 * (protocol/job-spec.ts through runtime/config-file.ts), so the form shows
 * the same error, field and fix before anything is sent; then this node's
 * own part is checked as `tandem party-check --job` does (its dataset must
 * exist here; whether the data loads is the datasets page's business). The coordinator checks the rest (registered parties, model
 * family) when the spec is submitted, and its errors are shown as they come.
 */
import { ConfigError } from '../protocol/errors.ts';
import { jobSpecProblem, jobSpecSchema, type JobSpecInput } from '../protocol/job-spec.ts';
import { validateConfigText } from '../runtime/config-file.ts';
import type { DatasetConfig } from '../party/config.ts';

/** How the form's spec is named in errors (a job spec travels as text, not as a file). */
export const FORM_SPEC = 'job spec (console form)';

/** What a checked spec says, for the form's confirmation. */
export type CheckedSpec = { readonly name: string; readonly kind: string; readonly parties: readonly { readonly name: string; readonly role: string; readonly dataset: string }[] };

/**
 * Checks a spec as the coordinator will, then this node's part of it.
 * @throws ConfigError JOB_SPEC_INVALID naming the field (and line) and the fix
 */
export function checkJobSpec(specYaml: string, node: string, datasets: Readonly<Record<string, DatasetConfig>>): CheckedSpec {
  const input: JobSpecInput = validateConfigText(specYaml, jobSpecSchema, FORM_SPEC, 'JOB_SPEC_INVALID');
  const problem = jobSpecProblem(input);
  if (problem !== undefined) throw new ConfigError('JOB_SPEC_INVALID', { file: FORM_SPEC, field: problem[0], problem: problem[1], fix: problem[2] });
  const index = input.parties.findIndex((p) => p.name === node);
  const own = input.parties[index];
  if (own !== undefined && datasets[own.dataset] === undefined) {
    const names = Object.keys(datasets);
    throw new ConfigError('JOB_SPEC_INVALID', {
      file: FORM_SPEC, field: `parties[${index}].dataset`, problem: `"${own.dataset}" is not a dataset of ${node} (its config defines ${names.join(', ') || 'none'})`,
      fix: names.length > 0 ? `name one of ${node}'s datasets` : `add a dataset to ${node}'s node config`,
    });
  }
  return { name: input.name, kind: input.kind, parties: input.parties.map((p) => ({ name: p.name, role: p.role, dataset: p.dataset })) };
}
