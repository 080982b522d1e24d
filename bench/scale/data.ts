/**
 * Seeded synthetic data for the `scale` benchmark: a guest file (id, label,
 * guest features) and a host file (id, host features) with `ids` rows each,
 * of which a fraction `overlap` share an id, written as CSV in one streaming
 * pass, plus the aligned rows' matrices for the plaintext reference.
 *
 * Row k of a "universe" of ids draws its guest and host features (standard
 * normal) and a label from a logistic model on all of them; the guest holds
 * universe rows [0, ids), the host rows [ids − shared, 2·ids − shared).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Random, seedFrom } from '../../protocol/random.ts';
import type { PartyMatrix } from '../../protocol/training/hetero-lr-plain.ts';

export type SyntheticShape = {
  /** Ids per party. */
  readonly ids: number;
  /** Fraction of each party's ids the other party also holds. */
  readonly overlap: number;
  readonly guestFeatures: number;
  readonly hostFeatures: number;
  readonly seed: string;
};

export type SyntheticData = {
  readonly guestFile: string;
  readonly hostFile: string;
  readonly shared: number;
  /** The shared rows, in universe order (the plaintext reference trains on these). */
  readonly guest: PartyMatrix;
  readonly host: PartyMatrix;
  readonly labels: Float64Array;
  readonly bytes: { readonly guest: number; readonly host: number };
};

/** Buffers text and writes it in ~1 MiB pieces, honouring the stream's backpressure. */
class CsvOut {
  readonly #stream: WriteStream;
  #parts: string[] = [];
  #length = 0;
  bytes = 0;

  constructor(file: string) {
    this.#stream = createWriteStream(file);
  }

  async line(text: string): Promise<void> {
    this.#parts.push(text);
    this.#length += text.length + 1;
    if (this.#length >= 1 << 20) await this.#flush();
  }

  async #flush(): Promise<void> {
    const chunk = `${this.#parts.join('\n')}\n`;
    this.#parts = [];
    this.#length = 0;
    this.bytes += Buffer.byteLength(chunk);
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.#parts.length > 0) await this.#flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

export async function writeSynthetic(
  shape: SyntheticShape,
  guestFile: string,
  hostFile: string,
  onProgress: (rows: number, total: number) => void,
): Promise<SyntheticData> {
  const { ids, guestFeatures: gf, hostFeatures: hf } = shape;
  const shared = Math.round(ids * shape.overlap);
  const universe = 2 * ids - shared;
  const hostFrom = ids - shared;
  const weights = new Random(seedFrom(shape.seed, 'weights'));
  const w = Float64Array.from({ length: gf + hf }, () => (weights.nextGaussian() / Math.sqrt(gf + hf)) * 2);
  const random = new Random(seedFrom(shape.seed, 'rows'));
  const guest = new CsvOut(guestFile);
  const host = new CsvOut(hostFile);
  await guest.line(['id', 'y', ...Array.from({ length: gf }, (_, j) => `g${j}`)].join(','));
  await host.line(['id', ...Array.from({ length: hf }, (_, j) => `h${j}`)].join(','));
  const G = new Float64Array(shared * gf);
  const H = new Float64Array(shared * hf);
  const labels = new Float64Array(shared);
  const g = new Float64Array(gf);
  const h = new Float64Array(hf);
  const cell = (v: number): string => v.toFixed(3);
  for (let k = 0; k < universe; k++) {
    let z = 0;
    for (let j = 0; j < gf; j++) z += (g[j] = random.nextGaussian()) * (w[j] ?? 0);
    for (let j = 0; j < hf; j++) z += (h[j] = random.nextGaussian()) * (w[gf + j] ?? 0);
    const y = random.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    const id = `u${k}`;
    if (k < ids) await guest.line(`${id},${y},${Array.from(g, cell).join(',')}`);
    if (k >= hostFrom) await host.line(`${id},${Array.from(h, cell).join(',')}`);
    if (k >= hostFrom && k < ids) {
      const r = k - hostFrom;
      // The parties read the rounded text; the reference trains on the same values.
      for (let j = 0; j < gf; j++) G[r * gf + j] = Number(cell(g[j] ?? 0));
      for (let j = 0; j < hf; j++) H[r * hf + j] = Number(cell(h[j] ?? 0));
      labels[r] = y;
    }
    if ((k & 0xffff) === 0) onProgress(k, universe);
  }
  await guest.close();
  await host.close();
  return {
    guestFile,
    hostFile,
    shared,
    guest: { X: G, columns: gf },
    host: { X: H, columns: hf },
    labels,
    bytes: { guest: guest.bytes, host: host.bytes },
  };
}
