/**
 * What SecureBoost's per-row Paillier step would cost on the same histogram
 * (issue #18 asks for it side by side): 2048-bit Paillier from
 * `paillier-bigint`, its operations timed here (CPU ms of this thread), and a
 * depth-4 tree costed from them with the same shape as the secret-shared
 * timing: the guest encrypts g and h of every training row once per tree;
 * per directly histogrammed node the host adds each of its rows' ciphertexts
 * into one bin per column (for g and h); the guest decrypts every bin sum
 * of every such node. SecureBoost+ packs g and h into one plaintext, which
 * halves the encryptions and additions; both are shown.
 */
import * as paillier from 'paillier-bigint';
import { threadCpuMs, type Cell, type Progress, type Table } from '../harness.ts';

const DEPTH = 4;

export type PaillierRow = Record<string, Cell>;

function perOp(n: number, fn: (k: number) => unknown): number {
  const t0 = threadCpuMs();
  for (let k = 0; k < n; k++) fn(k);
  return (threadCpuMs() - t0) / n;
}

/** Times 2048-bit Paillier's operations, then costs one depth-4 tree for each shape (rows × host columns, `width` bins in all). */
export async function paillierTimings(
  shapes: readonly { rows: number; columns: number; width: number }[],
  quick: boolean,
  progress: Progress,
): Promise<PaillierRow[]> {
  progress.step('Paillier 2048-bit: key generation and operations');
  const { publicKey, privateKey } = await paillier.generateRandomKeys(2048);
  const n = quick ? 5 : 40;
  const values = Array.from({ length: n }, (_, k) => BigInt(1_000_000 + k));
  const ciphers = values.map((v) => publicKey.encrypt(v));
  const encryptMs = perOp(n, (k) => publicKey.encrypt(values[k] ?? 0n));
  const adds = quick ? 200 : 4000;
  let acc = ciphers[0] ?? 1n;
  const addMs = perOp(adds, (k) => (acc = publicKey.addition(acc, ciphers[k % n] ?? 1n)));
  const decryptMs = perOp(n, (k) => privateKey.decrypt(ciphers[k] ?? 1n));
  progress.done(
    `encrypt ${encryptMs.toFixed(2)} ms, add ${(addMs * 1000).toFixed(1)} µs, decrypt ${decryptMs.toFixed(2)} ms`,
  );
  // Rows the host touches per tree: the root (all rows), then the smaller child of each pair (about half the rows per level).
  const touched = (rows: number): number => rows + (DEPTH - 1) * (rows / 2);
  const directNodes = 1 + (2 ** (DEPTH - 1) - 1);
  return shapes.flatMap(({ rows, columns, width }) =>
    [false, true].map((packed) => {
      const vectors = packed ? 1 : 2;
      const guestMs = rows * vectors * encryptMs + directNodes * width * vectors * decryptMs;
      const hostMs = touched(rows) * columns * vectors * addMs;
      return {
        rows,
        columns,
        width,
        scheme: packed ? 'Paillier, g and h packed (SecureBoost+)' : 'Paillier, g and h apart (SecureBoost)',
        encryptMs,
        addUs: addMs * 1000,
        decryptMs,
        guestMs,
        hostMs,
        megabytes: (rows * vectors * 512 + directNodes * width * vectors * 512) / 1e6,
      };
    }),
  );
}

export function paillierTable(rows: readonly PaillierRow[]): Table {
  return {
    title: `Paillier (2048-bit) for the same histograms: one depth-${DEPTH} tree, one host, costed from timed operations`,
    description:
      'Operations timed in this thread (CPU ms); per tree the guest encrypts every training row\'s g and h (or both packed) and decrypts every bin sum of the directly histogrammed nodes, the host adds every touched row\'s ciphertext into one bin per column. Ciphertexts are 512 bytes. Compare the "one tree" rows of the secure-histogram table.',
    columns: [
      { key: 'rows', label: 'training rows' },
      { key: 'columns', label: 'host columns' },
      { key: 'width', label: 'bins' },
      { key: 'scheme', label: 'scheme' },
      { key: 'encryptMs', label: 'encrypt ms', digits: 2 },
      { key: 'addUs', label: 'add µs', digits: 1 },
      { key: 'decryptMs', label: 'decrypt ms', digits: 2 },
      { key: 'guestMs', label: 'guest ms per tree', digits: 0 },
      { key: 'hostMs', label: 'host ms per tree', digits: 0 },
      { key: 'megabytes', label: 'MB per tree', digits: 1 },
    ],
    rows,
  };
}
