/**
 * Pascal VOC average precision per class (boxes, IoU > 0.5 by default, all-point interpolation as
 * VOC 2010+, or the 11-point VOC2007 metric) with each class's precision/recall curve, on COCO
 * ground truth and results. See `src/backends/js/vocAp.ts` for the exact matching rule.
 *
 * Conventions: boxes are COCO `[x, y, w, h]` turned into `x1, y1, x2 = x + w, y2 = y + h`, IoU with no
 * +1 (maskbox's IoU contract; the VOC devkit adds 1 to widths for its 1-based pixel boxes); crowd
 * ground truths are VOC "difficult" (neither counted nor penalised) unless `crowdAsDifficult` is false;
 * equal scores keep input order (the devkit's unstable sort leaves them arbitrary).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { pairwiseSum } from '../backends/js/pairwiseSum.js';
import { VOC_IGNORED, VOC_TP } from '../backends/js/vocAp.js';
import type { CocoGroundTruth, CocoResults } from '../io/cocoJson.js';
import { checkOneOf, checkRange, invalid } from '../validate.js';

// This op's row of the op table (src/ops/table.ts), added here so the browser entry compiles without it.
declare module './table.js' {
  interface OpTable {
    vocAp: { args: VocApArgs; result: VocApOutput };
  }
}

export interface VocApArgs {
  numClasses: number;
  numImages: number;
  /** Ground truth of class k in image i: `gtStart[k * numImages + i] .. gtStart[k * numImages + i + 1])`. */
  gtStart: Int32Array;
  /** `x1, y1, x2, y2` per ground truth. */
  gtBox: Float64Array;
  gtDifficult: Uint8Array;
  /** Detections of class k: `dtClassStart[k] .. dtClassStart[k+1])`, sorted by score descending (stable). */
  dtClassStart: Int32Array;
  dtImage: Int32Array;
  /** `x1, y1, x2, y2` per detection. */
  dtBox: Float64Array;
  iouThreshold: number;
  interpolation: 'all-point' | '11-point';
}

export interface VocApOutput {
  /** AP per class; NaN for a class without (non-difficult) ground truth. */
  ap: Float64Array;
  /** Non-difficult ground truths per class. */
  numGt: Int32Array;
  /** Per detection (in the sorted order): VOC_TP, VOC_FP or VOC_IGNORED. */
  state: Uint8Array;
  /** Per detection: precision and recall after it (the raw, un-interpolated curve). */
  precision: Float64Array;
  recall: Float64Array;
}

export interface VocApOptions {
  /** A detection matches when IoU > this (default 0.5). */
  iouThreshold?: number;
  /** `all-point` (default, VOC 2010+) or `11-point` (VOC2007). */
  interpolation?: 'all-point' | '11-point';
  /** Crowd ground truths count as VOC "difficult" (default true). */
  crowdAsDifficult?: boolean;
  backend?: BackendChoice;
}

export interface VocClassResult {
  categoryId: number;
  name: string;
  /** NaN when the class has no (non-difficult) ground truth. */
  ap: number;
  numGt: number;
  numDetections: number;
  truePositives: number;
  /** Per detection of this class, by score descending: score, precision and recall after it. */
  scores: Float64Array;
  precision: Float64Array;
  recall: Float64Array;
  /** Per detection: 1 true positive, 0 false positive, 2 ignored (matched a difficult ground truth). */
  state: Uint8Array;
}

export interface VocApResult extends Ran {
  /** Mean AP over the classes that have ground truth (NaN when none has). */
  mAP: number;
  classes: VocClassResult[];
  iouThreshold: number;
  interpolation: 'all-point' | '11-point';
}

/**
 * VOC AP per class and its mean.
 * @param gt ground truth (`readCocoGroundTruth`); classes are its categories in id order
 * @param dt results (`readCocoResults`); their `bbox` is used (mask results: the RLE's box)
 * @throws InvalidArgumentError for a bad option
 * @example const { mAP, classes } = await vocAp(gt, dt); // classes[0].precision / .recall: the PR curve
 */
export async function vocAp(gt: CocoGroundTruth, dt: CocoResults, options: VocApOptions = {}): Promise<VocApResult> {
  if (typeof gt !== 'object' || gt === null || !(gt.imageById instanceof Map))
    invalid('gt', 'a CocoGroundTruth (from readCocoGroundTruth)', gt);
  if (typeof dt !== 'object' || dt === null || !Array.isArray(dt.detections))
    invalid('dt', 'CocoResults (from readCocoResults)', dt);
  const iouThreshold =
    options.iouThreshold === undefined ? 0.5 : checkRange('iouThreshold', options.iouThreshold, 0, 1);
  const interpolation =
    options.interpolation === undefined
      ? 'all-point'
      : checkOneOf('interpolation', options.interpolation, ['all-point', '11-point'] as const);
  const crowdAsDifficult = options.crowdAsDifficult ?? true;
  if (typeof crowdAsDifficult !== 'boolean') invalid('crowdAsDifficult', 'a boolean', crowdAsDifficult);

  const cats = [...new Map(gt.categories.map((c) => [c.id, c.name]))].sort((a, b) => a[0] - b[0]);
  const catIndex = new Map(cats.map(([id], k) => [id, k]));
  const imgIndex = new Map(gt.images.map((im, i) => [im.id, i]));
  const K = cats.length,
    I = gt.images.length;

  // Ground truth bucketed by (class, image), file order within.
  const gtKey = gt.annotations.map((a) => {
    const k = catIndex.get(a.categoryId),
      i = imgIndex.get(a.imageId);
    return k === undefined || i === undefined ? -1 : k * I + i;
  });
  const gtStart = new Int32Array(K * I + 1);
  for (const key of gtKey) if (key >= 0) gtStart[key + 1]!++;
  for (let c = 0; c < K * I; c++) gtStart[c + 1]! += gtStart[c]!;
  const G = gtStart[K * I]!;
  const gtBox = new Float64Array(4 * G),
    gtDifficult = new Uint8Array(G);
  const fill = gtStart.slice(0, K * I);
  gt.annotations.forEach((a, j) => {
    const key = gtKey[j]!;
    if (key < 0) return;
    const g = fill[key]!++;
    const [x, y, w, h] = a.bbox;
    gtBox.set([x, y, x + w, y + h], 4 * g);
    gtDifficult[g] = crowdAsDifficult && a.iscrowd ? 1 : 0;
  });

  // Detections per class, by score descending (stable).
  const perClass: number[][] = Array.from({ length: K }, () => []);
  dt.detections.forEach((d, j) => {
    const k = catIndex.get(d.categoryId);
    if (k !== undefined) perClass[k]!.push(j);
  });
  const dtClassStart = new Int32Array(K + 1);
  const order: number[] = [];
  perClass.forEach((list, k) => {
    list.sort((a, b) => dt.detections[b]!.score - dt.detections[a]!.score || a - b);
    order.push(...list);
    dtClassStart[k + 1] = order.length;
  });
  const N = order.length;
  const dtBox = new Float64Array(4 * N),
    dtImage = new Int32Array(N),
    dtScore = new Float64Array(N);
  order.forEach((j, n) => {
    const d = dt.detections[j]!;
    const [x, y, w, h] = d.bbox;
    dtBox.set([x, y, x + w, y + h], 4 * n);
    dtImage[n] = imgIndex.get(d.imageId)!;
    dtScore[n] = d.score;
  });

  const args: VocApArgs = {
    numClasses: K,
    numImages: I,
    gtStart,
    gtBox,
    gtDifficult,
    dtClassStart,
    dtImage,
    dtBox,
    iouThreshold,
    interpolation,
  };
  const { result, backend } = await dispatch('vocAp', args, options.backend, N * Math.max(1, G));
  const classes: VocClassResult[] = cats.map(([id, name], k) => {
    const d0 = dtClassStart[k]!,
      d1 = dtClassStart[k + 1]!;
    const state = result.state.slice(d0, d1);
    let tp = 0;
    for (const s of state) if (s === VOC_TP) tp++;
    return {
      categoryId: id,
      name,
      ap: result.ap[k]!,
      numGt: result.numGt[k]!,
      numDetections: d1 - d0,
      truePositives: tp,
      scores: dtScore.slice(d0, d1),
      precision: result.precision.slice(d0, d1),
      recall: result.recall.slice(d0, d1),
      state,
    };
  });
  const withGt = classes.filter((c) => c.numGt > 0);
  const mAP = withGt.length === 0 ? NaN : pairwiseSum(withGt.map((c) => c.ap)) / withGt.length;
  return { mAP, classes, iouThreshold, interpolation, backend };
}

export { VOC_IGNORED, VOC_TP };
