/**
 * Coordinator-aided PSI (`alignment.psi: coordinator`) end to end: the same
 * hetero-LR job on the same data, once aligned by ECDH-PSI and once by the
 * coordinator matching PRF values, over real gRPC with mTLS and real CKKS.
 * Checked: the same rows and (up to CKKS and flooding noise) the same model
 * and accuracy; no id crosses the wire in any form the capture can find; the
 * PRF lists and the coordinator's answer are in every node's audit log; and
 * reach (size-only) and lookalike (membership) jobs count and find the same
 * seeds as with ECDH.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWireTap, type WireEvent } from '../../runtime/wire-tap.ts';
import { readAuditLog } from '../../audit/log.ts';
import { buildAuditReport } from '../../audit/report.ts';
import { parseAuditSource } from '../../audit/verify.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { loadJobDataset } from '../../jobs/common/features.ts';
import {
  lrSpec,
  runJob,
  startFederation,
  type Federation,
  type JobResult,
  type PartySetup,
} from '../support/federation.ts';
import { hexRuns, leakedIds, longIdBreastParties } from '../support/long-ids.ts';

type ModelPart = { weights: number[]; intercept: number };
type GuestSummary = {
  rows: { aligned: number; train: number; validation: number };
  metrics: { auc: number; accuracy: number };
  epochs: number;
};

describe('coordinator-aided PSI: a full job', () => {
  let fed: Federation;
  let dir = '';
  let ecdh: JobResult;
  let viaCoordinator: JobResult;
  const link: Buffer[] = [];
  const body: Buffer[] = [];
  const kinds = new Map<string, number>();
  const spec = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    lrSpec({ training: { maxEpochs: 5 }, ...extra });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-cpsi-'));
    const parties = await longIdBreastParties(dir);
    // Seeds for lookalike and reach: the guest's positive rows (357 of 569), ids only.
    const rows = (await readFile(join(dir, 'guest.csv'), 'utf8')).trim().split('\n').slice(1);
    await writeFile(
      join(dir, 'seeds.csv'),
      `id\n${rows
        .filter((l) => l.split(',')[1] === '1')
        .map((l) => l.split(',')[0])
        .join('\n')}\n`,
    );
    const [guest, host] = parties as [PartySetup, PartySetup];
    fed = await startFederation({
      parties: [
        {
          ...guest,
          datasets: { ...guest.datasets, seeds: { file: join(dir, 'seeds.csv'), id: 'id', features: 'none' } },
        },
        host,
      ],
    });
    ecdh = await runJob(fed, spec(), 'ecdh.yaml');
    const remove = addWireTap((e: WireEvent) => {
      if (e.layer === 'link' && e.direction === 'out') link.push(Buffer.from(e.bytes));
      if (e.layer === 'body') {
        body.push(Buffer.from(e.bytes));
        kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      }
    });
    try {
      viaCoordinator = await runJob(fed, spec({ alignment: { psi: 'coordinator' } }), 'coordinator.yaml');
    } finally {
      remove();
    }
  }, 300_000);

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  const modelPart = async (party: string, jobId: string): Promise<ModelPart> =>
    JSON.parse(await readFile(join(fed.dir, party, 'jobs', jobId, 'model-part.json'), 'utf8')) as ModelPart;

  it('trains on the same rows to the same model and accuracy as ECDH-PSI', async () => {
    expect(ecdh.stage, ecdh.message).toBe('completed');
    expect(viaCoordinator.stage, viaCoordinator.message).toBe('completed');
    const a = ecdh.summaries['brand'] as GuestSummary;
    const b = viaCoordinator.summaries['brand'] as GuestSummary;
    // breast: 569 ids on each side, all shared.
    expect(b.rows).toEqual(a.rows);
    expect(b.rows.aligned).toBe(569);
    expect(b.epochs).toBe(a.epochs);
    expect(Math.abs(b.metrics.auc - a.metrics.auc)).toBeLessThan(1e-3);
    expect(b.metrics.accuracy).toBeCloseTo(a.metrics.accuracy, 2);
    // Same rows in the same order give the same weights up to CKKS noise (seen: ≤ 3e-4 on weights of ~0.2);
    // another order would put other rows in the validation split.
    for (const party of ['brand', 'partner']) {
      const [x, y] = [await modelPart(party, ecdh.jobId), await modelPart(party, viaCoordinator.jobId)];
      const gap = Math.max(
        ...x.weights.map((w, k) => Math.abs(w - (y.weights[k] ?? Infinity))),
        Math.abs(x.intercept - y.intercept),
      );
      expect(gap, party).toBeLessThan(2e-3);
    }
  });

  it('sends PRF lists to the coordinator instead of blinded elements between the parties', () => {
    expect(kinds.get('psi-prf')).toBe(2); // one list from each party
    expect(kinds.has('psi-blinded')).toBe(false);
    expect(kinds.get('ciphertext')).toBeGreaterThan(0);
  });

  it('carries no id, in any envelope or opened body', async () => {
    const captured = [...hexRuns(Buffer.concat(link)), ...hexRuns(Buffer.concat(body))];
    for (const name of ['brand', 'partner']) {
      const config = await loadPartyConfig(join(fed.dir, `${name}.yaml`));
      const { ids } = await loadJobDataset(config.datasets['d']!);
      expect(ids.length).toBe(569);
      expect(leakedIds(ids, captured)).toEqual([]);
    }
    expect(Buffer.concat(link).includes('cust-')).toBe(false);
    expect(Buffer.concat(body).includes('cust-')).toBe(false);
  });

  it('audit-logs every PRF list and the answer at the coordinator and at each party', () => {
    const at = (node: string) =>
      readAuditLog(join(fed.dir, node, 'audit', `${node}.audit.jsonl`)).filter(
        (r) => r.job === viaCoordinator.jobId && r.kind === 'psi-prf',
      );
    const seen = (node: string) =>
      at(node)
        .map((r) => `${r.direction} ${r.peer} ${r.step}`)
        .sort();
    expect(seen('coordinator')).toEqual([
      'received brand psi-prf',
      'received partner psi-prf',
      'sent brand psi-matches',
    ]);
    expect(seen('brand')).toEqual(['received coordinator psi-matches', 'sent coordinator psi-prf']);
    expect(seen('partner')).toEqual(['sent coordinator psi-prf']);
    // 569 values of 16 bytes each, not sealed (the coordinator must read them).
    expect(
      at('coordinator')
        .filter((r) => r.step === 'psi-prf')
        .every((r) => r.bytes > 569 * 16 && !r.sealed),
    ).toBe(true);
  });

  const seedJob = (kind: 'lookalike' | 'reach', psi: string): Record<string, unknown> => ({
    name: `${kind}-${psi}`,
    kind,
    seed: 42,
    alignment: { psi },
    ...(kind === 'lookalike' ? { training: { maxEpochs: 3 } } : {}),
    parties: [
      { name: 'brand', role: 'guest', dataset: 'seeds' },
      { name: 'partner', role: 'host', dataset: 'd' },
    ],
  });

  it('counts the same reach as ECDH size-only PSI, and the coordinator tells the guest no positions', async () => {
    const [a, b] = [
      await runJob(fed, seedJob('reach', 'ecdh'), 'reach-ecdh.yaml'),
      await runJob(fed, seedJob('reach', 'coordinator'), 'reach-coordinator.yaml'),
    ];
    expect([a.stage, b.stage]).toEqual(['completed', 'completed']);
    expect(a.summaries['brand']).toMatchObject({ overlap: 357, guestIds: 357, hostIds: 569 });
    expect(b.summaries['brand']).toEqual(a.summaries['brand']);
    expect(b.summaries['partner']).toEqual(a.summaries['partner']);
    // The whole answer envelope (header, peer, count, two sizes) is smaller than 357 positions would be.
    const answers = readAuditLog(join(fed.dir, 'coordinator', 'audit', 'coordinator.audit.jsonl')).filter(
      (r) => r.job === b.jobId && r.step === 'psi-matches',
    );
    expect(answers.map((r) => [r.direction, r.peer])).toEqual([['sent', 'brand']]);
    expect(answers[0]!.bytes).toBeLessThan(357 * 4);
    // The audit report tells the roles apart although the host sent nothing but its PRF list.
    const logs = ['coordinator', 'brand', 'partner'].map((n) => join(fed.dir, n, 'audit', `${n}.audit.jsonl`));
    const report = buildAuditReport(
      logs.map((file) => parseAuditSource({ file, text: readFileSync(file, 'utf8') })),
      { job: b.jobId },
    );
    expect(Object.fromEntries(report.parties.map((p) => [p.party, p.role]))).toEqual({
      brand: 'guest',
      partner: 'host',
    });
  }, 120_000);

  it('finds the same seeds in the pool for lookalike as ECDH membership PSI', async () => {
    const [a, b] = [
      await runJob(fed, seedJob('lookalike', 'ecdh'), 'look-ecdh.yaml'),
      await runJob(fed, seedJob('lookalike', 'coordinator'), 'look-coordinator.yaml'),
    ];
    expect([a.stage, b.stage], `${a.message} / ${b.message}`).toEqual(['completed', 'completed']);
    const [x, y] = [
      a.summaries['brand'] as { seeds: unknown; pool: number; rows: unknown },
      b.summaries['brand'] as { seeds: unknown; pool: number; rows: unknown },
    ];
    expect(y.seeds).toEqual(x.seeds);
    expect(y.seeds).toMatchObject({ listed: 357, inPool: 357 });
    expect([y.pool, y.rows]).toEqual([x.pool, x.rows]);
  }, 240_000);
});
