/** Building blocks for the bad-input table (test/bad-input.e2e.test.ts): one CLI run per row. */
import type { ErrorCode } from '../../protocol/errors.ts';

export type BadInput = {
  readonly name: string;
  /** Files to write in the row's directory (its cwd), by relative path. */
  readonly files: Readonly<Record<string, string | Buffer>>;
  readonly args: readonly string[];
  readonly code: ErrorCode;
  /** Texts stderr must contain: the file, the field/column/line, the problem. `{dir}` is the row's directory. */
  readonly says: readonly string[];
  /** What the fix must mention. */
  readonly fix: string;
};

// ——— Building blocks ———

export const NODE = `node:
  name: brand
  coordinator: 127.0.0.1:7443
  dataDir: ./state
  certs: { ca: certs/ca.crt, cert: certs/brand.crt, key: certs/brand.key }
`;

/** A party config with one dataset `credit` reading `file`; `extra` lines go inside the dataset. */
export const partyWith = (extra = '', file = 'data.csv'): string => `${NODE}datasets:
  credit:
    file: ${file}
    id: id
    label: { column: y }
    features: all
${extra}`;

export const GOOD_CSV = 'id,y,a,b\n1,0,0.5,10\n2,1,1.5,20\n3,0,2.5,30\n4,1,3.5,40\n';

/** `tandem party-check` on party.yaml with the given data file contents. */
export const data = (
  name: string,
  csv: string | Buffer,
  code: ErrorCode,
  says: readonly string[],
  fix: string,
  extra = '',
): BadInput => ({
  name: `data: ${name}`,
  files: { 'party.yaml': partyWith(extra), 'data.csv': csv },
  args: ['party-check', '--config', 'party.yaml'],
  code,
  says,
  fix,
});

/** `tandem party-check` on a party config text. */
export const partyConfig = (
  name: string,
  yaml: string,
  code: ErrorCode,
  says: readonly string[],
  fix: string,
): BadInput => ({
  name: `party config: ${name}`,
  files: { 'party.yaml': yaml, 'data.csv': GOOD_CSV },
  args: ['party-check', '--config', 'party.yaml'],
  code,
  says,
  fix,
});

export const JOB_HEAD = 'name: default-credit-lr\nkind: hetero-lr\n';
export const TWO_PARTIES = `parties:
  - { name: brand, role: guest, dataset: credit }
  - { name: partner, role: host, dataset: credit }
`;

/** `tandem party-check --job` with a job spec text. */
export const jobSpec = (
  name: string,
  yaml: string,
  code: ErrorCode,
  says: readonly string[],
  fix: string,
  party = partyWith(),
): BadInput => ({
  name: `job spec: ${name}`,
  files: { 'party.yaml': party, 'data.csv': GOOD_CSV, 'job.yaml': yaml },
  args: ['party-check', '--config', 'party.yaml', '--job', 'job.yaml'],
  code,
  says,
  fix,
});

export const certsInit = (name: string, args: readonly string[], says: readonly string[], fix: string): BadInput => ({
  name: `certs init: ${name}`,
  files: {},
  args: ['certs', 'init', '--out', 'certs', ...args],
  code: 'CONFIG_INVALID',
  says,
  fix,
});

export const COORDINATOR = `coordinator:
  listen: 127.0.0.1:0
  dataDir: ./state
  certs: { ca: certs/ca.crt, cert: certs/coordinator.crt, key: certs/coordinator.key }
  admins: [brand]
  parties: [brand, partner]
`;

export const coordinatorConfig = (
  name: string,
  yaml: string,
  code: ErrorCode,
  says: readonly string[],
  fix: string,
): BadInput => ({
  name: `coordinator config: ${name}`,
  files: { 'coordinator.yaml': yaml },
  args: ['coordinator', 'start', '--config', 'coordinator.yaml'],
  code,
  says,
  fix,
});

// ——— The table ———
