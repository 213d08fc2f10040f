/**
 * An append-only output file (a combined CSV) with a resume journal beside it.
 *
 * After each image's rows are appended, one line `{"n": name, "o": byteOffset}` goes to
 * `<file>.progress`. A later run with `resume` truncates the file to the last journalled offset (dropping
 * rows of an image cut off mid-write), skips the journalled names and appends. `close()` removes the
 * journal; resuming from a finished file (no journal) falls back to the names found in the file itself
 * (`namesFromFile`) — images with no rows are then recomputed, which writes nothing, so nothing is
 * duplicated.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParseError } from '../errors.js';
import { readLines } from './inputs.js';

/** Options of {@link JournaledFile.open}. */
export interface JournaledFileOptions {
  /** First line(s) of a new file, e.g. the CSV header with its newline. */
  header: string;
  /** Keep existing content and skip what it holds (default false: start afresh). */
  resume?: boolean;
  /**
   * Names already in a file that has no journal (resume from a finished run). Default: none. Must read
   * only complete lines; the file is first truncated to its last newline.
   */
  namesFromFile?: (path: string) => AsyncIterable<string>;
}

/** The journal's path for an output file. */
export function journalPath(path: string): string {
  return `${path}.progress`;
}

/** An output file written by appending, resumable after a crash. See the module comment. */
export class JournaledFile {
  private constructor(
    readonly path: string,
    private file: FileHandle,
    private journal: FileHandle,
    private offset: number,
    private readonly doneNames: Set<string>,
  ) {}

  /**
   * Open (create, or resume) an output file.
   * @throws ParseError when resuming a file whose first line is not `header`'s first line
   */
  static async open(path: string, options: JournaledFileOptions): Promise<JournaledFile> {
    await mkdir(dirname(path), { recursive: true });
    const jpath = journalPath(path);
    const done = new Set<string>();
    const headerBytes = Buffer.byteLength(options.header);
    let offset = 0;
    if (options.resume && existsSync(path)) {
      const head = await readHead(path, headerBytes);
      if (head !== options.header) {
        throw new ParseError(
          path,
          `cannot resume: the file does not start with the expected header '${options.header.trim()}'`,
          1,
        );
      }
      if (existsSync(jpath)) {
        offset = headerBytes;
        for await (const line of readLines(jpath)) {
          try {
            const rec = JSON.parse(line) as { n: string; o: number };
            if (typeof rec.n !== 'string' || typeof rec.o !== 'number') continue;
            done.add(rec.n);
            offset = Math.max(offset, rec.o);
          } catch {
            // a journal line cut off by a crash: ignore it (its rows are beyond `offset` and get dropped)
          }
        }
        await truncate(path, offset);
        await truncateToLastNewline(jpath, 0); // a journal line cut off by a crash would swallow the next one
      } else {
        offset = await truncateToLastNewline(path, headerBytes);
        if (options.namesFromFile) for await (const n of options.namesFromFile(path)) done.add(n);
      }
    } else {
      await rm(jpath, { force: true });
      const fh = await open(path, 'w');
      await fh.write(options.header);
      await fh.close();
      offset = headerBytes;
    }
    const file = await open(path, 'a');
    const journal = await open(jpath, 'a');
    const jf = new JournaledFile(path, file, journal, offset, done);
    // Re-journal what the fallback found, so a crash in this run still resumes correctly.
    if (done.size > 0 && (await stat(jpath)).size === 0) {
      for (const n of done) await journal.write(JSON.stringify({ n, o: offset }) + '\n');
    }
    return jf;
  }

  /** True when `name` was completed by an earlier run (resume). */
  has(name: string): boolean {
    return this.doneNames.has(name);
  }

  /** Append `text` (may be empty) for `name`, then journal it. */
  async append(name: string, text: string): Promise<void> {
    if (text.length > 0) {
      const { bytesWritten } = await this.file.write(text);
      this.offset += bytesWritten;
    }
    await this.journal.write(JSON.stringify({ n: name, o: this.offset }) + '\n');
  }

  /** Close the file and remove the journal. */
  async close(): Promise<void> {
    await this.file.close();
    await this.journal.close();
    await rm(journalPath(this.path), { force: true });
  }
}

/** The first `n` bytes of a file as text. */
async function readHead(path: string, n: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead).toString();
  } finally {
    await fh.close();
  }
}

/**
 * Cut a trailing partial line (no newline) off a file, reading only its tail; returns the new size
 * (at least `minSize`).
 */
export async function truncateToLastNewline(path: string, minSize: number): Promise<number> {
  const fh = await open(path, 'r');
  let end: number;
  try {
    const size = (await fh.stat()).size;
    end = size;
    const buf = Buffer.alloc(65536);
    search: while (end > minSize) {
      const from = Math.max(minSize, end - buf.length);
      const { bytesRead } = await fh.read(buf, 0, end - from, from);
      for (let k = bytesRead - 1; k >= 0; k--) {
        if (buf[k] === 0x0a) {
          end = from + k + 1;
          break search;
        }
      }
      end = from;
    }
    end = Math.max(end, minSize);
    if (end === size) return end;
  } finally {
    await fh.close();
  }
  await truncate(path, end);
  return end;
}
