/** Metrics of a continuous prediction on held-out rows: RMSE, MAE and R² (1 − SSE/SST, against the held-out mean). */

export type RegressionReport = {
  readonly rows: number;
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number;
  /** Mean and standard deviation of the held-out targets, for scale. */
  readonly targetMean: number;
  readonly targetStd: number;
};

export function regressionReport(predictions: ArrayLike<number>, targets: ArrayLike<number>): RegressionReport {
  const n = targets.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += targets[i] ?? 0;
  mean = n === 0 ? Number.NaN : mean / n;
  let sse = 0;
  let sae = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    const e = (predictions[i] ?? 0) - (targets[i] ?? 0);
    sse += e * e;
    sae += Math.abs(e);
    sst += ((targets[i] ?? 0) - mean) ** 2;
  }
  return {
    rows: n,
    rmse: Math.sqrt(sse / n),
    mae: sae / n,
    r2: sst > 0 ? 1 - sse / sst : Number.NaN,
    targetMean: mean,
    targetStd: Math.sqrt(sst / n),
  };
}
