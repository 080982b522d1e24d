/**
 * Bad input through the real CLI, as a user meets it: each row writes a few
 * small files into its own temporary directory, runs `node bin/tandem.mjs`
 * there as a child process and checks that the failure
 *   - exits with the catalogued exit code and prints the catalogued code,
 *   - names the file and the field, column or line, and says how to fix it,
 *   - prints no stack trace,
 *   - and leaves the input byte-for-byte as it was, writing nothing new.
 *
 * Dataset rows use `tandem party-check`, the one command that loads data
 * without a federation.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from '../protocol/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'tandem.mjs');

type BadInput = {
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

const NODE = `node:
  name: brand
  coordinator: 127.0.0.1:7443
  dataDir: ./state
  certs: { ca: certs/ca.crt, cert: certs/brand.crt, key: certs/brand.key }
`;

/** A party config with one dataset `credit` reading `file`; `extra` lines go inside the dataset. */
const partyWith = (extra = '', file = 'data.csv'): string => `${NODE}datasets:
  credit:
    file: ${file}
    id: id
    label: { column: y }
    features: all
${extra}`;

const GOOD_CSV = 'id,y,a,b\n1,0,0.5,10\n2,1,1.5,20\n3,0,2.5,30\n4,1,3.5,40\n';

/** `tandem party-check` on party.yaml with the given data file contents. */
const data = (
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
const partyConfig = (name: string, yaml: string, code: ErrorCode, says: readonly string[], fix: string): BadInput => ({
  name: `party config: ${name}`,
  files: { 'party.yaml': yaml, 'data.csv': GOOD_CSV },
  args: ['party-check', '--config', 'party.yaml'],
  code,
  says,
  fix,
});

const JOB_HEAD = 'name: default-credit-lr\nkind: hetero-lr\n';
const TWO_PARTIES = `parties:
  - { name: brand, role: guest, dataset: credit }
  - { name: partner, role: host, dataset: credit }
`;

/** `tandem party-check --job` with a job spec text. */
const jobSpec = (
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

const certsInit = (name: string, args: readonly string[], says: readonly string[], fix: string): BadInput => ({
  name: `certs init: ${name}`,
  files: {},
  args: ['certs', 'init', '--out', 'certs', ...args],
  code: 'CONFIG_INVALID',
  says,
  fix,
});

const COORDINATOR = `coordinator:
  listen: 127.0.0.1:0
  dataDir: ./state
  certs: { ca: certs/ca.crt, cert: certs/coordinator.crt, key: certs/coordinator.key }
  admins: [brand]
  parties: [brand, partner]
`;

const coordinatorConfig = (
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

const CASES: readonly BadInput[] = [
  // Party config: the file itself.
  {
    name: 'party config: the file does not exist',
    files: {},
    args: ['party-check', '--config', 'nowhere.yaml'],
    code: 'CONFIG_NOT_FOUND',
    says: ['nowhere.yaml: does not exist'],
    fix: 'check the path',
  },
  partyConfig(
    'YAML syntax error',
    `${NODE.replace('dataDir: ./state', 'dataDir: "./state')}datasets: {}\n`,
    'CONFIG_INVALID',
    ['party.yaml: is not valid YAML at line'],
    'correct the YAML syntax on or just before line',
  ),
  partyConfig(
    'unknown key (a typo)',
    NODE.replace('dataDir:', 'dataDri:'),
    'CONFIG_INVALID',
    ['party.yaml: node.dataDri: is not a known key (line 4)'],
    'rename it to "dataDir"',
  ),
  partyConfig(
    'wrong type: a number written with its unit',
    `${NODE}  heartbeatIntervalMs: 5s\n`,
    'CONFIG_INVALID',
    ['party.yaml: node.heartbeatIntervalMs: must be a plain number, but is "5s" (line 6)'],
    'write the number alone',
  ),
  partyConfig(
    'wrong type: a mapping where a list belongs',
    partyWith().replace('features: all', 'features: { a: numeric }'),
    'CONFIG_INVALID',
    ['party.yaml: datasets.credit.features: must be'],
    'write',
  ),
  partyConfig(
    'bad node name',
    NODE.replace('name: brand', 'name: Brand_1'),
    'CONFIG_INVALID',
    [
      'party.yaml: node.name: must be lowercase letters, digits and dashes, starting with a letter, but is "Brand_1" (line 2)',
    ],
    'matches',
  ),
  partyConfig(
    'a required field is missing',
    NODE.replace('  dataDir: ./state\n', ''),
    'CONFIG_INVALID',
    ['party.yaml: node.dataDir: is missing'],
    'add it (text)',
  ),
  partyConfig(
    'a feature type that does not exist',
    partyWith().replace('features: all', 'features: [{ name: a, type: text }]'),
    'CONFIG_INVALID',
    ['party.yaml: datasets.credit.features[0].type: "text" is not allowed (line 11)'],
    'use one of: numeric, categorical',
  ),
  partyConfig(
    'the label column is the id column',
    partyWith().replace('label: { column: y }', 'label: { column: id }'),
    'CONFIG_INVALID',
    ['party.yaml: datasets.credit.label.column: is also the id column (line 10)'],
    'name a different column for the label',
  ),
  partyConfig(
    'no datasets',
    NODE,
    'CONFIG_INVALID',
    ['party.yaml: datasets: defines no datasets'],
    'add one under datasets:',
  ),
  {
    name: 'party config: --dataset names a dataset the config does not define',
    files: { 'party.yaml': partyWith(), 'data.csv': GOOD_CSV },
    args: ['party-check', '--config', 'party.yaml', '--dataset', 'crdit'],
    code: 'ARGUMENT_INVALID',
    says: ['--dataset "crdit": party.yaml has no such dataset'],
    fix: 'use one of: credit',
  },

  // Datasets, found when the data is loaded.
  {
    name: 'data: the data file does not exist',
    files: { 'party.yaml': partyWith('', 'missing.csv') },
    args: ['party-check', '--config', 'party.yaml'],
    code: 'DATA_FILE_NOT_FOUND',
    says: ['{dir}/missing.csv: does not exist'],
    fix: 'check the path in datasets.credit.file',
  },
  data(
    'the id column is missing',
    'key,y,a,b\n1,0,1,2\n',
    'DATA_COLUMN_MISSING',
    ['{dir}/data.csv, line 1, column "id": the header has no column "id" (dataset "credit")'],
    'edit datasets.credit.id in the party config',
  ),
  data(
    'the label column is missing',
    'id,label,a,b\n1,0,1,2\n',
    'DATA_COLUMN_MISSING',
    ['{dir}/data.csv, line 1, column "y": the header has no column "y"'],
    'edit datasets.credit.label.column',
  ),
  {
    name: 'data: a listed feature column is missing',
    files: {
      'party.yaml': partyWith().replace(
        'features: all',
        'features: [{ name: a, type: numeric }, { name: c, type: numeric }]',
      ),
      'data.csv': GOOD_CSV,
    },
    args: ['party-check', '--config', 'party.yaml'],
    code: 'DATA_COLUMN_MISSING',
    says: ['{dir}/data.csv, line 1, column "c": the header has no column "c"'],
    fix: 'use column names from the header: id, y, a, b (edit datasets.credit.features[1].name',
  },
  data(
    'a file separated by semicolons',
    'id;y;a;b\n1;0;1;2\n',
    'DATA_COLUMN_MISSING',
    ['{dir}/data.csv, line 1, column "id": the header has no columns "id", "y"'],
    'set datasets.credit.delimiter: ";"',
  ),
  data(
    'a word in a numeric column',
    'id,y,a,b\n1,0,1,2\n2,1,abc,3\n',
    'DATA_VALUE_INVALID',
    ['{dir}/data.csv, line 3, column "a": "abc" is not a number'],
    'type: categorical',
  ),
  data(
    'Infinity',
    'id,y,a,b\n1,0,1,2\n2,1,2,3\n3,0,3,Infinity\n',
    'DATA_VALUE_INVALID',
    ['{dir}/data.csv, line 4, column "b": "Infinity" is not a finite number'],
    'replace it with a finite value',
  ),
  data(
    'a number too large for a double',
    'id,y,a,b\n1,0,1e999,2\n',
    'DATA_VALUE_INVALID',
    ['{dir}/data.csv, line 2, column "a": "1e999" is not a finite number'],
    'missing.tokens',
  ),
  data(
    'NaN when NaN is not a missing token',
    'id,y,a,b\n1,0,1,2\n2,1,NaN,3\n',
    'DATA_VALUE_INVALID',
    ['{dir}/data.csv, line 3, column "a": "NaN" is not a finite number'],
    'add it to missing.tokens',
    '    missing: { tokens: [""] }\n',
  ),
  data(
    'a missing value under missing.policy: error',
    'id,y,a,b\n1,0,1,2\n2,1,,3\n',
    'DATA_VALUE_INVALID',
    ['{dir}/data.csv, line 3, column "a": the value is missing and missing.policy is error'],
    'set datasets.credit.missing.policy to mean',
    '    missing: { policy: error }\n',
  ),
  data(
    'a duplicate id',
    'id,y,a,b\n7,0,1,2\n8,1,2,3\n7,0,3,4\n',
    'DATA_ID_DUPLICATE',
    ['{dir}/data.csv, line 4, column "id": repeats the id already used on line 2 (id "7")'],
    'duplicateIds: keep-first',
  ),
  data(
    'an empty id',
    'id,y,a,b\n1,0,1,2\n,1,2,3\n',
    'DATA_ID_MISSING',
    ['{dir}/data.csv, line 3, column "id": the id is empty'],
    'give every row an id',
  ),
  data(
    'a label other than 0/1',
    'id,y,a,b\n1,0,1,2\n2,2,2,3\n',
    'DATA_LABEL_INVALID',
    ['{dir}/data.csv, line 3, column "y": "2" is neither the positive value "1" nor the negative value "0"'],
    'set datasets.credit.label.positive and datasets.credit.label.negative',
  ),
  data(
    'yes/no labels without positive/negative set',
    'id,y,a,b\n1,yes,1,2\n',
    'DATA_LABEL_INVALID',
    ['{dir}/data.csv, line 2, column "y": "yes" is neither'],
    'datasets.credit.label.positive',
  ),
  data('an empty file', '', 'DATA_MALFORMED', ['{dir}/data.csv: is empty: there is no header row'], 'add a header row'),
  data(
    'a header and no rows',
    'id,y,a,b\n',
    'DATA_MALFORMED',
    ['{dir}/data.csv: has a header row but no data rows (dataset "credit")'],
    'add data rows below the header',
  ),
  data(
    'a ragged row',
    'id,y,a,b\n1,0,1,2\n2,1,2\n',
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 3: has 3 field(s) but the header has 4'],
    'quote any value that contains the delimiter',
  ),
  data(
    'an unclosed quote',
    'id,y,a,b\n1,0,1,2\n2,1,"2,3\n3,0,3,4\n',
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 3: a quoted field is never closed'],
    'close the quote',
  ),
  data(
    'text after a closing quote',
    'id,y,a,b\n1,0,"1"x,2\n',
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 2: unexpected "x" after the closing quote of a field'],
    'write a quote inside a quoted field as two quotes',
  ),
  data(
    'a column named twice in the header',
    'id,y,a,a\n1,0,1,2\n',
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 1, column "a": the header names columns 3 and 4 the same'],
    'give every column a distinct name',
  ),
  data(
    'bytes that are not UTF-8',
    Buffer.concat([Buffer.from('id,y,a,b\n1,0,1,2\n2,1,'), Buffer.from([0xff, 0xfe]), Buffer.from(',3\n')]),
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 3: is not UTF-8 text (byte 0xFF'],
    'save or export the file as UTF-8',
  ),
  data(
    'a Latin-1 byte deep inside a large file (past the first read chunk)',
    Buffer.concat([
      Buffer.from(
        `id,y,a,b\n${Array.from({ length: 9000 }, (_, i) => `${i + 1},${i % 2},${i}.5,${i * 2}\n`).join('')}`,
      ),
      Buffer.from('9001,0,caf'),
      Buffer.from([0xe9]),
      Buffer.from(',1\n'),
    ]),
    'DATA_MALFORMED',
    ['{dir}/data.csv, line 9002: is not UTF-8 text (byte 0xE9'],
    'save or export the file as UTF-8',
  ),
  {
    name: 'data: a .gz file that is not gzip',
    files: { 'party.yaml': partyWith('', 'data.csv.gz'), 'data.csv.gz': GOOD_CSV },
    args: ['party-check', '--config', 'party.yaml'],
    code: 'DATA_MALFORMED',
    says: ['{dir}/data.csv.gz', 'is not a valid gzip file'],
    fix: 'remove the .gz extension if it is plain text',
  },
  {
    name: 'data: a bad value inside a gzipped file',
    files: { 'party.yaml': partyWith('', 'data.csv.gz'), 'data.csv.gz': gzipSync('id,y,a,b\n1,0,1,2\n2,1,2,x\n') },
    args: ['party-check', '--config', 'party.yaml'],
    code: 'DATA_VALUE_INVALID',
    says: ['{dir}/data.csv.gz, line 3, column "b": "x" is not a number'],
    fix: 'correct the value',
  },

  // Job specs, checked as the coordinator checks them, then against this node.
  {
    name: 'job spec: the file does not exist',
    files: { 'party.yaml': partyWith(), 'data.csv': GOOD_CSV },
    args: ['party-check', '--config', 'party.yaml', '--job', 'nojob.yaml'],
    code: 'CONFIG_NOT_FOUND',
    says: ['nojob.yaml: does not exist'],
    fix: 'check the --job path',
  },
  jobSpec(
    'YAML syntax error',
    `${JOB_HEAD}parties: [\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: is not valid YAML at line'],
    'correct the YAML syntax',
  ),
  jobSpec(
    'unknown kind',
    `name: x\nkind: hetero-sbt\n${TWO_PARTIES}`,
    'JOB_SPEC_INVALID',
    ['job.yaml: kind: "hetero-sbt" is not allowed (line 2)'],
    'use one of: hetero-lr, lookalike, reach',
  ),
  jobSpec(
    'no guest',
    `${JOB_HEAD}${TWO_PARTIES.replace('role: guest', 'role: host')}`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties: has 0 guests'],
    'name exactly one party with role: guest',
  ),
  jobSpec(
    'two guests',
    `${JOB_HEAD}${TWO_PARTIES.replace('role: host', 'role: guest')}`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties: has 2 guests'],
    'name exactly one party with role: guest',
  ),
  jobSpec(
    'a party listed twice',
    `${JOB_HEAD}${TWO_PARTIES}  - { name: brand, role: host, dataset: credit }\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties[2].name: "brand" appears twice'],
    'list each party once',
  ),
  jobSpec(
    'only one party',
    `${JOB_HEAD}parties:\n  - { name: brand, role: guest, dataset: credit }\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties: must have at least 2 item(s), but has 1 (line 3)'],
    'add items',
  ),
  jobSpec(
    'zero epochs',
    `${JOB_HEAD}${TWO_PARTIES}training: { maxEpochs: 0 }\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: training.maxEpochs: must be at least 1, but is 0 (line 6)'],
    'use a value that is at least 1',
  ),
  jobSpec(
    'a validation fraction above 1',
    `${JOB_HEAD}${TWO_PARTIES}validation: { fraction: 1.5 }\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: validation.fraction: must be less than 1, but is 1.5 (line 6)'],
    'use a value that is less than 1',
  ),
  jobSpec(
    'a fractional batch size',
    `${JOB_HEAD}${TWO_PARTIES}training:\n  batchSize: 10.5\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: training.batchSize: must be a whole number, but is 10.5 (line 7)'],
    'use a whole number such as',
  ),
  jobSpec(
    'a quoted learning rate',
    `${JOB_HEAD}${TWO_PARTIES}training:\n  optimizer: { learningRate: "0.05" }\n`,
    'JOB_SPEC_INVALID',
    ['job.yaml: training.optimizer.learningRate: must be a number, but is the text "0.05" (line 7)'],
    'remove the quotes: 0.05',
  ),
  jobSpec(
    'a job that does not name this node',
    `${JOB_HEAD}${TWO_PARTIES.replace('name: brand', 'name: bank')}`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties: does not name this node "brand" (it names bank, partner)'],
    'pass the config of one of those nodes',
  ),
  jobSpec(
    'a dataset this node does not define',
    `${JOB_HEAD}${TWO_PARTIES.replace('guest, dataset: credit', 'guest, dataset: loans')}`,
    'JOB_SPEC_INVALID',
    ['job.yaml: parties[0].dataset: "loans" is not a dataset of brand'],
    'add datasets.loans to party.yaml',
  ),
  jobSpec(
    'the guest dataset has no label',
    `${JOB_HEAD}${TWO_PARTIES}`,
    'CONFIG_INVALID',
    ['party.yaml: datasets.credit.label: is missing, but brand is the guest'],
    'add label:',
    partyWith().replace('    label: { column: y }\n', ''),
  ),

  // certs init: the names become certificate CNs and file names.
  certsInit(
    'a party name with capitals and an underscore',
    ['--parties', 'Brand_1'],
    ['certs init: --parties/--extra: "Brand_1" is not a node name'],
    'use lowercase letters, digits and dashes',
  ),
  certsInit(
    'a party named ca',
    ['--parties', 'brand,ca'],
    ['certs init: --parties/--extra: "ca" is reserved for the CA files'],
    'choose another name',
  ),
  certsInit(
    'a party named twice',
    ['--parties', 'brand,partner,brand'],
    ['certs init: --parties/--extra: "brand" appears twice'],
    'give every node a distinct name',
  ),
  certsInit(
    'a bad coordinator name',
    ['--parties', 'brand', '--coordinator', 'Coord!'],
    ['certs init: --coordinator: "Coord!" is not a node name'],
    'use lowercase letters',
  ),
  certsInit(
    'a host that is neither a DNS name nor an IP',
    ['--parties', 'brand', '--hosts', 'localhost,bad host'],
    ['certs init: --hosts: "bad host" is neither an IP address nor a DNS name'],
    'list the names and addresses',
  ),
  certsInit(
    'zero days of validity',
    ['--parties', 'brand', '--days', '0'],
    ['certs init: --days: is 0'],
    'use a whole number of days from 1 to 3650',
  ),

  // Coordinator config.
  {
    name: 'coordinator config: the file does not exist',
    files: {},
    args: ['coordinator', 'start', '--config', 'coord.yaml'],
    code: 'CONFIG_NOT_FOUND',
    says: ['coord.yaml: does not exist'],
    fix: 'check the path',
  },
  coordinatorConfig(
    'YAML syntax error',
    COORDINATOR.replace('admins: [brand]', 'admins: [brand'),
    'CONFIG_INVALID',
    ['coordinator.yaml: is not valid YAML at line'],
    'correct the YAML syntax on or just before line',
  ),
  coordinatorConfig(
    'a typo in a key',
    COORDINATOR.replace('admins:', 'admin:'),
    'CONFIG_INVALID',
    ['coordinator.yaml: coordinator.admin: is not a known key (line 5)'],
    'rename it to "admins"',
  ),
  coordinatorConfig(
    'listen without a port',
    COORDINATOR.replace('127.0.0.1:0', 'localhost'),
    'CONFIG_INVALID',
    ['coordinator.yaml: coordinator.listen: must be host:port, but is "localhost" (line 2)'],
    'write a value that matches',
  ),
  coordinatorConfig(
    'no admins',
    COORDINATOR.replace('admins: [brand]', 'admins: []'),
    'CONFIG_INVALID',
    ['coordinator.yaml: coordinator.admins: must have at least 1 item(s), but has 0 (line 5)'],
    'add items',
  ),
  coordinatorConfig(
    'a chunk limit below the chunk size',
    `${COORDINATOR}limits:\n  maxChunkBytes: 1000\n`,
    'CONFIG_INVALID',
    ['coordinator.yaml: limits.maxChunkBytes: must be at least 1048576, but is 1000 (line 8)'],
    'use a value that is at least 1048576',
  ),
  coordinatorConfig(
    'certificates that do not exist',
    COORDINATOR,
    'CONFIG_NOT_FOUND',
    ['{dir}/certs/ca.crt: certs.ca: does not exist'],
    'tandem certs init',
  ),

  // Party node config through `party start`, which validates before dialling.
  {
    name: 'party start: an unknown key',
    files: { 'party.yaml': `${NODE}  port: 7443\n` },
    args: ['party', 'start', '--config', 'party.yaml'],
    code: 'CONFIG_INVALID',
    says: ['party.yaml: node.port: is not a known key (line 6)'],
    fix: 'remove it; allowed keys here are:',
  },
];

// ——— Running the CLI ———

type Run = { readonly exitCode: number | null; readonly stdout: string; readonly stderr: string };

let root: string;

function tandem(args: readonly string[], cwd: string): Promise<Run> {
  const env = {
    ...process.env,
    // Node 24 first on PATH, for anything the CLI itself might spawn.
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    // Compiled code cached across the many short runs (outside the rows' directories): about 3x faster start-up.
    NODE_COMPILE_CACHE: join(root, '.compile-cache'),
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          // Killed by the timeout (a node that started instead of failing) or not spawned at all.
          reject(
            new Error(
              `tandem ${args.join(' ')} did not exit by itself (${error.message})\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
          return;
        }
        resolve({ exitCode: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Every file under `dir` with its bytes, by relative path. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out.set(
      path.slice(dir.length + 1) + (entry.isDirectory() ? '/' : ''),
      entry.isDirectory() ? Buffer.alloc(0) : await readFile(path),
    );
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-bad-input-'));
  await tandem(['--version'], root); // fills the compile cache before the rows run in parallel
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the table', () => {
  it('has at least 20 rows, each with a distinct name', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it('can reach `tandem party-check`, which the data rows need', async () => {
    // Unregistered, `--help` still exits 0, with the general help: look for the command's own options.
    const run = await tandem(['party-check', '--help'], root);
    expect(run.stdout, 'register partyCheckCommand (cli/commands/party-check.ts) in cli/commands/index.ts').toMatch(
      /tandem party-check[\s\S]*--job/,
    );
  });
});

// Controls: the same building blocks, unbroken, pass. Without these a row could
// pass because everything fails.
describe.concurrent('good input through the same CLI', () => {
  it('party-check accepts the unbroken party config and data, and prints rows, ids, features and label balance', async () => {
    const dir = join(root, 'good-party');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'party.yaml'), partyWith());
    await writeFile(join(dir, 'data.csv'), GOOD_CSV);
    const run = await tandem(['party-check', '--config', 'party.yaml'], dir);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^credit\s+data\.csv\s+4\s+column "id"\s+2 numeric\s+0\s+0: 2 \(50\.0%\), 1: 2 \(50\.0%\)\s+ok$/m,
    );
    expect(run.stdout).toContain('1 dataset(s) load cleanly.');
  });

  it('party-check --job accepts the unbroken job spec', async () => {
    const dir = join(root, 'good-job');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'party.yaml'), partyWith());
    await writeFile(join(dir, 'data.csv'), GOOD_CSV);
    await writeFile(join(dir, 'job.yaml'), `${JOB_HEAD}${TWO_PARTIES}training: { maxEpochs: 5, batchSize: 64 }\n`);
    const run = await tandem(['party-check', '--config', 'party.yaml', '--job', 'job.yaml'], dir);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'brand is a guest of job "default-credit-lr" (job.yaml) with dataset "credit": ready.',
    );
  });

  it("party-check loads the example federation's real data", async () => {
    const run = await tandem(
      [
        'party-check',
        '--config',
        join(ROOT, 'examples/default-credit/brand.yaml'),
        '--job',
        join(ROOT, 'examples/default-credit/job.yaml'),
      ],
      root,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^credit\s+\S+default_credit_guest\.csv\.gz\s+30000\s/m);
  });

  it('party-check reports every dataset, and exits with the code of the first that fails', async () => {
    const dir = join(root, 'mixed');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'party.yaml'),
      `${partyWith()}  second:\n    file: second.csv\n    id: id\n    features: all\n`,
    );
    await writeFile(join(dir, 'data.csv'), 'id,y,a,b\n1,0,1,2\n1,1,2,3\n');
    await writeFile(join(dir, 'second.csv'), 'id,a\n1,5\n2,6\n');
    const run = await tandem(['party-check', '--config', 'party.yaml'], dir);
    expect(run.exitCode).toBe(ERROR_CATALOG.DATA_ID_DUPLICATE.exitCode);
    expect(run.stdout).toMatch(/^credit\s+data\.csv\s+FAILED \(DATA_ID_DUPLICATE\)$/m);
    expect(run.stdout).toMatch(/^second\s+second\.csv\s+2\s.*ok$/m);
    expect(run.stderr).toContain(`tandem: error DATA_ID_DUPLICATE: ${join(dir, 'data.csv')}, line 3, column "id"`);
  });
});

describe.concurrent('bad input through the real CLI', () => {
  it.each(CASES.map((c, i) => ({ ...c, index: i })))('$name', async (c) => {
    const dir = join(root, String(c.index).padStart(2, '0'));
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(c.files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    const before = await snapshot(dir);

    const run = await tandem(c.args, dir);

    const context = `tandem ${c.args.join(' ')}\nexit ${String(run.exitCode)}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
    expect(run.exitCode, context).toBe(ERROR_CATALOG[c.code].exitCode);
    expect(run.stderr, context).toContain(`tandem: error ${c.code}: `);
    for (const text of c.says) expect(run.stderr, context).toContain(text.replaceAll('{dir}', dir));
    const fix = /Fix: (.*)$/m.exec(run.stderr)?.[1] ?? '';
    expect(fix, context).toContain(c.fix);
    // No stack trace, no internal-error banner.
    expect(run.stderr, context).not.toMatch(/^\s+at .+[(:]\d+/m);
    expect(run.stderr, context).not.toMatch(/unexpected internal error|node:internal|\.ts:\d+:\d+/);
    // The input is untouched and nothing was written: not a state dir, a database, nor a certificate.
    const after = await snapshot(dir);
    expect([...after.keys()].sort(), context).toEqual([...before.keys()].sort());
    for (const [name, bytes] of before) expect(after.get(name)?.equals(bytes), `${name} changed`).toBe(true);
  });
});
