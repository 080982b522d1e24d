/**
 * The train/validation split of the aligned rows: the guest draws it
 * (stratified by its label, from a seed keyed with its node secret, threat
 * model L4) and tells the hosts which aligned rows are held out.
 */
import { stratifiedSplit } from '../../protocol/random.ts';
import { JobError } from '../../protocol/errors.ts';
import { SPLIT } from '../../protocol/messages.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import { nodeSecretSeed } from '../../party/node-secret.ts';
import type { JobContext } from '../context.ts';
import { readIndices, writeIndices } from './alignment.ts';

export type Split = {
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
  readonly splitSeed: string | undefined;
};

/** The guest draws a stratified split and tells the hosts which aligned rows are held out. */
export async function splitRows(
  ctx: JobContext,
  spec: JobSpec,
  role: 'guest' | 'host',
  aligned: Uint32Array,
  labels: Int32Array | undefined,
): Promise<Split> {
  const n = aligned.length;
  if (role === 'guest') {
    // A stratified split drawn from a seed the hosts know would let them replay
    // it and infer labels from which rows are held out; so the seed is keyed by
    // a secret only this node holds (same job seed → same split, at this node).
    const splitSeed = await nodeSecretSeed(ctx.config.node.dataDir, 'split', spec.seed);
    const y = spec.stratified ? Int32Array.from(aligned, (row) => labels?.[row] ?? 0) : new Int32Array(n);
    const { train, test } = stratifiedSplit(y, spec.validationFraction, splitSeed);
    for (const h of spec.hosts)
      ctx.channel.post(h.name, SPLIT, 0, { indices: writeIndices(test), count: test.length, purpose: 'validation' });
    return { train, validation: test, splitSeed };
  }
  const selection = await ctx.channel.take(spec.guest.name, SPLIT, 0);
  const validation = readIndices(selection.indices, selection.count);
  const held = new Uint8Array(n);
  for (const p of validation) {
    if (p >= n) throw new JobError('JOB_STATE_CONFLICT', `the guest's split names row ${p} of ${n}`);
    held[p] = 1;
  }
  return {
    train: Uint32Array.from({ length: n }, (_, i) => i).filter((i) => held[i] === 0),
    validation,
    splitSeed: undefined,
  };
}
