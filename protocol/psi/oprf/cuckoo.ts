/**
 * The receiver's cuckoo table: every id of a bucket in one of its three bins,
 * at most one id per bin, no stash. The sender, not knowing where each id
 * went, evaluates the OPRF at all three bins of each of its ids; an id both
 * hold then matches exactly once.
 *
 * Placement is the usual eviction walk (an id that finds its bin taken
 * evicts the occupant, which moves on to its next bin), bounded; if the walk
 * gives up, a breadth-first search for an augmenting path places the id
 * whenever any placement of all ids exists, so the only failure left is the
 * one the bin count bounds by 2^-40 (params.ts). Deterministic: the same ids
 * and seed give the same table, which a restarted party relies on.
 */
import { HASHES } from './params.ts';

/** Which id sits in each bin (-1: empty) and under which hash function it got there. */
export type CuckooTable = { readonly item: Int32Array; readonly hash: Uint8Array };

/**
 * Places ids 0..count−1 whose bins are `binsOf[3k + i]`; undefined when no
 * placement exists. `maxKicks`: evictions before the walk hands over to the
 * exhaustive search (@default 512).
 */
export function placeCuckoo(binsOf: Uint32Array, count: number, bins: number, maxKicks = 512): CuckooTable | undefined {
  const item = new Int32Array(bins).fill(-1);
  const hash = new Uint8Array(bins);
  for (let k = 0; k < count; k++) {
    const homeless = walk(binsOf, item, hash, k, maxKicks);
    if (homeless >= 0 && !augment(binsOf, item, hash, homeless)) return undefined;
  }
  return { item, hash };
}

/** Inserts id k by evictions; returns -1, or the id left without a bin after `maxKicks`. */
function walk(binsOf: Uint32Array, item: Int32Array, hash: Uint8Array, k: number, maxKicks: number): number {
  let current = k;
  let h = 0;
  for (let kick = 0; kick <= maxKicks; kick++) {
    // Prefer a free bin among the current id's choices before evicting.
    for (let i = 0; i < HASHES; i++) {
      const bin = binsOf[3 * current + ((h + i) % HASHES)]!;
      if (item[bin] === -1) {
        item[bin] = current;
        hash[bin] = (h + i) % HASHES;
        return -1;
      }
    }
    const bin = binsOf[3 * current + h]!;
    const evicted = item[bin]!;
    const evictedHash = hash[bin]!;
    item[bin] = current;
    hash[bin] = h;
    current = evicted;
    h = (evictedHash + 1) % HASHES;
  }
  return current;
}

/** Breadth-first search from id k over bins for a free one, then shifts ids along the path. */
function augment(binsOf: Uint32Array, item: Int32Array, hash: Uint8Array, k: number): boolean {
  const bins = item.length;
  // cameFrom[bin]: the bin whose occupant would move into `bin` (-2: reached from k itself; -1: unvisited).
  const cameFrom = new Int32Array(bins).fill(-1);
  const queue: number[] = [];
  for (let i = 0; i < HASHES; i++) {
    const bin = binsOf[3 * k + i]!;
    if (cameFrom[bin] === -1) {
      cameFrom[bin] = -2;
      queue.push(bin);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const bin = queue[head]!;
    const occupant = item[bin]!;
    if (occupant === -1) {
      shift(binsOf, item, hash, cameFrom, bin, k);
      return true;
    }
    for (let i = 0; i < HASHES; i++) {
      const next = binsOf[3 * occupant + i]!;
      if (cameFrom[next] === -1) {
        cameFrom[next] = bin;
        queue.push(next);
      }
    }
  }
  return false;
}

/** Moves each occupant along the found path into the next bin, and k into the first. */
function shift(
  binsOf: Uint32Array,
  item: Int32Array,
  hash: Uint8Array,
  cameFrom: Int32Array,
  free: number,
  k: number,
): void {
  let to = free;
  for (;;) {
    const from = cameFrom[to]!;
    const mover = from === -2 ? k : item[from]!;
    item[to] = mover;
    hash[to] = hashIndex(binsOf, mover, to);
    if (from === -2) return;
    to = from;
  }
}

function hashIndex(binsOf: Uint32Array, k: number, bin: number): number {
  for (let i = 0; i < HASHES; i++) if (binsOf[3 * k + i] === bin) return i;
  throw new RangeError(`bin ${bin} is not one of id ${k}'s bins`);
}
