/**
 * Reach estimate: how many of the guest's ids the host also has, and
 * nothing else. PSI in `size` mode: the host shuffles the re-blinded guest
 * set, so the guest learns only the overlap count; the guest tells the host
 * the count. No training, no rows selected.
 */
import { createHmac } from 'node:crypto';
import { newScalar } from '../../protocol/psi/group.ts';
import { hostReceive, startHost } from '../../protocol/psi/psi-session.ts';
import { PSI_GUEST_SET, PSI_RESULT } from '../../protocol/messages.ts';
import { Random } from '../../protocol/random.ts';
import type { JobSpec, PartySpec } from '../../protocol/job-spec.ts';
import type { DatasetConfig } from '../../party/config.ts';
import { loadJobDataset, type Dataset } from '../common/features.ts';
import { postPsi, receivePsi, runGuestPsi } from '../common/alignment.ts';
import { countViaCoordinator, offerViaCoordinator } from '../common/coordinator-psi.ts';
import { durableSealingKeys } from '../common/setup.ts';
import { progressReporter, reportDone, type JobContext, type JobOutcome } from '../context.ts';

function domainKey(jobId: string, guest: string, host: string): Uint8Array {
  return createHmac('sha256', 'tandem/v1/psi-size').update(`${jobId}|${guest}|${host}`).digest();
}

function done(ctx: JobContext, summary: Record<string, unknown>): JobOutcome {
  reportDone(ctx, summary);
  return { modelFile: '', summary };
}

export async function runReach(
  ctx: JobContext,
  spec: JobSpec,
  me: PartySpec,
  datasetConfig: DatasetConfig,
): Promise<JobOutcome> {
  const progress = progressReporter(ctx, ctx.log.child({ job: ctx.channel.jobId }));
  progress('setup', `loading dataset "${me.dataset}"`);
  const dataset = await loadJobDataset(datasetConfig, {
    spec,
    role: me.role,
    node: ctx.channel.me,
    configFile: ctx.config.file,
    log: ctx.log.child({ job: ctx.channel.jobId }),
  });
  await durableSealingKeys(
    undefined,
    ctx.channel,
    ctx.identity,
    spec.parties.map((p) => p.name),
  );
  const jobId = ctx.channel.jobId;
  const guest = spec.guest.name;
  const host = spec.hosts[0]?.name ?? '';
  const permutation = new Random(newScalar()).permutation(dataset.ids.length);
  if (me.role === 'guest') {
    progress('psi', `counting the overlap of ${dataset.ids.length} ids with ${host} (size-only PSI)`);
    const { size, hostCount } =
      spec.alignmentPsi === 'coordinator'
        ? await countViaCoordinator(ctx.channel, dataset.ids, host)
        : await runGuestPsi(ctx.channel, ctx.crypto, host, {
            mode: 'size',
            ids: dataset.ids,
            domainKey: domainKey(jobId, guest, host),
            scalar: newScalar(),
            permutation,
          });
    ctx.channel.post(host, PSI_RESULT, 0, { indices: new Uint8Array(), count: size, purpose: 'size' });
    progress('psi', `${size} of ${dataset.ids.length} ids are in ${host}'s ${hostCount}`);
    return done(ctx, {
      role: 'guest',
      kind: 'reach',
      overlap: size,
      guestIds: dataset.ids.length,
      hostIds: hostCount,
      share: size / Math.max(1, dataset.ids.length),
    });
  }
  progress('psi', `offering ${dataset.ids.length} ids to ${guest} (size-only PSI)`);
  if (spec.alignmentPsi === 'coordinator') await offerViaCoordinator(ctx.channel, dataset.ids, guest, undefined);
  else await offerEcdh(ctx, dataset, guest, permutation);
  const result = await ctx.channel.take(guest, PSI_RESULT, 0);
  return done(ctx, { role: 'host', kind: 'reach', overlap: result.count, hostIds: dataset.ids.length });
}

/** Host, ECDH: its blinded set, then the guest's set re-blinded and shuffled. */
async function offerEcdh(ctx: JobContext, dataset: Dataset, guest: string, permutation: Uint32Array): Promise<void> {
  const jobId = ctx.channel.jobId;
  const setup = {
    mode: 'size' as const,
    ids: dataset.ids,
    domainKey: domainKey(jobId, guest, ctx.channel.me),
    scalar: newScalar(),
    permutation,
  };
  for (const m of startHost(setup).outbound) postPsi(ctx.channel, guest, m);
  const guestSet = await receivePsi(ctx.channel, guest, PSI_GUEST_SET);
  // The re-blinded guest set goes back shuffled, so the guest cannot tell which of its ids matched.
  const count = 'elements' in guestSet ? guestSet.elements.byteLength / 32 : 0;
  const t = hostReceive(
    { stage: 'awaiting-guest-set', setup: { ...setup, resultShuffle: new Random(newScalar()).permutation(count) } },
    guestSet,
  );
  for (const m of t.outbound) postPsi(ctx.channel, guest, m);
}
