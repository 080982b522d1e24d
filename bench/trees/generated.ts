/**
 * The generated wide set for the trees benchmark: 100k people, the
 * brand with 10 columns and the label, the partner with 100 columns. The
 * label needs both sides and is not linear (thresholds and an interaction
 * across parties), so trees on all columns beat the brand's own model and
 * LR; most partner columns are noise or noisy copies, as in a real wide
 * table. Seeded: the same files on every run.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Random } from '../../protocol/random.ts';

export const WIDE = { rows: 100_000, guestColumns: 10, hostColumns: 100 } as const;

async function writeLines(file: string, header: string, rows: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file, { mode: 0o600 });
  out.write(`${header}\n`);
  for (let i = 0; i < rows; i++) if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const cell = (v: number): string => (Number.isNaN(v) ? '' : v.toFixed(4));

/** Writes wide_guest.csv (id, y, g0…) and wide_host.csv (id, h0…) into `dir`; returns their paths. */
export async function writeWideSet(
  dir: string,
  shape: { rows: number; guestColumns: number; hostColumns: number } = WIDE,
): Promise<{ guest: string; host: string }> {
  const { rows, guestColumns: gc, hostColumns: hc } = shape;
  const random = new Random('bench/trees/wide');
  const G = Float64Array.from({ length: rows * gc }, () => random.nextGaussian());
  const H = Float64Array.from({ length: rows * hc }, () => random.nextGaussian());
  // Partner columns 10… are noisy copies of its first ten, and 2 % of its cells are missing.
  for (let i = 0; i < rows; i++)
    for (let c = 10; c < hc; c++) {
      const at = i * hc + c;
      H[at] = random.nextFloat() < 0.02 ? Number.NaN : 0.6 * (H[i * hc + (c % 10)] ?? 0) + 0.8 * (H[at] ?? 0);
    }
  const y = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const g = (c: number): number => G[i * gc + c] ?? 0;
    const h = (c: number): number => H[i * hc + c] ?? 0;
    const f =
      0.8 * (g(0) > 0 ? 1 : 0) +
      0.5 * g(1) -
      0.9 * (g(2) > 0.5 && h(0) > 0 ? 1 : 0) +
      1.1 * (h(1) > 0.3 ? 1 : 0) +
      0.7 * h(2) * (h(3) > 0 ? 1 : 0) +
      0.6 * Math.sin(2 * h(4)) -
      0.9;
    y[i] = random.nextFloat() < 1 / (1 + Math.exp(-f)) ? 1 : 0;
  }
  const id = (i: number): string => `p${String(i).padStart(6, '0')}`;
  const guest = join(dir, 'wide_guest.csv');
  const host = join(dir, 'wide_host.csv');
  const gNames = Array.from({ length: gc }, (_, c) => `g${c}`);
  const hNames = Array.from({ length: hc }, (_, c) => `h${c}`);
  await writeLines(guest, ['id', 'y', ...gNames].join(','), rows, (i) =>
    [id(i), String(y[i]), ...gNames.map((_, c) => cell(G[i * gc + c] ?? 0))].join(','),
  );
  // The partner's file in another order: alignment is PSI's job.
  const order = random.permutation(rows);
  await writeLines(host, ['id', ...hNames].join(','), rows, (k) => {
    const i = order[k] ?? 0;
    return [id(i), ...hNames.map((_, c) => cell(H[i * hc + c] ?? 0))].join(',');
  });
  return { guest, host };
}
