/**
 * The messages of federated trees (secure-histogram.ts): the parties' seeds
 * for the coordinator (the dealer), a host's masked bins once per job, then
 * per tree level the label holder's masked gradient vectors, the two
 * histogram shares it combines, the splits it chooses on a host's columns
 * and the host's answer (which side each row falls on).
 */
import { tandem } from '../../protocol/generated/tandem.js';
import { message, type Message } from '../../protocol/messages.ts';

export const TREE_SEED = message({
  step: 'tree-seed',
  kind: 'dealer',
  from: ['guest', 'host'],
  to: ['coordinator'],
  body: tandem.v1.TreeSeed,
  meaning:
    "a random seed for the coordinator to deal correlated randomness from (a host's also gives its number of training rows and bins)",
});
export const TREE_MASKED_BINS = message({
  step: 'tree-masked-bins',
  kind: 'secret-share',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.TreeWords,
  meaning:
    'which bin each training row falls in for every host column, under a uniformly random mask the guest cannot remove',
});
export const TREE_LAYOUT = message({
  step: 'tree-layout',
  kind: 'control',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.TreeWords,
  meaning: "how many bins each of the host's columns has (counts, no values)",
});
export const TREE_STEP = message({
  step: 'tree-step',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.Control,
  meaning: 'what the host is asked to do next: histogram shares, splits, or stop',
});
export const TREE_VECTORS = message({
  step: 'tree-vectors',
  kind: 'secret-share',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.TreeWords,
  meaning: "a tree node's gradients, one per training row, under a uniformly random mask the host cannot remove",
});
export const TREE_DEAL = message({
  step: 'tree-deal',
  kind: 'dealer',
  from: ['guest'],
  to: ['coordinator'],
  body: tandem.v1.TreeDeal,
  meaning: 'a request for the dealt shares of numbered gradient vectors (counts only)',
});
export const TREE_DEALT = message({
  step: 'tree-dealt',
  kind: 'dealer',
  from: ['coordinator'],
  to: ['guest'],
  body: tandem.v1.TreeWords,
  meaning: "the coordinator's random-looking share of each histogram (its randomness, masked by the host's)",
});
export const TREE_HOST_SHARES = message({
  step: 'tree-host-shares',
  kind: 'secret-share',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.TreeWords,
  meaning:
    "the host's random-looking share of each histogram; with the guest's and the coordinator's it sums to per-bin gradient totals",
});
export const TREE_SPLITS = message({
  step: 'tree-splits',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.TreeSplits,
  meaning: "the splits chosen on the host's columns, by column and bin number (the host keeps the thresholds)",
});
export const TREE_SPLIT_BITS = message({
  step: 'tree-split-bits',
  kind: 'split-bits',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.TreeBits,
  meaning: "for each split on the host's columns, which side of it each shared row falls on",
});

export const TREE_MODEL = message({
  step: 'tree-model',
  kind: 'model',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.TreeModel,
  meaning: "a lookalike job's trees (splits by record, leaf values), so the host can score its own pool",
});

export const TREE_MESSAGES: readonly Message[] = [
  TREE_MODEL,
  TREE_SEED,
  TREE_LAYOUT,
  TREE_MASKED_BINS,
  TREE_STEP,
  TREE_VECTORS,
  TREE_DEAL,
  TREE_DEALT,
  TREE_HOST_SHARES,
  TREE_SPLITS,
  TREE_SPLIT_BITS,
];
