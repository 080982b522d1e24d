/**
 * One gradient step of vertical LR, per value with Paillier (FATE's
 * hetero-LR) and batched with Tandem's CKKS, on the same rows, in this
 * process, one thread each, so the ratio compares the cryptography alone.
 *
 * Paillier (paillier-bigint, 2048-bit n, g = n + 1 as in FATE's and
 * python-paillier's keys), per row i of a mini-batch:
 *   host   [[0.25·uᵢ]]                         one encryption
 *   guest  [[dᵢ]] = [[0.25·uᵢ]] ⊕ (0.25·aᵢ + 0.5 − yᵢ)   one plaintext addition
 *   guest  Σᵢ [[dᵢ]]·xᵢⱼ for its 10 features     one scalar multiply + add each
 *   host   Σᵢ [[dᵢ]]·xᵢⱼ for its 100 features    one scalar multiply + add each
 * and per mini-batch the key holder decrypts every feature's sum. Values are
 * fixed point (2^32 for d, 2^24 for x, exponents of ≤ 28 bits, smaller than
 * FATE's 53-bit mantissas). Negative numbers would make exponents 2048-bit
 * (x ↦ n − |x|); to give Paillier its best case, d is kept positive by a
 * public offset the host removes after decryption (it knows Σᵢ xᵢⱼ), and
 * each feature sum is split into Σ over positive and over negative xᵢⱼ,
 * decrypted separately (two decryptions per feature). The decrypted sums are
 * checked against plaintext, so only working operations are timed.
 *
 * CKKS: the protocol's real per-mini-batch operations (models/lr/train.ts)
 * on one 4,096-row batch of the same data: the host's basis encryptions, the
 * guest's residual and loss combines, both parties' masked weighted sums and
 * the key holder's masked decryptions.
 *
 * Times are CPU seconds of this thread (one thread does all the work).
 */
import { generateRandomKeys } from 'paillier-bigint';
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../../protocol/he/params.ts';
import { compileLink, hostBasis, lossTerms, residualTerms } from '../../protocol/training/chebyshev-link.ts';
import { columnSlice, partialLogits } from '../../protocol/training/plan.ts';
import type { PartyMatrix } from '../../protocol/training/hetero-lr-plain.ts';
import { median, threadCpuMs } from '../harness.ts';

const D_SCALE = 2 ** 32;
const X_SCALE = 2 ** 24;
/** Public offset that keeps every dᵢ positive (|0.25·z + 0.5 − y| is far below it for these data). */
const D_OFFSET = 64;

export type StepInputs = {
  readonly guest: PartyMatrix;
  readonly host: PartyMatrix;
  readonly labels: Float64Array;
  readonly batchRows: number;
};

export type PaillierStep = {
  readonly keyBits: number;
  readonly sampleRows: number;
  /** Seconds per row: encryption, residual, guest and host weighted sums. */
  readonly perRow: {
    readonly encrypt: number;
    readonly residual: number;
    readonly guestSums: number;
    readonly hostSums: number;
    readonly total: number;
  };
  /** Seconds per decryption (the key holder decrypts 2 per feature per mini-batch). */
  readonly decrypt: number;
  /** Largest |decrypted − plaintext| of the sample's gradient sums. */
  readonly maxError: number;
  /** Seconds for one pass over `rows` rows at `batchRows` rows per mini-batch. */
  passSeconds(rows: number): number;
};

export type CkksStep = {
  readonly batchRows: number;
  /** Median seconds per mini-batch, by role, over the repetitions. */
  readonly host: number;
  readonly guest: number;
  readonly coordinator: number;
  readonly total: number;
  readonly maxError: number;
  passSeconds(rows: number): number;
};

function fixed(value: number, scale: number): bigint {
  return BigInt(Math.round(value * scale));
}

/** Both schemes are timed in CPU seconds of this thread, so load from other processes does not skew the ratio. */
const now = threadCpuMs;

function seconds(t0: number): number {
  return (now() - t0) / 1000;
}

/** Residual dᵢ of FATE's first-order Taylor rule on rows [0, rows). */
function taylorParts(inputs: StepInputs, rows: number): { hostQuarter: Float64Array; guestPart: Float64Array } {
  const index = Uint32Array.from({ length: rows }, (_, i) => i);
  const wg = Float64Array.from({ length: inputs.guest.columns }, (_, j) => ((j % 5) - 2) / 10);
  const wh = Float64Array.from({ length: inputs.host.columns }, (_, j) => ((j % 7) - 3) / 30);
  const a = partialLogits(inputs.guest.X, inputs.guest.columns, index, wg, 0.1);
  const u = partialLogits(inputs.host.X, inputs.host.columns, index, wh);
  return {
    hostQuarter: u.map((v) => 0.25 * v),
    guestPart: Float64Array.from(a, (v, i) => 0.25 * v + 0.5 - (inputs.labels[i] ?? 0)),
  };
}

export async function paillierStep(inputs: StepInputs, sampleRows: number): Promise<PaillierStep> {
  const { publicKey: pk, privateKey: sk } = await generateRandomKeys(2048, true);
  const n = sampleRows;
  const { hostQuarter, guestPart } = taylorParts(inputs, n);
  let t0 = now();
  const encrypted = Array.from(hostQuarter, (v) => pk.encrypt(fixed(v + D_OFFSET / 2, D_SCALE)));
  const encrypt = seconds(t0);
  t0 = now();
  const residual = encrypted.map((c, i) => pk.plaintextAddition(c, fixed((guestPart[i] ?? 0) + D_OFFSET / 2, D_SCALE)));
  const residualSeconds = seconds(t0);
  const weightedSums = (party: PartyMatrix): { positive: bigint[]; negative: bigint[] } => {
    const positive = new Array<bigint>(party.columns).fill(1n);
    const negative = new Array<bigint>(party.columns).fill(1n);
    for (let i = 0; i < n; i++) {
      const c = residual[i] as bigint;
      for (let j = 0; j < party.columns; j++) {
        const x = party.X[i * party.columns + j] ?? 0;
        const k = fixed(Math.abs(x), X_SCALE);
        if (k === 0n) continue;
        const acc = x > 0 ? positive : negative;
        acc[j] = pk.addition(acc[j] as bigint, pk.multiply(c, k));
      }
    }
    return { positive, negative };
  };
  t0 = now();
  const guestSums = weightedSums(inputs.guest);
  const guestSeconds = seconds(t0);
  t0 = now();
  const hostSums = weightedSums(inputs.host);
  const hostSeconds = seconds(t0);

  // Decrypt every host sum (timed) and check both parties' against plaintext.
  const dPlain = Float64Array.from(hostQuarter, (v, i) => v + (guestPart[i] ?? 0));
  let maxError = 0;
  const decryptTimes: number[] = [];
  const check = (party: PartyMatrix, sums: { positive: bigint[]; negative: bigint[] }, time: boolean): void => {
    for (let j = 0; j < party.columns; j++) {
      t0 = now();
      const p = sk.decrypt(sums.positive[j] as bigint);
      const q = sk.decrypt(sums.negative[j] as bigint);
      if (time) decryptTimes.push(seconds(t0) / 2);
      let sumX = 0;
      let expected = 0;
      for (let i = 0; i < n; i++) {
        const x = party.X[i * party.columns + j] ?? 0;
        sumX += Number(fixed(Math.abs(x), X_SCALE)) * Math.sign(x);
        expected += (dPlain[i] ?? 0) * x;
      }
      const got = (Number(p - q) - D_OFFSET * D_SCALE * sumX) / (D_SCALE * X_SCALE);
      maxError = Math.max(maxError, Math.abs(got - expected));
    }
  };
  check(inputs.guest, guestSums, false);
  check(inputs.host, hostSums, true);
  if (!(maxError < 1e-3)) throw new Error(`Paillier gradient sums differ from plaintext by ${maxError}`);
  const perRow = {
    encrypt: encrypt / n,
    residual: residualSeconds / n,
    guestSums: guestSeconds / n,
    hostSums: hostSeconds / n,
    total: (encrypt + residualSeconds + guestSeconds + hostSeconds) / n,
  };
  const decrypt = median(decryptTimes);
  const features = inputs.guest.columns + inputs.host.columns;
  return {
    keyBits: 2048,
    sampleRows: n,
    perRow,
    decrypt,
    maxError,
    passSeconds: (rows) => perRow.total * rows + Math.ceil(rows / inputs.batchRows) * 2 * features * decrypt,
  };
}

export async function ckksStep(inputs: StepInputs, reps: number): Promise<CkksStep> {
  const suite = await CkksSuite.create(DEFAULT_CKKS_PARAMS);
  const keys = new CkksKeyHolder(suite);
  const enc = new CkksEncryptor(suite, keys.publicKey);
  const link = compileLink({});
  const rows = Math.min(inputs.batchRows, suite.slots);
  const index = Uint32Array.from({ length: rows }, (_, i) => i);
  const wg = Float64Array.from({ length: inputs.guest.columns }, (_, j) => ((j % 5) - 2) / 10);
  const wh = Float64Array.from({ length: inputs.host.columns }, (_, j) => ((j % 7) - 3) / 30);
  const y = inputs.labels.subarray(0, rows);
  const column =
    (party: PartyMatrix) =>
    (_c: number, j: number): Float64Array =>
      columnSlice(party.X, party.columns, index, j, 0, rows);
  const samples = { host: [] as number[], guest: [] as number[], coordinator: [] as number[] };
  let maxError = 0;
  try {
    for (let rep = 0; rep < reps + 1; rep++) {
      let t0 = now();
      const basis = hostBasis(link, partialLogits(inputs.host.X, inputs.host.columns, index, wh)).map((v) =>
        enc.encrypt(v),
      );
      let host = seconds(t0);
      t0 = now();
      const a = partialLogits(inputs.guest.X, inputs.guest.columns, index, wg, 0.1);
      const r = residualTerms(link, a, y, 1);
      const l = lossTerms(link, a, y, 1);
      const residual = suite.combine(basis, [...r.coefficients], r.constant, enc);
      suite.combine(basis, [...l.coefficients], l.constant, enc);
      const guestMasked = suite.maskedWeightedSums([residual], inputs.guest.columns, column(inputs.guest), enc);
      guestMasked.push(suite.maskedSum([residual], 'residual'));
      const guest = seconds(t0);
      t0 = now();
      const hostMasked = suite.maskedWeightedSums([residual], inputs.host.columns, column(inputs.host), enc);
      host += seconds(t0);
      t0 = now();
      const answers = [...guestMasked, ...hostMasked].map((m) => keys.maskedConstant(m.ciphertext));
      const coordinator = seconds(t0);
      if (rep === 0) {
        // Warm-up repetition: check the host's sums against plaintext instead of timing it.
        const basisPlain = hostBasis(link, partialLogits(inputs.host.X, inputs.host.columns, index, wh));
        const d = Float64Array.from(
          r.constant,
          (c, i) => c + r.coefficients.reduce((s, coef, k) => s + (coef[i] ?? 0) * (basisPlain[k]?.[i] ?? 0), 0),
        );
        hostMasked.forEach((m, j) => {
          const got = suite.unmask(answers[guestMasked.length + j] ?? 0n, m);
          const expected = column(inputs.host)(0, j).reduce((s, x, i) => s + x * (d[i] ?? 0), 0);
          maxError = Math.max(maxError, Math.abs(got - expected));
        });
        continue;
      }
      samples.host.push(host);
      samples.guest.push(guest);
      samples.coordinator.push(coordinator);
    }
  } finally {
    enc.dispose();
    keys.dispose();
    suite.dispose();
  }
  if (!(maxError < 1e-2)) throw new Error(`CKKS gradient sums differ from plaintext by ${maxError}`);
  const host = median(samples.host);
  const guest = median(samples.guest);
  const coordinator = median(samples.coordinator);
  const total = host + guest + coordinator;
  return { batchRows: rows, host, guest, coordinator, total, maxError, passSeconds: (n) => (total * n) / rows };
}
