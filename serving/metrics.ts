/**
 * The serving endpoints' Prometheus metrics, through prom-client: one
 * registry per endpoint (a test process runs several), the process and
 * Node.js metrics prom-client collects by default, and Tandem's own series.
 * The names and labels below are documented in the README; dashboards
 * depend on them, so they do not change.
 *
 * The request path does not call prom-client: a labelled `inc` or
 * `observe` validates and hashes its labels every time, which under load
 * cost more than the rest of the bookkeeping. Each series is looked up once
 * (nested maps of label values, no string building) and then counts with
 * an addition, or keeps observations in a small buffer; the pending counts
 * are handed to prom-client when the registry is scraped (its `collect`
 * hook) and a full buffer at once, so a scrape shows every request that
 * finished before it.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, 0.5 ms to 2.5 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** The `status` label of a request the client abandoned before its answer (nginx's convention). */
export const CLIENT_CLOSED_STATUS = '499';

/** Observations a histogram series holds before it hands them to prom-client. */
const OBSERVATIONS_HELD = 256;

export type ServeMetricsOptions = {
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC, file descriptors). @default true */
  readonly processMetrics?: boolean | undefined;
};

/** One labelled series of a counter. */
export type CounterSeries = { add(by?: number): void };

/** One labelled series of a histogram. */
export type HistogramSeries = { observe(value: number): void };

class PendingCount implements CounterSeries {
  readonly #counter: Counter;
  readonly #labels: Readonly<Record<string, string>>;
  #pending = 0;
  constructor(counter: Counter, labels: Readonly<Record<string, string>>) {
    this.#counter = counter;
    this.#labels = labels;
  }
  add(by = 1): void {
    this.#pending += by;
  }
  flush(): void {
    if (this.#pending === 0) return;
    this.#counter.inc(this.#labels, this.#pending);
    this.#pending = 0;
  }
}

class PendingObservations implements HistogramSeries {
  readonly #values = new Float64Array(OBSERVATIONS_HELD);
  #held = 0;
  readonly #series: { observe(value: number): void };
  constructor(histogram: Histogram, labels: Readonly<Record<string, string>>) {
    this.#series = histogram.labels(labels);
  }
  observe(value: number): void {
    this.#values[this.#held++] = value;
    if (this.#held === OBSERVATIONS_HELD) this.flush();
  }
  flush(): void {
    for (let i = 0; i < this.#held; i++) this.#series.observe(this.#values[i] ?? 0);
    this.#held = 0;
  }
}

/** Series by their first and second label value: found again without building a key. */
class SeriesTable<S extends { flush(): void }> {
  readonly #byFirst = new Map<string, Map<string, S>>();
  readonly #make: (a: string, b: string) => S;
  constructor(make: (a: string, b: string) => S) {
    this.#make = make;
  }
  get(a: string, b = ''): S {
    let inner = this.#byFirst.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.#byFirst.set(a, inner);
    }
    let s = inner.get(b);
    if (s === undefined) {
      s = this.#make(a, b);
      inner.set(b, s);
    }
    return s;
  }
  flush(): void {
    for (const inner of this.#byFirst.values()) for (const s of inner.values()) s.flush();
  }
}

export class ServeMetrics {
  readonly registry = new Registry();
  readonly #requests: SeriesTable<PendingCount>;
  readonly #errors: SeriesTable<PendingCount>;
  readonly #latency: SeriesTable<PendingObservations>;
  readonly #hostCalls: SeriesTable<PendingCount>;
  readonly #hostLatency: SeriesTable<PendingObservations>;
  readonly #rowsScored: SeriesTable<PendingCount>;
  readonly #lookups: SeriesTable<PendingCount>;

  constructor(options: ServeMetricsOptions = {}) {
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: readonly [string, ...string[]]) => {
      const table: SeriesTable<PendingCount> = new SeriesTable(
        (a, b) =>
          new PendingCount(
            metric,
            labelNames.length === 1 ? { [labelNames[0]]: a } : { [labelNames[0]]: a, [labelNames[1] ?? '']: b },
          ),
      );
      const metric: Counter = new Counter({ name, help, labelNames, registers, collect: () => table.flush() });
      return table;
    };
    const histogram = (name: string, help: string, label: string) => {
      const table: SeriesTable<PendingObservations> = new SeriesTable(
        (a) => new PendingObservations(metric, { [label]: a }),
      );
      const metric: Histogram = new Histogram({
        name,
        help,
        labelNames: [label],
        buckets: [...LATENCY_BUCKETS_S],
        registers,
        collect: () => table.flush(),
      });
      return table;
    };
    this.#requests = counter(
      'tandem_serve_requests_total',
      'Requests by route and status (HTTP status code, 499 when the client went away; gRPC status name for grpc.* routes)',
      ['route', 'status'],
    );
    this.#errors = counter('tandem_serve_errors_total', 'Failed requests by route and error code', ['code', 'route']);
    this.#latency = histogram('tandem_serve_request_duration_seconds', 'Request latency by route', 'route');
    this.#hostCalls = counter(
      'tandem_serve_host_calls_total',
      'Calls from the guest endpoint to host endpoints by host and outcome',
      ['host', 'outcome'],
    );
    this.#hostLatency = histogram(
      'tandem_serve_host_call_duration_seconds',
      'Latency of calls to host endpoints by host',
      'host',
    );
    this.#rowsScored = counter(
      'tandem_serve_rows_scored_total',
      'Rows scored, by completeness (all hosts answered, or a fallback)',
      ['complete'],
    );
    this.#lookups = counter(
      'tandem_serve_lookups_total',
      'Users looked up at a host, by caller and outcome (answered, or refused by the rate limit)',
      ['caller', 'outcome'],
    );
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Requests answered by `route` with `status`. */
  requests(route: string, status: string): CounterSeries {
    return this.#requests.get(route, status);
  }
  /** Failed requests by route and error code. */
  errors(route: string, code: string): CounterSeries {
    return this.#errors.get(code, route);
  }
  /** Request latency of `route`, in seconds. */
  latency(route: string): HistogramSeries {
    return this.#latency.get(route);
  }
  /** Calls to `host` that ended with `outcome`. */
  hostCalls(host: string, outcome: string): CounterSeries {
    return this.#hostCalls.get(host, outcome);
  }
  /** Latency of calls to `host`, in seconds. */
  hostLatency(host: string): HistogramSeries {
    return this.#hostLatency.get(host);
  }
  /** Rows scored with every host's part (`complete`) or as a fallback. */
  rowsScored(complete: boolean): CounterSeries {
    return this.#rowsScored.get(complete ? 'true' : 'false');
  }
  /** Users `caller` looked up at a host, `answered` or `rate-limited`. */
  lookups(caller: string, outcome: 'answered' | 'rate-limited'): CounterSeries {
    return this.#lookups.get(caller, outcome);
  }

  /** The Prometheus text exposition of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
