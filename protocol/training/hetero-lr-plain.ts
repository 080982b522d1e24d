/**
 * Hetero-LR exactly as the federated protocol computes it, but in plaintext
 * on pooled data: same batches, same Chebyshev link, same optimizer. The
 * federated model must match this one up to CKKS and noise-flooding error
 * ("encryption is lossless"); tests and benchmarks use it as the reference.
 */
import { evaluateTerms, hostBasis, lossTerms, residualTerms, type Objective } from './chebyshev-link.ts';
import { applyUpdate, initialState } from './optimizer.ts';
import { converged, epochBatches, partialLogits, type TrainingPlan } from './plan.ts';

export type PartyMatrix = { readonly X: Float64Array; readonly columns: number };

export type PlainInputs = {
  readonly guest: PartyMatrix;
  readonly labels: Float64Array;
  readonly hosts: readonly PartyMatrix[];
  /** Training rows (indices into the aligned rows). */
  readonly train: Uint32Array;
  readonly plan: TrainingPlan;
  readonly seed: string;
  /** @default 'logistic' */
  readonly objective?: Objective | undefined;
};

export type LinearModel = {
  readonly guestWeights: Float64Array;
  readonly intercept: number;
  readonly hostWeights: readonly Float64Array[];
  readonly losses: readonly number[];
  readonly epochs: number;
};

export function trainHeteroLrPlain(inputs: PlainInputs): LinearModel {
  const { guest, hosts, labels, train, plan } = inputs;
  const wg = new Float64Array(guest.columns + 1); // last entry: intercept
  const wh = hosts.map((h) => new Float64Array(h.columns));
  const stateG = initialState(wg.length);
  const stateH = wh.map((w) => initialState(w.length));
  const penalGuest = Uint8Array.from({ length: wg.length }, (_, k) => (k < guest.columns ? 1 : 0));
  const losses: number[] = [];
  let epochs = 0;
  for (let epoch = 0; epoch < plan.maxEpochs; epoch++) {
    let lossSum = 0;
    for (const batch of epochBatches(train.length, plan.batchSize, inputs.seed, epoch)) {
      const rows = Uint32Array.from(batch, (p) => train[p] ?? 0);
      const y = Float64Array.from(rows, (r) => labels[r] ?? 0);
      const a = partialLogits(guest.X, guest.columns, rows, wg, wg[guest.columns]);
      const bases = hosts.map((h, k) =>
        hostBasis(plan.link, partialLogits(h.X, h.columns, rows, wh[k] as Float64Array)),
      );
      const d = evaluateTerms(residualTerms(plan.link, a, y, hosts.length, inputs.objective), bases);
      const loss = evaluateTerms(lossTerms(plan.link, a, y, hosts.length, inputs.objective), bases);
      for (const l of loss) lossSum += l;
      const n = rows.length;
      applyUpdate(plan.optimizer, stateG, wg, gradient(guest, rows, d, n, true), penalGuest, epoch);
      hosts.forEach((h, k) =>
        applyUpdate(
          plan.optimizer,
          stateH[k]!,
          wh[k]!,
          gradient(h, rows, d, n, false),
          new Uint8Array(h.columns).fill(1),
          epoch,
        ),
      );
    }
    losses.push(lossSum / train.length);
    epochs = epoch + 1;
    if (converged(losses, plan.tolerance, plan.patience)) break;
  }
  return {
    guestWeights: wg.slice(0, guest.columns),
    intercept: wg[guest.columns] ?? 0,
    hostWeights: wh,
    losses,
    epochs,
  };
}

/** Mean gradient Xᵀd / n over the batch rows (with the intercept's Σd/n appended for the guest). */
function gradient(
  party: PartyMatrix,
  rows: Uint32Array,
  d: Float64Array,
  n: number,
  withIntercept: boolean,
): Float64Array {
  const g = new Float64Array(party.columns + (withIntercept ? 1 : 0));
  for (let r = 0; r < rows.length; r++) {
    const base = (rows[r] ?? 0) * party.columns;
    const dr = d[r] ?? 0;
    for (let j = 0; j < party.columns; j++) g[j] = (g[j] ?? 0) + dr * (party.X[base + j] ?? 0);
    if (withIntercept) g[party.columns] = (g[party.columns] ?? 0) + dr;
  }
  for (let k = 0; k < g.length; k++) g[k] = (g[k] ?? 0) / n;
  return g;
}

/** Logits of a linear model on aligned rows. */
export function scoreLinear(
  model: LinearModel,
  guest: PartyMatrix,
  hosts: readonly PartyMatrix[],
  rows: ArrayLike<number>,
): Float64Array {
  const z = partialLogits(guest.X, guest.columns, rows, model.guestWeights, model.intercept);
  hosts.forEach((h, k) => {
    const u = partialLogits(h.X, h.columns, rows, model.hostWeights[k] as Float64Array);
    for (let i = 0; i < z.length; i++) z[i] = (z[i] ?? 0) + (u[i] ?? 0);
  });
  return z;
}
