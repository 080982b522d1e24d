/**
 * The auditor's view, on any node's console given `--audit-logs`: pick a
 * job, run `audit verify` over the logs (chains, signatures, cross-matches,
 * audit/verify.ts) with the federation CA of this node's config and
 * the nodes' certificates, see the per-party verdict and ε
 * (audit/report.ts), and browse the records by protocol step with
 * what each step carries (its `meaning` in the message catalog,
 * jobs/catalog.ts). The browsing functions are pure over parsed logs; the
 * routes read the logs again on every request, so a page shows what is on
 * disk now.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import {
  auditLogNodes,
  isStatement,
  parseAuditSource,
  readAuditSources,
  readAuditTrust,
  verifyAuditLogs,
  type AuditEntry,
  type AuditLogSource,
  type ParsedAuditLog,
} from '../audit/verify.ts';
import { buildAuditReport } from '../audit/report.ts';
import { JOB_ID_PATTERN, type ConsoleRoute, type RouteContext } from './http.ts';

/** What a statement record is (it carries no message, so the catalog has no step for it). */
export const STATEMENT_MEANING =
  'A signed statement by the node about its own part in the job (such as the ε a differentially private job spent), chained and signed like every record. It describes no message.';

export type AuditJob = {
  readonly job: string;
  readonly records: number;
  readonly nodes: readonly string[];
  readonly firstTime: string;
  readonly lastTime: string;
};

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
  readonly node: string;
  readonly file: string;
  readonly line: number;
  readonly seq: number;
  readonly time: string;
  readonly direction: string;
  readonly peer: string;
  readonly round: number;
  readonly kind: string;
  readonly bytes: number;
  readonly sealed: boolean;
  readonly messageId: string;
  readonly sha256: string;
  readonly hash: string;
  readonly claim: Readonly<Record<string, unknown>> | null;
};

type Located = { readonly log: ParsedAuditLog; readonly entry: AuditEntry };

const located = (logs: readonly ParsedAuditLog[], job?: string): Located[] =>
  logs.flatMap((log) =>
    log.entries.filter((e) => job === undefined || e.record.job === job).map((entry) => ({ log, entry })),
  );

/** The meaning of a step, as the audit report explains it. */
export function stepMeaning(step: string, statement: boolean): string {
  if (statement) return STATEMENT_MEANING;
  return (
    MESSAGE_CATALOG.get(step)?.meaning ??
    `"${step}" is not in the message catalog: no protocol step of this Tandem sends it`
  );
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
  return [...jobs]
    .map(([job, j]) => ({ job, records: j.records, nodes: [...j.nodes].sort(), firstTime: j.first, lastTime: j.last }))
    .sort((a, b) => (a.lastTime < b.lastTime ? 1 : -1));
}

/** A job's records by step, in the order the steps first appear. */
export function auditSteps(logs: readonly ParsedAuditLog[], job: string): AuditStep[] {
  const steps = new Map<
    string,
    {
      statement: boolean;
      kinds: Set<string>;
      records: number;
      bytes: number;
      sealed: number;
      nodes: Set<string>;
      first: string;
    }
  >();
  for (const { entry } of located(logs, job)) {
    const r = entry.record;
    const statement = isStatement(r);
    const key = statement ? `statement:${r.step}` : r.step;
    const s = steps.get(key) ?? {
      statement,
      kinds: new Set<string>(),
      records: 0,
      bytes: 0,
      sealed: 0,
      nodes: new Set<string>(),
      first: r.time,
    };
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
      return {
        step,
        meaning: stepMeaning(step, s.statement),
        kinds: [...s.kinds],
        records: s.records,
        bytes: s.bytes,
        sealed: s.sealed,
        nodes: [...s.nodes].sort(),
      };
    });
}

/** The records of one step of a job, in time order (at most `limit`). */
export function auditRecords(
  logs: readonly ParsedAuditLog[],
  job: string,
  step: string,
  limit = 500,
): { readonly records: readonly AuditRecordView[]; readonly total: number } {
  const all = located(logs, job).filter(({ entry }) => entry.record.step === step);
  all.sort((a, b) =>
    a.entry.record.time < b.entry.record.time
      ? -1
      : a.entry.record.time > b.entry.record.time
        ? 1
        : a.entry.record.seq - b.entry.record.seq,
  );
  const records = all.slice(0, limit).map(({ log, entry }): AuditRecordView => {
    const r = entry.record;
    return {
      node: r.node,
      file: log.file,
      line: entry.line,
      seq: r.seq,
      time: r.time,
      direction: r.direction,
      peer: r.peer,
      round: r.round,
      kind: r.kind,
      bytes: r.bytes,
      sealed: r.sealed,
      messageId: r.messageId,
      sha256: r.sha256,
      hash: r.hash,
      claim: r.claim ?? null,
    };
  });
  return { records, total: all.length };
}

const auditJobParams = {
  type: 'object',
  required: ['job'],
  properties: { job: { type: 'string', pattern: JOB_ID_PATTERN } },
} as const;

/** The log files given: files as they are, directories as the `*.audit.jsonl` files in them now. */
export async function auditLogFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path).catch(() => undefined))?.isDirectory() === true) {
      files.push(
        ...(await readdir(path))
          .filter((n) => n.endsWith('.audit.jsonl'))
          .sort()
          .map((n) => join(path, n)),
      );
    } else {
      files.push(path); // a missing file is reported by readAuditSources, naming it
    }
  }
  return files;
}

export function auditRoutes(ctx: RouteContext): ConsoleRoute[] {
  const sources = async (): Promise<AuditLogSource[]> => readAuditSources(await auditLogFiles(ctx.auditLogs));
  const parsed = async (): Promise<ReturnType<typeof parseAuditSource>[]> =>
    (await sources()).map((s) => parseAuditSource(s));

  return [
    {
      method: 'GET',
      url: '/api/audit',
      handler: async () => {
        const logs = await parsed();
        return {
          certsDir: ctx.auditCertsDir,
          ca: ctx.node.caFile,
          logs: logs.map((l) => ({
            file: l.file,
            name: basename(l.file),
            node: l.node ?? null,
            records: l.entries.length,
          })),
          jobs: auditJobs(logs),
        };
      },
    },
    {
      method: 'GET',
      url: '/api/audit/jobs/:job/steps',
      schema: { params: auditJobParams },
      handler: async (request) => ({ steps: auditSteps(await parsed(), (request.params as { job: string }).job) }),
    },
    {
      method: 'GET',
      url: '/api/audit/jobs/:job/records',
      schema: {
        params: auditJobParams,
        querystring: {
          type: 'object',
          required: ['step'],
          properties: {
            step: { type: 'string', minLength: 1, maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 5000 },
          },
        },
      },
      handler: async (request) => {
        const { step, limit } = request.query as { step: string; limit?: number };
        return auditRecords(await parsed(), (request.params as { job: string }).job, step, limit);
      },
    },
    {
      method: 'POST',
      url: '/api/audit/jobs/:job/verify',
      schema: { params: auditJobParams },
      handler: async (request) => {
        const job = (request.params as { job: string }).job;
        const logs = await sources();
        const trust = await readAuditTrust({
          ca: ctx.node.caFile,
          certsDir: ctx.auditCertsDir,
          nodes: auditLogNodes(logs),
        });
        const verification = verifyAuditLogs(logs, trust);
        const report = buildAuditReport(
          logs.map((s) => parseAuditSource(s)),
          { job, verification },
        );
        ctx.log.info({ job, status: verification.ok ? 'ok' : 'failed' }, 'audit logs verified from the console');
        return {
          verification: {
            ok: verification.ok,
            findings: verification.findings,
            notes: verification.notes,
            nodes: verification.nodes,
            certificates: verification.certificates,
          },
          report: {
            verification: report.verification,
            privacyBudget: report.privacyBudget,
            parties: report.parties,
            coordinator: report.coordinator ?? null,
          },
        };
      },
    },
  ];
}
