/**
 * A propensity job on real retail data: the Hillstrom e-mail campaign split
 * between a brand (CRM, campaign, outcome) and a partner platform (shopping
 * profile), as examples/hillstrom/ defines it. On a seeded 4,000-row sample,
 * federated hetero-LR on `visit` must match the plaintext algorithm and
 * come close to exact centralised LR on the pooled columns; the guest-only
 * baseline it reports is checked and printed beside them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { partyConfigFile, runJob, startFederation, type Federation } from '../support/federation.ts';
import { guestSplitSeed, pooledReference } from '../../examples/pooled-reference.ts';
import { splitHillstrom } from '../../examples/hillstrom/split.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'hillstrom');
const SAMPLE_ROWS = 4000;

type GuestSummary = {
  metrics: { auc: number };
  rows: { aligned: number; validation: number };
  guestOnly: { metrics: { auc: number }; byModel: { lr: { auc: number } } };
};

/** The example's own dataset declaration, pointed at `file`. */
async function exampleDataset(party: 'brand' | 'partner', file: string): Promise<Record<string, unknown>> {
  const config = parse(await readFile(join(EXAMPLE, `${party}.yaml`), 'utf8')) as {
    datasets: { campaign: Record<string, unknown> };
  };
  return { campaign: { ...config.datasets.campaign, file } };
}

describe('hetero-LR propensity on the Hillstrom brand / partner split', () => {
  let fed: Federation;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-hillstrom-'));
    const data = await splitHillstrom({ outDir: dir, sample: SAMPLE_ROWS, seed: 7 });
    fed = await startFederation({
      parties: [
        { name: 'brand', datasets: await exampleDataset('brand', data.brand) },
        { name: 'partner', datasets: await exampleDataset('partner', data.partner) },
      ],
    });
  });
  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'matches the plaintext algorithm and exact LR on visit, beside the brand-only baseline',
    { timeout: 120_000 },
    async () => {
      const spec = parse(await readFile(join(EXAMPLE, 'job.yaml'), 'utf8')) as Record<string, unknown>;
      const result = await runJob(fed, spec);
      expect(result.stage, result.message).toBe('completed');
      const guest = result.summaries['brand'] as GuestSummary;
      expect(guest.rows.aligned).toBe(SAMPLE_ROWS);
      const files = new Map([
        ['brand', partyConfigFile(fed, 'brand')],
        ['partner', partyConfigFile(fed, 'partner')],
      ]);
      const reference = await pooledReference(
        await fed.write('reference.yaml', spec),
        files,
        await guestSplitSeed(partyConfigFile(fed, 'brand'), result.jobId),
      );
      expect(guest.rows.validation).toBe(reference.validationRows);
      const federated = guest.metrics.auc;
      console.log(
        `hillstrom visit (${SAMPLE_ROWS} rows): brand alone AUC ${guest.guestOnly.metrics.auc.toFixed(5)}, federated ${federated.toFixed(5)}, plaintext twin ${reference.plainAuc.toFixed(5)}, centralised Newton ${reference.newtonAuc.toFixed(5)}`,
      );
      expect(Math.abs(federated - reference.plainAuc)).toBeLessThan(0.001);
      expect(federated).toBeGreaterThan(reference.newtonAuc - 0.01);
      expect(guest.guestOnly.byModel.lr.auc).toBeCloseTo(reference.guestOnlyAuc, 9);
      expect(guest.guestOnly.metrics.auc).toBeGreaterThanOrEqual(guest.guestOnly.byModel.lr.auc);
      expect(federated).toBeGreaterThan(0.55); // the campaign and CRM do predict visits
    },
  );
});
