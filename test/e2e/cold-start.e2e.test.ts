/**
 * Cold start on FATE's vehicle data (4 classes, 846 rows; 9 columns at the
 * brand, 9 at the partner), one-vs-rest under CKKS, on the job's own fixed
 * 80/20 stratified split, against issue #3's bar: accuracy ≥ exact
 * centralised multinomial LR on the pooled columns − 0.02.
 *
 * The algorithm (its plaintext twin: same split, batches, link, stopping)
 * is at −0.018 on this split and must meet the bar; the federated model must
 * equal the twin, allowing one validation row whose two best classes are
 * within CKKS noise of each other (none is, today: federated = twin). An
 * earlier tolerance (0.01 %) sat exactly on one class's loss improvement, so
 * noise chose 22 or 41 epochs for it; cold start now stops at 0.1 %. Over
 * 9 random splits the twin's mean gap is −0.008 and the worst −0.036
 * (README "Cold start"). Real coordinator and party nodes, gRPC with mTLS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
import { guestSplitSeed, pooledColdStartReference, pooledReference } from '../../examples/pooled-reference.ts';

type Report = {
  accuracy: number;
  macroF1: number;
  logLoss: number;
  confusion: number[][];
  classes: string[];
  rows: number;
};
type GuestSummary = {
  model: string;
  classes: string[];
  epochsByClass: number[];
  metrics: Report;
  guestOnly: { metrics: Report; byModel: { lr: Report; trees: Report } };
  rows: { validation: number };
};

/** The cold-start defaults: full batch (one round per epoch: vehicle has 677 training rows), Adam at 0.2, ≤ 60 epochs per class. */
const spec = lrSpec({ name: 'vehicle-segments', kind: 'cold-start' });

describe('cold start on vehicle (4 classes)', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('vehicle') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'runs an algorithm within 0.02 of centralised multinomial LR, equal under encryption up to one near-tied row, above the guest alone with LR',
    { timeout: 600_000 },
    async () => {
      const started = Date.now();
      const result = await runJob(fed, spec);
      expect(result.stage, result.message).toBe('completed');
      const guest = result.summaries['brand'] as GuestSummary;
      expect(guest.model).toBe('one-vs-rest');
      expect(guest.classes).toEqual(['0', '1', '2', '3']);
      expect(guest.epochsByClass).toHaveLength(4);
      expect(result.summaries['partner']).toMatchObject({
        role: 'host',
        model: 'one-vs-rest',
        outputs: 4,
        features: 9,
      });

      const files = new Map([
        ['brand', partyConfigFile(fed, 'brand')],
        ['partner', partyConfigFile(fed, 'partner')],
      ]);
      const reference = await pooledColdStartReference(
        await fed.write('reference.yaml', spec),
        files,
        await guestSplitSeed(partyConfigFile(fed, 'brand'), result.jobId),
        4,
      );
      const m = guest.metrics;
      console.log(
        `vehicle cold start (${((Date.now() - started) / 1000).toFixed(0)} s, epochs ${guest.epochsByClass.join('/')}): federated accuracy ${m.accuracy.toFixed(4)} (macro-F1 ${m.macroF1.toFixed(4)}), plaintext twin ${reference.plain.accuracy.toFixed(4)}, centralised multinomial ${reference.centralised.accuracy.toFixed(4)}, guest only ${reference.guestOnly.accuracy.toFixed(4)}`,
      );
      expect(guest.rows.validation).toBe(reference.validationRows);
      expect(m.rows).toBe(reference.validationRows);
      // The algorithm meets the bar; encryption changes at most one near-tied row.
      expect(reference.plain.accuracy).toBeGreaterThanOrEqual(reference.centralised.accuracy - 0.02);
      expect(Math.abs(m.accuracy - reference.plain.accuracy)).toBeLessThanOrEqual(1 / reference.validationRows + 1e-12);
      // The confusion matrix accounts for every validation row, and agrees with the accuracy.
      const total = m.confusion.flat().reduce((a, b) => a + b, 0);
      const diagonal = m.confusion.reduce((s, row, i) => s + (row[i] ?? 0), 0);
      expect(total).toBe(reference.validationRows);
      expect(diagonal / total).toBeCloseTo(m.accuracy, 12);
      // The guest-only baseline is exact multinomial LR on its own columns, computed here too.
      expect(guest.guestOnly.byModel.lr.accuracy).toBeCloseTo(reference.guestOnly.accuracy, 9);
      expect(guest.guestOnly.metrics.accuracy).toBe(
        Math.max(guest.guestOnly.byModel.lr.accuracy, guest.guestOnly.byModel.trees.accuracy),
      );
      // Federated LR beats the guest's own LR. Its own trees may do as well on vehicle's 169 validation rows
      // (0.781 against 0.775, one row): the report shows that comparison as it is; bench/trees.ts measures it.
      expect(m.accuracy).toBeGreaterThan(guest.guestOnly.byModel.lr.accuracy);

      // Each party's model part holds one weight vector per class; only the guest's names the classes.
      const part = async (name: string) =>
        JSON.parse(await readFile(join(fed.dir, name, 'jobs', result.jobId, 'model-part.json'), 'utf8')) as Record<
          string,
          unknown
        >;
      const [brand, partner] = [await part('brand'), await part('partner')];
      expect(brand).toMatchObject({
        kind: 'cold-start',
        outputs: 4,
        multiclass: 'one-vs-rest',
        classes: ['0', '1', '2', '3'],
      });
      expect((brand['weights'] as number[]).length).toBe(4 * 9);
      expect((brand['intercepts'] as number[]).length).toBe(4);
      expect(partner).toMatchObject({ kind: 'cold-start', outputs: 4 });
      expect(partner['classes']).toBeUndefined();
    },
  );

  it('refuses differential privacy for a cold-start job at submission, naming the field', async () => {
    const admin = await fed.admin();
    try {
      const file = await fed.write('dp.yaml', { ...spec, privacy: { dp: { epsilon: 3 } } });
      await expect(admin.submit(file)).rejects.toThrow(/privacy\.dp.*cold-start/);
    } finally {
      admin.close();
    }
  });
});

describe('cold start with a binary label (breast)', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'trains one binary model on decorrelated columns, equal to its plaintext twin and near exact LR',
    { timeout: 300_000 },
    async () => {
      const binary = lrSpec({ name: 'breast-cold-start', kind: 'cold-start' });
      const result = await runJob(fed, binary);
      expect(result.stage, result.message).toBe('completed');
      const guest = result.summaries['brand'] as { metrics: { auc: number }; guestOnly: { metrics: { auc: number } } };
      const files = new Map([
        ['brand', partyConfigFile(fed, 'brand')],
        ['partner', partyConfigFile(fed, 'partner')],
      ]);
      const reference = await pooledReference(
        await fed.write('reference.yaml', binary),
        files,
        await guestSplitSeed(partyConfigFile(fed, 'brand'), result.jobId),
      );
      console.log(
        `breast cold start (binary, decorrelated): federated AUC ${guest.metrics.auc.toFixed(5)}, plaintext twin ${reference.plainAuc.toFixed(5)}, Newton ${reference.newtonAuc.toFixed(5)}`,
      );
      expect(Math.abs(guest.metrics.auc - reference.plainAuc)).toBeLessThan(0.001);
      expect(guest.metrics.auc).toBeGreaterThan(reference.newtonAuc - 0.01);
      const part = JSON.parse(
        await readFile(join(fed.dir, 'brand', 'jobs', result.jobId, 'model-part.json'), 'utf8'),
      ) as Record<string, unknown>;
      expect(part['outputs']).toBeUndefined();
      expect(typeof part['intercept']).toBe('number');
    },
  );
});
