/**
 * Config files in stages: YAML text → parsed value → schema-validated →
 * deep-frozen. Every failure becomes one `ConfigError` that names the file,
 * the field path, the problem and the fix, so nobody has to read a zod issue
 * dump. Schemas should use strict objects (unknown keys are typos more often
 * than not); refinements may supply their own fix as `params: { fix }`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ZodType } from 'zod';
import { ConfigError } from '../protocol/errors.ts';
import { explainIssues, type ConfigFinding, type LineOf } from './config-findings.ts';

export type { ConfigFinding } from './config-findings.ts';

/** The catalog codes a validation failure may carry. */
export type ConfigErrorCode = 'CONFIG_INVALID' | 'JOB_SPEC_INVALID';

/**
 * Reads a YAML file and validates it against `schema`.
 * Relative paths inside it are not touched: resolve them with {@link resolveConfigPath}.
 *
 * @param code - the code to raise on invalid content. @default 'CONFIG_INVALID'
 * @returns the parsed value, deep-frozen (its type stays `T` so it can feed compile steps).
 * @throws ConfigError CONFIG_NOT_FOUND when the file cannot be read, `code` when its content is wrong.
 */
export async function loadConfigFile<T>(
  file: string,
  schema: ZodType<T>,
  code: ConfigErrorCode = 'CONFIG_INVALID',
): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw notReadable(file, error);
  }
  return validateConfigText(interpolateEnv(text, file, code), schema, file, code);
}

/**
 * Replaces `${NAME}` and `${NAME:-default}` with environment variables, so one
 * mounted file serves several deployments (e.g. `listen: ${TANDEM_LISTEN:-0.0.0.0:7443}`).
 * Only node config files get this, never job specs (which travel between nodes).
 * @throws ConfigError when a variable without a default is unset.
 */
export function interpolateEnv(
  text: string,
  file: string,
  code: ConfigErrorCode = 'CONFIG_INVALID',
  env: NodeJS.ProcessEnv = process.env,
): string {
  return text.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name: string, fallback: string | undefined, offset: number) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      const line = text.slice(0, offset).split('\n').length;
      throw new ConfigError(code, {
        file,
        field: `line ${line}`,
        problem: `uses \${${name}}, but the environment variable ${name} is not set`,
        fix: `set ${name}, or write \${${name}:-default} to give a default`,
      });
    },
  );
}

/**
 * Parses YAML text and validates it, with line numbers in every error.
 * For text that did not come from disk (a job spec sent over the network).
 *
 * @param file - how to name the source in errors, e.g. the original file name.
 * @param code - @default 'CONFIG_INVALID'
 */
export function validateConfigText<T>(
  text: string,
  schema: ZodType<T>,
  file: string,
  code: ConfigErrorCode = 'CONFIG_INVALID',
): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const line = syntax.linePos?.[0].line;
    const reason = syntax.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    throw new ConfigError(
      code,
      {
        file,
        field: '',
        problem: `is not valid YAML${line === undefined ? '' : ` at line ${line}`}: ${reason}`,
        fix: line === undefined ? 'correct the YAML syntax' : `correct the YAML syntax on or just before line ${line}`,
      },
      { details: { line } },
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Only an alias bomb gets here: a document that expands to far more than it says.
    throw new ConfigError(
      code,
      {
        file,
        field: '',
        problem: `cannot be expanded (${(error as Error).message})`,
        fix: 'use fewer YAML aliases (*name)',
      },
      { cause: error },
    );
  }
  return check(value, schema, file, code, yamlLineOf(doc, lineCounter));
}

/**
 * Validates an already-parsed value (e.g. a job spec decoded from JSON).
 *
 * @param file - how to name the source in errors.
 * @param code - @default 'CONFIG_INVALID'
 * @returns the validated value, deep-frozen.
 * @throws ConfigError with `code` for the first problem; `details.issues` lists all of them.
 */
export function validateConfig<T>(
  value: unknown,
  schema: ZodType<T>,
  file: string,
  code: ConfigErrorCode = 'CONFIG_INVALID',
): T {
  return check(value, schema, file, code, () => undefined);
}

/**
 * Resolves a path written in a config file. Relative paths are relative to
 * the directory holding the config file, not to the process's working
 * directory, so a config means the same thing wherever the node starts.
 */
export function resolveConfigPath(configFile: string, path: string): string {
  return resolve(dirname(resolve(configFile)), path);
}

/** Freezes a value and everything reachable from it. Typed arrays are left alone (they cannot be frozen). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

function check<T>(value: unknown, schema: ZodType<T>, file: string, code: ConfigErrorCode, lineOf: LineOf): T {
  const result = schema.safeParse(value);
  if (result.success) return deepFreeze(result.data);
  const findings = explainIssues(result.error.issues, value, schema, lineOf);
  const first = findings[0] ?? { field: '', problem: 'is invalid', fix: 'compare it with the documented schema' };
  const others = findings.slice(1);
  const more =
    others.length === 0
      ? ''
      : ` (${others.length} more: ${others.slice(0, 5).map(summary).join('; ')}${others.length > 5 ? '; …' : ''})`;
  throw new ConfigError(
    code,
    { file, field: first.field, problem: `${atLine(first)}${more}`, fix: first.fix },
    {
      details: { issues: findings },
    },
  );
}

function atLine(f: ConfigFinding): string {
  return f.line === undefined ? f.problem : `${f.problem} (line ${f.line})`;
}

function summary(f: ConfigFinding): string {
  return `${f.field === '' ? '(top level)' : f.field} ${atLine(f)}`;
}

function notReadable(file: string, error: unknown): ConfigError {
  const errno = (error as NodeJS.ErrnoException).code;
  const problem =
    errno === 'ENOENT'
      ? 'does not exist'
      : errno === 'EISDIR'
        ? 'is a directory, not a file'
        : errno === 'EACCES'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${errno ?? String(error)})`;
  const fix =
    errno === 'EACCES'
      ? 'make the file readable by the user running Tandem'
      : `check the path (relative paths start from ${process.cwd()})`;
  return new ConfigError('CONFIG_NOT_FOUND', { file, field: '', problem, fix }, { cause: error });
}

/** Maps a field path to the line of the deepest YAML node that exists along it. */
function yamlLineOf(doc: Document, counter: LineCounter): LineOf {
  return (path) => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
        if (pair === undefined) break;
        // The key's position: where a person would look for this field.
        offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (range === undefined) break;
        offset = range[0];
      } else {
        break;
      }
    }
    if (offset === undefined) {
      const range = (doc.contents as { range?: [number, number, number] } | null)?.range;
      offset = range?.[0];
    }
    return offset === undefined ? undefined : counter.linePos(offset).line;
  };
}
