/**
 * A host's per-caller limit on user lookups: a token bucket per caller,
 * refilled at `ratePerSecond` up to `burst`. Each lookup (a pseudonym the
 * guest asks about, an id an operator asks about) takes one token; a call
 * that needs more than the bucket holds is refused whole, with how long to
 * wait. It bounds how fast anyone can probe a host's users, whatever the
 * answers reveal. Pure: the clock is passed in.
 */
import { TandemError } from '../protocol/errors.ts';

export type LookupLimitOptions = {
  /** Lookups per second each caller may sustain. @default 5000 */
  readonly ratePerSecond?: number | undefined;
  /** Lookups a caller may make at once after being idle (at least one full peer call, 10,000). @default 20000 */
  readonly burst?: number | undefined;
  /** Milliseconds, monotonic. @default performance.now */
  readonly nowMs?: (() => number) | undefined;
};

export type LookupLimit = {
  /** @throws TandemError RATE_LIMITED when `caller` has not `count` lookups left; `details.retryAfterMs` says when it will */
  take(caller: string, count: number): void;
};

export const DEFAULT_LOOKUP_RATE = 5000;
export const DEFAULT_LOOKUP_BURST = 20_000;

export function lookupLimit(options: LookupLimitOptions = {}): LookupLimit {
  const rate = options.ratePerSecond ?? DEFAULT_LOOKUP_RATE;
  const burst = options.burst ?? DEFAULT_LOOKUP_BURST;
  const now = options.nowMs ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take: (caller, count) => {
      const t = now();
      const bucket = buckets.get(caller) ?? { tokens: burst, atMs: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.atMs) / 1000) * rate);
      bucket.atMs = t;
      buckets.set(caller, bucket);
      if (bucket.tokens >= count) {
        bucket.tokens -= count;
        return;
      }
      const retryAfterMs = count > burst ? undefined : Math.ceil(((count - bucket.tokens) / rate) * 1000);
      throw new TandemError(
        'RATE_LIMITED',
        `${caller} asked for ${count} lookups with ${Math.floor(bucket.tokens)} left`,
        {
          publicMessage:
            retryAfterMs === undefined
              ? `at most ${burst} lookups per call`
              : `too many lookups: at most ${rate} per second; try again in ${retryAfterMs} ms`,
          details: { retryAfterMs: retryAfterMs ?? 1000 },
        },
      );
    },
  };
}
