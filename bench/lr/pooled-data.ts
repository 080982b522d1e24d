/**
 * The pooled, preprocessed matrices of a job, exactly as
 * test/support/pooled.ts builds them (same alignment order, split and
 * preprocessing), for plaintext simulations that pooledReference does not
 * run. The lr benchmark checks that the plaintext twin trained on these
 * matrices reproduces pooledReference's AUC, so any drift shows up.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { loadPartyConfig } from '../../party/config.ts';
import { alignmentOrder } from '../../party/job/alignment.ts';
import { buildMatrix, loadJobDataset } from '../../party/job/features.ts';
import { compileJobSpec, jobSpecSchema, type JobSpec } from '../../protocol/job-spec.ts';
import { stratifiedSplit } from '../../protocol/random.ts';
import type { PartyMatrix } from '../../protocol/training/hetero-lr-plain.ts';

export type PooledData = {
  readonly spec: JobSpec;
  readonly guest: PartyMatrix;
  readonly hosts: readonly PartyMatrix[];
  /** Labels of the aligned rows. */
  readonly labels: Float64Array;
  readonly train: Uint32Array;
  readonly test: Uint32Array;
  readonly yTest: Int32Array;
};

/** `splitSeed` is the guest's secret split seed (test/support/pooled.ts `guestSplitSeed`). */
export async function pooledData(specFile: string, partyFiles: ReadonlyMap<string, string>, splitSeed: string): Promise<PooledData> {
  const spec = compileJobSpec(jobSpecSchema.parse(parse(await readFile(specFile, 'utf8'))));
  const load = async (name: string, dataset: string) => {
    const config = await loadPartyConfig(partyFiles.get(name) ?? '');
    const d = config.datasets[dataset];
    if (d === undefined) throw new Error(`${name} has no dataset ${dataset}`);
    return { config: d, data: await loadJobDataset(d) };
  };
  const guest = await load(spec.guest.name, spec.guest.dataset);
  const hosts = await Promise.all(spec.hosts.map((h) => load(h.name, h.dataset)));
  const hostRowOf = hosts.map((h) => new Map(h.data.ids.map((id, row) => [id, row])));
  const shared = guest.data.ids.flatMap((id, row) => (hostRowOf.every((m) => m.has(id)) ? [row] : []));
  const aligned = alignmentOrder(guest.data.ids, shared, spec.seed);
  const hostAligned = hostRowOf.map((m) => Uint32Array.from(aligned, (row) => m.get(guest.data.ids[row] ?? '') ?? 0));
  const labels = Float64Array.from(aligned, (row) => guest.data.labels?.[row] ?? 0);
  const y = spec.stratified ? Int32Array.from(labels) : new Int32Array(aligned.length);
  const { train, test } = stratifiedSplit(y, spec.validationFraction, splitSeed);
  const gm = buildMatrix(guest.data, guest.config, aligned, Uint32Array.from(train, (p) => aligned[p] ?? 0));
  const hm = hosts.map((h, k) => buildMatrix(h.data, h.config, hostAligned[k]!, Uint32Array.from(train, (p) => hostAligned[k]?.[p] ?? 0)));
  return {
    spec,
    guest: { X: gm.X, columns: gm.columns },
    hosts: hm.map((m) => ({ X: m.X, columns: m.columns })),
    labels,
    train,
    test,
    yTest: Int32Array.from(test, (p) => labels[p] ?? 0),
  };
}
