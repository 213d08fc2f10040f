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
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import type { CocoGroundTruth, CocoResults } from '../io/cocoJson.js';
import { checkOneOf, invalid } from '../validate.js';
import {
  cocoStatSpecs,
  summarizeCoco,
  type CocoStatSpec,
  type CocoStats,
  type CocoSummaryMode,
} from './cocoSummary.js';
import { prepareCocoEval, prepareCocoEvalOn, rasteriseGroundTruth } from './cocoEvalPrepare.js';
import { nativeResultsFlat } from '../io/cocoJsonNative.js';

/** Masks as concatenated COCO counts: mask `j` is `counts[start[j] .. start[j+1])`, size `height[j] x width[j]`. */
export interface FlatRles {
  counts: Uint32Array;
  start: Int32Array;
  height: Int32Array;
  width: Int32Array;
}

/**
 * Input of the `cocoEval` kernel. A cell is one (category, image) pair, `c = k * numImages + i`
 * (with `useCats` off there is one category, `k = 0`). The ground truths of cell `c` are
 * `gtStart[c] .. gtStart[c+1])` in pycocotools' order; its detections `dtStart[c] .. dtStart[c+1])`
 * sorted by score descending (stable) and cut at `maxDets[M-1]`.
 */
// This op's row of the op table (src/ops/table.ts), added here so the browser entry compiles without it.
declare module './table.js' {
  interface OpTable {
    cocoEval: { args: CocoEvalArgs; result: CocoEvalOutput };
  }
}

export interface CocoEvalArgs {
  iouType: 'bbox' | 'segm';
  numImages: number;
  numCategories: number;
  /** T IoU thresholds. */
  iouThrs: Float64Array;
  /** R recall thresholds, ascending. */
  recThrs: Float64Array;
  /** A area ranges as `lo, hi` pairs (inclusive both ends). */
  areaRanges: Float64Array;
  /** M max-detections values, ascending. */
  maxDets: Int32Array;
  gtStart: Int32Array;
  /** `[x, y, w, h]` per ground truth used for the IoU (segm: the RLE's `toBbox`). */
  gtBox: Float64Array;
  /** The annotation's `area` field (decides its area range). */
  gtArea: Float64Array;
  gtCrowd: Uint8Array;
  dtStart: Int32Array;
  dtBox: Float64Array;
  dtArea: Float64Array;
  dtScore: Float64Array;
  /** segm only. */
  gtRle: FlatRles | null;
  dtRle: FlatRles | null;
}

export interface CocoEvalOutput {
  /** `[T, R, K, A, M]` row-major; -1 where a setting has no ground truth. */
  precision: Float64Array;
  /** `[T, K, A, M]` row-major; -1 where a setting has no ground truth. */
  recall: Float64Array;
}

export { prepareCocoEval };
export { cocoPerClass, type CocoClassResult } from './cocoSummary.js';
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
  // (Results from the native loader keep flat arrays and build `detections` only when read.)
  if (typeof dt !== 'object' || dt === null || (!nativeResultsFlat(dt) && !Array.isArray(dt.detections)))
    invalid('dt', 'CocoResults (from readCocoResults)', dt);
  const params = resolveCocoParams(gt, options);
  if (params.iouType === 'segm') await rasteriseGroundTruth(gt, options.backend);
  const { args, ignoredDetections, release } = await prepareCocoEvalOn(gt, dt, params, options.backend);
  const work = args.dtStart[args.dtStart.length - 1]! * Math.max(1, args.gtStart[args.gtStart.length - 1]!);
  let ran: Awaited<ReturnType<typeof dispatch<'cocoEval'>>>;
  try {
    ran = await dispatch('cocoEval', args, options.backend, work);
  } finally {
    release?.();
  }
  const { result, backend } = ran;
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
