/**
 * OPRF-PSI (`alignment.psi: oprf`, docs/psi-oprf.md) end to end: the same
 * hetero-LR job on the same data, aligned once by ECDH-PSI and by OPRF-PSI
 * (one bucket, and four buckets so that padded positions are on the wire),
 * over real gRPC with mTLS and real CKKS. Checked: the same rows and (up to
 * CKKS and flooding noise) the same model and accuracy; no id crosses the
 * wire in any form the capture can find, and no blinded ECDH element either;
 * every OPRF message is sealed and in both parties' audit logs and in the
 * coordinator's as a relay it could not open, and the audit report explains
 * each step; lookalike (membership mode, padding positions included) finds
 * the same seeds as with ECDH; reach is refused at submit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWireTap, type WireEvent } from '../../runtime/wire-tap.ts';
import { readAuditLog, type AuditRecord } from '../../audit/log.ts';
import { buildAuditReport, KIND_MEANINGS, STEP_MEANINGS } from '../../audit/report.ts';
import { parseAuditSource, readAuditTrust, verifyAuditLogs } from '../../audit/verify.ts';
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
type LookalikeSummary = {
  seeds: { listed: number; inPool: number; heldOut: number };
  pool: number;
  decoys: number;
  rows: { aligned: number; train: number; validation: number };
  losses: number[];
};

const OPRF_STEPS = ['psi-oprf-hello', 'psi-oprf-setup', 'psi-oprf-correction', 'psi-oprf-values'];

describe('OPRF-PSI: a full job', () => {
  let fed: Federation;
  let dir = '';
  let ecdh: JobResult;
  let oprf: JobResult;
  let oprf4: JobResult;
  const link: Buffer[] = [];
  const body: Buffer[] = [];
  const kinds = new Map<string, number>();
  const steps = new Map<string, number>();
  const spec = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    lrSpec({ training: { maxEpochs: 5 }, ...extra });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-oprf-'));
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
        steps.set(e.step, (steps.get(e.step) ?? 0) + 1);
      }
    });
    try {
      oprf = await runJob(fed, spec({ alignment: { psi: 'oprf' } }), 'oprf.yaml');
      oprf4 = await runJob(fed, spec({ alignment: { psi: 'oprf', oprf: { buckets: 4, workers: 0 } } }), 'oprf4.yaml');
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
  const auditFile = (node: string): string => join(fed.dir, node, 'audit', `${node}.audit.jsonl`);
  const oprfRecords = (node: string, jobId: string): AuditRecord[] =>
    readAuditLog(auditFile(node)).filter((r) => r.job === jobId && r.kind === 'psi-oprf');

  it('trains on the same rows to the same model and accuracy as ECDH-PSI, with one bucket and with four', async () => {
    expect(ecdh.stage, ecdh.message).toBe('completed');
    const a = ecdh.summaries['brand'] as GuestSummary;
    // breast: 569 ids on each side, all shared.
    expect(a.rows.aligned).toBe(569);
    for (const run of [oprf, oprf4]) {
      expect(run.stage, run.message).toBe('completed');
      const b = run.summaries['brand'] as GuestSummary;
      expect(b.rows).toEqual(a.rows);
      expect(b.epochs).toBe(a.epochs);
      expect(Math.abs(b.metrics.auc - a.metrics.auc)).toBeLessThan(1e-3);
      expect(b.metrics.accuracy).toBeCloseTo(a.metrics.accuracy, 2);
      // Same rows in the same (seeded) order give the same weights up to CKKS noise (seen: ≤ 3e-4 on weights of ~0.2).
      for (const party of ['brand', 'partner']) {
        const [x, y] = [await modelPart(party, ecdh.jobId), await modelPart(party, run.jobId)];
        const gap = Math.max(
          ...x.weights.map((w, k) => Math.abs(w - (y.weights[k] ?? Infinity))),
          Math.abs(x.intercept - y.intercept),
        );
        expect(gap, `${party} in ${run.jobId}`).toBeLessThan(2e-3);
      }
    }
  });

  it('sends OPRF messages between the parties and no blinded ECDH elements', () => {
    for (const s of OPRF_STEPS) expect(steps.get(s), s).toBeGreaterThan(0);
    // One hello and one setup per job; four buckets make at least four corrections and four value messages.
    expect(steps.get('psi-oprf-hello')).toBe(2);
    expect(steps.get('psi-oprf-setup')).toBe(2);
    expect(steps.get('psi-oprf-correction')).toBeGreaterThanOrEqual(1 + 4);
    expect(steps.get('psi-oprf-values')).toBeGreaterThanOrEqual(1 + 4);
    expect(kinds.get('psi-oprf')).toBe([...OPRF_STEPS].reduce((n, s) => n + (steps.get(s) ?? 0), 0));
    expect(kinds.has('psi-blinded')).toBe(false);
    expect(kinds.has('psi-prf')).toBe(false);
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

  it('audit-logs every OPRF message, sealed, at both parties and as a relay the coordinator could not open', async () => {
    for (const run of [oprf, oprf4]) {
      const [brand, partner, coordinator] = [
        oprfRecords('brand', run.jobId),
        oprfRecords('partner', run.jobId),
        oprfRecords('coordinator', run.jobId),
      ];
      // The guest sends setup and corrections and receives hello and values; the host the other way round.
      const ids = (records: AuditRecord[], direction: string, peer: string, from: readonly string[]): string[] =>
        records
          .filter((r) => r.direction === direction && r.peer === peer && from.includes(r.step))
          .map((r) => r.messageId)
          .sort();
      const guestSent = ids(brand, 'sent', 'partner', ['psi-oprf-setup', 'psi-oprf-correction']);
      const hostSent = ids(partner, 'sent', 'brand', ['psi-oprf-hello', 'psi-oprf-values']);
      expect(guestSent.length).toBeGreaterThanOrEqual(2);
      expect(hostSent.length).toBeGreaterThanOrEqual(2);
      expect(brand.length + partner.length).toBe(2 * (guestSent.length + hostSent.length));
      expect(ids(partner, 'received', 'brand', ['psi-oprf-setup', 'psi-oprf-correction'])).toEqual(guestSent);
      expect(ids(brand, 'received', 'partner', ['psi-oprf-hello', 'psi-oprf-values'])).toEqual(hostSent);
      expect([...brand, ...partner].every((r) => r.sealed)).toBe(true);
      // The coordinator received each from its sender and passed it on, sealed, unchanged (same digest).
      expect(ids(coordinator, 'received', 'brand', OPRF_STEPS)).toEqual(guestSent);
      expect(ids(coordinator, 'sent', 'partner', OPRF_STEPS)).toEqual(guestSent);
      expect(ids(coordinator, 'received', 'partner', OPRF_STEPS)).toEqual(hostSent);
      expect(ids(coordinator, 'sent', 'brand', OPRF_STEPS)).toEqual(hostSent);
      expect(coordinator.length).toBe(2 * (guestSent.length + hostSent.length));
      expect(coordinator.every((r) => r.sealed)).toBe(true);
      const digests = (records: AuditRecord[]): string[] => records.map((r) => `${r.messageId} ${r.sha256}`).sort();
      expect(new Set(digests(coordinator))).toEqual(new Set(digests([...brand, ...partner])));
    }
    // Four buckets: a correction and a value message per bucket at least, each in its own round.
    expect(
      new Set(
        oprfRecords('brand', oprf4.jobId)
          .filter((r) => r.step === 'psi-oprf-correction')
          .map((r) => r.round),
      ),
    ).toEqual(new Set([0, 1, 2, 3]));

    const trust = await readAuditTrust({
      ca: fed.certs('brand').ca,
      certsDir: join(fed.dir, 'certs'),
      nodes: ['coordinator', 'brand', 'partner'],
    });
    const logs = ['coordinator', 'brand', 'partner'].map((n) => ({
      file: auditFile(n),
      text: readFileSync(auditFile(n), 'utf8'),
    }));
    const verification = verifyAuditLogs(logs, trust);
    expect(verification.findings).toEqual([]);
    const report = buildAuditReport(
      logs.map((log) => parseAuditSource(log)),
      { job: oprf4.jobId, verification },
    );
    expect(report.verification.ok).toBe(true);
    expect(Object.fromEntries(report.parties.map((p) => [p.party, p.role]))).toEqual({
      brand: 'guest',
      partner: 'host',
    });
    for (const p of report.parties) {
      expect(p.verdict.noRowLevelPlaintext, p.verdict.text).toBe(true);
      const group = p.groups.find((g) => g.kind === 'psi-oprf');
      expect(group?.meaning).toBe(KIND_MEANINGS['psi-oprf']);
      expect(group?.sealedToParties).toBe(group?.messages);
      for (const s of group?.steps ?? []) expect(s.meaning, s.step).toBe(STEP_MEANINGS[s.step]);
      expect(group?.steps.map((s) => s.step).sort()).toEqual(
        p.role === 'guest' ? ['psi-oprf-correction', 'psi-oprf-setup'] : ['psi-oprf-hello', 'psi-oprf-values'],
      );
      expect(p.disclosures.join(' '), p.party).toMatch(/learned how many identifiers/);
    }
    for (const s of OPRF_STEPS) expect(STEP_MEANINGS[s]?.length, s).toBeGreaterThan(40);
    expect(report.kinds.map((k) => k.kind)).toContain('psi-oprf');
    // The coordinator relays sealed bytes and sends no OPRF message of its own.
    expect(report.coordinator?.relayed.unsealed).toBe(0);
    expect(report.coordinator?.groups.some((g) => g.kind === 'psi-oprf')).toBe(false);
  });

  const seedJob = (kind: 'lookalike' | 'reach', alignment: Record<string, unknown>): Record<string, unknown> => ({
    name: `${kind}-${String(alignment['psi'])}`,
    kind,
    seed: 42,
    alignment,
    ...(kind === 'lookalike' ? { training: { maxEpochs: 3 } } : {}),
    parties: [
      { name: 'brand', role: 'guest', dataset: 'seeds' },
      { name: 'partner', role: 'host', dataset: 'd' },
    ],
  });

  it('finds the same seeds in the pool for lookalike as ECDH membership PSI, also with padded buckets', async () => {
    const a = await runJob(fed, seedJob('lookalike', { psi: 'ecdh' }), 'look-ecdh.yaml');
    const b = await runJob(fed, seedJob('lookalike', { psi: 'oprf' }), 'look-oprf.yaml');
    // Four buckets of 244 positions for a pool of 569: 407 padding positions, which the host names so no decoy is drawn there.
    const c = await runJob(fed, seedJob('lookalike', { psi: 'oprf', oprf: { buckets: 4 } }), 'look-oprf4.yaml');
    // Eight buckets, half as many decoys as seeds: decoys drawn among real non-seeds only.
    const d = await runJob(
      fed,
      { ...seedJob('lookalike', { psi: 'oprf', oprf: { buckets: 8 } }), lookalike: { decoyRatio: 0.5 } },
      'look-oprf8.yaml',
    );
    for (const r of [a, b, c, d]) expect(r.stage, r.message).toBe('completed');
    const summary = (r: JobResult): LookalikeSummary => r.summaries['brand'] as LookalikeSummary;
    const x = summary(a);
    expect(x.seeds).toMatchObject({ listed: 357, inPool: 357 });
    expect([x.pool, x.decoys]).toEqual([569, 212]); // decoyRatio 1 asks for 357 decoys: all 212 non-seeds
    for (const r of [b, c]) {
      expect(summary(r).seeds).toEqual(x.seeds);
      expect([summary(r).pool, summary(r).decoys, summary(r).rows]).toEqual([x.pool, x.decoys, x.rows]);
    }
    expect(summary(d).seeds).toMatchObject({ listed: 357, inPool: 357 });
    expect([summary(d).pool, summary(d).decoys]).toEqual([569, 179]);
    for (const r of [b, c, d]) {
      // The host trained on distinct real rows, one per selected position (a padding position would be refused).
      const selected = (
        JSON.parse(await readFile(join(fed.dir, 'partner', 'jobs', r.jobId, 'model-part.json'), 'utf8')) as {
          selectedRows: number[];
        }
      ).selectedRows;
      expect(selected.length).toBe(357 + summary(r).decoys);
      expect(new Set(selected).size).toBe(selected.length);
      expect(selected.every((row) => Number.isInteger(row) && row >= 0 && row < 569)).toBe(true);
      // Labels line up with the host's rows: the loss falls as with ECDH (unaligned labels would stay near the prior's 0.66).
      expect(Math.abs(summary(r).losses.at(-1)! - x.losses.at(-1)!), r.jobId).toBeLessThan(0.05);
    }
    expect(
      new Set(
        oprfRecords('brand', c.jobId)
          .filter((r) => r.step === 'psi-oprf-values')
          .map((r) => r.round),
      ),
    ).toEqual(new Set([0, 1, 2, 3]));
    // The host named its padding positions to the guest, once per OPRF lookalike job, sealed.
    for (const r of [b, c, d]) {
      const padding = readAuditLog(join(fed.dir, 'brand', 'audit', 'brand.audit.jsonl')).filter(
        (x) => x.job === r.jobId && x.step === 'lookalike-padding',
      );
      expect(padding.map((x) => [x.direction, x.sealed])).toEqual([['received', true]]);
    }
  }, 180_000);

  it('refuses a reach job with psi: oprf at submit', async () => {
    const file = await fed.write('reach-oprf.yaml', seedJob('reach', { psi: 'oprf' }));
    const admin = await fed.admin();
    try {
      await expect(admin.submit(file)).rejects.toMatchObject({
        code: 'JOB_SPEC_INVALID',
        message: expect.stringMatching(
          /reach-oprf\.yaml: alignment\.psi: is oprf, which cannot count a reach.*Fix: use psi: ecdh/s,
        ) as string,
      });
    } finally {
      admin.close();
    }
  });
});
