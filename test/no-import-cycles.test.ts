/**
 * No import cycles between our modules (STYLE: layers depend one way).
 * A dependency-free replacement for eslint-plugin-import-x's no-cycle,
 * whose platform-specific optional packages cannot be locked from every
 * registry.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = [
  'protocol',
  'data',
  'audit',
  'models',
  'jobs',
  'coordinator',
  'party',
  'runtime',
  'cli',
  'serving',
  'report',
  'console',
  'bench',
  'test',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'generated' || name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Static imports of relative .ts files, type-only ones included: a type-only
 * circle cannot fail at run time, but it still ties two modules into one, so
 * it is a layering mistake all the same.
 */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[^'"]*?from\s+'(\.[^']+\.ts)'/gm))
    out.push(resolve(dirname(file), m[1] ?? ''));
  return out;
}

describe('module graph', () => {
  it('has no import cycles', () => {
    const files = DIRS.flatMap((d) => sources(join(ROOT, d)));
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(ROOT, f)).join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(files.length).toBeGreaterThan(50);
    expect(cycles).toEqual([]);
  });

  it('reads value and type imports (so an empty cycle list means something)', () => {
    const self = importsOf(join(ROOT, 'test', 'support', 'federation.ts')).map((f) => relative(ROOT, f));
    expect(self).toContain('runtime/certificate-authority.ts');
    expect(importsOf(join(ROOT, 'models', 'family.ts')).map((f) => relative(ROOT, f))).toContain('jobs/context.ts');
  });
});
