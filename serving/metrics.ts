/**
 * A minimal Prometheus registry: counters and histograms with labels,
 * rendered in the text exposition format (0.0.4). Enough for the serving
 * endpoints without a dependency.
 */

type Labels = Readonly<Record<string, string>>;

const key = (labels: Labels): string => Object.keys(labels).sort().map((k) => `${k}="${escape(labels[k] ?? '')}"`).join(',');
const escape = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const braces = (s: string): string => (s === '' ? '' : `{${s}}`);

export class Counter {
  readonly name: string;
  readonly help: string;
  readonly #values = new Map<string, number>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.#values.get(key(labels)) ?? 0;
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.#values].map(([k, v]) => `${this.name}${braces(k)} ${v}`)];
  }
}

/** Latency buckets in seconds, 0.5 ms to 2.5 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS_S) {
    this.name = name;
    this.help = help;
    this.#buckets = buckets;
  }

  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.#series.get(k);
    if (s === undefined) {
      s = { counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.#buckets.length; i++) if (value <= (this.#buckets[i] ?? Infinity)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.#series) {
      const sep = k === '' ? '' : `${k},`;
      this.#buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i] ?? 0}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`, `${this.name}_sum${braces(k)} ${s.sum}`, `${this.name}_count${braces(k)} ${s.count}`);
    }
    return lines;
  }
}

/** The serving endpoints' metrics. */
export class ServeMetrics {
  readonly requests = new Counter('tandem_serve_requests_total', 'Requests by route and status (HTTP status code; gRPC status name for grpc.* routes)');
  readonly errors = new Counter('tandem_serve_errors_total', 'Failed requests by route and error code');
  readonly latency = new Histogram('tandem_serve_request_duration_seconds', 'Request latency by route');
  readonly hostCalls = new Counter('tandem_serve_host_calls_total', 'Calls from the guest endpoint to host endpoints by host and outcome');
  readonly hostLatency = new Histogram('tandem_serve_host_call_duration_seconds', 'Latency of calls to host endpoints by host');
  readonly rowsScored = new Counter('tandem_serve_rows_scored_total', 'Rows scored, by completeness (all hosts answered, or a fallback)');

  render(): string {
    return `${[this.requests, this.errors, this.latency, this.hostCalls, this.hostLatency, this.rowsScored].flatMap((m) => m.render()).join('\n')}\n`;
  }
}
