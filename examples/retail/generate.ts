/**
 * Seeded retail example data: a partner pool, a brand member base that
 * overlaps part of it, and the brand's seed list (see README.md).
 *
 *   node examples/retail/generate.ts --out tmp/retail --pool 1000000 --members 200000 --seed 7
 *
 * Rows are streamed to disk as they are drawn; what stays in memory is
 * about 40 bytes per person (six traits and an id), never a file's text.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random, seedFrom } from '../../protocol/random.ts';
import {
  BRAND_COLUMNS,
  BRAND_FEATURES,
  MEMBERSHIP_TILT,
  OFF_PLATFORM_BRAND_SHIFT,
  TRAIT_COUNT,
  TRAITS,
  brandRow,
  drawTraits,
  isSeed,
  partnerCells,
  partnerColumns,
  type Category,
} from './world.ts';

export type RetailOptions = {
  /** Directory for partner.csv, brand.csv, seeds.csv and manifest.json (created if missing). */
  readonly outDir: string;
  /** Users in the partner's pool. @default 1_000_000 */
  readonly poolSize?: number | undefined;
  /** Members in the brand's CRM. @default 200_000 */
  readonly members?: number | undefined;
  /** Share of members who are also in the pool. @default 0.6 */
  readonly overlap?: number | undefined;
  /** Partner feature columns (besides the id), four of them categorical. @default 100 */
  readonly partnerFeatures?: number | undefined;
  /** Seed of every draw. @default 7 */
  readonly seed?: number | string | undefined;
  /** Called now and then with rows written so far and in total. */
  readonly onProgress?: ((file: string, rows: number, total: number) => void) | undefined;
};

/** What was written: parameters, files, counts and the column lists a party config needs. */
export type RetailManifest = {
  readonly format: 'tandem-retail-example/1';
  readonly parameters: {
    readonly poolSize: number;
    readonly members: number;
    readonly overlap: number;
    readonly partnerFeatures: number;
    readonly seed: string;
  };
  /** File names, relative to the output directory. */
  readonly files: { readonly partner: string; readonly brand: string; readonly seeds: string };
  readonly counts: {
    readonly pool: number;
    readonly members: number;
    readonly membersInPool: number;
    readonly seeds: number;
    readonly seedsInPool: number;
    readonly purchased: number;
    readonly categories: Readonly<Record<Category, number>>;
  };
  /** Feature columns as a node config lists them (`datasets.<name>.features`). */
  readonly columns: {
    readonly partner: readonly { readonly name: string; readonly type: 'numeric' | 'categorical' }[];
    readonly brand: readonly { readonly name: string; readonly type: 'numeric' | 'categorical' }[];
  };
};

export const RETAIL_DEFAULTS = {
  poolSize: 1_000_000,
  members: 200_000,
  overlap: 0.6,
  partnerFeatures: 100,
  seed: 7,
} as const;

/** Rows per write: large enough to amortise the stream, small enough to keep memory flat. */
const ROWS_PER_CHUNK = 500;
const PROGRESS_EVERY_ROWS = 50_000;

/** Writes the three CSVs and the manifest; returns the manifest. */
export async function generateRetail(options: RetailOptions): Promise<RetailManifest> {
  const poolSize = options.poolSize ?? RETAIL_DEFAULTS.poolSize;
  const members = options.members ?? RETAIL_DEFAULTS.members;
  const overlap = options.overlap ?? RETAIL_DEFAULTS.overlap;
  const seed = String(options.seed ?? RETAIL_DEFAULTS.seed);
  const membersInPool = Math.round(members * overlap);
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new RangeError(`the pool size must be a positive integer, got ${poolSize}`);
  if (!Number.isInteger(members) || members < 1)
    throw new RangeError(`the member count must be a positive integer, got ${members}`);
  if (!(overlap >= 0 && overlap <= 1)) throw new RangeError(`the overlap must be between 0 and 1, got ${overlap}`);
  if (membersInPool > poolSize)
    throw new RangeError(
      `${membersInPool} members in the pool (members × overlap) do not fit in a pool of ${poolSize}`,
    );
  const stream = (purpose: string): Random => new Random(seedFrom('tandem/examples/retail', seed, purpose));
  const columns = partnerColumns(options.partnerFeatures ?? RETAIL_DEFAULTS.partnerFeatures, stream('columns'));

  // People 0..poolSize−1 are the pool, in file order; the rest are members the platform does not know.
  const people = poolSize + members - membersInPool;
  const traits = new Float32Array(people * TRAIT_COUNT);
  const traitStream = stream('traits');
  for (let p = 0; p < people; p++)
    drawTraits(traitStream, traits, p * TRAIT_COUNT, p < poolSize ? 0 : OFF_PLATFORM_BRAND_SHIFT);
  const ids = opaqueIds(people, stream('ids'));
  const idOf = (p: number): string => `u${hex8(ids[2 * p] ?? 0)}${hex8(ids[2 * p + 1] ?? 0)}`;

  // Which pool users are members: weighted sampling without replacement (Efraimidis–Spirakis), weight exp(tilt · brand affinity).
  const memberStream = stream('membership');
  const keys = new Float64Array(poolSize);
  const brand = TRAITS.indexOf('brandAffinity');
  for (let p = 0; p < poolSize; p++)
    keys[p] =
      Math.log(1 - memberStream.nextFloat()) / Math.exp(MEMBERSHIP_TILT * (traits[p * TRAIT_COUNT + brand] ?? 0));
  const byKey = Uint32Array.from({ length: poolSize }, (_, p) => p).sort(
    (a, b) => (keys[b] ?? 0) - (keys[a] ?? 0) || a - b,
  );
  const memberList = new Uint32Array(members);
  memberList.set(byKey.subarray(0, membersInPool));
  for (let k = membersInPool; k < members; k++) memberList[k] = poolSize + k - membersInPool;
  stream('member-order').shuffle(memberList); // the CRM's order says nothing about who is on the platform

  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const files = {
    partner: join(outDir, 'partner.csv'),
    brand: join(outDir, 'brand.csv'),
    seeds: join(outDir, 'seeds.csv'),
  };
  const progress = options.onProgress ?? (() => undefined);

  const partnerStream = stream('partner');
  await writeRows(
    files.partner,
    ['id', ...columns.map((c) => c.name)],
    poolSize,
    (p) => [idOf(p), ...partnerCells(columns, traits, p * TRAIT_COUNT, partnerStream)],
    progress,
  );

  const brandStream = stream('brand');
  const seeds: number[] = [];
  const categories: Record<Category, number> = { candy: 0, coffee: 0, 'milk-powder': 0 };
  let purchased = 0;
  await writeRows(
    files.brand,
    ['id', ...BRAND_COLUMNS],
    members,
    (k) => {
      const p = memberList[k] ?? 0;
      const row = brandRow(traits, p * TRAIT_COUNT, brandStream);
      categories[row.category]++;
      if (row.purchased) purchased++;
      if (isSeed(row)) seeds.push(p);
      return [idOf(p), ...row.cells];
    },
    progress,
  );
  await writeRows(files.seeds, ['id'], seeds.length, (k) => [idOf(seeds[k] ?? 0)], progress);

  const manifest: RetailManifest = {
    format: 'tandem-retail-example/1',
    parameters: { poolSize, members, overlap, partnerFeatures: columns.length, seed },
    files: { partner: 'partner.csv', brand: 'brand.csv', seeds: 'seeds.csv' },
    counts: {
      pool: poolSize,
      members,
      membersInPool,
      seeds: seeds.length,
      seedsInPool: seeds.filter((p) => p < poolSize).length,
      purchased,
      categories,
    },
    columns: {
      partner: columns.map((c) => ({ name: c.name, type: c.type })),
      brand: BRAND_FEATURES.map((f) => ({ ...f })),
    },
  };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Two random 32-bit words per person: 64-bit ids, so 1M users collide with probability ~3·10⁻⁸. */
function opaqueIds(count: number, random: Random): Uint32Array {
  const words = new Uint32Array(2 * count);
  for (let k = 0; k < words.length; k++) words[k] = random.nextUint32();
  return words;
}

const hex8 = (word: number): string => word.toString(16).padStart(8, '0');

/** Streams `total` CSV rows to `file`, waiting whenever the stream's buffer is full. */
async function writeRows(
  file: string,
  header: readonly string[],
  total: number,
  row: (k: number) => readonly string[],
  progress: (file: string, rows: number, total: number) => void,
): Promise<void> {
  const out: WriteStream = createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  await write(`${header.join(',')}\n`);
  let chunk: string[] = [];
  for (let k = 0; k < total; k++) {
    chunk.push(row(k).join(','));
    if (chunk.length === ROWS_PER_CHUNK || k === total - 1) {
      await write(`${chunk.join('\n')}\n`);
      chunk = [];
    }
    if ((k + 1) % PROGRESS_EVERY_ROWS === 0 || k === total - 1) progress(file, k + 1, total);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}

const USAGE = `Usage: node examples/retail/generate.ts --out <dir> [options]

Writes partner.csv, brand.csv, seeds.csv and manifest.json (see examples/retail/README.md).

  --out <dir>        output directory (created if missing)              [required]
  --pool <n>         users in the partner's pool                        [default ${RETAIL_DEFAULTS.poolSize}]
  --members <n>      members in the brand's CRM                         [default ${RETAIL_DEFAULTS.members}]
  --overlap <f>      share of members who are also in the pool, 0..1    [default ${RETAIL_DEFAULTS.overlap}]
  --features <n>     partner feature columns (4 categorical), 12..112   [default ${RETAIL_DEFAULTS.partnerFeatures}]
  --seed <s>         seed of every draw                                 [default ${RETAIL_DEFAULTS.seed}]
  --help             show this text`;

/** The command line: flags in, files out, progress on stderr. */
async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      pool: { type: 'string' },
      members: { type: 'string' },
      overlap: { type: 'string' },
      features: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.out === undefined) throw new RangeError('--out <dir> is required');
  const number = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text.replaceAll('_', ''));
    if (!Number.isFinite(value)) throw new RangeError(`--${flag} must be a number, got ${JSON.stringify(text)}`);
    return value;
  };
  const started = Date.now();
  const manifest = await generateRetail({
    outDir: values.out,
    poolSize: number('pool', values.pool),
    members: number('members', values.members),
    overlap: number('overlap', values.overlap),
    partnerFeatures: number('features', values.features),
    seed: values.seed,
    onProgress: (file, rows, total) =>
      void process.stderr.write(
        `${basename(file)}: ${rows}/${total} rows (${((100 * rows) / total).toFixed(0)} %), ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      ),
  });
  const c = manifest.counts;
  process.stdout.write(`${JSON.stringify({ dir: resolve(values.out), files: manifest.files, counts: c })}\n`);
  process.stderr.write(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${c.pool} pool users, ${c.members} members (${c.membersInPool} in the pool), ${c.seeds} seeds (${c.seedsInPool} in the pool)\n`,
  );
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exitCode = 2;
  });
}
