import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, type DpClaim } from './log.ts';
import { parseAuditSource, verifyAuditLogs, type ParsedAuditLog } from './verify.ts';
import { buildAuditReport, formatEpsilon, renderAuditReportHtml, writeAuditReport } from './report.ts';
import { JobError } from '../protocol/errors.ts';
import { auditCommand } from '../cli/commands/audit.ts';
import {
  useAuditFixture,
  exchange,
  NODES,
  root,
  certs,
  ids,
  trust,
  type Logs,
  type Message,
  type NodeName,
} from '../test/support/audit-logs.ts';

const JOB_ID = 'job-0123456789';

useAuditFixture();

/** A hetero-LR job between brand (guest) and partner (host), with the hosts' validation scores shared. */
const JOB: readonly (Message & { readonly bodyBytes: number })[] = [
  { from: 'coordinator', to: 'brand', step: 'assignment', kind: 'key', bodyBytes: 300 },
  { from: 'coordinator', to: 'partner', step: 'assignment', kind: 'key', bodyBytes: 300 },
  { from: 'brand', to: 'coordinator', step: 'party-key', kind: 'key', bodyBytes: 90 },
  { from: 'partner', to: 'coordinator', step: 'party-key', kind: 'key', bodyBytes: 90 },
  { from: 'brand', to: 'partner', step: 'psi-guest-set', kind: 'psi-blinded', bodyBytes: 3200 },
  { from: 'partner', to: 'brand', step: 'psi-host-set', kind: 'psi-blinded', bodyBytes: 3200 },
  { from: 'partner', to: 'brand', step: 'psi-guest-reblinded', kind: 'psi-blinded', bodyBytes: 3200 },
  { from: 'brand', to: 'partner', step: 'psi-result', kind: 'control', bodyBytes: 400 },
  { from: 'brand', to: 'partner', step: 'split', kind: 'control', bodyBytes: 80 },
  { from: 'partner', to: 'brand', step: 'basis', kind: 'ciphertext', bodyBytes: 5000 },
  { from: 'brand', to: 'partner', step: 'residual', kind: 'ciphertext', bodyBytes: 5000 },
  { from: 'brand', to: 'coordinator', step: 'decrypt', kind: 'masked', bodyBytes: 900 },
  { from: 'partner', to: 'coordinator', step: 'decrypt', kind: 'masked', bodyBytes: 900 },
  { from: 'coordinator', to: 'brand', step: 'decrypt-result', kind: 'aggregate', bodyBytes: 40 },
  { from: 'coordinator', to: 'partner', step: 'decrypt-result', kind: 'aggregate', bodyBytes: 40 },
  { from: 'brand', to: 'partner', step: 'epoch-control', kind: 'control', bodyBytes: 8 },
  { from: 'partner', to: 'brand', step: 'validation-scores', kind: 'partial-score', bodyBytes: 160 },
  { from: 'brand', to: 'coordinator', step: 'event', kind: 'control', bodyBytes: 60 },
  { from: 'partner', to: 'coordinator', step: 'event', kind: 'control', bodyBytes: 60 },
];

const logFile = (dir: string, node: NodeName): string => join(dir, `${node}.audit.jsonl`);

/** Writes the three logs with the real AuditLog and keys; returns each message's envelope size by step and sender. */
function writeJob(dir: string, messages: readonly Message[] = JOB): Map<string, number> {
  const logs = Object.fromEntries(NODES.map((n) => [n, new AuditLog(logFile(dir, n), n, ids[n].privateKey)])) as Logs;
  const sizes = new Map<string, number>();
  for (const m of messages) sizes.set(`${m.from}/${m.step}`, exchange(logs, JOB_ID, m));
  for (const n of NODES) logs[n].close();
  return sizes;
}

const parse = (files: readonly string[]): ParsedAuditLog[] =>
  files.map((file) => parseAuditSource({ file, text: readFileSync(file, 'utf8') }));
const sources = (files: readonly string[]) => files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));

describe('audit report', () => {
  it("says no row-level plaintext left either party, and names the host's validation scores as derived per-row scores", () => {
    const dir = mkdtempSync(join(root, 'job-'));
    const sizes = writeJob(dir);
    const files = NODES.map((n) => logFile(dir, n));
    const verification = verifyAuditLogs(sources(files), trust);

    const report = buildAuditReport(parse(files), { job: JOB_ID, verification });

    expect(verification.ok).toBe(true);
    expect(report.verification).toMatchObject({ checked: true, ok: true });
    expect(report.privacyBudget.text).toMatch(/^ε spent: not enabled/);
    const brand = report.parties.find((p) => p.party === 'brand');
    const partner = report.parties.find((p) => p.party === 'partner');
    expect(brand).toMatchObject({ role: 'guest', source: 'own log', messages: 8 });
    expect(brand?.verdict).toEqual({
      noRowLevelPlaintext: true,
      concerns: [],
      text: 'No row-level plaintext left brand.',
    });
    expect(partner?.role).toBe('host');
    expect(partner?.verdict.noRowLevelPlaintext).toBe(true);
    expect(partner?.verdict.text).toMatch(
      /^No row-level plaintext left partner\. Derived per-row scores for validation rows did leave it: 1 message \(.+\) to brand, kind partial-score\.$/,
    );
    expect(
      partner?.disclosures.some((d) => d.startsWith('Derived per-row scores for validation rows: brand received')),
    ).toBe(true);
    expect(partner?.disclosures.some((d) => d.includes('which of its own identifiers partner also holds'))).toBe(true);
    expect(
      brand?.disclosures.some((d) => d.includes('partner learned which of its own rows are shared with brand')),
    ).toBe(true);
    expect(
      brand?.disclosures.some((d) => d.includes('partner learned which shared rows were held out for validation')),
    ).toBe(true);

    const psi = partner?.groups.find((g) => g.kind === 'psi-blinded');
    expect(psi).toMatchObject({ messages: 2, sealed: 2, recipients: { brand: 2 } });
    expect(psi?.bytes).toBe((sizes.get('partner/psi-host-set') ?? 0) + (sizes.get('partner/psi-guest-reblinded') ?? 0));
    expect(psi?.steps.map((s) => s.step)).toEqual(['psi-host-set', 'psi-guest-reblinded']);
    expect(brand?.groups.map((g) => g.kind)).toEqual(['control', 'key', 'psi-blinded', 'ciphertext', 'masked']);
    expect(brand?.groups.find((g) => g.kind === 'control')).toMatchObject({
      messages: 4,
      toParties: 3,
      sealedToParties: 3,
      recipients: { partner: 3, coordinator: 1 },
    });
    expect(brand?.groups.find((g) => g.kind === 'masked')).toMatchObject({ toParties: 0, sealed: 0 });
    expect(brand?.bytes).toBe([...sizes].filter(([k]) => k.startsWith('brand/')).reduce((n, [, v]) => n + v, 0));

    expect(report.coordinator?.relayed).toEqual({ messages: 9, bytes: expect.any(Number) as number, unsealed: 0 });
    expect(report.coordinator?.groups.map((g) => g.kind)).toEqual(['key', 'aggregate']);
  });

  it('withholds the verdict when a party sent something the coordinator could read or decrypt', () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    writeJob(dir, [
      ...JOB,
      { from: 'partner', to: 'coordinator', step: 'basis', kind: 'ciphertext', bodyBytes: 500 },
      { from: 'brand', to: 'partner', step: 'residual', kind: 'ciphertext', bodyBytes: 500, seq: 1, sealed: false },
    ]);

    const report = buildAuditReport(parse(NODES.map((n) => logFile(dir, n))), { job: JOB_ID });

    const partner = report.parties.find((p) => p.party === 'partner');
    expect(partner?.verdict.noRowLevelPlaintext).toBe(false);
    expect(partner?.verdict.text).toBe(
      "Cannot confirm that no row-level plaintext left partner: 1 message of kind ciphertext went to the coordinator, which holds the job's decryption key.",
    );
    const brand = report.parties.find((p) => p.party === 'brand');
    expect(brand?.verdict.text).toContain(
      '1 message to another party was not sealed, so the coordinator could read it (residual)',
    );
    expect(report.coordinator?.relayed.unsealed).toBe(1);
    expect(report.verification).toMatchObject({ checked: false });
    expect(report.verification.text).toMatch(/^Not verified/);
  });

  it("falls back to what the others received when a party's own log is missing", () => {
    const dir = mkdtempSync(join(root, 'peers-'));
    writeJob(dir);

    const report = buildAuditReport(parse([logFile(dir, 'coordinator'), logFile(dir, 'brand')]), { job: JOB_ID });

    const partner = report.parties.find((p) => p.party === 'partner');
    expect(partner).toMatchObject({ source: "peers' logs", messages: 7, role: 'host' });
    expect(partner?.groups.find((g) => g.kind === 'partial-score')?.messages).toBe(1);
  });

  it('says a job ran with differential privacy when the guest sent a dp-plan, without inventing an ε', () => {
    const dir = mkdtempSync(join(root, 'dp-'));
    writeJob(dir, [...JOB, { from: 'brand', to: 'coordinator', step: 'dp-plan', kind: 'control', bodyBytes: 20 }]);

    const report = buildAuditReport(parse(NODES.map((n) => logFile(dir, n))), { job: JOB_ID });

    expect(report.privacyBudget).toMatchObject({ enabled: true, epsilon: null, statements: [] });
    expect(report.privacyBudget.text).toMatch(/^ε spent: not recorded\. Differential privacy was switched on/);
    expect(report.privacyBudget.text).toContain(
      "none of the logs given holds the guest's signed statement of the ε spent",
    );
  });

  const DP_JOB: readonly Message[] = [
    ...JOB,
    { from: 'brand', to: 'coordinator', step: 'dp-plan', kind: 'control', bodyBytes: 20 },
  ];
  const claim = (role: string, epsilon = 7.9312, extra: Partial<DpClaim> = {}): DpClaim => ({
    type: 'dp',
    job: JOB_ID,
    role,
    epsilon,
    delta: 1e-5,
    budget: 8,
    steps: 30,
    noiseMultiplier: 1.23456,
    evaluationNoiseMultiplier: 0.8,
    clip: 1,
    samplingRate: 0.25,
    accountant: 'rdp-subsampled-gaussian',
    ...extra,
  });
  /** Appends statements to the nodes' logs, as party/node.ts does when a job ends. */
  const state = (dir: string, node: NodeName, c: DpClaim): void => {
    const log = new AuditLog(logFile(dir, node), node, ids[node].privateKey);
    log.state(c);
    log.close();
  };

  it("shows the ε spent from the guest's signed statement, verified, with a host's agreeing statement beside it", () => {
    const dir = mkdtempSync(join(root, 'dp-stated-'));
    writeJob(dir, DP_JOB);
    state(dir, 'brand', claim('guest'));
    state(dir, 'partner', claim('host'));
    const files = NODES.map((n) => logFile(dir, n));
    const verification = verifyAuditLogs(sources(files), trust);

    const report = buildAuditReport(parse(files), { job: JOB_ID, verification });

    expect(verification.findings).toEqual([]);
    const b = report.privacyBudget;
    expect(b).toMatchObject({
      enabled: true,
      epsilon: 7.9312,
      delta: 1e-5,
      budget: 8,
      statedBy: 'brand',
      concerns: [],
      headline: 'ε spent: 7.94 (δ = 0.00001, budget 8)',
    });
    expect(b.statements.map((s) => [s.party, s.role, s.line])).toEqual([
      ['brand', 'guest', 16],
      ['partner', 'host', 15],
    ]);
    expect(b.text).toMatch(
      /^ε spent: 7\.94 \(δ = 0\.00001, budget 8\)\. This figure is the guest's own signed statement in its audit log \(brand, .*brand\.audit\.jsonl line 16, seq 15\)/,
    );
    expect(b.text).toContain('30 noisy training steps at noise multiplier 1.235');
    expect(b.text).toContain("Its signature was checked with the guest's certificate.");
    expect(b.text).toContain('partner stated the same figure in its own log.');
    // Statements are not messages: they change no party's totals or verdict.
    expect(report.parties.find((p) => p.party === 'brand')).toMatchObject({ role: 'guest', messages: 9 });
    expect(report.parties.map((p) => p.party)).toEqual(['brand', 'partner']);

    const html = renderAuditReportHtml(report);
    expect(html).toContain('<div class="banner ok">ε spent: 7.94 (δ = 0.00001, budget 8).');
    expect(html).toContain('<h2>Privacy budget (differential privacy)</h2>');
    expect(html).toMatch(/<td>brand \(guest\)<\/td><td class="n" title="7\.9312">7\.94<\/td>/);
  });

  it('names what to look into: a host that disagrees, ε over the budget, an unverified statement', () => {
    const dir = mkdtempSync(join(root, 'dp-concerns-'));
    writeJob(dir, DP_JOB);
    state(dir, 'brand', claim('guest', 8.5));
    state(dir, 'partner', claim('host', 3));

    const report = buildAuditReport(parse(NODES.map((n) => logFile(dir, n))), { job: JOB_ID });

    const b = report.privacyBudget;
    expect(b.epsilon).toBe(8.5);
    expect(b.concerns).toEqual([
      'the ε spent (8.5) is over the declared budget (8)',
      expect.stringMatching(
        /^partner \(host\) stated ε = 3 \(δ = 0\.00001, budget 8\) at .*partner\.audit\.jsonl line 15, seq 14, which disagrees with the guest$/,
      ),
    ]);
    expect(b.text).toContain('Its signature was not checked: verify the logs before relying on it.');
    expect(b.text).toContain('Look into: the ε spent (8.5) is over the declared budget (8);');
    expect(renderAuditReportHtml(report)).toContain('<div class="banner bad">ε spent: 8.5');
  });

  it("keeps saying ε was not recorded when only a host stated it, or the guest's log is missing", () => {
    const dir = mkdtempSync(join(root, 'dp-host-only-'));
    writeJob(dir, DP_JOB);
    state(dir, 'brand', { ...claim('guest'), job: 'job-9999999999' });
    state(dir, 'partner', claim('host', 2));

    const onlyHost = buildAuditReport(parse(NODES.map((n) => logFile(dir, n))), { job: JOB_ID });
    state(dir, 'brand', claim('guest'));
    const noGuestLog = buildAuditReport(parse([logFile(dir, 'coordinator'), logFile(dir, 'partner')]), { job: JOB_ID });

    for (const report of [onlyHost, noGuestLog]) {
      expect(report.privacyBudget).toMatchObject({
        enabled: true,
        epsilon: null,
        statedBy: null,
        headline: 'ε spent: not recorded',
      });
      expect(report.privacyBudget.text).toMatch(
        /^ε spent: not recorded\. Differential privacy was switched on for this job \(the guest sent a dp-plan\), but none of the logs given holds the guest's signed statement/,
      );
      expect(report.privacyBudget.text).toMatch(
        /Other statements: partner \(host\) stated ε = 2 \(.*partner\.audit\.jsonl line 15, seq 14\)\.$/,
      );
    }
  });

  it('rounds ε up to three significant digits, never down', () => {
    expect([7.9312, 8, 0.5, 0.123456, 12.341, 1234.5, 7.99999].map(formatEpsilon)).toEqual([
      '7.94',
      '8',
      '0.5',
      '0.124',
      '12.4',
      '1240',
      '8',
    ]);
  });

  it('says the logs did not verify when they do not', () => {
    const dir = mkdtempSync(join(root, 'tampered-'));
    writeJob(dir);
    const files = NODES.map((n) => logFile(dir, n));
    const tampered = sources(files).map((s) =>
      s.file.endsWith('brand.audit.jsonl') ? { ...s, text: s.text.replace('"bytes":', '"bytes":1') } : s,
    );

    const report = buildAuditReport(parse(files), { job: JOB_ID, verification: verifyAuditLogs(tampered, trust) });

    expect(report.verification.ok).toBe(false);
    expect(report.verification.text).toMatch(/^The logs did NOT verify: \d+ problems/);
  });

  it('names the jobs the logs do hold when asked about another', () => {
    const dir = mkdtempSync(join(root, 'nojob-'));
    writeJob(dir);

    const build = (): unknown => buildAuditReport(parse([logFile(dir, 'brand')]), { job: 'job-ffffffffff' });

    expect(build).toThrow(JobError);
    expect(build).toThrow(`no record of job "job-ffffffffff" in the logs given (they hold: ${JOB_ID})`);
  });

  it('renders one self-contained page with no scripts or outside resources, escaping what the logs say', () => {
    const dir = mkdtempSync(join(root, 'html-'));
    writeJob(dir, [
      ...JOB,
      { from: 'brand', to: 'coordinator', step: '<img src=x onerror=alert(1)>', kind: 'control', bodyBytes: 10 },
    ]);

    const html = renderAuditReportHtml(buildAuditReport(parse(NODES.map((n) => logFile(dir, n))), { job: JOB_ID }));

    expect(html).not.toMatch(/<script|<link|<img|https?:\/\/|url\(/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('No row-level plaintext left brand.');
    expect(html).toContain('Derived per-row scores for validation rows');
    expect(html).toContain('ε spent: not enabled');
    expect(html).toContain("default-src 'none'");
  });
});

describe('tandem audit report', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('verifies the logs, writes the HTML and JSON files and prints each verdict', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    writeJob(dir);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    const outDir = join(dir, 'report');

    await yargs([
      'audit',
      'report',
      '--job',
      JOB_ID,
      '--out',
      outDir,
      '--ca',
      join(certs, 'ca.crt'),
      '--certs-dir',
      certs,
      ...NODES.map((n) => logFile(dir, n)),
    ])
      .command(auditCommand)
      .strict()
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .parseAsync();

    expect(process.exitCode).toBeUndefined();
    expect(readdirSync(outDir).sort()).toEqual([`${JOB_ID}.audit-report.html`, `${JOB_ID}.audit-report.json`]);
    const json = JSON.parse(readFileSync(join(outDir, `${JOB_ID}.audit-report.json`), 'utf8')) as {
      format: string;
      verification: { ok: boolean };
    };
    expect(json).toMatchObject({ format: 'tandem-audit-report/1', verification: { ok: true } });
    expect(out.join('')).toContain('brand: No row-level plaintext left brand.');
    await expect(
      writeAuditReport(buildAuditReport(parse([logFile(dir, 'brand')]), { job: JOB_ID }), outDir),
    ).resolves.toEqual({
      json: join(outDir, `${JOB_ID}.audit-report.json`),
      html: join(outDir, `${JOB_ID}.audit-report.html`),
    });
  });
});
