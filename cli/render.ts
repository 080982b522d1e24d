/** Plain-text tables and summaries for terminals. */
import type { JobStatus } from '../runtime/admin-client.ts';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, k) => c.padEnd(widths[k] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function jobLine(job: JobStatus): string[] {
  const when = job.createdAtMs > 0 ? new Date(job.createdAtMs).toISOString().replace('T', ' ').slice(0, 19) : '';
  const progress = job.maxEpochs > 0 ? `${job.epoch}/${job.maxEpochs} ${job.unit === '' ? 'epochs' : job.unit}` : '';
  return [job.jobId, job.name, job.stage, job.phase, progress, job.parties.join(', '), when];
}

export const JOB_HEADERS = ['job', 'name', 'stage', 'phase', 'progress', 'parties', 'created'];

/** Metrics as the summary's JSON carries them: a metric undefined for the data (AUC with one class) is null. */
type Metrics = {
  auc?: number | null;
  ks?: number | null;
  logLoss?: number | null;
  accuracy?: number | null;
  macroF1?: number | null;
  confusion?: number[][];
  classes?: string[];
};
type GuestOnly = { features?: number; metrics?: Metrics };

/** The end-of-job summary: rows, epochs, metrics, from the guest's aggregate summary. */
export function jobSummary(job: JobStatus): string {
  const lines = [
    `job ${job.jobId} (${job.name}): ${job.stage}${job.message !== '' && job.stage !== 'completed' ? ` — ${job.message}` : ''}`,
  ];
  let summary: Record<
    string,
    { role?: string; rows?: Record<string, number>; epochs?: number; metrics?: Metrics; guestOnly?: GuestOnly }
  > = {};
  try {
    summary = JSON.parse(job.summaryJson === '' ? '{}' : job.summaryJson) as typeof summary;
  } catch {
    return lines.join('\n');
  }
  const guest = Object.values(summary).find((s) => s.role === 'guest');
  if (guest?.rows !== undefined) {
    lines.push(
      '',
      table(
        ['aligned rows', 'train', 'validation', 'epochs'],
        [
          [
            String(guest.rows.aligned ?? ''),
            String(guest.rows.train ?? ''),
            String(guest.rows.validation ?? ''),
            String(guest.epochs ?? ''),
          ],
        ],
      ),
    );
  }
  const reach = guest as { kind?: string; overlap?: number; guestIds?: number; hostIds?: number } | undefined;
  if (reach?.kind === 'reach') {
    lines.push(
      '',
      `Reach: ${reach.overlap ?? 0} of your ${reach.guestIds ?? 0} ids are among the partner's ${reach.hostIds ?? 0} (${(((reach.overlap ?? 0) / Math.max(1, reach.guestIds ?? 0)) * 100).toFixed(1)} %). Neither side learned which.`,
    );
    return lines.join('\n');
  }
  const lookalike = guest as
    | {
        kind?: string;
        seeds?: { listed: number; inPool: number; heldOut: number };
        pool?: number;
        metrics?: {
          recallAtK?: { fraction: number; value: number }[];
          liftAtK?: { fraction: number; value: number }[];
        };
        audience?: { percent: number; size: number; expectedLift: number };
      }
    | undefined;
  if (lookalike?.kind === 'lookalike') {
    const recall = lookalike.metrics?.recallAtK ?? [];
    const lift = lookalike.metrics?.liftAtK ?? [];
    lines.push(
      '',
      `${lookalike.seeds?.inPool ?? 0} of ${lookalike.seeds?.listed ?? 0} seeds are in the partner's pool of ${lookalike.pool ?? 0}; ${lookalike.seeds?.heldOut ?? 0} held out for evaluation.`,
    );
    lines.push(
      '',
      table(
        ['top of pool', 'recall of held-out seeds', 'lift'],
        recall.map((r, k) => [`${(r.fraction * 100).toFixed(0)} %`, fixed4(r.value), fixed(lift[k]?.value, 2)]),
      ),
    );
    const a = lookalike.audience;
    if (a !== undefined)
      lines.push(
        '',
        `Audience: the partner wrote its top ${a.percent} % (${a.size} users) on its side; expected lift ${fixed(a.expectedLift, 2)}×. You receive no audience ids.`,
      );
    return lines.join('\n');
  }
  const m = guest?.metrics;
  if (m?.confusion !== undefined) {
    lines.push('', multiclassSummary(m, guest?.guestOnly?.metrics));
    return lines.join('\n');
  }
  if (m !== undefined) {
    const f = fixed4;
    const alone = guest?.guestOnly?.metrics;
    if (alone === undefined) {
      lines.push(
        '',
        table(
          ['metric (validation)', 'value'],
          [
            ['AUC', f(m.auc)],
            ['KS', f(m.ks)],
            ['log-loss', f(m.logLoss)],
            ['accuracy', f(m.accuracy)],
          ],
        ),
      );
    } else {
      const rows = [
        ['AUC', f(alone.auc), f(m.auc)],
        ['KS', f(alone.ks), f(m.ks)],
        ['log-loss', f(alone.logLoss), f(m.logLoss)],
        ['accuracy', f(alone.accuracy), f(m.accuracy)],
      ];
      lines.push('', table(['metric (validation)', 'guest data alone', 'federated'], rows));
      if (finite(alone.auc) && finite(m.auc))
        lines.push(
          '',
          `Federation moved AUC from ${f(alone.auc)} (the guest's own features) to ${f(m.auc)} (${m.auc >= alone.auc ? '+' : ''}${(m.auc - alone.auc).toFixed(4)}).`,
        );
    }
    if ([m.auc, m.ks, alone?.auc, alone?.ks].some((x) => x === null)) {
      lines.push(
        '',
        'n/a: AUC and KS compare the two label values, and the validation rows hold only one of them. Check the label column (its positive value), or use more rows.',
      );
    }
  }
  return lines.join('\n');
}

/** A cold-start (multi-class) result: the guest-alone comparison and the confusion matrix. */
function multiclassSummary(m: Metrics, alone: Metrics | undefined): string {
  const f = fixed4;
  const rows = [
    ['accuracy', f(alone?.accuracy), f(m.accuracy)],
    ['macro-F1', f(alone?.macroF1), f(m.macroF1)],
    ['log-loss', f(alone?.logLoss), f(m.logLoss)],
  ];
  const classes = (m.confusion ?? []).map((_, k) => String(m.classes?.[k] ?? k));
  const out = [table(['metric (validation)', 'guest data alone', 'federated'], rows)];
  if (finite(alone?.accuracy) && finite(m.accuracy))
    out.push(
      '',
      `Federation moved accuracy from ${f(alone.accuracy)} (the guest's own features) to ${f(m.accuracy)} (${m.accuracy >= alone.accuracy ? '+' : ''}${(m.accuracy - alone.accuracy).toFixed(4)}).`,
    );
  out.push(
    '',
    'Confusion matrix (rows: true class, columns: predicted):',
    table(
      ['', ...classes],
      (m.confusion ?? []).map((row, k) => [classes[k] ?? '', ...row.map(String)]),
    ),
  );
  return out.join('\n');
}

/** A metric may be absent, or null in JSON when it is undefined for the data (AUC with one class): printed as n/a, never a crash. */
function finite(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function fixed(x: number | null | undefined, digits: number): string {
  if (x === undefined) return '';
  return finite(x) ? x.toFixed(digits) : 'n/a';
}

function fixed4(x: number | null | undefined): string {
  return fixed(x, 4);
}
