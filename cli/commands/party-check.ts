/**
 * `tandem party-check`: load and validate a party's datasets before joining a
 * job, exactly as a job would load them, and print what was found. With
 * `--job`, also validate the job spec and check that this node's part of it
 * is what that kind of job needs (data/job-fit.ts: a label of the
 * right type for a supervised guest, none for a lookalike seed list,
 * features for a host). Needs no certificates and no coordinator, and
 * writes nothing.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadPartyConfig, type DatasetConfig, type PartyConfig } from '../../party/config.ts';
import { describeInference, loadDataset, type Dataset, type InferredFeatures } from '../../data/dataset.ts';
import { configProblem, dataProblem } from '../../data/job-fit.ts';
import { asTandemError, ConfigError, DataError, TandemError } from '../../protocol/errors.ts';
import type { JobSpecInput, PartySpec } from '../../protocol/job-spec.ts';
import { validateJobSpecText } from '../../jobs/spec.ts';
import { reportFailure } from '../exit.ts';
import { table } from '../render.ts';

/** What a dataset turned out to hold. */
export type DatasetReport = {
  readonly name: string;
  readonly file: string;
  readonly rows: number;
  /** `column "id"` or `row numbers`. */
  readonly ids: string;
  readonly droppedDuplicates: number;
  readonly numericColumns: number;
  readonly categoricalColumns: number;
  /** Feature cells that are empty or a missing token (imputed per `missing.policy`). */
  readonly missingCells: number;
  /** Rows per label value, in class order; undefined without a label or for a continuous one. */
  readonly labels: readonly { readonly value: string; readonly rows: number }[] | undefined;
  /** A continuous label's range and mean. */
  readonly target: { readonly min: number; readonly max: number; readonly mean: number } | undefined;
  /** With `features: all`: the type each column was given. */
  readonly inferred: InferredFeatures | undefined;
};

/** This node's part in a job spec. */
export type JobPart = {
  readonly jobName: string;
  readonly kind: JobSpecInput['kind'];
  readonly file: string;
  readonly party: PartySpec;
};

export type PartyCheckResult = {
  readonly config: PartyConfig;
  readonly job: JobPart | undefined;
  readonly reports: readonly DatasetReport[];
  /** Datasets that failed to load, in config order. */
  readonly failures: readonly { readonly name: string; readonly error: TandemError }[];
};

export type PartyCheckOptions = {
  /** The party node's YAML config. */
  readonly config: string;
  /** Only these datasets. @default every dataset in the config (or the job's, with `job`) */
  readonly datasets?: readonly string[];
  /** A job spec to check this node's part of. */
  readonly job?: string;
};

/**
 * Loads every selected dataset as a job would.
 * @throws ConfigError for a bad party config or job spec, TandemError ARGUMENT_INVALID for an unknown dataset name.
 * Dataset problems do not throw: they are returned in `failures`, so every dataset gets checked.
 */
export async function checkParty(options: PartyCheckOptions): Promise<PartyCheckResult> {
  const config = await loadPartyConfig(options.config);
  const defined = Object.keys(config.datasets);
  if (defined.length === 0) {
    throw new ConfigError('CONFIG_INVALID', {
      file: options.config,
      field: 'datasets',
      problem: 'defines no datasets, so there is nothing to check',
      fix: 'add one under datasets: with file, id and features (see examples/default-credit/brand.yaml)',
    });
  }
  const job = options.job === undefined ? undefined : await jobPart(options.job, config, options.config);
  const names =
    job !== undefined
      ? [job.party.dataset]
      : options.datasets !== undefined && options.datasets.length > 0
        ? [...new Set(options.datasets)]
        : defined;
  for (const name of names) {
    if (config.datasets[name] === undefined) {
      throw new TandemError(
        'ARGUMENT_INVALID',
        `--dataset ${JSON.stringify(name)}: ${options.config} has no such dataset. Fix: use one of: ${defined.join(', ')}`,
      );
    }
  }
  const reports: DatasetReport[] = [];
  const failures: { name: string; error: TandemError }[] = [];
  for (const name of names) {
    const dataset = config.datasets[name] as DatasetConfig;
    try {
      const data = await loadDataset(dataset);
      // Only what the job itself refuses: the label's classes, once the rows are read.
      const misfit = job === undefined ? undefined : dataProblem(job.kind, job.party.role, dataset, data);
      if (misfit !== undefined)
        throw new DataError('DATA_LABEL_INVALID', {
          file: dataset.file,
          column: dataset.label?.column ?? '',
          problem: `${misfit.field} ${misfit.problem}`,
          fix: misfit.fix,
        });
      reports.push(describeDataset(dataset, data));
    } catch (error) {
      failures.push({ name, error: asTandemError(error) });
    }
  }
  return { config, job, reports, failures };
}

/** Validates a job spec as the coordinator does, then finds this node in it. */
async function jobPart(file: string, config: PartyConfig, configFile: string): Promise<JobPart> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      'CONFIG_NOT_FOUND',
      {
        file,
        field: '',
        problem: errno === 'ENOENT' ? 'does not exist' : `cannot be read (${errno ?? String(error)})`,
        fix: `check the --job path (relative paths start from ${process.cwd()})`,
      },
      { cause: error },
    );
  }
  // As the coordinator validates it at submission, the model family's own block included.
  const input = validateJobSpecText(text, file);
  const node = config.node.name;
  const index = input.parties.findIndex((p) => p.name === node);
  const party = input.parties[index];
  if (party === undefined) {
    throw new ConfigError('JOB_SPEC_INVALID', {
      file,
      field: 'parties',
      problem: `does not name this node "${node}" (it names ${input.parties.map((p) => p.name).join(', ')})`,
      fix: `pass the config of one of those nodes with --config, or add { name: ${node}, role: host, dataset: <name> } to parties`,
    });
  }
  const dataset = config.datasets[party.dataset];
  if (dataset === undefined) {
    throw new ConfigError('JOB_SPEC_INVALID', {
      file,
      field: `parties[${index}].dataset`,
      problem: `"${party.dataset}" is not a dataset of ${node} (${configFile} defines ${Object.keys(config.datasets).join(', ')})`,
      fix: `name one of ${node}'s datasets, or add datasets.${party.dataset} to ${configFile}`,
    });
  }
  // The same table the job reads (data/job-fit.ts): a lookalike seed list needs no label, cold start takes classes.
  const misfit = configProblem({ kind: input.kind, dp: input.privacy?.dp !== undefined }, party.role, node, dataset);
  if (misfit !== undefined)
    throw new ConfigError('CONFIG_INVALID', {
      file: configFile,
      field: misfit.field,
      problem: misfit.problem,
      fix: misfit.fix,
    });
  return { jobName: input.name, kind: input.kind, file, party };
}

function describeDataset(config: DatasetConfig, data: Dataset): DatasetReport {
  let missingCells = 0;
  for (const v of data.features) if (Number.isNaN(v)) missingCells++;
  let labels: DatasetReport['labels'];
  if (data.labels !== undefined && data.labelClasses !== undefined) {
    const counts = new Array<number>(data.labelClasses.length).fill(0);
    for (const c of data.labels) counts[c] = (counts[c] ?? 0) + 1;
    labels = data.labelClasses.map((value, k) => ({ value, rows: counts[k] ?? 0 }));
  }
  let target: DatasetReport['target'];
  if (data.targets !== undefined) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const y of data.targets) {
      min = Math.min(min, y);
      max = Math.max(max, y);
      sum += y;
    }
    target = { min, max, mean: sum / Math.max(1, data.targets.length) };
  }
  return {
    name: config.name,
    file: config.file,
    rows: data.rowCount,
    ids: config.id.kind === 'column' ? `column "${config.id.column}"` : 'row numbers',
    droppedDuplicates: data.droppedDuplicates,
    numericColumns: data.columns.filter((c) => c.kind === 'numeric').length,
    categoricalColumns: data.columns.filter((c) => c.kind === 'categorical').length,
    missingCells,
    labels,
    target,
    inferred: data.inferred,
  };
}

/** The check as a table for a terminal. */
export function renderPartyCheck(result: PartyCheckResult): string {
  const shortPath = (p: string): string => {
    const rel = relative(process.cwd(), p);
    return rel !== '' && rel.length < p.length ? rel : p;
  };
  const percent = (n: number, of: number): string => (of === 0 ? '0%' : `${((100 * n) / of).toFixed(1)}%`);
  const ok = result.reports.map((r) => [
    r.name,
    shortPath(r.file),
    String(r.rows),
    r.droppedDuplicates > 0 ? `${r.ids}, ${r.droppedDuplicates} duplicate(s) dropped` : r.ids,
    [
      r.numericColumns > 0 ? `${r.numericColumns} numeric` : '',
      r.categoricalColumns > 0 ? `${r.categoricalColumns} categorical` : '',
    ]
      .filter((s) => s !== '')
      .join(', '),
    r.missingCells === 0
      ? '0'
      : `${r.missingCells} (${percent(r.missingCells, r.rows * (r.numericColumns + r.categoricalColumns))})`,
    r.target !== undefined
      ? `continuous: ${r.target.min} to ${r.target.max}, mean ${r.target.mean.toPrecision(4)}`
      : r.labels === undefined
        ? '—'
        : r.labels.map((l) => `${l.value}: ${l.rows} (${percent(l.rows, r.rows)})`).join(', '),
    'ok',
  ]);
  const failed = result.failures.map((f) => [
    f.name,
    shortPath(result.config.datasets[f.name]?.file ?? ''),
    '',
    '',
    '',
    '',
    '',
    `FAILED (${f.error.code})`,
  ]);
  // In config order, whether they loaded or not.
  const order = Object.keys(result.config.datasets);
  const rows = [...ok, ...failed].sort((a, b) => order.indexOf(a[0] ?? '') - order.indexOf(b[0] ?? ''));
  const lines = [
    `${result.config.node.name} (${shortPath(result.config.file)}):`,
    '',
    table(['dataset', 'file', 'rows', 'ids', 'features', 'missing cells', 'labels', 'status'], rows),
  ];
  for (const r of result.reports)
    if (r.inferred !== undefined) lines.push('', `${r.name}: ${describeInference(r.inferred)}`);
  const job = result.job;
  if (job !== undefined && result.failures.length === 0) {
    lines.push(
      '',
      `${result.config.node.name} is a ${job.party.role} of job "${job.jobName}" (${shortPath(job.file)}) with dataset "${job.party.dataset}": ready.`,
    );
  } else if (result.failures.length === 0) {
    lines.push('', `${result.reports.length} dataset(s) load cleanly.`);
  } else {
    lines.push(
      '',
      `${result.failures.length} of ${result.failures.length + result.reports.length} dataset(s) failed; the errors follow on stderr.`,
    );
  }
  return lines.join('\n');
}

type PartyCheckArgs = { config: string; dataset: string[] | undefined; job: string | undefined; json: boolean };

/** Runs the check and prints it; failing datasets set the exit code of the first failure. */
export async function runPartyCheck(args: PartyCheckArgs): Promise<void> {
  const result = await checkParty({
    config: args.config,
    ...(args.dataset === undefined ? {} : { datasets: args.dataset }),
    ...(args.job === undefined ? {} : { job: args.job }),
  });
  if (args.json) {
    const failures = result.failures.map((f) => ({ dataset: f.name, code: f.error.code, message: f.error.message }));
    process.stdout.write(
      `${JSON.stringify({ node: result.config.node.name, job: result.job, datasets: result.reports, failures })}\n`,
    );
  } else {
    process.stdout.write(`${renderPartyCheck(result)}\n`);
  }
  for (const [k, f] of result.failures.entries()) {
    const code = reportFailure(f.error);
    if (k === 0) process.exitCode = code;
  }
}

export const partyCheckCommand: CommandModule<object, PartyCheckArgs> = {
  command: 'party-check',
  describe: "Validate a party's datasets (and optionally its part in a job) before joining a job",
  builder: (y) =>
    y
      .option('config', { type: 'string', demandOption: true, describe: "the party node's YAML config" })
      .option('dataset', {
        type: 'string',
        array: true,
        describe: 'check only this dataset (repeatable); default: every dataset in the config',
      })
      .option('job', { type: 'string', describe: "a job spec: validate it and check only this node's dataset for it" })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
      .conflicts('job', 'dataset')
      .example(
        '$0 party-check --config examples/default-credit/brand.yaml',
        'load every dataset of the brand and print rows, ids, features and label balance',
      )
      .example(
        '$0 party-check --config examples/default-credit/brand.yaml --job examples/default-credit/job.yaml',
        "check the brand's part in a job before submitting it",
      ),
  handler: (args) => runPartyCheck(args),
};
