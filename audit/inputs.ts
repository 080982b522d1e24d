/**
 * What `tandem audit verify` reads (audit/verify.ts checks it): the
 * nodes' logs, split into shape-checked records with where each was found,
 * and the certificates the auditor trusts. Malformed lines become findings;
 * missing files are errors that name the file and what to pass instead.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../protocol/errors.ts';
import { STATEMENT_DIRECTION, STATEMENT_KIND, claimProblem, parseAuditLines, type AuditRecord } from './log.ts';

/** A log as read from disk: its path (used in every finding) and its text. */
export type AuditLogSource = { readonly file: string; readonly text: string };
/** A node certificate offered for checking signatures, and where it came from. */
export type AuditCertificate = { readonly source: string; readonly pem: string };

/** What the auditor trusts: the federation CA, and node certificates it must have issued. */
export type AuditTrust = {
  readonly caSource: string;
  readonly caPem: string;
  readonly certificates: readonly AuditCertificate[];
};
export const FINDING_PROBLEMS = [
  'malformed',
  'unknown-kind',
  'wrong-node',
  'duplicate-node',
  'seq-start',
  'seq-gap',
  'seq-order',
  'seq-duplicate',
  'broken-link',
  'hash-mismatch',
  'bad-signature',
  'no-certificate',
  'certificate-rejected',
  'certificate-not-valid',
  'header-mismatch',
  'unmatched',
  'digest-mismatch',
  'counterpart-disagrees',
  'relay-altered',
  'relay-unsourced',
  'not-relayed',
  'uncorroborated-job',
  'excerpt-start',
  'file-name',
  'empty-log',
  'statement-invalid',
  'missing-log',
] as const;
export type FindingProblem = (typeof FINDING_PROBLEMS)[number];

/** One problem, located as precisely as the evidence allows. `note`s do not fail verification. */
export type AuditFinding = {
  readonly severity: 'error' | 'note';
  readonly problem: FindingProblem;
  readonly file: string;
  readonly node?: string | undefined;
  readonly seq?: number | undefined;
  readonly line?: number | undefined;
  readonly message: string;
};
/** The parts of a message id: `job/round/step/sender>recipient/seq`. */
export type MessageIdParts = {
  readonly job: string;
  readonly round: number;
  readonly step: string;
  readonly sender: string;
  readonly recipient: string;
  readonly seq: number;
};

/** A shape-checked record with where it was found. */
export type AuditEntry = {
  readonly line: number;
  readonly record: AuditRecord;
  readonly id: MessageIdParts | undefined;
};

/** A log split into shape-checked records; malformed lines are reported through `onProblem`. */
export type ParsedAuditLog = {
  readonly file: string;
  readonly node: string | undefined;
  readonly entries: readonly AuditEntry[];
};

const HEX64 = /^[0-9a-f]{64}$/;
const FIELDS = [
  'job',
  'round',
  'step',
  'direction',
  'peer',
  'kind',
  'messageId',
  'bytes',
  'sha256',
  'sealed',
  'claim',
  'seq',
  'time',
  'node',
  'prev',
  'hash',
  'sig',
] as const;

/** Whether a (shape-checked) record is a statement rather than a message. */
export const isStatement = (r: AuditRecord): boolean => r.direction === STATEMENT_DIRECTION;

export function parseMessageId(id: string): MessageIdParts | undefined {
  const parts = id.split('/');
  if (parts.length < 5) return undefined;
  const seq = parts.at(-1) ?? '';
  const route = (parts.at(-2) ?? '').split('>');
  const step = parts.at(-3) ?? '';
  const round = parts.at(-4) ?? '';
  const job = parts.slice(0, -4).join('/');
  if (!/^\d+$/.test(seq) || !/^\d+$/.test(round) || route.length !== 2 || step === '' || job === '') return undefined;
  const [sender = '', recipient = ''] = route;
  if (sender === '' || recipient === '') return undefined;
  return { job, round: Number(round), step, sender, recipient, seq: Number(seq) };
}

/** Why a parsed JSON value is not an audit record, or undefined if it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  const r = value as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length > 0)
    return `has fields the record format does not define (${extra.join(', ')}), which no hash or signature covers`;
  const isInt = (k: string): boolean => Number.isSafeInteger(r[k]) && (r[k] as number) >= 0;
  const isText = (k: string): boolean => typeof r[k] === 'string' && r[k] !== '';
  for (const k of ['seq', 'round', 'bytes']) if (!isInt(k)) return `field "${k}" is missing or not a whole number`;
  for (const k of ['job', 'step', 'peer', 'kind', 'messageId', 'node', 'sig', 'time'])
    if (!isText(k)) return `field "${k}" is missing or empty`;
  for (const k of ['sha256', 'prev', 'hash'])
    if (typeof r[k] !== 'string' || !HEX64.test(r[k])) return `field "${k}" is not a 64-digit hex hash`;
  if (typeof r.sealed !== 'boolean') return 'field "sealed" is not true or false';
  if (r.direction === STATEMENT_DIRECTION || r.kind === STATEMENT_KIND || 'claim' in r) {
    if (r.direction !== STATEMENT_DIRECTION || r.kind !== STATEMENT_KIND || !('claim' in r))
      return `is half a statement: a statement has direction "${STATEMENT_DIRECTION}", kind "${STATEMENT_KIND}" and a claim, all three`;
    const problem = claimProblem(r.claim);
    if (problem !== undefined) return `is a statement whose claim ${problem}`;
  } else if (r.direction !== 'sent' && r.direction !== 'received') {
    return 'field "direction" is neither "sent" nor "received"';
  }
  if (Number.isNaN(Date.parse(r.time as string))) return 'field "time" is not a timestamp';
  return undefined;
}

/** Parses one log into records, reporting every line that is not a well-formed record. */
export function parseAuditSource(
  source: AuditLogSource,
  onProblem: (finding: AuditFinding) => void = () => undefined,
): ParsedAuditLog {
  const entries: AuditEntry[] = [];
  for (const parsed of parseAuditLines(source.text)) {
    const problem =
      'error' in parsed
        ? `is not valid JSON (${parsed.error}); a torn or hand-edited line`
        : shapeProblem(parsed.value);
    if (problem !== undefined || !('value' in parsed)) {
      onProblem({
        severity: 'error',
        problem: 'malformed',
        file: source.file,
        line: parsed.line,
        message: `line ${parsed.line} ${problem ?? 'is malformed'}`,
      });
      continue;
    }
    const record = parsed.value as AuditRecord;
    entries.push({ line: parsed.line, record, id: isStatement(record) ? undefined : parseMessageId(record.messageId) });
  }
  return { file: source.file, node: entries[0]?.record.node, entries };
}

// ——— Reading files (the CLI's edge) ———

/**
 * Reads log files.
 * @throws DataError `DATA_FILE_NOT_FOUND` naming a log that does not exist or cannot be read
 */
export async function readAuditSources(files: readonly string[]): Promise<AuditLogSource[]> {
  return Promise.all(
    files.map(async (file) => {
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (error) {
        throw new DataError(
          'DATA_FILE_NOT_FOUND',
          {
            file,
            problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
            fix: 'pass the audit logs, found at <dataDir>/audit/<node>.audit.jsonl on each node',
          },
          { cause: error },
        );
      }
    }),
  );
}

/** The node names the logs belong to (first record of each), to pick certificates from a directory. */
export function auditLogNodes(sources: readonly AuditLogSource[]): string[] {
  return [...new Set(sources.map((s) => parseAuditSource(s).node).filter((n): n is string => n !== undefined))];
}

/** Options for {@link readAuditTrust}. */
export type AuditTrustFiles = {
  readonly ca: string;
  /** Node certificate files. @default [] */
  readonly certs?: readonly string[] | undefined;
  /** A directory holding `<node>.crt` for each node. */
  readonly certsDir?: string | undefined;
  /** With `certsDir`: the nodes whose certificates to take from it. */
  readonly nodes?: readonly string[] | undefined;
};

/**
 * Reads the CA and the node certificates.
 * @throws ConfigError `CONFIG_NOT_FOUND` for a missing CA or certificate file
 */
export async function readAuditTrust(files: AuditTrustFiles): Promise<AuditTrust> {
  const read = async (file: string, field: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        'CONFIG_NOT_FOUND',
        {
          file,
          field,
          problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
          fix: "pass the federation CA certificate (ca.crt) and the nodes' certificates (<node>.crt)",
        },
        { cause: error },
      );
    }
  };
  const caPem = await read(files.ca, '--ca');
  const paths = [...(files.certs ?? [])];
  if (files.certsDir !== undefined) {
    for (const node of files.nodes ?? []) {
      const path = join(files.certsDir, `${node}.crt`);
      if (existsSync(path) && !paths.includes(path)) paths.push(path);
    }
  }
  const certificates = await Promise.all(paths.map(async (source) => ({ source, pem: await read(source, '--cert') })));
  return { caSource: files.ca, caPem, certificates };
}
