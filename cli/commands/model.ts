/** `tandem model export | score-pool`: a party's exported model (a signed bundle, or SQL for a warehouse), and lookalike batch scoring with it. */
import { isAbsolute, join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadPartyConfig } from '../../party/config.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { coordinatorName, exportModel, type CoSigner } from '../../serving/model-bundle.ts';
import { exportTreesModel, loadBundle, poolTreesModel } from '../../serving/trees-bundle.ts';
import { treesPoolScorer } from '../../serving/trees-scoring.ts';
import { SIGNATURE_ALGORITHM } from '../../protocol/serving/model-manifest.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { TandemError } from '../../protocol/errors.ts';
import { scorePool } from '../../serving/batch-scoring.ts';
import { readExportablePart } from '../../serving/export-part.ts';
import { exportSql } from '../../serving/export-sql.ts';
import { SQL_DIALECTS } from '../../serving/sql-export.ts';

const FORMATS = ['bundle', 'sql'] as const;

type ExportArgs = {
  config: string;
  job: string;
  out: string | undefined;
  format: string;
  dialect: string | undefined;
  table: string | undefined;
  id: string | undefined;
  json: boolean;
};
type ScorePoolArgs = {
  config: string;
  model: string;
  pool: string;
  out: string;
  id: string;
  delimiter: string;
  top: number | undefined;
  json: boolean;
};

/**
 * Writes this node's part of a finished job as a model bundle signed by this
 * node and co-signed by the coordinator (over mTLS, with this node's
 * certificate), then loads it back as `tandem serve` would.
 */
export async function runModelExport(args: {
  config: string;
  job: string;
  out?: string | undefined;
}): Promise<{ dir: string; files: readonly string[]; role: string; jobId: string; coordinator: string }> {
  const config = await loadPartyConfig(args.config);
  const identity = await loadNodeIdentity(config.node.certs);
  const read = await readExportablePart(config.node.dataDir, args.job, 'bundle');
  const outDir = args.out ?? join(config.node.dataDir, 'jobs', args.job, 'export');
  const admin = await AdminClient.connect({ config: args.config });
  try {
    const coSign: CoSigner = async (manifest) => {
      const r = await admin.signExport(JSON.stringify(manifest), args.job);
      return {
        name: r.coordinator,
        certificate: r.certificate,
        algorithm: SIGNATURE_ALGORITHM,
        value: Buffer.from(r.signature).toString('base64'),
      };
    };
    const { dir, files, manifest } =
      read.family === 'trees'
        ? await exportTreesModel({ part: read.part, identity, outDir, coSign })
        : await exportModel({ part: read.part, identity, outDir, coSign });
    await loadBundle(dir, { caPem: identity.caPem, party: identity.name, coordinator: coordinatorName(config) });
    return {
      dir,
      files,
      role: manifest.role,
      jobId: manifest.jobId,
      coordinator: manifest.coordinatorSignature?.name ?? '',
    };
  } finally {
    admin.close();
  }
}

/** A path as the user would type it: relative below the current directory, absolute elsewhere. */
function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** The SQL-only flags, refused with a bundle so that a forgotten `--format sql` does not silently write a bundle. */
function checkExportFlags(args: ExportArgs): void {
  if (!(FORMATS as readonly string[]).includes(args.format))
    throw new TandemError(
      'ARGUMENT_INVALID',
      `--format ${args.format}: no such export format. Fix: use one of: ${FORMATS.join(', ')}`,
    );
  const sqlOnly = (['dialect', 'table', 'id'] as const).filter((flag) => args[flag] !== undefined);
  if (args.format !== 'sql' && sqlOnly.length > 0)
    throw new TandemError(
      'ARGUMENT_INVALID',
      `--${sqlOnly[0] ?? ''} applies to --format sql only. Fix: add --format sql, or drop --${sqlOnly[0] ?? ''}`,
    );
}

async function handleExport(args: ExportArgs): Promise<void> {
  checkExportFlags(args);
  if (args.format === 'sql') {
    const config = await loadPartyConfig(args.config);
    const result = await exportSql({
      dataDir: config.node.dataDir,
      node: config.node.name,
      jobId: args.job,
      dialect: args.dialect,
      table: args.table,
      idColumn: args.id,
      outFile: args.out,
    });
    if (result.file === undefined) {
      process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : result.sql);
      return;
    }
    const { sql: _sql, ...facts } = result;
    process.stdout.write(
      args.json
        ? `${JSON.stringify(facts)}\n`
        : `wrote the ${result.role} part of ${result.jobId} as ${result.dialect} SQL to ${shownPath(result.file)}: reads ${result.table}, returns id, ${result.columns.join(', ')}\n`,
    );
    return;
  }
  const result = await runModelExport(args);
  process.stdout.write(
    args.json
      ? `${JSON.stringify(result)}\n`
      : `exported ${result.role} part of ${result.jobId} to ${relative(process.cwd(), result.dir) || '.'} (co-signed by ${result.coordinator}): ${result.files.join(', ')}\n`,
  );
}

export const modelCommand: CommandModule<object, object> = {
  command: 'model <command>',
  describe: 'Export a trained model part, and batch-score a pool with it',
  builder: (y) =>
    y
      .command<ExportArgs>({
        command: 'export',
        describe:
          "Write this node's part of a finished job: a bundle (LR: TF.js LayersModel; trees: trees.json; preprocessing, manifest) signed by this node and co-signed by the coordinator, or (LR only, --format sql) one SQL query that scores a table of users in DuckDB, Spark SQL or BigQuery as `model score-pool` does",
        builder: (b) =>
          b
            .option('config', { type: 'string', demandOption: true, describe: "this party node's YAML config" })
            .option('job', { type: 'string', demandOption: true, describe: 'the job id (see `tandem job list`)' })
            .option('format', { type: 'string', default: 'bundle', describe: `what to write: ${FORMATS.join(' or ')}` })
            .option('dialect', {
              type: 'string',
              describe: `--format sql: ${SQL_DIALECTS.join(', ')} [default: duckdb]`,
            })
            .option('table', {
              type: 'string',
              describe:
                "--format sql: the table or view of users the query reads, as written (DuckDB also takes read_csv('pool.csv', all_varchar = true)) [default: this party's dataset name in the job]",
            })
            .option('id', { type: 'string', describe: "--format sql: the table's id column [default: id]" })
            .option('out', {
              type: 'string',
              describe:
                'bundle: output directory [default: <dataDir>/jobs/<job>/export]; sql: output file, 0600 [default: standard output]',
            })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example(
              '$0 model export --config examples/default-credit/brand.yaml --job job-1a2b3c4d5e --out models/brand',
              'the signed bundle, for `tandem serve` and `model score-pool`',
            )
            .example(
              `$0 model export --config partner.yaml --job job-1a2b3c4d5e --format sql --dialect duckdb --table "read_csv('pool.csv', all_varchar = true)" --out scores.sql`,
              'then: duckdb -csv < scores.sql > scores.csv',
            )
            .example(
              '$0 model export --config partner.yaml --job job-1a2b3c4d5e --format sql --dialect bigquery --table crm.users --id user_id',
              'the query on standard output',
            ),
        handler: handleExport,
      })
      .command<ScorePoolArgs>({
        command: 'score-pool',
        describe:
          "Score every row of a pool file with this party's part (streamed) and write the ranked audience (rank,id,score)",
        builder: (b) =>
          b
            .option('config', {
              type: 'string',
              demandOption: true,
              describe: "this party node's YAML config (its CA verifies the model)",
            })
            .option('model', {
              type: 'string',
              demandOption: true,
              describe: 'a directory written by `tandem model export`',
            })
            .option('pool', {
              type: 'string',
              demandOption: true,
              describe: "CSV (optionally .gz) with an id column and the model's input columns",
            })
            .option('out', { type: 'string', demandOption: true, describe: 'the audience CSV to write' })
            .option('id', { type: 'string', default: 'id', describe: "the pool file's id column" })
            .option('delimiter', { type: 'string', default: ',', describe: 'field separator' })
            .option('top', { type: 'number', describe: 'write only the best N rows [default: all]' })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example(
              '$0 model score-pool --config partner.yaml --model models/partner --pool pool.csv.gz --out audience.csv --top 100000',
              '',
            ),
        handler: async (args) => {
          const config = await loadPartyConfig(args.config);
          const identity = await loadNodeIdentity(config.node.certs);
          const bundle = await loadBundle(args.model, {
            caPem: identity.caPem,
            party: identity.name,
            coordinator: coordinatorName(config),
          });
          const model = bundle.family === 'trees' ? treesPoolScorer(poolTreesModel(bundle.model)) : bundle.model;
          const result = await scorePool({
            model,
            poolFile: args.pool,
            outFile: args.out,
            idColumn: args.id,
            delimiter: args.delimiter,
            top: args.top,
          });
          process.stdout.write(
            args.json
              ? `${JSON.stringify(result)}\n`
              : `scored ${result.rows} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s); wrote the best ${result.written} to ${args.out}\n`,
          );
        },
      })
      .demandCommand(1, 'Name a model command: export or score-pool.'),
  handler: () => undefined,
};
