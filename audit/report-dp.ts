/**
 * The privacy-budget part of an audit report (report.ts): the ε a job spent,
 * as the guest's own signed `dp` statement in its log says, beside any
 * host's statement, with what the logs can and cannot prove about it.
 */
import { isStatement, type AuditVerification, type ParsedAuditLog } from './verify.ts';
import { formatEpsilon } from './report-page.ts';
import type { DpStatement, PartyReport, PrivacyBudget } from './report-types.ts';

/** The `dp` statements about `job` in the parties' own logs, the guest's first, each in log order. */
export function dpStatements(
  logs: readonly ParsedAuditLog[],
  job: string,
  roles: ReadonlyMap<string, PartyReport['role']>,
): DpStatement[] {
  const out: DpStatement[] = [];
  for (const log of logs) {
    for (const e of log.entries) {
      const r = e.record;
      const c = r.claim;
      // Only a party's statement about itself counts: filed in its own log, under this job.
      if (
        !isStatement(r) ||
        c === undefined ||
        c.type !== 'dp' ||
        c.job !== job ||
        r.job !== job ||
        r.node !== log.node
      )
        continue;
      const num = (k: string): number => (typeof c[k] === 'number' ? c[k] : NaN);
      out.push({
        party: r.node,
        role: roles.get(r.node) ?? 'unknown',
        file: log.file,
        line: e.line,
        seq: r.seq,
        time: r.time,
        epsilon: num('epsilon'),
        delta: num('delta'),
        budget: num('budget'),
        steps: num('steps'),
        noiseMultiplier: num('noiseMultiplier'),
        claim: c,
      });
    }
  }
  return out.sort((a, b) => Number(b.role === 'guest') - Number(a.role === 'guest'));
}

/** The job's ε: not enabled, not recorded, or the guest's statement with the concerns an auditor should look into. */
export function privacyBudget(
  dpPlan: boolean,
  statements: readonly DpStatement[],
  verification: AuditVerification | undefined,
): PrivacyBudget {
  const enabled = dpPlan || statements.length > 0;
  const guest = statements.find((s) => s.role === 'guest');
  const none = { epsilon: null, delta: null, budget: null, statedBy: null, statements, concerns: [] as string[] };
  if (!enabled) {
    const headline = 'ε spent: not enabled';
    return {
      enabled,
      ...none,
      headline,
      text: `${headline}. Differential privacy was not switched on for this job, so no privacy budget was spent or measured; the protections above do not depend on it.`,
    };
  }
  const where = (s: DpStatement): string => `${s.file} line ${s.line}, seq ${s.seq}`;
  if (guest === undefined) {
    const others = statements.map(
      (s) =>
        `${s.party} (${s.role === 'unknown' ? 'role not known from the logs' : s.role}) stated ε = ${formatEpsilon(s.epsilon)} (${where(s)})`,
    );
    const headline = 'ε spent: not recorded';
    const text = `${headline}. Differential privacy was switched on for this job${dpPlan ? ' (the guest sent a dp-plan)' : ''}, but none of the logs given holds the guest's signed statement of the ε spent: give the guest's own log (a log written before Tandem recorded these statements has none, and a job that failed states none).${others.length > 0 ? ` Other statements: ${others.join('; ')}.` : ''}`;
    return { enabled, ...none, headline, text };
  }
  const concerns: string[] = [];
  const guestStatements = statements.filter((s) => s.role === 'guest');
  if (guestStatements.some((s) => s.epsilon !== guest.epsilon || s.delta !== guest.delta)) {
    concerns.push(
      `${guest.party} stated ε more than once for this job, with different figures (${guestStatements.map((s) => `ε = ${formatEpsilon(s.epsilon)} at ${where(s)}`).join('; ')}); the report uses the first`,
    );
  }
  if (guest.epsilon > guest.budget)
    concerns.push(`the ε spent (${formatEpsilon(guest.epsilon)}) is over the declared budget (${guest.budget})`);
  for (const s of statements.filter((x) => x.role !== 'guest')) {
    const same = s.epsilon === guest.epsilon && s.delta === guest.delta && s.budget === guest.budget;
    if (!same)
      concerns.push(
        `${s.party} (${s.role}) stated ε = ${formatEpsilon(s.epsilon)} (δ = ${s.delta}, budget ${s.budget}) at ${where(s)}, which disagrees with the guest`,
      );
  }
  const agreeing = statements
    .filter(
      (s) => s.role !== 'guest' && s.epsilon === guest.epsilon && s.delta === guest.delta && s.budget === guest.budget,
    )
    .map((s) => s.party);
  const headline = `ε spent: ${formatEpsilon(guest.epsilon)} (δ = ${guest.delta}, budget ${guest.budget})`;
  const checked =
    verification === undefined
      ? 'Its signature was not checked: verify the logs before relying on it.'
      : verification.ok
        ? "Its signature was checked with the guest's certificate."
        : 'The logs did not verify, so do not rely on this figure until the problems are explained.';
  const text = [
    `${headline}.`,
    `This figure is the guest's own signed statement in its audit log (${guest.party}, ${where(guest)}), computed by its privacy accountant for ${guest.steps} noisy training steps at noise multiplier ${Number(guest.noiseMultiplier.toPrecision(4))}${formatEpsilon(guest.epsilon) === String(guest.epsilon) ? '' : `; shown rounded up (the statement says ${guest.epsilon})`}.`,
    checked,
    agreeing.length > 0
      ? `${agreeing.join(', ')} stated the same figure in ${agreeing.length === 1 ? 'its own log' : 'their own logs'}.`
      : '',
    "ε bounds how much any one person's record can change what the others see: smaller means more private. The logs show that the guest signed this figure, not that the noise behind it was added: the coordinator adds the training noise, and each host the noise on its validation scores, from the same plan.",
    concerns.length > 0 ? `Look into: ${concerns.join('; ')}.` : '',
  ]
    .filter((t) => t !== '')
    .join(' ');
  return {
    enabled,
    epsilon: guest.epsilon,
    delta: guest.delta,
    budget: guest.budget,
    statedBy: guest.party,
    statements,
    concerns,
    headline,
    text,
  };
}
