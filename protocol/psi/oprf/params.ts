/**
 * The public parameters of OPRF-PSI (`alignment.psi: oprf`), each derived
 * from the statistical security parameter λ = 40 and the set sizes both
 * sides announce, so both compute the same numbers without negotiating.
 *
 * - Code width: 512 bits (four AES blocks). KKRT16 (Kolesnikov, Kumaresan,
 *   Rosulek, Trieu, "Efficient Batched Oblivious PRF with Applications to
 *   Private Set Intersection", CCS 2016, §5) needs a pseudorandom code whose
 *   distinct codewords differ in ≥ 128 bits except with negligible
 *   probability; they use 424 bits for sets up to 2^24, libOTe uses 512.
 * - Cuckoo table: 3 hash functions, no stash. Bins per bucket of n ids are
 *   the larger of (a) e·n with e = (λ + 256 + log₂n)/240, the fit to
 *   experiments of Pinkas, Schneider, Tkachenko and Yanai ("Efficient
 *   Circuit-Based PSI with Linear Communication", Eurocrypt 2019, §5; the
 *   formula libOTe's cryptoTools and SecretFlow's psi use) for failure
 *   probability 2^-λ, about 1.32·n at 2^20 ids, and (b) the smallest m for
 *   which a union bound over the small sets of ids that cannot all be placed
 *   (Hall's condition: j ids whose 3j bins fall in j − 1 bins) is below
 *   2^-(λ+1). (b) governs small buckets, where the fit does not hold (two ids
 *   with all six bins equal already fail with probability ≈ n²/m⁵).
 * - Value length: ℓ bits with 2^-λ chance that any of the 3·n_S sender values
 *   equals any of the n_R receiver values by accident: ℓ = λ + log₂(3·n_R·n_S).
 * - Bucket capacity (sharding): each side pads every bucket to the same
 *   public size, a Chernoff bound above its expected share, so bucket sizes
 *   reveal nothing beyond the total (overflow probability ≤ 2^-λ per run).
 */

/** Statistical security parameter: failure and false-match probabilities are at most 2^-λ. */
export const STATISTICAL_SECURITY = 40;

/** Base OTs, and bits in a codeword: four 128-bit AES blocks. */
export const CODE_BITS = 512;
export const CODE_BYTES = CODE_BITS / 8;
/** 32-bit words in a code row. */
export const ROW_WORDS = CODE_BITS / 32;

/** Bytes of an id digest (keyed BLAKE2b): collisions among 2^32 ids have probability < 2^-64. */
export const DIGEST_BYTES = 16;

/** Cuckoo hash functions per id. */
export const HASHES = 3;

/** The most buckets a session may use (a power of two, so a spilled partition can be merged). */
export const MAX_BUCKETS = 4096;

/** Ids per bucket the automatic bucket count aims at: ~1M ids keep a bucket's matrices near 100 MB. */
export const DEFAULT_BUCKET_IDS = 1 << 20;

/** Bins per OT-extension chunk: 65,536 rows are 4 MiB of corrections. */
export const CHUNK_ROWS = 1 << 16;

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.log(n - i) - Math.log(i + 1);
  return sum;
}

/** log₂ of the union bound on cuckoo failure for n ids in m bins, over sets of up to `maxSet` ids. */
export function cuckooFailureBoundLog2(n: number, m: number, maxSet = 64): number {
  let sum = 0;
  for (let j = 2; j <= Math.min(n, maxSet); j++) {
    if (j - 1 > m) break;
    sum += Math.exp(logChoose(n, j) + logChoose(m, j - 1) + HASHES * j * Math.log((j - 1) / m));
  }
  return sum === 0 ? -Infinity : Math.log2(sum);
}

/** Cuckoo bins for a bucket of `n` receiver ids, a multiple of 32 (the bit-matrix tile). */
export function cuckooBins(n: number): number {
  if (n === 0) return 0;
  const fit = Math.ceil(n * ((STATISTICAL_SECURITY + 256 + Math.log2(n)) / 240));
  let m = Math.max(fit, n + 1);
  while (cuckooFailureBoundLog2(n, m) > -(STATISTICAL_SECURITY + 1)) m = Math.ceil(m * 1.02) + 1;
  return Math.ceil(m / 32) * 32;
}

/** Bytes of each OPRF value compared, from both (padded) totals: between 8 and 16. */
export function valueBytes(receiverTotal: number, senderTotal: number): number {
  const pairs = 3 * Math.max(1, receiverTotal) * Math.max(1, senderTotal);
  return Math.min(16, Math.max(8, Math.ceil((STATISTICAL_SECURITY + Math.log2(pairs)) / 8)));
}

/** The bucket count for two announced sizes: a power of two, at least `requested`. */
export function bucketCount(
  receiverIds: number,
  senderIds: number,
  requested = 1,
  bucketIds = DEFAULT_BUCKET_IDS,
): number {
  const wanted = Math.max(requested, Math.ceil(Math.max(receiverIds, senderIds) / bucketIds));
  let k = 1;
  while (k < wanted && k < MAX_BUCKETS) k *= 2;
  return k;
}

/**
 * The padded size of every bucket when `n` ids are hashed into `k` buckets:
 * n/k plus t, where t solves the Chernoff bound
 * P(X ≥ μ + t) ≤ exp(−t² / (2(μ + t/3))) = 2^-λ / k.
 */
export function bucketCapacity(n: number, k: number): number {
  if (k === 1 || n === 0) return n;
  const mu = n / k;
  const l = (STATISTICAL_SECURITY + Math.log2(k)) * Math.LN2;
  const t = l / 3 + Math.sqrt((l * l) / 9 + 2 * l * mu);
  return Math.min(n, Math.ceil(mu + t));
}
