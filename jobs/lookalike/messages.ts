/** The messages only lookalike jobs send (jobs/lookalike/lookalike.ts). */
import { tandem } from '../../protocol/generated/tandem.js';
import { message, type Message } from '../../protocol/messages.ts';

export const LOOKALIKE_SELECTION = message({
  step: 'lookalike-selection',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.RowSelection,
  meaning:
    "which pool positions to train on: the guest's matched seeds mixed with random decoys, in an order the host cannot tell apart",
});
export const LOOKALIKE_PADDING = message({
  step: 'lookalike-padding',
  kind: 'control',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.RowSelection,
  meaning:
    'which pool positions of an OPRF match are padding (no user), so no decoy is drawn there; it tells how many pool ids fall in each bucket',
});
export const POOL_PERCENTILES = message({
  step: 'pool-percentiles',
  kind: 'partial-score',
  from: ['host'],
  to: ['guest'],
  body: tandem.v1.Scores,
  meaning: "each held-out row's rank in the host's scored pool, as a fraction (seeds and decoys mixed)",
});

export const LOOKALIKE_MESSAGES: readonly Message[] = [LOOKALIKE_SELECTION, LOOKALIKE_PADDING, POOL_PERCENTILES];
