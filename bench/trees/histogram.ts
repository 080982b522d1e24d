/**
 * How the secret-shared histogram scales with training rows and the host's
 * width: one host with 10 or 100 columns of 32 quantile bins, the guest,
 * host and dealer arithmetic of models/trees/secure-histogram.ts run in
 * this thread (no transport), per tree level of a depth-4 tree, beside the
 * plaintext histogram of the same nodes (what the twin computes). The
 * host's and the dealer's work is dense (every training row, every vector),
 * so it grows with rows × bins × the nodes a level histograms directly; the
 * guest's only with the rows in those nodes. Times are CPU time of this
 * thread (other load on the machine does not inflate them); bytes are what
 * the level puts on the wire.
 */
import { Random } from '../../protocol/random.ts';
import { binRows, fitEdges, layoutOf } from '../../models/trees/core/binning.ts';
import { splitBits } from '../../models/trees/core/local-party.ts';
import { histogramOf } from '../../models/trees/core/histogram.ts';
import type { NodeVectors } from '../../models/trees/core/booster.ts';
import {
  combineShares,
  dealShares,
  guestShares,
  hostShares,
  maskedBins,
  maskLabels,
  maskVectors,
  type HostTables,
} from '../../models/trees/secure-histogram.ts';
import { blockCount, heldMatrix, seededMatrix } from '../../models/trees/share-matrix.ts';
import { cpuTimeIt, threadCpuMs, type Cell, type Progress, type Table } from '../harness.ts';

export const MAX_BINS = 32;

/** A histogram shape: training rows × the host's columns. */
export type Shape = { readonly rows: number; readonly columns: number };
const DEPTH = 4;
const MB = 1e6;

/**
 * CPU milliseconds per call of `fn` and its result: one call when it takes
 * long enough for the thread clock (which ticks every few ms), else the
 * median of blocks of repeated calls (harness `cpuTimeIt`).
 */
function cpuMs<T>(fn: () => T): { ms: number; value: T } {
  const t0 = threadCpuMs();
  const value = fn();
  const once = threadCpuMs() - t0;
  return { ms: once >= 200 ? once : cpuTimeIt(fn, 1, 3, 0).medianMs, value };
}

/** The direct (histogrammed, not derived) nodes of level `level`: the root, then the smaller child of each pair, about rows / 2^level rows each. */
function levelNodes(rows: number, level: number, random: Random): NodeVectors[] {
  const count = level === 0 ? 1 : 2 ** (level - 1);
  const size = level === 0 ? rows : Math.floor(rows / 2 ** level);
  const order = random.permutation(rows);
  return Array.from({ length: count }, (_, j) => {
    const positions = Uint32Array.from(order.subarray(j * size, (j + 1) * size)).sort();
    const g = new Int32Array(rows);
    const h = new Int32Array(rows);
    // Quantised gradients as the booster makes them: signed g, positive h, well below 2^31 in sum.
    for (const p of positions) {
      g[p] = random.nextInt(2_000_001) - 1_000_000;
      h[p] = 1 + random.nextInt(250_000);
    }
    return { positions, g, h };
  });
}

export type HistogramRow = Record<string, Cell>;

/** Times setup and each level of a depth-4 tree at each shape; a row per (shape, level) and a per-tree total. */
export function secureHistogramTimings(shapes: readonly Shape[], progress: Progress): HistogramRow[] {
  const out: HistogramRow[] = [];
  for (const { rows, columns } of shapes) {
    progress.step(`secure histogram, ${rows.toLocaleString('en-US')} training rows × ${columns} host columns`);
    const random = new Random(`bench/trees/histogram|${rows}|${columns}`);
    const X = Float64Array.from({ length: rows * columns }, () => random.nextGaussian());
    const train = Uint32Array.from({ length: rows }, (_, i) => i);
    const edges = fitEdges(X, columns, train, MAX_BINS);
    const t: HostTables = { codes: binRows(X, columns, edges), layout: layoutOf(edges), train, rows };
    const width = t.layout.total;
    const guestSeed = new Uint8Array(32).fill(3);
    const hostSeed = new Uint8Array(32).fill(5);

    progress.detail('setup: V and the masked bins');
    const v = cpuMs(() => seededMatrix(hostSeed, maskLabels.v, rows, width));
    const V = v.value;
    const masked = cpuMs(() =>
      heldMatrix(
        rows,
        width,
        Array.from({ length: blockCount(V) }, (_, k) => maskedBins(t, V, k)),
      ),
    );
    out.push({
      rows,
      columns,
      level: 'setup (once per job)',
      nodes: null,
      width,
      guestMs: null,
      hostMs: v.ms + masked.ms,
      dealerMs: v.ms,
      plainMs: null,
      megabytes: (rows * width * 4) / MB,
      memoryMB: (rows * width * 4) / MB,
      vHeld: V.held ? 'held' : 'redrawn',
    });

    const total = { guestMs: 0, hostMs: 0, dealerMs: 0, plainMs: 0, megabytes: 0 };
    let vector = 0;
    for (let level = 0; level < DEPTH; level++) {
      progress.detail(`level ${level}`);
      const nodes = levelNodes(rows, level, random);
      const xs = nodes.flatMap((n) => [n.g, n.h]);
      const first = vector;
      vector += xs.length;
      // The guest: x − u for the host, its own share (B − V)ᵀx over the nodes' rows, and the sum of the three shares.
      const sent = cpuMs(() => maskVectors(guestSeed, 'host', xs, first, rows));
      const own = cpuMs(() => guestShares(masked.value, nodes));
      const asVectors = xs.map((_, k) => new Int32Array(sent.value.buffer, k * rows * 4, rows));
      const host = cpuMs(() => hostShares(V, hostSeed, asVectors, first));
      const dealt = cpuMs(() => dealShares(guestSeed, 'host', hostSeed, V, first, xs.length));
      const combined = cpuMs(() => combineShares(own.value, dealt.value, host.value, width));
      // The plaintext twin's work for the same nodes: one pass over each node's rows.
      const plain = cpuMs(() => nodes.map((n) => histogramOf(t.codes, t.layout, n.positions, n.g, n.h)));
      // The splits of the level's 2^level nodes, if they are all on the host's columns: one bit per aligned row each.
      const splits = cpuMs(() =>
        Array.from({ length: 2 ** level }, (_, j) =>
          splitBits(t.codes, rows, columns, t.layout, {
            record: j,
            column: j % columns,
            bin: 10,
            missingLeft: false,
          }),
        ),
      );
      const guestMs = sent.ms + own.ms + combined.ms;
      const hostMs = host.ms + splits.ms;
      const bytes = xs.length * rows * 4 + 2 * xs.length * width * 4 + 2 ** level * Math.ceil(rows / 8);
      out.push({
        rows,
        columns,
        level: String(level),
        nodes: nodes.length,
        width,
        guestMs,
        hostMs,
        dealerMs: dealt.ms,
        plainMs: plain.ms,
        megabytes: bytes / MB,
        memoryMB: null,
        vHeld: null,
      });
      total.guestMs += guestMs;
      total.hostMs += hostMs;
      total.dealerMs += dealt.ms;
      total.plainMs += plain.ms;
      total.megabytes += bytes / MB;
    }
    const hostUsPerCell = (total.hostMs * 1000) / (rows * columns);
    out.push({
      rows,
      columns,
      level: `one tree (depth ${DEPTH})`,
      nodes: 2 ** (DEPTH - 1),
      width,
      ...total,
      memoryMB: null,
      vHeld: null,
      hostUsPerCell,
      ratio: (total.guestMs + total.hostMs + total.dealerMs) / total.plainMs,
    });
    progress.done(
      `one tree: guest ${total.guestMs.toFixed(0)} ms, host ${total.hostMs.toFixed(0)} ms (${hostUsPerCell.toFixed(2)} µs per row × column), dealer ${total.dealerMs.toFixed(0)} ms CPU, plaintext ${total.plainMs.toFixed(0)} ms, ${total.megabytes.toFixed(1)} MB`,
    );
  }
  return out;
}

export function histogramTable(rows: readonly HistogramRow[]): Table {
  return {
    title: `Secure histogram alone: one host with ${MAX_BINS}-bin columns, by training rows, host columns and tree level`,
    description: [
      'The arithmetic of models/trees/secure-histogram.ts for each role in this thread, no transport (CPU ms of this thread: one call when it takes 200 ms or more, else the median of three blocks of at least 200 ms).',
      '*setup*: once per job, the host draws V (rows × bins words) and sends B − V; the dealer draws the same V; *memory MB* is one such matrix: the guest holds B − V; the host and the dealer hold V up to 512 MiB (*V*: held) and redraw it from its seed on each use past that (*V*: redrawn, one 4 MiB block in memory).',
      'Levels of a depth-4 tree: *nodes* histogrammed directly (the root, then the smaller child of each pair; the larger is parent − sibling), each with its g and h vector;',
      "*guest ms*: masking the vectors (x − u), its share over the nodes' rows, and adding the three shares; *host ms*: Vᵀ(x − u) + z over every training row, and the split bits of the level's 2^level nodes;",
      "*dealer ms*: Vᵀu − z; *plaintext ms*: the twin's histograms of the same nodes. *MB* per level: masked vectors (4 bytes × rows each), the two shares back, and one bit per row per split. *one tree* is the sum of the levels, with the host's CPU µs per training row × host column and the three roles' CPU over the plaintext's (*× plaintext*).",
    ].join(' '),
    columns: [
      { key: 'rows', label: 'training rows' },
      { key: 'columns', label: 'host columns' },
      { key: 'level', label: 'level' },
      { key: 'nodes', label: 'nodes' },
      { key: 'width', label: 'bins' },
      { key: 'guestMs', label: 'guest ms', digits: 0 },
      { key: 'hostMs', label: 'host ms', digits: 0 },
      { key: 'dealerMs', label: 'dealer ms', digits: 0 },
      { key: 'plainMs', label: 'plaintext ms', digits: 0 },
      { key: 'hostUsPerCell', label: 'host µs per row × column', digits: 2 },
      { key: 'ratio', label: '× plaintext', digits: 0 },
      { key: 'megabytes', label: 'MB', digits: 2 },
      { key: 'memoryMB', label: 'memory MB', digits: 0 },
      { key: 'vHeld', label: 'V' },
    ],
    rows,
  };
}
