/**
 * The checks of `tandem audit verify` (verify.ts) on one log by itself:
 * which certificates are trusted for which node, the chain (sequence,
 * links, hashes, signatures), statements and message-id headers. The
 * cross-log matching stays in verify.ts.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { verify } from '../protocol/crypto/signing.ts';
import { MESSAGE_KINDS } from '../protocol/wire/envelope.ts';
import { AuthError, ConfigError } from '../protocol/errors.ts';
import { verifyPeerCertificate } from '../runtime/certs.ts';
import { GENESIS, canonicalClaim, digest, hashRecord } from './log.ts';
import { isStatement, type AuditEntry, type AuditFinding, type AuditTrust, type ParsedAuditLog } from './inputs.ts';

/** Options for `verifyAuditLogs` (verify.ts). */
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
export type NodeKey = { readonly key: KeyObject; readonly source: string; readonly from: Date; readonly to: Date };
type Report = (finding: AuditFinding) => void;

/** Checks each offered certificate against the CA; returns the usable keys by node name. */
export function trustedKeys(
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
export function checkChain(
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
export function checkStatement(log: ParsedAuditLog, e: AuditEntry, report: Report): void {
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
export function checkHeader(log: ParsedAuditLog, coordinator: boolean, e: AuditEntry, report: Report): void {
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
