import { describe, expect, it } from 'vitest';
import { placeCuckoo } from './cuckoo.ts';
import { cuckooBins } from './params.ts';
import { Random } from '../../random.ts';

function check(binsOf: Uint32Array, count: number, table: { item: Int32Array; hash: Uint8Array }): void {
  const placed = new Set<number>();
  table.item.forEach((k, bin) => {
    if (k < 0) return;
    expect(placed.has(k)).toBe(false);
    placed.add(k);
    expect(binsOf[3 * k + table.hash[bin]!]).toBe(bin);
  });
  expect(placed.size).toBe(count);
}

describe('placeCuckoo', () => {
  it('places every id once, in the bin of the hash function it records, at the bin counts params.ts sets', () => {
    const random = new Random('cuckoo');
    for (const count of [1, 2, 10, 1000, 50_000]) {
      const bins = cuckooBins(count);
      const binsOf = Uint32Array.from({ length: 3 * count }, () => random.nextInt(bins));
      const table = placeCuckoo(binsOf, count, bins);
      if (table === undefined) throw new Error(`no placement for ${count} ids`);
      check(binsOf, count, table);
    }
  });

  it('finds a placement by searching for augmenting paths alone, even in a full table', () => {
    // No evictions allowed (maxKicks 0): every collision goes to the search. As many ids as bins.
    const random = new Random('augment');
    const count = 600;
    let placements = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      // Id k may go to bin order[k] (under a random one of its hash functions) or two random bins: a placement exists.
      const order = random.permutation(count);
      const binsOf = Uint32Array.from({ length: 3 * count }, () => random.nextInt(count));
      for (let k = 0; k < count; k++) binsOf[3 * k + random.nextInt(3)] = order[k]!;
      const table = placeCuckoo(binsOf, count, count, 0);
      if (table === undefined) throw new Error('no placement found where one exists');
      check(binsOf, count, table);
      placements++;
    }
    expect(placements).toBe(5);
  });

  it('reports when no placement exists: four ids sharing the same three bins', () => {
    const binsOf = Uint32Array.from([0, 1, 2, 0, 1, 2, 2, 1, 0, 1, 0, 2]);
    expect(placeCuckoo(binsOf, 4, 8)).toBeUndefined();
  });
});
