/**
 * COCO detection results, written streaming.
 *
 * `<out>.json` is the standard results array `[{image_id, category_id, bbox: [x, y, w, h], score}]`
 * that pycocotools' `loadRes` and `maskbox eval coco` read; `<out>.images.json` beside it holds
 * `{images: [{id, file_name, width, height}], categories: [{id, name}]}` so ids can be mapped back to
 * files. Values are rounded as YOLOv5's `save_one_json` does: bbox to 3 decimals, score to 5.
 *
 * Streaming: each image's record is appended as one JSON line to `<out>.json.parts.jsonl` while the batch
 * runs (memory flat in the number of images); `close()` streams that into the two final files (each
 * written to a temporary file and renamed) and removes it. Resume: the parts file is the journal; each
 * line carries a hash chained over the line before, and resume keeps the longest prefix of lines that
 * parse, have the expected shape and match their hash, cuts the rest off and reports it ({@link
 * CocoResultsWriter.notes}); those images are redone. Resuming from finished files (no parts file) loads
 * them once to rebuild it.
 */
import { existsSync } from 'node:fs';
import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParseError } from '../errors.js';
import { checkFloat32Array, invalid } from '../validate.js';
import { readLines } from '../pipeline/inputs.js';
import { hash16, truncateToLastNewline } from '../pipeline/journal.js';
import { AtomicFile, ensureDir, readTextFile } from './files.js';
import { parseJsonText } from './json.js';

/** One detection in the COCO results format. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  /** `[x, y, width, height]`, pixels. */
  bbox: [number, number, number, number];
  score: number;
}

/** One entry of the images list. */
export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

/** One category. */
export interface CocoCategory {
  id: number;
  name: string;
}

/** Map a model class index to a COCO `category_id`; default `cls + 1` (COCO ids start at 1). */
export type CategoryIdFn = (cls: number) => number;
const defaultCategoryId: CategoryIdFn = (c) => c + 1;
const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r5 = (v: number) => Math.round(v * 100000) / 100000;

/**
 * Convert xyxy boxes, scores and class indices to COCO results for one image.
 * @throws InvalidArgumentError when the lengths disagree
 * @example toCocoResults(1, det.boxes, det.scores, det.classes)
 */
export function toCocoResults(
  imageId: number,
  boxes: Float32Array,
  scores: ArrayLike<number>,
  classes: ArrayLike<number>,
  categoryId: CategoryIdFn = defaultCategoryId,
): CocoResult[] {
  checkFloat32Array('boxes', boxes);
  const n = boxes.length / 4;
  if (!Number.isInteger(n)) invalid('boxes', 'a Float32Array whose length is a multiple of 4', boxes);
  if (scores.length !== n) invalid('scores', `${n} scores`, scores);
  if (classes.length !== n) invalid('classes', `${n} class indices`, classes);
  const out: CocoResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = boxes[4 * i]!;
    const y1 = boxes[4 * i + 1]!;
    out[i] = {
      image_id: imageId,
      category_id: categoryId(classes[i]!),
      bbox: [r3(x1), r3(y1), r3(boxes[4 * i + 2]! - x1), r3(boxes[4 * i + 3]! - y1)],
      score: r5(scores[i]!),
    };
  }
  return out;
}

/** The images-list file written beside a results file: `a/res.json` -> `a/res.images.json`. */
export function cocoImagesPath(resultsPath: string): string {
  return resultsPath.replace(/(\.json)?$/i, '.images.json');
}

/** Options of {@link CocoResultsWriter.open}. */
export interface CocoWriterOptions {
  resume?: boolean;
  /** Categories for the images file (default: one per class seen, named `class<k>`). */
  categories?: CocoCategory[];
}

interface PartLine {
  image: CocoImage;
  results: CocoResult[];
  /** Hash chained over the previous line (see the module comment). */
  h?: string;
}

const partHash = (prev: string, image: CocoImage, results: CocoResult[]) =>
  hash16(`${prev}\n${JSON.stringify({ image, results })}`);

/** A parsed, checked parts line, or the reason it is refused. */
function checkPart(line: string, prev: string): PartLine | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const p = v as Partial<PartLine> | null;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'not an object';
  const im = p.image as Partial<CocoImage> | undefined;
  if (!im || typeof im.file_name !== 'string' || !Number.isSafeInteger(im.id)) return 'no image';
  if (!Array.isArray(p.results)) return 'no results';
  if (p.h !== partHash(prev, p.image!, p.results)) return 'checksum mismatch';
  return p as PartLine;
}

/** Streaming writer of a COCO results file plus its images list. See the module comment. */
export class CocoResultsWriter {
  private readonly seen = new Set<number>();
  private lastHash = '';
  private readonly messages: string[] = [];
  private constructor(
    readonly path: string,
    private parts: FileHandle,
    private readonly doneNames: Set<string>,
    private readonly categories: CocoCategory[] | undefined,
  ) {}

  /** Open for writing (or resuming). */
  static async open(path: string, options: CocoWriterOptions = {}): Promise<CocoResultsWriter> {
    await ensureDir(dirname(path));
    const partsPath = `${path}.parts.jsonl`;
    const done = new Set<string>();
    let lastHash = '';
    let note: string | undefined;
    if (options.resume && !existsSync(partsPath) && existsSync(path)) await rebuildParts(path, partsPath);
    if (options.resume && existsSync(partsPath)) {
      await truncateToLastNewline(partsPath, 0);
      let good = 0;
      let bytes = 0;
      let reason: string | undefined;
      let lineNo = 0;
      const discarded: string[] = [];
      for await (const line of readLines(partsPath)) {
        lineNo++;
        if (reason === undefined) {
          const p = checkPart(line, lastHash);
          if (typeof p !== 'string') {
            done.add(p.image.file_name);
            lastHash = p.h!;
            good++;
            bytes += Buffer.byteLength(line) + 1;
            continue;
          }
          reason = `line ${lineNo}: ${p}`;
        }
        const name = /"file_name":\s*("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
        discarded.push(name ? String(JSON.parse(name)) : `line ${lineNo}`);
      }
      if (reason !== undefined) {
        await truncate(partsPath, bytes);
        const list = discarded.slice(0, 5).join(', ') + (discarded.length > 5 ? ', …' : '');
        note = `resume: ${partsPath}: kept ${good} entries, discarded ${discarded.length} (${list}): ${reason}; those images are redone`;
      }
    } else {
      await rm(partsPath, { force: true });
    }
    const parts = await open(partsPath, 'a');
    const w = new CocoResultsWriter(path, parts, done, options.categories);
    w.lastHash = lastHash;
    if (note) w.messages.push(note);
    return w;
  }

  /** The files {@link close} writes: the results file and its images list. */
  outputs(): string[] {
    return [this.path, cocoImagesPath(this.path)];
  }

  /** What resume discarded, for the user. */
  notes(): string[] {
    return [...this.messages];
  }

  /** True when `fileName` is already in the output (resume). */
  has(fileName: string): boolean {
    return this.doneNames.has(fileName);
  }

  /** Append one image and its results (already converted, e.g. by {@link toCocoResults}). */
  async add(image: CocoImage, results: CocoResult[]): Promise<void> {
    const h = partHash(this.lastHash, image, results);
    await this.parts.write(JSON.stringify({ image, results, h } satisfies PartLine) + '\n');
    this.lastHash = h;
  }

  /** Stop without finishing: close the parts file, leaving it as a crash would (resume continues it). */
  async abandon(): Promise<void> {
    await this.parts.close();
  }

  /** Write `<out>.json` and `<out>.images.json` from the parts file, then remove it. */
  async close(): Promise<void> {
    await this.parts.close();
    const partsPath = `${this.path}.parts.jsonl`;
    const out = await AtomicFile.create(this.path);
    const img = await AtomicFile.create(cocoImagesPath(this.path));
    try {
      await this.writeFinal(partsPath, out, img);
    } catch (err) {
      await out.abort();
      await img.abort();
      throw err;
    }
    await rm(partsPath, { force: true });
  }

  private async writeFinal(partsPath: string, out: AtomicFile, img: AtomicFile): Promise<void> {
    let buf = '[';
    let first = true;
    for await (const line of readLines(partsPath)) {
      if (!line) continue;
      const rec = JSON.parse(line) as PartLine;
      for (const r of rec.results) {
        this.seen.add(r.category_id);
        buf += (first ? '\n' : ',\n') + JSON.stringify(r);
        first = false;
      }
      if (buf.length > 1 << 20) buf = await flush(out, buf);
    }
    await out.write(buf + (first ? ']\n' : '\n]\n'));

    buf = '{"images": [';
    first = true;
    for await (const line of readLines(partsPath)) {
      if (!line) continue;
      buf += (first ? '\n' : ',\n') + JSON.stringify((JSON.parse(line) as PartLine).image);
      first = false;
      if (buf.length > 1 << 20) buf = await flush(img, buf);
    }
    const cats = this.categories ?? [...this.seen].sort((a, b) => a - b).map((id) => ({ id, name: `class${id - 1}` }));
    await img.write(`${buf}${first ? '' : '\n'}],\n"categories": ${JSON.stringify(cats)}}\n`);
    await out.commit();
    await img.commit();
  }
}

async function flush(fh: AtomicFile, buf: string): Promise<string> {
  await fh.write(buf);
  return '';
}

/** Resume from finished files: load them once and write the parts file back. */
async function rebuildParts(path: string, partsPath: string): Promise<void> {
  const imagesPath = cocoImagesPath(path);
  let results: CocoResult[];
  let images: CocoImage[];
  try {
    results = parseJsonText(await readTextFile(path), path) as CocoResult[];
    images = existsSync(imagesPath)
      ? (parseJsonText(await readTextFile(imagesPath), imagesPath) as { images: CocoImage[] }).images
      : [];
  } catch (err) {
    throw new ParseError(path, `cannot resume from this COCO results file: ${(err as Error).message}`);
  }
  if (!Array.isArray(results) || !Array.isArray(images))
    throw new ParseError(path, 'cannot resume: not a COCO results array');
  if (results.some((r) => r === null || typeof r !== 'object'))
    throw new ParseError(path, 'cannot resume: the results array holds a non-object');
  const byImage = new Map<number, CocoResult[]>();
  for (const r of results) {
    const list = byImage.get(r.image_id);
    if (list) list.push(r);
    else byImage.set(r.image_id, [r]);
  }
  const fh = await open(partsPath, 'w');
  let h = '';
  for (const image of images) {
    const res = byImage.get(image.id) ?? [];
    h = partHash(h, image, res);
    await fh.write(JSON.stringify({ image, results: res, h }) + '\n');
  }
  await fh.close();
}
