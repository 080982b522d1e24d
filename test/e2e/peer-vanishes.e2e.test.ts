/**
 * A party that disappears mid-training: the coordinator waits the
 * configured grace period, then fails the job with a message naming the
 * party and the phase, and stops the other parties; nothing hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, startFederation, type Federation } from '../support/federation.ts';

describe('a peer that vanishes mid-round', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast'), coordinator: { peerGraceMs: 1500 } });
  });
  afterAll(async () => {
    await fed.close();
  });

  it('fails the job within the grace period, naming the party and phase', { timeout: 120_000 }, async () => {
    const admin = await fed.admin();
    const { jobId } = await admin.submit(
      await fed.write('job.yaml', lrSpec({ training: { maxEpochs: 500, tolerance: 0 } })),
    );
    let killedAt = 0;
    const final = await admin.watch(jobId, (s) => {
      if (killedAt === 0 && s.phase === 'training' && s.epoch >= 2) {
        killedAt = Date.now();
        void fed.parties.get('partner')?.close();
      }
    });
    admin.close();
    expect(killedAt).toBeGreaterThan(0);
    expect(final.stage).toBe('failed');
    expect(final.message).toMatch(/partner disconnected during training and did not come back within 2 s/);
    const waited = Date.now() - killedAt;
    expect(waited).toBeGreaterThan(1000);
    expect(waited).toBeLessThan(15_000);
  });
});
