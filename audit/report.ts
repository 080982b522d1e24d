/**
 * `tandem audit report`: what left each party in one job, for an auditor
 * who is not an engineer. Built from the nodes' audit logs (verified first,
 * when the CA is given), written as JSON and as one self-contained HTML page
 * (no scripts, no network).
 *
 * The verdict per party is mechanical and explained in the page: "No
 * row-level plaintext left <party>" holds when every message that left it is
 * one of the protocol's kinds, every message to another party was sealed end
 * to end, and nothing the coordinator could decrypt was sent to it unmasked.
 * Disclosures that are part of the protocol (row positions of the
 * intersection, the validation split, and, when enabled, the hosts' derived
 * per-row validation scores) are listed by name, never folded into the verdict.
 *
 * The ε a differentially private job spent comes from the guest's signed
 * statement in its own log (audit/log.ts): the logs prove the guest
 * signed that figure, not that the noise behind it was added; the report
 * says so, and shows the hosts' statements beside it when they made one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MESSAGE_KINDS, type MessageKind } from '../protocol/wire/envelope.ts';
import { COORDINATOR } from '../protocol/version.ts';
import { JobError } from '../protocol/errors.ts';
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import { isStatement, type AuditEntry, type AuditVerification, type ParsedAuditLog } from './verify.ts';
import { formatBytes, renderAuditReportHtml } from './report-page.ts';
import { dpStatements, privacyBudget } from './report-dp.ts';

export { formatBytes, formatEpsilon, renderAuditReportHtml } from './report-page.ts';
export {
  REPORT_FORMAT,
  type AuditReport,
  type CoordinatorReport,
  type DpStatement,
  type KindGroup,
  type PartyReport,
  type PrivacyBudget,
  type StepTotal,
  type Verdict,
} from './report-types.ts';
import {
  REPORT_FORMAT,
  type AuditReport,
  type CoordinatorReport,
  type KindGroup,
  type PartyReport,
  type Verdict,
} from './report-types.ts';

/** What each kind of message is, in plain words. */
export const KIND_MEANINGS: Readonly<Record<MessageKind, string>> = {
  control:
    'Instructions and progress notes: start, stop and continue signals, progress reports with counts and totals, and lists of row positions used to line up the shared rows and to set aside validation rows. No identifiers, feature values or labels.',
  key: 'Public keys, certificates and the job description, needed to encrypt and to check who is who. Public by design; no data.',
  'psi-blinded':
    'Identifiers scrambled with a secret key that never leaves the sender (private set intersection). The recipient can only tell which scrambled values match its own; it cannot recover any identifier it does not already hold.',
  ciphertext:
    "Numbers computed from rows, encrypted with the job's key. The recipient cannot read them; only the coordinator holds the key to decrypt, and these messages are sealed so the coordinator never sees them.",
  masked:
    'Encrypted sums over a batch of rows, hidden under a fresh random mask, sent to the coordinator to decrypt. The coordinator sees only random-looking numbers; the sender removes the mask from the answer.',
  aggregate:
    'Totals over many rows (gradient sums, a loss), returned by the coordinator with added random noise. Nothing about any single row.',
  'partial-score':
    "Derived per-row scores for validation rows: one number per held-out row, computed from the sender's features and model, sent to the label holder so it can measure accuracy. Not raw feature values, but a value for each of those rows.",
  model: 'Trained model parameters (weights). Describe the model, not individual rows.',
  'psi-prf':
    "Identifiers turned into random-looking values with a key the two parties share and the coordinator does not hold, sent to the coordinator to match (coordinator-aided private set intersection), and the coordinator's answer: which positions matched. The coordinator learns only how many values each side sent and how many matched.",
  'secret-share':
    "Numbers computed from rows (gradient sums of a tree node, or which bin each row's value falls in), each hidden under a fresh random mask that only the coordinator's dealt randomness removes, and only once combined with the other party's share. Sealed so the coordinator never sees them. The label holder ends with per-bin totals of the other party's columns, never a row's value.",
  dealer:
    "Random seeds given to the coordinator, and the random numbers it deals back from them, which let the label holder combine masked shares into per-bin totals. The coordinator sees no row's data, only the sizes (rows, bins) it must deal for.",
  'split-bits':
    "For each split on the sender's column, one bit per shared row: which side of the split the row falls on. The label holder learns this partition of the shared rows (as in SecureBoost), not the column's values or the threshold.",
  'psi-oprf':
    'Private set intersection by oblivious transfer (OPRF-PSI). From the label holder: random-looking corrections that tell the recipient nothing about its identifiers. From the other party: its identifiers as values of a keyed pseudorandom function, shuffled; the label holder can only tell which of them match its own identifiers, and cannot recover any identifier it does not already hold.',
};

/** What each protocol step carries, in plain words: from the message catalog (jobs/catalog.ts). */
export const STEP_MEANINGS: Readonly<Record<string, string>> = Object.fromEntries(
  MESSAGE_CATALOG.all.map((m) => [m.step, m.meaning]),
);

/** Kinds the coordinator must never receive unmasked: it holds the job's decryption key. */
const NOT_FOR_COORDINATOR: readonly string[] = [
  'ciphertext',
  'partial-score',
  'psi-blinded',
  'psi-oprf',
  'secret-share',
  'split-bits',
];
/** Steps only a guest sends, and steps only a host sends: who sent them tells a party's role. */
const onlyFrom = (role: string): string[] =>
  MESSAGE_CATALOG.all.filter((m) => m.from.length === 1 && m.from[0] === role).map((m) => m.step);
const GUEST_STEPS = onlyFrom('guest');
const HOST_STEPS = onlyFrom('host');

/** Options for {@link buildAuditReport}. */
export type AuditReportOptions = {
  readonly job: string;
  /** The result of verifying the same logs; without it the report says they were not verified. */
  readonly verification?: AuditVerification | undefined;
  /** @default the current time */
  readonly now?: Date | undefined;
};

type Item = { readonly entry: AuditEntry; readonly recipient: string };

const isCoordinatorLog = (log: ParsedAuditLog): boolean =>
  log.node === COORDINATOR ||
  log.entries.some((e) => e.record.direction === 'sent' && e.id !== undefined && e.id.sender !== log.node);

/**
 * Builds the report of one job from parsed logs.
 * @throws JobError `JOB_NOT_FOUND` when no log has a record of the job
 */
export function buildAuditReport(logs: readonly ParsedAuditLog[], options: AuditReportOptions): AuditReport {
  const job = options.job;
  const inJob = (log: ParsedAuditLog): AuditEntry[] => log.entries.filter((e) => e.record.job === job);
  if (logs.every((log) => inJob(log).length === 0)) {
    const jobs = [...new Set(logs.flatMap((log) => log.entries.map((e) => e.record.job)))];
    throw new JobError(
      'JOB_NOT_FOUND',
      `no record of job "${job}" in the logs given (they hold: ${jobs.join(', ') || 'nothing'})`,
    );
  }
  const coordinatorLog = logs.find(isCoordinatorLog);
  const partyLogs = new Map(
    logs.filter((l) => l !== coordinatorLog && l.node !== undefined).map((l) => [l.node as string, l]),
  );
  const names = new Set<string>();
  for (const log of logs) {
    for (const e of inJob(log)) {
      const peer = isStatement(e.record) ? undefined : e.record.peer;
      for (const n of [peer, e.id?.sender, e.id?.recipient, log === coordinatorLog ? undefined : log.node])
        if (n !== undefined && n !== COORDINATOR) names.add(n);
    }
  }

  /** Everything that left `name` in this job: from its own log, or else from what others recorded receiving from it. */
  const leaving = (
    name: string,
    own: ParsedAuditLog | undefined,
  ): { items: Item[]; source: 'own log' | "peers' logs" } => {
    const seen = new Set<string>();
    const items: Item[] = [];
    const add = (entry: AuditEntry): void => {
      const key = `${entry.record.messageId}\n${entry.record.sha256}`;
      if (seen.has(key)) return;
      seen.add(key);
      items.push({ entry, recipient: entry.id?.recipient ?? entry.record.peer });
    };
    if (own !== undefined) {
      for (const e of inJob(own))
        if (e.record.direction === 'sent' && (e.id?.sender ?? name) === (own === coordinatorLog ? COORDINATOR : name))
          add(e);
      return { items, source: 'own log' };
    }
    for (const log of logs)
      for (const e of inJob(log)) if (e.record.direction === 'received' && e.id?.sender === name) add(e);
    return { items, source: "peers' logs" };
  };

  const sentSteps = new Map<string, Set<string>>();
  const parties = [...names]
    .sort()
    .map((party): PartyReport => {
      const { items, source } = leaving(party, partyLogs.get(party));
      const steps = new Set(items.map((i) => i.entry.record.step));
      sentSteps.set(party, steps);
      const role = GUEST_STEPS.some((s) => steps.has(s))
        ? 'guest'
        : HOST_STEPS.some((s) => steps.has(s))
          ? 'host'
          : 'unknown';
      const groups = groupByKind(items);
      return {
        party,
        role,
        source,
        messages: items.length,
        bytes: sum(items),
        groups,
        verdict: verdict(party, items),
        disclosures: disclosures(party, items),
      };
    })
    .map((p, _k, all): PartyReport =>
      // In a reach job with coordinator-aided PSI a host sends only its PRF list, as the guest does: it is the host once another party is the guest.
      p.role === 'unknown' && sentSteps.get(p.party)?.has('psi-prf') === true && all.some((o) => o.role === 'guest')
        ? { ...p, role: 'host' }
        : p,
    );

  let coordinator: CoordinatorReport | undefined;
  const fromCoordinator = leaving(COORDINATOR, coordinatorLog);
  if (fromCoordinator.items.length > 0 || coordinatorLog !== undefined) {
    const relays =
      coordinatorLog === undefined
        ? []
        : inJob(coordinatorLog).filter(
            (e) => e.record.direction === 'sent' && e.id !== undefined && e.id.sender !== COORDINATOR,
          );
    coordinator = {
      source: fromCoordinator.source,
      groups: groupByKind(fromCoordinator.items),
      relayed: {
        messages: relays.length,
        bytes: relays.reduce((n, e) => n + e.record.bytes, 0),
        unsealed: relays.filter((e) => !e.record.sealed).length,
      },
    };
  }

  const v = options.verification;
  const problems = v?.findings.length ?? 0;
  const verification =
    v === undefined
      ? {
          checked: false,
          ok: false,
          problems: 0,
          text: 'Not verified: signatures and cross-checks between the logs were not checked. Run `tandem audit verify` (or pass --ca) before relying on this report.',
        }
      : v.ok
        ? {
            checked: true,
            ok: true,
            problems: 0,
            text: `Verified: every record is signed by its node's certificate from the federation CA, no record is missing, altered or out of order, and what each node says it sent matches what its peer says it received (${v.nodes.length} logs).`,
          }
        : {
            checked: true,
            ok: false,
            problems,
            text: `The logs did NOT verify: ${problems} problem${problems === 1 ? '' : 's'} (run \`tandem audit verify\` for the list). Do not rely on this report until they are explained.`,
          };

  return {
    format: REPORT_FORMAT,
    job,
    generatedAt: (options.now ?? new Date()).toISOString(),
    verification,
    privacyBudget: privacyBudget(
      logs.some((log) => inJob(log).some((e) => !isStatement(e.record) && e.record.step === 'dp-plan')),
      dpStatements(
        logs.filter((log) => log !== coordinatorLog),
        job,
        new Map(parties.map((p) => [p.party, p.role])),
      ),
      v,
    ),
    sources: logs.map((log) => ({
      file: log.file,
      node: log.node,
      records: log.entries.length,
      jobRecords: inJob(log).length,
      lastHash: log.entries.at(-1)?.record.hash,
    })),
    parties,
    coordinator,
    kinds: MESSAGE_KINDS.map((kind) => ({ kind, meaning: KIND_MEANINGS[kind] })),
  };
}

const sum = (items: readonly Item[]): number => items.reduce((n, i) => n + i.entry.record.bytes, 0);

function groupByKind(items: readonly Item[]): KindGroup[] {
  const kinds = [...new Set(items.map((i) => i.entry.record.kind))].sort((a, b) => kindOrder(a) - kindOrder(b));
  return kinds.map((kind) => {
    const mine = items.filter((i) => i.entry.record.kind === kind);
    const recipients: Record<string, number> = {};
    for (const i of mine) recipients[i.recipient] = (recipients[i.recipient] ?? 0) + 1;
    const steps = [...new Set(mine.map((i) => i.entry.record.step))].map((step) => {
      const of = mine.filter((i) => i.entry.record.step === step);
      return {
        step,
        meaning: STEP_MEANINGS[step] ?? 'a protocol step with no description yet',
        messages: of.length,
        bytes: sum(of),
      };
    });
    const toParties = mine.filter((i) => i.recipient !== COORDINATOR);
    return {
      kind,
      meaning: (KIND_MEANINGS as Record<string, string>)[kind] ?? 'Not a kind the protocol defines.',
      messages: mine.length,
      bytes: sum(mine),
      sealed: mine.filter((i) => i.entry.record.sealed).length,
      toParties: toParties.length,
      sealedToParties: toParties.filter((i) => i.entry.record.sealed).length,
      recipients,
      steps,
    };
  });
}

function kindOrder(kind: string): number {
  const k = (MESSAGE_KINDS as readonly string[]).indexOf(kind);
  return k === -1 ? MESSAGE_KINDS.length : k;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function verdict(party: string, items: readonly Item[]): Verdict {
  const concerns: string[] = [];
  const unknown = [
    ...new Set(items.map((i) => i.entry.record.kind).filter((k) => !(MESSAGE_KINDS as readonly string[]).includes(k))),
  ];
  if (unknown.length > 0)
    concerns.push(`it sent messages of a kind the protocol does not define (${unknown.join(', ')})`);
  const unsealed = items.filter((i) => i.recipient !== COORDINATOR && !i.entry.record.sealed);
  if (unsealed.length > 0)
    concerns.push(
      `${plural(unsealed.length, 'message')} to another party ${unsealed.length === 1 ? 'was' : 'were'} not sealed, so the coordinator could read ${unsealed.length === 1 ? 'it' : 'them'} (${[...new Set(unsealed.map((i) => i.entry.record.step))].join(', ')})`,
    );
  const exposed = items.filter((i) => i.recipient === COORDINATOR && NOT_FOR_COORDINATOR.includes(i.entry.record.kind));
  if (exposed.length > 0)
    concerns.push(
      `${plural(exposed.length, 'message')} of kind ${[...new Set(exposed.map((i) => i.entry.record.kind))].join(', ')} went to the coordinator, which holds the job's decryption key`,
    );
  if (concerns.length > 0)
    return {
      noRowLevelPlaintext: false,
      concerns,
      text: `Cannot confirm that no row-level plaintext left ${party}: ${concerns.join('; ')}.`,
    };
  if (items.length === 0)
    return {
      noRowLevelPlaintext: true,
      concerns,
      text: `Nothing left ${party} in this job, according to the logs given.`,
    };
  const scores = items.filter((i) => i.entry.record.kind === 'partial-score');
  const also =
    scores.length === 0
      ? ''
      : ` Derived per-row scores for validation rows did leave it: ${plural(scores.length, 'message')} (${formatBytes(sum(scores))}) to ${[...new Set(scores.map((i) => i.recipient))].join(', ')}, kind partial-score.`;
  const bits = items.filter((i) => i.entry.record.kind === 'split-bits');
  const sides =
    bits.length === 0
      ? ''
      : ` Which side of each of its tree splits every shared row falls on did leave it: ${plural(bits.length, 'message')} (${formatBytes(sum(bits))}) to ${[...new Set(bits.map((i) => i.recipient))].join(', ')}, kind split-bits.`;
  return { noRowLevelPlaintext: true, concerns, text: `No row-level plaintext left ${party}.${also}${sides}` };
}

function disclosures(party: string, items: readonly Item[]): string[] {
  const out: string[] = [];
  const to = (pred: (i: Item) => boolean): string[] => [...new Set(items.filter(pred).map((i) => i.recipient))];
  const step =
    (s: string) =>
    (i: Item): boolean =>
      i.entry.record.step === s;
  const hostSet = to(step('psi-host-set'));
  if (hostSet.length > 0)
    out.push(
      `${hostSet.join(', ')} learned how many identifiers ${party} put into the matching, and which of its own identifiers ${party} also holds (the overlap); never any of ${party}'s other identifiers.`,
    );
  const guestSet = to(step('psi-guest-set'));
  if (guestSet.length > 0)
    out.push(
      `${guestSet.join(', ')} learned how many identifiers ${party} put into the matching; never any identifier it does not hold itself.`,
    );
  const oprfHost = to(step('psi-oprf-values'));
  if (oprfHost.length > 0)
    out.push(
      `${oprfHost.join(', ')} learned how many identifiers ${party} put into the matching, and which of its own identifiers ${party} also holds (the overlap); never any of ${party}'s other identifiers.`,
    );
  const oprfGuest = to(step('psi-oprf-setup'));
  if (oprfGuest.length > 0)
    out.push(
      `${oprfGuest.join(', ')} learned how many identifiers ${party} put into the matching (and the number of buckets, which follows from the two counts); never any identifier it does not hold itself.`,
    );
  if (to(step('psi-prf')).length > 0)
    out.push(
      `The coordinator learned how many identifiers ${party} put into the matching, and how many matched; it received them only as values keyed with a secret it does not hold (coordinator-aided matching, which relies on the coordinator not colluding with another party).`,
    );
  const psi = to(step('psi-result'));
  if (psi.length > 0)
    out.push(
      `${psi.join(', ')} learned which of its own rows are shared with ${party} (the overlap), as row positions.`,
    );
  const split = to(step('split'));
  if (split.length > 0) out.push(`${split.join(', ')} learned which shared rows were held out for validation.`);
  const scores = items.filter((i) => i.entry.record.kind === 'partial-score');
  if (scores.length > 0)
    out.push(
      `Derived per-row scores for validation rows: ${to((i) => i.entry.record.kind === 'partial-score').join(', ')} received ${party}'s partial score for each validation row (${plural(scores.length, 'message')}, ${formatBytes(sum(scores))}). These are not raw feature values, but each one is tied to a row the recipient also holds.`,
    );
  const bits = to((i) => i.entry.record.kind === 'split-bits');
  if (bits.length > 0)
    out.push(
      `${bits.join(', ')} learned, for each split a tree made on ${party}'s columns, which side of it each shared row falls on (one bit per row and split, as in SecureBoost); not the column's values or the split's threshold.`,
    );
  const shares = to((i) => i.entry.record.kind === 'secret-share');
  if (shares.length > 0)
    out.push(
      `${shares.join(', ')} received secret shares under uniformly random masks (tree histograms); alone they carry no information, and the label holder only ever combines them into per-bin totals.`,
    );
  if (items.some((i) => i.entry.record.kind === 'dealer'))
    out.push(
      `The coordinator received random seeds and the sizes it deals shares for (rows, bins, vectors); no row's data.`,
    );
  if (items.some((i) => i.entry.record.kind === 'model')) out.push(`Model parameters left ${party} (kind model).`);
  if (items.some(step('event'))) {
    const guest = items.some((i) => GUEST_STEPS.includes(i.entry.record.step));
    out.push(
      `The coordinator received ${party}'s progress reports: the size of its list of identifiers and of the overlap, row and feature counts${guest ? ", the hosts' list sizes, training loss per pass and final accuracy figures" : ''}. Totals only.`,
    );
  }
  if (items.some((i) => i.entry.record.kind === 'masked'))
    out.push(
      `The coordinator received masked batch totals to decrypt; under the random mask they carry no information to it.`,
    );
  return out;
}

/** Writes `<job>.audit-report.json` and `<job>.audit-report.html` into `outDir`; returns their paths. */
export async function writeAuditReport(
  report: AuditReport,
  outDir: string,
): Promise<{ readonly json: string; readonly html: string }> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const json = join(outDir, `${report.job}.audit-report.json`);
  const html = join(outDir, `${report.job}.audit-report.html`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  await writeFile(html, renderAuditReportHtml(report), { mode: 0o600 });
  return { json, html };
}
