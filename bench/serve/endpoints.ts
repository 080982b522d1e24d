/**
 * The serve bench's federation: a guest and a host endpoint (`tandem serve`)
 * as two processes on loopback, with certificates, signed model bundles
 * and the host's data, all set up by the code of one checkout. `root` is
 * the checkout: this one, or another commit's worktree (`--against`), whose
 * own modules are imported, so each side runs and exports with its own code.
 * The modules used are the ones every commit since the endpoints had signed
 * bundles has: certificates, model export, the test co-signer and
 * `startServing`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { ModelPart } from '../../models/lr/part.ts';
import type { PoolScoringResult } from '../../serving/batch-scoring.ts';

export const COLUMNS = 10;
const KEY = 'cd'.repeat(32);

/** Scores a pool file into a ranked audience file; `onProgress` gets the rows done so far. */
export type BatchScorer = (
  poolFile: string,
  outFile: string,
  onProgress?: (rows: number) => void,
) => Promise<PoolScoringResult>;

export type Federation = {
  /** The guest's public port (`POST /v1/score`). */
  readonly guestPort: number;
  /** A bearer token for the guest's public port, or '' for commits from before tokens. */
  readonly token: string;
  readonly guestPid: number | undefined;
  readonly hostPid: number | undefined;
  /** The host's exported model bundle (for batch scoring). */
  readonly hostModelDir: string;
  readonly certsOf: (name: string) => { ca: string; cert: string; key: string };
  stop(): Promise<void>;
};

/** A party's model part: 10 numeric columns, fixed weights, the bench's scoring key. */
export function part(name: string, role: 'guest' | 'host'): ModelPart {
  const names = Array.from({ length: COLUMNS }, (_, j) => `${role[0] ?? 'x'}${j}`);
  return {
    format: 'tandem-model-part/1',
    jobId: 'job-bench',
    jobName: 'bench',
    party: name,
    role,
    parties: [
      { name: 'brand', role: 'guest', dataset: 'd' },
      { name: 'partner', role: 'host', dataset: 'd' },
    ],
    featureNames: names,
    weights: names.map((_, j) => 0.1 * (j + 1) * (j % 2 === 0 ? 1 : -1)),
    intercept: role === 'guest' ? -0.3 : 0,
    link: { degree: 6, clip: 6 },
    rowClip: null,
    scoringKey: KEY,
    summary: {},
    preprocess: {
      format: 'tandem-preprocess/1',
      missingPolicy: 'mean',
      missingTokens: ['', 'NA'],
      fittedRows: 1000,
      columns: names.map((n) => ({ name: n, kind: 'numeric' as const, mean: 0.5, std: 0.3, indicator: false })),
      outputColumns: names,
    },
  };
}

/** A CSV of `rows` users (`u0`, `u1`, …) with 10 numeric columns named `<prefix>0`…. */
export async function writePool(file: string, rows: number, prefix: string): Promise<void> {
  const out = createWriteStream(file);
  const header = ['id', ...Array.from({ length: COLUMNS }, (_, j) => `${prefix}${j}`)].join(',');
  let chunk = [`${header}\n`];
  for (let r = 0; r < rows; r++) {
    const cells = [`u${r}`];
    for (let j = 0; j < COLUMNS; j++) cells.push((((r * 7919 + j * 104729) % 1000) / 1000).toFixed(3));
    chunk.push(`${cells.join(',')}\n`);
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join(''))) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end(chunk.join(''));
  await once(out, 'finish');
}

/** A module of the checkout at `root`. */
const load = (root: string, path: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(join(root, path)).href) as Promise<Record<string, unknown>>;

type Fn = (...args: unknown[]) => unknown;
const fn = (module: Record<string, unknown>, name: string): Fn => {
  const f = module[name];
  if (typeof f !== 'function') throw new Error(`the checkout has no ${name}`);
  return f as Fn;
};

/**
 * Sets up and starts a guest and a host endpoint in `dir` with the code at `root`;
 * the host holds `users` users, the ids the load generator asks about.
 */
export async function startFederation(root: string, dir: string, users: number): Promise<Federation> {
  const ca = await load(
    root,
    existsSync(join(root, 'runtime', 'certificate-authority.ts'))
      ? 'runtime/certificate-authority.ts'
      : 'runtime/certs.ts',
  );
  const loadNodeIdentity = fn(await load(root, 'runtime/certs.ts'), 'loadNodeIdentity');
  const exportModel = fn(await load(root, 'serving/model-bundle.ts'), 'exportModel');
  const support = await load(root, 'test/support/serving.ts');
  const certs = join(dir, 'certs');
  await fn(ca, 'initCertificates')({ outDir: certs, parties: ['brand', 'partner'] });
  const certsOf = (n: string) => ({
    ca: join(certs, 'ca.crt'),
    cert: join(certs, `${n}.crt`),
    key: join(certs, `${n}.key`),
  });
  await writePool(join(dir, 'host.csv'), users, 'h');
  const configs: Record<string, string> = {};
  const coordinator = await loadNodeIdentity(certsOf('coordinator'));
  const job = fn(support, 'jobRecordOf')([part('brand', 'guest'), part('partner', 'host')]);
  for (const [name, role] of [
    ['brand', 'guest'],
    ['partner', 'host'],
  ] as const) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        node: { name, coordinator: '127.0.0.1:1', dataDir: join(dir, name), certs: certsOf(name) },
        datasets: { d: { file: join(dir, 'host.csv'), id: 'id', features: 'all' } },
      }),
    );
    configs[name] = file;
    await exportModel({
      part: part(name, role),
      identity: await loadNodeIdentity(certsOf(name)),
      outDir: join(dir, `${name}-model`),
      coSign: fn(support, 'testCoSigner')(coordinator, name, [job]),
    });
  }
  const serve = join(root, 'serving', 'serve.ts');
  const host = await endpoint(serve, 'host', {
    modelDir: join(dir, 'partner-model'),
    configFile: configs['partner'] ?? '',
    port: 0,
    peerPort: 0,
  });
  const guest = await endpoint(serve, 'guest', {
    modelDir: join(dir, 'brand-model'),
    configFile: configs['brand'] ?? '',
    port: 0,
    hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
    hostTimeoutMs: 100,
  });
  // As the brand's web stack: with a token from the guest endpoint's token file.
  const token =
    guest.tokenFile === undefined
      ? ''
      : ((await readFile(guest.tokenFile, 'utf8')).split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '');
  const stop = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    await exited;
  };
  return {
    guestPort: guest.port,
    token,
    guestPid: guest.child.pid,
    hostPid: host.child.pid,
    hostModelDir: join(dir, 'partner-model'),
    certsOf,
    stop: async () => {
      await stop(guest.child);
      await stop(host.child);
    },
  };
}

/** The host's batch scoring (`scorePool`) with the code at `root`, over its federation's exported model. */
export async function batchScorer(root: string, federation: Federation): Promise<BatchScorer> {
  const loadNodeIdentity = fn(await load(root, 'runtime/certs.ts'), 'loadNodeIdentity');
  const bundles = await load(root, 'serving/model-bundle.ts');
  const scorePool = fn(await load(root, 'serving/batch-scoring.ts'), 'scorePool');
  const identity = (await loadNodeIdentity(federation.certsOf('partner'))) as { caPem: string };
  const model = await fn(bundles, 'loadModel')(federation.hostModelDir, { caPem: identity.caPem });
  return async (poolFile, outFile, onProgress) =>
    (await scorePool({ model, poolFile, outFile, onProgress })) as PoolScoringResult;
}

/** One endpoint in its own process (as in production); resolves with its ports and its token file once listening. */
async function endpoint(
  serve: string,
  role: 'guest' | 'host',
  options: Record<string, unknown>,
): Promise<{ child: ChildProcess; port: number; peerPort?: number; tokenFile?: string }> {
  const source = `
    import { startServing } from '${pathToFileURL(serve).href}';
    const s = await startServing(${JSON.stringify(options)});
    process.stdout.write(JSON.stringify({ port: s.port, peerPort: s.peerPort, tokenFile: s.tokens?.file }) + '\\n');
    process.on('SIGTERM', () => void s.close());
    // --against stops the idle side (SIGSTOP); the kernel hangs up a stopped process group once the shell that started the bench has gone.
    process.on('SIGHUP', () => {});`;
  // SERVE_NODE_FLAGS: node flags for the endpoints, e.g. --cpu-prof (NODE_OPTIONS refuses some of them).
  const flags = (process.env['SERVE_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    // SERVE_CHILD_LOG=prefix: each endpoint's stdout (where --trace-gc prints) to prefix-guest.log and prefix-host.log.
    const logTo = process.env['SERVE_CHILD_LOG'];
    const log = logTo === undefined ? undefined : createWriteStream(`${logTo}-${role}.log`);
    child.stdout?.on('data', (c: Buffer) => {
      log?.write(c);
      out += c.toString();
      // The first JSON line: node flags such as --trace-gc print to stdout too.
      const line = out.split('\n').find((l, i, all) => l.startsWith('{') && i < all.length - 1);
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`endpoint exited with ${code}`)));
  });
  child.on('exit', (code, signal) => {
    // Not stopped by the bench (child.killed is set by kill()): say so, as its load windows will fail.
    if (!child.killed) process.stderr.write(`\nthe ${role} endpoint (${serve}) exited: ${signal ?? `code ${code}`}\n`);
  });
  return { child, ...(JSON.parse(line) as { port: number; peerPort?: number; tokenFile?: string }) };
}
