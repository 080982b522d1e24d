/**
 * Which scoring endpoints of a node are running, for its console. Once
 * `tandem serve` listens it states itself in
 * `<dataDir>/serving/running/<pid>-<port>.json` (0600 in a 0700 directory:
 * ports, job, role, how its public port authenticates, never a token) and
 * removes the file when it closes. The console lists the files whose
 * process is alive (one left by a process that died is skipped) and reads
 * each endpoint's `/metrics` as the node itself: with a bearer token from
 * the endpoint's token file, or over mTLS with the node's own certificate
 * (an operator of its own endpoints). It learns what the node's operator
 * could read from the same port; nothing here crosses a party boundary.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeIdentity } from '../runtime/certs.ts';
import { firstToken } from './token-file.ts';
import { processAlive, processStartTicks } from '../runtime/node-lock.ts';

export type RunningEndpoint = {
  readonly pid: number;
  /** When the process started (Linux clock ticks since boot), so a reused pid is not taken for it. */
  readonly startTicks: string | null;
  readonly jobId: string;
  readonly jobName: string;
  readonly role: string;
  readonly party: string;
  readonly modelDir: string;
  /** The public port's listen address and port. */
  readonly listen: string;
  readonly port: number;
  /** A host's mTLS peer port. */
  readonly peerPort: number | null;
  readonly grpcPort: number | null;
  /** How the public port authenticates: bearer tokens from `tokenFile`, or client certificates (HTTPS). */
  readonly auth: 'token' | 'mtls';
  readonly tokenFile: string | null;
  readonly startedAt: string;
};

/** What the console shows of an endpoint's metrics. */
export type EndpointMetrics = {
  /** Requests answered, by route (health and metrics scrapes left out), and how many of them were not 2xx. */
  readonly requests: Readonly<Record<string, number>>;
  readonly failed: number;
  /** Of the busiest route: its name and latency quantiles as histogram bucket bounds (≤), in ms; null without requests. */
  readonly latency: { readonly route: string; readonly p50Ms: number; readonly p99Ms: number } | null;
  /** Guest: rows scored with every host's part, and fallbacks (a host's part missing). */
  readonly rowsScored: { readonly complete: number; readonly fallback: number };
  /** Guest: calls to hosts by outcome. */
  readonly hostCalls: Readonly<Record<string, number>>;
  /** Host: users looked up, answered or refused by the rate limit. */
  readonly lookups: { readonly answered: number; readonly rateLimited: number };
  readonly residentBytes: number | null;
  readonly cpuSeconds: number | null;
};

const dirOf = (dataDir: string): string => join(dataDir, 'serving', 'running');

/** States a listening endpoint; returns what removes the statement (call it on close). */
export function announceEndpoint(dataDir: string, endpoint: RunningEndpoint): () => void {
  const dir = dirOf(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${endpoint.pid}-${endpoint.port}.json`);
  writeFileSync(file, `${JSON.stringify(endpoint, null, 2)}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The endpoints stated under `dataDir` whose process is alive, oldest first. */
export async function runningEndpoints(dataDir: string): Promise<RunningEndpoint[]> {
  const dir = dirOf(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: RunningEndpoint[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const e = JSON.parse(await readFile(join(dir, name), 'utf8')) as RunningEndpoint;
      if (Number.isSafeInteger(e.pid) && Number.isSafeInteger(e.port) && runs(e)) found.push(e);
    } catch {
      // Being written or removed as we read: the next look sees it whole or not at all.
    }
  }
  return found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/**
 * Reads an endpoint's `/metrics` as the node.
 * @throws Error when the endpoint does not answer within `timeoutMs` or refuses
 */
export async function scrapeEndpoint(
  endpoint: RunningEndpoint,
  identity: NodeIdentity,
  timeoutMs = 2000,
): Promise<EndpointMetrics> {
  // An endpoint listening on every address is reached on loopback.
  const host = ['0.0.0.0', '::', ''].includes(endpoint.listen) ? '127.0.0.1' : endpoint.listen.replace(/^\[|\]$/g, '');
  const token = endpoint.auth === 'token' && endpoint.tokenFile !== null ? await firstToken(endpoint.tokenFile) : '';
  const text = await new Promise<string>((resolve, reject) => {
    const options = { host, port: endpoint.port, path: '/metrics', timeout: timeoutMs };
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${res.statusCode ?? 0}`)),
      );
    };
    const req =
      endpoint.auth === 'token'
        ? httpRequest({ ...options, headers: { authorization: `Bearer ${token}` } }, onResponse)
        : httpsRequest(
            {
              ...options,
              ca: identity.caPem,
              cert: identity.certPem,
              key: identity.keyPem,
              // The endpoint is this node: it presents this node's own certificate.
              checkServerIdentity: (_h, cert) =>
                cert.subject.CN === identity.name ? undefined : new Error(`not ${identity.name}'s endpoint`),
            },
            onResponse,
          );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  return summarizeMetrics(text);
}

/** The console's summary of a Prometheus text exposition from `tandem serve`. */
export function summarizeMetrics(text: string): EndpointMetrics {
  const samples = parseExposition(text);
  const requests: Record<string, number> = {};
  let failed = 0;
  const hostCalls: Record<string, number> = {};
  const rowsScored = { complete: 0, fallback: 0 };
  const lookups = { answered: 0, rateLimited: 0 };
  const buckets = new Map<string, { le: number; count: number }[]>();
  let residentBytes: number | null = null;
  let cpuSeconds: number | null = null;
  for (const { name, labels, value } of samples) {
    const route = labels['route'] ?? '';
    if (name === 'tandem_serve_requests_total' && !QUIET_ROUTES.has(route)) {
      requests[route] = (requests[route] ?? 0) + value;
      if (!(labels['status'] ?? '').startsWith('2') && labels['status'] !== 'OK') failed += value;
    } else if (name === 'tandem_serve_host_calls_total') {
      const outcome = labels['outcome'] ?? '';
      hostCalls[outcome] = (hostCalls[outcome] ?? 0) + value;
    } else if (name === 'tandem_serve_rows_scored_total') {
      if (labels['complete'] === 'true') rowsScored.complete += value;
      else rowsScored.fallback += value;
    } else if (name === 'tandem_serve_lookups_total') {
      if (labels['outcome'] === 'answered') lookups.answered += value;
      else lookups.rateLimited += value;
    } else if (name === 'tandem_serve_request_duration_seconds_bucket' && !QUIET_ROUTES.has(route)) {
      const list = buckets.get(route) ?? [];
      list.push({ le: labels['le'] === '+Inf' ? Infinity : Number(labels['le']), count: value });
      buckets.set(route, list);
    } else if (name === 'process_resident_memory_bytes') residentBytes = value;
    else if (name === 'process_cpu_seconds_total') cpuSeconds = value;
  }
  const busiest = Object.entries(requests).sort((a, b) => b[1] - a[1])[0]?.[0];
  const list = busiest === undefined ? undefined : buckets.get(busiest)?.sort((a, b) => a.le - b.le);
  const total = list?.at(-1)?.count ?? 0;
  const quantile = (q: number): number => (list?.find((b) => b.count >= q * total)?.le ?? Infinity) * 1000;
  return {
    requests,
    failed,
    latency:
      busiest === undefined || total === 0 ? null : { route: busiest, p50Ms: quantile(0.5), p99Ms: quantile(0.99) },
    rowsScored,
    hostCalls,
    lookups,
    residentBytes,
    cpuSeconds,
  };
}

/** Health checks and scrapes: the console's own reads are not traffic. */
const QUIET_ROUTES = new Set(['health', 'peer-health', 'metrics', 'unknown']);

type Sample = { readonly name: string; readonly labels: Readonly<Record<string, string>>; readonly value: number };

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

/** Whether the stated process still runs: alive, and started when it said (where /proc tells). */
function runs(e: RunningEndpoint): boolean {
  if (!processAlive(e.pid)) return false;
  const now = processStartTicks(e.pid);
  return e.startTicks === null || now === undefined || now === e.startTicks;
}
