/**
 * Differentially private training end to end: the noise is calibrated to
 * the declared budget, the guest reports the ε spent, no loss is decrypted,
 * and a budget that cannot be met is refused with a message saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';

type GuestSummary = {
  metrics: { auc: number };
  losses: number[];
  epochs: number;
  dp?: { epsilon: number; budget: number; noiseMultiplier: number; steps: number };
};

describe('differential privacy', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it('spends at most the declared ε and still learns', { timeout: 180_000 }, async () => {
    const result = await runJob(fed, lrSpec({ training: { maxEpochs: 10 }, privacy: { dp: { epsilon: 8 } } }));
    expect(result.stage, result.message).toBe('completed');
    const guest = result.summaries['brand'] as GuestSummary;
    expect(guest.dp?.budget).toBe(8);
    expect(guest.dp!.epsilon).toBeLessThanOrEqual(8);
    expect(guest.dp!.epsilon).toBeGreaterThan(7.5);
    expect(guest.dp!.noiseMultiplier).toBeGreaterThan(1);
    expect(guest.dp!.steps).toBe(10);
    expect(guest.losses).toEqual([]); // the loss is never decrypted under DP
    expect(guest.epochs).toBe(10); // so there is no early stopping either
    expect(guest.metrics.auc).toBeGreaterThan(0.6);
  });

  it('refuses a budget no amount of noise can meet', { timeout: 60_000 }, async () => {
    const result = await runJob(
      fed,
      lrSpec({ training: { maxEpochs: 500 }, privacy: { dp: { epsilon: 0.0001 } } }),
      'tiny.yaml',
    );
    expect(result.stage).toBe('failed');
    expect(result.message).toMatch(/ε = 0.0001 .*cannot be met in 500 steps.*raise epsilon, or lower maxEpochs/);
  });
});
