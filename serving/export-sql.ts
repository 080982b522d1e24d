/**
 * `tandem model export --format sql`: this node's part of a finished job as
 * one SQL query (serving/sql-export.ts), so the party scores its users where
 * they already are (DuckDB, Spark SQL, BigQuery) with the arithmetic of
 * `tandem model score-pool`. The query holds the party's own weights and
 * preprocessing and nothing of any other party, so unlike a bundle it needs
 * no coordinator: nothing leaves the node, and the file is written 0600 (in
 * a 0700 directory when it creates one), as a model is.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import { outputsOf, interceptsOf } from '../models/lr/part.ts';
import { readExportableLrPart } from './export-part.ts';
import { modelSql, quoteIdentifier, SQL_DIALECTS, type SqlDialect } from './sql-export.ts';

export type SqlExportRequest = {
  /** This node's data directory (its model parts) and name. */
  readonly dataDir: string;
  readonly node: string;
  readonly jobId: string;
  /** One of {@link SQL_DIALECTS}. @default 'duckdb' */
  readonly dialect?: string | undefined;
  /** The table, view or (DuckDB) table function the query reads, inserted as written. @default this party's dataset name in the job, quoted */
  readonly table?: string | undefined;
  /** The table's id column. @default 'id' */
  readonly idColumn?: string | undefined;
  /** Where to write the query; undefined: only return it. */
  readonly outFile?: string | undefined;
};

export type SqlExportResult = {
  readonly sql: string;
  readonly file: string | undefined;
  readonly dialect: SqlDialect;
  readonly table: string;
  readonly jobId: string;
  readonly role: 'guest' | 'host';
  /** The query's score columns, after `id`. */
  readonly columns: readonly string[];
};

function isDialect(value: string): value is SqlDialect {
  return (SQL_DIALECTS as readonly string[]).includes(value);
}

/**
 * Renders this node's part of `jobId` as SQL, and writes it when asked.
 * @throws TandemError ARGUMENT_INVALID for an unknown dialect, a lookalike brand's part or a family without a SQL form
 * @throws ConfigError CONFIG_INVALID when the part belongs to another node
 */
export async function exportSql(request: SqlExportRequest): Promise<SqlExportResult> {
  const dialect = request.dialect ?? 'duckdb';
  if (!isDialect(dialect)) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `--dialect ${dialect}: no such SQL dialect. Fix: use one of: ${SQL_DIALECTS.join(', ')}`,
    );
  }
  const part = await readExportableLrPart(request.dataDir, request.jobId, 'sql');
  if (part.party !== request.node) {
    throw new ConfigError('CONFIG_INVALID', {
      file: request.dataDir,
      field: 'party',
      problem: `the model part was trained by ${part.party}, but this node is ${request.node}`,
      fix: 'export with the config of the node that took part in the job',
    });
  }
  const dataset = part.parties.find((p) => p.name === part.party)?.dataset ?? 'pool';
  const table =
    request.table ?? (/^[A-Za-z_][A-Za-z0-9_]*$/.test(dataset) ? dataset : quoteIdentifier(dialect, dataset));
  const outputs = outputsOf(part);
  const query = modelSql(
    {
      preprocess: part.preprocess,
      weights: part.weights,
      intercepts: interceptsOf(part),
      outputs,
      rowClip: part.rowClip,
    },
    { dialect, table, idColumn: request.idColumn },
  );
  const columns = outputs === 1 ? ['partial_logit'] : Array.from({ length: outputs }, (_, c) => `partial_logit_${c}`);
  const about =
    part.role === 'guest'
      ? `${part.party}'s (guest) part, with the intercept: add the hosts' partial logits for the model's logit`
      : part.kind === 'lookalike'
        ? `${part.party}'s (host) part of a lookalike model: rank the pool by partial_logit, best first, for the audience`
        : `${part.party}'s (host) part, without an intercept: the guest adds it and the other parts`;
  const classes =
    part.classes === undefined
      ? []
      : [`-- Outputs in class order: ${part.classes.map((c, k) => `partial_logit_${k} = ${c}`).join(', ')}.`];
  const sql = [`-- Job ${part.jobId} (${part.jobName}), ${about}.`, ...classes, `${query};`, ''].join('\n');
  if (request.outFile !== undefined) {
    await mkdir(dirname(request.outFile), { recursive: true, mode: 0o700 });
    await writeFile(request.outFile, sql, { mode: 0o600 });
    // writeFile keeps the mode of a file that already existed.
    await chmod(request.outFile, 0o600);
  }
  return { sql, file: request.outFile, dialect, table, jobId: part.jobId, role: part.role, columns };
}
