/**
 * COCO detection / instance-segmentation evaluation with pycocotools' `COCOeval` semantics (bbox and
 * segm): IoU thresholds `np.linspace(.5, .95, 10)` and recall thresholds `np.linspace(0, 1, 101)` as
 * float64 values, maxDets 1/10/100, area ranges all/small/medium/large (inclusive), crowd regions,
 * stable score sort, `tp / (tp + fp + spacing(1))`, `searchsorted(side='left')`. Reproduces
 * pycocotools' 12 stats to the last bits on its own test data.
 *
 * Deliberate differences from pycocotools (each would otherwise crash or silently corrupt scores):
 * a ground truth with annotation id 0 counts as matched (pycocotools treats a match to id 0 as no
 * match); malformed input (duplicate ids, results on unknown images, RLE sizes differing from the
 * image) throws ParseError instead of failing later or yielding IoU -1.
 */
import { ensureBackends } from '../backends/index.js';
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import type { CocoEvalArgs, CocoEvalOutput, FlatRles } from '../backends/js/cocoEval.js';
import { countsToBbox, type CocoRle } from '../backends/js/cocoRle.js';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { bboxPolygon, segmentationToRle, type CocoGroundTruth, type CocoResults } from '../io/cocoJson.js';
import { checkOneOf, invalid } from '../validate.js';
import {
  cocoStatSpecs,
  summarizeCoco,
  type CocoStatSpec,
  type CocoStats,
  type CocoSummaryMode,
} from './cocoSummary.js';

export type { CocoStats, CocoStatSpec, CocoSummaryMode };

export interface CocoAreaRange {
  label: string;
  /** `[lo, hi]`, both inclusive, compared with a ground truth's `area` field / a detection's area. */
  range: [number, number];
}

export interface CocoEvalOptions {
  /** `bbox` (default) or `segm`. */
  iouType?: 'bbox' | 'segm';
  /** Max detections per image, default `[1, 10, 100]` (sorted ascending, as pycocotools does). */
  maxDets?: readonly number[];
  /** Default all `[0, 1e10]`, small `[0, 32²]`, medium `[32², 96²]`, large `[96², 1e10]`. */
  areaRanges?: readonly CocoAreaRange[];
  /** IoU thresholds in [0, 1], default `np.linspace(.5, .95, 10)`. */
  iouThrs?: readonly number[];
  /** Recall thresholds in [0, 1], ascending, default `np.linspace(0, 1, 101)`. */
  recThrs?: readonly number[];
  /** Match detections to ground truth of the same category only (default true). */
  useCats?: boolean;
  /** Evaluate these images only (default every ground-truth image). */
  imgIds?: readonly number[];
  /** Evaluate these categories only (default every ground-truth category). */
  catIds?: readonly number[];
  /** Which maxDets the 12-number summary uses (default `pycocotools`, see `CocoSummaryMode`). */
  summary?: CocoSummaryMode;
  backend?: BackendChoice;
}

export interface CocoEvalParams {
  iouType: 'bbox' | 'segm';
  iouThrs: number[];
  recThrs: number[];
  areaRanges: CocoAreaRange[];
  maxDets: number[];
  useCats: boolean;
  /** Category ids along the K axis (`[-1]` with useCats off). */
  catIds: number[];
  imgIds: number[];
  summary: CocoSummaryMode;
}

export interface CocoEvalResult extends Ran {
  /** The 12 stats by name (-1 where pycocotools gives -1: no ground truth in that setting). */
  stats: CocoStats;
  /** What each stat averaged (IoU, area range, maxDets) — says which maxDets the summary used. */
  statSpecs: CocoStatSpec[];
  /** `[T, R, K, A, M]` row-major: precision at each IoU threshold, recall threshold, category, area range, maxDets. */
  precision: Float64Array;
  /** `[T, K, A, M]` row-major: the recall reached. */
  recall: Float64Array;
  dims: { T: number; R: number; K: number; A: number; M: number };
  params: CocoEvalParams;
  /** Category names along K (from the ground truth). */
  categoryNames: string[];
  /** Detections left out because their category is not evaluated (pycocotools ignores them silently). */
  ignoredDetections: number;
}

/** numpy's `linspace(start, stop, num)` value for value (`start + i * step`, the last exactly `stop`). */
export function linspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const step = (stop - start) / div;
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** pycocotools' default IoU thresholds: 0.5, 0.55, …, 0.8999999999999999, 0.95. */
export const COCO_IOU_THRS: readonly number[] = Object.freeze(linspace(0.5, 0.95, 10));
/** pycocotools' default recall thresholds: 0, 0.01, …, 1 (101 values). */
export const COCO_REC_THRS: readonly number[] = Object.freeze(linspace(0, 1, 101));
export const COCO_AREA_RANGES: readonly CocoAreaRange[] = Object.freeze([
  { label: 'all', range: [0, 1e10] },
  { label: 'small', range: [0, 32 ** 2] },
  { label: 'medium', range: [32 ** 2, 96 ** 2] },
  { label: 'large', range: [96 ** 2, 1e10] },
] as CocoAreaRange[]);

function numberList(name: string, v: unknown, check: (x: number) => boolean, expected: string): number[] {
  if (!Array.isArray(v) || v.length === 0) invalid(name, `a non-empty array of ${expected}`, v);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !check(x)) invalid(`${name}[${i}]`, expected, x);
  });
  if (new Set(v).size !== v.length) invalid(name, `an array without duplicates`, v);
  return [...v] as number[];
}

function idList(name: string, v: unknown, known: Set<number>, what: string): number[] {
  const ids = numberList(name, v, Number.isFinite, 'finite numbers');
  for (const id of ids)
    if (!known.has(id)) throw new InvalidArgumentError(name, `${name}: ${id} is not ${what} of the ground truth`);
  return ids.sort((a, b) => a - b);
}

/** Checks options and fills defaults. */
export function resolveCocoParams(gt: CocoGroundTruth, options: CocoEvalOptions): CocoEvalParams {
  const iouType =
    options.iouType === undefined ? 'bbox' : checkOneOf('iouType', options.iouType, ['bbox', 'segm'] as const);
  const inUnit = (x: number) => x >= 0 && x <= 1;
  const iouThrs =
    options.iouThrs === undefined
      ? [...COCO_IOU_THRS]
      : numberList('iouThrs', options.iouThrs, inUnit, 'numbers in [0, 1]');
  const recThrs =
    options.recThrs === undefined
      ? [...COCO_REC_THRS]
      : numberList('recThrs', options.recThrs, inUnit, 'numbers in [0, 1]');
  for (let i = 1; i < recThrs.length; i++)
    if (recThrs[i]! < recThrs[i - 1]!) invalid('recThrs', 'ascending numbers', options.recThrs);
  const maxDets = (
    options.maxDets === undefined
      ? [1, 10, 100]
      : numberList(
          'maxDets',
          options.maxDets,
          (x) => Number.isInteger(x) && x > 0 && x <= 0x7fffffff,
          'positive integers',
        )
  ).sort((a, b) => a - b);
  let areaRanges = COCO_AREA_RANGES.map((r) => ({ label: r.label, range: [...r.range] as [number, number] }));
  if (options.areaRanges !== undefined) {
    const ar = options.areaRanges as unknown;
    if (!Array.isArray(ar) || ar.length === 0)
      invalid('areaRanges', 'a non-empty array of { label, range: [lo, hi] }', ar);
    areaRanges = ar.map((r: unknown, i: number) => {
      const o = r as { label?: unknown; range?: unknown };
      const range = o?.range;
      if (typeof o?.label !== 'string') invalid(`areaRanges[${i}].label`, 'a string', o?.label);
      if (
        !Array.isArray(range) ||
        range.length !== 2 ||
        !range.every((x) => typeof x === 'number' && !Number.isNaN(x)) ||
        range[0] > range[1]
      ) {
        invalid(`areaRanges[${i}].range`, '[lo, hi] with lo <= hi', range);
      }
      return { label: o.label as string, range: [range[0], range[1]] as [number, number] };
    });
    if (new Set(areaRanges.map((r) => r.label)).size !== areaRanges.length) invalid('areaRanges', 'unique labels', ar);
  }
  const useCats = options.useCats ?? true;
  if (typeof useCats !== 'boolean') invalid('useCats', 'a boolean', useCats);
  const allImgs = new Set(gt.images.map((im) => im.id));
  const allCats = new Set(gt.categories.map((c) => c.id));
  const imgIds =
    options.imgIds === undefined
      ? [...allImgs].sort((a, b) => a - b)
      : idList('imgIds', options.imgIds, allImgs, 'an image id');
  const evalCats =
    options.catIds === undefined
      ? [...allCats].sort((a, b) => a - b)
      : idList('catIds', options.catIds, allCats, 'a category id');
  const summary =
    options.summary === undefined
      ? 'pycocotools'
      : checkOneOf('summary', options.summary, ['pycocotools', 'largest'] as const);
  if (summary === 'pycocotools' && maxDets.length < 3) {
    throw new InvalidArgumentError(
      'maxDets',
      `summary 'pycocotools' reads maxDets[2], so it needs at least 3 maxDets (got ${maxDets.length}); use summary 'largest'`,
    );
  }
  return { iouType, iouThrs, recThrs, areaRanges, maxDets, useCats, catIds: evalCats, imgIds, summary };
}

interface Prepared {
  args: CocoEvalArgs;
  ignoredDetections: number;
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
export function prepareCocoEval(gt: CocoGroundTruth, dt: CocoResults, p: CocoEvalParams): Prepared {
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
    const s0 = dtKeyStart[c * keyStride]!, s1 = dtKeyStart[(c + 1) * keyStride]!;
    if (s1 - s0 === 1) kept.push(dtItems[s0]!);
    else if (s1 > s0) {
      const list = Array.from(dtItems.subarray(s0, s1));
      list.sort((x, y) => dets[y]!.score - dets[x]!.score || x - y);
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
      const where = `annotations[${a.index}] (id ${a.id})`;
      if (a.segmentation === null)
        throw new ParseError(gt.source, `${where}: missing 'segmentation' (needed for iouType segm)`);
      const rle = segmentationToRle(a.segmentation, gt.imageById.get(a.imageId)!, gt.source, where);
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

/**
 * Evaluates detections against COCO ground truth (pycocotools `COCOeval`: evaluate, accumulate,
 * summarize).
 * @param gt ground truth from `readCocoGroundTruth` / `parseCocoGroundTruth`
 * @param dt results from `readCocoResults` / `parseCocoResults` (validated against `gt`)
 * @param options see `CocoEvalOptions`; defaults are pycocotools'
 * @returns the 12 stats (`AP`, `AP50`, …, `ARl`), the precision `[T,R,K,A,M]` and recall `[T,K,A,M]`
 *   arrays, the parameters used and the backend that ran
 * @throws InvalidArgumentError for a bad option (naming it); ParseError when segm needs a mask an
 *   annotation lacks or cannot give (naming the annotation)
 * @example
 * const gt = await readCocoGroundTruth('instances_val.json');
 * const dt = await readCocoResults('detections.json', gt);
 * const { stats } = await cocoEval(gt, dt, { iouType: 'bbox' }); // stats.AP, stats.AP50, ...
 */
export async function cocoEval(
  gt: CocoGroundTruth,
  dt: CocoResults,
  options: CocoEvalOptions = {},
): Promise<CocoEvalResult> {
  if (typeof gt !== 'object' || gt === null || !(gt.imageById instanceof Map))
    invalid('gt', 'a CocoGroundTruth (from readCocoGroundTruth)', gt);
  if (typeof dt !== 'object' || dt === null || !Array.isArray(dt.detections))
    invalid('dt', 'CocoResults (from readCocoResults)', dt);
  const params = resolveCocoParams(gt, options);
  ensureBackends();
  const { args, ignoredDetections } = prepareCocoEval(gt, dt, params);
  const work = args.dtStart[args.dtStart.length - 1]! * Math.max(1, args.gtStart[args.gtStart.length - 1]!);
  const { result, backend } = await dispatch<CocoEvalArgs, CocoEvalOutput>('cocoEval', args, options.backend, work);
  const specs = cocoStatSpecs(params.maxDets, params.summary);
  const K = args.numCategories;
  const stats = summarizeCoco(
    {
      precision: result.precision,
      recall: result.recall,
      iouThrs: params.iouThrs,
      recThrs: params.recThrs,
      numCategories: K,
      areaLabels: params.areaRanges.map((r) => r.label),
      maxDets: params.maxDets,
    },
    specs,
  );
  const names = new Map(gt.categories.map((c) => [c.id, c.name]));
  return {
    stats,
    statSpecs: specs,
    precision: result.precision,
    recall: result.recall,
    dims: {
      T: params.iouThrs.length,
      R: params.recThrs.length,
      K,
      A: params.areaRanges.length,
      M: params.maxDets.length,
    },
    params: { ...params, catIds: params.useCats ? params.catIds : [-1] },
    categoryNames: params.useCats ? params.catIds.map((id) => names.get(id) ?? String(id)) : ['all'],
    ignoredDetections,
    backend,
  };
}

export interface CocoClassResult {
  categoryId: number;
  name: string;
  /** Mean precision over IoU .50:.95 and all recall thresholds (area `all`, largest maxDets); -1 without GT. */
  AP: number;
  AP50: number;
  AP75: number;
  /** Mean recall over IoU .50:.95 (area `all`, largest maxDets). */
  AR: number;
  /** Precision at each recall threshold (`params.recThrs`), IoU 0.5, area `all`, largest maxDets. */
  precision50: Float64Array;
}

/** Per-category AP/AR and the IoU-0.5 precision/recall curve from a `cocoEval` result. */
export function cocoPerClass(res: CocoEvalResult): CocoClassResult[] {
  const { T, R, K, A, M } = res.dims;
  const a = Math.max(
    0,
    res.params.areaRanges.findIndex((r) => r.label === 'all'),
  );
  const m = M - 1;
  const t50 = res.params.iouThrs.indexOf(0.5),
    t75 = res.params.iouThrs.indexOf(0.75);
  const p = (t: number, r: number, k: number) => res.precision[(((t * R + r) * K + k) * A + a) * M + m]!;
  const mean = (vals: number[]) => {
    const v = vals.filter((x) => x > -1);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : -1;
  };
  const out: CocoClassResult[] = [];
  for (let k = 0; k < K; k++) {
    const all: number[] = [],
      at = (t: number) => (t < 0 ? [] : Array.from({ length: R }, (_, r) => p(t, r, k)));
    for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) all.push(p(t, r, k));
    const ar: number[] = [];
    for (let t = 0; t < T; t++) ar.push(res.recall[((t * K + k) * A + a) * M + m]!);
    out.push({
      categoryId: res.params.catIds[k]!,
      name: res.categoryNames[k]!,
      AP: mean(all),
      AP50: mean(at(t50)),
      AP75: mean(at(t75)),
      AR: mean(ar),
      precision50: Float64Array.from(at(t50)),
    });
  }
  return out;
}
