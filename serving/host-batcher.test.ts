import { describe, expect, it } from 'vitest';
import { coalescing } from './host-batcher.ts';
import type { HostAnswer, HostClient } from './online-scoring.ts';

/** A host that holds users whose pseudonym starts with "p" (score: the pseudonym's length) and records each call. */
function recordingHost(answer?: HostAnswer | Error): { host: HostClient; calls: string[][] } {
  const calls: string[][] = [];
  const host: HostClient = {
    name: 'partner',
    partials: (pseudonyms) => {
      calls.push([...pseudonyms]);
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve(
        answer ?? { ok: true, scores: pseudonyms.map((p) => (p.startsWith('p') ? p.length : null)) },
      );
    },
  };
  return { host, calls };
}

describe('coalescing', () => {
  it('sends the calls of one event-loop turn as one request and gives each caller its own answers', async () => {
    const { host, calls } = recordingHost();
    const batched = coalescing(host);
    const answers = await Promise.all([
      batched.partials(['p1']),
      batched.partials(['x', 'p22']),
      batched.partials(['p333']),
    ]);
    expect(calls).toEqual([['p1', 'x', 'p22', 'p333']]);
    expect(answers).toEqual([
      { ok: true, scores: [2] },
      { ok: true, scores: [null, 3] },
      { ok: true, scores: [4] },
    ]);
    expect(batched.name).toBe('partner');
  });

  it('calls again for calls made in a later turn', async () => {
    const { host, calls } = recordingHost();
    const batched = coalescing(host);
    await batched.partials(['p1']);
    await batched.partials(['p2']);
    expect(calls).toEqual([['p1'], ['p2']]);
  });

  it('gives every caller in a batch the failure, and a rejected call is unavailable', async () => {
    const timedOut = coalescing(recordingHost({ ok: false, failure: 'timeout' }).host);
    expect(await Promise.all([timedOut.partials(['p1']), timedOut.partials(['p2'])])).toEqual([
      { ok: false, failure: 'timeout' },
      { ok: false, failure: 'timeout' },
    ]);
    const broken = coalescing(recordingHost(new Error('boom')).host);
    expect(await Promise.all([broken.partials(['p1']), broken.partials(['p2'])])).toEqual([
      { ok: false, failure: 'unavailable' },
      { ok: false, failure: 'unavailable' },
    ]);
  });

  it('never sends the host more pseudonyms in one request than it takes, and never splits a caller', async () => {
    const { host, calls } = recordingHost();
    const batched = coalescing(host, 3);
    const answers = await Promise.all([
      batched.partials(['p1', 'p2']),
      batched.partials(['p3', 'p4']),
      batched.partials(['p5']),
      batched.partials(['p6', 'p7', 'p8', 'p9']),
    ]);
    expect(calls).toEqual([
      ['p1', 'p2'],
      ['p3', 'p4', 'p5'],
      ['p6', 'p7', 'p8', 'p9'],
    ]);
    expect(answers.map((a) => (a.ok ? a.scores.length : -1))).toEqual([2, 2, 1, 4]);
  });
});
