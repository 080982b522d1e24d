/**
 * Plaintext simulations of other residual rules on the pooled data, with
 * everything else exactly as the plaintext twin (hetero-lr-plain.ts): the
 * same seeded mini-batches, the same per-party Adam updates and L2 mask,
 * the same early stopping. Only how each row's residual d and loss are
 * computed from the guest partial a and the host partials uₕ differs:
 *
 *   taylor  FATE's first-order Taylor expansion of the log-loss around z = 0
 *           on the full logit z = a + Σuₕ: d = 0.25·z + 0.5 − y, and
 *           loss = log 2 − (y − ½)·z + z²/8 (what FATE early-stops on).
 *   exact   the exact sigmoid: d = σ(z) − y, loss = log(1 + eᶻ) − y·z. No
 *           approximation can beat this with the same optimiser and schedule.
 */
import { auc } from '../../protocol/evaluation/metrics.ts';
import { logLossAt, sigmoid } from '../../protocol/training/chebyshev-link.ts';
import { scoreLinear, type LinearModel, type PartyMatrix } from '../../protocol/training/hetero-lr-plain.ts';
import { applyUpdate, initialState } from '../../protocol/training/optimizer.ts';
import { converged, epochBatches, partialLogits, type TrainingPlan } from '../../protocol/training/plan.ts';
import type { PooledData } from '../../examples/pooled-reference.ts';

export type ResidualRule = 'taylor' | 'exact';

const LOG2 = Math.log(2);

function residualAndLoss(rule: ResidualRule, z: number, y: number): [number, number] {
  if (rule === 'taylor') return [0.25 * z + 0.5 - y, LOG2 - (y - 0.5) * z + (z * z) / 8];
  return [sigmoid(z) - y, logLossAt(z, y)];
}

/** Mean gradient Xᵀd / n over the batch rows, with Σd/n appended for the guest's intercept (as hetero-lr-plain.ts). */
function gradient(party: PartyMatrix, rows: Uint32Array, d: Float64Array, withIntercept: boolean): Float64Array {
  const g = new Float64Array(party.columns + (withIntercept ? 1 : 0));
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r]! * party.columns;
    const dr = d[r]!;
    for (let j = 0; j < party.columns; j++) g[j]! += dr * party.X[base + j]!;
    if (withIntercept) g[party.columns]! += dr;
  }
  for (let k = 0; k < g.length; k++) g[k]! /= rows.length;
  return g;
}

export function trainWithRule(data: PooledData, plan: TrainingPlan, rule: ResidualRule): LinearModel {
  const { guest, hosts, labels, train } = data;
  const seed = data.spec.seed;
  const wg = new Float64Array(guest.columns + 1); // last entry: intercept
  const wh = hosts.map((h) => new Float64Array(h.columns));
  const stateG = initialState(wg.length);
  const stateH = wh.map((w) => initialState(w.length));
  const penalGuest = Uint8Array.from({ length: wg.length }, (_, k) => (k < guest.columns ? 1 : 0));
  const penalHosts = hosts.map((h) => new Uint8Array(h.columns).fill(1));
  const losses: number[] = [];
  let epochs = 0;
  for (let epoch = 0; epoch < plan.maxEpochs; epoch++) {
    let lossSum = 0;
    for (const batch of epochBatches(train.length, plan.batchSize, seed, epoch)) {
      const rows = Uint32Array.from(batch, (p) => train[p] ?? 0);
      const z = partialLogits(guest.X, guest.columns, rows, wg, wg[guest.columns]);
      hosts.forEach((h, k) => {
        const u = partialLogits(h.X, h.columns, rows, wh[k]!);
        for (let i = 0; i < z.length; i++) z[i]! += u[i]!;
      });
      const d = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const [di, li] = residualAndLoss(rule, z[i]!, labels[rows[i]!]!);
        d[i] = di;
        lossSum += li;
      }
      applyUpdate(plan.optimizer, stateG, wg, gradient(guest, rows, d, true), penalGuest, epoch);
      hosts.forEach((h, k) =>
        applyUpdate(plan.optimizer, stateH[k]!, wh[k]!, gradient(h, rows, d, false), penalHosts[k]!, epoch),
      );
    }
    losses.push(lossSum / train.length);
    epochs = epoch + 1;
    if (converged(losses, plan.tolerance, plan.patience)) break;
  }
  return { guestWeights: wg.slice(0, guest.columns), intercept: wg[guest.columns]!, hostWeights: wh, losses, epochs };
}

/** Validation AUC of a linear model on the pooled data's held-out rows. */
export function validationAuc(data: PooledData, model: LinearModel): number {
  return auc(scoreLinear(model, data.guest, data.hosts, data.test), data.yTest);
}
