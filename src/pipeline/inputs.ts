/**
 * Expand command-line inputs — files, directories, glob patterns, `.zip` archives — into an ordered
 * stream of named inputs, read lazily (memory stays flat in the number of images).
 *
 * - A file is yielded as given, whatever its extension: the user named it, so a non-image file becomes a
 *   per-image error in the batch rather than being dropped silently. A `.zip` file is opened instead.
 * - A directory is walked recursively; only image files (see {@link IMAGE_EXTENSIONS}) are taken, and
 *   `.zip` files found inside are not opened.
 * - A glob (`*` any characters but `/`, `**` any number of directories, `?` one character) is matched
 *   against the paths under its literal prefix; only image files are taken.
 * - A `.zip`: its image entries, in archive order, read with fflate (the archive file is held in memory
 *   while its entries are read; each entry is inflated on demand).
 *
 * Order: inputs in the order given; within a directory or glob, paths sorted by code point; a file met
 * twice (same absolute path) is yielded once. Names are relative to the directory / glob prefix / archive
 * (with `/` separators), a plain file's name is its basename — outputs mirror these names. Names are
 * safe as relative output paths ({@link safeName}: `\\` is a separator, empty, `.` and `..` segments and
 * drive letters are dropped, so a zip entry `../x.png` cannot write outside the output folder) and
 * unique in a stream: a name met again (`a/x.png b/x.png`, or `x.png` and `./x.png` in a zip) gets a
 * longer tail of its path (`b/x.png`) or else a counter (`x~2.png`), in input order, so names are stable.
 *
 * Reading: only regular files, header checked before the body, at most the read cap (src/io/files.ts);
 * a zip entry whose declared size exceeds the cap is refused before it is inflated.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { checkRegularFile, maxReadBytes, readRegularFile } from '../io/files.js';
import { checkImageHeader, readImageFile } from '../io/image.js';

/** File extensions (lower case, without the dot) treated as images. */
export const IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'tif', 'tiff', 'bmp', 'webp'];

/** One input image, not yet read. */
export interface ImageInput {
  /** Name relative to its source (`sub/a.png`, or the basename for a plain file); outputs mirror it. */
  name: string;
  /** Where it comes from, for messages: an absolute path, or `archive.zip!entry/name.png`. */
  origin: string;
  /** Absolute path on disk (undefined for zip entries). */
  path?: string;
  /**
   * Read the whole file. `into` (the runner's `reuseBuffers`) offers memory for the bytes: called with
   * the file's size, it returns a Buffer of exactly that many bytes to read into; inputs may ignore it.
   */
  read(options?: { into?: (byteLength: number) => Buffer }): Promise<Buffer>;
}

/** Options of {@link expandInputs}. */
export interface ExpandOptions {
  /** Override the image extensions (lower case, no dot). */
  extensions?: readonly string[];
  /** Base directory for relative specs (default `process.cwd()`). */
  cwd?: string;
  /**
   * Leave out files found by walking a directory or matching a glob (never a file named explicitly)
   * when this returns true for their absolute path, e.g. earlier overlays in the overlay folder.
   */
  exclude?: (absPath: string) => boolean;
}

/** An input name made safe as a relative output path: `/`-separated, no empty, `.` or `..` segments. */
export function safeName(name: string): string {
  const parts = name.split(/[\\/]/).filter((p) => p !== '' && p !== '.' && p !== '..');
  if (parts.length > 0) parts[0] = parts[0]!.replace(/^[A-Za-z]:/, '');
  return parts.filter((p) => p !== '').join('/') || '_';
}

/** True when the file name ends with an image extension (case-insensitive). */
export function isImageFile(name: string, extensions: readonly string[] = IMAGE_EXTENSIONS): boolean {
  return extensions.includes(extname(name).slice(1).toLowerCase());
}

/** True when the string holds a glob wildcard (`*` or `?`). */
export function hasGlob(spec: string): boolean {
  return /[*?]/.test(spec);
}

/**
 * Compile a glob to a RegExp matched against `/`-separated relative paths: `**` (as a whole segment)
 * matches zero or more directories, `*` any run of characters except `/`, `?` one character except `/`.
 * Every other character is literal.
 * @example globToRegExp('**\/*.png').test('a/b/c.png') // true
 */
export function globToRegExp(pattern: string): RegExp {
  const segs = pattern.split('/');
  let re = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      re += last ? '.*' : '(?:[^/]*/)*';
      return;
    }
    for (const ch of seg) {
      if (ch === '*') re += '[^/]*';
      else if (ch === '?') re += '[^/]';
      else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    if (!last) re += '/';
  });
  return new RegExp(`^${re}$`);
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Recursively list files under `dir` as sorted `/`-separated relative paths (symlinked dirs not followed). */
async function* walk(dir: string, rel = ''): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch {
    return; // unreadable directory: nothing to yield
  }
  entries.sort((a, b) => byCodePoint(a.name, b.name));
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(dir, r);
    else if (e.isFile() || e.isSymbolicLink()) yield r;
  }
}

function fileInput(path: string, name: string): ImageInput {
  return { name, origin: path, path, read: (options) => readImageFile(path, options) };
}

/**
 * The image entries of a zip archive, in archive order, each inflated when read. An unreadable archive
 * yields one input named after it whose `read()` rejects with a ParseError.
 */
export async function* zipInputs(
  zipPath: string,
  extensions: readonly string[] = IMAGE_EXTENSIONS,
): AsyncGenerator<ImageInput> {
  const cap = maxReadBytes();
  const names: string[] = [];
  const sizes = new Map<string, number>();
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readRegularFile(zipPath, { argument: 'inputs' }));
    unzipSync(data, {
      filter: (f) => {
        if (!f.name.endsWith('/') && isImageFile(f.name, extensions) && !f.name.startsWith('__MACOSX/')) {
          names.push(f.name);
          sizes.set(f.name, f.originalSize);
        }
        return false; // list only; nothing is inflated here
      },
    });
  } catch (err) {
    // Reported as one failed input (the batch goes on with the other inputs).
    const error = new ParseError(zipPath, `not a readable zip archive (${(err as Error).message})`);
    yield { name: basename(zipPath), origin: zipPath, path: zipPath, read: () => Promise.reject(error) };
    return;
  }
  for (const entry of names) {
    yield {
      name: entry,
      origin: `${zipPath}!${entry}`,
      read: async () => {
        if (sizes.get(entry)! > cap)
          throw new ParseError(
            `${zipPath}!${entry}`,
            `declared size ${sizes.get(entry)} bytes exceeds the read limit of ${cap} bytes (MASKBOX_MAX_READ_BYTES)`,
          );
        const out = unzipSync(data, { filter: (f) => f.name === entry });
        const bytes = out[entry];
        if (!bytes) throw new ParseError(`${zipPath}!${entry}`, 'zip entry could not be read');
        checkImageHeader(bytes.subarray(0, 64), `${zipPath}!${entry}`);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
    };
  }
}

/** Split a glob into its literal directory prefix and the pattern below it. */
function splitGlob(spec: string): { base: string; pattern: string } {
  const segs = spec.split(/[\\/]/);
  const k = segs.findIndex((s) => hasGlob(s));
  const baseSegs = segs.slice(0, k);
  const base = baseSegs.length === 0 ? '.' : baseSegs.join('/') || '/';
  return { base, pattern: segs.slice(k).join('/') };
}

/**
 * Check every spec up front (so a typo fails at once, before any work): a non-glob spec must exist.
 * @throws InvalidArgumentError naming the first missing input
 */
export async function checkInputSpecs(specs: readonly string[], cwd = process.cwd()): Promise<void> {
  if (specs.length === 0)
    throw new InvalidArgumentError('inputs', 'no inputs given: pass image files, directories, globs or .zip archives');
  for (const spec of specs) {
    if (hasGlob(spec)) continue;
    try {
      await stat(resolve(cwd, spec));
    } catch {
      throw new InvalidArgumentError('inputs', `no such file or directory: '${spec}'`);
    }
  }
}

/**
 * Expand specs into an ordered, lazily-read stream of {@link ImageInput}s.
 * @throws InvalidArgumentError when a non-glob spec does not exist (checked before the first yield)
 * @example for await (const input of expandInputs(['imgs/', 'more/*.png', 'batch.zip'])) console.log(input.name)
 */
export async function* expandInputs(specs: readonly string[], options: ExpandOptions = {}): AsyncGenerator<ImageInput> {
  const names = new Set<string>();
  for await (const input of expandRaw(specs, options)) {
    input.name = safeName(input.name);
    if (names.has(input.name)) input.name = uniqueName(input, names);
    names.add(input.name);
    yield input;
  }
}

/** Every input of {@link expandInputs} as an array (names final; no image is read). */
export async function listInputs(specs: readonly string[], options: ExpandOptions = {}): Promise<ImageInput[]> {
  const out: ImageInput[] = [];
  for await (const input of expandInputs(specs, options)) out.push(input);
  return out;
}

/**
 * A name not used yet for an input whose name collides with an earlier one (`a/x.png` and `b/x.png`
 * given as files are both `x.png`): the shortest longer tail of its path (`b/x.png`), else `x~2.png`.
 */
function uniqueName(input: ImageInput, names: Set<string>): string {
  // A file's path, or a zip entry's own path (never the archive's folders); safe segments only.
  const own = input.path ?? input.origin.slice(input.origin.lastIndexOf('!') + 1);
  const segs = safeName(own).split('/');
  for (let k = input.name.split('/').length + 1; k <= segs.length; k++) {
    const c = segs.slice(-k).join('/');
    if (!names.has(c)) return c;
  }
  const dot = input.name.lastIndexOf('.');
  const [stem, ext] =
    dot > input.name.lastIndexOf('/') + 1 ? [input.name.slice(0, dot), input.name.slice(dot)] : [input.name, ''];
  for (let i = 2; ; i++) if (!names.has(`${stem}~${i}${ext}`)) return `${stem}~${i}${ext}`;
}

async function* expandRaw(specs: readonly string[], options: ExpandOptions): AsyncGenerator<ImageInput> {
  const exts = options.extensions ?? IMAGE_EXTENSIONS;
  const cwd = options.cwd ?? process.cwd();
  await checkInputSpecs(specs, cwd);
  const seen = new Set<string>();
  const once = (p: string) => (seen.has(p) ? false : (seen.add(p), true));
  for (const spec of specs) {
    if (hasGlob(spec)) {
      const { base, pattern } = splitGlob(spec);
      const root = resolve(cwd, base);
      const re = globToRegExp(pattern);
      for await (const rel of walk(root)) {
        if (re.test(rel) && isImageFile(rel, exts)) {
          const abs = join(root, ...rel.split('/'));
          if (options.exclude?.(abs)) continue;
          if (once(abs)) yield fileInput(abs, rel);
        }
      }
      continue;
    }
    const abs = resolve(cwd, spec);
    const st = await stat(abs);
    if (st.isDirectory()) {
      for await (const rel of walk(abs)) {
        if (!isImageFile(rel, exts)) continue;
        const p = join(abs, ...rel.split('/'));
        if (options.exclude?.(p)) continue;
        if (once(p)) yield fileInput(p, rel);
      }
    } else if (extname(abs).toLowerCase() === '.zip') {
      if (once(abs)) yield* zipInputs(abs, exts);
    } else if (once(abs)) {
      yield fileInput(abs, basename(abs));
    }
  }
}

/** Count what {@link expandInputs} would yield (walks the same listing; reads no image). */
export async function countInputs(specs: readonly string[], options: ExpandOptions = {}): Promise<number> {
  let n = 0;
  for await (const _ of expandInputs(specs, options)) n++;
  return n;
}

/** Read a file as a stream of lines (used for resume journals and CSVs too large to hold). */
export async function* readLines(path: string): AsyncGenerator<string> {
  await checkRegularFile(path, { maxBytes: Number.MAX_SAFE_INTEGER }); // no FIFO or device; streamed, so no cap
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop()!;
    for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p;
  }
  if (rest !== '') yield rest;
}

/** Path separator-agnostic helper: turn an input name into a relative path on this OS. */
export function nameToPath(name: string): string {
  return name.split('/').join(sep);
}
