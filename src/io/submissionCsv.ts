/**
 * The hand-bone competition's submission CSV: header `image_name,class,rle`, one row per image per
 * class. RFC 4180 quoting (fields with commas, quotes or newlines are quoted, quotes doubled); the
 * reader also takes CRLF, a UTF-8 BOM, blank lines and the three columns in any order.
 *
 * Reading streams a file chunk by chunk (`readSubmissionRows`); writing streams row by row with
 * back-pressure (`SubmissionCsvWriter`), so a test set's CSV never has to be held as one string.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { HANDBONE_CLASSES } from '../model/classes.js';
import { checkRegularFile } from './files.js';

export interface SubmissionRow {
  image_name: string;
  class: string;
  /** Row-major 1-based RLE, `''` for an empty mask. */
  rle: string;
}

export interface SubmissionRecord extends SubmissionRow {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
}

/** A CSV to read: a file path, or text in memory with a name for error messages. */
export type CsvInput = string | { text: string; name?: string };

export const SUBMISSION_HEADER = ['image_name', 'class', 'rle'] as const;

const QUOTE = 34,
  COMMA = 44,
  LF = 10,
  CR = 13;

/**
 * Incremental RFC 4180 record parser: feed string chunks with `push`, then `end`. Records are handed
 * to `onRecord` with the line they start on. Blank lines are skipped.
 */
export class CsvRecordParser {
  private fields: string[] = [];
  private buf = '';
  private inQuotes = false;
  private afterQuote = false;
  private atFieldStart = true;
  private pendingCR = false;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private first = true;

  constructor(
    private readonly source: string,
    private readonly onRecord: (fields: string[], line: number) => void,
  ) {}

  push(s: string): void {
    let i = 0;
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) i = 1;
    }
    let seg = i;
    const n = s.length;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (this.inQuotes) {
        if (c === QUOTE) {
          this.buf += s.slice(seg, i);
          this.inQuotes = false;
          this.afterQuote = true;
          seg = i + 1;
        } else if (c === LF) this.line++;
        i++;
        continue;
      }
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === LF) {
          seg = ++i;
          continue;
        }
      }
      if (this.afterQuote) {
        this.afterQuote = false;
        if (c === QUOTE) {
          this.buf += '"';
          this.inQuotes = true;
          seg = ++i;
          continue;
        }
        if (c !== COMMA && c !== LF && c !== CR) {
          throw new ParseError(this.source, `unexpected character '${s[i]}' after a closing quote`, this.line);
        }
      }
      if (c === COMMA) {
        this.fields.push(this.buf + s.slice(seg, i));
        this.buf = '';
        this.atFieldStart = true;
        seg = ++i;
      } else if (c === LF || c === CR) {
        this.fields.push(this.buf + s.slice(seg, i));
        this.emit();
        this.line++;
        this.recordLine = this.line;
        this.pendingCR = c === CR;
        seg = ++i;
      } else if (c === QUOTE && this.atFieldStart) {
        this.inQuotes = true;
        this.quoteLine = this.line;
        this.atFieldStart = false;
        seg = ++i;
      } else {
        this.atFieldStart = false;
        i++;
      }
    }
    this.buf += s.slice(seg, n);
  }

  end(): void {
    if (this.inQuotes) throw new ParseError(this.source, 'unterminated quoted field', this.quoteLine);
    if (this.fields.length > 0 || this.buf !== '' || !this.atFieldStart) {
      this.fields.push(this.buf);
      this.emit();
    }
  }

  private emit(): void {
    const f = this.fields;
    this.fields = [];
    this.buf = '';
    this.atFieldStart = true;
    if (f.length === 1 && f[0] === '') return;
    this.onRecord(f, this.recordLine);
  }
}

/** Turns CSV records into submission rows, checking the header. */
class RowBuilder {
  private cols: [number, number, number] | null = null;
  private width = 0;
  constructor(private readonly source: string) {}

  add(fields: string[], line: number, out: SubmissionRecord[]): void {
    if (this.cols === null) {
      const names = fields.map((f) => f.trim());
      const idx = SUBMISSION_HEADER.map((h) => names.indexOf(h));
      const missing = SUBMISSION_HEADER.filter((_, k) => idx[k]! < 0);
      if (missing.length > 0) {
        throw new ParseError(
          this.source,
          `header must name the columns image_name,class,rle; missing ${missing.join(', ')} (found '${fields.join(',')}')`,
          line,
        );
      }
      this.cols = idx as [number, number, number];
      this.width = fields.length;
      return;
    }
    if (fields.length !== this.width)
      throw new ParseError(this.source, `expected ${this.width} fields, found ${fields.length}`, line);
    const [a, b, c] = this.cols;
    out.push({ image_name: fields[a]!, class: fields[b]!, rle: fields[c]!, line });
  }

  finish(): void {
    if (this.cols === null) throw new ParseError(this.source, 'empty file: no header image_name,class,rle');
  }
}

function sourceName(input: CsvInput): string {
  return typeof input === 'string' ? input : (input.name ?? 'csv');
}

/**
 * Streams the rows of a submission CSV (a file is read in 1 MiB chunks).
 * @throws ParseError naming the file and line for a bad header, a wrong field count or broken quoting
 */
export async function* readSubmissionRows(input: CsvInput): AsyncGenerator<SubmissionRecord> {
  const source = sourceName(input);
  const rows = new RowBuilder(source);
  let pending: SubmissionRecord[] = [];
  const parser = new CsvRecordParser(source, (f, line) => rows.add(f, line, pending));
  if (typeof input === 'string') {
    // A regular file only: a FIFO would block the stream forever. Streamed, so no size cap.
    try {
      await checkRegularFile(input, { argument: 'csv', maxBytes: Number.MAX_SAFE_INTEGER });
    } catch (err) {
      const msg = (err as Error).message;
      throw new ParseError(source, `cannot read: ${msg.startsWith(`${input}: `) ? msg.slice(input.length + 2) : msg}`);
    }
    const stream = createReadStream(input, { encoding: 'utf8', highWaterMark: 1 << 20 });
    try {
      for await (const chunk of stream) {
        parser.push(chunk as string);
        if (pending.length > 0) {
          yield* pending;
          pending = [];
        }
      }
    } catch (err) {
      if (err instanceof ParseError) throw err;
      throw new ParseError(source, `cannot read: ${(err as Error).message}`);
    }
  } else {
    if (typeof input?.text !== 'string')
      throw new InvalidArgumentError('input', 'Expected a file path or { text, name } for input');
    parser.push(input.text);
  }
  parser.end();
  rows.finish();
  yield* pending;
}

/** Every row of a submission CSV. */
export async function readSubmissionCsv(input: CsvInput): Promise<SubmissionRecord[]> {
  const out: SubmissionRecord[] = [];
  for await (const r of readSubmissionRows(input)) out.push(r);
  return out;
}

/** The key rows are matched by: `(image_name, class)`. */
export function submissionKey(imageName: string, className: string): string {
  return `${imageName}\u0000${className}`;
}

/**
 * Rows indexed by `(image_name, class)`.
 * @throws ParseError naming the source and line of a duplicate row
 */
export function indexSubmission(rows: Iterable<SubmissionRecord>, source = 'csv'): Map<string, SubmissionRecord> {
  const map = new Map<string, SubmissionRecord>();
  for (const r of rows) {
    const k = submissionKey(r.image_name, r.class);
    const prev = map.get(k);
    if (prev)
      throw new ParseError(
        source,
        `duplicate row for image '${r.image_name}', class '${r.class}' (first at line ${prev.line})`,
        r.line,
      );
    map.set(k, r);
  }
  return map;
}

/** A CSV field, quoted only when it must be (comma, quote, CR or LF), quotes doubled. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function rowLine(r: SubmissionRow): string {
  return `${csvField(r.image_name)},${csvField(r.class)},${csvField(r.rle)}\n`;
}

/** A whole submission CSV as one string (header, then the rows, `\n` line ends). */
export function formatSubmissionCsv(rows: Iterable<SubmissionRow>): string {
  let s = SUBMISSION_HEADER.join(',') + '\n';
  for (const r of rows) s += rowLine(r);
  return s;
}

/**
 * Writes a submission CSV row by row, waiting for the stream to drain (back-pressure).
 * @example
 * const w = new SubmissionCsvWriter('submission.csv');
 * await w.writeImage('image1.png', rleStrings); // one row per class, HANDBONE_CLASSES order
 * await w.close();
 */
export class SubmissionCsvWriter {
  private readonly stream: Writable;
  private error: Error | null = null;
  private closed = false;
  /** Rows written so far (the header not counted). */
  rows = 0;

  /** @param dest a file path (created or truncated) or a writable stream */
  constructor(dest: string | Writable) {
    this.stream = typeof dest === 'string' ? createWriteStream(dest) : dest;
    this.stream.on('error', (err) => (this.error = err));
    this.stream.write(SUBMISSION_HEADER.join(',') + '\n');
  }

  /** Appends one row; resolves when the stream can take more. */
  async write(row: SubmissionRow): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new InvalidArgumentError('row', 'write() after close()');
    for (const k of SUBMISSION_HEADER) {
      if (typeof row?.[k] !== 'string')
        throw new InvalidArgumentError(`row.${k}`, `Expected a string for row.${k} but received ${typeof row?.[k]}`);
    }
    this.rows++;
    if (!this.stream.write(rowLine(row))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => (this.stream.off('error', onError), resolve());
        const onError = (e: Error) => (this.stream.off('drain', onDrain), reject(e));
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }

  /** One row per class for an image, in class order (`rle[c]` belongs to `classes[c]`). */
  async writeImage(
    imageName: string,
    rle: readonly string[],
    classes: readonly string[] = HANDBONE_CLASSES,
  ): Promise<void> {
    if (rle.length !== classes.length) {
      throw new InvalidArgumentError(
        'rle',
        `Expected ${classes.length} RLE strings (one per class) for rle but received ${rle.length}`,
      );
    }
    for (let c = 0; c < rle.length; c++) await this.write({ image_name: imageName, class: classes[c]!, rle: rle[c]! });
  }

  /** Ends the stream and waits until everything is flushed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    await finished(this.stream, { readable: false });
    if (this.error) throw this.error;
  }
}
