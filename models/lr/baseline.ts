/**
 * What the guest could do alone: exact logistic regression on its own
 * features, the same training rows and the same L2, scored on the same
 * validation rows. Reported next to the federated model so a brand sees
 * what federation bought it ("0.65 with your data alone, 0.72 with the
 * partner"). Local only: nothing here crosses a party boundary.
 */
import { fitLogisticNewton, logits } from '../../protocol/training/centralised.ts';
import { binaryReport, type BinaryReport } from '../../protocol/evaluation/metrics.ts';
import { sigmoid } from '../../protocol/training/chebyshev-link.ts';

export type GuestOnly = { readonly metrics: BinaryReport; readonly features: number };

export function guestOnlyBaseline(
  X: Float64Array,
  columns: number,
  labels: Float64Array,
  train: Uint32Array,
  validation: Uint32Array,
  l2: number,
): GuestOnly {
  const model = fitLogisticNewton(X, columns, labels, train, { l2 });
  const probabilities = Float64Array.from(logits(model, X, columns, validation), sigmoid);
  return {
    metrics: binaryReport(
      probabilities,
      Int32Array.from(validation, (p) => labels[p] ?? 0),
    ),
    features: columns,
  };
}
