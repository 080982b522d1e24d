/**
 * Child process of the `sources` benchmark: loads one dataset config the way
 * a party node does and prints the wall time, CPU time and peak RSS as JSON.
 * In its own process so each reader's peak memory is its own.
 */
import { loadDataset } from '../../data/dataset.ts';
import type { DatasetConfig } from '../../party/config.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as DatasetConfig;
const started = performance.now();
const cpu = process.cpuUsage();
const data = await loadDataset(config);
const used = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({ rows: data.rowCount, columns: data.columns.length, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
