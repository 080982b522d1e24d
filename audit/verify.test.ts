import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { AuditLog, digest, type AuditRecord } from './log.ts';
import { verifyAuditLogs, type AuditTrust } from './verify.ts';
import {
  useAuditFixture,
  NODES,
  type NodeName,
  root,
  ids,
  trust,
  type Logs,
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

describe('audit verify', () => {
  let dir: string;
  let files: Record<NodeName, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(root, 'job-'));
    files = writeJob(dir, 'job-aaaaaaaaaa');
  });

  it('verifies an untouched set of logs and summarises each node', () => {
    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    const brand = result.nodes.find((n) => n.node === 'brand');
    expect(brand).toMatchObject({
      role: 'party',
      firstSeq: 0,
      jobs: ['job-aaaaaaaaaa'],
      peers: ['coordinator', 'partner'],
      unchecked: 0,
    });
    expect(brand?.matched).toBe(brand?.records);
    expect(result.nodes.find((n) => n.node === 'coordinator')).toMatchObject({
      role: 'coordinator',
      peers: ['brand', 'partner'],
      unchecked: 0,
    });
  });

  it('names a record whose field was edited, by its hash', () => {
    const all5 = lines(files.brand);
    const edited = { ...(JSON.parse(all5[4] ?? '') as AuditRecord), kind: 'aggregate' };
    all5[4] = JSON.stringify(edited);
    writeLines(files.brand, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.ok).toBe(false);
    const [finding] = find(result.findings, 'hash-mismatch');
    expect(finding).toMatchObject({ file: files.brand, line: 5, seq: 4, node: 'brand' });
    expect(finding?.message).toContain('a field was changed after the record was written');
    // The sender's record of the same message (the coordinator relayed it) now disagrees on the kind, naming the edited line.
    const [disagrees] = find(result.findings, 'counterpart-disagrees');
    expect(disagrees).toMatchObject({ file: files.coordinator });
    expect(disagrees?.message).toContain(
      `brand's record of ${edited.messageId} (${files.brand} line 5, seq 4) disagrees on kind (psi-blinded here, aggregate there)`,
    );
  });

  it('names an edited record whose hash was recomputed, by its signature and the broken link after it', () => {
    const all5 = lines(files.brand);
    const original = JSON.parse(all5[4] ?? '') as AuditRecord;
    const forged = resign(
      { ...original, bytes: original.bytes + 1000 },
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    );
    all5[4] = JSON.stringify(forged);
    writeLines(files.brand, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(find(result.findings, 'bad-signature')).toEqual([
      expect.objectContaining({ file: files.brand, line: 5, seq: 4 }),
    ]);
    expect(find(result.findings, 'bad-signature')[0]?.message).toContain("does not verify with brand's certificate");
    expect(find(result.findings, 'broken-link')).toEqual([
      expect.objectContaining({ file: files.brand, line: 6, seq: 5 }),
    ]);
    expect(find(result.findings, 'hash-mismatch')).toEqual([]);
  });

  it('names the gap a dropped record leaves, and the peer record it no longer matches', () => {
    const all5 = lines(files.brand);
    const dropped = JSON.parse(all5[6] ?? '') as AuditRecord;
    all5.splice(6, 1);
    writeLines(files.brand, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    const [gap] = find(result.findings, 'seq-gap');
    expect(gap).toMatchObject({ file: files.brand, line: 7, seq: 7 });
    expect(gap?.message).toContain('seq 6 is missing before it: dropped from the log');
    const unmatched = find(result.findings, 'unmatched', files.coordinator);
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]?.message).toContain(dropped.messageId);
  });

  it('catches a dropped last record, which no chain can show, by the unmatched peer record', () => {
    const all5 = lines(files.partner);
    const last = JSON.parse(all5.pop() ?? '') as AuditRecord;
    writeLines(files.partner, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ problem: 'unmatched', file: files.coordinator });
    expect(result.findings[0]?.message).toContain(`${last.messageId}`);
    expect(result.findings[0]?.message).toContain("partner's log");
  });

  it('names both records of a swapped pair', () => {
    const all5 = lines(files.partner);
    [all5[3], all5[4]] = [all5[4] ?? '', all5[3] ?? ''];
    writeLines(files.partner, all5);

    const result = verifyAuditLogs(read(all(files)), trust);

    const order = find(result.findings, 'seq-order');
    expect(order.map((f) => [f.line, f.seq])).toEqual([
      [4, 4],
      [5, 3],
    ]);
    expect(order[0]?.message).toContain('comes before seq 3 (line 5): records are out of order');
    expect(order[1]?.message).toContain('comes after seq 4 (line 4)');
    expect(result.findings).toHaveLength(2);
  });

  it('names a forged record appended with a valid chain but another key', () => {
    const last = recordAt(files.brand, lines(files.brand).length);
    const forged = resign(
      {
        ...last,
        seq: last.seq + 1,
        prev: last.hash,
        direction: 'sent',
        peer: 'partner',
        kind: 'partial-score',
        step: 'validation-scores',
        messageId: `job-aaaaaaaaaa/0/validation-scores/brand>partner/0`,
        sha256: digest(randomBytes(8)),
      },
      ids.partner.privateKey,
    );
    appendFileSync(files.brand, `${JSON.stringify(forged)}\n`);
    const line = lines(files.brand).length;

    const result = verifyAuditLogs(read(all(files)), trust);

    expect(find(result.findings, 'bad-signature')).toEqual([
      expect.objectContaining({ file: files.brand, line, seq: forged.seq }),
    ]);
    expect(find(result.findings, 'unmatched', files.brand)).toEqual([
      expect.objectContaining({ line, seq: forged.seq }),
    ]);
    expect(find(result.findings, 'broken-link')).toEqual([]);
  });

  it("names a log replaced by the same node's log of another job, on both sides", () => {
    const other = writeJob(mkdtempSync(join(root, 'other-')), 'job-bbbbbbbbbb');
    const replaced = [files.coordinator, other.brand, files.partner];

    const result = verifyAuditLogs(read(replaced), trust);

    const jobs = find(result.findings, 'uncorroborated-job');
    const brandSide = jobs.find((f) => f.file === other.brand);
    expect(brandSide).toMatchObject({ seq: 0, line: 1, node: 'brand' });
    expect(brandSide?.message).toContain('records of job job-bbbbbbbbbb exchanged with coordinator');
    expect(brandSide?.message).toContain('that log has no record of job job-bbbbbbbbbb at all');
    const coordinatorSide = jobs.find((f) => f.file === files.coordinator);
    expect(coordinatorSide?.message).toContain('records of job job-aaaaaaaaaa exchanged with brand');
    // Grouped, not one finding per record; the chains themselves are fine.
    expect(jobs).toHaveLength(2);
    expect(result.findings.filter((f) => f.problem !== 'uncorroborated-job')).toEqual([]);
  });

  it('cross-matches party logs end to end when the coordinator log is not given', () => {
    const result = verifyAuditLogs(read([files.brand, files.partner]), trust);

    expect(result.ok).toBe(true);
    const brand = result.nodes.find((n) => n.node === 'brand');
    expect(brand?.matched).toBeGreaterThan(0);
    expect(brand?.unchecked).toBeGreaterThan(0);
  });

  it('catches a coordinator that relays other bytes than it received, even when it signs its own log', () => {
    const logs = Object.fromEntries(
      NODES.map((n) => [n, new AuditLog(join(dir, 'relay', `${n}.audit.jsonl`), n, ids[n].privateKey)]),
    ) as Logs;
    const base = {
      job: 'job-cccccccccc',
      round: 0,
      step: 'psi-guest-set',
      kind: 'psi-blinded' as const,
      messageId: 'job-cccccccccc/0/psi-guest-set/brand>partner/0',
      bytes: 100,
      sealed: true,
    };
    logs.brand.record({ ...base, direction: 'sent', peer: 'partner', sha256: digest(Buffer.from('a')) });
    logs.coordinator.record({ ...base, direction: 'received', peer: 'brand', sha256: digest(Buffer.from('a')) });
    logs.coordinator.record({ ...base, direction: 'sent', peer: 'partner', sha256: digest(Buffer.from('b')) });
    logs.partner.record({ ...base, direction: 'received', peer: 'brand', sha256: digest(Buffer.from('b')) });
    for (const n of NODES) logs[n].close();

    const result = verifyAuditLogs(read(NODES.map((n) => join(dir, 'relay', `${n}.audit.jsonl`))), trust);

    expect(result.findings).toEqual([expect.objectContaining({ problem: 'relay-altered', seq: 1, line: 2 })]);
    expect(result.findings[0]?.message).toContain('the relay changed the bytes');
  });

  it('rejects a certificate from another CA and checks no signature with it', async () => {
    const foreign = join(root, 'foreign');
    await initCertificates({ outDir: foreign, parties: ['brand'], force: true });
    const foreignTrust: AuditTrust = {
      ...trust,
      certificates: [
        ...trust.certificates.filter((c) => !c.source.endsWith('brand.crt')),
        { source: join(foreign, 'brand.crt'), pem: readFileSync(join(foreign, 'brand.crt'), 'utf8') },
      ],
    };

    const result = verifyAuditLogs(read(all(files)), foreignTrust);

    expect(find(result.findings, 'certificate-rejected')[0]?.message).toContain('is not signed by the federation CA');
    expect(find(result.findings, 'no-certificate')).toEqual([
      expect.objectContaining({ file: files.brand, node: 'brand' }),
    ]);
  });

  it("fails when a party's log is emptied or left out, naming the party and the job; --partial verifies a subset on purpose", () => {
    writeFileSync(files.partner, '');
    const emptied = verifyAuditLogs(read(all(files)), trust);
    expect(emptied.ok).toBe(false);
    expect(find(emptied.findings, 'missing-log')).toEqual([
      expect.objectContaining({
        file: files.partner,
        message: expect.stringMatching(/is empty, but job job-aaaaaaaaaa names partner/) as unknown as string,
      }),
    ]);

    const withheld = verifyAuditLogs(read([files.coordinator, files.brand]), trust);
    expect(withheld.ok).toBe(false);
    expect(find(withheld.findings, 'missing-log')[0]?.message).toMatch(
      /job job-aaaaaaaaaa names partner .* but no log of partner was given/,
    );
    const subset = verifyAuditLogs(read([files.coordinator, files.brand]), trust, { partial: true });
    expect(subset.ok).toBe(true);
    expect(find(subset.notes, 'missing-log')).toHaveLength(1);
  });

  it("fails when the coordinator's log is given emptied; left out, the parties' logs are matched end to end", () => {
    writeFileSync(files.coordinator, '');
    const emptied = verifyAuditLogs(read(all(files)), trust);
    expect(emptied.ok).toBe(false);
    expect(find(emptied.findings, 'missing-log')).toEqual([
      expect.objectContaining({
        file: files.coordinator,
        message: expect.stringMatching(/is empty, but job job-aaaaaaaaaa names the coordinator/) as unknown as string,
      }),
    ]);
    expect(verifyAuditLogs(read([files.brand, files.partner]), trust).ok).toBe(true);
  });

  it('names a torn line, and a reopened log continues its chain after it', () => {
    appendFileSync(files.brand, '{"job":"job-aaaaaaaaaa","rou');
    const log = new AuditLog(files.brand, 'brand', ids.brand.privateKey);
    log.record({
      job: 'job-aaaaaaaaaa',
      round: 0,
      step: 'event',
      direction: 'sent',
      peer: 'coordinator',
      kind: 'control',
      messageId: 'job-aaaaaaaaaa/0/event/brand>coordinator/9',
      bytes: 10,
      sha256: digest(Buffer.from('x')),
      sealed: false,
    });
    log.close();
    const count = lines(files.brand).length;

    const result = verifyAuditLogs(read([files.brand]), trust, { partial: true });

    expect(result.findings).toEqual([
      expect.objectContaining({ problem: 'malformed', file: files.brand, line: count - 1 }),
    ]);
    expect(recordAt(files.brand, count).seq).toBe(count - 2);
  });

  it('names a log that does not start at seq 0, unless it is declared an excerpt', () => {
    writeLines(files.partner, lines(files.partner).slice(2));

    const strict = verifyAuditLogs(read([files.partner]), trust, { partial: true });
    const excerpt = verifyAuditLogs(read([files.partner]), trust, { allowExcerpt: true, partial: true });

    expect(strict.findings).toEqual([expect.objectContaining({ problem: 'seq-start', line: 1, seq: 2 })]);
    expect(strict.findings[0]?.message).toContain('seqs 0–1 are missing');
    expect(excerpt.ok).toBe(true);
    expect(find(excerpt.notes, 'excerpt-start')).toEqual([
      expect.objectContaining({ problem: 'excerpt-start', seq: 2 }),
    ]);
  });

  it('does not try to list a gap of a huge forged sequence number', () => {
    const all5 = lines(files.partner);
    all5[3] = JSON.stringify({ ...(JSON.parse(all5[3] ?? '') as AuditRecord), seq: Number.MAX_SAFE_INTEGER - 1 });
    writeLines(files.partner, all5);

    const result = verifyAuditLogs(read([files.partner]), trust);

    expect(find(result.findings, 'seq-gap')[0]?.message).toMatch(/are missing before it/);
  });
});
