/**
 * Ensembles of detectors from their written outputs: several models' detections of the same images
 * (COCO results JSON, or the lab's detections CSV, per image or combined) fused per image by weighted
 * boxes fusion (`weightedBoxesFusion`) with a weight per model. The output has the inputs' format.
 *
 * Images are matched by `image_id` (COCO) or the `image` column (combined CSV); an image missing from
 * one input means that model found nothing there (detectors write no rows for an empty image). The lab's
 * CSV stores integer centres and sizes, so its boxes come back as `x_center - width/2 ...` (within half
 * a pixel of the original box) and fused boxes are rounded again by the lab's rule when written.
 */
import { ParseError } from '../errors.js';
import {
  COMBINED_DETECTIONS_CSV_HEADER,
  DETECTIONS_CSV_HEADER,
  formatCombinedRows,
  formatDetectionsCsv,
  parseDetectionsCsv,
} from '../io/detectionsCsv.js';
import { parseJsonText } from '../io/json.js';
import { weightedBoxesFusion, type WbfConfType, type WbfInput } from '../ops/wbf.js';
import type { BackendChoice } from '../backends/registry.js';

/** Layout of a detections file: COCO results, the lab's per-image CSV, or its combined CSV. */
export type DetectionsFormat = 'coco' | 'csv' | 'csv-combined';

/** One model's detections, grouped by image key (`image_id` as a string, the CSV `image`, or `''`). */
export interface DetectionsFile {
  format: DetectionsFormat;
  /** Image keys in first-seen order, each with xyxy boxes, scores and classes (COCO `category_id`). */
  images: Map<string, { boxes: number[]; scores: number[]; classes: number[] }>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function entry(file: DetectionsFile, key: string) {
  let e = file.images.get(key);
  if (!e) file.images.set(key, (e = { boxes: [], scores: [], classes: [] }));
  return e;
}

/**
 * Parse a detections file's text; the format is told by its content (a JSON array, or the CSV header).
 * @throws ParseError naming `source` (and the entry or line): wrong header, missing or non-finite
 *   fields, negative sizes, non-integer ids
 */
export function parseDetectionsFile(text: string, source: string): DetectionsFile {
  const head = text.trimStart();
  if (head.startsWith('[')) return parseCoco(parseJsonText(text, source), source);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const combined = firstLine === COMBINED_DETECTIONS_CSV_HEADER;
  if (!combined && firstLine !== DETECTIONS_CSV_HEADER)
    throw new ParseError(
      source,
      `not a detections file: expected a COCO results JSON array or the CSV header '${DETECTIONS_CSV_HEADER}' ` +
        `(optionally with a leading 'image' column), found '${firstLine.slice(0, 80)}'`,
      1,
    );
  const file: DetectionsFile = { format: combined ? 'csv-combined' : 'csv', images: new Map() };
  parseDetectionsCsv(text, source).forEach((r, i) => {
    if (r.width < 0 || r.height < 0)
      throw new ParseError(source, `negative width or height (${r.width} x ${r.height})`, i + 2);
    const e = entry(file, r.image ?? '');
    const x1 = r.x_center - r.width / 2,
      y1 = r.y_center - r.height / 2;
    e.boxes.push(x1, y1, x1 + r.width, y1 + r.height);
    e.scores.push(r.confidence);
    e.classes.push(0);
  });
  return file;
}

function parseCoco(json: unknown, source: string): DetectionsFile {
  if (!Array.isArray(json)) throw new ParseError(source, 'COCO results must be a JSON array of detections');
  const file: DetectionsFile = { format: 'coco', images: new Map() };
  json.forEach((o: unknown, i) => {
    const where = `results[${i}]`;
    if (!isObject(o)) throw new ParseError(source, `${where}: expected an object`);
    const id = o.image_id,
      cat = o.category_id,
      score = o.score,
      b = o.bbox;
    if (!Number.isSafeInteger(id)) throw new ParseError(source, `${where}: image_id must be an integer`);
    if (!Number.isInteger(cat) || (cat as number) < 0 || (cat as number) > 0x7fffffff)
      throw new ParseError(source, `${where}: category_id must be a non-negative integer`);
    if (typeof score !== 'number' || !Number.isFinite(score))
      throw new ParseError(source, `${where}: score must be a finite number`);
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new ParseError(source, `${where}: bbox must be [x, y, width, height] of finite numbers`);
    const [x, y, w, h] = b as number[];
    if (w! < 0 || h! < 0) throw new ParseError(source, `${where}: bbox has a negative width or height`);
    const e = entry(file, String(id));
    e.boxes.push(x!, y!, x! + w!, y! + h!);
    e.scores.push(score);
    e.classes.push(cat as number);
  });
  return file;
}

/** Options of {@link fuseDetectionFiles}. */
export interface BoxEnsembleOptions {
  /** Weight per model (> 0), in input order. Default all 1. */
  weights?: readonly number[];
  /** WBF's IoU threshold (default 0.55). */
  iouThreshold?: number;
  /** Boxes scoring below this are left out (default 0). */
  skipBoxThreshold?: number;
  /** Fused score (default `'avg'`). */
  confType?: WbfConfType;
  backend?: BackendChoice;
}

/** Fused detections of every image, in the inputs' format. */
export interface BoxEnsembleResult {
  format: DetectionsFormat;
  /** The output file's text. */
  text: string;
  images: number;
  /** Boxes read (all models) and written. */
  boxesIn: number;
  boxesOut: number;
  backend: string;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r5 = (v: number) => Math.round(v * 100000) / 100000;

/**
 * Fuse several models' parsed detections image by image (weighted boxes fusion per class).
 * @throws ParseError when the inputs' formats differ (`sources` name them); InvalidArgumentError on
 *   bad weights or thresholds (from `weightedBoxesFusion`)
 * @example const r = await fuseDetectionFiles([a, b], ['a.json', 'b.json'], { weights: [2, 1] });
 */
export async function fuseDetectionFiles(
  files: readonly DetectionsFile[],
  sources: readonly string[],
  options: BoxEnsembleOptions = {},
): Promise<BoxEnsembleResult> {
  const format = files[0]!.format;
  files.forEach((f, k) => {
    if (f.format !== format)
      throw new ParseError(sources[k]!, `is ${f.format} but ${sources[0]} is ${format}: fuse files of one format`);
  });
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of files) for (const k of f.images.keys()) if (!seen.has(k)) (seen.add(k), keys.push(k));
  if (format === 'coco') keys.sort((a, b) => Number(a) - Number(b));
  let boxesIn = 0,
    boxesOut = 0,
    backend = 'js';
  const coco: string[] = [];
  let csv = format === 'csv-combined' ? COMBINED_DETECTIONS_CSV_HEADER + '\n' : '';
  const empty = { boxes: [], scores: [], classes: [] };
  for (const key of keys) {
    const inputs: WbfInput[] = files.map((f) => {
      const e = f.images.get(key) ?? empty;
      boxesIn += e.scores.length;
      return {
        boxes: Float32Array.from(e.boxes),
        scores: Float32Array.from(e.scores),
        classes: Int32Array.from(e.classes),
      };
    });
    const fused = await weightedBoxesFusion(inputs, {
      weights: options.weights,
      iouThreshold: options.iouThreshold,
      skipBoxThreshold: options.skipBoxThreshold,
      confType: options.confType,
      backend: options.backend,
    });
    backend = fused.backend;
    const n = fused.scores.length;
    boxesOut += n;
    if (format === 'coco') {
      for (let i = 0; i < n; i++) {
        const [x1, y1, x2, y2] = fused.boxes.subarray(4 * i, 4 * i + 4);
        coco.push(
          JSON.stringify({
            image_id: Number(key),
            category_id: fused.classes[i],
            bbox: [r3(x1!), r3(y1!), r3(x2! - x1!), r3(y2! - y1!)],
            score: r5(fused.scores[i]!),
          }),
        );
      }
    } else if (format === 'csv-combined') csv += formatCombinedRows(key, fused.boxes, fused.scores);
    else csv = formatDetectionsCsv(fused.boxes, fused.scores);
  }
  if (format === 'csv' && keys.length === 0) csv = DETECTIONS_CSV_HEADER + '\n';
  const text = format === 'coco' ? (coco.length ? `[\n${coco.join(',\n')}\n]\n` : '[]\n') : csv;
  return { format, text, images: keys.length, boxesIn, boxesOut, backend };
}
