/**
 * The `psi` benchmark: alignment alone, by protocol (`alignment.psi`: ecdh,
 * coordinator), at growing sizes, with every role in its own process (as in
 * `scale`, whose data generator and process federation it uses). Per size
 * and protocol: seeded synthetic CSVs with one feature a side (so loading and
 * training stay small next to PSI), one hetero-LR job of one pass, and the
 * PSI phase's wall time and core-seconds per role from the parties' logs and
 * /proc. Next to it, in this process, the pure steps of coordinator-aided
 * PSI (PRF per party, the coordinator's match) on ids generated in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Benchmark, BenchContext, BenchOutput, Table } from './harness.ts';
import { writeSynthetic } from './scale/data.ts';
import { startProcessFederation, UsageSampler } from './scale/processes.ts';
import { GUEST, HOST, ROLES, type Role } from './scale/tables.ts';
import { parseSize } from './scale.ts';
import { matchPrfSets, prfSet } from '../protocol/psi/coordinator-aided.ts';
import { Random } from '../protocol/random.ts';

type Protocol = 'ecdh' | 'coordinator';

type Row = {
  readonly protocol: Protocol;
  readonly ids: number;
  readonly shared: number;
  readonly stage: string;
  readonly psiSeconds: number | null;
  readonly coreSeconds: Record<Role, number> | null;
  readonly load: number;
};

async function runJob(ctx: BenchContext, ids: number, overlap: number, protocol: Protocol): Promise<Row> {
  const label = `${protocol} PSI, ${ids.toLocaleString('en-US')} ids per party`;
  const work = await mkdtemp(join(tmpdir(), 'tandem-psi-data-'));
  try {
    ctx.progress.step(`${label}: synthetic data`);
    const data = await writeSynthetic(
      { ids, overlap, guestFeatures: 1, hostFeatures: 1, seed: 'bench-psi' },
      join(work, 'guest.csv'),
      join(work, 'host.csv'),
      (done, total) => ctx.progress.detail(`${Math.round((100 * done) / total)} %`),
    );
    ctx.progress.step(`${label}: job`);
    const fed = await startProcessFederation([
      { name: GUEST, datasets: { d: { file: data.guestFile, id: 'id', label: { column: 'y' }, features: 'all' } } },
      { name: HOST, datasets: { d: { file: data.hostFile, id: 'id', features: 'all' } } },
    ]);
    try {
      const spec = await fed.write('job.yaml', {
        name: `psi-${protocol}-${ids}`,
        kind: 'hetero-lr',
        seed: 42,
        alignment: { psi: protocol },
        parties: [
          { name: GUEST, role: 'guest', dataset: 'd' },
          { name: HOST, role: 'host', dataset: 'd' },
        ],
        training: { maxEpochs: 1 },
        evaluation: { shareValidationScores: false },
      });
      const sampler = new UsageSampler(fed.roles);
      const admin = await fed.admin();
      let stage: string;
      try {
        const submitted = await admin.submit(spec);
        stage = (await admin.watch(submitted.jobId, (s) => ctx.progress.detail(`${s.stage}/${s.phase}`))).stage;
      } finally {
        admin.close();
        await sampler.sample();
        sampler.stop();
      }
      // PSI runs from when both parties are in it to when both have their rows (their own logs).
      const logs = await Promise.all(fed.roles.filter((r) => r.name !== 'coordinator').map((r) => r.phases()));
      const both = (which: 'first' | 'last'): number | undefined => {
        const times = logs.map((l) => l.get('psi')?.[which]);
        return times.some((t) => t === undefined) ? undefined : Math.max(...(times as number[]));
      };
      const [start, end] = [both('first'), both('last')];
      const known = start !== undefined && end !== undefined;
      const coreSeconds = known
        ? (Object.fromEntries(ROLES.map((r) => [r, sampler.cpuBetween(r, start, end)])) as Record<Role, number>)
        : null;
      const row: Row = {
        protocol,
        ids,
        shared: data.shared,
        stage,
        psiSeconds: known ? (end - start) / 1000 : null,
        coreSeconds,
        load: loadavg()[0] ?? 0,
      };
      ctx.progress.done(`${row.psiSeconds?.toFixed(1)} s (${stage})`);
      process.stderr.write(`psi result: ${JSON.stringify(row)}\n`);
      return row;
    } finally {
      await fed.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

type Steps = {
  readonly ids: number;
  readonly prfSeconds: number;
  readonly matchSeconds: number;
  readonly shared: number;
};

/** The pure steps on in-memory ids: one party's PRF list (the other's costs the same), then the match. */
function steps(ids: number, overlap: number): Steps {
  const shared = Math.round(ids * overlap);
  const guestIds = Array.from({ length: ids }, (_, k) => `id-${k}`);
  const hostIds = Array.from({ length: ids }, (_, k) => `id-${k + ids - shared}`);
  const key = createHash('sha256').update('bench-psi').digest();
  let t = performance.now();
  const guest = prfSet(key, guestIds, new Random('g').permutation(ids));
  const prfSeconds = (performance.now() - t) / 1000;
  const host = prfSet(key, hostIds, new Random('h').permutation(ids));
  t = performance.now();
  const matches = matchPrfSets(guest, host, { guest: GUEST, host: HOST });
  return { ids, prfSeconds, matchSeconds: (performance.now() - t) / 1000, shared: matches.guestPositions.length };
}

function tables(rows: readonly Row[], pure: readonly Steps[]): Table[] {
  return [
    {
      title: 'PSI by protocol and size, every role its own process',
      description:
        '*PSI s*: wall time from when both parties are in PSI to when both have their aligned rows. *core-s*: CPU seconds each process spent in that span (2 cores: at most 2 per wall second). *load*: 1-minute load average after the job.',
      columns: [
        { key: 'protocol', label: 'alignment.psi' },
        { key: 'ids', label: 'ids per party', digits: 0 },
        { key: 'shared', label: 'shared', digits: 0 },
        { key: 'psi', label: 'PSI s', digits: 1 },
        { key: 'coordinator', label: 'core-s coord.', digits: 1 },
        { key: 'guest', label: 'core-s guest', digits: 1 },
        { key: 'host', label: 'core-s host', digits: 1 },
        { key: 'load', label: 'load', digits: 1 },
        { key: 'stage', label: 'job' },
      ],
      rows: rows.map((r) => ({
        protocol: r.protocol,
        ids: r.ids,
        shared: r.shared,
        psi: r.psiSeconds,
        coordinator: r.coreSeconds?.coordinator ?? null,
        guest: r.coreSeconds?.[GUEST] ?? null,
        host: r.coreSeconds?.[HOST] ?? null,
        load: r.load,
        stage: r.stage,
      })),
    },
    {
      title: 'Coordinator-aided PSI, pure steps in one thread',
      description:
        "Ids generated in memory. *PRF s*: one party's HMAC-SHA256 list, shuffled (each party computes its own, in parallel). *match s*: the coordinator's hash-table match of the two lists.",
      columns: [
        { key: 'ids', label: 'ids per party', digits: 0 },
        { key: 'shared', label: 'shared', digits: 0 },
        { key: 'prf', label: 'PRF s', digits: 2 },
        { key: 'match', label: 'match s', digits: 2 },
      ],
      rows: pure.map((s) => ({ ids: s.ids, shared: s.shared, prf: s.prfSeconds, match: s.matchSeconds })),
    },
  ];
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const sizes = (ctx.options.get('sizes') ?? (ctx.quick ? '10k' : '100k,1M')).split(',').map(parseSize);
  const protocols = (ctx.options.get('protocols') ?? 'coordinator').split(',') as Protocol[];
  const overlap = Number(ctx.options.get('overlap') ?? '0.5');
  if (protocols.some((p) => p !== 'ecdh' && p !== 'coordinator'))
    throw new RangeError('--protocols: a comma-separated list of ecdh and coordinator');
  if (!(overlap > 0 && overlap <= 1)) throw new RangeError('--overlap must be in (0, 1]');
  const loadBefore = loadavg();
  const pure: Steps[] = [];
  for (const ids of sizes) {
    ctx.progress.step(`pure steps, ${ids.toLocaleString('en-US')} ids`);
    pure.push(steps(ids, overlap));
    ctx.progress.done(`PRF ${pure.at(-1)?.prfSeconds.toFixed(2)} s, match ${pure.at(-1)?.matchSeconds.toFixed(2)} s`);
  }
  const rows: Row[] = [];
  for (const ids of sizes) for (const protocol of protocols) rows.push(await runJob(ctx, ids, overlap, protocol));
  return {
    parameters: { sizes, protocols, overlap, rows, pure },
    tables: tables(rows, pure),
    notes: [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; ${availableParallelism()} cores, shared with other work.`,
    ],
  };
}

export const psiBenchmark: Benchmark = {
  name: 'psi',
  description:
    'PSI alone by protocol (alignment.psi: ecdh, coordinator) and size, every role in its own process, plus the pure steps of coordinator-aided PSI.',
  options: {
    sizes: 'ids per party, comma-separated; default 100k,1M (10k with --quick)',
    protocols: 'alignment.psi values to run, comma-separated; default coordinator (ECDH at 1M takes ~10 min here)',
    overlap: 'fraction of ids both parties hold; default 0.5',
  },
  run,
};
