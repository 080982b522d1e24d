/**
 * A trees job is durable like an LR job (docs/trees.md, docs/durability.md):
 * the coordinator, the guest and the host run as separate processes over
 * gRPC with mTLS; the host, then in a second job the guest, then in a third
 * the coordinator is SIGKILLed in the middle of boosting and started again
 * with the same command. Each job must complete with the model an
 * uninterrupted run of the same spec grows: the same trees at the guest, the
 * same split records at the host, the same AUC. A restarted party replays
 * the job's tree steps from its inbox on disk (tree messages stay there until
 * the job ends) with masks redrawn from its node secret, so it resends
 * identical bytes; a restarted coordinator deals from the seeds kept in its
 * job store.
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

/** No early stopping: every run grows all 12 rounds, so a kill at round 4 is mid-boosting. */
const SPEC = lrSpec({ model: { family: 'trees', rounds: 12, earlyStoppingRounds: 0 } });
const KILL_AT_ROUND = 4;

type Parts = { guest: Record<string, unknown>; host: Record<string, unknown>; auc: number; epochs: number };

describe('a trees job resumes after a node restarts', () => {
  let fed: ProcessFederation;
  let reference: Parts;

  async function withAdmin<T>(run: (admin: AdminClient) => Promise<T>): Promise<T> {
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

  /** Submits the spec and follows it until it ends; `onStatus` sees every status change. */
  async function runJob(
    name: string,
    onStatus: (phase: string, epoch: number) => void = () => undefined,
  ): Promise<{ jobId: string; stage: string; message: string }> {
    const file = await fed.write(`${name}.yaml`, { ...SPEC, name });
    const { jobId } = await withAdmin((admin) => admin.submit(file));
    const final = await withAdmin((admin) => admin.watch(jobId, (s) => onStatus(s.phase, s.epoch)));
    return { jobId, stage: final.stage, message: final.message };
  }

  async function parts(jobId: string): Promise<Parts> {
    const read = async (party: string): Promise<Record<string, unknown>> =>
      JSON.parse(await readFile(join(fed.dir, party, 'jobs', jobId, 'model-part.json'), 'utf8')) as Record<
        string,
        unknown
      >;
    const guest = await read('brand');
    const summary = guest['summary'] as { metrics: { auc: number }; epochs: number };
    return { guest, host: await read('partner'), auc: summary.metrics.auc, epochs: summary.epochs };
  }

  /** What must not differ between an interrupted and an uninterrupted run (job ids, keys and file names may). */
  function model(p: Parts): Record<string, unknown> {
    return {
      trees: p.guest['trees'],
      base: p.guest['base'],
      guestRecords: p.guest['records'],
      hostRecords: p.host['records'],
      hostFeatures: p.host['featureNames'],
      losses: (p.guest['summary'] as { losses: unknown }).losses,
    };
  }

  /** Kills `victim` once the job reports round KILL_AT_ROUND and starts it again with the same command. */
  async function killMidBoosting(name: string, victim: NodeProcess): Promise<{ parts: Parts; killedAt: number }> {
    const startsBefore = victim.starts;
    let killedAt = -1;
    let restarted: Promise<void> | undefined;
    const run = await runJob(name, (phase, epoch) => {
      if (killedAt >= 0 || phase !== 'training' || epoch < KILL_AT_ROUND) return;
      killedAt = epoch;
      restarted = victim.kill().then(() => victim.start());
    });
    await restarted;
    expect(run.stage, run.message).toBe('completed');
    expect(victim.starts).toBe(startsBefore + 1);
    const log = await readFile(join(fed.dir, 'logs', `${victim.name}.log`), 'utf8');
    expect(log).toContain(
      victim.name === 'coordinator' ? 'resumed a running job after a restart' : 'resuming the job from its checkpoint',
    );
    return { parts: await parts(run.jobId), killedAt };
  }

  beforeAll(async () => {
    fed = await startProcessFederation(exampleParties('breast'));
    const run = await runJob('trees-reference');
    expect(run.stage, run.message).toBe('completed');
    reference = await parts(run.jobId);
    expect(reference.epochs).toBe(12);
  }, 90_000);

  afterAll(async () => {
    await fed.close();
  });

  it.each([
    ['host', 'partner'],
    ['guest', 'brand'],
    ['coordinator', 'coordinator'],
  ])(
    'grows the same trees when the %s is killed in the middle of boosting',
    { timeout: 90_000 },
    async (role, node) => {
      const { parts: resumed, killedAt } = await killMidBoosting(
        `trees-${role}-killed`,
        fed.nodes.get(node) as NodeProcess,
      );
      expect(killedAt).toBeLessThan(12);
      expect(model(resumed)).toEqual(model(reference));
      expect(Math.abs(resumed.auc - reference.auc)).toBeLessThanOrEqual(1e-12);
    },
  );

  it('leaves audit logs whose chains, signatures and cross-matches still verify', { timeout: 60_000 }, () => {
    const verify = verifyNodeLogs(fed.dir, ['coordinator', 'brand', 'partner']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: 3 logs/);
  });
});
