/**
 * Durable jobs (docs/durability.md): the coordinator, the guest and the host
 * run as separate processes; each is SIGKILLed while aligning (PSI) and
 * while training, and started again with the same command. Every job must
 * complete with the model an uninterrupted run of the same spec trains.
 *
 * Kills at PSI time and mid-round use TANDEM_FAULT_KILL (runtime/fault.ts):
 * the node kills itself with SIGKILL when a given message reaches it, a point
 * too brief to hit from outside on this small dataset. The last job is
 * killed from outside, at whatever point training has reached.
 *
 * Noise flooding is off (privacy.noiseFloodingBits: 0): its noise comes from
 * a per-job secret, so two separately submitted jobs differ by it even
 * without faults; what remains between runs is CKKS encryption noise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminClient } from '../../runtime/admin-client.ts';
import { exampleParties, lrSpec } from '../support/federation.ts';
import {
  startProcessFederation,
  verifyNodeLogs,
  type NodeProcess,
  type ProcessFederation,
} from '../support/processes.ts';

/** Two rounds per epoch (455 training rows), every epoch run, a loss decrypted per epoch: rounds 1–10. */
const SPEC = lrSpec({ training: { maxEpochs: 5, batchSize: 228, tolerance: 0 }, privacy: { noiseFloodingBits: 0 } });
const PARTIES = ['brand', 'partner'] as const;
/**
 * Two uninterrupted runs differ by up to ~1e-8 (CKKS encryption noise;
 * measured 9.8e-9 on weights up to 0.96). A lost or repeated round would
 * move every weight by about one Adam step, the learning rate 0.05.
 */
const TOLERANCE = 1e-6;

type Model = { weights: number[]; intercept: number; losses: number[] };

describe('durable jobs survive kill -9 of any node', () => {
  let fed: ProcessFederation;
  let reference: Record<string, Model>;
  const kills = new Map<string, number>();

  /** Nodes the test itself is restarting: not the supervisor's business. */
  const quiet = new Set<NodeProcess>();
  let stopped = false;

  /**
   * Restarts a node whenever it dies by SIGKILL, as an init system would,
   * with the same command; `faults` are the TANDEM_FAULT_KILL settings for
   * the next starts (none once they are used up).
   */
  function supervise(node: NodeProcess, faults: string[] = []): void {
    void node.exited().then(async (signal) => {
      if (quiet.delete(node) || signal !== 'SIGKILL' || stopped) return;
      kills.set(node.name, (kills.get(node.name) ?? 0) + 1);
      const fault = faults.shift();
      await node.start(fault === undefined ? {} : { TANDEM_FAULT_KILL: fault });
      supervise(node, faults);
    });
  }

  async function withAdmin<T>(run: (admin: AdminClient) => Promise<T>): Promise<T> {
    // The coordinator may be down or restarting: retry until it answers.
    for (let attempt = 0; ; attempt++) {
      const admin = await fed.admin();
      try {
        return await run(admin);
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        admin.close();
      }
    }
  }

  /** Submits the spec and polls until the job ends; `onStatus` sees every status. */
  async function runJob(
    onStatus: (phase: string, epoch: number) => void = () => undefined,
  ): Promise<{ jobId: string; stage: string; message: string }> {
    const file = await fed.write('job.yaml', SPEC);
    const { jobId } = await withAdmin((admin) => admin.submit(file));
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const status = await withAdmin((admin) => admin.get(jobId));
      if (['completed', 'failed', 'cancelled'].includes(status.stage))
        return { jobId, stage: status.stage, message: status.message };
      onStatus(status.phase, status.epoch);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} did not end within 150 s`);
  }

  async function models(jobId: string): Promise<Record<string, Model>> {
    const out: Record<string, Model> = {};
    for (const party of PARTIES) {
      const part = JSON.parse(await readFile(join(fed.dir, party, 'jobs', jobId, 'model-part.json'), 'utf8')) as {
        weights: number[];
        intercept: number;
        summary: { losses?: number[] };
      };
      out[party] = { weights: part.weights, intercept: part.intercept, losses: part.summary.losses ?? [] };
    }
    return out;
  }

  function maxDifference(a: Record<string, Model>, b: Record<string, Model>): number {
    let max = 0;
    for (const party of PARTIES) {
      const [x, y] = [a[party] as Model, b[party] as Model];
      expect(y.weights.length).toBe(x.weights.length);
      expect(y.losses.length).toBe(x.losses.length);
      const pairs = [
        ...x.weights.map((w, k) => [w, y.weights[k] ?? NaN]),
        [x.intercept, y.intercept],
        ...x.losses.map((l, k) => [l, y.losses[k] ?? NaN]),
      ];
      for (const [u = NaN, v = NaN] of pairs) max = Math.max(max, Math.abs(u - v));
    }
    return max;
  }

  async function startWithFaults(name: string, faults: string[]): Promise<void> {
    const node = fed.nodes.get(name) as NodeProcess;
    quiet.add(node);
    await node.kill();
    quiet.delete(node);
    await node.start({ TANDEM_FAULT_KILL: faults[0] ?? '' });
    supervise(node, faults.slice(1));
  }

  beforeAll(async () => {
    fed = await startProcessFederation(exampleParties('breast'));
    const run = await runJob();
    expect(run.stage, run.message).toBe('completed');
    reference = await models(run.jobId);
  }, 120_000);

  afterAll(async () => {
    stopped = true;
    await fed.close();
  });

  it(
    'kills the guest, the host and the coordinator during PSI and in the middle of a training round',
    { timeout: 150_000 },
    async () => {
      kills.clear();
      // The guest dies as the host's blinded set arrives, then in epoch 3 as a gradient answer arrives (residual sent).
      await startWithFaults('brand', ['psi-host-set', 'decrypt-result@5']);
      // The host dies as the alignment arrives, then in epoch 3 as the guest's residual arrives (basis sent).
      await startWithFaults('partner', ['psi-result', 'residual@6']);
      // The coordinator dies relaying the host's PSI answer, then in epoch 4 as a gradient request arrives.
      await startWithFaults('coordinator', ['psi-guest-reblinded', 'decrypt@8']);
      const run = await runJob();
      expect(Object.fromEntries(kills)).toEqual({ brand: 2, partner: 2, coordinator: 2 });
      expect(run.stage, run.message).toBe('completed');
      expect(maxDifference(reference, await models(run.jobId))).toBeLessThan(TOLERANCE);
    },
  );

  it('kills each node from outside at whatever point training has reached', { timeout: 150_000 }, async () => {
    kills.clear();
    const plan: Array<[number, string]> = [
      [1, 'brand'],
      [2, 'partner'],
      [3, 'coordinator'],
    ];
    const run = await runJob((phase, epoch) => {
      const next = plan[0];
      if (phase === 'training' && next !== undefined && epoch >= next[0]) {
        plan.shift();
        void fed.nodes.get(next[1])?.kill();
      }
    });
    expect(plan).toEqual([]);
    expect(Object.fromEntries(kills)).toEqual({ brand: 1, partner: 1, coordinator: 1 });
    expect(run.stage, run.message).toBe('completed');
    expect(maxDifference(reference, await models(run.jobId))).toBeLessThan(TOLERANCE);
  });

  it('leaves audit logs whose chains, signatures and cross-matches still verify', { timeout: 60_000 }, () => {
    const verify = verifyNodeLogs(fed.dir, ['coordinator', ...PARTIES]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: 3 logs/);
  });
});
