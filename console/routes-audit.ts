/**
 * The auditor's view, on any node's console given `--audit-logs`: pick a
 * job, run `audit verify` over the logs (chains, signatures, cross-matches,
 * runtime/audit-verify.ts) with the federation CA of this node's config and
 * the nodes' certificates, see the per-party verdict and ε
 * (runtime/audit-report.ts), and browse the records by step. The logs are
 * read again on every request, so a page shows what is on disk now.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { auditLogNodes, parseAuditSource, readAuditSources, readAuditTrust, verifyAuditLogs, type AuditLogSource } from '../runtime/audit-verify.ts';
import { buildAuditReport } from '../runtime/audit-report.ts';
import { auditJobs, auditRecords, auditSteps } from './audit-view.ts';
import { JOB_ID_PATTERN, type ConsoleRoute, type RouteContext } from './routes.ts';

const auditJobParams = { type: 'object', required: ['job'], properties: { job: { type: 'string', pattern: JOB_ID_PATTERN } } } as const;

/** The log files given: files as they are, directories as the `*.audit.jsonl` files in them now. */
export async function auditLogFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path).catch(() => undefined))?.isDirectory() === true) {
      files.push(...(await readdir(path)).filter((n) => n.endsWith('.audit.jsonl')).sort().map((n) => join(path, n)));
    } else {
      files.push(path); // a missing file is reported by readAuditSources, naming it
    }
  }
  return files;
}

export function auditRoutes(ctx: RouteContext): ConsoleRoute[] {
  const sources = async (): Promise<AuditLogSource[]> => readAuditSources(await auditLogFiles(ctx.auditLogs));
  const parsed = async (): Promise<ReturnType<typeof parseAuditSource>[]> => (await sources()).map((s) => parseAuditSource(s));

  return [
    { method: 'GET', url: '/api/audit', handler: async () => {
      const logs = await parsed();
      return {
        certsDir: ctx.auditCertsDir,
        ca: ctx.node.caFile,
        logs: logs.map((l) => ({ file: l.file, name: basename(l.file), node: l.node ?? null, records: l.entries.length })),
        jobs: auditJobs(logs),
      };
    } },
    { method: 'GET', url: '/api/audit/jobs/:job/steps', schema: { params: auditJobParams }, handler: async (request) => ({ steps: auditSteps(await parsed(), (request.params as { job: string }).job) }) },
    { method: 'GET', url: '/api/audit/jobs/:job/records', schema: { params: auditJobParams, querystring: { type: 'object', required: ['step'], properties: { step: { type: 'string', minLength: 1, maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 5000 } } } },
      handler: async (request) => {
        const { step, limit } = request.query as { step: string; limit?: number };
        return auditRecords(await parsed(), (request.params as { job: string }).job, step, limit);
      } },
    { method: 'POST', url: '/api/audit/jobs/:job/verify', schema: { params: auditJobParams }, handler: async (request) => {
      const job = (request.params as { job: string }).job;
      const logs = await sources();
      const trust = await readAuditTrust({ ca: ctx.node.caFile, certsDir: ctx.auditCertsDir, nodes: auditLogNodes(logs) });
      const verification = verifyAuditLogs(logs, trust);
      const report = buildAuditReport(logs.map((s) => parseAuditSource(s)), { job, verification });
      ctx.log.info({ job, status: verification.ok ? 'ok' : 'failed' }, 'audit logs verified from the console');
      return {
        verification: { ok: verification.ok, findings: verification.findings, notes: verification.notes, nodes: verification.nodes, certificates: verification.certificates },
        report: { verification: report.verification, privacyBudget: report.privacyBudget, parties: report.parties, coordinator: report.coordinator ?? null },
      };
    } },
  ];
}
