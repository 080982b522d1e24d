/**
 * From zod issues to findings a person can act on: each names the field
 * path, the problem, the fix (the nearest allowed key for a typo, the
 * choices for an enum, the range for a number) and the YAML line, in file
 * order. runtime/config-file.ts turns the first into the ConfigError.
 */
import type { core, ZodType } from 'zod';

/** One problem in a config, as a person would want to read it. */
export type ConfigFinding = {
  readonly field: string;
  readonly problem: string;
  readonly fix: string;
  readonly line?: number;
};

/** A field path, as zod gives it. */
export type Path = readonly PropertyKey[];
/** The line a field path starts on, when the config has lines. */
export type LineOf = (path: Path) => number | undefined;
type Issue = core.$ZodIssue;

/** `typoOf`: the missing key an unknown key probably meant, so only one of the two is reported. */
type Raw = { readonly path: Path; readonly problem: string; readonly fix: string; readonly typoOf?: string };
type ZodLike = { readonly _zod: { readonly def: SchemaDef } };
type SchemaDef = {
  readonly type: string;
  readonly shape?: Readonly<Record<string, ZodLike>>;
  readonly innerType?: ZodLike;
  readonly in?: ZodLike;
  readonly element?: ZodLike;
  readonly valueType?: ZodLike;
  readonly options?: readonly ZodLike[];
  readonly left?: ZodLike;
  readonly right?: ZodLike;
  readonly getter?: () => ZodLike;
};

/** Findings in file order, so the first one reported is the first one a reader meets. */
export function explainIssues(
  issues: readonly Issue[],
  root: unknown,
  schema: ZodType,
  lineOf: LineOf,
): ConfigFinding[] {
  const raws = issues.flatMap((issue) => explain(issue, [], root, schema as unknown as ZodLike));
  const typos = new Set(
    raws.flatMap((r) => (r.typoOf === undefined ? [] : [formatPath([...r.path.slice(0, -1), r.typoOf])])),
  );
  return raws
    .filter((r) => !(r.problem === 'is missing' && typos.has(formatPath(r.path))))
    .map((raw): ConfigFinding => {
      const line = lineOf(raw.path);
      const finding = { field: formatPath(raw.path), problem: raw.problem, fix: raw.fix };
      return line === undefined ? finding : { ...finding, line };
    })
    .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

function explain(issue: Issue, base: Path, root: unknown, schema: ZodLike): Raw[] {
  const path = [...base, ...issue.path];
  const at = lookup(root, path);
  const shallow = issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union';
  if (shallow && !at.present) return [{ path, problem: 'is missing', fix: `add it (${expectation(issue)})` }];
  const value = at.value;
  switch (issue.code) {
    case 'invalid_type':
      return [{ path, ...invalidType(path, issue.expected, value) }];
    case 'invalid_value':
      return [{ path, problem: `${describe(value)} is not allowed`, fix: choose(issue.values, value) }];
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) => {
        const near = closest(key, allowed);
        const raw = { path: [...path, key], problem: 'is not a known key', fix: unknownKeyFix(near, allowed) };
        return near === undefined ? raw : { ...raw, typoOf: near };
      });
    }
    case 'invalid_union':
      return union(issue, path, root, schema);
    case 'too_small':
    case 'too_big':
      return [{ path, ...outOfRange(issue, value) }];
    case 'invalid_format': {
      const custom = !issue.message.startsWith('Invalid');
      const problem = custom
        ? `${issue.message}, but is ${describe(value)}`
        : `is not a valid ${issue.format}: ${describe(value)}`;
      return [
        {
          path,
          problem,
          fix:
            issue.pattern === undefined
              ? `write a valid ${issue.format}`
              : `write a value that matches ${issue.pattern}`,
        },
      ];
    }
    case 'not_multiple_of':
      return [
        {
          path,
          problem: `must be a multiple of ${issue.divisor}, but is ${describe(value)}`,
          fix: `use a multiple of ${issue.divisor}`,
        },
      ];
    case 'invalid_key': {
      const inner = issue.issues[0];
      const pattern = inner?.code === 'invalid_format' ? inner.pattern : undefined;
      const reason = inner === undefined || inner.message.startsWith('Invalid') ? '' : ` (${inner.message})`;
      return [
        {
          path,
          problem: `is not an allowed name${reason}`,
          fix: pattern === undefined ? 'rename it' : `rename it to match ${pattern}`,
        },
      ];
    }
    case 'custom': {
      const fix: unknown = issue.params?.['fix'];
      return [
        { path, problem: issue.message, fix: typeof fix === 'string' ? fix : 'see the documentation of this field' },
      ];
    }
    default:
      return [{ path, problem: issue.message, fix: 'compare it with the documented schema' }];
  }
}

/**
 * A union reports every branch's failure. The useful one is the branch the
 * author was evidently writing: the one whose type matched (its issues lie
 * deeper). If none matched, list what each branch would have accepted.
 */
function union(issue: Extract<Issue, { code: 'invalid_union' }>, path: Path, root: unknown, schema: ZodLike): Raw[] {
  if (issue.errors.length === 0) {
    if (issue.discriminator === undefined || !('options' in issue) || issue.options === undefined) {
      return [{ path, problem: 'matches more than one allowed form', fix: 'make it match exactly one' }];
    }
    const at = path.at(-1) === issue.discriminator ? path : [...path, issue.discriminator];
    const found = lookup(root, at);
    return [
      found.present
        ? { path: at, problem: `${describe(found.value)} is not allowed`, fix: choose(issue.options, found.value) }
        : { path: at, problem: 'is missing', fix: `add it (${choices(issue.options, ' or ', true)})` },
    ];
  }
  const typeMismatch = (i: Issue): boolean =>
    i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
  const matched = issue.errors.filter((branch) => !branch.some(typeMismatch));
  const best = matched.reduce<readonly Issue[] | undefined>(
    (a, b) => (a === undefined || b.length < a.length ? b : a),
    undefined,
  );
  if (best !== undefined) return best.flatMap((i) => explain(i, path, root, schema));
  const wanted = expectation(issue);
  return [{ path, problem: `must be ${wanted}, but is ${describe(lookup(root, path).value)}`, fix: `write ${wanted}` }];
}

function expectation(issue: Issue): string {
  if (issue.code === 'invalid_type') return expectedName(issue.expected);
  if (issue.code === 'invalid_value') return choices(issue.values, ' or ', true);
  if (issue.code === 'invalid_union') {
    if ('options' in issue && issue.options !== undefined) return choices(issue.options, ' or ', true);
    const each = issue.errors.flatMap((branch) => branch.filter((i) => i.path.length === 0).map(expectation));
    return [...new Set(each)].join(' or ') || 'a value';
  }
  return 'a value';
}

function invalidType(path: Path, expected: string, value: unknown): { problem: string; fix: string } {
  const name = expectedName(expected);
  if (value === null) {
    return path.length === 0
      ? { problem: 'is empty', fix: 'write the configuration as YAML `key: value` lines' }
      : { problem: 'has no value', fix: `give it a value (${name})` };
  }
  const numeric = expected === 'number' || expected === 'int';
  if (numeric && typeof value === 'string') {
    if (value.trim() !== '' && Number.isFinite(Number(value)))
      return {
        problem: `must be ${name}, but is the text ${describe(value)}`,
        fix: `remove the quotes: ${value.trim()}`,
      };
    if (/^\s*[\d.]+\s*[a-z%]+\s*$/i.test(value))
      return {
        problem: `must be a plain number, but is ${describe(value)}`,
        fix: 'write the number alone; the unit is part of the field name',
      };
  }
  if (expected === 'int' && typeof value === 'number')
    return {
      problem: `must be a whole number, but is ${value}`,
      fix: `use a whole number such as ${Math.round(value)}`,
    };
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    return { problem: `must be text, but YAML read it as ${describe(value)}`, fix: `quote it: "${String(value)}"` };
  }
  return { problem: `must be ${name}, but is ${describe(value)}`, fix: `write ${name}` };
}

function outOfRange(
  issue: Extract<Issue, { code: 'too_small' | 'too_big' }>,
  value: unknown,
): { problem: string; fix: string } {
  const small = issue.code === 'too_small';
  const limit = small ? issue.minimum : issue.maximum;
  const cmp =
    issue.exact === true
      ? 'exactly'
      : small
        ? issue.inclusive === false
          ? 'more than'
          : 'at least'
        : issue.inclusive === false
          ? 'less than'
          : 'at most';
  if (issue.origin === 'string') {
    if (small && limit === 1 && issue.exact !== true) return { problem: 'must not be empty', fix: 'write a value' };
    return {
      problem: `must be ${cmp} ${limit} characters long, but has ${String(value).length}`,
      fix: `use ${cmp} ${limit} characters`,
    };
  }
  if (issue.origin === 'array' || issue.origin === 'set') {
    const count = Array.isArray(value) ? value.length : 0;
    return {
      problem: `must have ${cmp} ${limit} item(s), but has ${count}`,
      fix: small ? `add items until there are ${cmp} ${limit}` : `remove items until there are ${cmp} ${limit}`,
    };
  }
  return { problem: `must be ${cmp} ${limit}, but is ${describe(value)}`, fix: `use a value that is ${cmp} ${limit}` };
}

function unknownKeyFix(near: string | undefined, allowed: readonly string[]): string {
  if (allowed.length === 0) return 'remove it';
  const rename = near === undefined ? '' : ` (or rename it to "${near}" if that is what you meant)`;
  return `remove it${rename}; allowed keys here are: ${allowed.join(', ')}`;
}

function choose(values: readonly unknown[], actual: unknown): string {
  const near =
    typeof actual === 'string'
      ? closest(
          actual,
          values.filter((v): v is string => typeof v === 'string'),
        )
      : undefined;
  const base = values.length === 1 ? `use ${choices(values)}` : `use one of: ${choices(values, ', ')}`;
  return near === undefined ? base : `${base} (did you mean "${near}"?)`;
}

function choices(values: readonly unknown[], separator = ' or ', quoted = false): string {
  return values.map((v) => (typeof v === 'string' && !quoted ? v : JSON.stringify(v))).join(separator);
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    object: 'a mapping of keys to values',
    record: 'a mapping of names to values',
    array: 'a list',
    tuple: 'a list',
  };
  return names[expected] ?? `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

/** The nearest option by edit distance, if it is near enough to be a typo. */
function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  for (const option of options) {
    const d = option.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, option);
    if (d <= bestDistance) [best, bestDistance] = [option, d - 1e-9];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function lookup(root: unknown, path: Path): { present: boolean; value: unknown } {
  let value = root;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment))
      return { present: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return { present: value !== undefined, value };
}

function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** The keys a strict object at `path` accepts, found by walking the schema (through wrappers and unions). */
function allowedKeys(schema: ZodLike, path: Path): string[] {
  let here = unwrap(schema);
  for (const segment of path) here = here.flatMap((s) => child(s, segment)).flatMap(unwrap);
  return [...new Set(here.flatMap((s) => Object.keys(s._zod.def.shape ?? {})))];
}

function unwrap(schema: ZodLike): ZodLike[] {
  const def = schema._zod.def;
  const inner =
    def.innerType ?? (def.type === 'pipe' ? def.in : undefined) ?? (def.type === 'lazy' ? def.getter?.() : undefined);
  if (inner !== undefined) return unwrap(inner);
  if (def.type === 'union') return (def.options ?? []).flatMap(unwrap);
  if (def.type === 'intersection') return [def.left, def.right].flatMap((s) => (s === undefined ? [] : unwrap(s)));
  return [schema];
}

function child(schema: ZodLike, segment: PropertyKey): ZodLike[] {
  const def = schema._zod.def;
  const next =
    def.type === 'object'
      ? def.shape?.[String(segment)]
      : def.type === 'array'
        ? def.element
        : def.type === 'record'
          ? def.valueType
          : undefined;
  return next === undefined ? [] : [next];
}
