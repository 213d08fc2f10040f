/**
 * COCO detection results, written streaming.
 *
 * `<out>.json` is the standard results array `[{image_id, category_id, bbox: [x, y, w, h], score}]`
 * that pycocotools' `loadRes` and `maskbox eval coco` read; `<out>.images.json` beside it holds
 * `{images: [{id, file_name, width, height}], categories: [{id, name}]}` so ids can be mapped back to
 * files. Values are rounded as YOLOv5's `save_one_json` does: bbox to 3 decimals, score to 5.
 *
 * Streaming: each image's record is appended as one JSON line to `<out>.json.parts.jsonl` while the batch
 * runs (memory flat in the number of images); `close()` streams that into the two final files and removes
 * it. Resume: the parts file is the journal (a line cut off by a crash is dropped). Resuming from finished
 * files (no parts file) loads them once to rebuild it.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParseError } from '../errors.js';
import { checkFloat32Array, invalid } from '../validate.js';
import { readLines } from '../pipeline/inputs.js';
import { truncateToLastNewline } from '../pipeline/journal.js';

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
}

/** Streaming writer of a COCO results file plus its images list. See the module comment. */
export class CocoResultsWriter {
  private readonly seen = new Set<number>();
  private constructor(
    readonly path: string,
    private parts: FileHandle,
    private readonly doneNames: Set<string>,
    private readonly categories: CocoCategory[] | undefined,
  ) {}

  /** Open for writing (or resuming). */
  static async open(path: string, options: CocoWriterOptions = {}): Promise<CocoResultsWriter> {
    await mkdir(dirname(path), { recursive: true });
    const partsPath = `${path}.parts.jsonl`;
    const done = new Set<string>();
    if (options.resume && !existsSync(partsPath) && existsSync(path)) await rebuildParts(path, partsPath);
    if (options.resume && existsSync(partsPath)) {
      await truncateToLastNewline(partsPath, 0);
      for await (const line of readLines(partsPath)) if (line) done.add((JSON.parse(line) as PartLine).image.file_name);
    } else {
      await rm(partsPath, { force: true });
    }
    const parts = await open(partsPath, 'a');
    return new CocoResultsWriter(path, parts, done, options.categories);
  }

  /** True when `fileName` is already in the output (resume). */
  has(fileName: string): boolean {
    return this.doneNames.has(fileName);
  }

  /** Append one image and its results (already converted, e.g. by {@link toCocoResults}). */
  async add(image: CocoImage, results: CocoResult[]): Promise<void> {
    await this.parts.write(JSON.stringify({ image, results } satisfies PartLine) + '\n');
  }

  /** Write `<out>.json` and `<out>.images.json` from the parts file, then remove it. */
  async close(): Promise<void> {
    await this.parts.close();
    const partsPath = `${this.path}.parts.jsonl`;
    const out = await open(this.path, 'w');
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
    await out.close();

    const img = await open(cocoImagesPath(this.path), 'w');
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
    await img.close();
    await rm(partsPath, { force: true });
  }
}

async function flush(fh: FileHandle, buf: string): Promise<string> {
  await fh.write(buf);
  return '';
}

/** Resume from finished files: load them once and write the parts file back. */
async function rebuildParts(path: string, partsPath: string): Promise<void> {
  const imagesPath = cocoImagesPath(path);
  let results: CocoResult[];
  let images: CocoImage[];
  try {
    results = JSON.parse(await readFile(path, 'utf8')) as CocoResult[];
    images = existsSync(imagesPath)
      ? (JSON.parse(await readFile(imagesPath, 'utf8')) as { images: CocoImage[] }).images
      : [];
  } catch (err) {
    throw new ParseError(path, `cannot resume from this COCO results file: ${(err as Error).message}`);
  }
  if (!Array.isArray(results) || !Array.isArray(images))
    throw new ParseError(path, 'cannot resume: not a COCO results array');
  const byImage = new Map<number, CocoResult[]>();
  for (const r of results) {
    const list = byImage.get(r.image_id);
    if (list) list.push(r);
    else byImage.set(r.image_id, [r]);
  }
  const fh = await open(partsPath, 'w');
  for (const image of images) await fh.write(JSON.stringify({ image, results: byImage.get(image.id) ?? [] }) + '\n');
  await fh.close();
}
