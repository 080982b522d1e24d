/**
 * The coordinator's part in coordinator-aided PSI (`alignment.psi:
 * coordinator`, protocol/psi/coordinator-aided.ts): it collects, per
 * guest–host pair, the two PRF lists, matches them and answers the guest
 * with the matched positions. It cannot compute a PRF value itself (the key
 * is the pair's), so it learns the list sizes and the match count only. The
 * lists are dropped once matched.
 */
import { createHash } from 'node:crypto';
import { tandem } from '../protocol/generated/tandem.js';
import { checkPrfSet, matchPrfSets, PRF_BYTES, psiInputError, uint32Bytes } from '../protocol/psi/coordinator-aided.ts';
import { JobError } from '../protocol/errors.ts';
import type { JobSpec } from '../protocol/job-spec.ts';

/** What to send back: a PsiPrfMatches body for the guest, at `seq` (the host's index). */
export type PsiMatchReply = { readonly to: string; readonly seq: number; readonly body: Uint8Array };

type Pending = { guest?: Uint8Array | undefined; host?: Uint8Array | undefined };

export class PsiMatcher {
  readonly #spec: JobSpec;
  readonly #jobId: string;
  /** By host name: the lists received so far. */
  readonly #pending = new Map<string, Pending>();
  /** Hosts whose pair is matched: digests of the two lists and the answer (a resent list gets it again). */
  readonly #answered = new Map<string, { guest: string; host: string; reply: PsiMatchReply }>();

  constructor(jobId: string, spec: JobSpec) {
    this.#jobId = jobId;
    this.#spec = spec;
  }

  /** Takes one party's PsiPrfSet sent at `seq`; returns the answer once both lists of a pair are in. */
  offer(from: string, seq: number, set: tandem.v1.PsiPrfSet): PsiMatchReply | undefined {
    if (this.#spec.alignmentPsi !== 'coordinator') {
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `job ${this.#jobId} aligns by ECDH-PSI; the coordinator takes no PRF sets for it`,
      );
    }
    const guest = this.#spec.guest.name;
    const hosts = this.#spec.hosts.map((h) => h.name);
    const fromGuest = from === guest;
    const host = fromGuest ? set.peer : from;
    if (fromGuest ? hosts.indexOf(set.peer) !== seq : set.peer !== guest || seq !== 0) {
      throw psiInputError(
        `${from} sent a PRF set for "${set.peer}" at position ${seq}, which is not its partner there in job ${this.#jobId}`,
      );
    }
    checkPrfSet(set.values, set.count, from);
    const side = fromGuest ? 'guest' : 'host';
    const done = this.#answered.get(host);
    if (done !== undefined) {
      // A party restarted mid-PSI sends the same list again (its order and key are derived): same answer.
      if (done[side] !== digest(set.values))
        throw psiInputError(`${from} sent a second, different PRF set for the pair with ${fromGuest ? host : guest}`);
      return done.reply;
    }
    const pending = this.#pending.get(host) ?? {};
    const earlier = pending[side];
    if (earlier !== undefined && !Buffer.from(earlier).equals(set.values))
      throw psiInputError(`${from} sent a second, different PRF set for the pair with ${fromGuest ? host : guest}`);
    pending[side] = set.values;
    this.#pending.set(host, pending);
    if (pending.guest === undefined || pending.host === undefined) return undefined;
    this.#pending.delete(host);
    const { guestPositions, hostPositions } = matchPrfSets(pending.guest, pending.host, { guest, host });
    // A reach job (size-only PSI) tells the guest the count and no positions.
    const positions =
      this.#spec.kind === 'reach'
        ? {}
        : { guestPositions: uint32Bytes(guestPositions), hostPositions: uint32Bytes(hostPositions) };
    const body = tandem.v1.PsiPrfMatches.encode({
      peer: host,
      ...positions,
      count: guestPositions.length,
      guestCount: pending.guest.byteLength / PRF_BYTES,
      hostCount: pending.host.byteLength / PRF_BYTES,
    }).finish();
    const reply = { to: guest, seq: hosts.indexOf(host), body };
    this.#answered.set(host, { guest: digest(pending.guest), host: digest(pending.host), reply });
    return reply;
  }
}

const digest = (values: Uint8Array): string => createHash('sha256').update(values).digest('hex');
