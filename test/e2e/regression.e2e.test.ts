/**
 * Continuous labels (issue #19): a hetero-lr job whose guest label is a
 * grade (FATE's `student`, 0–20) trains federated linear regression under
 * CKKS. The references are computed here on the pooled data with the job's
 * alignment, split and preprocessing: the same algorithm in plaintext
 * (encryption must cost nothing) and exact least squares on the joined
 * columns (the bar: R² within 0.01).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { lrSpec, partyConfigFile, runJob, startFederation, type Federation } from '../support/federation.ts';
import { guestSplitSeed, pooledRegressionReference } from '../../examples/pooled-reference.ts';

const DATA = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'fate');

type Metrics = { r2: number; rmse: number; mae: number };
type GuestSummary = {
  objective: string;
  metrics: Metrics;
  guestOnly: { metrics: Metrics; byModel: { lr: Metrics; trees: Metrics } };
  rows: { validation: number };
};

describe('federated linear regression on student grades', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({
      parties: [
        {
          name: 'brand',
          datasets: {
            d: { file: join(DATA, 'student_hetero_guest.csv'), id: 'id', label: { column: 'y', type: 'continuous' } },
          },
        },
        { name: 'partner', datasets: { d: { file: join(DATA, 'student_hetero_host.csv'), id: 'id' } } },
      ],
    });
  });
  afterAll(async () => {
    await fed.close();
  });

  it('equals its plaintext twin and comes within 0.01 R² of pooled least squares', { timeout: 240_000 }, async () => {
    const spec = lrSpec(); // the defaults a user gets
    const result = await runJob(fed, spec);
    expect(result.stage, result.message).toBe('completed');
    const guest = result.summaries['brand'] as GuestSummary;
    expect(guest.objective).toBe('squared');
    const files = new Map([
      ['brand', partyConfigFile(fed, 'brand')],
      ['partner', partyConfigFile(fed, 'partner')],
    ]);
    const reference = await pooledRegressionReference(
      await fed.write('reference.yaml', spec),
      files,
      await guestSplitSeed(partyConfigFile(fed, 'brand'), result.jobId),
    );
    console.log(
      `student: federated R² ${guest.metrics.r2.toFixed(4)} (RMSE ${guest.metrics.rmse.toFixed(3)}), plaintext twin ${reference.plainR2.toFixed(4)}, least squares ${reference.leastSquaresR2.toFixed(4)}, guest alone ${guest.guestOnly.metrics.r2.toFixed(4)}`,
    );
    expect(guest.rows.validation).toBe(reference.validationRows);
    // CKKS and flooding noise move the gradients by ~1e-5 a step; R² on 79 rows is more sensitive to that than AUC.
    expect(Math.abs(guest.metrics.r2 - reference.plainR2)).toBeLessThan(0.005);
    expect(guest.metrics.r2).toBeGreaterThan(reference.leastSquaresR2 - 0.01);
    expect(guest.guestOnly.byModel.lr.r2).toBeCloseTo(reference.guestOnlyR2, 9);
    expect(guest.guestOnly.metrics.r2).toBe(Math.max(guest.guestOnly.byModel.lr.r2, guest.guestOnly.byModel.trees.r2));
  });
});
