import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { serialize } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../protocol/wire/envelope.ts';
import { Mailbox } from './mailbox.ts';
import { JobCheckpoint, type TrainingState } from './checkpoint.ts';

const JOB = 'job-0123456789';

function envelope(step: string, round: number, body = Uint8Array.of(round)) {
  return makeEnvelope(
    { jobId: JOB, round, step, sender: 'partner', recipient: 'brand', seq: 0, kind: 'ciphertext' },
    body,
    true,
    0,
  );
}

function state(round: number): TrainingState {
  return {
    round,
    epochs: 0,
    stopped: false,
    weights: Float64Array.of(round, -round),
    optimizer: { step: round, m: [0.1], v: [0.2] },
    losses: [],
    lossCt: Uint8Array.of(7),
  };
}

/** A process start: a fresh mailbox over the same data directory, as after `kill -9`. */
async function restart(dir: string): Promise<{ mailbox: Mailbox; checkpoint: JobCheckpoint }> {
  const mailbox = new Mailbox(dir);
  return { mailbox, checkpoint: await JobCheckpoint.open(dir, JOB, mailbox) };
}

describe('a party job checkpoint across restarts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-checkpoint-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps values, the last completed round and the write-ahead slot; counts starts', async () => {
    const first = await restart(dir);
    expect([first.checkpoint.resuming, first.checkpoint.incarnation]).toEqual([false, 1]);
    let draws = 0;
    const draw = (): Uint8Array => Uint8Array.of(++draws);
    expect(await first.checkpoint.keep('scoring-key', draw)).toEqual(Uint8Array.of(1));
    const training = first.checkpoint.training(0);
    await training.completed(state(3));
    const masked = [{ ciphertext: Uint8Array.of(1, 2), maskConstant: 2n ** 70n, scale: 2 ** 40 }];
    expect(await training.prepare('guest round 4', () => masked)).toBe(masked);
    const basis = [Uint8Array.of(7, 7)];
    expect(await training.prepare('host basis 4', () => basis)).toBe(basis);

    const second = await restart(dir);
    expect([second.checkpoint.resuming, second.checkpoint.incarnation]).toEqual([true, 2]);
    expect(await second.checkpoint.keep('scoring-key', draw)).toEqual(Uint8Array.of(1));
    expect(draws).toBe(1);
    const resumed = second.checkpoint.training(0);
    expect(resumed.resumed).toEqual(state(3));
    // The same round computes nothing new: the saved masks (a bigint beyond 2^64 included) come back.
    expect(await resumed.prepare('guest round 4', () => [])).toEqual(masked);
    // Every write-ahead result of the round comes back, not only the last one saved.
    expect(await resumed.prepare('host basis 4', () => [])).toEqual(basis);
    // Another training of the job (one-vs-rest) starts from scratch.
    expect(second.checkpoint.training(10).resumed).toBeUndefined();
  });

  it("drops a completed round's write-ahead results, and reads a checkpoint written whole by an earlier version", async () => {
    const first = await restart(dir);
    const training = first.checkpoint.training(0);
    await training.prepare('host basis 1', () => [Uint8Array.of(1)]);
    await training.completed(state(1));
    expect(await readdir(join(dir, 'jobs', JOB))).not.toContain('pending');
    const again = await restart(dir);
    expect(await again.checkpoint.training(0).prepare('host basis 1', () => [Uint8Array.of(9)])).toEqual([
      Uint8Array.of(9),
    ]);

    // The one-file layout: kept values, training states and the round's write-ahead results together.
    const old = join(dir, 'jobs', 'job-old');
    await mkdir(old, { recursive: true });
    const pending = new Map<string, unknown>([['host basis 5', [Uint8Array.of(5)]]]);
    await writeFile(
      join(old, 'checkpoint.v8'),
      serialize({
        incarnation: 3,
        kept: new Map([['psi', Uint32Array.of(2, 1)]]),
        training: new Map([[0, state(4)]]),
        pending,
      }),
    );
    const mailbox = new Mailbox(dir);
    const upgraded = await JobCheckpoint.open(dir, 'job-old', mailbox);
    expect([upgraded.incarnation, upgraded.kept('psi')]).toEqual([4, Uint32Array.of(2, 1)]);
    expect(upgraded.training(0).resumed).toEqual(state(4));
    // Rewritten in the new layout, and still all there after another start.
    const reopened = await JobCheckpoint.open(dir, 'job-old', new Mailbox(dir));
    expect([reopened.incarnation, reopened.kept('psi')]).toEqual([5, Uint32Array.of(2, 1)]);
    expect(await reopened.training(0).prepare('host basis 5', () => [])).toEqual([Uint8Array.of(5)]);
    expect((await readdir(old)).sort()).toEqual(['checkpoint.v8', 'kept.v8', 'pending']);
  });

  it('gives a restarted party back the messages it took after its last completed round, and only those', async () => {
    const first = await restart(dir);
    for (const round of [1, 2, 3]) first.mailbox.put(envelope('basis', round));
    await first.mailbox.take({ jobId: JOB, step: 'basis', round: 1, sender: 'partner' }, 1000);
    await first.checkpoint.training(0).completed(state(1));
    await first.mailbox.take({ jobId: JOB, step: 'basis', round: 2, sender: 'partner' }, 1000);
    // killed here: round 2 was taken but never completed

    const second = await restart(dir);
    const take = (round: number) => second.mailbox.take({ jobId: JOB, step: 'basis', round, sender: 'partner' }, 50);
    expect((await take(2)).body).toEqual(Uint8Array.of(2));
    expect((await take(3)).body).toEqual(Uint8Array.of(3));
    await expect(take(1)).rejects.toMatchObject({ code: 'PEER_TIMEOUT' });
    // A resend of a message already on disk is a duplicate.
    expect(second.mailbox.put(envelope('basis', 3))).toBe(false);
  });

  it('keeps only the outcome once the job is done, and nothing after a failure', async () => {
    const { mailbox, checkpoint } = await restart(dir);
    mailbox.put(envelope('residual', 1));
    await checkpoint.keep('psi', () => Uint32Array.of(4, 2));
    await checkpoint.keep('outcome', () => ({ modelFile: 'model-part.json', summary: { auc: 0.99 } }));
    await checkpoint.complete('outcome');
    expect((await readdir(join(dir, 'jobs', JOB))).sort()).toEqual(['checkpoint.v8', 'kept.v8']);
    const again = await restart(dir);
    expect(again.checkpoint.kept('outcome')).toEqual({ modelFile: 'model-part.json', summary: { auc: 0.99 } });
    expect(again.checkpoint.kept('psi')).toBeUndefined();
    await again.checkpoint.discard();
    expect(await readdir(join(dir, 'jobs', JOB))).toEqual([]);
  });
});
