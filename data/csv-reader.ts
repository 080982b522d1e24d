/**
 * Streaming CSV (RFC 4180): quoted fields, doubled quotes, CRLF or LF, an
 * optional UTF-8 BOM, and transparent gzip for `.gz` files. Text is parsed
 * chunk by chunk with the parser's state carried across chunk boundaries, so
 * memory stays bounded by one record, never by the file.
 */
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import { DataError } from '../protocol/errors.ts';

/** One data record and the 1-based line of the file where it starts. */
export type CsvRow = { readonly line: number; readonly fields: string[] };

export type CsvReaderOptions = {
  /** Field separator, a single character. @default ',' */
  readonly delimiter?: string;
  /** Longest record accepted, in characters; bounds memory when a quote is never closed. @default 1048576 */
  readonly maxRecordChars?: number;
  /** Bytes read from disk at a time. @default 65536 */
  readonly chunkBytes?: number;
  /** The config field the path came from, e.g. `datasets.credit.file`, named in the fix when the file cannot be opened. @default "`file:` in the dataset config" */
  readonly pathField?: string;
  /** What a relative path is relative to, for that fix. @default 'config' */
  readonly relativeTo?: 'config' | 'cwd';
};

/**
 * An open CSV file: the header is read; iterate once for the data rows (row by
 * row, or a chunk's rows at a time with `batches()`), or `close()` to stop early.
 */
export type CsvFile = AsyncIterable<CsvRow> & {
  readonly file: string;
  /** Column names, trimmed, unique and non-empty. */
  readonly header: readonly string[];
  /** The data rows as they are parsed, one array per chunk read (never empty): no promise per row for a loop that scores millions. */
  batches(): AsyncIterable<readonly CsvRow[]>;
  close(): Promise<void>;
};

const QUOTE = 34;
const CR = 13;
const LF = 10;
type Mode = 'start' | 'unquoted' | 'quoted' | 'closing';

/**
 * Incremental record parser: `push` text as it arrives, then `end`. Pure
 * (no I/O) so chunk-boundary behaviour can be tested exhaustively.
 */
export class CsvParser {
  readonly #file: string;
  readonly #delimiter: number;
  readonly #delimiterText: string;
  readonly #maxRecordChars: number;
  #mode: Mode = 'start';
  #fields: string[] = [];
  #field = '';
  #recordChars = 0;
  #line = 1;
  #recordLine = 1;
  #quoteLine = 1;
  #pendingCR = false;

  constructor(file: string, options: CsvReaderOptions = {}) {
    const delimiter = options.delimiter ?? ',';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new DataError('DATA_MALFORMED', {
        file,
        problem: `the delimiter ${JSON.stringify(delimiter)} cannot be used`,
        fix: 'use a single character other than a quote or a line break',
      });
    }
    this.#file = file;
    this.#delimiter = delimiter.charCodeAt(0);
    this.#delimiterText = delimiter;
    this.#maxRecordChars = options.maxRecordChars ?? 1_048_576;
  }

  /** The line the parser has reached (for errors raised outside it). */
  get line(): number {
    return this.#line;
  }

  /** Parses the next piece of text; returns the records it completed. */
  push(text: string): CsvRow[] {
    const out: CsvRow[] = [];
    const n = text.length;
    let i = 0;
    if (this.#pendingCR && n > 0) {
      if (text.charCodeAt(0) === LF) i = 1;
      this.#pendingCR = false;
    }
    while (i < n) {
      // Fast path: a whole line with no quotes or stray CRs is split natively.
      if (this.#mode === 'start' && this.#fields.length === 0) {
        const nl = text.indexOf('\n', i);
        if (nl !== -1) {
          const line = text.slice(i, nl > i && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl);
          if (!line.includes('"') && !line.includes('\r')) {
            if (line.length > this.#maxRecordChars) this.#append(line);
            this.#fields = line.split(this.#delimiterText);
            this.#endRecord(out);
            i = nl + 1;
            continue;
          }
        }
      }
      if (this.#mode === 'quoted') {
        const q = text.indexOf('"', i);
        const end = q === -1 ? n : q;
        for (let nl = text.indexOf('\n', i); nl !== -1 && nl < end; nl = text.indexOf('\n', nl + 1)) this.#line++;
        this.#append(text.slice(i, end));
        if (q === -1) break;
        this.#mode = 'closing';
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.#mode === 'closing') {
        if (c === QUOTE) {
          this.#append('"');
          this.#mode = 'quoted';
          i++;
          continue;
        }
        if (c !== this.#delimiter && c !== CR && c !== LF) {
          throw this.#malformed(
            this.#line,
            `unexpected ${JSON.stringify(text[i])} after the closing quote of a field`,
            'write a quote inside a quoted field as two quotes (""), and put the delimiter right after the closing quote',
          );
        }
      } else if (this.#mode === 'start' && c === QUOTE) {
        this.#mode = 'quoted';
        this.#quoteLine = this.#line;
        i++;
        continue;
      }
      // Unquoted run (or just past a closing quote): scan to the next delimiter or line break.
      let j = i;
      if (this.#mode !== 'closing') {
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === this.#delimiter || d === CR || d === LF) break;
          j++;
        }
        this.#append(text.slice(i, j));
        if (j === n) {
          this.#mode = 'unquoted';
          break;
        }
      }
      const stop = text.charCodeAt(j);
      this.#fields.push(this.#field);
      this.#field = '';
      this.#mode = 'start';
      i = j + 1;
      if (stop === this.#delimiter) continue;
      this.#endRecord(out);
      if (stop === CR) {
        if (i < n) {
          if (text.charCodeAt(i) === LF) i++;
        } else {
          this.#pendingCR = true;
        }
      }
    }
    return out;
  }

  /** Flushes the last record (a file need not end with a line break). */
  end(): CsvRow[] {
    const out: CsvRow[] = [];
    if (this.#mode === 'quoted') {
      throw this.#malformed(
        this.#quoteLine,
        'a quoted field is never closed',
        'close the quote, or write a quote inside a quoted field as two quotes ("")',
      );
    }
    if (this.#mode !== 'start' || this.#fields.length > 0) {
      this.#fields.push(this.#field);
      this.#field = '';
      this.#endRecord(out);
    }
    this.#mode = 'start';
    return out;
  }

  #append(piece: string): void {
    this.#field += piece;
    this.#recordChars += piece.length;
    if (this.#recordChars > this.#maxRecordChars) {
      throw this.#malformed(
        this.#recordLine,
        `the record is longer than ${this.#maxRecordChars} characters`,
        'check for a quote that is never closed',
      );
    }
  }

  #endRecord(out: CsvRow[]): void {
    const fields = this.#fields;
    // A blank line is not a record (pandas and most exporters agree).
    if (!(fields.length === 1 && fields[0] === '')) out.push({ line: this.#recordLine, fields });
    this.#fields = [];
    this.#recordChars = 0;
    this.#line++;
    this.#recordLine = this.#line;
  }

  #malformed(line: number, problem: string, fix: string): DataError {
    return new DataError('DATA_MALFORMED', { file: this.#file, line, problem, fix });
  }
}

/**
 * Opens a CSV (or `.csv.gz`) file and reads its header row.
 *
 * @throws DataError DATA_FILE_NOT_FOUND when the file cannot be opened;
 *   DATA_MALFORMED for an empty file or a bad header, and, while iterating,
 *   for a row with the wrong number of fields, an unclosed quote or bytes
 *   that are not UTF-8.
 */
export async function openCsv(file: string, options: CsvReaderOptions = {}): Promise<CsvFile> {
  const relative = options.relativeTo === 'cwd' ? 'the current directory' : "the config file's directory";
  const source = await openSource(
    file,
    options.chunkBytes ?? 65_536,
    options.pathField ?? '`file:` in the dataset config',
    relative,
  );
  const parser = new CsvParser(file, options);
  const shape: { width?: number } = {};
  const chunks = readBatches(file, source, parser, shape);
  const first = await chunks.next();
  if (first.done === true) {
    throw new DataError('DATA_MALFORMED', {
      file,
      problem: 'is empty: there is no header row',
      fix: 'add a header row that names the columns',
    });
  }
  let header: string[];
  try {
    header = checkHeader(file, first.value[0] ?? { line: 1, fields: [] });
  } catch (error) {
    await chunks.return(undefined);
    throw error;
  }
  const width = header.length;
  shape.width = width;
  // The rest of the first chunk was parsed before the header's width was known.
  const batches = async function* (): AsyncGenerator<readonly CsvRow[], void, undefined> {
    const rest = first.value.slice(1);
    checkWidths(file, rest, width);
    if (rest.length > 0) yield rest;
    yield* chunks;
  };
  const all = batches();
  const rows = async function* (): AsyncGenerator<CsvRow, void, undefined> {
    for await (const batch of all) for (const row of batch) yield row;
  };
  return {
    file,
    header,
    [Symbol.asyncIterator]: () => rows(),
    batches: () => all,
    close: async () => {
      await chunks.return(undefined);
    },
  };
}

async function openSource(file: string, chunkBytes: number, pathField: string, relative: string): Promise<Readable> {
  const handle = await open(file, 'r').catch((error: unknown) => {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      'DATA_FILE_NOT_FOUND',
      {
        file,
        problem: errno === 'ENOENT' ? 'does not exist' : `cannot be opened (${errno ?? String(error)})`,
        fix:
          errno === 'EACCES'
            ? 'make it readable by the user running the party node'
            : `check the path in ${pathField} (relative paths start from ${relative})`,
      },
      { cause: error },
    );
  });
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new DataError('DATA_FILE_NOT_FOUND', {
      file,
      problem: 'is not a regular file',
      fix: `point ${pathField} at a CSV file`,
    });
  }
  const raw = handle.createReadStream({ highWaterMark: chunkBytes });
  if (!file.endsWith('.gz')) return raw;
  // pipeline() destroys both streams when either fails or the reader stops early.
  return pipeline(raw, createGunzip(), () => undefined);
}

async function* readBatches(
  file: string,
  source: Readable,
  parser: CsvParser,
  shape: { width?: number },
): AsyncGenerator<CsvRow[], void, undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const checked = (rows: CsvRow[]): CsvRow[] => {
    if (shape.width !== undefined) checkWidths(file, rows, shape.width);
    return rows;
  };
  try {
    for await (const chunk of source) {
      const rows = checked(parser.push(decode(decoder, chunk as Buffer, file, parser.line)));
      if (rows.length > 0) yield rows;
    }
    const tail = checked(parser.push(decode(decoder, undefined, file, parser.line)));
    if (tail.length > 0) yield tail;
    const last = checked(parser.end());
    if (last.length > 0) yield last;
  } catch (error) {
    if (error instanceof DataError) throw error;
    const zlib = (error as NodeJS.ErrnoException).code?.startsWith('Z_') === true;
    throw new DataError(
      'DATA_MALFORMED',
      {
        file,
        line: parser.line,
        problem: zlib ? 'is not a valid gzip file' : `could not be read (${(error as Error).message})`,
        fix: zlib
          ? 'check the file is complete, or remove the .gz extension if it is plain text'
          : 'check the file and the disk',
      },
      { cause: error },
    );
  } finally {
    source.destroy();
  }
}

function checkWidths(file: string, rows: readonly CsvRow[], width: number): void {
  for (const row of rows) {
    if (row.fields.length !== width) {
      throw new DataError('DATA_MALFORMED', {
        file,
        line: row.line,
        problem: `has ${row.fields.length} field(s) but the header has ${width}`,
        fix: 'quote any value that contains the delimiter, and give every row one value per column (empty for missing)',
      });
    }
  }
}

function decode(decoder: TextDecoder, chunk: Buffer | undefined, file: string, line: number): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch (error) {
    const fix =
      'save or export the file as UTF-8 (for example, "CSV UTF-8" in a spreadsheet, or `iconv -f latin1 -t utf-8`)';
    const at = chunk === undefined ? -1 : firstInvalidUtf8(chunk);
    if (chunk === undefined || at === -1) {
      const problem =
        chunk === undefined
          ? 'is not UTF-8 text (it ends in the middle of a character)'
          : 'is not UTF-8 text (invalid bytes on or after this line)';
      throw new DataError('DATA_MALFORMED', { file, line, problem, fix }, { cause: error });
    }
    let exact = line;
    for (let i = chunk.indexOf(LF); i !== -1 && i < at; i = chunk.indexOf(LF, i + 1)) exact++;
    const byte = (chunk[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    throw new DataError(
      'DATA_MALFORMED',
      {
        file,
        line: exact,
        problem: `is not UTF-8 text (byte 0x${byte} on this line is not valid UTF-8; the file may be Latin-1 or Windows-1252)`,
        fix,
      },
      { cause: error },
    );
  }
}

/**
 * Offset of the first byte that cannot start or continue a UTF-8 character,
 * or -1. Up to three leading continuation bytes are skipped: they finish a
 * character begun in the previous chunk. A character cut off at the end is
 * not an error here (the next chunk may finish it).
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const at = (k: number): number => bytes[k] ?? 0;
  let i = 0;
  while (i < 3 && i < bytes.length && (at(i) & 0xc0) === 0x80) i++;
  while (i < bytes.length) {
    const b = at(i);
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (need === 0) return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return -1;
      if ((at(i + k) & 0xc0) !== 0x80) return i;
    }
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    const c = at(i + 1);
    if ((b === 0xe0 && c < 0xa0) || (b === 0xed && c > 0x9f) || (b === 0xf0 && c < 0x90) || (b === 0xf4 && c > 0x8f))
      return i;
    i += need + 1;
  }
  return -1;
}

function checkHeader(file: string, row: CsvRow): string[] {
  const header = row.fields.map((name) => name.trim());
  const seen = new Map<string, number>();
  header.forEach((name, index) => {
    if (name === '') {
      throw new DataError('DATA_MALFORMED', {
        file,
        line: row.line,
        problem: `column ${index + 1} of the header has no name`,
        fix: 'name every column in the header row',
      });
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new DataError('DATA_MALFORMED', {
        file,
        line: row.line,
        column: name,
        problem: `the header names columns ${earlier + 1} and ${index + 1} the same`,
        fix: 'give every column a distinct name',
      });
    }
    seen.set(name, index);
  });
  return header;
}
