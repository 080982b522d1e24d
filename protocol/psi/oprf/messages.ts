/**
 * The messages of OPRF-PSI between the PSI receiver R (the guest: it learns
 * which ids are shared) and the PSI sender S (a host), in the order they
 * flow. Each maps onto one protobuf body (tandem.v1.PsiOprf*), sent by a
 * JobChannel with `round` = bucket and `seq` = chunk.
 *
 *   S → R  psi-oprf-hello        base-OT points, the code seed, S's id count
 *   R → S  psi-oprf-setup        base-OT reply, the cuckoo seed, R's id count, the bucket count
 *   then per bucket b (buckets run independently, on any thread or process):
 *   R → S  psi-oprf-correction   chunk c: 64 bytes per cuckoo bin, u = t⁰ ⊕ t¹ ⊕ C(x), uniformly random to S
 *   S → R  psi-oprf-values       chunk c: 3 OPRF values per position of S's shuffled, padded bucket
 *   and in intersection mode, once:
 *   R → S  psi-result            S's positions of the shared ids, in the job's common order
 *
 * Sizes on the wire (n ids a side, k buckets): hello 16 KiB, setup 56 bytes,
 * corrections ≈ 64 · 1.32 · n bytes, values 3 · ℓ · n bytes (ℓ = 11 at
 * n = 2^20, params.ts).
 */

export type OprfHello = {
  readonly step: 'psi-oprf-hello';
  /** 512 Edwards points, 32 bytes each: the chooser's base-OT message. */
  readonly points: Uint8Array;
  /** 16 bytes from which both derive the code keys and the row-hash key. */
  readonly codeSeed: Uint8Array;
  /** The sender's number of ids. */
  readonly count: number;
};

export type OprfSetup = {
  readonly step: 'psi-oprf-setup';
  /** R = r·B, 32 bytes. */
  readonly reply: Uint8Array;
  /** 16 bytes: the cuckoo hash functions' seed. */
  readonly cuckooSeed: Uint8Array;
  /** The receiver's number of ids. */
  readonly count: number;
  /** Buckets (a power of two) both sides hash-partition their ids into. */
  readonly buckets: number;
};

export type OprfCorrection = {
  readonly step: 'psi-oprf-correction';
  readonly bucket: number;
  readonly chunk: number;
  /** 64 bytes per cuckoo bin of the chunk. */
  readonly rows: Uint8Array;
};

export type OprfValues = {
  readonly step: 'psi-oprf-values';
  readonly bucket: number;
  readonly chunk: number;
  /** 3 values of ℓ bytes per position of the chunk, position-major. */
  readonly values: Uint8Array;
};

export type OprfResult = {
  readonly step: 'psi-result';
  /** The sender's global positions of the shared ids, in the order the job aligns rows in. */
  readonly positions: Uint32Array;
};

export type OprfMessage = OprfHello | OprfSetup | OprfCorrection | OprfValues | OprfResult;
