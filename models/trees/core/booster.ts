/**
 * Gradient boosting over the columns of several parties, level by level
 * (depth-wise, as XGBoost's `hist`): the label holder computes gradients,
 * asks every party for the histograms of the nodes it is growing, picks the
 * best split among all parties' columns, asks the owner of that column which
 * way each row goes, and keeps the leaf values to itself. A party is a
 * {@link TreeParty}: the label holder's own columns and the plaintext twin
 * answer locally, another party's columns through secret-shared histograms
 * (../secure-histogram.ts). Everything that depends on randomness uses the
 * label holder's seeded generator, so a federated run and its twin grow the
 * same trees.
 */
import { Random } from '../../../protocol/random.ts';
import { bestSplit, type SplitRule } from './split.ts';
import { subtract, type Histogram } from './histogram.ts';
import type { BinLayout } from './binning.ts';
import { baseScores, gradients, meanLoss, type Objective } from './objective.ts';
import { quantise } from './quantise.ts';

/** A split a party is asked to apply: its column and bin, and where missing values go; `record` names it in the party's table. */
export type SplitRequest = {
  readonly record: number;
  readonly column: number;
  readonly bin: number;
  readonly missingLeft: boolean;
};

/** A node to histogram: its training positions (indices into the training rows) and their quantised gradients (zero elsewhere). */
export type NodeVectors = { readonly positions: Uint32Array; readonly g: Int32Array; readonly h: Int32Array };

export type TreeParty = {
  readonly layout: BinLayout;
  /** One histogram per node, over this party's columns. */
  histograms(nodes: readonly NodeVectors[]): Promise<Histogram[]>;
  /** Per split, 1 for every aligned row that goes left. */
  split(requests: readonly SplitRequest[]): Promise<Uint8Array[]>;
};

export type BoostParams = SplitRule & {
  readonly rounds: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  /** Fraction of training rows each round grows on. */
  readonly subsample: number;
  /** Stop after this many rounds without improvement on the early-stopping rows (0: never). */
  readonly earlyStoppingRounds: number;
  /** Fraction of training rows set aside for early stopping (0: none). */
  readonly validationFraction: number;
};

/** A node: a split (owned by party `party`, its record `record`) or a leaf. */
export type TreeNode =
  | {
      readonly party: number;
      readonly record: number;
      readonly left: number;
      readonly right: number;
      readonly gain: number;
      readonly cover: number;
    }
  | { readonly leaf: number; readonly cover: number };

export type Tree = readonly TreeNode[];

export type BoostInput = {
  readonly parties: readonly TreeParty[];
  /** All aligned rows (training, held out for evaluation, …). */
  readonly rows: number;
  /** The training rows, as aligned row indices. */
  readonly train: Uint32Array;
  /** Per aligned row: 0/1, the class index, or the value. */
  readonly labels: Float64Array;
  readonly objective: Objective;
  readonly outputs: number;
  readonly params: BoostParams;
  readonly seed: string;
  readonly onRound?: ((round: number, rounds: number, loss: number) => void) | undefined;
};

export type Boosted = {
  readonly base: Float64Array;
  /** Round-major, one tree per output. */
  readonly trees: readonly (readonly Tree[])[];
  /** Raw scores of every aligned row (rows × outputs) with the kept trees. */
  readonly scores: Float64Array;
  /** Per party, the splits it was asked to apply, by record. */
  readonly records: readonly SplitRequest[][];
  readonly losses: readonly number[];
  readonly stoppedEarly: boolean;
};

/** Trains the booster; the parties do the histograms and splits. */
export async function boost(input: BoostInput): Promise<Boosted> {
  const { params, outputs, objective, labels, parties } = input;
  const random = new Random(`tandem/v1/trees|${input.seed}`);
  const { fit, stopping } = setAside(input.train, params, random);
  const base = baseScores(objective, labels, fit, outputs);
  const F = new Float64Array(input.rows * outputs);
  for (let r = 0; r < input.rows; r++) F.set(base, r * outputs);
  const trees: Tree[][] = [];
  const records: SplitRequest[][] = parties.map(() => []);
  const losses: number[] = [];
  let best = { loss: Infinity, round: 0, scores: F.slice() };
  const g = new Float64Array(input.rows);
  const h = new Float64Array(input.rows);
  let stoppedEarly = false;
  for (let round = 0; round < params.rounds; round++) {
    const active = params.subsample < 1 ? fit.filter(() => random.nextFloat() < params.subsample) : fit;
    const perOutput: Tree[] = [];
    const step = new Float64Array(input.rows * outputs);
    for (let k = 0; k < outputs; k++) {
      gradients(objective, F, outputs, k, labels, active, g, h);
      const tree = await growTree({ ...input, records }, active, g, h, random);
      perOutput.push(tree.nodes);
      for (let r = 0; r < input.rows; r++) {
        const leaf = tree.nodes[tree.at[r] ?? 0];
        step[r * outputs + k] = leaf !== undefined && 'leaf' in leaf ? leaf.leaf : 0;
      }
    }
    for (let x = 0; x < F.length; x++) F[x] = (F[x] ?? 0) + (step[x] ?? 0);
    trees.push(perOutput);
    const loss = meanLoss(objective, F, outputs, labels, stopping.length > 0 ? stopping : fit);
    losses.push(loss);
    input.onRound?.(round + 1, params.rounds, loss);
    if (loss < best.loss - 1e-12) best = { loss, round: round + 1, scores: F.slice() };
    else if (
      params.earlyStoppingRounds > 0 &&
      stopping.length > 0 &&
      round + 1 - best.round >= params.earlyStoppingRounds
    ) {
      stoppedEarly = true;
      break;
    }
  }
  const keep = stopping.length > 0 ? best.round : trees.length;
  return {
    base,
    trees: trees.slice(0, keep),
    scores: stopping.length > 0 ? best.scores : F,
    records,
    losses,
    stoppedEarly,
  };
}

/** The training rows split into rows that fit trees and rows that only judge them (early stopping). */
function setAside(
  train: Uint32Array,
  params: BoostParams,
  random: Random,
): { fit: Uint32Array; stopping: Uint32Array } {
  if (params.earlyStoppingRounds <= 0 || params.validationFraction <= 0 || train.length < 20)
    return { fit: train, stopping: new Uint32Array(0) };
  const order = random.permutation(train.length);
  const held = Math.max(1, Math.round(train.length * params.validationFraction));
  const stopping = Uint32Array.from(order.subarray(0, held), (k) => train[k] ?? 0).sort();
  const fit = Uint32Array.from(order.subarray(held), (k) => train[k] ?? 0).sort();
  return { fit, stopping };
}

type Growing = {
  id: number;
  depth: number;
  /** Aligned rows in the node that fit this tree. */
  rows: Uint32Array;
  G: number;
  H: number;
  hist: Histogram[] | undefined;
  parent: Growing | undefined;
  sibling: Growing | undefined;
};

type Grown = { nodes: TreeNode[]; at: Int32Array };

async function growTree(
  input: BoostInput & { records: SplitRequest[][] },
  active: Uint32Array,
  g: Float64Array,
  h: Float64Array,
  random: Random,
): Promise<Grown> {
  const { params, parties, train } = input;
  const gq = quantise(g, active, random);
  const hq = quantise(h, active, random);
  // Training position of each aligned row (the secret-shared vectors are indexed by training position).
  const positionOf = new Int32Array(input.rows).fill(-1);
  train.forEach((row, p) => (positionOf[row] = p));
  const nodes: (TreeNode | undefined)[] = [undefined];
  const at = new Int32Array(input.rows);
  const totals = (rows: Uint32Array): { G: number; H: number } => {
    let G = 0;
    let H = 0;
    for (const r of rows) {
      G += gq.values[r] ?? 0;
      H += hq.values[r] ?? 0;
    }
    return { G, H };
  };
  let level: Growing[] = [
    { id: 0, depth: 0, rows: active, ...totals(active), hist: undefined, parent: undefined, sibling: undefined },
  ];
  const leaf = (node: Growing): void => {
    let sg = 0;
    let sh = 0;
    for (const r of node.rows) {
      sg += g[r] ?? 0;
      sh += h[r] ?? 0;
    }
    nodes[node.id] = {
      leaf: node.rows.length === 0 ? 0 : (-params.learningRate * sg) / (sh + params.lambda),
      cover: node.rows.length,
    };
  };
  while (level.length > 0) {
    const open = level.filter(
      (n) => n.depth < params.maxDepth && n.rows.length >= 2 && n.H / hq.scale >= 2 * params.minChildWeight,
    );
    for (const n of level) if (!open.includes(n)) leaf(n);
    if (open.length === 0) break;
    // Histograms: a node directly, unless its sibling is open and smaller (then parent − sibling).
    const derived = (n: Growing): boolean =>
      n.parent?.hist !== undefined &&
      n.sibling !== undefined &&
      open.includes(n.sibling) &&
      (n.sibling.rows.length < n.rows.length || (n.sibling.rows.length === n.rows.length && n.sibling.id < n.id));
    const direct = open.filter((n) => !derived(n));
    const vectors = direct.map((n) => nodeVectors(n.rows, positionOf, train.length, gq.values, hq.values));
    const perParty = await Promise.all(parties.map((p) => p.histograms(vectors)));
    direct.forEach((n, j) => (n.hist = perParty.map((hists) => hists[j] as Histogram)));
    for (const n of open)
      if (derived(n)) n.hist = (n.parent?.hist ?? []).map((ph, p) => subtract(ph, n.sibling?.hist?.[p] ?? ph));
    // The best split of each node over every party's columns (ties: the first party, column, bin).
    const chosen: { node: Growing; party: number; request: SplitRequest; gain: number }[] = [];
    const requests: SplitRequest[][] = parties.map(() => []);
    for (const n of open) {
      let best: { party: number; column: number; bin: number; missingLeft: boolean; gain: number } | undefined;
      parties.forEach((party, p) => {
        const s = bestSplit(n.hist?.[p] ?? new Float64Array(0), party.layout, n.G, n.H, gq.scale, hq.scale, params);
        if (s !== undefined && (best === undefined || s.gain > best.gain)) best = { party: p, ...s };
      });
      if (best === undefined) {
        leaf(n);
        continue;
      }
      const b: { party: number; column: number; bin: number; missingLeft: boolean; gain: number } = best;
      const request = {
        record: input.records[b.party]?.length ?? 0,
        column: b.column,
        bin: b.bin,
        missingLeft: b.missingLeft,
      };
      input.records[b.party]?.push(request);
      requests[b.party]?.push(request);
      chosen.push({ node: n, party: b.party, request, gain: b.gain });
    }
    if (chosen.length === 0) break;
    const bits = await Promise.all(
      parties.map((p, k) => ((requests[k]?.length ?? 0) > 0 ? p.split(requests[k] ?? []) : Promise.resolve([]))),
    );
    const next: Growing[] = [];
    for (const c of chosen) {
      const left = bits[c.party]?.[requests[c.party]?.indexOf(c.request) ?? -1];
      if (left === undefined) throw new RangeError(`party ${c.party} answered no split for record ${c.request.record}`);
      const leftId = nodes.length;
      const rightId = leftId + 1;
      nodes.push(undefined, undefined);
      nodes[c.node.id] = {
        party: c.party,
        record: c.request.record,
        left: leftId,
        right: rightId,
        gain: c.gain,
        cover: c.node.rows.length,
      };
      for (let r = 0; r < at.length; r++) if (at[r] === c.node.id) at[r] = left[r] === 1 ? leftId : rightId;
      const rowsLeft = c.node.rows.filter((r) => left[r] === 1);
      const rowsRight = c.node.rows.filter((r) => left[r] !== 1);
      const l: Growing = {
        id: leftId,
        depth: c.node.depth + 1,
        rows: rowsLeft,
        ...totals(rowsLeft),
        hist: undefined,
        parent: c.node,
        sibling: undefined,
      };
      const r: Growing = {
        id: rightId,
        depth: c.node.depth + 1,
        rows: rowsRight,
        ...totals(rowsRight),
        hist: undefined,
        parent: c.node,
        sibling: l,
      };
      l.sibling = r;
      next.push(l, r);
    }
    // Free the histograms of nodes whose children have theirs.
    for (const n of level) if (!next.some((c) => c.parent === n)) n.hist = undefined;
    level = next;
  }
  return { nodes: nodes.map((n) => n ?? { leaf: 0, cover: 0 }), at };
}

/** A node's rows as dense vectors over the training positions. */
function nodeVectors(
  rows: Uint32Array,
  positionOf: Int32Array,
  trainRows: number,
  gq: Int32Array,
  hq: Int32Array,
): NodeVectors {
  const positions = new Uint32Array(rows.length);
  const g = new Int32Array(trainRows);
  const h = new Int32Array(trainRows);
  rows.forEach((r, k) => {
    const p = positionOf[r] ?? -1;
    positions[k] = p;
    g[p] = gq[r] ?? 0;
    h[p] = hq[r] ?? 0;
  });
  return { positions, g, h };
}

/** The leaf a row reaches in a tree, given each party's answers for that row's splits. */
export function leafOf(tree: Tree, goesLeft: (party: number, record: number) => boolean): number {
  let node = tree[0];
  while (node !== undefined && !('leaf' in node))
    node = tree[goesLeft(node.party, node.record) ? node.left : node.right];
  return node !== undefined && 'leaf' in node ? node.leaf : 0;
}
