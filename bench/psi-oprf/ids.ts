/**
 * Ids for the PSI benchmarks, generated on the fly (never written to disk,
 * never all held at once): universe element k is an email-like string of
 * 18–28 bytes (cheap to make: generating them is not what is measured). The receiver holds elements 0..R−1, the sender elements
 * R−shared..R−shared+S−1, so exactly `shared` ids are common and the right
 * answer is known: receiver row r matches sender row r − (R − shared).
 */

export type Population = { readonly receiver: number; readonly sender: number; readonly shared: number };

export function idOf(k: number): string {
  return `user${k}@example.com`;
}

/** The universe element of a role's row 0. */
export function firstElement(population: Population, role: 'receiver' | 'sender'): number {
  return role === 'receiver' ? 0 : population.receiver - population.shared;
}

/** Rows [from, to) of a role as chunks of generated ids; `spent` accumulates the milliseconds spent generating. */
export function* idChunks(
  first: number,
  from: number,
  to: number,
  spent: { ms: number },
  chunk = 65_536,
): Generator<string[]> {
  for (let at = from; at < to; at += chunk) {
    const t = performance.now();
    const ids = new Array<string>(Math.min(chunk, to - at));
    for (let k = 0; k < ids.length; k++) ids[k] = idOf(first + at + k);
    spent.ms += performance.now() - t;
    yield ids;
  }
}
