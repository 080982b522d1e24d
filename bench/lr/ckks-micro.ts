/**
 * CKKS micro-benchmarks of the operations one mini-batch chunk (4,096 rows at
 * N = 8192) costs, with the protocol's default parameters. Every timed call
 * goes through the same CkksSuite methods the parties and the coordinator use,
 * so (de)serialisation of ciphertexts is included where the protocol pays it.
 */
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../../protocol/he/params.ts';
import { withScope } from '../../protocol/he/seal-runtime.ts';
import { Random } from '../../protocol/random.ts';
import { timeIt, type Cell, type Progress, type Timing } from '../harness.ts';

export type MicroResult = {
  readonly rows: Record<string, Cell>[];
  readonly bytes: Record<string, Cell>[];
  /** |decrypted − plaintext| of one combine → weighted sum → masked decrypt round trip. */
  readonly roundTripError: number;
  readonly reps: number;
};

const COMBINE_TERMS = [1, 3, 6, 8] as const;
const COLUMNS = 8;

export async function ckksMicro(progress: Progress, reps: number): Promise<MicroResult> {
  const params = DEFAULT_CKKS_PARAMS;
  const suite = await CkksSuite.create(params);
  const keys = new CkksKeyHolder(suite);
  const enc = new CkksEncryptor(suite, keys.publicKey);
  try {
    const random = new Random('bench|ckks');
    const n = suite.slots;
    const vector = (amplitude = 1): Float64Array =>
      Float64Array.from({ length: n }, () => (random.nextFloat() * 2 - 1) * amplitude);
    const maxTerms = Math.max(...COMBINE_TERMS);
    const basisValues = Array.from({ length: maxTerms }, () => vector());
    const basis = basisValues.map((v) => enc.encrypt(v));
    const coefficients = Array.from({ length: maxTerms }, () => vector(0.3));
    const constant = vector(0.5);
    const columns = Array.from({ length: COLUMNS }, () => vector(2));

    const rows: Record<string, Cell>[] = [];
    const add = (op: string, t: Timing, perCall: number, unit: string, what: string): void => {
      rows.push({
        op,
        unit,
        median: t.medianMs / perCall,
        min: t.minMs / perCall,
        max: t.maxMs / perCall,
        call: t.medianMs,
        what,
      });
    };
    const measure = (label: string, fn: () => void): Timing => {
      progress.detail(label);
      return timeIt(fn, reps);
    };

    const values = vector();
    add(
      'encode',
      measure('encode', () => withScope((scope) => void suite.encode(scope, values, suite.scale))),
      1,
      'vector',
      `${n} values → plaintext`,
    );
    add(
      'encrypt',
      measure('encrypt', () => void enc.encrypt(values)),
      1,
      'ciphertext',
      'encode + public-key encrypt + serialise',
    );
    for (const m of COMBINE_TERMS) {
      const t = measure(
        `combine ${m}`,
        () => void suite.combine(basis.slice(0, m), coefficients.slice(0, m), constant, enc),
      );
      add(
        `combine, ${m} term${m === 1 ? '' : 's'}`,
        t,
        m,
        'basis term',
        'guest: Σ βⱼ⊙[[Tⱼ]] + const, one rescale (per term)',
      );
    }
    const residual = suite.combine(basis.slice(0, 6), coefficients.slice(0, 6), constant, enc);
    add(
      'maskedWeightedSums',
      measure(
        'maskedWeightedSums',
        () => void suite.maskedWeightedSums([residual], COLUMNS, (_c, j) => columns[j]!, enc),
      ),
      COLUMNS,
      'column',
      `party: [[d]]⊙x_j, rescale, mask (${COLUMNS} columns, 1 chunk)`,
    );
    const [masked] = suite.maskedWeightedSums([residual], 1, () => columns[0]!, enc);
    add(
      'masked decrypt',
      measure('masked decrypt', () => void suite.unmask(keys.maskedConstant(masked!.ciphertext), masked!)),
      1,
      'ciphertext',
      'coordinator: decrypt, constant coefficient; party: unmask',
    );

    // One full round trip against plaintext, so the timings are known to be of working operations.
    let expected = 0;
    for (let i = 0; i < n; i++) {
      let d = constant[i]!;
      for (let k = 0; k < 6; k++) d += coefficients[k]![i]! * basisValues[k]![i]!;
      expected += d * columns[0]![i]!;
    }
    const roundTripError = Math.abs(suite.unmask(keys.maskedConstant(masked!.ciphertext), masked!) - expected);

    const bytes: Record<string, Cell>[] = [
      { object: 'fresh ciphertext (host basis Tⱼ)', primes: 3, bytes: basis[0]!.byteLength },
      { object: 'residual ciphertext (guest → hosts)', primes: 2, bytes: residual.byteLength },
      { object: 'masked ciphertext (party → coordinator)', primes: 1, bytes: masked!.ciphertext.byteLength },
      { object: 'public key', primes: 3, bytes: keys.publicKey.byteLength },
    ];
    for (const b of bytes) b.perRow = (b.bytes as number) / n;
    bytes[3]!.perRow = null;
    return { rows, bytes, roundTripError, reps };
  } finally {
    enc.dispose();
    keys.dispose();
    suite.dispose();
  }
}
