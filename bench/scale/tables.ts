/**
 * The `scale` benchmark's result type and its tables (bench/scale.ts runs
 * the measurements).
 */
import type { Cell, Table } from '../harness.ts';
import type { WireBytes } from '../lr/wire-bytes.ts';
import type { RoleUsage } from './processes.ts';
import type { CkksStep, PaillierStep } from './paillier.ts';
import type { Choices } from './choices.ts';

export const GUEST = 'brand';
export const HOST = 'partner';
export const ROLES = ['coordinator', GUEST, HOST] as const;
export const GUEST_FEATURES = 10;
export const HOST_FEATURES = 100;
export const SEED = 'bench-scale';
export const MB = 1e6;
export const MIB = 2 ** 20;

export type Role = (typeof ROLES)[number];
export type Usage = Record<Role, RoleUsage>;

export type SizeResult = {
  readonly ids: number;
  readonly shared: number;
  readonly trainRows: number | null;
  readonly stage: string;
  readonly message: string;
  readonly generateSeconds: number;
  readonly csvBytes: { readonly guest: number; readonly host: number };
  readonly loadSeconds: number | null;
  readonly psiSeconds: number | null;
  readonly psiCoreSeconds: number | null;
  readonly passes: number;
  readonly secondsPerPass: number | null;
  readonly coreSecondsPerPass: number | null;
  readonly cpuByRole: Record<Role, number> | null;
  readonly peakRssMiB: Record<Role, number>;
  readonly bytes: WireBytes | null;
  readonly plainSecondsPerPass: number | null;
  readonly plainEpochsToConverge: number | null;
  readonly loadAverage: readonly number[];
};

function perPass(bytes: WireBytes | null, role: 'guest' | 'host' | 'coordinator', passes: number): number | null {
  if (bytes === null || passes === 0) return null;
  return bytes.sentBy[role] / MB / passes;
}

export function scaleTable(results: readonly SizeResult[]): Table {
  return {
    title: 'PSI and encrypted hetero-LR by size',
    description: [
      '*ids* per party, *shared* = ids both hold (the PSI output and the rows trained on, less the 20 % validation split).',
      '*PSI s* is wall time of the PSI phase; *PSI core-s* the CPU seconds all three processes spent in it (2 cores: at most 2 per wall second).',
      '*s/pass*, *core-s/pass*: the training phase divided by the passes over the training rows. *MB/pass* by the role that sent it (training and PSI bytes together, per pass),',
      '*peak RSS* = VmHWM of each process over the whole run (loading, PSI, training). *plain s/pass*: the plaintext twin of the same algorithm, one thread, no wire.',
      '*enc/plain* = s/pass ÷ plain s/pass. *est. convergence s* = s/pass × epochs the plaintext twin needs with the default early stopping.',
    ].join(' '),
    columns: [
      { key: 'ids', label: 'ids' },
      { key: 'shared', label: 'shared' },
      { key: 'load', label: 'load s', digits: 1 },
      { key: 'psi', label: 'PSI s', digits: 1 },
      { key: 'psiCores', label: 'PSI core-s', digits: 1 },
      { key: 'psiMB', label: 'PSI MB', digits: 1 },
      { key: 'train', label: 'train rows' },
      { key: 'pass', label: 's/pass', digits: 1 },
      { key: 'passCores', label: 'core-s/pass', digits: 1 },
      { key: 'guestMB', label: 'guest MB/pass', digits: 1 },
      { key: 'hostMB', label: 'host MB/pass', digits: 1 },
      { key: 'coordMB', label: 'coord. MB/pass', digits: 2 },
      { key: 'rssCoord', label: 'peak RSS coord. MiB', digits: 0 },
      { key: 'rssGuest', label: 'peak RSS guest MiB', digits: 0 },
      { key: 'rssHost', label: 'peak RSS host MiB', digits: 0 },
      { key: 'plain', label: 'plain s/pass', digits: 2 },
      { key: 'ratio', label: 'enc/plain', digits: 0 },
      { key: 'converge', label: 'est. convergence s', digits: 0 },
      { key: 'status', label: 'job' },
    ],
    rows: results.map((r) => ({
      ids: r.ids,
      shared: r.shared,
      load: r.loadSeconds,
      psi: r.psiSeconds,
      psiCores: r.psiCoreSeconds,
      psiMB: r.bytes === null ? null : r.bytes.byGroup.psi / MB,
      train: r.trainRows,
      pass: r.secondsPerPass,
      passCores: r.coreSecondsPerPass,
      guestMB: perPass(r.bytes, 'guest', r.passes),
      hostMB: perPass(r.bytes, 'host', r.passes),
      coordMB: perPass(r.bytes, 'coordinator', r.passes),
      rssCoord: r.peakRssMiB.coordinator,
      rssGuest: r.peakRssMiB[GUEST],
      rssHost: r.peakRssMiB[HOST],
      plain: r.plainSecondsPerPass,
      ratio:
        r.secondsPerPass !== null && r.plainSecondsPerPass !== null ? r.secondsPerPass / r.plainSecondsPerPass : null,
      converge:
        r.secondsPerPass !== null && r.plainEpochsToConverge !== null
          ? r.secondsPerPass * r.plainEpochsToConverge
          : null,
      status: r.stage === 'completed' ? `completed, ${r.passes} passes` : `${r.stage}: ${r.message}`,
    })),
  };
}

export function cpuTable(results: readonly SizeResult[]): Table {
  return {
    title: 'CPU seconds per pass by role',
    description:
      'From /proc/<pid>/stat (user + system, all threads) of each process between the start and the end of the training phase, divided by the passes.',
    columns: [
      { key: 'ids', label: 'ids' },
      { key: 'coordinator', label: 'coordinator core-s', digits: 1 },
      { key: 'guest', label: 'guest core-s', digits: 1 },
      { key: 'host', label: 'host core-s', digits: 1 },
    ],
    rows: results.map((r) => ({
      ids: r.ids,
      coordinator: r.cpuByRole?.coordinator ?? null,
      guest: r.cpuByRole?.[GUEST] ?? null,
      host: r.cpuByRole?.[HOST] ?? null,
    })),
  };
}

export function paillierTable(results: readonly SizeResult[], paillier: PaillierStep, ckks: CkksStep): Table {
  const rows: Record<string, Cell>[] = results.flatMap((r) => {
    if (r.trainRows === null) return [];
    const p = paillier.passSeconds(r.trainRows);
    const c = ckks.passSeconds(r.trainRows);
    return [
      {
        rows: r.trainRows,
        paillier: p,
        ckks: c,
        ratio: p / c,
        federated: r.secondsPerPass,
        ratioFederated: r.secondsPerPass === null ? null : p / r.secondsPerPass,
      },
    ];
  });
  return {
    title: 'One pass of gradient steps: per-value Paillier (FATE) vs batched CKKS (Tandem)',
    description: [
      `Paillier timed on ${paillier.sampleRows} rows (2048-bit keys, one thread) and extrapolated: per-row cost × rows + 2 decryptions per feature per ${ckks.batchRows}-row mini-batch.`,
      `*CKKS step*: the protocol's per-batch operations on one ${ckks.batchRows}-row batch of the same data, one thread, no wire, × batches.`,
      '*ratio* = Paillier ÷ CKKS step (same work, same thread count). *federated s/pass* is the measured job (all roles, wire, both cores) and *ratio (federated)* Paillier ÷ that.',
    ].join(' '),
    columns: [
      { key: 'rows', label: 'train rows' },
      { key: 'paillier', label: 'Paillier s/pass (extrapolated)', digits: 0 },
      { key: 'ckks', label: 'CKKS step s/pass', digits: 1 },
      { key: 'ratio', label: 'ratio', digits: 0 },
      { key: 'federated', label: 'federated s/pass', digits: 1 },
      { key: 'ratioFederated', label: 'ratio (federated)', digits: 0 },
    ],
    rows,
  };
}

export function stepTable(paillier: PaillierStep, ckks: CkksStep): Table {
  const perRow = (s: number): number => s * 1e3;
  return {
    title: 'Where the time of one step goes (ms, one thread)',
    columns: [
      { key: 'scheme', label: 'scheme' },
      { key: 'what', label: 'operation' },
      { key: 'ms', label: 'ms', digits: 3 },
      { key: 'per', label: 'per' },
    ],
    rows: [
      { scheme: 'Paillier', what: 'host encrypts 0.25·u', ms: perRow(paillier.perRow.encrypt), per: 'row' },
      { scheme: 'Paillier', what: 'guest adds its part of d', ms: perRow(paillier.perRow.residual), per: 'row' },
      {
        scheme: 'Paillier',
        what: `guest Σ d·x, ${GUEST_FEATURES} features`,
        ms: perRow(paillier.perRow.guestSums),
        per: 'row',
      },
      {
        scheme: 'Paillier',
        what: `host Σ d·x, ${HOST_FEATURES} features`,
        ms: perRow(paillier.perRow.hostSums),
        per: 'row',
      },
      { scheme: 'Paillier', what: 'decrypt one sum', ms: perRow(paillier.decrypt), per: 'feature × 2 per batch' },
      {
        scheme: 'CKKS',
        what: 'host: encrypt basis + Σ d·x',
        ms: perRow(ckks.host),
        per: `${ckks.batchRows}-row batch`,
      },
      {
        scheme: 'CKKS',
        what: 'guest: residual, loss, Σ d·x',
        ms: perRow(ckks.guest),
        per: `${ckks.batchRows}-row batch`,
      },
      {
        scheme: 'CKKS',
        what: 'coordinator: masked decryptions',
        ms: perRow(ckks.coordinator),
        per: `${ckks.batchRows}-row batch`,
      },
      { scheme: 'CKKS', what: 'whole step', ms: perRow(ckks.total) / ckks.batchRows, per: 'row' },
      { scheme: 'Paillier', what: 'whole step (without decryptions)', ms: perRow(paillier.perRow.total), per: 'row' },
    ],
  };
}

export function choicesTable(choices: Choices, results: readonly SizeResult[]): Table {
  const largest = results.reduce<SizeResult | undefined>(
    (a, r) => (a === undefined || (r.trainRows ?? 0) > (a.trainRows ?? 0) ? r : a),
    undefined,
  );
  const rows = largest?.trainRows ?? 0;
  const preEncodedGiB = (Math.ceil(rows / 4096) * HOST_FEATURES * choices.plaintextBytes) / 2 ** 30;
  return {
    title: 'Packing and protocol choices (one 4,096-slot chunk, one thread, median ms)',
    description: [
      'The inner sum of one feature column by masked decryption (Tandem) or by rotations; a feature column encoded on the fly or pre-encoded;',
      `ciphertext compression. Keeping every host column pre-encoded for ${rows.toLocaleString('en-US')} training rows would take ${preEncodedGiB.toFixed(1)} GiB`,
      `(${choices.plaintextBytes.toLocaleString('en-US')} bytes per plaintext at the residual level × ${HOST_FEATURES} columns × chunks), and mini-batches are reshuffled every epoch.`,
    ].join(' '),
    columns: [
      { key: 'group', label: 'choice' },
      { key: 'what', label: 'operation' },
      { key: 'ms', label: 'ms', digits: 2 },
      { key: 'note', label: 'note' },
    ],
    rows: choices.rows,
  };
}

export function batchTable(byBatch: ReadonlyArray<{ batch: number; step: CkksStep }>): Table {
  return {
    title: 'Mini-batch size: CKKS step cost per row (one thread, no wire)',
    description:
      'Every mini-batch pays whole ciphertexts (4,096 slots) and one masked decryption per feature, so below 4,096 rows a batch costs almost as much as a full one.',
    columns: [
      { key: 'batch', label: 'batch rows' },
      { key: 'perBatch', label: 'ms per batch', digits: 0 },
      { key: 'perRow', label: 'µs per row', digits: 0 },
      { key: 'passPerMillion', label: 's per pass per 10⁶ rows', digits: 0 },
    ],
    rows: [...byBatch]
      .sort((a, b) => a.batch - b.batch)
      .map(({ batch, step }) => ({
        batch,
        perBatch: step.total * 1e3,
        perRow: (step.total / step.batchRows) * 1e6,
        passPerMillion: step.passSeconds(1e6),
      })),
  };
}
