/**
 * The serving endpoints' Prometheus metrics, through prom-client: one
 * registry per endpoint (a test process runs several), the process and
 * Node.js metrics prom-client collects by default, and Tandem's own series.
 * The names and labels below are documented in the README; dashboards
 * depend on them, so they do not change.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, 0.5 ms to 2.5 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** The `status` label of a request the client abandoned before its answer (nginx's convention). */
export const CLIENT_CLOSED_STATUS = '499';

export type ServeMetricsOptions = {
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC, file descriptors). @default true */
  readonly processMetrics?: boolean | undefined;
};

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'tandem_serve_requests_total',
    help: 'Requests by route and status (HTTP status code, 499 when the client went away; gRPC status name for grpc.* routes)',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'tandem_serve_errors_total',
    help: 'Failed requests by route and error code',
    labelNames: ['code', 'route'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'tandem_serve_request_duration_seconds',
    help: 'Request latency by route',
    labelNames: ['route'] as const,
    buckets: [...LATENCY_BUCKETS_S],
    registers: [this.registry],
  });
  readonly hostCalls = new Counter({
    name: 'tandem_serve_host_calls_total',
    help: 'Calls from the guest endpoint to host endpoints by host and outcome',
    labelNames: ['host', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly hostLatency = new Histogram({
    name: 'tandem_serve_host_call_duration_seconds',
    help: 'Latency of calls to host endpoints by host',
    labelNames: ['host'] as const,
    buckets: [...LATENCY_BUCKETS_S],
    registers: [this.registry],
  });
  readonly rowsScored = new Counter({
    name: 'tandem_serve_rows_scored_total',
    help: 'Rows scored, by completeness (all hosts answered, or a fallback)',
    labelNames: ['complete'] as const,
    registers: [this.registry],
  });
  readonly lookups = new Counter({
    name: 'tandem_serve_lookups_total',
    help: 'Users looked up at a host, by caller and outcome (answered, or refused by the rate limit)',
    labelNames: ['caller', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: ServeMetricsOptions = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
