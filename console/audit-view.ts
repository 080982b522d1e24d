/**
 * The auditor's browsing of the nodes' audit logs: the jobs they hold, a
 * job's records grouped by protocol step with what each step carries (its
 * `meaning` in the message catalog, jobs/catalog.ts), and the records of one
 * step. Pure over parsed logs; verifying them is runtime/audit-verify.ts's
 * job, and the per-party verdict and ε are runtime/audit-report.ts's.
 */
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import { isStatement, type AuditEntry, type ParsedAuditLog } from '../runtime/audit-verify.ts';

/** What a statement record is (it carries no message, so the catalog has no step for it). */
export const STATEMENT_MEANING = "A signed statement by the node about its own part in the job (such as the ε a differentially private job spent), chained and signed like every record. It describes no message.";

export type AuditJob = { readonly job: string; readonly records: number; readonly nodes: readonly string[]; readonly firstTime: string; readonly lastTime: string };

export type AuditStep = {
  readonly step: string;
  /** From the message catalog; says so when the step is not in it. */
  readonly meaning: string;
  readonly kinds: readonly string[];
  readonly records: number;
  readonly bytes: number;
  /** Records of messages whose body was sealed end to end for another party. */
  readonly sealed: number;
  readonly nodes: readonly string[];
};

export type AuditRecordView = {
  readonly node: string; readonly file: string; readonly line: number; readonly seq: number; readonly time: string; readonly direction: string;
  readonly peer: string; readonly round: number; readonly kind: string; readonly bytes: number; readonly sealed: boolean; readonly messageId: string;
  readonly sha256: string; readonly hash: string; readonly claim: Readonly<Record<string, unknown>> | null;
};

type Located = { readonly log: ParsedAuditLog; readonly entry: AuditEntry };

const located = (logs: readonly ParsedAuditLog[], job?: string): Located[] =>
  logs.flatMap((log) => log.entries.filter((e) => job === undefined || e.record.job === job).map((entry) => ({ log, entry })));

/** The meaning of a step, as the audit report explains it. */
export function stepMeaning(step: string, statement: boolean): string {
  if (statement) return STATEMENT_MEANING;
  return MESSAGE_CATALOG.get(step)?.meaning ?? `"${step}" is not in the message catalog: no protocol step of this Tandem sends it`;
}

/** Every job the logs hold, most recent first. */
export function auditJobs(logs: readonly ParsedAuditLog[]): AuditJob[] {
  const jobs = new Map<string, { records: number; nodes: Set<string>; first: string; last: string }>();
  for (const { entry } of located(logs)) {
    const r = entry.record;
    const j = jobs.get(r.job) ?? { records: 0, nodes: new Set<string>(), first: r.time, last: r.time };
    j.records++;
    j.nodes.add(r.node);
    if (r.time < j.first) j.first = r.time;
    if (r.time > j.last) j.last = r.time;
    jobs.set(r.job, j);
  }
  return [...jobs].map(([job, j]) => ({ job, records: j.records, nodes: [...j.nodes].sort(), firstTime: j.first, lastTime: j.last })).sort((a, b) => (a.lastTime < b.lastTime ? 1 : -1));
}

/** A job's records by step, in the order the steps first appear. */
export function auditSteps(logs: readonly ParsedAuditLog[], job: string): AuditStep[] {
  const steps = new Map<string, { statement: boolean; kinds: Set<string>; records: number; bytes: number; sealed: number; nodes: Set<string>; first: string }>();
  for (const { entry } of located(logs, job)) {
    const r = entry.record;
    const statement = isStatement(r);
    const key = statement ? `statement:${r.step}` : r.step;
    const s = steps.get(key) ?? { statement, kinds: new Set<string>(), records: 0, bytes: 0, sealed: 0, nodes: new Set<string>(), first: r.time };
    s.kinds.add(r.kind);
    s.records++;
    s.bytes += r.bytes;
    if (r.sealed) s.sealed++;
    s.nodes.add(r.node);
    if (r.time < s.first) s.first = r.time;
    steps.set(key, s);
  }
  return [...steps.entries()]
    .sort(([, a], [, b]) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))
    .map(([key, s]) => {
      const step = s.statement ? key.slice('statement:'.length) : key;
      return { step, meaning: stepMeaning(step, s.statement), kinds: [...s.kinds], records: s.records, bytes: s.bytes, sealed: s.sealed, nodes: [...s.nodes].sort() };
    });
}

/** The records of one step of a job, in time order (at most `limit`). */
export function auditRecords(logs: readonly ParsedAuditLog[], job: string, step: string, limit = 500): { readonly records: readonly AuditRecordView[]; readonly total: number } {
  const all = located(logs, job).filter(({ entry }) => entry.record.step === step);
  all.sort((a, b) => (a.entry.record.time < b.entry.record.time ? -1 : a.entry.record.time > b.entry.record.time ? 1 : a.entry.record.seq - b.entry.record.seq));
  const records = all.slice(0, limit).map(({ log, entry }): AuditRecordView => {
    const r = entry.record;
    return {
      node: r.node, file: log.file, line: entry.line, seq: r.seq, time: r.time, direction: r.direction, peer: r.peer, round: r.round, kind: r.kind,
      bytes: r.bytes, sealed: r.sealed, messageId: r.messageId, sha256: r.sha256, hash: r.hash, claim: r.claim ?? null,
    };
  });
  return { records, total: all.length };
}
