/**
 * The messages of encrypted vertical logistic regression (models/lr/train.ts):
 * per mini-batch the host's encrypted basis, the guest's encrypted residual,
 * every party's masked sums for the key holder and its noisy answers; per
 * epoch the guest's decision to go on; at the end the hosts' validation
 * partial scores (threat model L6).
 */
import { tandem } from '../../protocol/generated/tandem.js';
import { message, type Message } from '../../protocol/messages.ts';

export const BASIS = message({
  step: 'basis',
  kind: 'ciphertext',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.CiphertextBatch,
  meaning: "the host's per-row partial scores, transformed and encrypted (the guest cannot decrypt them)",
});
export const RESIDUAL = message({
  step: 'residual',
  kind: 'ciphertext',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.CiphertextBatch,
  meaning: 'per-row prediction errors, encrypted (the hosts cannot decrypt them)',
});
export const DECRYPT = message({
  step: 'decrypt',
  kind: 'masked',
  from: ['guest', 'host'],
  to: ['coordinator'],
  body: tandem.v1.DecryptRequest,
  meaning: 'encrypted per-feature batch products under a random mask; the coordinator returns only their masked total',
});
export const DECRYPT_RESULT = message({
  step: 'decrypt-result',
  kind: 'aggregate',
  from: ['coordinator'],
  to: ['guest', 'host'],
  body: tandem.v1.DecryptResponse,
  meaning: 'the masked totals, decrypted, with random noise added',
});
export const EPOCH_CONTROL = message({
  step: 'epoch-control',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.Control,
  meaning: 'whether to train another pass over the data',
});
export const DP_PLAN = message({
  step: 'dp-plan',
  kind: 'control',
  from: ['guest'],
  to: ['coordinator'],
  body: tandem.v1.DpPlan,
  meaning: 'the number of training rows, so the coordinator can size the differential-privacy noise',
});
export const VALIDATION_SCORES = message({
  step: 'validation-scores',
  kind: 'partial-score',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.Scores,
  meaning: "the host's partial score for each validation row",
});

export const LR_MESSAGES: readonly Message[] = [
  BASIS,
  RESIDUAL,
  DECRYPT,
  DECRYPT_RESULT,
  EPOCH_CONTROL,
  DP_PLAN,
  VALIDATION_SCORES,
];
