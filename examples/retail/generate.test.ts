/**
 * The retail generator: the same seed gives the same bytes, ids are opaque
 * and consistent across files, and the planted structure is there — a
 * centralised model on brand + partner features beats the brand's own on
 * the cold-start label, and seeds stand out in the partner's pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRetail, type RetailManifest } from './generate.ts';
import { CATEGORIES } from './world.ts';
import { loadJobDataset, buildMatrix } from '../../jobs/common/features.ts';
import { joinColumns } from '../pooled-reference.ts';
import {
  DEFAULT_MISSING_TOKENS,
  type DatasetConfig,
  type FeatureConfig,
  type LabelConfig,
} from '../../party/config.ts';
import { fitLogisticNewton, logits } from '../../protocol/training/centralised.ts';
import { auc, multiclassReport } from '../../protocol/evaluation/metrics.ts';
import { fitMultinomialNewton, multinomialProbabilities } from '../../protocol/training/centralised-multinomial.ts';

const SMALL = { poolSize: 3000, members: 2000, overlap: 0.75, partnerFeatures: 40, seed: 7 } as const;
/** Large enough (6,000 joined members) that held-out metrics are not noise. */
const SIGNAL = { poolSize: 10_000, members: 8000, overlap: 0.75, partnerFeatures: 40, seed: 7 } as const;

function dataset(file: string, features: readonly FeatureConfig[] | 'none', label?: LabelConfig): DatasetConfig {
  return {
    name: 'd',
    file,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label,
    features,
    missing: { policy: 'mean', tokens: DEFAULT_MISSING_TOKENS },
    duplicateIds: 'error',
  };
}

/** Held-out accuracy of exact multinomial LR. */
function multinomialAccuracy(
  X: Float64Array,
  columns: number,
  labels: Int32Array,
  train: Uint32Array,
  test: Uint32Array,
  classes: number,
): number {
  const model = fitMultinomialNewton(X, columns, labels, classes, train, { l2: 1e-3 });
  return multiclassReport(
    multinomialProbabilities(model, X, columns, test),
    Int32Array.from(test, (row) => labels[row] ?? 0),
    classes,
  ).accuracy;
}

describe('retail example generator', () => {
  let dir: string;
  let manifest: RetailManifest;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-retail-'));
    manifest = await generateRetail({ ...SMALL, outDir: join(dir, 'a') });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the same bytes for the same seed and different bytes for another', async () => {
    await generateRetail({ ...SMALL, outDir: join(dir, 'b') });
    await generateRetail({ ...SMALL, seed: 8, outDir: join(dir, 'c') });
    for (const file of ['partner.csv', 'brand.csv', 'seeds.csv', 'manifest.json']) {
      const a = await readFile(join(dir, 'a', file));
      expect(a.equals(await readFile(join(dir, 'b', file))), file).toBe(true);
      expect(a.equals(await readFile(join(dir, 'c', file))), file).toBe(false);
    }
  });

  it('uses opaque ids that link the files exactly as the manifest says', async () => {
    const ids = async (file: string) =>
      (await readFile(join(dir, 'a', file), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0] ?? '');
    const pool = await ids('partner.csv');
    const members = await ids('brand.csv');
    const seeds = await ids('seeds.csv');
    expect(pool).toHaveLength(SMALL.poolSize);
    expect(members).toHaveLength(SMALL.members);
    for (const id of [...pool, ...members]) expect(id).toMatch(/^u[0-9a-f]{16}$/);
    const inPool = new Set(pool);
    expect(new Set([...pool, ...members]).size).toBe(SMALL.poolSize + SMALL.members - manifest.counts.membersInPool);
    expect(members.filter((id) => inPool.has(id))).toHaveLength(1500);
    expect(seeds.filter((id) => inPool.has(id))).toHaveLength(manifest.counts.seedsInPool);
    const memberSet = new Set(members);
    expect(seeds.every((id) => memberSet.has(id))).toBe(true);
    // The brand's file order is not the pool's: members in the pool appear in no shared order.
    const positions = members.filter((id) => inPool.has(id)).map((id) => pool.indexOf(id));
    const ascending = positions.filter((p, k) => k > 0 && p > (positions[k - 1] ?? 0)).length / (positions.length - 1);
    expect(Math.abs(ascending - 0.5)).toBeLessThan(0.05);
    expect(Object.values(manifest.counts.categories).reduce((a, b) => a + b, 0)).toBe(SMALL.members);
  });

  it('plants real signal: the partner lifts cold-start accuracy and purchase AUC, and seeds stand out in the pool', async () => {
    const signal = await generateRetail({ ...SIGNAL, outDir: join(dir, 'signal') });
    const partnerConfig = dataset(join(dir, 'signal', 'partner.csv'), signal.columns.partner);
    const partner = await loadJobDataset(partnerConfig);
    const brandConfig = dataset(join(dir, 'signal', 'brand.csv'), signal.columns.brand, {
      column: 'category',
      type: 'multiclass',
      classes: undefined,
    });
    const brand = await loadJobDataset(brandConfig);
    expect(brand.labelClasses).toEqual([...CATEGORIES]);

    // Cold start on the overlap: the first 80 % of joined members (file order is random) train, the rest test.
    const poolRow = new Map(partner.ids.map((id, row) => [id, row]));
    const brandRows = Uint32Array.from(brand.ids.flatMap((id, row) => (poolRow.has(id) ? [row] : [])));
    const partnerRows = Uint32Array.from(brandRows, (row) => poolRow.get(brand.ids[row] ?? '') ?? 0);
    const n = brandRows.length;
    const cut = Math.round(n * 0.8);
    const train = Uint32Array.from({ length: cut }, (_, k) => k);
    const test = Uint32Array.from({ length: n - cut }, (_, k) => cut + k);
    const b = buildMatrix(brand, brandConfig, brandRows, brandRows.subarray(0, cut));
    const p = buildMatrix(partner, partnerConfig, partnerRows, partnerRows.subarray(0, cut));
    const both = joinColumns(b, [p], n);
    const category = Int32Array.from(brandRows, (row) => brand.labels?.[row] ?? 0);
    const brandOnly = multinomialAccuracy(b.X, b.columns, category, train, test, 3);
    const pooled = multinomialAccuracy(both.joined, both.columns, category, train, test, 3);

    // The campaign outcome on the same rows: exact LR, brand alone against brand + partner.
    const purchased = await loadJobDataset(
      dataset(brandConfig.file, signal.columns.brand, {
        column: 'purchased',
        type: 'binary',
        positive: '1',
        negative: '0',
      }),
    );
    const bought = Float64Array.from(brandRows, (row) => purchased.labels?.[row] ?? 0);
    const purchaseAuc = (X: Float64Array, columns: number): number =>
      auc(
        logits(fitLogisticNewton(X, columns, bought, train, { l2: 1e-3 }), X, columns, test),
        Float64Array.from(test, (k) => bought[k] ?? 0),
      );
    const purchaseBrand = purchaseAuc(b.X, b.columns);
    const purchasePooled = purchaseAuc(both.joined, both.columns);

    // Lookalike: seeds against the rest of the pool, on partner features only.
    const seeds = new Set((await readFile(join(dir, 'signal', 'seeds.csv'), 'utf8')).trim().split('\n').slice(1));
    const isSeed = Float64Array.from(partner.ids, (id) => (seeds.has(id) ? 1 : 0));
    const all = Uint32Array.from({ length: partner.rowCount }, (_, k) => k);
    const half = Math.round(partner.rowCount * 0.7);
    const pm = buildMatrix(partner, partnerConfig, all, all.subarray(0, half));
    const model = fitLogisticNewton(pm.X, pm.columns, isSeed, all.subarray(0, half), { l2: 1e-3 });
    const heldOut = all.subarray(half);
    const seedAuc = auc(
      logits(model, pm.X, pm.columns, heldOut),
      Float64Array.from(heldOut, (row) => isSeed[row] ?? 0),
    );
    console.log(
      `retail (pool ${SIGNAL.poolSize}, members ${SIGNAL.members}): cold-start accuracy brand alone ${brandOnly.toFixed(3)}, pooled ${pooled.toFixed(3)}; purchase AUC brand alone ${purchaseBrand.toFixed(3)}, pooled ${purchasePooled.toFixed(3)}; seed AUC in pool ${seedAuc.toFixed(3)}`,
    );
    expect(brandOnly).toBeGreaterThan(0.4); // the brand's own data says something…
    expect(pooled).toBeGreaterThan(brandOnly + 0.1); // …the partner says much more
    expect(purchasePooled).toBeGreaterThan(purchaseBrand + 0.02);
    expect(purchaseBrand).toBeGreaterThan(0.6);
    expect(seedAuc).toBeGreaterThan(0.75);
  });
});
