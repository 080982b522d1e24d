import { describe, expect, it } from 'vitest';
import { partition } from './bucket-items.ts';
import { digestIds } from './digest.ts';
import type { OprfMessage } from './messages.ts';
import {
  receiverBucketNext,
  receiverBucketReceive,
  startReceiverBucket,
  type ReceiverBucketState,
} from './receiver-bucket.ts';
import { senderBucketNext, senderBucketReceive, startSenderBucket, type SenderBucketState } from './sender-bucket.ts';
import { receiverSessionReceive, senderSessionReceive, startReceiverSession, startSenderSession } from './session.ts';
import { ProtocolStageError } from '../../errors.ts';
import { seedFrom } from '../../random.ts';

const domainKey = seedFrom('oprf-stages', 'domain');

function sessions(receiverCount: number, senderCount: number) {
  const s = startSenderSession({ domainKey, secret: seedFrom('stages', 's'), count: senderCount });
  const r = receiverSessionReceive(
    startReceiverSession({ domainKey, secret: seedFrom('stages', 'r'), count: receiverCount }).state,
    s.outbound[0]!,
  );
  const ready = senderSessionReceive(s.state, r.outbound[0]!);
  if (r.state.stage !== 'ready' || ready.state.stage !== 'ready') throw new Error('not ready');
  return { receiver: r.state.session, sender: ready.state.session, senderStart: s };
}

describe('OPRF-PSI stages', () => {
  it('run correcting → awaiting-values → done at the receiver and awaiting-corrections → sending-values → done at the sender', () => {
    const receiverIds = Array.from({ length: 60_000 }, (_, k) => `r${k}`);
    const senderIds = Array.from({ length: 70_000 }, (_, k) => `r${k + 10_000}`);
    const { receiver, sender } = sessions(receiverIds.length, senderIds.length);
    expect(receiver.params.correctionChunks).toBe(2);
    expect(sender.params.valueChunks).toBe(2);
    let r: ReceiverBucketState = startReceiverBucket(receiver, 0, partition(digestIds(domainKey, receiverIds), 1)[0]!);
    let s: SenderBucketState = startSenderBucket(sender, 0, partition(digestIds(domainKey, senderIds), 1)[0]!);
    const stages: string[] = [`r:${r.stage}`, `s:${s.stage}`];
    const wire: OprfMessage[] = [];
    while (r.stage === 'correcting') {
      const t = receiverBucketNext(r);
      r = t.state;
      stages.push(`r:${r.stage}`);
      for (const m of t.outbound) {
        wire.push(m);
        s = senderBucketReceive(s, m).state;
        stages.push(`s:${s.stage}`);
      }
    }
    while (s.stage === 'sending-values') {
      const t = senderBucketNext(s);
      s = t.state;
      stages.push(`s:${s.stage}`);
      for (const m of t.outbound) {
        wire.push(m);
        r = receiverBucketReceive(r, m).state;
        stages.push(`r:${r.stage}`);
      }
    }
    expect(stages).toEqual([
      'r:correcting',
      's:awaiting-corrections',
      'r:correcting',
      's:awaiting-corrections',
      'r:awaiting-values',
      's:sending-values',
      's:sending-values',
      'r:awaiting-values',
      's:done',
      'r:done',
    ]);
    expect(wire.map((m) => ('chunk' in m ? `${m.step}#${m.chunk}` : m.step))).toEqual([
      'psi-oprf-correction#0',
      'psi-oprf-correction#1',
      'psi-oprf-values#0',
      'psi-oprf-values#1',
    ]);
    if (r.stage !== 'done') throw new Error('receiver not done');
    expect(r.result.rows).toHaveLength(50_000);
  });

  it('name the expected and the received stage when a message arrives out of order', () => {
    const { receiver, sender, senderStart } = sessions(10, 10);
    const values: OprfMessage = { step: 'psi-oprf-values', bucket: 0, chunk: 0, values: new Uint8Array(0) };
    expect(() => senderSessionReceive(senderStart.state, values)).toThrow(ProtocolStageError);
    expect(() => senderSessionReceive(senderStart.state, values)).toThrow(
      'psi-oprf-sender: expected stage "psi-oprf-setup" but received "psi-oprf-values"',
    );
    const r = startReceiverBucket(receiver, 0, { digests: digestIds(domainKey, ['a']), rows: Uint32Array.of(0) });
    expect(() => receiverBucketReceive(r, values)).toThrow(
      'psi-oprf-receiver: expected stage "correcting" but received "psi-oprf-values"',
    );
    const s = startSenderBucket(sender, 0, { digests: digestIds(domainKey, ['a']), rows: Uint32Array.of(0) });
    expect(() => senderBucketNext(s)).toThrow(
      'psi-oprf-sender: expected stage "sending-values" but received "awaiting-corrections"',
    );
    const late: OprfMessage = { step: 'psi-oprf-correction', bucket: 0, chunk: 3, rows: new Uint8Array(0) };
    expect(() => senderBucketReceive(s, late)).toThrow(
      'psi-oprf-sender: expected stage "psi-oprf-correction bucket 0 chunk 0" but received "psi-oprf-correction bucket 0 chunk 3"',
    );
  });
});
