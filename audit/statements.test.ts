/** Signed statements in audit logs (ε spent, and other claims), and `tandem audit verify` from the CLI. */
import { mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditLog,
  canonicalClaim,
  canonicalRecord,
  digest,
  hashRecord,
  type AuditRecord,
  type DpClaim,
} from './log.ts';
import { verifyAuditLogs } from './verify.ts';
import { auditCommand } from '../cli/commands/audit.ts';
import {
  useAuditFixture,
  type NodeName,
  root,
  certs,
  ids,
  trust,
  writeJob,
  read,
  lines,
  writeLines,
  recordAt,
  resign,
  all,
  find,
} from '../test/support/audit-logs.ts';

useAuditFixture();

/** A guest's statement of the ε a job spent, as party/node.ts makes it. */
const dpClaim = (job: string, epsilon = 7.93): DpClaim => ({
  type: 'dp',
  job,
  role: 'guest',
  epsilon,
  delta: 1e-5,
  budget: 8,
  steps: 30,
  noiseMultiplier: 1.234,
  evaluationNoiseMultiplier: 0.8,
  clip: 1,
  samplingRate: 0.25,
  accountant: 'rdp-subsampled-gaussian',
});

describe('audit statements', () => {
  let dir: string;
  let files: Record<NodeName, string>;
  let line: number;

  beforeEach(() => {
    dir = mkdtempSync(join(root, 'statement-'));
    files = writeJob(dir, 'job-eeeeeeeeee');
    const log = new AuditLog(files.brand, 'brand', ids.brand.privateKey);
    log.state(dpClaim('job-eeeeeeeeee'));
    log.close();
    line = lines(files.brand).length;
  });

  it('hashes a record without a claim exactly as before statements existed', () => {
    const r = {
      seq: 7,
      time: '2025-01-02T03:04:05.678Z',
      node: 'brand',
      job: 'job-0123456789',
      round: 2,
      step: 'decrypt',
      direction: 'sent' as const,
      peer: 'coordinator',
      kind: 'masked' as const,
      messageId: 'job-0123456789/2/decrypt/brand>coordinator/3',
      bytes: 1234,
      sha256: 'ab'.repeat(32),
      sealed: false,
      prev: 'cd'.repeat(32),
    };
    // Computed by the audit log as it was before statements (commit 854485f).
    expect(hashRecord(r)).toBe('8bbdbfe0f23010acea787ce810cfbaf4fde00937fa9a3fb37fc7f3e53ae79b17');
    expect(
      canonicalRecord({ ...r, direction: 'local', kind: 'statement', claim: { type: 'x', job: 'j', b: 1, a: 'z' } }),
    ).toMatch(/,"(cd)+",\{"a":"z","b":1,"job":"j","type":"x"\}\]$/);
  });

  it('chains a signed statement after the messages, and verifies it without cross-matching it', () => {
    const statement = recordAt(files.brand, line);
    expect(statement).toMatchObject({
      seq: line - 1,
      job: 'job-eeeeeeeeee',
      direction: 'local',
      kind: 'statement',
      step: 'dp',
      peer: 'brand',
      sealed: false,
      claim: dpClaim('job-eeeeeeeeee'),
    });
    expect(statement.sha256).toBe(digest(Buffer.from(canonicalClaim(dpClaim('job-eeeeeeeeee')))));

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.findings).toEqual([]);
    const brand = result.nodes.find((n) => n.node === 'brand');
    expect(brand).toMatchObject({ statements: 1, unchecked: 0, peers: ['coordinator', 'partner'] });
    expect(brand?.matched).toBe((brand?.records ?? 0) - 1);
    // A reopened log continues the chain after a statement.
    const log = new AuditLog(files.brand, 'brand', ids.brand.privateKey);
    log.state({ type: 'note', job: 'job-eeeeeeeeee', text: 'a second statement' });
    log.close();
    expect(verifyAuditLogs(read(all(files)), trust).findings).toEqual([]);
  });

  it('names a statement whose ε was edited, by its hash and by its digest', () => {
    const all5 = lines(files.brand);
    const original = recordAt(files.brand, line);
    all5[line - 1] = JSON.stringify({ ...original, claim: { ...original.claim, epsilon: 1 } });
    writeLines(files.brand, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.ok).toBe(false);
    expect(find(result.findings, 'hash-mismatch')).toEqual([
      expect.objectContaining({ file: files.brand, line, seq: original.seq }),
    ]);
    expect(find(result.findings, 'statement-invalid')).toEqual([
      expect.objectContaining({ file: files.brand, line, seq: original.seq }),
    ]);
    expect(find(result.findings, 'statement-invalid')[0]?.message).toContain(
      'its sha256 is not the digest of its claim',
    );
  });

  it('names a statement whose ε was edited and re-sealed without the node key, by its signature', () => {
    const all5 = lines(files.brand);
    const original = recordAt(files.brand, line);
    const claim = { ...dpClaim('job-eeeeeeeeee'), epsilon: 1 };
    const canonical = Buffer.from(canonicalClaim(claim));
    all5[line - 1] = JSON.stringify(
      resign({ ...original, claim, sha256: digest(canonical), bytes: canonical.byteLength }, ids.partner.privateKey),
    );
    writeLines(files.brand, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.findings).toEqual([expect.objectContaining({ problem: 'bad-signature', file: files.brand, line })]);
  });

  it('rejects half statements, nested claims, and a statement filed under another job', () => {
    const last = recordAt(files.brand, line);
    const next = (r: Omit<AuditRecord, 'hash' | 'sig' | 'seq' | 'prev'>, seq: number, prev: string): AuditRecord =>
      resign({ ...r, seq, prev }, ids.brand.privateKey);
    const { hash: _h, sig: _s, seq: _q, prev: _p, ...body } = last;
    const halfSent = next({ ...body, direction: 'sent' }, last.seq + 1, last.hash);
    const nested = next(
      { ...body, claim: { ...dpClaim('job-eeeeeeeeee'), extra: { deep: 1 } } as unknown as DpClaim },
      last.seq + 2,
      halfSent.hash,
    );
    const otherJob = next({ ...body, job: 'job-ffffffffff' }, last.seq + 3, nested.hash);
    appendFileSync(files.brand, [halfSent, nested, otherJob].map((r) => `${JSON.stringify(r)}\n`).join(''));

    const result = verifyAuditLogs(read([files.brand]), trust);

    const malformed = find(result.findings, 'malformed');
    expect(malformed.map((f) => f.line)).toEqual([line + 1, line + 2]);
    expect(malformed[0]?.message).toContain('is half a statement');
    expect(malformed[1]?.message).toContain('field "extra" is not a string, finite number, true, false or null');
    expect(find(result.findings, 'statement-invalid')).toEqual([expect.objectContaining({ line: line + 3 })]);
    expect(find(result.findings, 'statement-invalid')[0]?.message).toContain(
      'its claim is about job "job-eeeeeeeeee" but the record is filed under job "job-ffffffffff"',
    );
  });

  it('refuses to sign a claim that is not flat JSON with a type and a job', () => {
    const log = new AuditLog(join(dir, 'refuse.audit.jsonl'), 'brand', ids.brand.privateKey);
    try {
      expect(() =>
        log.state({
          type: 'dp',
          job: 'job-eeeeeeeeee',
          role: 'guest',
          epsilon: Number.NaN,
          delta: 0,
          budget: 1,
          steps: 1,
          noiseMultiplier: 1,
        }),
      ).toThrow(/field "epsilon" is not a string, finite number/);
      expect(() => log.state({ type: '', job: 'job-eeeeeeeeee' })).toThrow(/has no "type"/);
      expect(() =>
        log.state({
          type: 'dp',
          job: 'job-eeeeeeeeee',
          role: 'guest',
          epsilon: -1,
          delta: 0,
          budget: 1,
          steps: 1,
          noiseMultiplier: 1,
        }),
      ).toThrow(/"epsilon" is not a number ≥ 0/);
    } finally {
      log.close();
    }
    expect(readFileSync(join(dir, 'refuse.audit.jsonl'), 'utf8')).toBe('');
  });
});

describe('tandem audit verify', () => {
  let out: string[];
  beforeEach(() => {
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  const run = (args: readonly string[]): Promise<unknown> =>
    yargs([...args])
      .command(auditCommand)
      .strict()
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .parseAsync();

  it('prints a summary per node and exits 0 for a clean set, and names the record and exits 1 for a tampered one', async () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    const files = writeJob(dir, 'job-dddddddddd');

    await run(['audit', 'verify', '--ca', join(certs, 'ca.crt'), '--certs-dir', certs, ...all(files)]);
    expect(process.exitCode).toBeUndefined();
    expect(out.join('')).toMatch(/^OK: 3 logs, \d+ records/);
    expect(out.join('')).toContain('jobs: job-dddddddddd');

    const partner = lines(files.partner);
    partner.splice(2, 1);
    writeLines(files.partner, partner);
    out.length = 0;
    await run([
      'audit',
      'verify',
      '--ca',
      join(certs, 'ca.crt'),
      '--cert',
      join(certs, 'brand.crt'),
      '--cert',
      `${join(certs, 'partner.crt')},${join(certs, 'coordinator.crt')}`,
      ...all(files),
    ]);
    expect(process.exitCode).toBe(1);
    expect(out.join('')).toContain(
      `${files.partner}: [seq-gap] line 3 (seq 3): seq 2 is missing before it: dropped from the log`,
    );
  });
});
