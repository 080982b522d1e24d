/**
 * The serve bench's load generator: open-loop requests to a guest endpoint
 * at a fixed rate (due at fixed times whether or not earlier ones have
 * answered), and the endpoints' CPU time per request from /proc.
 */
import { Agent, request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { median } from '../harness.ts';
import { COLUMNS, type Federation } from './endpoints.ts';

/** A process's CPU time so far (user + system), in ms, from /proc (Linux); NaN elsewhere. */
export async function cpuMs(pid: number | undefined): Promise<number> {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th, in clock ticks (100 per second).
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

export const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

export type Load = {
  p50: number;
  p99: number;
  /** The median of the p99s of consecutive windows of `windowSeconds`. */
  windowP99: number;
  max: number;
  sent: number;
  ok: number;
  fallbacks: number;
  throughput: number;
  /** Each endpoint's CPU time (user + system, kernel socket work included) per request sent, µs. */
  guestCpuUs: number;
  hostCpuUs: number;
  /** Every answered request's latency, ms, ascending. */
  sorted: Float64Array;
};

/** The guest's features in every request. */
const FEATURES = Object.fromEntries(Array.from({ length: COLUMNS }, (_, j) => [`g${j}`, String(0.1 * j)]));

/**
 * Open-loop load on a federation's guest: `rate` requests a second for `seconds`, each about user `u<k mod users>`;
 * latency at the client, p99 over the run and per window of `windowSeconds`, and each endpoint's CPU per request.
 */
export async function onlineLoad(
  federation: Federation,
  rate: number,
  seconds: number,
  users: number,
  windowSeconds = seconds,
): Promise<Load> {
  const { guestPort: port, token } = federation;
  const features = FEATURES;
  const pids = [federation.guestPid, federation.hostPid] as const;
  const cpuBefore = await Promise.all(pids.map(cpuMs));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const authorization = token === '' ? {} : { authorization: `Bearer ${token}` };
  // Request k's latency at [k] (NaN: no answer); request k is due at k / rate seconds, so its window is known.
  const latencies = new Float64Array(Math.ceil(seconds * rate) + 1).fill(NaN);
  let ok = 0;
  let fallbacks = 0;
  let sent = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const settle = (): void => {
    outstanding--;
    if (outstanding === 0) drained?.();
  };
  const started = performance.now();
  const fire = (k: number): void => {
    outstanding++;
    const t0 = performance.now();
    const body = JSON.stringify({ id: `u${k % users}`, features });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/score',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...authorization },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          latencies[k] = performance.now() - t0;
          if (res.statusCode === 200) {
            ok++;
            if (!text.includes('"complete":true')) fallbacks++;
          }
          settle();
        });
      },
    );
    req.on('error', settle);
    req.end(body);
  };
  // Open loop: requests are due at fixed times whether or not earlier ones have answered.
  while (performance.now() - started < seconds * 1000) {
    const due = Math.min(latencies.length, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) fire(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = await Promise.all(pids.map(cpuMs));
  const perRequestUs = (i: number): number =>
    (((cpuAfter[i] ?? NaN) - (cpuBefore[i] ?? NaN)) * 1000) / Math.max(1, sent);
  agent.destroy();
  const answered = (from: number, to: number): Float64Array =>
    latencies
      .subarray(from, to)
      .filter((x) => !Number.isNaN(x))
      .sort();
  const sorted = answered(0, sent);
  const perWindow = Math.round(windowSeconds * rate);
  const windows: number[] = [];
  for (let from = 0; from + perWindow <= sent; from += perWindow)
    windows.push(percentile(answered(from, from + perWindow), 0.99));
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    windowP99: windows.length === 0 ? NaN : median(windows),
    max: sorted[sorted.length - 1] ?? NaN,
    sent,
    ok,
    fallbacks,
    throughput: ok / elapsed,
    guestCpuUs: perRequestUs(0),
    hostCpuUs: perRequestUs(1),
    sorted,
  };
}
