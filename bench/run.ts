/**
 * The benchmark runner: `node bench/run.ts [--quick] [name...]` (`npm run bench`).
 * Runs the named benchmarks (all when none is named), prints each one's
 * tables and writes bench/results/<name>-<timestamp>.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, freemem, platform, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, Progress, type Benchmark, type BenchOutput } from './harness.ts';
import { lrBenchmark } from './lr.ts';
import { serveBenchmark } from './serve.ts';
import { scaleBenchmark } from './scale.ts';
import { psiBenchmark } from './psi.ts';
import { psiOprfBenchmark } from './psi-oprf.ts';
import { sourcesBenchmark } from './sources.ts';
import { treesBenchmark } from './trees.ts';

const BENCHMARKS: readonly Benchmark[] = [
  lrBenchmark,
  serveBenchmark,
  scaleBenchmark,
  psiBenchmark,
  sourcesBenchmark,
  psiOprfBenchmark,
  treesBenchmark,
];

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RESULTS = join(ROOT, 'bench', 'results');

type Machine = {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
};

type Commit = { readonly sha: string | null; readonly dirty: boolean | null };

function machine(): Machine {
  const list = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    arch: arch(),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}

function commit(): Commit {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const sha = git('rev-parse', 'HEAD');
    // Only tracked files count: untracked scratch files do not change what was measured.
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { sha, dirty };
  } catch {
    return { sha: null, dirty: null };
  }
}

function usage(): string {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  return [
    'Usage: node bench/run.ts [--quick] [name...]     (npm run bench -- [--quick] [name...])',
    '',
    'Runs the named benchmarks, or all of them, and writes bench/results/<name>-<timestamp>.{json,md}.',
    '',
    'Benchmarks:',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`),
    '',
    'Options:',
    '  --quick   smoke run: fewer jobs, epochs and repetitions (numbers not comparable with a full run)',
    '  --help    this text',
    ...BENCHMARKS.flatMap((b) =>
      Object.entries(b.options ?? {}).map(([name, help]) => `  --${name} <value>   (${b.name}) ${help}`),
    ),
  ].join('\n');
}

function renderMarkdown(
  b: Benchmark,
  output: BenchOutput,
  info: { machine: Machine; commit: Commit; startedAt: string; seconds: number; quick: boolean },
): string {
  const m = info.machine;
  const sha =
    info.commit.sha === null
      ? 'unknown'
      : `${info.commit.sha.slice(0, 12)}${info.commit.dirty === true ? ' (with uncommitted changes)' : ''}`;
  const lines = [
    `# Benchmark \`${b.name}\`${info.quick ? ' (quick run)' : ''}`,
    '',
    b.description,
    '',
    `Run ${info.startedAt}, ${info.seconds.toFixed(0)} s. Commit ${sha}. Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform} ${m.arch}.`,
  ];
  for (const table of output.tables) {
    lines.push('', `## ${table.title}`, '');
    if (table.description !== undefined) lines.push(table.description, '');
    lines.push(markdownTable(table));
  }
  if (output.notes.length > 0) {
    lines.push('', '## Notes', '', ...output.notes.map((n) => `- ${n}`));
  }
  return `${lines.join('\n')}\n`;
}

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

async function runOne(b: Benchmark, quick: boolean, options: ReadonlyMap<string, string>): Promise<void> {
  const started = new Date();
  const progress = new Progress(b.name);
  const t0 = performance.now();
  let output: BenchOutput;
  try {
    output = await b.run({ progress, quick, options });
  } finally {
    progress.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const info = { machine: machine(), commit: commit(), startedAt: started.toISOString(), seconds, quick };
  const markdown = renderMarkdown(b, output, info);
  const json = {
    benchmark: b.name,
    description: b.description,
    quick,
    startedAt: info.startedAt,
    seconds: Math.round(seconds * 10) / 10,
    machine: info.machine,
    commit: info.commit,
    parameters: output.parameters,
    tables: output.tables,
    notes: output.notes,
  };
  await mkdir(RESULTS, { recursive: true });
  const base = join(RESULTS, `${b.name}${quick ? '-quick' : ''}-${timestamp(started)}`);
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${base}.md`, markdown);
  process.stdout.write(`\n${markdown}\n`);
  process.stderr.write(
    `wrote ${relative(process.cwd(), `${base}.json`)} and ${relative(process.cwd(), `${base}.md`)}\n`,
  );
}

/** Splits `--name value` and `--name=value` options (names a benchmark declares) from flags and names. */
function parseArgs(argv: readonly string[]): { flags: string[]; names: string[]; options: Map<string, string> } {
  const valued = new Set(BENCHMARKS.flatMap((b) => Object.keys(b.options ?? {})));
  const flags: string[] = [];
  const names: string[] = [];
  const options = new Map<string, string>();
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k] ?? '';
    const [name = '', inline] = arg.replace(/^--/, '').split('=', 2);
    if (arg.startsWith('--') && valued.has(name)) {
      const value = inline ?? argv[++k];
      if (value === undefined)
        flags.push(arg); // reported as unknown below: it needs a value
      else options.set(name, value);
    } else if (arg.startsWith('-')) flags.push(arg);
    else names.push(arg);
  }
  return { flags, names, options };
}

async function main(argv: readonly string[]): Promise<number> {
  const { flags, names, options } = parseArgs(argv);
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const unknownFlags = flags.filter((f) => f !== '--quick');
  if (unknownFlags.length > 0) {
    process.stderr.write(
      `error: unknown option (or option without its value) ${unknownFlags.join(', ')}\n\n${usage()}\n`,
    );
    return 2;
  }
  const known = new Map(BENCHMARKS.map((b) => [b.name, b]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    const list = [...known.keys()].join(', ');
    process.stderr.write(
      `error: no benchmark named ${unknown.map((n) => `"${n}"`).join(', ')}; available: ${list} (see --help)\n`,
    );
    return 2;
  }
  const selected = names.length === 0 ? BENCHMARKS : [...new Set(names)].map((n) => known.get(n) as Benchmark);
  for (const b of selected) await runOne(b, flags.includes('--quick'), options);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
