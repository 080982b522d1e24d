/**
 * `tandem audit verify`: checks a set of nodes' audit logs without trusting
 * any one node.
 *
 * Per log: every line is a well-formed record; sequence numbers run 0, 1, 2…
 * (an excerpt may start later when asked); each record links to the hash of
 * the record before it; its hash matches its contents; and its signature
 * verifies with the certificate, issued by the federation CA, of the node
 * the log belongs to.
 *
 * Across logs: every hop appears on both ends with the same envelope digest.
 * Parties talk only to the coordinator, so a party's record is matched with
 * the coordinator's record of the same hop; when the coordinator's log is not
 * given, a party-to-party message is matched end to end with the other
 * party's log. The coordinator's own relay records are checked too: what it
 * passed on must be byte-identical to what it received.
 *
 * Statements (a node's signed claim about its own part in a job, such as
 * the ε a differentially private job spent) sit in the same chain and are
 * checked like every record, and their digest must be that of their claim;
 * they describe no message, so they are not cross-matched.
 *
 * Tampering this catches: an edited record (hash, or signature if the hash
 * was recomputed), a dropped record (sequence gap, or an unmatched
 * counterpart when it was the last one), reordered records, a forged
 * appended record (signature), and a log replaced by another job's
 * (records no peer corroborates). It cannot catch a node that lies
 * consistently in its own log and in what it sends (see docs/threat-model.md).
 */
import { basename } from 'node:path';
import { COORDINATOR } from '../protocol/version.ts';
import { STATEMENT_DIRECTION, type AuditDirection } from './log.ts';
import { checkChain, checkHeader, trustedKeys, type AuditVerifyOptions } from './verify-log.ts';

export type { AuditVerifyOptions } from './verify-log.ts';
import {
  isStatement,
  parseAuditSource,
  type AuditEntry,
  type AuditFinding,
  type AuditLogSource,
  type AuditTrust,
  type ParsedAuditLog,
} from './inputs.ts';

export {
  FINDING_PROBLEMS,
  auditLogNodes,
  isStatement,
  parseAuditSource,
  parseMessageId,
  readAuditSources,
  readAuditTrust,
  type AuditCertificate,
  type AuditEntry,
  type AuditFinding,
  type AuditLogSource,
  type AuditTrust,
  type AuditTrustFiles,
  type FindingProblem,
  type MessageIdParts,
  type ParsedAuditLog,
} from './inputs.ts';

/** What a clean log holds, for the summary. */
export type AuditNodeSummary = {
  readonly file: string;
  readonly node: string | undefined;
  readonly role: 'coordinator' | 'party';
  readonly records: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Hash of the last record: keep it to detect a later truncation of this log. */
  readonly lastHash: string | undefined;
  readonly jobs: readonly string[];
  readonly peers: readonly string[];
  /** Records whose counterpart was found in another log. */
  readonly matched: number;
  /** Records whose counterpart's log was not given, so they could not be cross-checked. */
  readonly unchecked: number;
  /** Statements: signed claims, not messages, so neither matched nor unchecked. */
  readonly statements: number;
};

export type AuditVerification = {
  /** True when there is no finding of severity `error`. */
  readonly ok: boolean;
  readonly findings: readonly AuditFinding[];
  readonly notes: readonly AuditFinding[];
  readonly nodes: readonly AuditNodeSummary[];
  readonly certificates: readonly {
    readonly source: string;
    readonly node: string | undefined;
    readonly accepted: boolean;
  }[];
};
type Report = (finding: AuditFinding) => void;

type Group = {
  readonly log: ParsedAuditLog;
  readonly job: string;
  readonly counterpart: string;
  readonly entries: AuditEntry[];
  matched: number;
  readonly pending: AuditFinding[];
};

/**
 * Verifies logs: chains, signatures, and sender/receiver cross-matches.
 * @throws ConfigError `CONFIG_INVALID` when the CA is not a CA certificate
 */
export function verifyAuditLogs(
  sources: readonly AuditLogSource[],
  trust: AuditTrust,
  options: AuditVerifyOptions = {},
): AuditVerification {
  const findings: AuditFinding[] = [];
  const report: Report = (f) => findings.push(f);
  const certificates: { source: string; node: string | undefined; accepted: boolean }[] = [];
  const keys = trustedKeys(trust, report, certificates);
  const logs = sources.map((s) => parseAuditSource(s, report));

  const isCoordinator = (log: ParsedAuditLog): boolean =>
    log.node !== undefined &&
    (log.node === options.coordinator ||
      log.node === COORDINATOR ||
      log.entries.some((e) => e.record.direction === 'sent' && e.id !== undefined && e.id.sender !== log.node));
  // Parties address the coordinator by its protocol name, whatever its certificate says.
  const logical = (log: ParsedAuditLog): string | undefined => (isCoordinator(log) ? COORDINATOR : log.node);
  const byName = new Map<string, ParsedAuditLog>();
  for (const log of logs) {
    checkChain(log, keys, options, report);
    if (log.entries.length === 0)
      report({ severity: 'note', problem: 'empty-log', file: log.file, message: `${log.file} holds no records` });
    const stem = /^(.+)\.audit\.jsonl$/.exec(basename(log.file))?.[1];
    if (stem !== undefined && log.node !== undefined && stem !== log.node) {
      report({
        severity: 'note',
        problem: 'file-name',
        file: log.file,
        node: log.node,
        message: `the file is named for "${stem}" but its records are "${log.node}"'s`,
      });
    }
    const name = logical(log);
    if (name === undefined) continue;
    const earlier = byName.get(name);
    if (earlier !== undefined) {
      report({
        severity: 'error',
        problem: 'duplicate-node',
        file: log.file,
        node: log.node,
        message: `a second log for "${name}" (the first is ${earlier.file}); give one log per node`,
      });
      continue;
    }
    byName.set(name, log);
    for (const e of log.entries) if (!isStatement(e.record)) checkHeader(log, isCoordinator(log), e, report);
  }

  // Index every record by (node, direction, message id[, digest]).
  const byDigest = new Map<string, { log: ParsedAuditLog; entry: AuditEntry }[]>();
  const byId = new Map<string, { log: ParsedAuditLog; entry: AuditEntry }[]>();
  const push = <T>(map: Map<string, T[]>, key: string, value: T): void =>
    void map.set(key, [...(map.get(key) ?? []), value]);
  for (const [name, log] of byName) {
    for (const entry of log.entries) {
      if (isStatement(entry.record)) continue;
      push(byDigest, `${name}\n${entry.record.direction}\n${entry.record.messageId}\n${entry.record.sha256}`, {
        log,
        entry,
      });
      push(byId, `${name}\n${entry.record.direction}\n${entry.record.messageId}`, { log, entry });
    }
  }
  const flip = (d: AuditDirection): AuditDirection => (d === 'sent' ? 'received' : 'sent');
  const groups = new Map<string, Group>();
  const counts = new Map<ParsedAuditLog, { matched: number; unchecked: number }>();

  for (const [name, log] of byName) {
    const coordinator = name === COORDINATOR;
    const tally = { matched: 0, unchecked: 0 };
    counts.set(log, tally);
    for (const entry of log.entries) {
      const r = entry.record;
      const id = entry.id;
      // Statements are no messages: nothing to match (and their id is not parsed, so they stop here).
      if (id === undefined || r.direction === STATEMENT_DIRECTION) continue;
      const direction = r.direction;
      const at = { file: log.file, node: log.node, seq: r.seq, line: entry.line, severity: 'error' as const };
      const here = `line ${entry.line} (seq ${r.seq})`;
      const what = `${r.messageId} (${r.kind}, ${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}…)`;
      // Who else must have recorded this hop: parties talk only to the coordinator; without its log, match end to end.
      let other: string | undefined;
      if (coordinator) other = byName.has(r.peer) ? r.peer : undefined;
      else if (byName.has(COORDINATOR)) other = COORDINATOR;
      else {
        const far = direction === 'sent' ? id.recipient : id.sender;
        other = far !== COORDINATOR && byName.has(far) ? far : undefined;
      }
      if (coordinator && id.sender !== COORDINATOR && id.recipient !== COORDINATOR)
        checkRelay(log, entry, byDigest, byId, report);
      if (other === undefined) {
        tally.unchecked += 1;
        continue;
      }
      const otherLog = byName.get(other) as ParsedAuditLog;
      // The coordinator's record of a party's hop names that party as its peer.
      const matches = (byDigest.get(`${other}\n${flip(direction)}\n${r.messageId}\n${r.sha256}`) ?? []).filter(
        (m) => other !== COORDINATOR || m.entry.record.peer === name,
      );
      const groupKey = `${log.file}\n${r.job}\n${other}`;
      let group = groups.get(groupKey);
      if (group === undefined) {
        group = { log, job: r.job, counterpart: other, entries: [], matched: 0, pending: [] };
        groups.set(groupKey, group);
      }
      group.entries.push(entry);
      const first = matches[0];
      if (first !== undefined) {
        tally.matched += 1;
        group.matched += 1;
        const c = first.entry.record;
        const differ = (['kind', 'bytes', 'sealed'] as const).filter((k) => c[k] !== r[k]);
        if (differ.length > 0 && direction === 'sent') {
          report({
            ...at,
            problem: 'counterpart-disagrees',
            message: `${here}: ${other}'s record of ${r.messageId} (${otherLog.file} line ${first.entry.line}, seq ${c.seq}) disagrees on ${differ.map((k) => `${k} (${String(r[k])} here, ${String(c[k])} there)`).join(', ')}`,
          });
        }
        continue;
      }
      const sameId = byId.get(`${other}\n${flip(direction)}\n${r.messageId}`) ?? [];
      const verb = direction === 'sent' ? `sent ${what} to ${r.peer}` : `received ${what} from ${r.peer}`;
      if (sameId.length > 0) {
        // Reported once, from the sender's side, naming both records.
        if (direction === 'sent') {
          const c = sameId[0]?.entry;
          group.pending.push({
            ...at,
            problem: 'digest-mismatch',
            message: `${here}: ${log.node ?? '?'} says it ${verb}, but ${other}'s log (${otherLog.file} line ${c?.line ?? '?'}, seq ${c?.record.seq ?? '?'}) has that message with sha256 ${c?.record.sha256.slice(0, 12) ?? '?'}…: the bytes differ, or one record was edited`,
          });
        }
        continue;
      }
      group.pending.push({
        ...at,
        problem: 'unmatched',
        message: `${here}: ${log.node ?? '?'} says it ${verb}, but ${other}'s log (${otherLog.file}) has no matching "${flip(direction)}" record: dropped from ${other}'s log, or never happened`,
      });
    }
  }

  for (const g of groups.values()) {
    if (g.matched > 0 || g.entries.length < 2 || g.pending.length < g.entries.length) {
      findings.push(...g.pending);
      continue;
    }
    const firstEntry = g.entries[0] as AuditEntry;
    const lastEntry = g.entries.at(-1) as AuditEntry;
    const otherLog = byName.get(g.counterpart) as ParsedAuditLog;
    const knows = otherLog.entries.some((e) => e.record.job === g.job);
    findings.push({
      file: g.log.file,
      node: g.log.node,
      seq: firstEntry.record.seq,
      line: firstEntry.line,
      severity: 'error',
      problem: 'uncorroborated-job',
      message: `lines ${firstEntry.line}–${lastEntry.line} (seqs ${firstEntry.record.seq}–${lastEntry.record.seq}): ${g.entries.length} records of job ${g.job} exchanged with ${g.counterpart}, and ${otherLog.file} matches none of them${knows ? '' : `; that log has no record of job ${g.job} at all: one of the two logs belongs to another job or was replaced`}`,
    });
  }

  // Every party a job's records name must have a log with records: a replaced, emptied or withheld log is not "OK".
  const named = new Map<string, { job: string; file: string }>();
  for (const [name, log] of byName) {
    for (const e of log.entries) {
      if (e.id === undefined || isStatement(e.record)) continue;
      for (const party of [e.id.sender, e.id.recipient])
        if (party !== COORDINATOR && party !== name && !named.has(party))
          named.set(party, { job: e.record.job, file: log.file });
    }
  }
  for (const [party, where] of named) {
    if (byName.has(party)) continue;
    const empty = logs.find((l) => l.entries.length === 0 && basename(l.file) === `${party}.audit.jsonl`);
    report({
      severity: options.partial === true ? 'note' : 'error',
      problem: 'missing-log',
      file: empty?.file ?? where.file,
      message:
        empty !== undefined
          ? `${empty.file} is empty, but job ${where.job} names ${party} (${where.file}): its log was emptied or replaced`
          : `job ${where.job} names ${party} (${where.file}), but no log of ${party} was given: add <${party}'s dataDir>/audit/${party}.audit.jsonl, or pass --partial to verify only these logs`,
    });
  }

  // The coordinator's log may be left out (parties' messages are then matched end to end), but not given emptied.
  const emptied = logs.find(
    (l) => l.entries.length === 0 && basename(l.file) === `${options.coordinator ?? COORDINATOR}.audit.jsonl`,
  );
  const talked = byName.has(COORDINATOR)
    ? undefined
    : [...byName.values()].find((l) => l.entries.some((e) => !isStatement(e.record) && e.record.peer === COORDINATOR));
  const job = talked?.entries.find((e) => !isStatement(e.record))?.record.job;
  if (emptied !== undefined && talked !== undefined) {
    report({
      severity: options.partial === true ? 'note' : 'error',
      problem: 'missing-log',
      file: emptied.file,
      message: `${emptied.file} is empty, but job ${job ?? '?'} names the coordinator (${talked.file}): its log was emptied or replaced`,
    });
  }

  const order = new Map(sources.map((s, k) => [s.file, k]));
  findings.sort((a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || (a.line ?? 0) - (b.line ?? 0));
  const nodes = logs.map((log): AuditNodeSummary => {
    const statements = log.entries.filter((e) => isStatement(e.record)).length;
    return {
      file: log.file,
      node: log.node,
      role: isCoordinator(log) ? 'coordinator' : 'party',
      records: log.entries.length,
      firstSeq: log.entries[0]?.record.seq,
      lastSeq: log.entries.at(-1)?.record.seq,
      lastHash: log.entries.at(-1)?.record.hash,
      jobs: [...new Set(log.entries.map((e) => e.record.job))],
      peers: [...new Set(log.entries.filter((e) => !isStatement(e.record)).map((e) => e.record.peer))].sort(),
      matched: counts.get(log)?.matched ?? 0,
      unchecked: counts.get(log)?.unchecked ?? log.entries.length - statements,
      statements,
    };
  });
  const errors = findings.filter((f) => f.severity === 'error');
  return {
    ok: errors.length === 0,
    findings: errors,
    notes: findings.filter((f) => f.severity === 'note'),
    nodes,
    certificates,
  };
}

type Indexed = Map<string, { log: ParsedAuditLog; entry: AuditEntry }[]>;

/** The coordinator's relay of a party-to-party message: passed on unchanged, and only what it received. */
function checkRelay(log: ParsedAuditLog, entry: AuditEntry, byDigest: Indexed, byId: Indexed, report: Report): void {
  const r = entry.record;
  const at = { file: log.file, node: log.node, seq: r.seq, line: entry.line };
  const here = `line ${entry.line} (seq ${r.seq})`;
  const own = (direction: AuditDirection, digest?: string): { log: ParsedAuditLog; entry: AuditEntry }[] =>
    (digest === undefined
      ? byId.get(`${COORDINATOR}\n${direction}\n${r.messageId}`)
      : byDigest.get(`${COORDINATOR}\n${direction}\n${r.messageId}\n${digest}`)) ?? [];
  if (r.direction === 'received') {
    if (own('sent').length === 0) {
      report({
        ...at,
        severity: 'note',
        problem: 'not-relayed',
        message: `${here}: the coordinator received ${r.messageId} for ${r.peer === entry.id?.sender ? entry.id.recipient : '?'} but has no record of passing it on (refused, job already over, or the record was dropped)`,
      });
    }
    return;
  }
  if (own('received', r.sha256).length > 0) return;
  const received = own('received');
  if (received.length > 0) {
    report({
      ...at,
      severity: 'error',
      problem: 'relay-altered',
      message: `${here}: the coordinator passed on ${r.messageId} with sha256 ${r.sha256.slice(0, 12)}…, but received it with sha256 ${received[0]?.entry.record.sha256.slice(0, 12) ?? '?'}… (line ${received[0]?.entry.line ?? '?'}): the relay changed the bytes`,
    });
  } else {
    report({
      ...at,
      severity: 'error',
      problem: 'relay-unsourced',
      message: `${here}: the coordinator says it passed on ${r.messageId} from ${entry.id?.sender ?? '?'}, but has no record of receiving it`,
    });
  }
}
