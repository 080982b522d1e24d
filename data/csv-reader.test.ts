import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { CsvParser, openCsv, type CsvReaderOptions, type CsvRow } from './csv-reader.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

async function readAll(
  file: string,
  options: CsvReaderOptions = {},
): Promise<{ header: readonly string[]; rows: CsvRow[] }> {
  const csv = await openCsv(file, options);
  const rows: CsvRow[] = [];
  for await (const row of csv) rows.push(row);
  return { header: csv.header, rows };
}

async function failure(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

const tricky = 'id,name,note\r\n1,"Smith, Jo","said ""hi"""\r\n2,"two\r\nlines",\r\n\r\n3,é😀,"x"\r\n';

describe('openCsv', () => {
  it('reads the header and the rows with their 1-based line numbers', async () => {
    const file = await fileWith('simple.csv', 'id,x0,x1\na,1,2\nb,3,4\n');

    const { header, rows } = await readAll(file);

    expect(header).toEqual(['id', 'x0', 'x1']);
    expect(rows).toEqual([
      { line: 2, fields: ['a', '1', '2'] },
      { line: 3, fields: ['b', '3', '4'] },
    ]);
  });

  it('reads quoted delimiters, doubled quotes and line breaks inside quotes, with CRLF endings', async () => {
    const file = await fileWith('quoted.csv', tricky);

    const { rows } = await readAll(file);

    expect(rows).toEqual([
      { line: 2, fields: ['1', 'Smith, Jo', 'said "hi"'] },
      { line: 3, fields: ['2', 'two\r\nlines', ''] },
      { line: 6, fields: ['3', 'é😀', 'x'] },
    ]);
  });

  it('gives the same rows whatever the read size, even when it splits a character or a CRLF', async () => {
    const file = await fileWith('split.csv', tricky);
    const expected = await readAll(file);

    for (const chunkBytes of [1, 2, 3, 5, 7]) {
      expect(await readAll(file, { chunkBytes })).toEqual(expected);
    }
  });

  it('strips a UTF-8 byte order mark from the first column name', async () => {
    const file = await fileWith('bom.csv', '\uFEFFid,x\n1,2\n');

    const { header } = await readAll(file);

    expect(header).toEqual(['id', 'x']);
  });

  it('reads a last line without a line break, skips blank lines and trims header names', async () => {
    const file = await fileWith('tail.csv', ' id , x \n\n1,2\n\n3,4');

    const { header, rows } = await readAll(file);

    expect(header).toEqual(['id', 'x']);
    expect(rows).toEqual([
      { line: 3, fields: ['1', '2'] },
      { line: 5, fields: ['3', '4'] },
    ]);
  });

  it('reads a gzipped file transparently', async () => {
    const file = await fileWith('data.csv.gz', gzipSync('id,x\n1,"a,b"\n2,c\n'));

    const { rows } = await readAll(file);

    expect(rows.map((r) => r.fields)).toEqual([
      ['1', 'a,b'],
      ['2', 'c'],
    ]);
  });

  it('reads another delimiter when told', async () => {
    const file = await fileWith('tabs.tsv', 'id\tx\n1\ta,b\n');

    const { rows } = await readAll(file, { delimiter: '\t' });

    expect(rows[0]?.fields).toEqual(['1', 'a,b']);
  });

  it('stops reading and releases the file when closed early', async () => {
    const file = await fileWith(
      'long.csv',
      `id,x\n${Array.from({ length: 5000 }, (_, i) => `${i},${i * 2}`).join('\n')}\n`,
    );
    const csv = await openCsv(file, { chunkBytes: 256 });

    const firstRows: CsvRow[] = [];
    for await (const row of csv) {
      firstRows.push(row);
      if (firstRows.length === 3) break;
    }
    await csv.close();

    expect(firstRows.map((r) => r.line)).toEqual([2, 3, 4]);
  });

  it('reads the real default-credit guest file: 30,000 rows of 15 fields', async () => {
    const { header, rows } = await readAll('/work/shared/data/fate/default_credit_hetero_guest.csv');

    expect(header).toEqual(['id', 'y', ...Array.from({ length: 13 }, (_, i) => `x${i}`)]);
    expect(rows).toHaveLength(30_000);
    expect(rows.every((r) => r.fields.length === 15)).toBe(true);
    expect(rows.at(-1)?.line).toBe(30_001);
  });
});

describe('openCsv errors', () => {
  it('reports a missing file as DATA_FILE_NOT_FOUND', async () => {
    const file = join(dir, 'absent.csv');

    const error = await failure(openCsv(file));

    expect(error.code).toBe('DATA_FILE_NOT_FOUND');
    expect(error.message).toContain(`${file}: does not exist`);
  });

  it('reports a directory as DATA_FILE_NOT_FOUND', async () => {
    const error = await failure(openCsv(dir));

    expect(error.code).toBe('DATA_FILE_NOT_FOUND');
    expect(error.message).toContain('is not a regular file');
  });

  it('rejects an empty file, and one holding only blank lines, for lack of a header', async () => {
    for (const content of ['', '\n\r\n\n']) {
      const file = await fileWith('empty.csv', content);

      const error = await failure(openCsv(file));

      expect(error.code).toBe('DATA_MALFORMED');
      expect(error.message).toContain('is empty: there is no header row');
    }
  });

  it('rejects duplicate header names and names both columns', async () => {
    const file = await fileWith('dup-header.csv', 'id,x,y,x\n1,2,3,4\n');

    const error = await failure(openCsv(file));

    expect(error).toMatchObject({ code: 'DATA_MALFORMED', line: 1, column: 'x' });
    expect(error.message).toContain('the header names columns 2 and 4 the same');
  });

  it('rejects a header column without a name', async () => {
    const file = await fileWith('unnamed.csv', ',x\n1,2\n');

    const error = await failure(openCsv(file));

    expect(error.code).toBe('DATA_MALFORMED');
    expect(error.message).toContain('line 1: column 1 of the header has no name');
  });

  it('rejects a row with the wrong number of fields and names its line', async () => {
    const file = await fileWith('ragged.csv', 'id,x,y\n1,2,3\n2,3\n');

    const error = await failure(readAll(file));

    expect(error).toMatchObject({ code: 'DATA_MALFORMED', line: 3 });
    expect(error.message).toContain('ragged.csv, line 3: has 2 field(s) but the header has 3');
  });

  it('rejects a quote that is never closed and names the line where it opened', async () => {
    const file = await fileWith('open-quote.csv', 'id,x\n1,2\n2,"oops\n3,4\n');

    const error = await failure(readAll(file));

    expect(error).toMatchObject({ code: 'DATA_MALFORMED', line: 3 });
    expect(error.message).toContain('a quoted field is never closed');
  });

  it('stops an unclosed quote at the record size limit rather than reading the rest of the file', async () => {
    const file = await fileWith('runaway.csv', `id,x\n1,"${'a,b\n'.repeat(1000)}`);

    const error = await failure(readAll(file, { maxRecordChars: 100, chunkBytes: 64 }));

    expect(error).toMatchObject({ code: 'DATA_MALFORMED', line: 2 });
    expect(error.message).toContain(
      'the record is longer than 100 characters. Fix: check for a quote that is never closed',
    );
  });

  it('rejects text after a closing quote', async () => {
    const file = await fileWith('after-quote.csv', 'id,x\n1,"a"b\n');

    const error = await failure(readAll(file));

    expect(error).toMatchObject({ code: 'DATA_MALFORMED', line: 2 });
    expect(error.message).toContain('unexpected "b" after the closing quote of a field');
  });

  it('rejects bytes that are not UTF-8', async () => {
    const file = await fileWith('latin1.csv', Buffer.concat([Buffer.from('id,x\n1,'), Buffer.from([0xe9, 0x0a])]));

    const error = await failure(readAll(file));

    expect(error.code).toBe('DATA_MALFORMED');
    expect(error.message).toContain('is not UTF-8 text');
  });

  it('rejects a corrupt gzip file', async () => {
    const file = await fileWith('broken.csv.gz', gzipSync('id,x\n'.repeat(100)).subarray(0, 20));

    const error = await failure(readAll(file));

    expect(error.code).toBe('DATA_MALFORMED');
    expect(error.message).toContain('is not a valid gzip file');
  });
});

describe('CsvParser', () => {
  it('yields the same records for every way of splitting the text in two', () => {
    const whole = new CsvParser('t.csv');
    const expected = [...whole.push(tricky), ...whole.end()];

    for (let cut = 0; cut <= tricky.length; cut++) {
      const parser = new CsvParser('t.csv');
      const records = [...parser.push(tricky.slice(0, cut)), ...parser.push(tricky.slice(cut)), ...parser.end()];
      expect(records, `cut at ${cut}`).toEqual(expected);
    }
  });

  it('rejects a delimiter it cannot use', () => {
    expect(() => new CsvParser('t.csv', { delimiter: '"' })).toThrow(DataError);
  });
});
