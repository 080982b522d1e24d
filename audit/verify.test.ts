import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { initCertificates, loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import {
  AuditLog,
  canonicalClaim,
  canonicalRecord,
  digest,
  hashRecord,
  type AuditEntry as LogEntry,
  type AuditRecord,
  type DpClaim,
} from './log.ts';
import { verifyAuditLogs, type AuditFinding, type AuditLogSource, type AuditTrust } from './verify.ts';
import { encodeEnvelope, makeEnvelope, type MessageKind } from '../protocol/wire/envelope.ts';
import { COORDINATOR } from '../protocol/version.ts';
import { auditCommand } from '../cli/commands/audit.ts';

const NODES = ['coordinator', 'brand', 'partner'] as const;
type NodeName = (typeof NODES)[number];

let root: string;
let certs: string;
let ids: Record<NodeName, NodeIdentity>;
let trust: AuditTrust;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tandem-audit-verify-'));
  certs = join(root, 'certs');
  await initCertificates({ outDir: certs, parties: ['brand', 'partner'] });
  const load = (name: NodeName): Promise<NodeIdentity> =>
    loadNodeIdentity({ ca: join(certs, 'ca.crt'), cert: join(certs, `${name}.crt`), key: join(certs, `${name}.key`) });
  ids = { coordinator: await load('coordinator'), brand: await load('brand'), partner: await load('partner') };
  trust = {
    caSource: join(certs, 'ca.crt'),
    caPem: ids.brand.caPem,
    certificates: NODES.map((n) => ({ source: join(certs, `${n}.crt`), pem: ids[n].certPem })),
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

type Logs = Record<NodeName, AuditLog>;
type Message = {
  readonly from: NodeName;
  readonly to: NodeName;
  readonly step: string;
  readonly kind: MessageKind;
  readonly round?: number;
  readonly seq?: number;
};

/**
 * Records one message the way the nodes do: a party's "sent" names the final
 * recipient, the coordinator records each hop (received from the sender,
 * sent on to the recipient, same bytes), the recipient's "received" names the sender.
 */
function exchange(logs: Logs, jobId: string, m: Message): void {
  const round = m.round ?? 0;
  const sealed = m.from !== COORDINATOR && m.to !== COORDINATOR;
  const envelope = makeEnvelope(
    { jobId, round, step: m.step, sender: m.from, recipient: m.to, seq: m.seq ?? 0, kind: m.kind },
    randomBytes(48),
    sealed,
    Date.now(),
  );
  const bytes = encodeEnvelope(envelope);
  const entry = (direction: 'sent' | 'received', peer: string): LogEntry => ({
    job: jobId,
    round,
    step: m.step,
    direction,
    peer,
    kind: m.kind,
    messageId: envelope.id,
    bytes: bytes.byteLength,
    sha256: digest(bytes),
    sealed,
  });
  logs[m.from].record(entry('sent', m.to));
  if (m.from !== COORDINATOR && m.to !== COORDINATOR) {
    logs.coordinator.record(entry('received', m.from));
    logs.coordinator.record(entry('sent', m.to));
  }
  logs[m.to].record(entry('received', m.from));
}

/** The messages of a short two-party hetero-LR job, in protocol order. */
const JOB: readonly Message[] = [
  { from: 'coordinator', to: 'brand', step: 'assignment', kind: 'key' },
  { from: 'coordinator', to: 'partner', step: 'assignment', kind: 'key' },
  { from: 'brand', to: 'coordinator', step: 'party-key', kind: 'key' },
  { from: 'partner', to: 'coordinator', step: 'party-key', kind: 'key' },
  { from: 'coordinator', to: 'brand', step: 'key-directory', kind: 'key' },
  { from: 'coordinator', to: 'partner', step: 'key-directory', kind: 'key' },
  { from: 'brand', to: 'partner', step: 'psi-guest-set', kind: 'psi-blinded' },
  { from: 'partner', to: 'brand', step: 'psi-host-set', kind: 'psi-blinded' },
  { from: 'partner', to: 'brand', step: 'psi-guest-reblinded', kind: 'psi-blinded' },
  { from: 'brand', to: 'partner', step: 'psi-result', kind: 'control' },
  { from: 'brand', to: 'partner', step: 'split', kind: 'control' },
  { from: 'brand', to: 'coordinator', step: 'event', kind: 'control' },
  { from: 'partner', to: 'brand', step: 'basis', kind: 'ciphertext', round: 1 },
  { from: 'brand', to: 'partner', step: 'residual', kind: 'ciphertext', round: 1 },
  { from: 'brand', to: 'coordinator', step: 'decrypt', kind: 'masked', round: 1 },
  { from: 'partner', to: 'coordinator', step: 'decrypt', kind: 'masked', round: 1 },
  { from: 'coordinator', to: 'brand', step: 'decrypt-result', kind: 'aggregate', round: 1 },
  { from: 'coordinator', to: 'partner', step: 'decrypt-result', kind: 'aggregate', round: 1 },
  { from: 'brand', to: 'partner', step: 'epoch-control', kind: 'control', round: 1 },
  { from: 'partner', to: 'brand', step: 'validation-scores', kind: 'partial-score' },
  { from: 'brand', to: 'coordinator', step: 'event', kind: 'control', seq: 1 },
  { from: 'partner', to: 'coordinator', step: 'event', kind: 'control' },
];

const logFile = (dir: string, node: NodeName): string => join(dir, node, 'audit', `${node}.audit.jsonl`);

/** Writes the three nodes' logs of one job into `dir` with the real AuditLog and the nodes' real keys. */
function writeJob(dir: string, jobId: string, messages: readonly Message[] = JOB): Record<NodeName, string> {
  const logs = Object.fromEntries(NODES.map((n) => [n, new AuditLog(logFile(dir, n), n, ids[n].privateKey)])) as Logs;
  for (const m of messages) exchange(logs, jobId, m);
  for (const n of NODES) logs[n].close();
  return { coordinator: logFile(dir, 'coordinator'), brand: logFile(dir, 'brand'), partner: logFile(dir, 'partner') };
}

const read = (files: readonly string[]): AuditLogSource[] =>
  files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const lines = (file: string): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');
const writeLines = (file: string, all: readonly string[]): void => writeFileSync(file, `${all.join('\n')}\n`);
const recordAt = (file: string, line: number): AuditRecord => JSON.parse(lines(file)[line - 1] ?? '') as AuditRecord;
const resign = (r: Omit<AuditRecord, 'hash' | 'sig'>, key: KeyObject): AuditRecord => {
  const hash = hashRecord(r);
  return { ...r, hash, sig: sign('sha256', Buffer.from(hash, 'hex'), key).toString('base64') };
};
const all = (files: Record<NodeName, string>): string[] => [files.coordinator, files.brand, files.partner];
const find = (findings: readonly AuditFinding[], problem: string, file?: string): AuditFinding[] =>
  findings.filter((f) => f.problem === problem && (file === undefined || f.file === file));

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
