/**
 * The only place that loads node-seal. One WASM instance per thread, loaded
 * lazily; every SEAL object Tandem creates goes through a {@link SealScope}
 * so it is deleted, and a live-object counter lets tests prove no leaks.
 */
import SEAL from 'node-seal';
import type { MainModule } from 'node-seal/throws';
import { ProtocolError } from '../errors.ts';

export type Seal = MainModule;

let instance: Promise<Seal> | undefined;

/** The node-seal module for this thread (≈40 ms the first time). */
export function loadSeal(): Promise<Seal> {
  instance ??= SEAL();
  return instance;
}

type Deletable = { delete(): void; isDeleted(): boolean };

let live = 0;

/** Number of SEAL objects created through scopes and not yet deleted. */
export function liveSealObjects(): number {
  return live;
}

/**
 * Owns SEAL objects created during one operation and deletes them together.
 * Objects that must outlive the scope are handed over with {@link keep}.
 */
export class SealScope {
  readonly #owned: Deletable[] = [];

  track<T extends Deletable>(object: T): T {
    this.#owned.push(object);
    live += 1;
    return object;
  }

  /** Stop owning an object (its new owner must call {@link release}). */
  keep<T extends Deletable>(object: T): T {
    const index = this.#owned.indexOf(object);
    if (index >= 0) this.#owned.splice(index, 1);
    return object;
  }

  dispose(): void {
    for (const object of this.#owned.splice(0)) release(object);
  }
}

/** Deletes an object that was kept out of a scope. */
export function release(object: Deletable): void {
  if (!object.isDeleted()) {
    object.delete();
    live -= 1;
  }
}

/** Runs `fn` with a scope that is always disposed. */
export function withScope<T>(fn: (scope: SealScope) => T): T {
  const scope = new SealScope();
  try {
    return fn(scope);
  } finally {
    scope.dispose();
  }
}

/**
 * SEAL reports bad input (wrong parameters, corrupt bytes) by throwing a
 * WebAssembly exception whose text needs the module to read. This turns it
 * into a catalogued error that names what was being loaded.
 */
export function translateSealError(seal: Seal, what: string, error: unknown): ProtocolError {
  let detail = error instanceof Error ? error.message : 'unknown SEAL error';
  const wasmException = (globalThis as { WebAssembly?: { Exception?: new (...args: never[]) => unknown } }).WebAssembly
    ?.Exception;
  if (wasmException !== undefined && error instanceof wasmException) {
    try {
      const [, message] = (
        seal as unknown as { getExceptionMessage(e: unknown): [string, string] }
      ).getExceptionMessage(error);
      detail = message;
    } catch {
      // keep the generic text
    }
  }
  return new ProtocolError('CIPHERTEXT_INVALID', `${what} is not valid for this job's CKKS parameters: ${detail}`, {
    publicMessage: `${what} is not valid for this job's CKKS parameters`,
    cause: error,
  });
}
