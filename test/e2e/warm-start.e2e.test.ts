/**
 * Warm start: a job continues from an earlier job's model (each party from
 * its own part), so its training loss starts where the earlier one ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';

type GuestSummary = { losses: number[]; warmStartFrom?: string; metrics: { auc: number } };

describe('warm start', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it('continues from the earlier model instead of from zero', { timeout: 180_000 }, async () => {
    const first = await runJob(fed, lrSpec({ training: { maxEpochs: 4, tolerance: 0 } }), 'first.yaml');
    expect(first.stage, first.message).toBe('completed');
    const a = first.summaries['brand'] as GuestSummary;
    const second = await runJob(
      fed,
      lrSpec({ training: { maxEpochs: 4, tolerance: 0, warmStart: { job: first.jobId } } }),
      'second.yaml',
    );
    expect(second.stage, second.message).toBe('completed');
    const b = second.summaries['brand'] as GuestSummary;
    expect(b.warmStartFrom).toBe(first.jobId);
    // A cold start begins at log 2 ≈ 0.693; the warm one begins near where the first ended.
    expect(a.losses[0]).toBeGreaterThan(0.45);
    expect(b.losses[0]).toBeLessThan(a.losses[3]! * 1.05);
    expect(b.losses[3]).toBeLessThan(a.losses[3]!);
  });

  it('refuses to warm-start from a job a party has no model for, saying which', { timeout: 60_000 }, async () => {
    const result = await runJob(fed, lrSpec({ training: { warmStart: { job: 'job-0000000000' } } }), 'missing.yaml');
    expect(result.stage).toBe('failed');
    expect(result.message).toMatch(/has no model from job-0000000000 to warm-start from/);
  });
});
