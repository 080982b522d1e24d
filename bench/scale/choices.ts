/**
 * Measurements behind the protocol's packing choices, at the default CKKS
 * parameters, on one 4,096-slot chunk (one thread):
 *
 * - the inner sum Σᵢ dᵢ·xᵢⱼ of one feature column: masked decryption of the
 *   constant coefficient (what Tandem does) against log₂(slots) rotations
 *   and additions with Galois keys (the textbook way), with the key sizes;
 * - encoding a feature column on the fly against multiplying by a
 *   pre-encoded plaintext, and what keeping pre-encoded columns would cost
 *   in memory;
 * - ciphertext compression (SEAL's zlib and zstd against none): bytes and
 *   time.
 */
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../../protocol/he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../../protocol/he/params.ts';
import { SealScope, withScope } from '../../protocol/he/seal-runtime.ts';
import { Random } from '../../protocol/random.ts';
import { cpuTimeIt as timeIt, type Cell } from '../harness.ts';

export type Choices = {
  readonly rows: Record<string, Cell>[];
  readonly galoisKeyBytes: number;
  readonly plaintextBytes: number;
};

export async function measureChoices(reps: number): Promise<Choices> {
  const suite = await CkksSuite.create(DEFAULT_CKKS_PARAMS);
  const keys = new CkksKeyHolder(suite);
  const enc = new CkksEncryptor(suite, keys.publicKey);
  const scope = new SealScope();
  const { seal, evaluator } = suite;
  try {
    const random = new Random('bench|choices');
    const vector = (amplitude = 1): Float64Array =>
      Float64Array.from({ length: suite.slots }, () => (random.nextFloat() * 2 - 1) * amplitude);
    const basis = Array.from({ length: 6 }, () => enc.encrypt(vector()));
    const residualBytes = suite.combine(
      basis,
      Array.from({ length: 6 }, () => vector(0.3)),
      vector(0.5),
      enc,
    );
    const residual = suite.loadCiphertext(scope, residualBytes, 'residual');
    const column = vector(2);
    const preEncoded = suite.encode(scope, column, suite.scale, residual);
    const plaintextBytes = (preEncoded.saveToArray(seal.ComprModeType.none) as Uint8Array).byteLength;

    // Galois keys for rotations by 1, 2, 4, …, slots/2, from a key generator of their own.
    const keygen = scope.track(new seal.KeyGenerator(suite.context));
    const steps = Int32Array.from({ length: Math.log2(suite.slots) }, (_, k) => 2 ** k);
    const galois = scope.track(keygen.createGaloisKeysWithSteps(steps));
    const galoisKeyBytes = (galois.saveToArray(seal.ComprModeType.none) as Uint8Array).byteLength;

    const product = (s: SealScope): ReturnType<typeof suite.loadCiphertext> => {
      const out = s.track(new seal.Ciphertext());
      evaluator.multiplyPlain(residual, preEncoded, out);
      evaluator.rescaleToNextInplace(out);
      return out;
    };
    const rows: Record<string, Cell>[] = [];
    const add = (group: string, what: string, t: { medianMs: number }, note = ''): void => {
      rows.push({ group, what, ms: t.medianMs, note });
    };
    add(
      'feature column',
      'encode the column (on the fly)',
      timeIt(() => withScope((s) => suite.encode(s, column, suite.scale, residual)), reps),
    );
    add(
      'feature column',
      'multiply by a pre-encoded column + rescale',
      timeIt(() => withScope(product), reps),
    );
    add(
      'feature column',
      'whole masked weighted sum (encode, multiply, rescale, mask, save)',
      timeIt(() => suite.maskedWeightedSums([residualBytes], 1, () => column, enc), reps),
    );
    const masked = suite.maskedWeightedSums([residualBytes], 1, () => column, enc)[0]!;
    add(
      'inner sum',
      'masked decryption: key holder decrypts, sums NTT residues',
      timeIt(() => keys.maskedConstant(masked.ciphertext), reps),
      'no extra keys',
    );
    add(
      'inner sum',
      `rotations: ${steps.length} rotate + add`,
      timeIt(
        () =>
          withScope((s) => {
            const acc = product(s);
            const rotated = s.track(new seal.Ciphertext());
            for (const step of steps) {
              evaluator.rotateVector(acc, step, galois, rotated);
              evaluator.addInplace(acc, rotated);
            }
          }),
        Math.max(2, Math.floor(reps / 3)),
        3,
        1,
      ),
      `+ Galois keys of ${(galoisKeyBytes / 1e6).toFixed(1)} MB per party`,
    );

    const fresh = suite.loadCiphertext(scope, basis[0]!, 'fresh');
    for (const [name, mode] of [
      ['none', seal.ComprModeType.none],
      ['zlib', seal.ComprModeType.zlib],
      ['zstd', seal.ComprModeType.zstd],
    ] as const) {
      const bytes = (fresh.saveToArray(mode) as Uint8Array).byteLength;
      add(
        'compression',
        `save a fresh ciphertext, ${name}`,
        timeIt(() => {
          fresh.saveToArray(mode);
        }, reps),
        `${bytes.toLocaleString('en-US')} bytes`,
      );
      const saved = fresh.saveToArray(mode) as Uint8Array;
      add(
        'compression',
        `load it, ${name}`,
        timeIt(() => withScope((s) => s.track(new seal.Ciphertext()).loadFromArray(suite.context, saved)), reps),
      );
    }
    return { rows, galoisKeyBytes, plaintextBytes };
  } finally {
    scope.dispose();
    enc.dispose();
    keys.dispose();
    suite.dispose();
  }
}
