/**
 * `tandem data inspect FILE`: the schema Tandem infers for a CSV file (the
 * one `features: all` loads) and a `datasets:` block to paste into a node
 * config, so a new table does not take a run per column to describe. Reads
 * only the file: no config, certificates or coordinator.
 */
import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import type { ColumnSummary } from '../../data/column-profile.ts';
import { datasetsYaml, formatNumber, inspectFile, type Inspection } from '../../data/inspect.ts';
import { TandemError } from '../../protocol/errors.ts';
import { table } from '../render.ts';

type InspectArgs = {
  file: string;
  id: string | undefined;
  label: string | undefined;
  name: string | undefined;
  delimiter: string;
  missing: string[] | undefined;
  'max-rows': number | undefined;
  json: boolean;
};

/** What a column's values look like, in one cell of the table. */
function values(c: ColumnSummary): string {
  const n = c.numbers;
  switch (c.kind) {
    case 'empty':
      return '';
    case 'id':
      return `${c.distinctExact ? '' : 'about '}${c.distinct} distinct`;
    case 'numeric':
      return n === undefined
        ? ''
        : `${formatNumber(n.min)} to ${formatNumber(n.max)}, mean ${formatNumber(n.mean)}${n.integers ? ' (whole numbers)' : ''}`;
    case 'mixed': {
      const text =
        c.texts === undefined
          ? ''
          : `; ${c.texts.count} text (${c.texts.examples.map((e) => JSON.stringify(e)).join(', ')}; line ${c.texts.firstLine})`;
      const inf =
        c.nonFinite === undefined ? '' : `; ${c.nonFinite.count} infinite/NaN (line ${c.nonFinite.firstLine})`;
      return `${n?.count ?? 0} numbers${text}${inf}`;
    }
    default: {
      const shown = c.levels
        .slice(0, 4)
        .map((l) => `${l.value} (${l.count})`)
        .join(', ');
      return c.distinct > 4 ? `${shown}, …` : shown;
    }
  }
}

function kindOf(c: ColumnSummary): string {
  const kind = c.kind === 'id' ? 'id-like' : c.kind === 'mixed' ? 'mixed (numbers + text)' : c.kind;
  return c.mostlyMissing && c.kind !== 'empty' ? `${kind}, mostly missing` : kind;
}

export function renderInspection(inspection: Inspection): string {
  const where = relative(process.cwd(), inspection.file) || inspection.file;
  const read = inspection.truncated ? `the first ${inspection.rows} rows read (--max-rows)` : 'every row read';
  const percent = (k: number): string =>
    inspection.rows === 0 ? '0' : k === 0 ? '0' : `${k} (${((100 * k) / inspection.rows).toFixed(1)} %)`;
  const rows = inspection.columns.map((c) => {
    const role = c.name === inspection.id.column ? ' [id]' : c.name === inspection.label?.column ? ' [label]' : '';
    return [`${c.name}${role}`, kindOf(c), percent(c.missing), `${c.distinctExact ? '' : '~'}${c.distinct}`, values(c)];
  });
  const lines = [
    `${where}: ${inspection.rows} rows, ${inspection.columns.length} columns (${read})`,
    '',
    table(['column', 'kind', 'missing', 'distinct', 'values'], rows),
  ];
  const left = inspection.features.filter((f) => f.leftOut !== undefined);
  if (left.length > 0)
    lines.push('', 'Left out of the suggested features:', ...left.map((f) => `  ${f.name}: ${f.leftOut ?? ''}`));
  lines.push(
    '',
    "A dataset for the node config (paths are absolute here; relative ones start from the config file's directory):",
    '',
    datasetsYaml(inspection),
  );
  return lines.join('\n');
}

export async function runInspect(args: InspectArgs): Promise<void> {
  const maxRows = args['max-rows'];
  if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 1))
    throw new TandemError(
      'ARGUMENT_INVALID',
      `--max-rows ${maxRows}: must be a whole number of rows, at least 1. Fix: omit it to read every row`,
    );
  const inspection = await inspectFile({
    file: args.file,
    delimiter: args.delimiter,
    ...(args.id === undefined ? {} : { id: args.id }),
    ...(args.label === undefined ? {} : { label: args.label }),
    ...(args.name === undefined ? {} : { name: args.name }),
    ...(args.missing === undefined ? {} : { missingTokens: args.missing }),
    ...(maxRows === undefined ? {} : { maxRows }),
  });
  process.stdout.write(
    args.json ? `${JSON.stringify({ ...inspection, yaml: datasetsYaml(inspection) })}\n` : renderInspection(inspection),
  );
}

export const dataCommand: CommandModule<object, object> = {
  command: 'data <command>',
  describe: 'Look at a data file before configuring it',
  builder: (y) =>
    y
      .command<InspectArgs>({
        command: 'inspect <file>',
        describe:
          "Infer each column's type (numeric, categorical, boolean, id-like, constant, mostly missing) and print a datasets: block",
        builder: (b) =>
          b
            .positional('file', {
              type: 'string',
              demandOption: true,
              describe: 'a CSV file, optionally gzipped (.csv.gz)',
            })
            .option('id', {
              type: 'string',
              describe: 'the id column (default: the first id-like column, else row numbers)',
            })
            .option('label', {
              type: 'string',
              describe: 'the label column, if any: its type and values are suggested',
            })
            .option('name', { type: 'string', describe: 'the dataset name in the block (default: from the file name)' })
            .option('delimiter', { type: 'string', default: ',', describe: 'field separator' })
            .option('missing', {
              type: 'string',
              array: true,
              describe: 'cell texts that mean "no value" (repeatable; default: empty, NA, NaN, null)',
            })
            .option('max-rows', {
              type: 'number',
              describe: 'read only the first N rows (default: every row; memory stays bounded either way)',
            })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example(
              '$0 data inspect members.csv --id customer_id --label churned',
              'describe the columns and print a dataset block to paste',
            )
            .example(
              '$0 data inspect /work/shared/data/retail/hillstrom.csv --label visit',
              'no id column: rows are numbered',
            ),
        handler: (args) => runInspect(args),
      })
      .demandCommand(1, 'Name a data command: inspect.'),
  handler: () => undefined,
};
