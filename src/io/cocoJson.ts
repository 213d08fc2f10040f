/**
 * COCO JSON: ground truth (`{ images, annotations, categories }`) and results (an array of
 * `{ image_id, category_id, bbox | segmentation, score }`), read and validated once, with the
 * derived fields pycocotools' `loadRes` computes:
 * - the kind of the whole results file is decided by its first entry, as `loadRes` does: a non-empty
 *   `bbox` makes every result a box result (area `w * h`; a missing segmentation becomes the box's
 *   polygon); otherwise a `segmentation` makes them mask results (area from the RLE, bbox from its
 *   `toBbox` unless given);
 * - results get ids 1..N in file order and `iscrowd = 0`;
 * - a ground-truth `ignore` field is not read: like pycocotools, `iscrowd` alone marks ignored regions.
 * Malformed input throws ParseError naming the file and the entry (`annotations[12] (id 345)`).
 */
import { ParseError } from '../errors.js';
import {
  checkCountsSum,
  cocoRleFromBbox,
  cocoRleFromPolygon,
  cocoRleFromString,
  cocoRleMerge,
  countsArea,
  countsToBbox,
  type CocoRle,
} from '../backends/js/cocoRle.js';
import { parseCocoResultsNative, useNativeCocoJson } from './cocoJsonNative.js';
import { checkRegularFile, readRegularFile } from './files.js';
import { parseJsonText, showJson } from './json.js';

export { parseJsonText };

/** Polygons `[[x0, y0, x1, y1, ...], ...]` in image pixels. */
export type CocoPolygons = number[][];
/** `counts` is pycocotools' compressed string, or the plain run lengths. */
export interface CocoRleJson {
  size: [number, number];
  counts: string | number[];
}
export type CocoSegmentation = CocoPolygons | CocoRleJson;
/** `[x, y, width, height]`. */
export type CocoBbox = [number, number, number, number];

export interface CocoImage {
  id: number;
  /** Needed to rasterise polygons; null when the file has none. */
  height: number | null;
  width: number | null;
  fileName?: string;
}

export interface CocoCategory {
  id: number;
  name: string;
}

export interface CocoGtAnnotation {
  id: number;
  imageId: number;
  categoryId: number;
  bbox: CocoBbox;
  /** The file's `area`: decides the area range of a ground truth. */
  area: number;
  iscrowd: boolean;
  segmentation: CocoSegmentation | null;
  /** Position in the file's `annotations` array (for messages). */
  index: number;
}

export interface CocoGroundTruth {
  /** File name or label used in error messages. */
  source: string;
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoGtAnnotation[];
  imageById: Map<number, CocoImage>;
}

export interface CocoDetection {
  /** 1-based position in the results file (pycocotools' result ids). */
  id: number;
  imageId: number;
  categoryId: number;
  score: number;
  bbox: CocoBbox;
  area: number;
  segmentation: CocoSegmentation | null;
  /** Mask results: the decoded RLE (computed once while reading). */
  rle: CocoRle | null;
}

export interface CocoResults {
  source: string;
  /** Decided by the first entry, as pycocotools' `loadRes`. */
  kind: 'bbox' | 'segm';
  detections: CocoDetection[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const show = (v: unknown): string => showJson(v);

/** A file's bytes for the readers here: a regular file within the read cap, or a ParseError naming it. */
async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readRegularFile(path);
  } catch (err) {
    if (err instanceof ParseError) throw err;
    const msg = (err as Error).message;
    throw new ParseError(path, `cannot read file: ${msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg}`);
  }
}

async function readJson(path: string, bytes?: Buffer): Promise<unknown> {
  return parseJsonText((bytes ?? (await readBytes(path))).toString('utf8'), path);
}

class Entry {
  constructor(
    readonly source: string,
    readonly where: string,
  ) {}
  fail(msg: string): never {
    throw new ParseError(this.source, `${this.where}: ${msg}`);
  }
  number(o: Json, key: string): number {
    const v = o[key];
    if (v === undefined) this.fail(`missing '${key}'`);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`'${key}' must be a finite number, got ${show(v)}`);
    return v;
  }
  /** An id: an integer that float64 holds exactly (|id| <= 2^53 - 1), so that ids never merge. */
  id(o: Json, key: string): number {
    const v = this.number(o, key);
    if (!Number.isSafeInteger(v))
      this.fail(
        `'${key}' must be an integer between -(2^53 - 1) and 2^53 - 1 (larger ids lose precision), got ${show(v)}`,
      );
    return v;
  }
  bbox(o: Json, key = 'bbox'): CocoBbox {
    const v = o[key];
    if (v === undefined) this.fail(`missing '${key}'`);
    if (!Array.isArray(v) || v.length !== 4) this.fail(`'${key}' must be [x, y, width, height], got ${show(v)}`);
    for (let i = 0; i < 4; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x))
        this.fail(`${key}[${i}] must be a finite number, got ${show(x)}`);
    }
    if (v[2] < 0 || v[3] < 0) this.fail(`'${key}' has a negative ${v[2] < 0 ? 'width' : 'height'}: ${show(v)}`);
    return [v[0], v[1], v[2], v[3]];
  }
  segmentation(v: unknown): CocoSegmentation {
    if (Array.isArray(v)) {
      for (let p = 0; p < v.length; p++) {
        const poly = v[p];
        if (!Array.isArray(poly)) this.fail(`segmentation[${p}] must be an array of numbers, got ${show(poly)}`);
        for (let i = 0; i < poly.length; i++) {
          if (typeof poly[i] !== 'number' || !Number.isFinite(poly[i])) {
            this.fail(`segmentation[${p}][${i}] must be a finite number, got ${show(poly[i])}`);
          }
        }
        if (poly.length % 2 !== 0) this.fail(`segmentation[${p}] has an odd number of coordinates (${poly.length})`);
      }
      const n0 = (v[0] as number[] | undefined)?.length;
      if (n0 !== undefined && n0 < 4)
        this.fail(`segmentation[0] has ${n0} coordinates; a polygon needs at least 3 points`);
      if (n0 === 4 && v.some((p: number[]) => p.length !== 4)) {
        this.fail(
          'segmentation[0] has 4 values, which pycocotools reads as boxes [x, y, w, h]; then every entry must have 4',
        );
      }
      return v as CocoPolygons;
    }
    if (!isObject(v)) this.fail(`'segmentation' must be polygons or an RLE {size, counts}, got ${show(v)}`);
    const size = v.size;
    if (
      !Array.isArray(size) ||
      size.length !== 2 ||
      !size.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)
    ) {
      this.fail(`segmentation.size must be [height, width] (non-negative integers), got ${show(size)}`);
    }
    const counts = v.counts;
    if (typeof counts !== 'string') {
      if (!Array.isArray(counts)) this.fail(`segmentation.counts must be a string or an array, got ${show(counts)}`);
      for (let i = 0; i < counts.length; i++) {
        const c = counts[i];
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 0xffffffff) {
          this.fail(`segmentation.counts[${i}] must be a non-negative integer, got ${show(c)}`);
        }
      }
    }
    return { size: [size[0], size[1]], counts: counts as string | number[] };
  }
}

function entryName(list: string, i: number, o: unknown): string {
  return isObject(o) && typeof o.id === 'number' ? `${list}[${i}] (id ${o.id})` : `${list}[${i}]`;
}

/**
 * Validates a parsed COCO ground-truth object.
 * @param json the parsed file
 * @param source file name used in messages
 * @throws ParseError naming the entry: missing or non-numeric ids, bbox not 4 finite numbers or with a
 *   negative size, missing `area`, duplicate image or annotation ids, malformed segmentation
 */
export function parseCocoGroundTruth(json: unknown, source = 'ground truth'): CocoGroundTruth {
  if (!isObject(json))
    throw new ParseError(source, `expected an object with images, annotations, categories; got ${show(json)}`);
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(json[key])) throw new ParseError(source, `'${key}' must be an array, got ${show(json[key])}`);
  }
  const images: CocoImage[] = [];
  const imageById = new Map<number, CocoImage>();
  (json.images as unknown[]).forEach((o, i) => {
    const e: Entry = new Entry(source, entryName('images', i, o));
    if (!isObject(o)) e.fail(`expected an object, got ${show(o)}`);
    const id = e.id(o, 'id');
    if (imageById.has(id)) e.fail(`duplicate image id ${id}`);
    const dim = (key: string): number | null => {
      if (o[key] === undefined) return null;
      const v = e.number(o, key);
      if (!Number.isInteger(v) || v < 0) e.fail(`'${key}' must be a non-negative integer, got ${show(v)}`);
      return v;
    };
    const img: CocoImage = { id, height: dim('height'), width: dim('width') };
    if (typeof o.file_name === 'string') img.fileName = o.file_name;
    images.push(img);
    imageById.set(id, img);
  });
  const categories: CocoCategory[] = [];
  const categoryIds = new Set<number>();
  (json.categories as unknown[]).forEach((o, i) => {
    const e: Entry = new Entry(source, entryName('categories', i, o));
    if (!isObject(o)) e.fail(`expected an object, got ${show(o)}`);
    const id = e.id(o, 'id');
    if (categoryIds.has(id)) e.fail(`duplicate category id ${id}`);
    categoryIds.add(id);
    categories.push({ id, name: typeof o.name === 'string' ? o.name : String(id) });
  });
  const annotations: CocoGtAnnotation[] = [];
  const annIds = new Set<number>();
  (json.annotations as unknown[]).forEach((o, i) => {
    const e: Entry = new Entry(source, entryName('annotations', i, o));
    if (!isObject(o)) e.fail(`expected an object, got ${show(o)}`);
    const id = e.id(o, 'id');
    if (annIds.has(id)) e.fail(`duplicate annotation id ${id}`);
    annIds.add(id);
    const imageId = e.id(o, 'image_id');
    if (!imageById.has(imageId)) e.fail(`image_id ${imageId} is not the id of any entry of 'images'`);
    const categoryId = e.id(o, 'category_id');
    const bbox = e.bbox(o);
    const area = e.number(o, 'area');
    let iscrowd = false;
    if (o.iscrowd !== undefined) {
      if (o.iscrowd !== 0 && o.iscrowd !== 1 && typeof o.iscrowd !== 'boolean')
        e.fail(`'iscrowd' must be 0 or 1, got ${show(o.iscrowd)}`);
      iscrowd = o.iscrowd === 1 || o.iscrowd === true;
    }
    const segmentation = o.segmentation === undefined ? null : e.segmentation(o.segmentation);
    annotations.push({ id, imageId, categoryId, bbox, area, iscrowd, segmentation, index: i });
  });
  return { source, images, categories, annotations, imageById };
}

/**
 * Validates a parsed results array against its ground truth, deriving area/bbox/ids as pycocotools'
 * `loadRes` does (see the module comment).
 * @throws ParseError naming the entry: not an array, missing fields, NaN or negative-size bbox,
 *   non-finite score, an `image_id` absent from the ground truth, malformed or mis-sized RLE
 */
export function parseCocoResults(json: unknown, gt: CocoGroundTruth, source = 'results'): CocoResults {
  if (!Array.isArray(json)) throw new ParseError(source, `results must be an array of objects, got ${show(json)}`);
  let kind: 'bbox' | 'segm' = 'bbox';
  if (json.length > 0) {
    const first = json[0];
    if (!isObject(first)) throw new ParseError(source, `results[0]: expected an object, got ${show(first)}`);
    const hasBox = Array.isArray(first.bbox) && first.bbox.length > 0;
    if (hasBox) kind = 'bbox';
    else if (first.segmentation !== undefined) kind = 'segm';
    else throw new ParseError(source, `results[0]: has neither 'bbox' nor 'segmentation'`);
  }
  const detections: CocoDetection[] = json.map((o: unknown, i: number) => {
    const e: Entry = new Entry(source, `results[${i}]`);
    if (!isObject(o)) e.fail(`expected an object, got ${show(o)}`);
    const imageId = e.id(o, 'image_id');
    const image = gt.imageById.get(imageId);
    if (!image) e.fail(`image_id ${imageId} is not an image of ${gt.source}`);
    const categoryId = e.id(o, 'category_id');
    const score = e.number(o, 'score');
    if (kind === 'bbox') {
      if (o.bbox === undefined) e.fail(`missing 'bbox' (results[0] has one, so every result must)`);
      const bbox = e.bbox(o);
      const segmentation = o.segmentation === undefined ? null : e.segmentation(o.segmentation);
      return { id: i + 1, imageId, categoryId, score, bbox, area: bbox[2] * bbox[3], segmentation, rle: null };
    }
    if (o.segmentation === undefined)
      e.fail(`missing 'segmentation' (results[0] is a mask result, so every result must be)`);
    const segmentation = e.segmentation(o.segmentation);
    const rle = segmentationToRle(segmentation, image, source, e.where);
    let bbox: CocoBbox;
    // An empty bbox counts as absent (pycocotools' loadRes reads `bbox == []` as no box).
    if (o.bbox !== undefined && !(Array.isArray(o.bbox) && o.bbox.length === 0)) bbox = e.bbox(o);
    else {
      const b = new Float64Array(4);
      countsToBbox(rle.counts, 0, rle.counts.length, rle.height, rle.width, b, 0);
      bbox = [b[0]!, b[1]!, b[2]!, b[3]!];
    }
    return { id: i + 1, imageId, categoryId, score, bbox, area: countsArea(rle.counts), segmentation, rle };
  });
  return { source, kind, detections };
}

/**
 * An annotation's mask as pycocotools' `annToRLE`: polygons rasterised at the image's size and merged
 * (a first polygon of 4 values makes every entry a box `[x, y, w, h]`, as `frPyObjects` does); RLEs
 * keep their own size, which must equal the image's when the image has one.
 * @throws ParseError naming `where` when the image size is missing or the RLE is malformed
 */
export function segmentationToRle(seg: CocoSegmentation, image: CocoImage, source: string, where: string): CocoRle {
  if (Array.isArray(seg)) {
    const h = image.height,
      w = image.width;
    if (h === null || w === null) {
      throw new ParseError(source, `${where}: polygons need the image's height and width (image ${image.id} has none)`);
    }
    if (seg.length === 0) return { height: h, width: w, counts: Uint32Array.of(h * w) };
    const boxes = seg[0]!.length === 4;
    const parts = seg.map((p) => (boxes ? cocoRleFromBbox(p, h, w) : cocoRleFromPolygon(p, h, w)));
    return cocoRleMerge(parts);
  }
  const [h, w] = seg.size;
  if ((image.height !== null && image.height !== h) || (image.width !== null && image.width !== w)) {
    throw new ParseError(
      source,
      `${where}: segmentation.size [${h}, ${w}] differs from image ${image.id}'s [${image.height}, ${image.width}]`,
    );
  }
  if (typeof seg.counts === 'string')
    return cocoRleFromString(seg.counts, h, w, `${source}: ${where}: segmentation.counts`);
  checkCountsSum(seg.counts, h, w, `${source}: ${where}: segmentation.counts`);
  return { height: h, width: w, counts: Uint32Array.from(seg.counts) };
}

/** A result's or annotation's box as the polygon pycocotools' `loadRes` gives box results. */
export function bboxPolygon(b: CocoBbox): CocoPolygons {
  const x1 = b[0],
    y1 = b[1],
    x2 = b[0] + b[2],
    y2 = b[1] + b[3];
  return [[x1, y1, x1, y2, x2, y2, x2, y1]];
}

/** Reads and validates a COCO ground-truth file. @throws ParseError naming the file and entry */
export async function readCocoGroundTruth(path: string): Promise<CocoGroundTruth> {
  return parseCocoGroundTruth(await readJson(path), path);
}

/** Reads and validates a COCO results file against `gt`. @throws ParseError naming the file and entry */
export async function readCocoResults(path: string, gt: CocoGroundTruth): Promise<CocoResults> {
  // Large files may take the native loader (./cocoJsonNative.ts): the same CocoResults, or null -> JS path.
  const size = await checkRegularFile(path).catch(() => 0); // readBytes reports a bad file
  const bytes = useNativeCocoJson(size) ? await readBytes(path) : undefined;
  const fast = bytes ? await parseCocoResultsNative(bytes, gt, path) : null;
  return fast ?? parseCocoResults(await readJson(path, bytes), gt, path);
}
