/**
 * Federated online scoring of a trees model at the guest: the guest answers
 * its own split records from the request's features, asks every host for
 * its split bits by pseudonym (never the id, and never a feature vector),
 * walks its trees with every party's bits and turns the raw scores into a
 * prediction: P(positive) for a binary model, class probabilities (softmax)
 * for a multi-class one, the value for a regression.
 *
 * A host that fails, times out, does not hold the user or answers in
 * another shape is data, as for LR (online-scoring.ts): the answer says
 * `complete: false` with the host's status and comes from the guest's own
 * model, the trees the job grew on its columns alone (`fallback:
 * "own-trees"`); a part saved without them walks the missing host's splits
 * by the larger cover (models/trees/score.ts). Pure apart from the
 * injected host clients.
 */
import { predictions, rawScores } from '../models/trees/score.ts';
import type {
  HostAnswer,
  HostClient,
  HostStatus,
  ScoreRequest,
  ScoreResult,
  SegmentOptions,
} from './online-scoring.ts';
import { pseudonym } from './pseudonym.ts';
import { checkFeatures } from './request-features.ts';
import { argmax } from './scorer.ts';
import { unpackSplitBits } from './split-bits.ts';
import type { TreesServingModel } from './trees-bundle.ts';
import { ownTreesBitsOf, splitBitsOf } from './trees-scoring.ts';

/** A regression's answer: the predicted value instead of a probability and a segment. */
export type PredictionResult = Omit<ScoreResult, 'probability' | 'segment'> & { readonly prediction: number };

/** Per party of the trees, how many of its records the trees use (the highest record number + 1). */
function recordsUsed(model: Pick<TreesServingModel, 'scoring'>, parties: number): Uint32Array {
  const used = new Uint32Array(parties);
  for (const round of model.scoring.trees ?? []) {
    for (const tree of round) {
      for (const n of tree) if ('party' in n) used[n.party] = Math.max(used[n.party] ?? 0, n.record + 1);
    }
  }
  return used;
}

/** Scores a batch of visitors: one call per host for the whole batch, all hosts in parallel. */
export async function scoreTreesOnline(
  model: Pick<TreesServingModel, 'preprocess' | 'scoring' | 'hosts' | 'scoringKey'>,
  hosts: readonly HostClient[],
  requests: readonly ScoreRequest[],
  options: SegmentOptions = {},
): Promise<(ScoreResult | PredictionResult)[]> {
  const where = options.where ?? ((k: number) => `rows[${k}].features`);
  const warnings = requests.map((r, k) => checkFeatures(model.preprocess, r.features, where(k)));
  const bitsOf = splitBitsOf(model);
  const own = requests.map((r, k) => bitsOf(r.features, where(k)));
  const ownTreesBits = ownTreesBitsOf(model);
  // Party k ≥ 1 of the trees is the host named treeParties[k] (the job's hosts in order when the part names none).
  const treeParties = model.scoring.treeParties ?? ['(guest)', ...model.hosts];
  const partyOf = hosts.map((h) => treeParties.indexOf(h.name));
  const used = recordsUsed(model, treeParties.length);
  const pseudonyms = requests.map((r) => pseudonym(model.scoringKey, r.id));
  const answers = await Promise.all(
    hosts.map((h) => h.partials(pseudonyms).catch((): HostAnswer => ({ ok: false, failure: 'unavailable' }))),
  );
  const { objective = 'logistic', base = [0], trees = [] } = model.scoring;
  const threshold = options.threshold ?? 0.5;
  return requests.map((r, k) => {
    const bits: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(treeParties.length);
    bits[0] = own[k];
    let complete = true;
    const status: Record<string, HostStatus> = {};
    hosts.forEach((h, i) => {
      const answer = answers[i];
      const party = partyOf[i] ?? -1;
      const u = answer?.ok === true ? answer.scores[k] : undefined;
      const unpacked = typeof u === 'string' && party > 0 ? unpackSplitBits(u, used[party] ?? 0) : undefined;
      status[h.name] =
        answer === undefined
          ? 'unavailable'
          : !answer.ok
            ? answer.failure
            : u === null || u === undefined
              ? 'not-held'
              : unpacked === undefined
                ? 'mismatch'
                : 'ok';
      if (unpacked === undefined) complete = false;
      else bits[party] = unpacked;
    });
    const alone = complete || ownTreesBits === undefined ? undefined : model.scoring.ownTrees;
    const raw =
      alone === undefined
        ? rawScores(trees, base, bits)
        : rawScores(alone.trees, alone.base, [ownTreesBits?.(r.features, where(k))]);
    const fallback = alone === undefined ? {} : { fallback: 'own-trees' as const };
    const p = predictions(objective, raw);
    const extra = (warnings[k] ?? []).length === 0 ? {} : { warnings: warnings[k] ?? [] };
    if (objective === 'squared')
      return { id: r.id, prediction: p[0] ?? 0, logit: raw[0] ?? 0, complete, hosts: status, ...fallback, ...extra };
    if (objective === 'logistic') {
      const probability = p[0] ?? 0;
      return {
        id: r.id,
        probability,
        logit: raw[0] ?? 0,
        segment: probability >= threshold ? 'positive' : 'negative',
        complete,
        hosts: status,
        ...fallback,
        ...extra,
      };
    }
    const labels = Array.from(raw, (_, c) => model.scoring.classes?.[c] ?? String(c));
    const best = argmax(p);
    return {
      id: r.id,
      probability: p[best] ?? 0,
      logit: raw[best] ?? 0,
      segment: labels[best] ?? '',
      complete,
      hosts: status,
      ...fallback,
      probabilities: Object.fromEntries(labels.map((l, c) => [l, p[c] ?? 0])),
      logits: Object.fromEntries(labels.map((l, c) => [l, raw[c] ?? 0])),
      ...extra,
    };
  });
}
