/** `tandem audit verify | report`: check the nodes' audit logs, and report per party what left it in a job. */
import type { Argv, CommandModule } from 'yargs';
import { TandemError } from '../../protocol/errors.ts';
import {
  auditLogNodes,
  parseAuditSource,
  readAuditSources,
  readAuditTrust,
  verifyAuditLogs,
  type AuditFinding,
  type AuditLogSource,
  type AuditVerification,
} from '../../audit/verify.ts';
import { buildAuditReport, writeAuditReport } from '../../audit/report.ts';

type TrustArgs = {
  logs: string[];
  ca: string | undefined;
  cert: string[];
  'certs-dir': string | undefined;
  coordinator: string | undefined;
  excerpt: boolean;
  partial: boolean;
  json: boolean;
};

/** Exit status when the logs do not verify (like `diff`: the command ran, the answer is "no"). */
export const AUDIT_FINDINGS_EXIT_CODE = 1;

const LOGS_HELP = 'audit logs, one per node: <dataDir>/audit/<node>.audit.jsonl';

/** `--cert a.crt --cert b.crt` and `--cert a.crt,b.crt` both mean [a.crt, b.crt]. */
const certList = (value: string | readonly string[] | undefined): string[] =>
  [value ?? []]
    .flat()
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');

function trustOptions<T>(y: Argv<T>, caRequired: boolean) {
  return (
    y
      .positional('logs', { type: 'string', array: true, demandOption: true, describe: LOGS_HELP })
      .option('ca', { type: 'string', demandOption: caRequired, describe: 'the federation CA certificate (ca.crt)' })
      // Not `array: true`: a greedy array would swallow the log files that follow it.
      .option('cert', {
        type: 'string',
        default: [] as string[],
        coerce: certList,
        describe: "a node's certificate (<node>.crt); repeat it, or give a comma list",
      })
      .option('certs-dir', {
        type: 'string',
        describe: 'a directory holding <node>.crt for every node whose log is given',
      })
      .option('coordinator', {
        type: 'string',
        describe: 'the coordinator\'s node name, if it is not "coordinator" (detected otherwise)',
      })
      .option('excerpt', {
        type: 'boolean',
        default: false,
        describe: 'accept logs that start after their first record (rotated or cut excerpts)',
      })
      .option('partial', {
        type: 'boolean',
        default: false,
        describe: 'verify only the logs given: a party the logs name whose log is missing is a note, not a failure',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
  );
}

async function verify(args: TrustArgs, sources: readonly AuditLogSource[]): Promise<AuditVerification> {
  if (args.ca === undefined)
    throw new TandemError('ARGUMENT_INVALID', 'verifying needs --ca, the federation CA certificate');
  if (args.cert.length === 0 && args['certs-dir'] === undefined) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      "verifying needs the nodes' certificates: pass --cert <node>.crt for each node, or --certs-dir <dir>",
    );
  }
  const trust = await readAuditTrust({
    ca: args.ca,
    certs: args.cert,
    certsDir: args['certs-dir'],
    nodes: auditLogNodes(sources),
  });
  return verifyAuditLogs(sources, trust, {
    coordinator: args.coordinator,
    allowExcerpt: args.excerpt,
    partial: args.partial,
  });
}

/** Record findings name their line and seq in the message itself, so JSON readers get them too. */
const finding = (f: AuditFinding): string => `  ${f.file}: [${f.problem}] ${f.message}`;

/** The verdict, every finding and note, and a summary per node. */
function formatAuditVerification(result: AuditVerification): string {
  const out: string[] = [];
  const records = result.nodes.reduce((n, s) => n + s.records, 0);
  if (result.ok) {
    out.push(
      `OK: ${result.nodes.length} log${result.nodes.length === 1 ? '' : 's'}, ${records} records: chains, signatures and cross-matches verify.`,
    );
  } else {
    out.push(
      `FAILED: ${result.findings.length} problem${result.findings.length === 1 ? '' : 's'} in ${result.nodes.length} log${result.nodes.length === 1 ? '' : 's'} (${records} records):`,
    );
    for (const f of result.findings) out.push(finding(f));
  }
  if (result.notes.length > 0) {
    out.push('', 'Notes (do not fail verification):');
    for (const f of result.notes) out.push(finding(f));
  }
  out.push('', 'Per node:');
  for (const s of result.nodes) {
    const seqs = s.firstSeq === undefined ? 'empty' : `seq ${s.firstSeq}–${s.lastSeq ?? '?'}`;
    out.push(`  ${s.node ?? '?'} (${s.role}) ${s.file}: ${s.records} records, ${seqs}, last hash ${s.lastHash ?? '-'}`);
    out.push(`    jobs: ${s.jobs.join(', ') || '-'}`);
    out.push(`    peers: ${s.peers.join(', ') || '-'}`);
    out.push(
      `    cross-checked: ${s.matched} matched${s.unchecked > 0 ? `, ${s.unchecked} not checkable (the peer's log was not given)` : ''}`,
    );
  }
  return out.join('\n');
}

export const auditCommand: CommandModule<object, object> = {
  command: 'audit <command>',
  describe: "Verify the nodes' privacy audit logs and report what left each party",
  builder: (y) =>
    y
      .command<TrustArgs>({
        command: 'verify <logs..>',
        describe: `Check every log's chain and signatures, and cross-match what each node sent with what its peer received. Exits ${AUDIT_FINDINGS_EXIT_CODE} if anything is wrong`,
        builder: (b) =>
          trustOptions(b, true).example(
            '$0 audit verify --ca certs/ca.crt --certs-dir certs coord/audit/coordinator.audit.jsonl brand/audit/brand.audit.jsonl partner/audit/partner.audit.jsonl',
            'all three nodes of a federation',
          ),
        handler: async (args) => {
          const sources = await readAuditSources(args.logs);
          const result = await verify(args, sources);
          process.stdout.write(
            args.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatAuditVerification(result)}\n`,
          );
          if (!result.ok) process.exitCode = AUDIT_FINDINGS_EXIT_CODE;
        },
      })
      .command<TrustArgs & { job: string; out: string }>({
        command: 'report <logs..>',
        describe:
          'Write an HTML page and a JSON file telling, per party, everything that left it in a job and whether any row-level plaintext did',
        builder: (b) =>
          trustOptions(b, false)
            .option('job', { type: 'string', demandOption: true, describe: 'the job id (e.g. job-1a2b3c4d5e)' })
            .option('out', {
              type: 'string',
              default: './audit-report',
              describe: 'directory to write <job>.audit-report.html and .json to',
            })
            .example(
              '$0 audit report --job job-1a2b3c4d5e --ca certs/ca.crt --certs-dir certs --out report/ */audit/*.audit.jsonl',
              'verify, then report',
            ),
        handler: async (args) => {
          const sources = await readAuditSources(args.logs);
          const verification = args.ca === undefined ? undefined : await verify(args, sources);
          const report = buildAuditReport(
            sources.map((s) => parseAuditSource(s)),
            { job: args.job, verification },
          );
          const files = await writeAuditReport(report, args.out);
          if (args.json) {
            process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          } else {
            const lines = [
              report.verification.text,
              report.privacyBudget.headline ?? '',
              '',
              ...report.parties.map((p) => `${p.party}: ${p.verdict.text}`),
              '',
              `Wrote ${files.html}`,
              `  and ${files.json}`,
            ];
            process.stdout.write(`${lines.join('\n')}\n`);
          }
          if (verification !== undefined && !verification.ok) process.exitCode = AUDIT_FINDINGS_EXIT_CODE;
        },
      })
      .demandCommand(1, 'Name an audit command: verify or report.'),
  handler: () => undefined,
};
