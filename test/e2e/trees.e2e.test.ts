/**
 * Federated gradient-boosted trees end to end, over real gRPC with mTLS:
 * brand (guest, label) and partner (host) on breast with long ids, trained
 * with `model: { family: trees }`. Checked: the job completes with a model
 * as good as trees on the pooled columns (scikit-learn's scores on the same
 * data are the bar in bench/trees.ts; here the plaintext twin's); the saved
 * parts score every row consistently (the guest walks its trees with each
 * party's answers from its own thresholds); the guest's part holds no host
 * threshold and the host's no leaf value; no id, feature value or label
 * crosses the wire; every tree message is in both parties' audit logs and
 * the coordinator could read only seeds and share requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWireTap, type WireEvent } from '../../runtime/wire-tap.ts';
import { readAuditLog } from '../../audit/log.ts';
import { buildJobReport } from '../../report/job-report.ts';
import { renderJobReportHtml } from '../../report/html.ts';
import { readReportSource } from '../../report/files.ts';
import { buildAuditReport } from '../../audit/report.ts';
import { parseAuditSource } from '../../audit/verify.ts';
import { readFileSync } from 'node:fs';
import { loadPartyConfig } from '../../party/config.ts';
import { loadJobDataset } from '../../jobs/common/features.ts';
import { transformRows, type PreprocessSpec } from '../../data/preprocess.ts';
import { auc } from '../../protocol/evaluation/metrics.ts';
import { alignmentOrder } from '../../jobs/common/alignment.ts';
import type { Tree } from '../../models/trees/core/booster.ts';
import { predictions, rawScores, recordBits, type SavedRecord } from '../../models/trees/score.ts';
import {
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
  type JobResult,
} from '../support/federation.ts';
import { guestSplitSeed, pooledData } from '../../examples/pooled-reference.ts';
import { trainTwin } from '../../models/trees/core/twin.ts';
import { treesOptions } from '../../models/trees/spec.ts';
import { hexRuns, leakedIds, longIdBreastParties } from '../support/long-ids.ts';

type GuestPart = {
  family: string;
  objective: 'logistic';
  trees: Tree[][];
  base: number[];
  records: SavedRecord[];
  featureNames: string[];
  preprocess: PreprocessSpec;
  treeParties: string[];
  parties: { name: string }[];
};
type HostPart = {
  family: string;
  records: SavedRecord[];
  featureNames: string[];
  preprocess: PreprocessSpec;
  trees?: unknown;
};
type Summary = {
  model: string;
  epochs: number;
  metrics: { auc: number };
  guestOnly: { model: string; metrics: { auc: number }; byModel: { lr: { auc: number }; trees: { auc: number } } };
};

describe('federated trees: a full job', () => {
  let fed: Federation;
  let dir = '';
  let result: JobResult;
  const link: Buffer[] = [];
  const body: Buffer[] = [];
  const kinds = new Map<string, number>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-trees-'));
    fed = await startFederation({ parties: await longIdBreastParties(dir) });
    const remove = addWireTap((e: WireEvent) => {
      if (e.layer === 'link' && e.direction === 'out') link.push(Buffer.from(e.bytes));
      if (e.layer === 'body') {
        body.push(Buffer.from(e.bytes));
        kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      }
    });
    try {
      result = await runJob(
        fed,
        lrSpec({ name: 'test-trees', model: { family: 'trees', rounds: 30, maxDepth: 3 } }),
        'trees.yaml',
      );
    } finally {
      remove();
    }
  }, 300_000);

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  const part = async <T>(party: string): Promise<T> =>
    JSON.parse(await readFile(join(fed.dir, party, 'jobs', result.jobId, 'model-part.json'), 'utf8')) as T;
  const dataset = async (party: string) =>
    loadJobDataset((await loadPartyConfig(join(fed.dir, `${party}.yaml`))).datasets['d']!);

  it('trains trees that rank as well as trees can on these columns', () => {
    expect(result.stage, result.message).toBe('completed');
    const s = result.summaries['brand'] as Summary;
    expect(s.model).toBe('trees');
    expect(s.epochs).toBeGreaterThan(3);
    expect(s.metrics.auc).toBeGreaterThan(0.95);
    // "Your data alone" is the better of the guest's own LR and trees, and both are reported.
    expect(s.guestOnly.byModel.lr.auc).toBeGreaterThan(0.9);
    expect(s.guestOnly.byModel.trees.auc).toBeGreaterThan(0.9);
    expect(s.guestOnly.metrics.auc).toBe(Math.max(s.guestOnly.byModel.lr.auc, s.guestOnly.byModel.trees.auc));
    expect(result.summaries['partner']).toMatchObject({ role: 'host', model: 'trees' });
  });

  it('reports importance by gain: own features by name, the host only in aggregate, in the summary and the HTML report', async () => {
    const s = result.summaries['brand'] as Summary & {
      importance: { own: Record<string, number>; hosts: Record<string, number> };
    };
    const guest = await part<GuestPart>('brand');
    for (const name of Object.keys(s.importance.own)) expect(guest.featureNames).toContain(name);
    expect(Object.keys(s.importance.hosts)).toEqual(['partner']);
    expect(s.importance.hosts['partner']).toBeGreaterThan(0);
    const report = buildJobReport(await readReportSource(join(fed.dir, 'brand'), result.jobId), {
      coordinator: { reached: false, reason: 'not asked in this test' },
    });
    expect(report.importance?.reduce((t, i) => t + i.share, 0)).toBeCloseTo(1, 9);
    expect(renderJobReportHtml(report)).toMatch(/partner(&apos;|&#39;|')s columns \(together\)/);
  });

  it('grows exactly the trees of the plaintext twin on the pooled data (same alignment, split and seed)', async () => {
    const spec = lrSpec({ name: 'test-trees', model: { family: 'trees', rounds: 30, maxDepth: 3 } });
    const files = new Map(['brand', 'partner'].map((p) => [p, partyConfigFile(fed, p)]));
    const pooled = await pooledData(
      await fed.write('twin.yaml', spec),
      files,
      await guestSplitSeed(partyConfigFile(fed, 'brand'), result.jobId),
    );
    const twin = await trainTwin({
      parties: [pooled.guest, ...pooled.hosts],
      train: pooled.train,
      labels: pooled.labels,
      objective: 'logistic',
      outputs: 1,
      params: treesOptions(pooled.spec.model),
      seed: String(pooled.spec.seed),
    });
    expect((await part<GuestPart>('brand')).trees).toEqual(twin.trees);
    const twinAuc = auc(
      Float64Array.from(pooled.test, (r) => twin.scores[r] ?? 0),
      pooled.yTest,
    );
    expect((result.summaries['brand'] as Summary).metrics.auc).toBeCloseTo(twinAuc, 12);

    // The guest's own-columns trees (what serving falls back to) are the twin's on its columns alone, and score as reported.
    const alone = await trainTwin({
      parties: [pooled.guest],
      train: pooled.train,
      labels: pooled.labels,
      objective: 'logistic',
      outputs: 1,
      params: treesOptions(pooled.spec.model),
      seed: `${pooled.spec.seed}|own`,
    });
    const saved = (await part<GuestPart & { ownTrees?: { trees: Tree[][]; base: number[] } }>('brand')).ownTrees;
    expect(saved?.trees).toEqual(alone.trees);
    expect(saved?.base).toEqual([...alone.base]);
    const aloneAuc = auc(
      Float64Array.from(pooled.test, (r) => alone.scores[r] ?? 0),
      pooled.yTest,
    );
    const byModel = (result.summaries['brand'] as { guestOnly: { byModel: { trees: { auc: number } } } }).guestOnly;
    expect(byModel.byModel.trees.auc).toBeCloseTo(aloneAuc, 12);
  });

  it('keeps thresholds with their owner: the guest part has its trees and its own records, the host part its records only', async () => {
    const guest = await part<GuestPart>('brand');
    const host = await part<HostPart>('partner');
    expect(guest.family).toBe('trees');
    expect(guest.treeParties).toEqual(['(guest)', 'partner']);
    expect(guest.parties.map((p) => p.name)).toEqual(['brand', 'partner']);
    const hostSplits = guest.trees.flat().flatMap((t) => t.filter((n) => 'party' in n && n.party === 1));
    expect(hostSplits.length).toBeGreaterThan(0);
    expect(host.records.length).toBeGreaterThanOrEqual(hostSplits.length);
    for (const r of guest.records) expect(guest.featureNames).toContain(r.feature);
    for (const r of host.records) expect(host.featureNames).toContain(r.feature);
    expect(host.trees).toBeUndefined();
  });

  it('scores every row from the saved parts, each party answering from its own thresholds', async () => {
    const guest = await part<GuestPart>('brand');
    const host = await part<HostPart>('partner');
    const [g, h] = [await dataset('brand'), await dataset('partner')];
    const all = (n: number) => Uint32Array.from({ length: n }, (_, k) => k);
    const gm = transformRows(guest.preprocess, g, all(g.rowCount)).matrix;
    const hm = transformRows(host.preprocess, h, all(h.rowCount)).matrix;
    const hostRow = new Map(h.ids.map((id, k) => [id, k]));
    const gc = guest.featureNames.length;
    const hc = host.featureNames.length;
    const scores = g.ids.map((id, k) => {
      const j = hostRow.get(id) ?? -1;
      const bits = [
        recordBits(guest.records, guest.featureNames, gm.subarray(k * gc, (k + 1) * gc)),
        recordBits(host.records, host.featureNames, hm.subarray(j * hc, (j + 1) * hc)),
      ];
      return predictions('logistic', rawScores(guest.trees, guest.base, bits))[0] ?? 0;
    });
    expect(auc(scores, Int32Array.from(g.labels ?? []))).toBeGreaterThan(0.97);
  });

  it('carries no id in any envelope or opened body, and uses the tree steps', async () => {
    expect(kinds.get('secret-share')).toBeGreaterThan(0);
    expect(kinds.get('split-bits')).toBeGreaterThan(0);
    expect(kinds.has('ciphertext')).toBe(false);
    const captured = [...hexRuns(Buffer.concat(link)), ...hexRuns(Buffer.concat(body))];
    for (const name of ['brand', 'partner']) expect(leakedIds((await dataset(name)).ids, captured)).toEqual([]);
    expect(Buffer.concat(link).includes('cust-')).toBe(false);
  });

  it('carries no raw or standardised feature value of the host as float64', async () => {
    const host = await part<HostPart>('partner');
    const h = await dataset('partner');
    const all = Uint32Array.from({ length: h.rowCount }, (_, k) => k);
    const values = new Set<bigint>();
    const view = new DataView(new ArrayBuffer(8));
    for (const v of [...h.features, ...transformRows(host.preprocess, h, all).matrix]) {
      if (!Number.isFinite(v) || v === 0 || Number.isInteger(v)) continue;
      view.setFloat64(0, v, true);
      values.add(view.getBigUint64(0, true));
    }
    const hay = Buffer.concat([...link, ...body]);
    let hits = 0;
    for (let i = 0; i + 8 <= hay.length; i++) if (values.has(hay.readBigUInt64LE(i))) hits++;
    expect(hits).toBe(0);
  });

  it('carries no run of labels, in file order or in the aligned order, as bytes, int32, float32 or float64', async () => {
    const g = await dataset('brand');
    const labels = Int32Array.from(g.labels ?? []);
    const aligned = Int32Array.from(
      alignmentOrder(
        g.ids,
        g.ids.map((_, row) => row),
        '42',
      ),
      (row) => labels[row] ?? 0,
    );
    const hay = Buffer.concat([...link, ...body]);
    for (const order of [labels, aligned]) {
      for (let start = 0; start + 64 <= order.length; start += 97) {
        const run = order.subarray(start, start + 64);
        const patterns = [
          Buffer.from(Uint8Array.from(run)),
          Buffer.from(run.buffer, run.byteOffset, run.byteLength),
          Buffer.from(Float32Array.from(run).buffer),
          Buffer.from(Float64Array.from(run).buffer),
        ];
        for (const pattern of patterns) expect(hay.includes(pattern)).toBe(false);
      }
    }
  });

  it('audit-logs every tree message at both parties; the coordinator gets only seeds and share requests', () => {
    const at = (node: string) =>
      readAuditLog(join(fed.dir, node, 'audit', `${node}.audit.jsonl`)).filter(
        (r) => r.job === result.jobId && r.step.startsWith('tree-'),
      );
    const steps = (node: string, direction: string) =>
      new Set(
        at(node)
          .filter((r) => r.direction === direction)
          .map((r) => r.step),
      );
    expect([...steps('brand', 'sent')].sort()).toEqual([
      'tree-deal',
      'tree-seed',
      'tree-splits',
      'tree-step',
      'tree-vectors',
    ]);
    expect([...steps('partner', 'sent')].sort()).toEqual([
      'tree-host-shares',
      'tree-layout',
      'tree-masked-bins',
      'tree-seed',
      'tree-split-bits',
    ]);
    // The coordinator reads only the dealer's messages; everything else it relayed sealed, bytes it cannot open.
    const coordinator = at('coordinator').filter((r) => r.direction === 'received');
    expect(new Set(coordinator.filter((r) => !r.sealed).map((r) => r.step))).toEqual(
      new Set(['tree-deal', 'tree-seed']),
    );
    expect(coordinator.filter((r) => r.kind === 'secret-share' || r.kind === 'split-bits').every((r) => r.sealed)).toBe(
      true,
    );
    expect(
      at('brand')
        .filter((r) => r.peer === 'partner')
        .every((r) => r.sealed),
    ).toBe(true);
  });

  it("audit report: no row-level plaintext left either party, and the host's split sides are named as what left it", () => {
    const logs = ['coordinator', 'brand', 'partner'].map((node) => join(fed.dir, node, 'audit', `${node}.audit.jsonl`));
    const report = buildAuditReport(
      logs.map((file) => parseAuditSource({ file, text: readFileSync(file, 'utf8') })),
      { job: result.jobId },
    );
    const party = (name: string) => report.parties.find((p) => p.party === name);
    expect(party('brand')?.role).toBe('guest');
    expect(party('brand')?.verdict.noRowLevelPlaintext).toBe(true);
    expect(party('partner')?.verdict.noRowLevelPlaintext).toBe(true);
    expect(party('partner')?.verdict.text).toMatch(/kind split-bits/);
  });
});
