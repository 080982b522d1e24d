/**
 * Serving fixtures for unit tests and benchmarks that export hand-made model
 * parts: the coordinator's co-signing (coordinator/export-signing.ts)
 * without a running coordinator — the job store is replaced by records built
 * from the parts themselves, so every check the coordinator makes still
 * runs — and a guest + host pair of exported models with node configs;
 * and, for end-to-end tests, the CLI in its own processes and the
 * evaluation-time scores that served scores must equal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPartyConfig } from '../../party/config.ts';
import { openCsv } from '../../data/csv-reader.ts';
import { loadDataset, type Dataset } from '../../data/dataset.ts';
import { transformRows } from '../../data/preprocess.ts';
import { alignmentOrder } from '../../jobs/common/alignment.ts';
import { compileJobSpec, jobSpecSchema } from '../../protocol/job-spec.ts';
import { Random, stratifiedSplit } from '../../protocol/random.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import { interceptsOf, outputsOf } from '../../models/lr/part.ts';
import { partyConfigFile, type Federation } from './federation.ts';
import { loadNodeIdentity, type NodeIdentity } from '../../runtime/certs.ts';
import { exportModel } from '../../serving/model-bundle.ts';
import { firstToken } from '../../serving/token-file.ts';
import type { ServeMetrics } from '../../serving/metrics.ts';
import type { Logger } from '../../runtime/logger.ts';
import { signExport } from '../../coordinator/export-signing.ts';
import type { JobRecord } from '../../coordinator/job-store.ts';
import { SIGNATURE_ALGORITHM } from '../../protocol/serving/model-manifest.ts';
import type { CoSigner } from '../../serving/model-bundle.ts';
import type { ModelPart } from '../../models/lr/part.ts';

/** A completed job as the coordinator would have stored it, from its parties' model parts. */
export function jobRecordOf(parts: readonly ModelPart[], stage: JobRecord['stage'] = 'completed'): JobRecord {
  const first = parts[0];
  if (first === undefined) throw new RangeError('jobRecordOf needs at least one model part');
  return {
    jobId: first.jobId,
    name: first.jobName,
    kind: 'hetero-lr',
    stage,
    phase: 'done',
    parties: first.parties.map((p) => p.name),
    epoch: 0,
    maxEpochs: 0,
    unit: '',
    loss: 0,
    message: stage,
    summaryJson: JSON.stringify(Object.fromEntries(parts.map((p) => [p.party, p.summary]))),
    specYaml: '',
    specJson: JSON.stringify({ name: first.jobName, parties: first.parties }),
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

/** Co-signs as `coordinator` would, for the jobs given. `caller` is the exporting node (the mTLS peer at a real coordinator). */
export function testCoSigner(coordinator: NodeIdentity, caller: string, jobs: readonly JobRecord[]): CoSigner {
  return (manifest) => {
    const signed = signExport(caller, JSON.stringify(manifest), {
      identity: coordinator,
      job: (id) => jobs.find((j) => j.jobId === id),
    });
    return Promise.resolve({
      name: signed.coordinator,
      certificate: signed.certificate,
      algorithm: SIGNATURE_ALGORITHM,
      value: Buffer.from(signed.signature).toString('base64'),
    });
  };
}

/**
 * In `dir` (whose `certs/` holds a federation from `initCertificates`):
 * exports `brand`'s guest part and `partner`'s host part, co-signed, to
 * `brand-model` and `partner-model`, writes each party's data (`<name>.csv`)
 * and node config (`<name>.yaml`, dataset `d`, the guest's with `label`).
 */
export async function writeServingFixture(
  dir: string,
  parts: { readonly guest: ModelPart; readonly host: ModelPart },
  data: { readonly brand: string; readonly partner: string },
  label = '',
): Promise<void> {
  const id = (n: string): Promise<NodeIdentity> =>
    loadNodeIdentity({
      ca: join(dir, 'certs', 'ca.crt'),
      cert: join(dir, 'certs', `${n}.crt`),
      key: join(dir, 'certs', `${n}.key`),
    });
  const coordinator = await id('coordinator');
  const job = jobRecordOf([parts.guest, parts.host]);
  for (const [name, part] of [
    ['brand', parts.guest],
    ['partner', parts.host],
  ] as const) {
    await exportModel({
      part,
      identity: await id(name),
      outDir: join(dir, `${name}-model`),
      coSign: testCoSigner(coordinator, name, [job]),
    });
    await writeFile(join(dir, `${name}.csv`), data[name]);
    await writeFile(
      join(dir, `${name}.yaml`),
      `node:
  name: ${name}
  coordinator: 127.0.0.1:7443
  dataDir: ./${name}-data
  certs: { ca: certs/ca.crt, cert: certs/${name}.crt, key: certs/${name}.key }
datasets:
  d:
    file: ${name}.csv
    id: id${name === 'brand' && label !== '' ? `\n    label: ${label}` : ''}
    features: all
`,
    );
  }
}

export const ROOT = join(import.meta.dirname, '..', '..');

/** The guest's numeric input columns in {@link syntheticServing} (the issue's extraction attack recovered 13 weights). */
export const SYNTHETIC_GUEST_COLUMNS = Array.from({ length: 13 }, (_, j) => `x${j}`);

/**
 * A hand-made binary model split between `brand` (guest: 13 numeric
 * columns and a categorical `channel`) and `partner` (host: 4 numeric
 * columns), with seeded data: the host holds `hosts` users `h0…`, the guest
 * the first `shared` of them plus `guestOnly` users `g0…`. Continuous
 * features, so distinct users have distinct partial logits.
 */
export function syntheticServing(options: {
  readonly hosts: number;
  readonly shared: number;
  readonly guestOnly: number;
  readonly seed?: string;
}): { parts: { guest: ModelPart; host: ModelPart }; data: { brand: string; partner: string } } {
  const random = new Random(options.seed ?? 'synthetic-serving');
  const parties = [
    { name: 'brand', role: 'guest' as const, dataset: 'd' },
    { name: 'partner', role: 'host' as const, dataset: 'd' },
  ];
  const common = {
    format: 'tandem-model-part/1' as const,
    jobId: 'job-synthetic',
    jobName: 'synthetic',
    parties,
    link: { degree: 6, clip: 6 },
    rowClip: null,
    scoringKey: '5e'.repeat(32),
    summary: { metrics: { auc: 0.8 } },
  };
  const numeric = (name: string, k: number) => ({
    name,
    kind: 'numeric' as const,
    mean: 10 * k - 20,
    std: 1 + k / 4,
    indicator: false,
  });
  const channels = ['web', 'app', 'store'];
  const guestColumns = [
    ...SYNTHETIC_GUEST_COLUMNS.map((n, j) => numeric(n, j)),
    { name: 'channel', kind: 'categorical' as const, categories: channels, indicator: false },
  ];
  const guestOutputs = [...SYNTHETIC_GUEST_COLUMNS, ...channels.map((c) => `channel=${c}`)];
  const hostColumns = ['z0', 'z1', 'z2', 'z3'].map((n, j) => numeric(n, j));
  const weight = (): number => Math.round((random.nextFloat() * 4 - 2) * 1e6) / 1e6;
  const guest: ModelPart = {
    ...common,
    party: 'brand',
    role: 'guest',
    featureNames: guestOutputs,
    weights: guestOutputs.map(weight),
    intercept: -0.4375,
    splitSeed: 's',
    preprocess: {
      format: 'tandem-preprocess/1',
      missingPolicy: 'mean',
      missingTokens: ['', 'NA'],
      fittedRows: options.shared + options.guestOnly,
      columns: guestColumns,
      outputColumns: guestOutputs,
    },
  };
  const host: ModelPart = {
    ...common,
    party: 'partner',
    role: 'host',
    featureNames: hostColumns.map((c) => c.name),
    weights: hostColumns.map(weight),
    intercept: 0,
    preprocess: {
      format: 'tandem-preprocess/1',
      missingPolicy: 'mean',
      missingTokens: ['', 'NA'],
      fittedRows: options.hosts,
      columns: hostColumns,
      outputColumns: hostColumns.map((c) => c.name),
    },
  };
  const cell = (c: { mean: number; std: number }): string => (c.mean + c.std * random.nextGaussian()).toFixed(6);
  const partnerRows = Array.from({ length: options.hosts }, (_, i) => [`h${i}`, ...hostColumns.map(cell)].join(','));
  const guestIds = [
    ...Array.from({ length: options.shared }, (_, i) => `h${i}`),
    ...Array.from({ length: options.guestOnly }, (_, i) => `g${i}`),
  ];
  const brandRows = guestIds.map((id, i) =>
    [
      id,
      ...guestColumns.slice(0, -1).map((c) => cell(c as { mean: number; std: number })),
      channels[i % 3],
      i % 2,
    ].join(','),
  );
  return {
    parts: { guest, host },
    data: {
      brand: `${['id', ...guestColumns.map((c) => c.name), 'y'].join(',')}\n${brandRows.join('\n')}\n`,
      partner: `${['id', ...hostColumns.map((c) => c.name)].join(',')}\n${partnerRows.join('\n')}\n`,
    },
  };
}

/** The `model` and `serve` commands as a CLI of their own, so the test does not depend on their registration. */
const CLI_SOURCE = `
import yargs from '${pathToFileURL(join(ROOT, 'node_modules/yargs/index.mjs')).href}';
import { modelCommand } from '${pathToFileURL(join(ROOT, 'cli/commands/model.ts')).href}';
import { serveCommand } from '${pathToFileURL(join(ROOT, 'cli/commands/serve.ts')).href}';
import { reportFailure } from '${pathToFileURL(join(ROOT, 'cli/exit.ts')).href}';
try {
  await yargs(process.argv.slice(2)).strict().command(modelCommand).command(serveCommand).demandCommand(1)
    .fail((message, error) => { throw error ?? new Error(message); }).parseAsync();
} catch (error) {
  process.exitCode = reportFailure(error);
}
`;

/** Writes the test CLI (`model` and `serve` commands) into the federation directory; returns its path. */
export function writeServingCli(fed: Pick<Federation, 'write'>): Promise<string> {
  return fed.write('serving-cli.mjs', CLI_SOURCE);
}

/**
 * Evaluation-time partial logits of the validation rows: `guest` and `host`
 * row-major rows × K (K = 1 for a binary model), each class as the job's
 * evaluation computes it (the guest with its intercepts, a host without).
 */
export type Reference = { ids: string[]; outputs: number; guest: Float64Array; host: Float64Array; labels: Int32Array };

/** Evaluation-time scores of the validation rows, recomputed from the datasets, the job's alignment and split, and the model parts. */
export async function evaluationScores(
  fed: Federation,
  specFile: string,
  parts: { guest: ModelPart; host: ModelPart },
): Promise<Reference> {
  const spec = compileJobSpec(jobSpecSchema.parse((await import('yaml')).parse(await readFile(specFile, 'utf8'))));
  const data = async (name: string): Promise<Dataset> => {
    const config = await loadPartyConfig(partyConfigFile(fed, name));
    return loadDataset(config.datasets['d'] as NonNullable<(typeof config.datasets)[string]>);
  };
  const g = await data('brand');
  const h = await data('partner');
  const hostRow = new Map(h.ids.map((id, row) => [id, row]));
  const aligned = alignmentOrder(
    g.ids,
    g.ids.flatMap((id, row) => (hostRow.has(id) ? [row] : [])),
    spec.seed,
  );
  const labels = Int32Array.from(aligned, (row) => g.labels?.[row] ?? 0);
  const { test } = stratifiedSplit(labels, spec.validationFraction, parts.guest.splitSeed ?? '');
  const guestRows = Uint32Array.from(test, (p) => aligned[p] ?? 0);
  const ids = Array.from(guestRows, (row) => g.ids[row] ?? '');
  const hostRows = Uint32Array.from(ids, (id) => hostRow.get(id) ?? 0);
  const k = outputsOf(parts.guest);
  const score = (part: ModelPart, d: Dataset, rows: Uint32Array, withIntercept: boolean): Float64Array => {
    const { matrix, columns } = transformRows(part.preprocess, d, rows);
    const z = new Float64Array(rows.length * k);
    const intercepts = interceptsOf(part);
    for (let c = 0; c < k; c++) {
      const w = Float64Array.from(part.weights.slice(c * columns.length, (c + 1) * columns.length));
      partialLogits(
        matrix,
        columns.length,
        Uint32Array.from(rows, (_, i) => i),
        w,
        withIntercept ? (intercepts[c] ?? 0) : 0,
      ).forEach((v, i) => (z[i * k + c] = v));
    }
    return z;
  };
  return {
    ids,
    outputs: k,
    guest: score(parts.guest, g, guestRows, true),
    host: score(parts.host, h, hostRows, false),
    labels: Int32Array.from(test, (p) => labels[p] ?? 0),
  };
}

export async function rawRows(file: string): Promise<Map<string, Record<string, string>>> {
  const csv = await openCsv(file);
  const out = new Map<string, Record<string, string>>();
  for await (const row of csv)
    out.set(
      row.fields[csv.header.indexOf('id')] ?? '',
      Object.fromEntries(csv.header.map((h, i) => [h, row.fields[i] ?? ''])),
    );
  await csv.close();
  return out;
}

/** Runs the test CLI to completion without blocking this process (which hosts the federation). */
export async function runCli(
  cli: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr };
}

export type Served = {
  child: ChildProcess;
  port: number;
  peerPort?: number;
  grpcPort?: number;
  tokenFile?: string;
  auditLog?: string;
  exited: Promise<number | null>;
  stderr: () => string;
};

export async function serve(cli: string, args: string[], logLevel = 'warn'): Promise<Served> {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--port', '0', '--peer-port', '0', '--log-level', logLevel, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const ports = JSON.parse(line) as {
    port: number;
    peerPort?: number;
    grpcPort?: number;
    tokenFile?: string;
    auditLog?: string;
  };
  return { child, exited, stderr: () => stderr, ...ports };
}

/** The first token of a `tandem serve` bearer token file (what an operator's service would send). */
export async function bearerToken(file: string): Promise<string> {
  const token = await firstToken(file);
  if (token === '') throw new Error(`${file} holds no token`);
  return token;
}

/**
 * One HTTP request to a serving endpoint on loopback, as an operator when
 * `token` is given (`Authorization: Bearer`), anonymously otherwise.
 */
export async function http(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // metrics are text
  }
  return { status: res.status, json, text };
}

/** A logger whose lines the test can read. */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** The value of one series in the Prometheus text, or 0 when it is absent. */
export async function series(metrics: ServeMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const want = Object.entries(labels);
  for (const line of (await metrics.render()).split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (want.every(([k, v]) => have.get(k) === v) && have.size === want.length) return Number(m[3]);
  }
  return 0;
}
