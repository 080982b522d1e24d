/**
 * The plaintext twin: the same booster with every party's columns in one
 * place. A federated tree job must grow exactly these trees (its
 * secret-shared histograms are the same integer sums), and the twin on all
 * columns is the centralised model the federated one is checked against;
 * on the label holder's columns alone it is "trees on your own data".
 */
import { binRows, fitEdges, layoutOf } from './binning.ts';
import { boost, type BoostParams, type Boosted } from './booster.ts';
import { localParty } from './local-party.ts';
import type { Objective } from './objective.ts';

/** One party's columns: row-major values of every aligned row (NaN: missing). */
export type Columns = { readonly X: Float64Array; readonly columns: number };

export type TwinInput = {
  readonly parties: readonly Columns[];
  readonly train: Uint32Array;
  readonly labels: Float64Array;
  readonly objective: Objective;
  readonly outputs: number;
  readonly params: BoostParams & { readonly maxBins: number };
  readonly seed: string;
};

export async function trainTwin(input: TwinInput): Promise<Boosted> {
  const rows = input.labels.length;
  const parties = input.parties.map((p) => {
    const edges = fitEdges(p.X, p.columns, input.train, input.params.maxBins);
    return localParty(binRows(p.X, p.columns, edges), layoutOf(edges), input.train);
  });
  return boost({
    parties,
    rows,
    train: input.train,
    labels: input.labels,
    objective: input.objective,
    outputs: input.outputs,
    params: input.params,
    seed: input.seed,
  });
}
