/**
 * Where a node's incoming OPRF-PSI messages wait until the role asks for
 * them by (step, bucket, chunk), in any arrival order, as a JobChannel's
 * mailbox keeps envelopes by (step, round, seq). Used by links that are not
 * a JobChannel: the in-memory pair for tests, the bench's sockets.
 */
import type { OprfStep } from '../protocol/psi/oprf/codec.ts';
import type { OprfMessage } from '../protocol/psi/oprf/messages.ts';
import { coordinates } from '../protocol/psi/oprf/codec.ts';
import type { OprfLink } from './psi-workers.ts';

const keyOf = (step: string, bucket: number, chunk: number): string => `${step}|${bucket}|${chunk}`;

export class OprfMailbox {
  readonly #waiting = new Map<string, OprfMessage>();
  readonly #takers = new Map<string, { resolve: (m: OprfMessage) => void; reject: (e: Error) => void }>();
  #failure: Error | undefined;

  put(message: OprfMessage): void {
    const { round, seq } = coordinates(message);
    const key = keyOf(message.step, round, seq);
    const taker = this.#takers.get(key);
    if (taker === undefined) {
      this.#waiting.set(key, message);
    } else {
      this.#takers.delete(key);
      taker.resolve(message);
    }
  }

  take(step: OprfStep, bucket: number, chunk: number): Promise<OprfMessage> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const key = keyOf(step, bucket, chunk);
    const message = this.#waiting.get(key);
    if (message !== undefined) {
      this.#waiting.delete(key);
      return Promise.resolve(message);
    }
    return new Promise((resolve, reject) => this.#takers.set(key, { resolve, reject }));
  }

  /** Fails every pending and later take (the link broke). */
  fail(error: Error): void {
    this.#failure = error;
    for (const taker of this.#takers.values()) taker.reject(error);
    this.#takers.clear();
  }
}

/** Two links joined in memory: what one sends, the other receives. */
export function memoryLinkPair(): readonly [OprfLink, OprfLink] {
  const boxes = [new OprfMailbox(), new OprfMailbox()] as const;
  const link = (mine: OprfMailbox, theirs: OprfMailbox): OprfLink => ({
    send: (message) => {
      theirs.put(message);
      return Promise.resolve();
    },
    receive: (step, bucket, chunk) => mine.take(step, bucket, chunk),
  });
  return [link(boxes[0], boxes[1]), link(boxes[1], boxes[0])];
}
