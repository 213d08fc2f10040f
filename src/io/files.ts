/**
 * Safe file access for every reader and writer in maskbox.
 *
 * Reading: only regular files are read (a FIFO, `/dev/zero` or a directory is refused before any byte
 * is read), the size is checked against a cap before the body is read, and callers may check a header
 * (magic bytes) first. The cap is {@link DEFAULT_MAX_READ_BYTES} (1 GiB), or the `MASKBOX_MAX_READ_BYTES`
 * environment variable (bytes), or the `maxBytes` option of each call.
 *
 * Writing: every output is written to a temporary file in the same folder, flushed (`fsync`) and renamed
 * into place, so a failure never leaves a half-written file where a good one was; the temporary file is
 * removed when anything fails ({@link writeFileAtomic}, {@link AtomicFile}). Output locations are checked
 * before any work starts ({@link prepareOutput}): the parent folder is created one level at a time (never
 * a recursive mkdir that can hang on `/proc`), then a probe file proves it is writable; errors name the path.
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, ParseError } from '../errors.js';

/** Default read cap: 1 GiB. Override with `MASKBOX_MAX_READ_BYTES` or a call's `maxBytes`. */
export const DEFAULT_MAX_READ_BYTES = 1 << 30;

/** The read cap in effect: `MASKBOX_MAX_READ_BYTES` when set to a positive integer, else the default. */
export function maxReadBytes(): number {
  const env = process.env.MASKBOX_MAX_READ_BYTES;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new InvalidArgumentError(
        'MASKBOX_MAX_READ_BYTES',
        `Expected a positive integer (bytes) for MASKBOX_MAX_READ_BYTES but received '${env}'`,
      );
    return n;
  }
  return DEFAULT_MAX_READ_BYTES;
}

/** Options of {@link readRegularFile}. */
export interface ReadFileOptions {
  /** Refuse files larger than this (default {@link maxReadBytes}). */
  maxBytes?: number;
  /** The argument or flag named in errors (default `'path'`). */
  argument?: string;
  /** Called with the first bytes (up to 64) before the body is read; throw to reject the file. */
  checkHeader?: (head: Buffer, path: string) => void;
  /** Memory for the body: called with the file's size, returns a Buffer of that many bytes (default: a new one). */
  into?: (byteLength: number) => Buffer;
}

function describeKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * Check that `path` is a regular file no larger than the cap; returns its size. Never opens it.
 * @throws InvalidArgumentError naming `argument` and the path: missing, unreadable, not a regular file
 * @throws ParseError when the file exceeds the cap
 */
export async function checkRegularFile(
  path: string,
  options: { maxBytes?: number; argument?: string } = {},
): Promise<number> {
  const argument = options.argument ?? 'path';
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    throw new InvalidArgumentError(argument, `${path}: cannot read (${errCode(err)})`);
  }
  if (!st.isFile()) throw new InvalidArgumentError(argument, `${path}: ${describeKind(st)}, not a regular file`);
  const cap = options.maxBytes ?? maxReadBytes();
  if (st.size > cap)
    throw new ParseError(
      path,
      `${st.size} bytes exceeds the read limit of ${cap} bytes (set MASKBOX_MAX_READ_BYTES to raise it)`,
    );
  return st.size;
}

/**
 * Read a whole regular file, refusing FIFOs, devices and directories, checking the size against the cap
 * and (optionally) the header before the body. The file is opened non-blocking, so a FIFO swapped in
 * after the check cannot hang the read.
 * @throws InvalidArgumentError / ParseError naming the path
 */
export async function readRegularFile(path: string, options: ReadFileOptions = {}): Promise<Buffer> {
  const argument = options.argument ?? 'path';
  await checkRegularFile(path, options);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new InvalidArgumentError(argument, `${path}: cannot read (${errCode(err)})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InvalidArgumentError(argument, `${path}: ${describeKind(st)}, not a regular file`);
    const cap = options.maxBytes ?? maxReadBytes();
    if (st.size > cap)
      throw new ParseError(path, `${st.size} bytes exceeds the read limit of ${cap} bytes (MASKBOX_MAX_READ_BYTES)`);
    if (options.checkHeader) {
      const head = Buffer.alloc(Math.min(64, st.size));
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      options.checkHeader(head.subarray(0, bytesRead), path);
    }
    const buf = options.into ? options.into(st.size) : Buffer.allocUnsafe(st.size);
    if (buf.length !== st.size) throw new InvalidArgumentError('into', `Expected a Buffer of ${st.size} bytes`);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } catch (err) {
    if (err instanceof InvalidArgumentError || err instanceof ParseError) throw err;
    throw new ParseError(path, `cannot read: ${errCode(err)}`);
  } finally {
    await fh.close();
  }
}

/** Read a regular file as UTF-8 text (see {@link readRegularFile}). */
export async function readTextFile(path: string, options: ReadFileOptions = {}): Promise<string> {
  return (await readRegularFile(path, options)).toString('utf8');
}

/** Identity of a file after resolving links: `dev:ino`, or null when it does not exist. */
export async function fileIdentity(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

let tmpCounter = 0;
/** A temporary name beside `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++tmpCounter}`);
}

/**
 * A file written to a temporary name in its final folder, then `commit()`ed (fsync + rename) or
 * `abort()`ed (temporary removed). Nothing appears at `path` until commit.
 */
export class AtomicFile {
  private done = false;
  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
  ) {}

  /** Create the temporary file (the folder must exist: see {@link prepareOutput}). */
  static async create(path: string): Promise<AtomicFile> {
    const tmp = tempPathFor(path);
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'wx');
    } catch (err) {
      throw outputError(path, err);
    }
    return new AtomicFile(path, tmp, fh);
  }

  /** Append text or bytes. */
  async write(data: string | Uint8Array): Promise<void> {
    try {
      if (typeof data === 'string') await this.fh.write(data);
      else await this.fh.write(data);
    } catch (err) {
      throw outputError(this.path, err);
    }
  }

  /** Flush to disk and rename into place. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await rm(this.tempPath, { force: true }).catch(() => {});
      throw outputError(this.path, err);
    }
  }

  /** Close and remove the temporary file (safe to call after commit: then it does nothing). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => {});
    await rm(this.tempPath, { force: true }).catch(() => {});
  }
}

/** Write `data` to `path` atomically (temporary file in the same folder + fsync + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(path));
  const f = await AtomicFile.create(path);
  try {
    await f.write(data);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}

/**
 * Run `produce(tempPath)` to write a file, then fsync + rename it to `path`; the temporary file is
 * removed when `produce` throws. For writers that take a path (e.g. a stream writer).
 */
export async function withAtomicPath<T>(path: string, produce: (tempPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(path);
  try {
    const r = await produce(tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    return r;
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    if (err instanceof InvalidArgumentError || err instanceof ParseError) throw err;
    if ((err as NodeJS.ErrnoException)?.code) throw outputError(path, err);
    throw err;
  }
}

/** A typed error for a failed output operation, naming the path. */
export function outputError(path: string, err: unknown): InvalidArgumentError {
  if (err instanceof InvalidArgumentError) return err;
  const code = errCode(err);
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    ENOENT: 'the folder does not exist and cannot be created',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EEXIST: 'already exists',
  };
  return new InvalidArgumentError('out', `cannot write ${path}: ${why[code] ? `${why[code]} (${code})` : code}`);
}

/**
 * Create `dir` and its missing parents one level at a time (a recursive mkdir can loop on `/proc`).
 * @throws InvalidArgumentError naming the path
 */
export async function ensureDir(dir: string): Promise<void> {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    let st: Stats | null = null;
    try {
      st = await stat(p);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw outputError(p, err);
    }
    if (st) {
      if (!st.isDirectory()) throw new InvalidArgumentError('out', `cannot write under ${p}: not a directory`);
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw outputError(d, err);
    }
  }
}

/**
 * Check an output location before any work starts: `kind: 'file'` must not be an existing directory
 * or a non-regular file (a device or FIFO would be replaced by the rename); `kind: 'dir'` must not be
 * an existing file. The folder (the file's parent, or the dir itself) is created and proven writable
 * by creating and removing a probe file.
 * @throws InvalidArgumentError naming `argument` and the path (EACCES, EISDIR, ENOTDIR, missing parent)
 */
export async function prepareOutput(path: string, kind: 'file' | 'dir', argument = 'out'): Promise<void> {
  let st: Stats | null = null;
  try {
    st = await stat(path);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOTDIR')
      throw new InvalidArgumentError(argument, `cannot write ${path}: a parent is not a directory`);
    if (code !== 'ENOENT') throw renamed(outputError(path, err), argument);
  }
  if (st && kind === 'file' && st.isDirectory())
    throw new InvalidArgumentError(argument, `cannot write ${path}: it is a directory (--${argument} needs a file)`);
  if (st && kind === 'file' && !st.isFile())
    throw new InvalidArgumentError(argument, `cannot write ${path}: ${describeKind(st)}, not a regular file`);
  if (st && kind === 'dir' && !st.isDirectory())
    throw new InvalidArgumentError(argument, `cannot write into ${path}: it is a file, not a directory`);
  const dir = kind === 'dir' ? path : dirname(path);
  try {
    await ensureDir(dir);
    const probe = tempPathFor(join(dir, 'probe'));
    const fh = await open(probe, 'wx').catch((err) => {
      throw outputError(dir, err);
    });
    await fh.close();
    await rm(probe, { force: true });
  } catch (err) {
    throw renamed(err instanceof InvalidArgumentError ? err : outputError(dir, err), argument);
  }
}

function renamed(err: InvalidArgumentError, argument: string): InvalidArgumentError {
  return err.argument === argument ? err : new InvalidArgumentError(argument, err.message);
}

/**
 * Guards a run's outputs against its inputs: an output that is the same file as an input (after
 * resolving links: device and inode, whatever the spelling) is refused, and an existing file the run
 * did not create is refused unless `overwrite` is set.
 */
export class OutputGuard {
  private readonly inputs = new Map<string, string>();
  private readonly created = new Set<string>();
  constructor(readonly overwrite = false) {}

  /** Record input files (paths; missing ones are ignored). */
  async addInputs(paths: Iterable<string>): Promise<void> {
    for (const p of paths) {
      const id = await fileIdentity(p);
      if (id !== null && !this.inputs.has(id)) this.inputs.set(id, p);
    }
  }

  /** The input that `path` is the same file as, if any. */
  async inputFor(path: string): Promise<string | undefined> {
    const id = await fileIdentity(path);
    return id === null ? undefined : this.inputs.get(id);
  }

  /**
   * Check one output file: not an input; not an existing file unless `overwrite` (or `allowExisting`,
   * e.g. resume). Throws InvalidArgumentError naming `argument`.
   */
  async checkFile(path: string, argument = 'out', allowExisting = false): Promise<void> {
    const input = await this.inputFor(path);
    if (input !== undefined)
      throw new InvalidArgumentError(
        argument,
        `--${argument} ${path} is the input file ${input}: refusing to overwrite an input`,
      );
    if (!allowExisting && !this.overwrite && !this.created.has(resolve(path)) && (await fileIdentity(path)) !== null)
      throw new InvalidArgumentError(
        argument,
        `${path} already exists and this run did not create it: pass --overwrite to replace it`,
      );
  }

  /** Mark `path` as created by this run (it may be replaced later in the run). */
  markCreated(path: string): void {
    this.created.add(resolve(path));
  }
}
