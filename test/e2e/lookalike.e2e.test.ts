/**
 * Lookalike on FATE default-credit: seeds are the defaulters (y = 1), the
 * pool is the partner's 30,000 users with 10 features. Federated
 * recall@top-20 % on held-out seeds must be within 0.01 of exact
 * centralised LR trained on the same rows (computed here from the parts
 * each side saved); the guest never receives audience ids; the host's
 * audience file exists on its side only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_DATA, runJob, startFederation, type Federation } from '../support/federation.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { loadJobDataset } from '../../jobs/common/features.ts';
import { transformRows, type PreprocessSpec } from '../../data/preprocess.ts';
import { fitLogisticNewton, logits } from '../../protocol/training/centralised.ts';
import { auc } from '../../protocol/evaluation/metrics.ts';
import { addWireTap } from '../../runtime/wire-tap.ts';
import { trainTwin } from '../../models/trees/core/twin.ts';
import { treesOptions } from '../../models/trees/spec.ts';

type GuestSummary = {
  seeds: { inPool: number; heldOut: number };
  metrics: { recallAtK: { fraction: number; value: number }[]; liftAtK: { fraction: number; value: number }[] };
  audience: { size: number; expectedLift: number };
};

describe('lookalike: seed expansion into the partner pool', () => {
  let fed: Federation;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-lookalike-'));
    const lines = gunzipSync(await readFile(join(EXAMPLE_DATA, 'default_credit_guest.csv.gz')))
      .toString('utf8')
      .trim()
      .split('\n')
      .slice(1);
    const seeds = lines.filter((l) => l.split(',')[1] === '1').map((l) => l.split(',')[0]);
    await writeFile(join(dir, 'seeds.csv'), `id\n${seeds.join('\n')}\n`);
    fed = await startFederation({
      parties: [
        { name: 'brand', datasets: { seeds: { file: join(dir, 'seeds.csv'), id: 'id', features: 'none' } } },
        {
          name: 'partner',
          datasets: { pool: { file: join(EXAMPLE_DATA, 'default_credit_host.csv.gz'), id: 'id', features: 'all' } },
        },
      ],
    });
  });
  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'reaches centralised recall@top-20 % within 0.01 and keeps the audience at the host',
    { timeout: 300_000 },
    async () => {
      // What the host is told about rows, captured before sealing.
      const toHost: { step: string; bytes: Uint8Array }[] = [];
      const untap = addWireTap((e) => {
        if (e.layer === 'body' && e.to === 'partner') toHost.push({ step: e.step, bytes: e.bytes });
      });
      const result = await runJob(fed, {
        name: 'lookalike-test',
        kind: 'lookalike',
        seed: 42,
        parties: [
          { name: 'brand', role: 'guest', dataset: 'seeds' },
          { name: 'partner', role: 'host', dataset: 'pool' },
        ],
        lookalike: { decoyRatio: 1, audiencePercent: 20 },
      });
      untap();
      expect(result.stage, result.message).toBe('completed');
      const guest = result.summaries['brand'] as GuestSummary;
      expect(guest.seeds.inPool).toBe(6636);
      const federated = guest.metrics.recallAtK.find((r) => r.fraction === 0.2)?.value ?? 0;

      // Centralised reference on the same selected rows, split and preprocessing.
      const part = async (name: string) =>
        JSON.parse(await readFile(join(fed.dir, name, 'jobs', result.jobId, 'model-part.json'), 'utf8')) as Record<
          string,
          unknown
        >;
      const g = await part('brand');
      const h = await part('partner');
      const labels = g['labels'] as number[];
      const validation = new Set(g['validation'] as number[]);
      const selectedRows = h['selectedRows'] as number[];
      const config = await loadPartyConfig(join(fed.dir, 'partner.yaml'));
      const pool = await loadJobDataset(config.datasets['pool']!);
      const all = Uint32Array.from({ length: pool.rowCount }, (_, k) => k);
      const { matrix, columns } = transformRows(h['preprocess'] as PreprocessSpec, pool, all);
      const trainPositions = selectedRows.map((_, k) => k).filter((k) => !validation.has(k));
      const y = new Float64Array(pool.rowCount);
      selectedRows.forEach((row, k) => (y[row] = labels[k] ?? 0));
      const newton = fitLogisticNewton(
        matrix,
        columns.length,
        y,
        Uint32Array.from(trainPositions, (k) => selectedRows[k] ?? 0),
        { l2: 1e-4 },
      );
      const scores = logits(newton, matrix, columns.length, all);
      const ranked = Uint32Array.from(all).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
      const percentile = new Float64Array(pool.rowCount);
      ranked.forEach((row, rank) => (percentile[row] = rank / pool.rowCount));
      const heldOutSeeds = selectedRows.filter((_, k) => validation.has(k) && labels[k] === 1);
      expect(heldOutSeeds.length).toBe(guest.seeds.heldOut);
      const centralised = heldOutSeeds.filter((row) => (percentile[row] ?? 1) < 0.2).length / heldOutSeeds.length;
      console.log(
        `lookalike recall@20%: federated ${federated.toFixed(4)}, centralised ${centralised.toFixed(4)}; lift@20% ${(federated / 0.2).toFixed(2)}`,
      );
      expect(federated).toBeGreaterThan(0.2); // better than a random audience
      expect(federated).toBeGreaterThanOrEqual(centralised - 0.01);

      // The audience is written at the host only; the guest got its size and lift, not ids.
      const audience = (await readFile(join(fed.dir, 'partner', 'jobs', result.jobId, 'audience.csv'), 'utf8'))
        .trim()
        .split('\n');
      expect(audience.length - 1).toBe(guest.audience.size);
      expect(guest.audience.size).toBe(6000);
      expect(Object.keys((g['summary'] as { audience: object }).audience).sort()).toEqual([
        'expectedLift',
        'expectedRecall',
        'percent',
        'size',
      ]);

      // The host's view: besides blinded PSI elements and ciphertexts, only the selection and the split.
      const plainSteps = new Set(
        toHost.filter((m) => !['psi-guest-set', 'residual', 'epoch-control'].includes(m.step)).map((m) => m.step),
      );
      expect([...plainSteps].sort()).toEqual(['lookalike-selection', 'split']);
      // In the selection, half the rows are seeds (posterior 1/(1 + decoyRatio)), and their order says nothing:
      // the rank of a row in the selection predicts seed-ness no better than chance.
      const positionLabels = labels.map((y, k) => [k, y] as const);
      const seedsInSelection = positionLabels.filter(([, y]) => y === 1).length;
      expect(seedsInSelection / labels.length).toBeCloseTo(0.5, 2);
      const orderAuc = auc(
        Float64Array.from(positionLabels, ([k]) => k),
        Int32Array.from(labels),
      );
      expect(Math.abs(orderAuc - 0.5)).toBeLessThan(0.02);
    },
  );

  it(
    'trains trees too (model.family: trees): the host scores its pool with the trees the guest grew, exactly as the plaintext twin',
    { timeout: 300_000 },
    async () => {
      const result = await runJob(
        fed,
        {
          name: 'lookalike-trees',
          kind: 'lookalike',
          seed: 42,
          model: { family: 'trees', rounds: 20, maxDepth: 3 },
          parties: [
            { name: 'brand', role: 'guest', dataset: 'seeds' },
            { name: 'partner', role: 'host', dataset: 'pool' },
          ],
          lookalike: { decoyRatio: 1, audiencePercent: 20 },
        },
        'lookalike-trees.yaml',
      );
      expect(result.stage, result.message).toBe('completed');
      const guest = result.summaries['brand'] as GuestSummary;
      const federated = guest.metrics.recallAtK.find((r) => r.fraction === 0.2)?.value ?? 0;
      const part = async (name: string) =>
        JSON.parse(await readFile(join(fed.dir, name, 'jobs', result.jobId, 'model-part.json'), 'utf8')) as Record<
          string,
          unknown
        >;
      const g = await part('brand');
      const h = await part('partner');
      expect(h['family']).toBe('trees');
      // The guest keeps no threshold: every split is a record of the host's.
      expect(g['records']).toEqual([]);
      const labels = g['labels'] as number[];
      const validation = new Set(g['validation'] as number[]);
      const selectedRows = h['selectedRows'] as number[];
      const pool = await loadJobDataset((await loadPartyConfig(join(fed.dir, 'partner.yaml'))).datasets['pool']!);
      const { matrix, columns } = transformRows(
        h['preprocess'] as PreprocessSpec,
        pool,
        Uint32Array.from(selectedRows),
      );
      // The twin: the same booster in one process on the selected rows, same split, labels, options and seed.
      const train = Uint32Array.from(selectedRows.map((_, k) => k).filter((k) => !validation.has(k)));
      const empty = { X: new Float64Array(0), columns: 0 };
      const twin = await trainTwin({
        parties: [empty, { X: matrix, columns: columns.length }],
        train,
        labels: Float64Array.from(labels),
        objective: 'logistic',
        outputs: 1,
        params: { ...treesOptions({ family: 'trees', rounds: 20, maxDepth: 3 }) },
        seed: '42',
      });
      expect(h['trees']).toEqual(twin.trees);
      expect(federated).toBeGreaterThan(0.3);
      // The audience at the host is its pool ranked by those trees.
      const audience = (await readFile(join(fed.dir, 'partner', 'jobs', result.jobId, 'audience.csv'), 'utf8'))
        .trim()
        .split('\n');
      expect(audience.length - 1).toBe(guest.audience.size);
    },
  );

  it('estimates reach with size-only PSI: the overlap count and nothing else', { timeout: 120_000 }, async () => {
    const result = await runJob(
      fed,
      {
        name: 'reach-test',
        kind: 'reach',
        seed: 42,
        parties: [
          { name: 'brand', role: 'guest', dataset: 'seeds' },
          { name: 'partner', role: 'host', dataset: 'pool' },
        ],
      },
      'reach.yaml',
    );
    expect(result.stage, result.message).toBe('completed');
    expect(result.summaries['brand']).toMatchObject({ kind: 'reach', overlap: 6636, guestIds: 6636, hostIds: 30000 });
    expect(result.summaries['partner']).toMatchObject({ kind: 'reach', overlap: 6636 });
  });
});
