/**
 * The crypto pool inside real federated jobs (coordinator and two party
 * nodes over gRPC with mTLS, in this process): hetero-LR with the pool on
 * and off gives the same model within CKKS and noise-flooding precision, and
 * a long run of small mini-batches keeps memory flat from epoch to epoch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, startFederation, type Federation } from '../test/support/federation.ts';
import type { JobStatus } from './admin-client.ts';
import { liveSealObjects } from '../protocol/he/seal-runtime.ts';

type GuestSummary = { metrics: { auc: number }; epochs: number };

/** brand and partner on breast, each node with this many crypto threads. */
const withThreads = (cryptoThreads: number) => exampleParties('breast').map((p) => ({ ...p, node: { cryptoThreads } }));

describe('hetero-LR on the crypto worker pool', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: withThreads(2) });
  });
  afterAll(async () => {
    await fed.close();
  });

  async function train(
    spec: Record<string, unknown>,
    onStatus?: (status: JobStatus) => void,
    on: Federation = fed,
  ): Promise<GuestSummary> {
    const admin = await on.admin();
    try {
      const submitted = await admin.submit(await on.write(`job-${Date.now()}.yaml`, spec));
      const final = await admin.watch(submitted.jobId, (s) => onStatus?.(s));
      expect(final.stage, final.message).toBe('completed');
      return (JSON.parse(final.summaryJson) as Record<string, GuestSummary>)['brand']!;
    } finally {
      admin.close();
    }
  }

  it('trains the same model with and without worker threads', { timeout: 300_000 }, async () => {
    const mainThreadOnly = await startFederation({ parties: withThreads(0) });
    const single = await train(lrSpec(), undefined, mainThreadOnly).finally(() => mainThreadOnly.close());
    const pooled = await train(lrSpec());
    expect(pooled.epochs).toBe(single.epochs);
    expect(Math.abs(pooled.metrics.auc - single.metrics.auc)).toBeLessThan(0.001);
  });

  it('keeps memory flat over a long run of small mini-batches', { timeout: 600_000 }, async () => {
    const epochs = 12;
    const rss = new Map<number, number>();
    const sealBefore = liveSealObjects();
    // breast: 455 training rows in batches of 64 → 8 rounds an epoch, 96 rounds in all.
    const guest = await train(lrSpec({ training: { maxEpochs: epochs, batchSize: 64, patience: epochs } }), (s) => {
      // PSI reports its steps as epochs of 2; training's have maxEpochs = epochs.
      if (s.phase === 'training' && s.maxEpochs === epochs && s.epoch > 0 && !rss.has(s.epoch))
        rss.set(s.epoch, process.memoryUsage().rss);
    });
    expect(guest.epochs).toBe(epochs);
    expect(liveSealObjects()).toBe(sealBefore);
    const settled = rss.get(4);
    const last = rss.get(epochs);
    expect(settled).toBeDefined();
    expect(last).toBeDefined();
    // Holding one round's ciphertexts per round would add ≈ 12 MB a round (≈ 770 MB over epochs 4–12);
    // flat means only allocator and GC slack.
    expect(last! - settled!).toBeLessThan(128 * 2 ** 20);
    console.log(`RSS by epoch (MiB): ${[...rss].map(([e, b]) => `${e}: ${(b / 2 ** 20).toFixed(0)}`).join(', ')}`);
  });
});
