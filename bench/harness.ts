/**
 * What a benchmark is and what it returns, plus the pieces every benchmark
 * shares: a stderr progress line, a median timer and markdown rendering.
 */
import { performance } from 'node:perf_hooks';

export type Cell = number | string | null;

export type Column = {
  readonly key: string;
  readonly label: string;
  /** Decimal places for numbers (significant digits after the point with `exponent`). @default 3 */
  readonly digits?: number;
  /** Scientific notation, for values that span orders of magnitude. */
  readonly exponent?: boolean;
};

export type Table = {
  readonly title: string;
  /** A sentence or two under the title in the markdown. */
  readonly description?: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Record<string, Cell>[];
};

export type BenchOutput = {
  /** Everything a reader needs to reproduce the numbers (dataset, parameters, reps). */
  readonly parameters: Record<string, unknown>;
  readonly tables: readonly Table[];
  /** Observations printed under the tables. */
  readonly notes: readonly string[];
};

export type BenchContext = {
  readonly progress: Progress;
  /** A smoke run: fewer jobs, epochs and repetitions. Numbers are not comparable with a full run. */
  readonly quick: boolean;
  /** Values of the benchmark's own `--name value` options (see {@link Benchmark.options}). */
  readonly options: ReadonlyMap<string, string>;
};

export type Benchmark = {
  readonly name: string;
  readonly description: string;
  /** Options this benchmark accepts, by name (without `--`), with a line of help each. @default none */
  readonly options?: Readonly<Record<string, string>> | undefined;
  run(ctx: BenchContext): Promise<BenchOutput>;
};

/** Elapsed-time progress on stderr: one live line on a terminal, one line per change otherwise. */
export class Progress {
  readonly #name: string;
  readonly #tty: boolean;
  readonly #start = performance.now();
  #stepStart = performance.now();
  #step = '';
  #detail = '';
  #lastLine = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, tty = process.stderr.isTTY) {
    this.#name = name;
    this.#tty = tty;
    if (tty) {
      this.#timer = setInterval(() => this.#render(), 1000);
      this.#timer.unref();
    }
  }

  /** Starts a named step (e.g. one federated job). */
  step(label: string): void {
    this.#finishLine();
    this.#step = label;
    this.#detail = '';
    this.#stepStart = performance.now();
    this.#render();
  }

  /** Updates what the current step is doing. */
  detail(text: string): void {
    if (text === this.#detail) return;
    this.#detail = text;
    this.#render();
  }

  /** Ends the current step with a result. */
  done(result: string): void {
    this.#detail = `done: ${result}`;
    this.#render(true);
    this.#finishLine();
    this.#step = '';
  }

  /** Seconds since the step started. */
  stepSeconds(): number {
    return (performance.now() - this.#stepStart) / 1000;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#finishLine();
  }

  #render(force = false): void {
    if (this.#step === '') return;
    const total = (performance.now() - this.#start) / 1000;
    const line = `[${this.#name} ${formatClock(total)}] ${this.#step}${this.#detail === '' ? '' : ` — ${this.#detail}`} (${this.stepSeconds().toFixed(1)} s)`;
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.#lastLine = line;
    } else if (force || stripTimes(line) !== stripTimes(this.#lastLine)) {
      process.stderr.write(`${line}\n`);
      this.#lastLine = line;
    }
  }

  #finishLine(): void {
    if (this.#tty && this.#lastLine !== '') process.stderr.write('\n');
    this.#lastLine = '';
  }
}

function stripTimes(line: string): string {
  return line.replace(/^\[\S+ \S+\] /, '').replace(/ \([\d.]+ s\)$/, '');
}

function formatClock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export type Timing = {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly reps: number;
};

/** The least CPU time a block of {@link cpuTimeIt} runs for: the thread clock ticks every 1–10 ms (4 ms on the development machine). */
const MIN_BLOCK_CPU_MS = 200;

/**
 * Milliseconds per call in CPU time of the calling thread, which other
 * processes on a shared machine do not inflate (wall time does). The thread
 * clock ticks coarsely, so calls are timed in blocks of at least `reps`
 * calls and at least 200 ms of CPU; the result is the median (and range) of
 * `blocks` block means.
 */
export function cpuTimeIt(fn: () => void, reps: number, blocks = 3, warmup = 2): Timing {
  for (let k = 0; k < warmup; k++) fn();
  const means: number[] = [];
  let calls = 0;
  for (let b = 0; b < blocks; b++) {
    const t0 = threadCpuMs();
    let n = 0;
    let elapsed = 0;
    while (n < reps || elapsed < MIN_BLOCK_CPU_MS) {
      fn();
      n += 1;
      elapsed = threadCpuMs() - t0;
    }
    means.push(elapsed / n);
    calls += n;
  }
  return { medianMs: median(means), minMs: Math.min(...means), maxMs: Math.max(...means), reps: calls };
}

/** CPU milliseconds of the calling thread. */
export function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `fn` `warmup` times untimed, then `reps` times timed; milliseconds per call. */
export function timeIt(fn: () => void, reps: number, warmup = 3): Timing {
  for (let k = 0; k < warmup; k++) fn();
  const samples: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return { medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), reps };
}

function formatCell(value: Cell | undefined, column: Column): string {
  const digits = column.digits ?? 3;
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value.replaceAll('|', '\\|');
  if (!Number.isFinite(value)) return String(value);
  if (column.exponent === true) return value === 0 ? '0' : value.toExponential(digits);
  if (Number.isInteger(value) && Math.abs(value) >= 1000) return value.toLocaleString('en-US');
  const text = value.toFixed(Number.isInteger(value) ? 0 : digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text; // no "-0.0000" for tiny negatives
}

/** A GitHub-flavoured markdown table; numbers right-aligned. */
export function markdownTable(table: Table): string {
  const header = `| ${table.columns.map((c) => c.label).join(' | ')} |`;
  const align = `| ${table.columns.map((c) => (table.rows.some((r) => typeof r[c.key] === 'number') ? '---:' : ':---')).join(' | ')} |`;
  const body = table.rows.map((r) => `| ${table.columns.map((c) => formatCell(r[c.key], c)).join(' | ')} |`);
  return [header, align, ...body].join('\n');
}
