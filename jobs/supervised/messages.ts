/** The messages only supervised jobs (hetero-lr, cold-start) send beyond the core and their model family's. */
import { tandem } from '../../protocol/generated/tandem.js';
import { message, type Message } from '../../protocol/messages.ts';

export const CLASSES = message({
  step: 'classes',
  kind: 'control',
  from: ['guest'],
  to: ['host'],
  body: tandem.v1.Control,
  meaning: 'how many outputs the model has: the number of classes of a cold-start label (not their names)',
});

export const SUPERVISED_MESSAGES: readonly Message[] = [CLASSES];
