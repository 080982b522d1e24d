/**
 * The ε of a differentially private job, as an auditor gets it: the guest
 * signs it into its own audit log when the job ends, `audit verify` checks
 * that statement like every record (and catches an edited ε), and
 * `audit report` shows it, saying whose statement it is.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../test/support/federation.ts';
import {
  parseAuditSource,
  readAuditSources,
  readAuditTrust,
  verifyAuditLogs,
  type AuditLogSource,
  type AuditTrust,
} from './verify.ts';
import { buildAuditReport, renderAuditReportHtml, writeAuditReport } from './report.ts';
import type { AuditRecord } from './log.ts';

type GuestSummary = { dp?: { epsilon: number; delta: number; budget: number; noiseMultiplier: number; steps: number } };

describe('audit of a differentially private job', () => {
  let fed: Federation;
  let jobId: string;
  let guestDp: NonNullable<GuestSummary['dp']>;
  let files: string[];
  let trust: AuditTrust;
  const logOf = (node: string): string => join(fed.dir, node, 'audit', `${node}.audit.jsonl`);

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
    const result = await runJob(fed, lrSpec({ privacy: { dp: { epsilon: 8 } }, training: { maxEpochs: 3 } }));
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    guestDp = (result.summaries['brand'] as GuestSummary).dp as NonNullable<GuestSummary['dp']>;
    expect(guestDp).toBeDefined();
    files = [join(fed.dir, 'coordinator', 'audit', 'coordinator.audit.jsonl'), logOf('brand'), logOf('partner')];
    trust = await readAuditTrust({
      ca: join(fed.dir, 'certs', 'ca.crt'),
      certsDir: join(fed.dir, 'certs'),
      nodes: ['coordinator', 'brand', 'partner'],
    });
  }, 180_000);

  afterAll(async () => {
    await fed.close();
  });

  const statements = (text: string): AuditRecord[] =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.kind === 'statement');

  it("signs the guest's ε into its audit log, matching its summary", async () => {
    const [statement, ...more] = statements(await readFile(logOf('brand'), 'utf8'));
    expect(more).toEqual([]);
    expect(statement).toMatchObject({ job: jobId, node: 'brand', direction: 'local', kind: 'statement', step: 'dp' });
    expect(statement?.claim).toMatchObject({
      type: 'dp',
      job: jobId,
      role: 'guest',
      epsilon: guestDp.epsilon,
      delta: guestDp.delta,
      budget: 8,
      steps: guestDp.steps,
      noiseMultiplier: guestDp.noiseMultiplier,
    });
    // The host runs the same plan and states the same ε; the coordinator states nothing.
    const [hostStatement, ...hostMore] = statements(await readFile(logOf('partner'), 'utf8'));
    expect(hostMore).toEqual([]);
    expect(hostStatement?.claim).toMatchObject({
      type: 'dp',
      job: jobId,
      role: 'host',
      epsilon: guestDp.epsilon,
      budget: 8,
      noiseMultiplier: guestDp.noiseMultiplier,
    });
    expect(statements(await readFile(files[0] ?? '', 'utf8'))).toEqual([]);
  });

  it("verifies, and the report shows ε ≤ 8 from the guest's signed statement", async () => {
    const sources = await readAuditSources(files);
    const verification = verifyAuditLogs(sources, trust);
    expect(verification.findings).toEqual([]);
    expect(verification.nodes.find((n) => n.node === 'brand')?.statements).toBe(1);

    const report = buildAuditReport(
      sources.map((s) => parseAuditSource(s)),
      { job: jobId, verification },
    );

    const b = report.privacyBudget;
    expect(b).toMatchObject({ enabled: true, statedBy: 'brand', epsilon: guestDp.epsilon, budget: 8, concerns: [] });
    expect(b.epsilon).toBeLessThanOrEqual(8);
    expect(b.headline).toMatch(/^ε spent: \d+(\.\d+)? \(δ = [0-9.e-]+, budget 8\)$/);
    expect(b.text).toContain("This figure is the guest's own signed statement in its audit log (brand,");
    expect(b.text).toContain("Its signature was checked with the guest's certificate.");
    for (const party of ['brand', 'partner'])
      expect(report.parties.find((p) => p.party === party)?.verdict.text).toMatch(
        new RegExp(`^No row-level plaintext left ${party}\\.`),
      );
    const out = await mkdtemp(join(tmpdir(), 'tandem-audit-dp-'));
    try {
      const written = await writeAuditReport(report, out);
      const json = JSON.parse(await readFile(written.json, 'utf8')) as {
        privacyBudget: { epsilon: number; statedBy: string };
      };
      expect(json.privacyBudget).toMatchObject({ epsilon: guestDp.epsilon, statedBy: 'brand' });
      expect(renderAuditReportHtml(report)).toContain(`<div class="banner ok">${b.headline}.`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('catches an edited ε, and names the record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-audit-dp-tamper-'));
    try {
      const text = await readFile(logOf('brand'), 'utf8');
      const lines = text.trimEnd().split('\n');
      const at = lines.findIndex((l) => (JSON.parse(l) as AuditRecord).kind === 'statement');
      const original = JSON.parse(lines[at] ?? '') as AuditRecord;
      lines[at] = JSON.stringify({ ...original, claim: { ...original.claim, epsilon: 0.5 } });
      const tampered = join(dir, 'brand.audit.jsonl');
      await writeFile(tampered, `${lines.join('\n')}\n`);
      const sources: AuditLogSource[] = await readAuditSources([files[0] ?? '', tampered, files[2] ?? '']);

      const verification = verifyAuditLogs(sources, trust);

      expect(verification.ok).toBe(false);
      expect(verification.findings.map((f) => [f.problem, f.file, f.line, f.seq])).toEqual([
        ['hash-mismatch', tampered, at + 1, original.seq],
        ['statement-invalid', tampered, at + 1, original.seq],
      ]);
      const report = buildAuditReport(
        sources.map((s) => parseAuditSource(s)),
        { job: jobId, verification },
      );
      expect(report.privacyBudget.epsilon).toBe(0.5);
      expect(report.privacyBudget.text).toContain('The logs did not verify, so do not rely on this figure');
      expect(renderAuditReportHtml(report)).toMatch(/<div class="banner (warn|bad)">ε spent: 0\.5/);
      // The host's own signed statement contradicts the edited figure, and the report says so.
      expect(report.privacyBudget.text).toMatch(/partner \(host\) stated ε = 8 .*disagrees with the guest/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
