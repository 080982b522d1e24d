import { describe, expect, it } from 'vitest';
import type { PreprocessSpec } from '../data/preprocess.ts';
import type { Tree } from '../models/trees/core/booster.ts';
import { rawScores } from '../models/trees/score.ts';
import type { HostAnswer, HostClient } from './online-scoring.ts';
import { packSplitBits, unpackSplitBits } from './split-bits.ts';
import { scoreTreesOnline } from './trees-online-scoring.ts';

// One round, one tree: the guest splits on a ≤ 0, then the left child on the host's record 2 (cover 30 left, 10 right).
const tree: Tree = [
  { party: 0, record: 0, left: 1, right: 2, gain: 1, cover: 50 },
  { party: 1, record: 2, left: 3, right: 4, gain: 1, cover: 40 },
  { leaf: -1, cover: 10 },
  { leaf: 0.5, cover: 30 },
  { leaf: 2, cover: 10 },
];
const preprocess: PreprocessSpec = {
  format: 'tandem-preprocess/1',
  missingPolicy: 'mean',
  missingTokens: [''],
  columns: [{ name: 'a', kind: 'numeric', mean: 0, std: 1, indicator: false }],
  outputColumns: ['a'],
  fittedRows: 50,
};
const model = {
  preprocess,
  hosts: ['partner'],
  scoringKey: new Uint8Array(32).fill(1),
  scoring: {
    featureNames: ['a'],
    records: [{ record: 0, feature: 'a', threshold: 0, missingLeft: true }],
    objective: 'logistic' as const,
    outputs: 1,
    base: [0.25],
    trees: [[tree]],
    treeParties: ['(guest)', 'partner'],
  },
};
const host = (answer: (n: number) => HostAnswer): HostClient => ({
  name: 'partner',
  partials: (p) => Promise.resolve(answer(p.length)),
});
const bits = (...on: number[]): Uint8Array => Uint8Array.from({ length: 3 }, (_, k) => (on.includes(k) ? 1 : 0));

describe('trees online scoring at the guest', () => {
  it('packs split bits eight to a byte and refuses an answer too short for the records the trees use', () => {
    const packed = packSplitBits(Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 0, 1]));
    expect(packed).toBe(Buffer.from([0b1101, 1]).toString('base64'));
    expect(Array.from(unpackSplitBits(packed, 9) ?? []).slice(0, 9)).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1]);
    expect(unpackSplitBits(packed, 17)).toBeUndefined();
    expect(unpackSplitBits('not base64!', 1)).toBeUndefined();
  });

  it("walks an unknown party's splits to the child with the larger cover", () => {
    expect(rawScores([[tree]], [0.25], [bits(0), bits(2)])[0]).toBe(0.75);
    expect(rawScores([[tree]], [0.25], [bits(0), bits()])[0]).toBe(2.25);
    expect(rawScores([[tree]], [0.25], [bits(0), undefined])[0]).toBe(0.75);
  });

  it("adds the host's bits when it answers, and falls back with the host's status when it does not", async () => {
    const requests = [
      { id: 'u1', features: { a: -1 } },
      { id: 'u2', features: { a: 3 } },
    ];
    const ok = await scoreTreesOnline(
      model,
      [host((n) => ({ ok: true, scores: Array.from({ length: n }, () => packSplitBits(bits())) }))],
      requests,
    );
    expect(ok.map((r) => [r.logit, r.complete, r.hosts['partner']])).toEqual([
      [2.25, true, 'ok'],
      [-0.75, true, 'ok'],
    ]);
    expect(ok[0]).toMatchObject({ probability: 1 / (1 + Math.exp(-2.25)), segment: 'positive' });
    const down = await scoreTreesOnline(model, [host(() => ({ ok: false, failure: 'timeout' }))], requests);
    expect(down.map((r) => [r.logit, r.complete, r.hosts['partner']])).toEqual([
      [0.75, false, 'timeout'],
      [-0.75, false, 'timeout'],
    ]);
    // An LR host's partial logit, or no user, is not a trees answer: the same fallback.
    const lr = await scoreTreesOnline(
      model,
      [host((n) => ({ ok: true, scores: Array.from({ length: n }, () => 0.3) }))],
      requests,
    );
    expect(lr.map((r) => r.hosts['partner'])).toEqual(['mismatch', 'mismatch']);
    const held = await scoreTreesOnline(
      model,
      [host((n) => ({ ok: true, scores: Array.from({ length: n }, () => null) }))],
      requests,
    );
    expect(held.map((r) => [r.logit, r.hosts['partner']])).toEqual([
      [0.75, 'not-held'],
      [-0.75, 'not-held'],
    ]);
  });

  it("answers with the guest's own-columns trees when a host cannot, and says so; with every host, the federated trees", async () => {
    // Own trees: a ≤ 1 → −0.4, else 0.9 (its own record 0), base 0.1.
    const ownTrees = {
      base: [0.1],
      trees: [
        [
          [
            { party: 0, record: 0, left: 1, right: 2, gain: 1, cover: 50 },
            { leaf: -0.4, cover: 20 },
            { leaf: 0.9, cover: 30 },
          ] as Tree,
        ],
      ],
      records: [{ record: 0, feature: 'a', threshold: 1, missingLeft: false }],
    };
    const withOwn = { ...model, scoring: { ...model.scoring, ownTrees } };
    const requests = [
      { id: 'u1', features: { a: -1 } },
      { id: 'u2', features: { a: 3 } },
    ];
    const down = await scoreTreesOnline(withOwn, [host(() => ({ ok: false, failure: 'unavailable' }))], requests);
    expect(down.map((r) => [r.logit, r.complete, r.hosts['partner'], r.fallback])).toEqual([
      [0.1 - 0.4, false, 'unavailable', 'own-trees'],
      [0.1 + 0.9, false, 'unavailable', 'own-trees'],
    ]);
    const up = await scoreTreesOnline(
      withOwn,
      [host((n) => ({ ok: true, scores: Array.from({ length: n }, () => packSplitBits(bits())) }))],
      requests,
    );
    expect(up.map((r) => [r.logit, r.complete, r.fallback])).toEqual([
      [2.25, true, undefined],
      [-0.75, true, undefined],
    ]);
  });

  it("answers a regression's prediction and a multi-class model's softmax probabilities by class", async () => {
    const requests = [{ id: 'u1', features: { a: -1 } }];
    const answer = host((n) => ({ ok: true, scores: Array.from({ length: n }, () => packSplitBits(bits(2))) }));
    const [regression] = await scoreTreesOnline(
      { ...model, scoring: { ...model.scoring, objective: 'squared' } },
      [answer],
      requests,
    );
    expect(regression).toEqual({ id: 'u1', prediction: 0.75, logit: 0.75, complete: true, hosts: { partner: 'ok' } });
    const leaf = (v: number): Tree => [{ leaf: v, cover: 1 }];
    const classes = {
      ...model.scoring,
      objective: 'softmax' as const,
      outputs: 3,
      base: [0, 0, 0],
      trees: [[tree, leaf(0), leaf(1)]],
      classes: ['a', 'b', 'c'],
    };
    const [multi] = await scoreTreesOnline({ ...model, scoring: classes }, [answer], requests);
    const z = [0.5, 0, 1];
    const total = z.reduce((s, v) => s + Math.exp(v), 0);
    expect(multi).toMatchObject({ segment: 'c', logit: 1, logits: { a: 0.5, b: 0, c: 1 }, complete: true });
    expect((multi as { probabilities: Record<string, number> }).probabilities['a']).toBeCloseTo(
      Math.exp(0.5) / total,
      15,
    );
  });
});
