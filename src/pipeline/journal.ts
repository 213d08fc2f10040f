/**
 * An append-only output file (a combined CSV, a submission CSV) with a resume journal beside it.
 *
 * The file is built as `<file>.partial` and renamed to `<file>` by `close()` (after an fsync), so a
 * crash or a failure never leaves a half-written file where a good one was. After each image's rows
 * are appended, one line goes to the journal `<file>.progress`:
 * `{"n": name, "o": end offset, "d": hash of the bytes this entry added, "h": hash chained over the
 * previous entry}`.
 *
 * Resume validates the journal against the partial file, entry by entry: the line parses, the name is a
 * non-empty string, the offset is an integer that does not go backwards or past the end of the file,
 * the bytes it covers hash to `d`, and `h` chains to the entry before (so an edited, inserted or garbage
 * line is caught). The consistent prefix is kept, the partial file is cut to its last offset, and every
 * later entry is discarded (reported in {@link JournaledFile.recovery}) and redone. Resuming from a
 * finished file (no partial) copies it to the partial file and journals the names found in it
 * (`namesFromFile`).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, open, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParseError } from '../errors.js';
import { ensureDir, outputError } from '../io/files.js';
import { readLines } from './inputs.js';

/** Options of {@link JournaledFile.open}. */
export interface JournaledFileOptions {
  /** First line(s) of a new file, e.g. the CSV header with its newline. */
  header: string;
  /** Keep existing content and skip what it holds (default false: start afresh). */
  resume?: boolean;
  /**
   * Names already in a finished file that has no journal (resume from a finished run). Must read only
   * complete lines; the file is first truncated to its last newline.
   */
  namesFromFile?: (path: string) => AsyncIterable<string>;
}

/** What resume kept and threw away. */
export interface JournalRecovery {
  /** Journal entries accepted (images not redone). */
  kept: number;
  /** Names of the entries discarded (redone), when their line could be read. */
  discarded: string[];
  /** Lines discarded (including unreadable ones). */
  discardedLines: number;
  /** Why the first discarded entry was refused. */
  reason?: string;
}

/** The journal's path for an output file. */
export function journalPath(path: string): string {
  return `${path}.progress`;
}

/** The file being built, renamed to `path` on close. */
export function partialPath(path: string): string {
  return `${path}.partial`;
}

/** Short content hash used by the journal. */
export function hash16(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

function chain(prev: string, n: string, o: number, d: string): string {
  return hash16(`${prev}\n${JSON.stringify([n, o, d])}`);
}

/** An output file written by appending, resumable after a crash. See the module comment. */
export class JournaledFile {
  private lastHash = '';
  private constructor(
    readonly path: string,
    private file: FileHandle,
    private journal: FileHandle,
    private offset: number,
    private readonly doneNames: Set<string>,
    /** What a resume kept and discarded (all zero for a fresh file). */
    readonly recovery: JournalRecovery,
  ) {}

  /**
   * Open (create, or resume) an output file.
   * @throws ParseError when resuming a file whose first line is not `header`'s first line
   */
  static async open(path: string, options: JournaledFileOptions): Promise<JournaledFile> {
    await ensureDir(dirname(path));
    const part = partialPath(path);
    const jpath = journalPath(path);
    const headerBytes = Buffer.byteLength(options.header);
    const recovery: JournalRecovery = { kept: 0, discarded: [], discardedLines: 0 };
    const done = new Set<string>();
    let entries: { n: string; o: number; d: string; h: string }[] = [];
    let offset = headerBytes;
    let lastHash = '';
    const resumable = options.resume && (existsSync(part) || existsSync(path));
    if (resumable) {
      if (!existsSync(part)) {
        // A finished file: continue a copy of it (the finished file stays until the new one is complete).
        await rm(jpath, { force: true });
        await copyFile(path, part);
      }
      await checkHeader(part, options.header);
      if (existsSync(jpath)) {
        const r = await validateJournal(part, jpath, headerBytes);
        entries = r.entries;
        Object.assign(recovery, r.recovery);
        offset = entries.length ? entries[entries.length - 1]!.o : headerBytes;
        await truncate(part, offset);
      } else {
        offset = await truncateToLastNewline(part, headerBytes);
        if (options.namesFromFile) {
          // Journal what the file holds: the first entry covers every byte after the header.
          const d0 = await hashRange(part, headerBytes, offset);
          let first = true;
          for await (const n of options.namesFromFile(part)) {
            if (done.has(n)) continue;
            done.add(n);
            const d = first ? d0 : hash16('');
            const h = chain(lastHash, n, offset, d);
            entries.push({ n, o: offset, d, h });
            lastHash = h;
            first = false;
          }
          if (first) await truncate(part, (offset = headerBytes)); // no names: nothing to keep
        }
        recovery.kept = entries.length;
      }
    } else {
      await rm(jpath, { force: true });
      const fh = await open(part, 'w').catch((err) => {
        throw outputError(part, err);
      });
      await fh.write(options.header);
      await fh.close();
    }
    for (const e of entries) done.add(e.n);
    lastHash = entries.length ? entries[entries.length - 1]!.h : '';
    // Rewrite the journal with exactly the accepted entries.
    const jtmp = `${jpath}.tmp-${process.pid}`;
    const jw = await open(jtmp, 'w');
    await jw.write(entries.map((e) => JSON.stringify(e) + '\n').join(''));
    await jw.close();
    await rename(jtmp, jpath);
    const file = await open(part, 'a');
    const journal = await open(jpath, 'a');
    const jf = new JournaledFile(path, file, journal, offset, done, recovery);
    jf.lastHash = lastHash;
    return jf;
  }

  /** True when `name` was completed by an earlier run (resume). */
  has(name: string): boolean {
    return this.doneNames.has(name);
  }

  /** Append `text` (may be empty) for `name`, then journal it. */
  async append(name: string, text: string): Promise<void> {
    const bytes = Buffer.from(text);
    if (bytes.length > 0) {
      const { bytesWritten } = await this.file.write(bytes);
      this.offset += bytesWritten;
    }
    const d = hash16(bytes);
    const h = chain(this.lastHash, name, this.offset, d);
    await this.journal.write(JSON.stringify({ n: name, o: this.offset, d, h }) + '\n');
    this.lastHash = h;
  }

  /** Stop without finishing: close the handles, leaving the partial file and journal as a crash would. */
  async abandon(): Promise<void> {
    await this.file.close();
    await this.journal.close();
  }

  /** Flush the file, rename it into place and remove the journal. */
  async close(): Promise<void> {
    await this.file.sync();
    await this.file.close();
    await this.journal.close();
    try {
      await rename(partialPath(this.path), this.path);
    } catch (err) {
      throw outputError(this.path, err);
    }
    await rm(journalPath(this.path), { force: true });
  }
}

async function checkHeader(path: string, header: string): Promise<void> {
  const head = await readHead(path, Buffer.byteLength(header));
  if (head !== header) {
    throw new ParseError(path, `cannot resume: the file does not start with the expected header '${header.trim()}'`, 1);
  }
}

/** Hash of the bytes [from, to) of a file. */
async function hashRange(path: string, from: number, to: number): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let pos = from; pos < to;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex').slice(0, 16);
}

/** Accept the consistent prefix of a journal (see the module comment). */
async function validateJournal(
  part: string,
  jpath: string,
  headerBytes: number,
): Promise<{ entries: { n: string; o: number; d: string; h: string }[]; recovery: JournalRecovery }> {
  const size = (await stat(part)).size;
  const entries: { n: string; o: number; d: string; h: string }[] = [];
  const recovery: JournalRecovery = { kept: 0, discarded: [], discardedLines: 0 };
  let prevO = headerBytes;
  let prevH = '';
  let lineNo = 0;
  for await (const line of readLines(jpath)) {
    lineNo++;
    if (line === '' && recovery.reason === undefined) continue;
    type Rec = { n?: unknown; o?: unknown; d?: unknown; h?: unknown };
    let rec: Rec | null = null;
    try {
      const v = JSON.parse(line) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) rec = v as Rec;
    } catch {
      rec = null;
    }
    if (recovery.reason !== undefined) {
      recovery.discardedLines++;
      if (typeof rec?.n === 'string') recovery.discarded.push(rec.n);
      continue;
    }
    const why = ((): string | undefined => {
      if (rec === null) return `line ${lineNo} is not a journal entry`;
      const { n, o, d, h } = rec;
      if (typeof n !== 'string' || n === '') return `line ${lineNo}: no image name`;
      if (typeof o !== 'number' || !Number.isSafeInteger(o))
        return `line ${lineNo}: offset ${String(o)} is not an integer`;
      if (o < prevO) return `line ${lineNo}: offset ${o} goes backwards (previous ${prevO})`;
      if (o > size) return `line ${lineNo}: offset ${o} is past the end of the file (${size} bytes)`;
      if (typeof d !== 'string' || typeof h !== 'string') return `line ${lineNo}: no checksum`;
      if (h !== chain(prevH, n, o, d)) return `line ${lineNo}: checksum does not match the journal`;
      return undefined;
    })();
    if (why === undefined) {
      const r = rec as unknown as { n: string; o: number; d: string; h: string };
      if ((await hashRange(part, prevO, r.o)) === r.d) {
        entries.push({ n: r.n, o: r.o, d: r.d, h: r.h });
        prevO = r.o;
        prevH = r.h;
        continue;
      }
      recovery.reason = `line ${lineNo}: the rows of '${r.n}' do not match their checksum`;
    } else recovery.reason = why;
    recovery.discardedLines++;
    if (typeof rec?.n === 'string') recovery.discarded.push(rec.n);
  }
  recovery.kept = entries.length;
  return { entries, recovery };
}

/** Describe a recovery for the user, or undefined when nothing was discarded. */
export function describeRecovery(path: string, r: JournalRecovery): string | undefined {
  if (r.discardedLines === 0) return undefined;
  const names = r.discarded.slice(0, 5).join(', ') + (r.discarded.length > 5 ? ', …' : '');
  return (
    `resume: ${path}: kept ${r.kept} journal entries, discarded ${r.discardedLines}` +
    `${names ? ` (${names})` : ''}: ${r.reason}; those images are redone`
  );
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
