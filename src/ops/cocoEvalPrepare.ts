/**
 * Turns validated COCO ground truth and results into the flat arguments of the `cocoEval` kernel, in
 * pycocotools' order: cells (category, image) category-major with images in id order (with useCats
 * off: one cell per image, its annotations grouped by category id, then file order); each cell's
 * detections sorted by score descending (stable) and cut at the largest maxDets; masks (segm) as RLE
 * — ground-truth polygons rasterised at the image's size — flattened into one counts array.
 *
 * The op `cocoEvalPrepare` does this on a backend: js is prepareCocoEval here (the spec, on the loaders'
 * objects); cpu (native/cpu/cocoEvalPrepare.cc) gives the same arguments from the native results loader's
 * flat arrays, without building detection objects (src/backends/cpu/cocoEvalPrepare.ts).
 */
import type { CocoEvalArgs, FlatRles } from '../backends/js/cocoEval.js';
import { countsToBbox, type CocoRle } from '../backends/js/cocoRle.js';
import { ParseError } from '../errors.js';
import {
  bboxPolygon,
  segmentationToRle,
  type CocoGroundTruth,
  type CocoGtAnnotation,
  type CocoResults,
} from '../io/cocoJson.js';
import type { CocoEvalParams } from './cocoEval.js';
import { dispatch, getDefaultBackend, type BackendChoice } from '../backends/registry.js';

import type { CocoPolygonsArgs, CocoPolygonsResult } from '../backends/js/scoring.js';

/** What `cocoEvalPrepare` turns into the `cocoEval` kernel's arguments (checked objects and parameters). */
export interface CocoEvalPrepareArgs {
  gt: CocoGroundTruth;
  dt: CocoResults;
  params: CocoEvalParams;
}

// These ops' rows of the op table (src/ops/table.ts), added here so the browser entry compiles without them.
declare module './table.js' {
  interface OpTable {
    cocoPolygons: { args: CocoPolygonsArgs; result: CocoPolygonsResult };
    /** js: prepareCocoEval (the spec); cpu: native/cpu/cocoEvalPrepare.cc on results read by the native loader. */
    cocoEvalPrepare: { args: CocoEvalPrepareArgs; result: PreparedCocoEval };
  }
}

/** Ground-truth masks rasterised once per annotation object (re-evaluations skip the polygon work). */
const gtRleCache = new WeakMap<CocoGtAnnotation, CocoRle>();

/** Coordinates sent to the `cocoPolygons` kernel (every upsampled step then stays in int32); others: JS. */
const POLYGON_LIMIT = 2 ** 20;

/**
 * Rasterises the ground truth's uncached polygon masks in one `cocoPolygons` call (native/cpu/
 * cocoEvalPolygons.cc on the pool's threads when `backend` allows the cpu backend; the same counts as
 * `segmentationToRle`) and caches them for `prepareCocoEval`. Only when the choice (default: the global
 * default backend) is `auto` or `cpu`: other choices keep rasterising in prepareCocoEval. Annotations it cannot take (no image size, huge coordinates)
 * stay with that path, which also reports their errors.
 */
export async function rasteriseGroundTruth(gt: CocoGroundTruth, backend: BackendChoice | undefined): Promise<void> {
  const choice = backend ?? getDefaultBackend();
  if (choice !== 'auto' && choice !== 'cpu') return;
  const todo: [CocoGtAnnotation, number[][]][] = [];
  let values = 0,
    polygons = 0;
  for (const a of gt.annotations) {
    const seg = a.segmentation;
    if (!Array.isArray(seg) || seg.length === 0 || gtRleCache.has(a)) continue;
    const image = gt.imageById.get(a.imageId);
    const h = image?.height,
      w = image?.width;
    if (typeof h !== 'number' || typeof w !== 'number' || !Number.isInteger(h) || !Number.isInteger(w)) continue;
    if (!(h >= 0 && w >= 0 && h * w < 2 ** 32)) continue;
    // As segmentationToRle: a first entry of 4 values makes every entry a box [x, y, w, h] (cocoRleFromBbox).
    const boxes = seg[0]!.length === 4;
    const polys: number[][] = [];
    let ok = true;
    for (const p of seg) {
      if (boxes && p.length < 4) ok = false;
      const q = boxes ? [p[0]!, p[1]!, p[0]!, p[1]! + p[3]!, p[0]! + p[2]!, p[1]! + p[3]!, p[0]! + p[2]!, p[1]!] : p;
      for (let i = 0; i < q.length && ok; i++) if (!(Math.abs(q[i]!) <= POLYGON_LIMIT)) ok = false;
      polys.push(q);
    }
    if (!ok) continue;
    todo.push([a, polys]);
    polygons += polys.length;
    for (const q of polys) values += q.length;
  }
  if (todo.length === 0) return;
  const args: CocoPolygonsArgs = {
    coords: new Float64Array(values),
    polyStart: new Int32Array(polygons + 1),
    maskStart: new Int32Array(todo.length + 1),
    height: new Int32Array(todo.length),
    width: new Int32Array(todo.length),
  };
  let v = 0,
    p = 0;
  todo.forEach(([a, polys], j) => {
    const image = gt.imageById.get(a.imageId)!;
    args.height[j] = image.height!;
    args.width[j] = image.width!;
    for (const q of polys) {
      args.coords.set(q, v);
      v += q.length;
      args.polyStart[++p] = v;
    }
    args.maskStart[j + 1] = p;
  });
  const { result } = await dispatch('cocoPolygons', args, choice, todo.length);
  todo.forEach(([a], j) =>
    gtRleCache.set(a, {
      height: args.height[j]!,
      width: args.width[j]!,
      counts: result.counts.subarray(result.start[j]!, result.start[j + 1]!),
    }),
  );
  // Every annotation's mask, in order, in one buffer: the cpu preparation reads it without a copy.
  if (todo.length === gt.annotations.length)
    gtMasksFlat.set(gt, { counts: result.counts, start: result.start, height: args.height, width: args.width });
}

/** Ground truths whose masks `rasteriseGroundTruth` made all in one call: those masks, in annotation order. */
const gtMasksFlat = new WeakMap<CocoGroundTruth, FlatRles>();

/** Every annotation's mask of `gt` in one buffer, when one `cocoPolygons` call made them all (else undefined). */
export function groundTruthMasksFlat(gt: CocoGroundTruth): FlatRles | undefined {
  const f = gtMasksFlat.get(gt);
  return f && f.height.length === gt.annotations.length ? f : undefined;
}

/**
 * Annotation `a`'s mask as the reference uses it (cached; polygons rasterised at the image's size), or
 * `null` when it has none or it cannot be made (the reference then reports that annotation's error).
 */
export function groundTruthMask(gt: CocoGroundTruth, a: CocoGtAnnotation): CocoRle | null {
  let rle = gtRleCache.get(a);
  if (rle || a.segmentation === null) return rle ?? null;
  try {
    rle = segmentationToRle(a.segmentation, gt.imageById.get(a.imageId)!, gt.source, `annotations[${a.index}]`);
  } catch (err) {
    if (err instanceof ParseError) return null;
    throw err;
  }
  gtRleCache.set(a, rle);
  return rle;
}

/**
 * The `cocoEval` kernel's arguments on the backend chosen (`js`: prepareCocoEval, the spec; `auto` and
 * others: the cpu kernel when it supports these results — read by the native loader — else the spec).
 */
export async function prepareCocoEvalOn(
  gt: CocoGroundTruth,
  dt: CocoResults,
  params: CocoEvalParams,
  backend: BackendChoice | undefined,
): Promise<PreparedCocoEval> {
  const choice = (backend ?? getDefaultBackend()) === 'js' ? 'js' : 'auto';
  const { result } = await dispatch('cocoEvalPrepare', { gt, dt, params }, choice, Number.POSITIVE_INFINITY);
  return result;
}

export interface PreparedCocoEval {
  args: CocoEvalArgs;
  ignoredDetections: number;
  /** Call once `args` are no longer used: their buffers may serve the next call (cpu kernel). */
  release?: () => void;
}

/** Bucket items by key (stable counting sort). Returns [start offsets (keys+1), items in order]. */
function bucket(keys: Int32Array, numKeys: number): [Int32Array, Int32Array] {
  const start = new Int32Array(numKeys + 1);
  let n = 0;
  for (let j = 0; j < keys.length; j++) if (keys[j]! >= 0) (start[keys[j]! + 1]!++, n++);
  for (let q = 0; q < numKeys; q++) start[q + 1]! += start[q]!;
  const fill = start.slice(0, numKeys);
  const items = new Int32Array(n);
  for (let j = 0; j < keys.length; j++) if (keys[j]! >= 0) items[fill[keys[j]!]!++] = j;
  return [start, items];
}

function flatRles(rles: CocoRle[]): FlatRles {
  const start = new Int32Array(rles.length + 1);
  rles.forEach((r, j) => (start[j + 1] = start[j]! + r.counts.length));
  const counts = new Uint32Array(start[rles.length]!);
  rles.forEach((r, j) => counts.set(r.counts, start[j]!));
  return {
    counts,
    start,
    height: Int32Array.from(rles, (r) => r.height),
    width: Int32Array.from(rles, (r) => r.width),
  };
}

/**
 * Groups ground truth and detections into cells (category-major, images in id order), sorts each
 * cell's detections by score (stable), keeps the first maxDets[-1], and converts masks to RLE: the
 * flat arguments of the `cocoEval` kernel.
 */
export function prepareCocoEval(gt: CocoGroundTruth, dt: CocoResults, p: CocoEvalParams): PreparedCocoEval {
  const I = p.imgIds.length;
  const Kc = p.catIds.length;
  const imgIndex = new Map(p.imgIds.map((id, i) => [id, i]));
  const catIndex = new Map(p.catIds.map((id, k) => [id, k]));
  // Key order = pycocotools' order: useCats: (category, image); otherwise per image, categories in id order.
  const key = (imageId: number, categoryId: number): number => {
    const i = imgIndex.get(imageId),
      k = catIndex.get(categoryId);
    if (i === undefined || k === undefined) return -1;
    return p.useCats ? k * I + i : i * Kc + k;
  };
  const numKeys = Kc * I;
  const K = p.useCats ? Kc : 1;
  const cells = K * I;
  const keyStride = p.useCats ? 1 : Kc;

  const gtAnns = gt.annotations;
  const [gtKeyStart, gtItems] = bucket(
    Int32Array.from(gtAnns, (a) => key(a.imageId, a.categoryId)),
    numKeys,
  );
  const dets = dt.detections;
  const dtKeys = Int32Array.from(dets, (d) => key(d.imageId, d.categoryId));
  let ignoredDetections = 0;
  for (const k of dtKeys) if (k < 0) ignoredDetections++;
  const [dtKeyStart, dtItems] = bucket(dtKeys, numKeys);

  const gtStart = new Int32Array(cells + 1);
  for (let c = 0; c <= cells; c++) gtStart[c] = gtKeyStart[c * keyStride]!;
  // Detections per cell: stable sort by score descending, cut at the largest maxDets.
  const maxDet = p.maxDets[p.maxDets.length - 1]!;
  const dtStart = new Int32Array(cells + 1);
  const kept: number[] = [];
  for (let c = 0; c < cells; c++) {
    const s0 = dtKeyStart[c * keyStride]!,
      s1 = dtKeyStart[(c + 1) * keyStride]!;
    if (s1 - s0 === 1) kept.push(dtItems[s0]!);
    else if (s1 > s0) {
      const list = Array.from(dtItems.subarray(s0, s1));
      // Stable: equal scores keep the bucket order (pycocotools' mergesort over the cell's list, which
      // with useCats off is category by category, not file order).
      list.sort((x, y) => dets[y]!.score - dets[x]!.score);
      for (let j = 0; j < list.length && j < maxDet; j++) kept.push(list[j]!);
    }
    dtStart[c + 1] = kept.length;
  }

  const G = gtItems.length,
    N = kept.length;
  const gtBox = new Float64Array(4 * G),
    gtArea = new Float64Array(G),
    gtCrowd = new Uint8Array(G);
  const dtBox = new Float64Array(4 * N),
    dtArea = new Float64Array(N),
    dtScore = new Float64Array(N);
  let gtRle: FlatRles | null = null,
    dtRle: FlatRles | null = null;
  const segm = p.iouType === 'segm';
  const gtRles: CocoRle[] = [],
    dtRles: CocoRle[] = [];
  for (let j = 0; j < G; j++) {
    const a = gtAnns[gtItems[j]!]!;
    gtArea[j] = a.area;
    gtCrowd[j] = a.iscrowd ? 1 : 0;
    if (segm) {
      let rle = gtRleCache.get(a);
      if (!rle) {
        const where = `annotations[${a.index}] (id ${a.id})`;
        if (a.segmentation === null) {
          throw new ParseError(gt.source, `${where}: missing 'segmentation' (needed for iouType segm)`);
        }
        rle = segmentationToRle(a.segmentation, gt.imageById.get(a.imageId)!, gt.source, where);
        gtRleCache.set(a, rle);
      }
      gtRles.push(rle);
      countsToBbox(rle.counts, 0, rle.counts.length, rle.height, rle.width, gtBox, 4 * j);
    } else gtBox.set(a.bbox, 4 * j);
  }
  for (let j = 0; j < N; j++) {
    const d = dets[kept[j]!]!;
    dtArea[j] = d.area;
    dtScore[j] = d.score;
    if (segm) {
      const rle =
        d.rle ??
        segmentationToRle(
          d.segmentation ?? bboxPolygon(d.bbox),
          gt.imageById.get(d.imageId)!,
          dt.source,
          `results[${d.id - 1}]`,
        );
      dtRles.push(rle);
      countsToBbox(rle.counts, 0, rle.counts.length, rle.height, rle.width, dtBox, 4 * j);
    } else dtBox.set(d.bbox, 4 * j);
  }
  if (segm) {
    gtRle = flatRles(gtRles);
    dtRle = flatRles(dtRles);
  }
  const areaRanges = new Float64Array(p.areaRanges.length * 2);
  p.areaRanges.forEach((r, a) => areaRanges.set(r.range, 2 * a));
  return {
    args: {
      iouType: p.iouType,
      numImages: I,
      numCategories: K,
      iouThrs: Float64Array.from(p.iouThrs),
      recThrs: Float64Array.from(p.recThrs),
      areaRanges,
      maxDets: Int32Array.from(p.maxDets),
      gtStart,
      gtBox,
      gtArea,
      gtCrowd,
      dtStart,
      dtBox,
      dtArea,
      dtScore,
      gtRle,
      dtRle,
    },
    ignoredDetections,
  };
}
