/**
 * One notion of progress per job (issue #19): what `job list`, the bar and
 * the summary count agree — PSI steps during PSI, then epochs actually
 * trained (across one-vs-rest classes) out of the most the job could train,
 * and the summary's epochs equal the last count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, startFederation, type Federation } from '../support/federation.ts';
import type { JobStatus } from '../../runtime/admin-client.ts';
import { progressText } from '../../cli/commands/job.ts';

describe('job progress', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('vehicle') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'counts PSI steps, then epochs trained across classes, and ends where the summary does',
    { timeout: 240_000 },
    async () => {
      const admin = await fed.admin();
      const spec = {
        name: 'segments',
        kind: 'cold-start',
        seed: 42,
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'partner', role: 'host', dataset: 'd' },
        ],
        training: { maxEpochs: 6 },
      };
      const { jobId } = await admin.submit(await fed.write('job.yaml', spec));
      const seen: JobStatus[] = [];
      const final = await admin.watch(jobId, (s) => seen.push(s));
      admin.close();
      expect(final.stage, final.message).toBe('completed');
      const psi = seen.filter((s) => s.phase === 'psi' && s.maxEpochs > 0);
      expect(psi.length).toBeGreaterThan(0);
      for (const s of psi) expect([s.unit, s.maxEpochs]).toEqual(['PSI steps', 2]);
      const training = seen.filter((s) => s.phase === 'training');
      // Entering training carries no PSI count ("epoch 2/2 training on … rows").
      expect(training[0]!.unit === 'PSI steps').toBe(false);
      const counted = training.filter((s) => s.maxEpochs > 0);
      for (const s of counted) expect(s.unit).toBe('epochs');
      expect(counted.every((s, k) => k === 0 || s.epoch >= counted[k - 1]!.epoch)).toBe(true);
      const classes = 4;
      expect(final.maxEpochs).toBe(classes * 6);
      const summary = (JSON.parse(final.summaryJson) as Record<string, { epochs: number }>)['brand']!;
      expect(final.epoch).toBe(summary.epochs);
      expect(progressText(final)).toBe(`epochs ${summary.epochs}/${classes * 6}`);
    },
  );
});
