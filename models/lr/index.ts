/**
 * The logistic-regression family: vertical LR trained under CKKS with a
 * Chebyshev link (train.ts), one-vs-rest for several classes, masked
 * decryption with noise flooding at the coordinator (key-holder.ts).
 */
import { lrModelSchema } from '../../protocol/job-spec.ts';
import type { ModelFamily } from '../family.ts';
import { lrKeyHolder } from './key-holder.ts';
import { trainLookalikeLr } from './lookalike.ts';
import { LR_MESSAGES } from './messages.ts';
import { trainSupervisedLr } from './supervised.ts';

export const LR_FAMILY: ModelFamily = Object.freeze({
  name: 'lr',
  modelSchema: lrModelSchema,
  messages: LR_MESSAGES,
  keyHolder: lrKeyHolder,
  supervised: trainSupervisedLr,
  lookalike: trainLookalikeLr,
});
