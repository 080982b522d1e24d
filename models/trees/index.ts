/**
 * The gradient-boosted trees family: SecureBoost-style vertical boosting
 * where the guest (label holder) grows every tree, a host's histograms are
 * computed on secret shares with the coordinator as dealer
 * (secure-histogram.ts), and a host keeps its split thresholds. The pure
 * booster, binning and its plaintext twin are in core/.
 */
import type { ModelFamily } from '../family.ts';
import { treesKeyHolder } from './key-holder.ts';
import { TREE_MESSAGES } from './messages.ts';
import { treesModelSchema, treesSpecProblem } from './spec.ts';
import { trainSupervisedTrees } from './supervised.ts';
import { trainLookalikeTrees } from './lookalike.ts';

export const TREES_FAMILY: ModelFamily = Object.freeze({
  name: 'trees',
  modelSchema: treesModelSchema,
  messages: TREE_MESSAGES,
  specProblem: treesSpecProblem,
  keyHolder: treesKeyHolder,
  supervised: trainSupervisedTrees,
  lookalike: trainLookalikeTrees,
});
