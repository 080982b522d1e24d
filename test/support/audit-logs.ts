/**
 * Fixtures for the audit tests: three nodes' real keys and certificates,
 * and their logs of a short job written with the real AuditLog.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadNodeIdentity, type NodeIdentity } from '../../runtime/certs.ts';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { AuditLog, digest, hashRecord, type AuditEntry as LogEntry, type AuditRecord } from '../../audit/log.ts';
import { type AuditFinding, type AuditLogSource, type AuditTrust } from '../../audit/verify.ts';
import { encodeEnvelope, makeEnvelope, type MessageKind } from '../../protocol/wire/envelope.ts';
import { COORDINATOR } from '../../protocol/version.ts';

export const NODES = ['coordinator', 'brand', 'partner'] as const;
export type NodeName = (typeof NODES)[number];

export let root: string;
export let certs: string;
export let ids: Record<NodeName, NodeIdentity>;
export let trust: AuditTrust;

/** Certificates for the three nodes in a temporary root, made before the calling file's tests and removed after. */
export function useAuditFixture(): void {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tandem-audit-'));
    certs = join(root, 'certs');
    await initCertificates({ outDir: certs, parties: ['brand', 'partner'] });
    const load = (name: NodeName): Promise<NodeIdentity> =>
      loadNodeIdentity({
        ca: join(certs, 'ca.crt'),
        cert: join(certs, `${name}.crt`),
        key: join(certs, `${name}.key`),
      });
    ids = { coordinator: await load('coordinator'), brand: await load('brand'), partner: await load('partner') };
    trust = {
      caSource: join(certs, 'ca.crt'),
      caPem: ids.brand.caPem,
      certificates: NODES.map((n) => ({ source: join(certs, `${n}.crt`), pem: ids[n].certPem })),
    };
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));
}

export type Logs = Record<NodeName, AuditLog>;
export type Message = {
  readonly from: NodeName;
  readonly to: NodeName;
  readonly step: string;
  readonly kind: MessageKind;
  readonly round?: number;
  readonly seq?: number;
  /** Random body bytes. @default 48 */
  readonly bodyBytes?: number;
  /** @default sealed between parties, plain to and from the coordinator */
  readonly sealed?: boolean;
};

/**
 * Records one message the way the nodes do: a party's "sent" names the final
 * recipient, the coordinator records each hop (received from the sender,
 * sent on to the recipient, same bytes), the recipient's "received" names the sender.
 * Returns the envelope's size.
 */
export function exchange(logs: Logs, jobId: string, m: Message): number {
  const round = m.round ?? 0;
  const sealed = m.sealed ?? (m.from !== COORDINATOR && m.to !== COORDINATOR);
  const envelope = makeEnvelope(
    { jobId, round, step: m.step, sender: m.from, recipient: m.to, seq: m.seq ?? 0, kind: m.kind },
    randomBytes(m.bodyBytes ?? 48),
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
  return bytes.byteLength;
}

/** The messages of a short two-party hetero-LR job, in protocol order. */
export const JOB: readonly Message[] = [
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

export const logFile = (dir: string, node: NodeName): string => join(dir, node, 'audit', `${node}.audit.jsonl`);

/** Writes the three nodes' logs of one job into `dir` with the real AuditLog and the nodes' real keys. */
export function writeJob(dir: string, jobId: string, messages: readonly Message[] = JOB): Record<NodeName, string> {
  const logs = Object.fromEntries(NODES.map((n) => [n, new AuditLog(logFile(dir, n), n, ids[n].privateKey)])) as Logs;
  for (const m of messages) exchange(logs, jobId, m);
  for (const n of NODES) logs[n].close();
  return { coordinator: logFile(dir, 'coordinator'), brand: logFile(dir, 'brand'), partner: logFile(dir, 'partner') };
}

export const read = (files: readonly string[]): AuditLogSource[] =>
  files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
export const lines = (file: string): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');
export const writeLines = (file: string, all: readonly string[]): void => writeFileSync(file, `${all.join('\n')}\n`);
export const recordAt = (file: string, line: number): AuditRecord =>
  JSON.parse(lines(file)[line - 1] ?? '') as AuditRecord;
export const resign = (r: Omit<AuditRecord, 'hash' | 'sig'>, key: KeyObject): AuditRecord => {
  const hash = hashRecord(r);
  return { ...r, hash, sig: sign('sha256', Buffer.from(hash, 'hex'), key).toString('base64') };
};
export const all = (files: Record<NodeName, string>): string[] => [files.coordinator, files.brand, files.partner];
export const find = (findings: readonly AuditFinding[], problem: string, file?: string): AuditFinding[] =>
  findings.filter((f) => f.problem === problem && (file === undefined || f.file === file));
