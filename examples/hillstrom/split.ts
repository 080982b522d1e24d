/**
 * A brand / partner split of the Hillstrom e-mail campaign data
 * (`../shared/data/retail/hillstrom.csv`, 64,000 customers; see README.md
 * for which columns go where and why).
 *
 *   node examples/hillstrom/split.ts [--out tmp/hillstrom] [--sample 4000 --seed 7]
 *
 * The file has no id column, so the row number is the customer: both sides
 * derive the same opaque id from it (a keyed hash, as two companies would
 * hash a shared e-mail address), and the partner's file is in id order, so
 * neither the ids nor the row order give the row number away.
 */
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random, seedFrom } from '../../protocol/random.ts';
import { openCsv } from '../../data/csv-reader.ts';

/**
 * The shared data directory: `$TANDEM_SHARED_DATA` if set, else
 * `../shared/data` next to the repository, else `/work/shared/data` (where
 * the development machines keep it when a clean clone lives elsewhere, as CI's does).
 */
function sharedDataDir(): string {
  const sibling = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data');
  const candidates = [process.env['TANDEM_SHARED_DATA'], sibling, '/work/shared/data'].filter(
    (d): d is string => d !== undefined && d !== '',
  );
  return candidates.find((d) => existsSync(d)) ?? sibling;
}

/** The public data set (see sharedDataDir). */
export const HILLSTROM_CSV = join(sharedDataDir(), 'retail', 'hillstrom.csv');

/** The brand's CRM: what it knows from its own sales and campaign, and the outcomes (labels). */
export const BRAND_COLUMNS = [
  'recency',
  'history_segment',
  'history',
  'newbie',
  'segment',
  'visit',
  'conversion',
  'spend',
] as const;
/** The partner platform: where and how the customer shops, and which departments they buy from. */
export const PARTNER_COLUMNS = ['mens', 'womens', 'zip_code', 'channel'] as const;

/** The opaque id of the customer on 1-based data row `row`: the same at both parties, meaningless elsewhere. */
export function hillstromId(row: number): string {
  return `h${createHmac('sha256', 'tandem/examples/hillstrom/v1').update(String(row)).digest('hex').slice(0, 16)}`;
}

export type HillstromSplitOptions = {
  /** Directory for brand.csv and partner.csv (created if missing). */
  readonly outDir: string;
  /** @default HILLSTROM_CSV */
  readonly source?: string | undefined;
  /** Keep this many rows, drawn uniformly without replacement. @default every row */
  readonly sample?: number | undefined;
  /** Seed of the sample. @default 7 */
  readonly seed?: number | string | undefined;
};

/** Writes `brand.csv` and `partner.csv`; returns their paths and the row count. */
export async function splitHillstrom(
  o: HillstromSplitOptions,
): Promise<{ readonly brand: string; readonly partner: string; readonly rows: number }> {
  const source = o.source ?? HILLSTROM_CSV;
  const csv = await openCsv(source);
  const header = csv.header;
  const rows: string[][] = [];
  try {
    for await (const row of csv) rows.push(row.fields);
  } finally {
    await csv.close();
  }
  const at = (name: string): number => {
    const k = header.indexOf(name);
    if (k < 0)
      throw new RangeError(
        `${source} has no column ${name}; expected the Hillstrom header ${[...BRAND_COLUMNS, ...PARTNER_COLUMNS].join(',')}`,
      );
    return k;
  };
  const brandAt = BRAND_COLUMNS.map(at);
  const partnerAt = PARTNER_COLUMNS.map(at);
  // Data row r (1-based) is rows[r − 1].
  let kept = Uint32Array.from(rows, (_, k) => k + 1);
  if (o.sample !== undefined) {
    if (!Number.isInteger(o.sample) || o.sample < 1 || o.sample > rows.length)
      throw new RangeError(`--sample must be an integer from 1 to ${rows.length}, got ${o.sample}`);
    kept = new Random(seedFrom('tandem/examples/hillstrom', String(o.seed ?? 7)))
      .permutation(rows.length)
      .subarray(0, o.sample)
      .map((k) => k + 1)
      .sort();
  }
  const cells = (row: number, columns: readonly number[]): string =>
    [hillstromId(row), ...columns.map((k) => quote(rows[row - 1]?.[k] ?? ''))].join(',');
  const brandLines = Array.from(kept, (row) => cells(row, brandAt));
  const partnerLines = Array.from(kept, (row) => cells(row, partnerAt)).sort();
  await mkdir(o.outDir, { recursive: true });
  const brand = join(o.outDir, 'brand.csv');
  const partner = join(o.outDir, 'partner.csv');
  await writeFile(brand, `${['id', ...BRAND_COLUMNS].join(',')}\n${brandLines.join('\n')}\n`);
  await writeFile(partner, `${['id', ...PARTNER_COLUMNS].join(',')}\n${partnerLines.join('\n')}\n`);
  return { brand, partner, rows: kept.length };
}

/** A CSV field, quoted when it holds a comma or a quote (history_segment's "$750 - $1,000"). */
function quote(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'tmp/hillstrom' },
      source: { type: 'string' },
      sample: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  splitHillstrom({
    outDir: values.out,
    source: values.source,
    sample: values.sample === undefined ? undefined : Number(values.sample),
    seed: values.seed,
  })
    .then((r) => void process.stdout.write(`wrote ${r.rows} rows: ${r.brand} and ${r.partner}\n`))
    .catch((error: unknown) => {
      process.stderr.write(
        `error: ${error instanceof Error ? error.message : String(error)}\nUsage: node examples/hillstrom/split.ts [--out tmp/hillstrom] [--source hillstrom.csv] [--sample N --seed S]\n`,
      );
      process.exitCode = 2;
    });
}
