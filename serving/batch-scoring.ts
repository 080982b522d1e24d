/**
 * Lookalike scoring at a host: stream a pool file (CSV, optionally gzipped),
 * score every row with the host's part of the model, rank by score and write
 * the audience (`rank,id,score`, best first). Rows are never all held as
 * features: only each row's id and score are kept for the ranking.
 * `loadAudience` reads the result back for membership tests.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { DataError, TandemError } from '../protocol/errors.ts';
import { openCsv, type CsvRow } from '../data/csv-reader.ts';
import type { PreprocessSpec } from '../data/preprocess.ts';
import type { ServingModel } from './model-bundle.ts';
import { rankDescending } from './rank.ts';
import { csvRowScorer } from './scorer.ts';

/** How a model family scores a pool's CSV records: one score per row (LR: `csvRowScorer`; trees: serving/trees-scoring.ts). */
export type PoolScorer = {
  /** The input columns the pool file must have. */
  readonly preprocess: Pick<PreprocessSpec, 'columns'>;
  rowScorer(header: readonly string[], file: string): (fields: readonly string[], line: number) => number;
};

export type PoolScoringOptions = {
  /** A binary LR model's part (`outputs` 1 or absent), or any family's pool scorer. */
  readonly model:
    | (Pick<ServingModel, 'preprocess' | 'weights' | 'intercept' | 'rowClip'> & Partial<Pick<ServingModel, 'outputs'>>)
    | PoolScorer;
  readonly poolFile: string;
  readonly outFile: string;
  /** The id column of the pool file. @default 'id' */
  readonly idColumn?: string | undefined;
  /** @default ',' */
  readonly delimiter?: string | undefined;
  /** Write only the best `top` rows. @default every row */
  readonly top?: number | undefined;
  readonly onProgress?: ((rows: number) => void) | undefined;
};

export type PoolScoringResult = {
  readonly rows: number;
  readonly written: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
};

/** Scores a pool file and writes the ranked audience. @throws DataError naming the file, line and column of a bad value. */
export async function scorePool(options: PoolScoringOptions): Promise<PoolScoringResult> {
  const started = performance.now();
  const model = options.model;
  const scorer: PoolScorer =
    'rowScorer' in model
      ? model
      : { preprocess: model.preprocess, rowScorer: (header, file) => csvRowScorer(model, header, file) };
  if (!('rowScorer' in model) && (model.outputs ?? 1) > 1) {
    // A ranked audience needs one score per user; a K-class part has K partial logits and, at a host, no class labels to pick one by.
    throw new TandemError(
      'ARGUMENT_INVALID',
      `the model is a ${'outputs' in model ? (model.outputs ?? 1) : 1}-class (cold-start) model: score-pool ranks a lookalike audience by one binary score. Fix: score a lookalike (or other binary) job's model; serve a multi-class model with \`tandem serve\` for online scoring`,
    );
  }
  const idColumn = options.idColumn ?? 'id';
  // 1 MiB reads: a million-row pool is a few hundred chunks instead of a few thousand.
  const csv = await openCsv(options.poolFile, {
    delimiter: options.delimiter ?? ',',
    pathField: '--pool',
    chunkBytes: 1 << 20,
  });
  const ids = new IdColumn();
  let scores = new Float64Array(1 << 16);
  try {
    const idAt = csv.header.indexOf(idColumn);
    if (idAt < 0)
      throw new DataError('DATA_COLUMN_MISSING', {
        file: csv.file,
        column: idColumn,
        problem: 'the pool file has no such id column',
        fix: `name its id column with --id (it has: ${csv.header.slice(0, 8).join(', ')})`,
      });
    const missing = scorer.preprocess.columns.filter((c) => !csv.header.includes(c.name)).map((c) => c.name);
    if (missing.length > 0)
      throw new DataError('DATA_COLUMN_MISSING', {
        file: csv.file,
        column: missing[0] ?? '',
        problem: `the model needs ${missing.length} column(s) the pool file lacks`,
        fix: 'score a file with the columns the model was trained on',
      });
    const score = scorer.rowScorer(csv.header, csv.file);
    // A chunk's rows at a time: a promise per row would cost about as much as scoring it.
    for await (const batch of csv.batches()) {
      const n = ids.length;
      if (n + batch.length > scores.length) {
        const grown = new Float64Array(Math.max(2 * scores.length, n + batch.length));
        grown.set(scores);
        scores = grown;
      }
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i] as CsvRow;
        scores[n + i] = score(row.fields, row.line);
      }
      ids.append(batch, idAt);
      if (options.onProgress !== undefined && Math.floor((n + batch.length) / 100_000) > Math.floor(n / 100_000))
        options.onProgress(Math.floor((n + batch.length) / 100_000) * 100_000);
    }
  } finally {
    await csv.close();
  }
  const n = ids.length;
  const order = rankDescending(scores.subarray(0, n));
  const written = Math.min(n, options.top ?? n);
  // Large writes: with the default 16 KiB buffer every batch of lines waited for a drain.
  const out = createWriteStream(options.outFile, { highWaterMark: 1 << 20 });
  const parts: string[] = ['rank,id,score\n'];
  for (let r = 0; r < written; r++) {
    const k = order[r] ?? 0;
    parts.push(`${r + 1},${csvField(ids.at(k))},${scores[k] ?? 0}\n`);
    if (parts.length >= 16_384) {
      if (!out.write(parts.join(''))) await once(out, 'drain');
      parts.length = 0;
    }
  }
  out.end(parts.join(''));
  await once(out, 'finish');
  const seconds = (performance.now() - started) / 1000;
  return { rows: n, written, seconds, rowsPerSecond: n / seconds };
}

/**
 * The ids of the scored rows, one string per chunk read and each id's offset
 * in it. Held as a million small strings, every young-generation collection
 * copied them until they were promoted: about a fifth of the time.
 */
class IdColumn {
  #length = 0;
  readonly #texts: string[] = [];
  /** Per chunk: where its ids start and end in its text (n + 1 offsets). */
  readonly #offsets: Uint32Array[] = [];
  /** Per chunk: its first row. */
  readonly #firsts: number[] = [];
  #chunkOf = new Uint32Array(1 << 16);

  get length(): number {
    return this.#length;
  }

  append(rows: readonly CsvRow[], idAt: number): void {
    const offsets = new Uint32Array(rows.length + 1);
    const parts: string[] = [];
    let at = 0;
    for (let i = 0; i < rows.length; i++) {
      const id = (rows[i] as CsvRow).fields[idAt] ?? '';
      parts.push(id);
      at += id.length;
      offsets[i + 1] = at;
    }
    const chunk = this.#texts.length;
    this.#texts.push(parts.join(''));
    this.#offsets.push(offsets);
    this.#firsts.push(this.#length);
    if (this.#length + rows.length > this.#chunkOf.length) {
      const grown = new Uint32Array(Math.max(2 * this.#chunkOf.length, this.#length + rows.length));
      grown.set(this.#chunkOf);
      this.#chunkOf = grown;
    }
    this.#chunkOf.fill(chunk, this.#length, this.#length + rows.length);
    this.#length += rows.length;
  }

  at(row: number): string {
    const chunk = this.#chunkOf[row] ?? 0;
    const offsets = this.#offsets[chunk] as Uint32Array;
    const i = row - (this.#firsts[chunk] ?? 0);
    return (this.#texts[chunk] ?? '').slice(offsets[i], offsets[i + 1]);
  }
}

const NEEDS_QUOTES = /[",\n\r]/;

function csvField(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export type AudienceEntry = { readonly rank: number; readonly score: number };

/** Reads a ranked audience written by `scorePool`: id → rank and score. */
export async function loadAudience(file: string): Promise<ReadonlyMap<string, AudienceEntry>> {
  const csv = await openCsv(file, { pathField: '--audience' });
  const audience = new Map<string, AudienceEntry>();
  try {
    const [rankAt, idAt, scoreAt] = ['rank', 'id', 'score'].map((c) => csv.header.indexOf(c));
    if (rankAt === undefined || idAt === undefined || scoreAt === undefined || rankAt < 0 || idAt < 0 || scoreAt < 0) {
      throw new DataError('DATA_SCHEMA_MISMATCH', {
        file: csv.file,
        problem: 'is not an audience file (expected columns rank,id,score)',
        fix: 'pass a file written by `tandem model score-pool`',
      });
    }
    for await (const row of csv)
      audience.set(row.fields[idAt] ?? '', { rank: Number(row.fields[rankAt]), score: Number(row.fields[scoreAt]) });
  } finally {
    await csv.close();
  }
  return audience;
}
