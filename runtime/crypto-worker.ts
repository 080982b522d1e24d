/**
 * The worker-thread side of the crypto pool (runtime/crypto-pool.ts): PSI
 * blinding over shared memory, and CKKS encryption and masked weighted sums
 * with one node-seal WASM instance per worker. CKKS contexts are cached per
 * parameter set and encryptors per public key (the few most recent), so a
 * worker pays SEAL's start-up once, not per task.
 */
import { parentPort } from 'node:worker_threads';
import { blindInto } from '../protocol/psi/group.ts';
import { CkksEncryptor, CkksSuite, type MaskedSum } from '../protocol/he/ckks.ts';
import type { CkksParams } from '../protocol/he/params.ts';
import { liveSealObjects } from '../protocol/he/seal-runtime.ts';
import { TandemError } from '../protocol/errors.ts';
import { Control, type SerializedError } from './worker-pool.ts';

/** One worker's share of a PSI blinding: elements [from, to) of `input` into `output`. */
export type BlindTask = {
  readonly kind: 'blind';
  readonly scalar: Uint8Array;
  readonly input: SharedArrayBuffer;
  readonly output: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly from: number;
  readonly to: number;
};

type CkksKey = { readonly params: CkksParams; readonly keyId: string; readonly publicKey: Uint8Array };
export type EncryptTask = CkksKey & { readonly kind: 'encrypt'; readonly values: readonly Float64Array[] };
/** `columns[j][c]`: column j of the batch's rows in chunk c, as values or encoded (EncodeColumnsTask). */
export type WeightedSumsTask = CkksKey & {
  readonly kind: 'weighted-sums';
  readonly residuals: readonly Uint8Array[];
  readonly columns: readonly (readonly (Float64Array | Uint8Array)[])[];
};
/** Feature columns encoded for a later WeightedSumsTask (`CkksSuite.encodeColumns`). */
export type EncodeColumnsTask = CkksKey & {
  readonly kind: 'encode-columns';
  readonly columns: readonly Float64Array[];
};
/** Live SEAL objects on the worker that runs it (tests prove workers free what they allocate). */
export type StatsTask = { readonly kind: 'stats' };
export type CryptoTask = EncryptTask | WeightedSumsTask | EncodeColumnsTask | StatsTask;

const ELEMENT_BYTES = 32;
const KEPT_KEYS = 4;
const suites = new Map<string, Promise<CkksSuite>>();
const encryptors = new Map<string, CkksEncryptor>();

async function encryptorFor(task: CkksKey): Promise<{ suite: CkksSuite; encryptor: CkksEncryptor }> {
  const paramsKey = JSON.stringify(task.params);
  let suite = suites.get(paramsKey);
  if (suite === undefined) {
    suite = CkksSuite.create(task.params);
    suites.set(paramsKey, suite);
  }
  const ready = await suite;
  const id = `${paramsKey}|${task.keyId}`;
  let encryptor = encryptors.get(id);
  if (encryptor === undefined) {
    encryptor = new CkksEncryptor(ready, task.publicKey);
    encryptors.set(id, encryptor);
    // Keys of finished jobs: keep a few, delete the oldest.
    for (const [old, e] of encryptors) {
      if (encryptors.size <= KEPT_KEYS) break;
      e.dispose();
      encryptors.delete(old);
    }
  }
  return { suite: ready, encryptor };
}

async function handle(task: CryptoTask): Promise<Uint8Array[] | MaskedSum[] | number> {
  if (task.kind === 'stats') return liveSealObjects();
  const { suite, encryptor } = await encryptorFor(task);
  if (task.kind === 'encrypt') return task.values.map((v) => encryptor.encrypt(v));
  if (task.kind === 'encode-columns') return suite.encodeColumns(task.columns);
  return suite.maskedWeightedSums(
    task.residuals,
    task.columns.length,
    (c, j) => task.columns[j]?.[c] ?? new Float64Array(0),
    encryptor,
  );
}

function blindShare(task: BlindTask): void {
  const control = new Int32Array(task.control);
  try {
    const bytes = (k: number): number => k * ELEMENT_BYTES;
    const input = new Uint8Array(task.input, bytes(task.from), bytes(task.to - task.from));
    const output = new Uint8Array(task.output, bytes(task.from), bytes(task.to - task.from));
    let reported = 0;
    blindInto(
      task.scalar,
      input,
      output,
      (done) => {
        Atomics.add(control, Control.progress, done - reported);
        reported = done;
      },
      task.from,
    );
  } catch (error) {
    const index = /PSI element (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    Atomics.store(control, Control.failedAt, index === undefined ? 0 : Number(index) + 1);
    Atomics.store(control, Control.failed, 1);
  } finally {
    Atomics.add(control, Control.done, 1);
    Atomics.notify(control, Control.done);
  }
}

/**
 * The result's ciphertext buffers that can be moved to the caller instead of
 * copied (13 MB a batch for a host's 100 masked sums): only arrays that own
 * their whole buffer — never a view into the WASM heap or shared memory.
 */
function ownedBuffers(result: Uint8Array[] | MaskedSum[] | number): ArrayBuffer[] {
  if (typeof result === 'number') return [];
  return result.flatMap((r) => {
    const bytes = r instanceof Uint8Array ? r : r.ciphertext;
    return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength
      ? [bytes.buffer]
      : [];
  });
}

function serialize(error: unknown): SerializedError {
  if (error instanceof TandemError)
    return { name: error.name, message: error.message, code: error.code, publicMessage: error.publicMessage };
  return {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  };
}

parentPort?.on('message', (message: { id: number; shared?: boolean; task: unknown }) => {
  if (message.shared === true) {
    blindShare(message.task as BlindTask);
    return;
  }
  handle(message.task as CryptoTask).then(
    (result) => parentPort?.postMessage({ id: message.id, ok: true, result }, ownedBuffers(result)),
    (error: unknown) => parentPort?.postMessage({ id: message.id, ok: false, error: serialize(error) }),
  );
});
