/**
 * The Hillstrom split: every sampled customer is on both sides under the
 * same opaque id, each side has exactly its columns, quoted values survive,
 * and the sample is the same for the same seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRAND_COLUMNS, PARTNER_COLUMNS, hillstromId, splitHillstrom } from './split.ts';
import { openCsv } from '../../data/csv-reader.ts';

async function rowsOf(file: string): Promise<{ header: readonly string[]; rows: string[][] }> {
  const csv = await openCsv(file);
  const rows: string[][] = [];
  for await (const row of csv) rows.push(row.fields);
  await csv.close();
  return { header: csv.header, rows };
}

describe('Hillstrom brand / partner split', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-hillstrom-split-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts every sampled customer on both sides under one opaque id, with each side its own columns', async () => {
    const out = await splitHillstrom({ outDir: join(dir, 'a'), sample: 3000, seed: 7 });
    expect(out.rows).toBe(3000);
    const brand = await rowsOf(out.brand);
    const partner = await rowsOf(out.partner);
    expect(brand.header).toEqual(['id', ...BRAND_COLUMNS]);
    expect(partner.header).toEqual(['id', ...PARTNER_COLUMNS]);
    const brandIds = brand.rows.map((r) => r[0]);
    expect(new Set(brandIds).size).toBe(3000);
    expect(partner.rows.map((r) => r[0]).sort()).toEqual([...brandIds].sort());
    for (const id of brandIds) expect(id).toMatch(/^h[0-9a-f]{16}$/);
    // The partner's file is in id order, not row order.
    const partnerIds = partner.rows.map((r) => r[0] ?? '');
    expect(partnerIds).toEqual([...partnerIds].sort());
    // "6) $750 - $1,000" holds the delimiter: it must come back as one field.
    expect(brand.rows.every((r) => r.length === BRAND_COLUMNS.length + 1)).toBe(true);
    expect(brand.rows.some((r) => r[2] === '6) $750 - $1,000')).toBe(true);
  });

  it('keeps data row 1 under the id both sides derive from its row number', async () => {
    const out = await splitHillstrom({ outDir: join(dir, 'all') });
    expect(out.rows).toBe(64_000);
    const first = (await readFile(out.brand, 'utf8')).split('\n')[1] ?? '';
    // Row 1 of hillstrom.csv: 10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0
    expect(first).toBe(`${hillstromId(1)},10,2) $100 - $200,142.44,0,Womens E-Mail,0,0,0`);
  });

  it('draws the same sample for the same seed and another for another seed', async () => {
    const again = await splitHillstrom({ outDir: join(dir, 'b'), sample: 3000, seed: 7 });
    const other = await splitHillstrom({ outDir: join(dir, 'c'), sample: 3000, seed: 8 });
    const a = await readFile(join(dir, 'a', 'brand.csv'));
    expect(a.equals(await readFile(again.brand))).toBe(true);
    expect(a.equals(await readFile(other.brand))).toBe(false);
  });
});
