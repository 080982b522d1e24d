import { describe, expect, it } from 'vitest';
import { receiveRows, runOprfReceiver, runOprfSender, sendPositions } from './psi-oprf-driver.ts';
import { memoryLinkPair, OprfMailbox } from './psi-oprf-mailbox.ts';
import { coordinates, decodeOprf, encodeOprf } from '../protocol/psi/oprf/codec.ts';
import type { OprfLink } from './psi-workers.ts';
import { seedFrom } from '../protocol/random.ts';

const domainKey = seedFrom('oprf-driver', 'domain');
const ids = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, k) => `${prefix}${from + k}`);

/** Links that carry every message as its protobuf body, decoded from a Buffer at an odd offset (as a socket or a mailbox may hand it over). */
function protobufLinkPair(): readonly [OprfLink, OprfLink] {
  const boxes = [new OprfMailbox(), new OprfMailbox()] as const;
  const link = (mine: OprfMailbox, theirs: OprfMailbox): OprfLink => ({
    send: (message) => {
      const body = encodeOprf(message);
      const carrier = Buffer.alloc(body.byteLength + 3);
      carrier.set(body, 3);
      theirs.put(decodeOprf(message.step, carrier.subarray(3)));
      expect(coordinates(message)).toEqual(coordinates(decodeOprf(message.step, body)));
      return Promise.resolve();
    },
    receive: (step, bucket, chunk) => mine.take(step, bucket, chunk),
  });
  return [link(boxes[0], boxes[1]), link(boxes[1], boxes[0])];
}

async function both(
  mode: 'intersection' | 'membership',
  receiverIds: string[],
  senderIds: string[],
  workers: number,
  minBuckets: number,
  links = memoryLinkPair(),
) {
  const [toSender, toReceiver] = links;
  const phases: string[] = [];
  const [receiver, sender] = await Promise.all([
    runOprfReceiver({
      link: toSender,
      mode,
      domainKey,
      secret: seedFrom('driver', 'r'),
      ids: receiverIds,
      workers,
      minBuckets,
      onProgress: (e) => phases.push(e.phase),
    }),
    runOprfSender({ link: toReceiver, mode, domainKey, secret: seedFrom('driver', 's'), ids: senderIds, workers }),
  ]);
  if (receiver.result.mode !== 'intersection') return { receiver, sender, phases };
  const [, rows] = await Promise.all([
    sendPositions(toSender, receiver.result.senderPositions),
    receiveRows(toReceiver, sender.positionRows),
  ]);
  return { receiver, sender, phases, rows };
}

describe('the OPRF-PSI role drivers', () => {
  it('align the same rows on worker threads as on the calling thread, over several buckets', async () => {
    const receiverIds = ids('u', 0, 20_000);
    const senderIds = ids('u', 15_000, 40_000).reverse();
    const outcomes = await Promise.all(
      [0, 2].map((workers) => both('intersection', receiverIds, senderIds, workers, 4)),
    );
    for (const { receiver, rows } of outcomes) {
      if (receiver.result.mode !== 'intersection' || rows === undefined) throw new Error('not an intersection');
      const receiverSide = Array.from(receiver.result.receiverRows, (r) => receiverIds[r]);
      expect(Array.from(rows, (r) => senderIds[r])).toEqual(receiverSide);
      expect(new Set(receiverSide)).toEqual(new Set(ids('u', 15_000, 20_000)));
    }
    expect(
      Array.from(outcomes[0]!.receiver.result.mode === 'intersection' ? outcomes[0]!.receiver.result.receiverRows : []),
    ).toEqual(
      Array.from(outcomes[1]!.receiver.result.mode === 'intersection' ? outcomes[1]!.receiver.result.receiverRows : []),
    );
    expect(outcomes[1]!.phases.filter((p) => p === 'buckets')).toHaveLength(4);
  });

  it('give the same rows when every message travels as protobuf, decoded at odd byte offsets', async () => {
    const receiverIds = ids('v', 0, 3_000);
    const senderIds = ids('v', 1_000, 9_000);
    const direct = await both('intersection', receiverIds, senderIds, 0, 2);
    const viaProtobuf = await both('intersection', receiverIds, senderIds, 0, 2, protobufLinkPair());
    expect(Array.from(viaProtobuf.rows ?? [])).toEqual(Array.from(direct.rows ?? []));
    expect(viaProtobuf.rows).toHaveLength(2_000);
  });

  it('in membership mode end with the receiver knowing the pool positions of its ids, and no positions sent back', async () => {
    const seeds = ids('p', 0, 500);
    const pool = ids('p', 250, 5_000);
    const { receiver, sender, rows } = await both('membership', seeds, pool, 1, 2);
    if (receiver.result.mode !== 'membership') throw new Error('not membership');
    const flagged = Array.from(receiver.result.isMember).flatMap((bit, position) =>
      bit === 1 ? [pool[sender.positionRows[position]!]] : [],
    );
    expect(new Set(flagged)).toEqual(new Set(ids('p', 250, 500)));
    expect(rows).toBeUndefined();
  });
});
