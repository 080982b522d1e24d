/**
 * Coalesces a guest's calls to one host: the calls made in the same turn of
 * the event loop (every scoring request that arrived in one poll) go to the
 * host as one request, pseudonyms concatenated, and each caller gets its own
 * slice of the answer — or the same failure, as it would have alone.
 *
 * At a steady trickle a batch is one visitor and nothing waits. After a
 * stall (a busy core, a GC pause), the visitors queued behind it cost one
 * round trip to the host instead of one each, so the backlog drains in a
 * few milliseconds instead of piling up calls, sockets and TLS handshakes
 * until they time out. The host sees the same pseudonyms in fewer requests.
 */
import type { HostAnswer, HostClient } from './online-scoring.ts';

/** The most pseudonyms a host takes in one request (its endpoint's own limit). */
export const MAX_PSEUDONYMS_PER_CALL = 10_000;

type Waiter = { readonly pseudonyms: readonly string[]; readonly resolve: (answer: HostAnswer) => void };

export function coalescing(client: HostClient, maxPseudonyms = MAX_PSEUDONYMS_PER_CALL): HostClient {
  let queue: Waiter[] = [];
  const send = (waiters: readonly Waiter[]): void => {
    const all = waiters.length === 1 ? (waiters[0]?.pseudonyms ?? []) : waiters.flatMap((w) => w.pseudonyms);
    void client
      .partials(all)
      .catch((): HostAnswer => ({ ok: false, failure: 'unavailable' }))
      .then((answer) => {
        let at = 0;
        for (const w of waiters) {
          const n = w.pseudonyms.length;
          w.resolve(
            answer.ok
              ? { ok: true, scores: waiters.length === 1 ? answer.scores : answer.scores.slice(at, at + n) }
              : answer,
          );
          at += n;
        }
      });
  };
  const flush = (): void => {
    const waiters = queue;
    queue = [];
    let batch: Waiter[] = [];
    let size = 0;
    for (const w of waiters) {
      if (batch.length > 0 && size + w.pseudonyms.length > maxPseudonyms) {
        send(batch);
        batch = [];
        size = 0;
      }
      batch.push(w);
      size += w.pseudonyms.length;
    }
    if (batch.length > 0) send(batch);
  };
  return {
    name: client.name,
    partials: (pseudonyms) =>
      new Promise((resolve) => {
        // setImmediate runs once the current poll's callbacks are done: every request read in it joins this batch.
        if (queue.length === 0) setImmediate(flush);
        queue.push({ pseudonyms, resolve });
      }),
  };
}
