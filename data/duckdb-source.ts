/**
 * Rows from where a data team keeps them, through embedded DuckDB
 * (`@duckdb/node-api`): a Parquet file or folder, a CSV or JSON file read by
 * DuckDB, or any SQL query over them (`source:` in a dataset's config). The
 * result is streamed chunk by chunk (DuckDB's vectors of 2,048 rows) and
 * each value turned into the text a CSV cell would hold, so the dataset
 * loader applies exactly the same typing, missing-value handling, label
 * parsing and bad-input reports as for a CSV file, with the row number
 * standing in for the line. Memory stays at a chunk plus what the loader
 * keeps. Relative paths inside the query resolve against the node config's
 * directory (DuckDB's `file_search_path`).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { DataError } from '../protocol/errors.ts';
import type { CsvRow } from './csv-reader.ts';

export type DuckDbQuery = {
  /** The query whose rows are the dataset. */
  readonly sql: string;
  /** Relative paths in the query start here. */
  readonly searchPath: string;
  /** Names the source in errors (the file, or where the query is configured). */
  readonly name: string;
};

export type DuckDbRows = {
  readonly header: readonly string[];
  readonly rows: AsyncIterable<CsvRow>;
  readonly name: string;
  close(): Promise<void>;
};

/** A DuckDB value as the text of a CSV cell: null is empty (a missing value), numbers at full precision. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Starts the query; the first chunk is fetched when the rows are iterated. @throws DataError DATA_MALFORMED naming the source, with DuckDB's own message */
export async function openDuckDbQuery(query: DuckDbQuery): Promise<DuckDbRows> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const close = (): Promise<void> => {
    connection.closeSync();
    instance.closeSync();
    return Promise.resolve();
  };
  try {
    await connection.run(`SET file_search_path = '${query.searchPath.replaceAll("'", "''")}'`);
    const result = await connection.stream(query.sql);
    const header = result.deduplicatedColumnNames();
    async function* rows(): AsyncGenerator<CsvRow> {
      let line = 1; // the header is line 1, as in a CSV file
      for await (const chunk of result.yieldRowsJson()) {
        for (const values of chunk) yield { line: ++line, fields: values.map(cell) };
      }
    }
    return { header, rows: rows(), name: query.name, close };
  } catch (error) {
    await close();
    const reason = (error as Error).message.split('\n')[0] ?? String(error);
    throw new DataError(
      'DATA_MALFORMED',
      {
        file: query.name,
        problem: `DuckDB could not run the dataset's query: ${reason}`,
        fix: 'check the path and the SQL (run it in the duckdb shell to see the same error)',
      },
      { cause: error },
    );
  }
}

/** The query a `source:` block stands for. */
export function sourceQuery(source: {
  readonly parquet?: string | undefined;
  readonly csv?: string | undefined;
  readonly json?: string | undefined;
  readonly sql?: string | undefined;
}): string {
  const quote = (path: string): string => `'${path.replaceAll("'", "''")}'`;
  if (source.sql !== undefined) return source.sql;
  if (source.parquet !== undefined)
    return `SELECT * FROM read_parquet(${quote(source.parquet.endsWith('/') ? `${source.parquet}*.parquet` : source.parquet)})`;
  if (source.csv !== undefined) return `SELECT * FROM read_csv(${quote(source.csv)}, all_varchar = true)`;
  if (source.json !== undefined) return `SELECT * FROM read_json_auto(${quote(source.json)})`;
  throw new RangeError('a source names none of parquet, csv, json, sql');
}
