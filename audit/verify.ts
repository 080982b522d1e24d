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
import { X509Certificate, type KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { verify } from '../protocol/crypto/signing.ts';
import { MESSAGE_KINDS } from '../protocol/wire/envelope.ts';
import { COORDINATOR } from '../protocol/version.ts';
import { AuthError, ConfigError } from '../protocol/errors.ts';
import { verifyPeerCertificate } from '../runtime/certs.ts';
import { GENESIS, STATEMENT_DIRECTION, canonicalClaim, digest, hashRecord, type AuditDirection } from './log.ts';
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

/** Options for {@link verifyAuditLogs}. */
export type AuditVerifyOptions = {
  /** The coordinator's node name when it is not `coordinator`. @default detected (the log that relays) */
  readonly coordinator?: string | undefined;
  /** Accept logs that start after seq 0 (excerpts); the first record's prev hash is then taken on trust. @default false */
  readonly allowExcerpt?: boolean | undefined;
  /**
   * Verify only the logs given: a party the logs name in a job but whose log
   * is missing (or empty) is a note, not a failure. @default false
   */
  readonly partial?: boolean | undefined;
};
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
type NodeKey = { readonly key: KeyObject; readonly source: string; readonly from: Date; readonly to: Date };
type Report = (finding: AuditFinding) => void;

/** Checks each offered certificate against the CA; returns the usable keys by node name. */
function trustedKeys(
  trust: AuditTrust,
  report: Report,
  accepted: { source: string; node: string | undefined; accepted: boolean }[],
): Map<string, NodeKey[]> {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(trust.caPem);
  } catch (error) {
    throw new ConfigError(
      'CONFIG_INVALID',
      { file: trust.caSource, field: '--ca', problem: 'is not a PEM certificate', fix: "pass the federation's ca.crt" },
      { cause: error },
    );
  }
  if (!ca.ca)
    throw new ConfigError('CONFIG_INVALID', {
      file: trust.caSource,
      field: '--ca',
      problem: 'is not a CA certificate',
      fix: "pass the federation's ca.crt, not a node certificate",
    });
  const keys = new Map<string, NodeKey[]>();
  for (const cert of trust.certificates) {
    try {
      const x = new X509Certificate(cert.pem);
      // Logs outlive certificates: check the chain here, and each record's time against the validity window below.
      const mid = new Date((x.validFromDate.getTime() + x.validToDate.getTime()) / 2);
      const node = verifyPeerCertificate(cert.pem, trust.caPem, mid);
      if (x.publicKey.asymmetricKeyType !== 'ec' || x.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new AuthError(
          'AUTH_CERTIFICATE_REJECTED',
          `its key is not ECDSA P-256, the key type of every Tandem node`,
        );
      }
      keys.set(node, [
        ...(keys.get(node) ?? []),
        { key: x.publicKey, source: cert.source, from: x.validFromDate, to: x.validToDate },
      ]);
      accepted.push({ source: cert.source, node, accepted: true });
    } catch (error) {
      const why =
        error instanceof AuthError ? error.message.replace(/^the peer certificate: /, '') : 'is not a PEM certificate';
      report({
        severity: 'error',
        problem: 'certificate-rejected',
        file: cert.source,
        message: `certificate ${cert.source} was rejected: ${why}`,
      });
      accepted.push({ source: cert.source, node: undefined, accepted: false });
    }
  }
  return keys;
}

const seqList = (seqs: readonly number[]): string =>
  seqs.length === 1 || seqs[0] === seqs.at(-1) ? `seq ${seqs[0]}` : `seqs ${seqs[0]}–${seqs.at(-1)}`;
const lines = (entries: readonly AuditEntry[] | undefined): string => (entries ?? []).map((e) => e.line).join(', ');

/** Sequence, links, hashes and signatures of one log. */
function checkChain(
  log: ParsedAuditLog,
  keys: Map<string, NodeKey[]>,
  options: AuditVerifyOptions,
  report: Report,
): void {
  const bySeq = new Map<number, AuditEntry[]>();
  for (const e of log.entries) bySeq.set(e.record.seq, [...(bySeq.get(e.record.seq) ?? []), e]);
  const nodeKeys = log.node === undefined ? undefined : keys.get(log.node);
  if (log.node !== undefined && nodeKeys === undefined) {
    report({
      severity: 'error',
      problem: 'no-certificate',
      file: log.file,
      node: log.node,
      message: `no accepted certificate for node "${log.node}": none of its record signatures could be checked (pass --cert ${log.node}.crt or a --certs-dir holding it)`,
    });
  }
  let maxSeq = -1;
  log.entries.forEach((e, k) => {
    const r = e.record;
    const at = { file: log.file, node: log.node, seq: r.seq, line: e.line };
    const here = `line ${e.line} (seq ${r.seq})`;
    if (r.node !== log.node)
      report({
        ...at,
        severity: 'error',
        problem: 'wrong-node',
        message: `${here} is signed as node "${r.node}", but this is "${log.node ?? '?'}"'s log: a record from another log was spliced in`,
      });
    if (!isStatement(r) && !(MESSAGE_KINDS as readonly string[]).includes(r.kind))
      report({
        ...at,
        severity: 'error',
        problem: 'unknown-kind',
        message: `${here} has kind "${r.kind}", which is not a protocol kind (${MESSAGE_KINDS.join(', ')})`,
      });
    if (r.seq > maxSeq + 1) {
      // Seqs are attacker-controlled: never materialise the span, only the records present in it.
      const later = [...bySeq.keys()].filter((s) => s > maxSeq && s < r.seq).sort((a, b) => a - b);
      const gone = r.seq - maxSeq - 1 - later.length;
      const span = seqList([maxSeq + 1, r.seq - 1]);
      const missing =
        later.length === 0
          ? `${span} ${gone === 1 ? 'is' : 'are'}`
          : `${gone} record${gone === 1 ? '' : 's'} in ${span} ${gone === 1 ? 'is' : 'are'}`;
      if (later.length > 0)
        report({
          ...at,
          severity: 'error',
          problem: 'seq-order',
          message: `${here} comes before ${seqList(later)} (line ${lines(bySeq.get(later[0] ?? -1))}): records are out of order`,
        });
      if (gone > 0 && k > 0) {
        report({
          ...at,
          severity: 'error',
          problem: 'seq-gap',
          message: `${here}: ${missing} missing before it: dropped from the log`,
        });
      } else if (gone > 0 && options.allowExcerpt !== true) {
        report({
          ...at,
          severity: 'error',
          problem: 'seq-start',
          message: `${here}: the log starts at seq ${r.seq}, not 0, so ${missing} missing: the start of the log was cut off (pass --excerpt to verify an excerpt)`,
        });
      } else if (gone > 0) {
        report({
          ...at,
          severity: 'note',
          problem: 'excerpt-start',
          message: `${here}: excerpt starting at seq ${r.seq}; its link to earlier records (prev ${r.prev.slice(0, 16)}…) is taken on trust`,
        });
      }
    } else if (r.seq <= maxSeq) {
      const twins = bySeq.get(r.seq) ?? [];
      if (twins.length > 1)
        report({
          ...at,
          severity: 'error',
          problem: 'seq-duplicate',
          message: `${here}: seq ${r.seq} appears more than once (lines ${lines(twins)})`,
        });
      else
        report({
          ...at,
          severity: 'error',
          problem: 'seq-order',
          message: `${here} comes after seq ${maxSeq} (line ${lines(bySeq.get(maxSeq))}): records are out of order`,
        });
    }
    if (r.seq === 0 && r.prev !== GENESIS) {
      report({
        ...at,
        severity: 'error',
        problem: 'broken-link',
        message: `${here}: the first record must link to the genesis hash (64 zeros), but links to ${r.prev.slice(0, 16)}…`,
      });
    } else if (r.seq > 0) {
      const before = bySeq.get(r.seq - 1);
      if (before !== undefined && !before.some((b) => b.record.hash === r.prev)) {
        report({
          ...at,
          severity: 'error',
          problem: 'broken-link',
          message: `${here}: its prev hash does not match the hash of seq ${r.seq - 1} (line ${lines(before)}): that record was altered or replaced`,
        });
      }
    }
    if (hashRecord(r) !== r.hash) {
      report({
        ...at,
        severity: 'error',
        problem: 'hash-mismatch',
        message: `${here}: its contents do not match its hash: a field was changed after the record was written`,
      });
    }
    if (nodeKeys !== undefined) {
      const signature = Buffer.from(r.sig, 'base64');
      const good = nodeKeys.filter((nk) => verify(nk.key, Buffer.from(r.hash, 'hex'), signature));
      const time = new Date(r.time);
      if (good.length === 0) {
        report({
          ...at,
          severity: 'error',
          problem: 'bad-signature',
          message: `${here}: its signature does not verify with ${log.node ?? '?'}'s certificate (${nodeKeys.map((nk) => nk.source).join(', ')}): the record was forged or altered by someone without ${log.node ?? '?'}'s key`,
        });
      } else if (!good.some((nk) => time >= nk.from && time <= nk.to)) {
        report({
          ...at,
          severity: 'note',
          problem: 'certificate-not-valid',
          message: `${here}: signed at ${r.time}, outside the validity of the certificate that verifies it`,
        });
      }
    }
    if (isStatement(r)) checkStatement(log, e, report);
    maxSeq = Math.max(maxSeq, r.seq);
  });
}

/**
 * A statement's own consistency: its digest and size are its claim's, and
 * its header repeats the claim. (Its hash and signature are checked like
 * every record's; whether what it claims is true is the auditor's call.)
 */
function checkStatement(log: ParsedAuditLog, e: AuditEntry, report: Report): void {
  const r = e.record;
  const claim = r.claim;
  if (claim === undefined) return;
  const here = `line ${e.line} (seq ${r.seq})`;
  const canonical = Buffer.from(canonicalClaim(claim), 'utf8');
  const wrong: string[] = [];
  if (digest(canonical) !== r.sha256)
    wrong.push(
      `its sha256 is not the digest of its claim (the claim or the digest was changed: ${canonicalClaim(claim)})`,
    );
  else if (canonical.byteLength !== r.bytes)
    wrong.push(`its size ${r.bytes} is not its claim's (${canonical.byteLength} bytes)`);
  if (claim.job !== r.job)
    wrong.push(`its claim is about job "${claim.job}" but the record is filed under job "${r.job}"`);
  if (claim.type !== r.step) wrong.push(`its claim is of type "${claim.type}" but its step is "${r.step}"`);
  if (r.peer !== r.node) wrong.push(`its peer is "${r.peer}", not the stating node "${r.node}"`);
  if (r.sealed || r.round !== 0) wrong.push('a statement is neither sealed nor in a round');
  if (wrong.length > 0)
    report({
      file: log.file,
      node: log.node,
      seq: r.seq,
      line: e.line,
      severity: 'error',
      problem: 'statement-invalid',
      message: `${here}, a statement by ${r.node}: ${wrong.join('; ')}`,
    });
}

/** Message-id fields that must agree with the record, from the recording node's point of view. */
function checkHeader(log: ParsedAuditLog, coordinator: boolean, e: AuditEntry, report: Report): void {
  const r = e.record;
  const at = {
    file: log.file,
    node: log.node,
    seq: r.seq,
    line: e.line,
    severity: 'error' as const,
    problem: 'header-mismatch' as const,
  };
  const here = `line ${e.line} (seq ${r.seq})`;
  const id = e.id;
  if (id === undefined) {
    report({
      ...at,
      message: `${here}: message id "${r.messageId}" is not of the form job/round/step/sender>recipient/seq`,
    });
    return;
  }
  const wrong: string[] = [];
  if (id.job !== r.job) wrong.push(`job "${r.job}"`);
  if (id.round !== r.round) wrong.push(`round ${r.round}`);
  if (id.step !== r.step) wrong.push(`step "${r.step}"`);
  const sent = r.direction === 'sent';
  if (sent && r.peer !== id.recipient) wrong.push(`peer "${r.peer}" (sent to ${id.recipient})`);
  if (!sent && r.peer !== id.sender) wrong.push(`peer "${r.peer}" (sent by ${id.sender})`);
  if (!coordinator && sent && id.sender !== log.node) wrong.push(`a "sent" record of a message from ${id.sender}`);
  if (!coordinator && !sent && id.recipient !== log.node)
    wrong.push(`a "received" record of a message for ${id.recipient}`);
  if (wrong.length > 0)
    report({
      ...at,
      message: `${here}: ${wrong.join(', ')} disagree${wrong.length === 1 ? 's' : ''} with its message id ${r.messageId}`,
    });
}

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
