/** What a party tells the coordinator about its job: aggregates only, and failures as codes and public text. */
import type { tandem } from '../../protocol/generated/tandem.js';
import { TandemError } from '../../protocol/errors.ts';

/**
 * What the coordinator (and through it the job's submitter) may see: aggregates
 * only. ROC thresholds are individual rows' scores, so they stay in the local
 * model part.
 */
export function publicSummary(summary: Record<string, unknown>): Record<string, unknown> {
  const metrics = summary['metrics'] as { roc?: { thresholds?: unknown } } | undefined;
  if (metrics?.roc === undefined) return summary;
  const { thresholds: _rowScores, ...roc } = metrics.roc;
  return { ...summary, metrics: { ...metrics, roc } };
}

/** Turns any failure into the event the coordinator needs (public text only). */
export function failureEvent(error: unknown, phase: string): tandem.v1.JobEvent.$Properties {
  const e = error instanceof TandemError ? error : new TandemError('INTERNAL', String(error));
  return { phase, failed: true, errorCode: e.code, message: e.publicMessage };
}
