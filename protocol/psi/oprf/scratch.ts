/**
 * Reusable work buffers for the per-chunk steps of a bucket: a chunk needs
 * several matrices of megabytes, and allocating them afresh per chunk spent
 * more time in the garbage collector than in AES. One Scratch per bucket
 * state; a buffer it hands out is valid until the same name is asked again.
 */
export class Scratch {
  readonly #buffers = new Map<string, Int32Array>();

  /** A zero-filled Int32Array of `length` words, reusing the memory of the previous one of that name. */
  words(name: string, length: number): Int32Array {
    let buffer = this.#buffers.get(name);
    if (buffer === undefined || buffer.length < length) {
      buffer = new Int32Array(length);
      this.#buffers.set(name, buffer);
      return buffer;
    }
    const view = buffer.subarray(0, length);
    view.fill(0);
    return view;
  }
}
