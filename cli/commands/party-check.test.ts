/**
 * `party-check` agrees with the jobs: every example configuration and every
 * dataset configuration the end-to-end tests train with is checked, with and
 * without its job spec, and must pass where the job runs and fail (with the
 * code the job's node would report) where the job fails. The job outcomes
 * are the ones the named end-to-end tests assert.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { splitHillstrom } from '../../examples/hillstrom/split.ts';
import { coldStartJob, lookalikeJob, retailDatasets } from '../../examples/retail/federation.ts';
import { generateRetail } from '../../examples/retail/generate.ts';
import { EXAMPLE_DATA, exampleParties, lrSpec, type PartySetup } from '../../test/support/federation.ts';
import { longIdBreastParties } from '../../test/support/long-ids.ts';
import { MAX_CLASSES, MIN_CLASS_TRAINING_ROWS } from '../../jobs/supervised/outputs.ts';
import { MAX_COLD_START_CLASSES, MIN_CLASS_ROWS } from '../../data/job-fit.ts';
import { checkParty } from './party-check.ts';

const ROOT = join(import.meta.dirname, '..', '..');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-party-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NODE = {
  coordinator: '127.0.0.1:7443',
  dataDir: './state',
  certs: { ca: 'ca.crt', cert: 'n.crt', key: 'n.key' },
};

/** What checking one party's config, with or without the job, came to: 'ok' or the first failure's code. */
async function outcome(config: string, job?: string): Promise<string> {
  try {
    const result = await checkParty({ config, ...(job === undefined ? {} : { job }) });
    return result.failures[0]?.error.code ?? 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** Writes node configs for `parties` and the job spec into a fresh directory; returns each party's outcome with and without the job. */
async function federation(
  name: string,
  parties: readonly PartySetup[],
  spec: Record<string, unknown>,
): Promise<Record<string, { alone: string; withJob: string }>> {
  const at = join(dir, name);
  await mkdir(at, { recursive: true });
  const job = join(at, 'job.yaml');
  await writeFile(job, stringify(spec));
  const named = new Set((spec['parties'] as { name: string }[]).map((p) => p.name));
  const out: Record<string, { alone: string; withJob: string }> = {};
  for (const p of parties.filter((q) => named.has(q.name))) {
    const config = join(at, `${p.name}.yaml`);
    await writeFile(config, stringify({ node: { name: p.name, ...NODE }, datasets: p.datasets }));
    out[p.name] = { alone: await outcome(config), withJob: await outcome(config, job) };
  }
  return out;
}

const ok = { alone: 'ok', withJob: 'ok' };

describe('party-check on every example configuration', () => {
  /**
   * A copy of examples/ where each example finds the data it expects: its
   * YAML files, examples/data, the deploy volume's ../input, and the
   * Hillstrom split that examples/hillstrom/split.ts writes to tmp/hillstrom.
   */
  async function mirror(): Promise<string> {
    const root = join(dir, 'mirror');
    for (const entry of await readdir(join(ROOT, 'examples'), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.yaml')) continue;
      const target = join(root, 'examples', entry.parentPath.slice(join(ROOT, 'examples').length), entry.name);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(entry.parentPath, entry.name), target);
    }
    await symlink(EXAMPLE_DATA, join(root, 'examples', 'data'));
    await symlink(EXAMPLE_DATA, join(root, 'examples', 'input'));
    await splitHillstrom({ outDir: join(root, 'tmp', 'hillstrom'), sample: 2000, seed: 7 });
    return root;
  }

  it(
    'accepts every party of every example job, with and without the job, and the list covers every example',
    { timeout: 60_000 },
    async () => {
      const root = await mirror();
      const results: Record<string, string> = {};
      for (const entry of await readdir(join(root, 'examples'), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.yaml')) continue;
        const file = join(entry.parentPath, entry.name);
        const doc = parse(await readFile(file, 'utf8')) as {
          node?: unknown;
          kind?: string;
          parties?: { name: string }[];
        };
        if (doc.node === undefined) continue;
        const jobs = (await readdir(entry.parentPath)).filter((f) => f.endsWith('.yaml') && f !== entry.name);
        const label = `${entry.parentPath.slice(root.length + 1)}/${entry.name}`;
        results[label] = await outcome(file);
        for (const j of jobs) {
          const spec = parse(await readFile(join(entry.parentPath, j), 'utf8')) as {
            kind?: string;
            parties?: { name: string }[];
          };
          const me = (doc.node as { name: string }).name;
          if (spec.kind !== undefined && spec.parties?.some((p) => p.name === me) === true)
            results[`${label} --job ${j}`] = await outcome(file, join(entry.parentPath, j));
        }
      }

      expect(results).toEqual({
        'examples/default-credit/brand.yaml': 'ok',
        'examples/default-credit/brand.yaml --job job.yaml': 'ok',
        'examples/default-credit/partner.yaml': 'ok',
        'examples/default-credit/partner.yaml --job job.yaml': 'ok',
        'examples/deploy/brand.yaml': 'ok',
        'examples/deploy/brand.yaml --job job.yaml': 'ok',
        'examples/deploy/partner.yaml': 'ok',
        'examples/deploy/partner.yaml --job job.yaml': 'ok',
        'examples/hillstrom/brand.yaml': 'ok',
        'examples/hillstrom/brand.yaml --job job.yaml': 'ok',
        'examples/hillstrom/partner.yaml': 'ok',
        'examples/hillstrom/partner.yaml --job job.yaml': 'ok',
      });
    },
  );

  it(
    "accepts the retail demo's lookalike seed list (features: none, no label) and its 3-class cold-start label (tandem demo runs both)",
    { timeout: 60_000 },
    async () => {
      const data = join(dir, 'retail');
      const manifest = await generateRetail({
        outDir: data,
        poolSize: 3000,
        members: 1200,
        partnerFeatures: 12,
        seed: 7,
      });
      const datasets = retailDatasets(data, manifest);
      const parties: PartySetup[] = [
        { name: 'brand', datasets: datasets.brand },
        { name: 'partner', datasets: datasets.partner },
      ];

      const lookalike = await federation('retail-lookalike', parties, lookalikeJob(7));
      const coldStart = await federation('retail-cold-start', parties, coldStartJob(7));

      expect(lookalike).toEqual({ brand: ok, partner: ok });
      expect(coldStart).toEqual({ brand: ok, partner: ok });
    },
  );
});

describe('party-check on the configurations the end-to-end tests train with', () => {
  it(
    'accepts hetero-LR on breast and default-credit, and cold start on vehicle (4 classes) and breast (accuracy, cold-start, serving e2e)',
    { timeout: 60_000 },
    async () => {
      expect(await federation('breast-lr', exampleParties('breast'), lrSpec())).toEqual({ brand: ok, partner: ok });
      expect(await federation('credit-lr', exampleParties('default_credit'), lrSpec())).toEqual({
        brand: ok,
        partner: ok,
      });
      expect(
        await federation(
          'vehicle-cold-start',
          exampleParties('vehicle'),
          lrSpec({ name: 'vehicle-segments', kind: 'cold-start' }),
        ),
      ).toEqual({ brand: ok, partner: ok });
      expect(
        await federation(
          'breast-cold-start',
          exampleParties('breast'),
          lrSpec({ name: 'breast-cold-start', kind: 'cold-start' }),
        ),
      ).toEqual({ brand: ok, partner: ok });
    },
  );

  it('accepts two hosts that each list their columns (accuracy e2e)', async () => {
    const columns = (from: number): { name: string; type: string }[] =>
      Array.from({ length: 10 }, (_, k) => ({ name: `x${from + k}`, type: 'numeric' }));
    const host = (name: string, from: number): PartySetup => ({
      name,
      datasets: { d: { file: join(EXAMPLE_DATA, 'breast_host.csv.gz'), id: 'id', features: columns(from) } },
    });
    const spec = lrSpec({
      parties: [
        { name: 'brand', role: 'guest', dataset: 'd' },
        { name: 'partner', role: 'host', dataset: 'd' },
        { name: 'partner2', role: 'host', dataset: 'd' },
      ],
    });

    expect(
      await federation(
        'two-hosts',
        [exampleParties('breast')[0] as PartySetup, host('partner', 0), host('partner2', 10)],
        spec,
      ),
    ).toEqual({ brand: ok, partner: ok, partner2: ok });
  });

  it(
    'accepts lookalike and reach on a seed list with no label and no features (lookalike and coordinator-psi e2e)',
    { timeout: 60_000 },
    async () => {
      const lines = gunzipSync(await readFile(join(EXAMPLE_DATA, 'default_credit_guest.csv.gz')))
        .toString('utf8')
        .trim()
        .split('\n')
        .slice(1);
      const seeds = join(dir, 'seeds.csv');
      await writeFile(
        seeds,
        `id\n${lines
          .filter((l) => l.split(',')[1] === '1')
          .map((l) => l.split(',')[0])
          .join('\n')}\n`,
      );
      const parties: PartySetup[] = [
        { name: 'brand', datasets: { seeds: { file: seeds, id: 'id', features: 'none' } } },
        {
          name: 'partner',
          datasets: { pool: { file: join(EXAMPLE_DATA, 'default_credit_host.csv.gz'), id: 'id', features: 'all' } },
        },
      ];
      const job = (kind: string): Record<string, unknown> => ({
        name: `${kind}-test`,
        kind,
        seed: 42,
        parties: [
          { name: 'brand', role: 'guest', dataset: 'seeds' },
          { name: 'partner', role: 'host', dataset: 'pool' },
        ],
      });
      await mkdir(join(dir, 'long-ids-data'));
      const long = await longIdBreastParties(join(dir, 'long-ids-data'));

      expect(
        await federation('lookalike', parties, {
          ...job('lookalike'),
          lookalike: { decoyRatio: 1, audiencePercent: 5 },
        }),
      ).toEqual({ brand: ok, partner: ok });
      expect(await federation('reach', parties, job('reach'))).toEqual({ brand: ok, partner: ok });
      expect(await federation('long-ids', long, lrSpec({ alignment: { psi: 'coordinator' } }))).toEqual({
        brand: ok,
        partner: ok,
      });
    },
  );

  it('fails where the job-failures e2e jobs fail at a node, with the code that node reports, and passes the cross-party failure it cannot see', async () => {
    const ids = (p: string): string[] => Array.from({ length: 50 }, (_, k) => `${p}${k}`);
    const rows = (list: readonly string[], label: boolean): string =>
      [
        label ? 'id,y,a,b' : 'id,c,d',
        ...list.map((id, k) => (label ? `${id},${k % 2},${k},${k * 2}` : `${id},${k % 7},${k % 3}`)),
      ].join('\n') + '\n';
    await writeFile(join(dir, 'guest.csv'), rows(ids('a'), true));
    await writeFile(join(dir, 'host-disjoint.csv'), rows(ids('b'), false));
    await writeFile(join(dir, 'host-bad.csv'), rows(ids('a'), false).replace('\na7,0,1\n', '\na7,zero,1\n'));
    const parties: PartySetup[] = [
      {
        name: 'brand',
        datasets: {
          d: { file: join(dir, 'guest.csv'), id: 'id', label: { column: 'y' }, features: 'all' },
          nolabel: { file: join(dir, 'guest.csv'), id: 'id', features: [{ name: 'a', type: 'numeric' }] },
        },
      },
      {
        name: 'partner',
        datasets: {
          d: { file: join(dir, 'host-disjoint.csv'), id: 'id', features: 'all' },
          bad: { file: join(dir, 'host-bad.csv'), id: 'id', features: 'all' },
        },
      },
    ];
    const with_ = (guest: string, host: string): Record<string, unknown> =>
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: guest },
          { name: 'partner', role: 'host', dataset: host },
        ],
      });

    // The empty intersection is found by PSI, across parties: each side alone is fine.
    expect(await federation('disjoint', parties, lrSpec())).toEqual({
      brand: ok,
      partner: { alone: 'DATA_VALUE_INVALID', withJob: 'ok' },
    });
    expect((await federation('bad', parties, with_('d', 'bad')))['partner']).toEqual({
      alone: 'DATA_VALUE_INVALID',
      withJob: 'DATA_VALUE_INVALID',
    });
    expect((await federation('nolabel', parties, with_('nolabel', 'd')))['brand']).toEqual({
      alone: 'ok',
      withJob: 'CONFIG_INVALID',
    });
    expect((await federation('nope', parties, with_('d', 'nope')))['partner']).toEqual({
      alone: 'DATA_VALUE_INVALID',
      withJob: 'JOB_SPEC_INVALID',
    });
  });
});

describe('party-check on setups no job can train', () => {
  const STUDENT = '/work/shared/data/fate/student_hetero_';
  const grades: PartySetup[] = [
    {
      name: 'brand',
      datasets: { d: { file: `${STUDENT}guest.csv`, id: 'id', label: { column: 'y', type: 'continuous' } } },
    },
    { name: 'partner', datasets: { d: { file: `${STUDENT}host.csv`, id: 'id' } } },
  ];

  it("uses the job's own limits on classes", () => {
    expect([MAX_COLD_START_CLASSES, MIN_CLASS_ROWS]).toEqual([MAX_CLASSES, MIN_CLASS_TRAINING_ROWS]);
  });

  it('accepts a continuous label for hetero-LR (a regression), and refuses it for cold start and under privacy.dp, as models/lr/regression.ts does', async () => {
    const regression = await federation('grades-lr', grades, lrSpec());
    const coldStart = await federation('grades-cold-start', grades, lrSpec({ kind: 'cold-start' }));
    const dp = await federation('grades-dp', grades, lrSpec({ privacy: { dp: { epsilon: 3, delta: 1e-5 } } }));

    expect(regression).toEqual({ brand: ok, partner: ok });
    expect(coldStart['brand']).toEqual({ alone: 'ok', withJob: 'CONFIG_INVALID' });
    expect(dp['brand']).toEqual({ alone: 'ok', withJob: 'CONFIG_INVALID' });
  });

  it('refuses a 4-class label for hetero-LR (use cold start), a cold-start class too small to train, and a lookalike host with no features', async () => {
    const vehicle = await federation('vehicle-lr', exampleParties('vehicle'), lrSpec());
    const tiny = join(dir, 'tiny-class.csv');
    await writeFile(
      tiny,
      `id,y,a\n${Array.from({ length: 60 }, (_, i) => `${i},${i < 3 ? 'rare' : ['x', 'y'][i % 2]},${i}`).join('\n')}\n`,
    );
    const small = await federation(
      'tiny-class',
      [
        { name: 'brand', datasets: { d: { file: tiny, id: 'id', label: { column: 'y', type: 'multiclass' } } } },
        { name: 'partner', datasets: { d: { file: tiny, id: 'id', features: [{ name: 'a', type: 'numeric' }] } } },
      ],
      lrSpec({ kind: 'cold-start' }),
    );
    const bare: PartySetup = {
      name: 'partner',
      datasets: { d: { file: join(EXAMPLE_DATA, 'breast_host.csv.gz'), id: 'id', features: 'none' } },
    };
    const lookalike = await federation(
      'bare-host',
      [exampleParties('breast')[0] as PartySetup, bare],
      lrSpec({ kind: 'lookalike' }),
    );

    expect(vehicle['brand']).toEqual({ alone: 'ok', withJob: 'DATA_LABEL_INVALID' });
    expect(small['brand']).toEqual({ alone: 'ok', withJob: 'DATA_LABEL_INVALID' });
    expect(lookalike['partner']).toEqual({ alone: 'ok', withJob: 'CONFIG_INVALID' });
  });

  it('says why, and what to do instead', async () => {
    const at = (name: string): { config: string; job: string } => ({
      config: join(dir, name, 'brand.yaml'),
      job: join(dir, name, 'job.yaml'),
    });
    const vehicle = await checkParty(at('vehicle-lr'));
    const tiny = await checkParty(at('tiny-class'));
    const refused = await checkParty(at('grades-cold-start')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(vehicle.failures[0]?.error.message).toContain(
      'column "y": datasets.d.label has 4 classes, but a hetero-lr job predicts a binary label, or a number (continuous). Fix: use kind: cold-start to predict one of 4 classes',
    );
    expect(tiny.failures[0]?.error.message).toContain(
      'datasets.d.label has 1 of its 3 classes with fewer than 5 rows in the whole file ("rare": 3)',
    );
    expect(refused?.message).toContain(
      'datasets.d.label.type: is continuous, but a cold-start job predicts a segment (a binary or multi-class label). Fix: use kind: hetero-lr for a continuous label, or a binary or multiclass label',
    );
  });
});
