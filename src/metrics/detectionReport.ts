/**
 * What `maskbox eval coco` reports besides pycocotools' 12 numbers: images whose ground truth or
 * detections exceed maxDets (so the summary silently cuts recall), a confusion matrix, per-class
 * precision / recall / F1 against the confidence threshold, and recall by object size.
 *
 * The matching here is the usual detection-report rule (YOLOv5's `ConfusionMatrix` and `ap_per_class`),
 * not COCOeval's: bbox IoU >= `iou` (default 0.5), each ground truth and each detection used once,
 * pairs taken by IoU descending. Crowd ground truths are left out of both.
 */
import type { CocoBbox, CocoGroundTruth, CocoResults } from '../io/cocoJson.js';
import type { CocoEvalResult } from '../ops/cocoEval.js';

/** Images with more ground truths or detections than the cap pycocotools' summary uses. */
export interface CapOverflow {
  /** The cap checked against (the largest maxDets). */
  maxDets: number;
  /** Images with more ground truths (not crowd) than `maxDets`. */
  gtImages: number;
  /** Images with more detections than `maxDets`. */
  dtImages: number;
  /** Largest per-image counts. */
  maxGt: number;
  maxDt: number;
}

/** Count images whose ground truth or detections exceed `maxDets`. */
export function capOverflow(gt: CocoGroundTruth, dt: CocoResults, maxDets: number): CapOverflow {
  const g = new Map<number, number>(),
    d = new Map<number, number>();
  for (const a of gt.annotations) if (!a.iscrowd) g.set(a.imageId, (g.get(a.imageId) ?? 0) + 1);
  for (const x of dt.detections) d.set(x.imageId, (d.get(x.imageId) ?? 0) + 1);
  const over = (m: Map<number, number>) => [...m.values()].filter((n) => n > maxDets).length;
  const most = (m: Map<number, number>) => Math.max(0, ...m.values());
  return { maxDets, gtImages: over(g), dtImages: over(d), maxGt: most(g), maxDt: most(d) };
}

/** The warning line for an overflow, or null when no image exceeds the cap. */
export function capWarning(o: CapOverflow): string | null {
  if (o.gtImages === 0 && o.dtImages === 0) return null;
  const parts: string[] = [];
  if (o.gtImages)
    parts.push(`${o.gtImages} image(s) have more ground truths than maxDets ${o.maxDets} (up to ${o.maxGt})`);
  if (o.dtImages)
    parts.push(`${o.dtImages} image(s) have more detections than maxDets ${o.maxDets} (up to ${o.maxDt})`);
  return `warning: ${parts.join('; ')}: AP and AR are capped below their true values; use --dense (maxDets 1,100,10000) or --max-dets`;
}

function bboxIou(a: CocoBbox, b: CocoBbox): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0;
}

interface Match {
  /** Per detection (in `dt.detections` order): matched ground truth's index in `gt.annotations`, or -1. */
  dtToGt: Int32Array;
  /** Per ground truth: matched detection index, or -1 (crowd: -2). */
  gtToDt: Int32Array;
}

/**
 * One-to-one matching per image at IoU >= `iou`, pairs taken by IoU descending (ties: higher score,
 * then lower indices). `sameClass`: only pairs of equal category match (for PR/F1); otherwise any
 * (the confusion matrix). Detections with score < `conf` take no part.
 */
export function matchDetections(
  gt: CocoGroundTruth,
  dt: CocoResults,
  opts: { iou: number; conf: number; sameClass: boolean },
): Match {
  const gtBy = new Map<number, number[]>(),
    dtBy = new Map<number, number[]>();
  const gtToDt = new Int32Array(gt.annotations.length).fill(-1);
  const dtToGt = new Int32Array(dt.detections.length).fill(-1);
  gt.annotations.forEach((a, i) => {
    if (a.iscrowd) gtToDt[i] = -2;
    else gtBy.set(a.imageId, [...(gtBy.get(a.imageId) ?? []), i]);
  });
  dt.detections.forEach((x, i) => {
    if (x.score >= opts.conf) dtBy.set(x.imageId, [...(dtBy.get(x.imageId) ?? []), i]);
  });
  for (const [img, ds] of dtBy) {
    const gs = gtBy.get(img);
    if (!gs) continue;
    const pairs: [number, number, number][] = [];
    for (const di of ds) {
      const d = dt.detections[di]!;
      for (const gi of gs) {
        const g = gt.annotations[gi]!;
        if (opts.sameClass && g.categoryId !== d.categoryId) continue;
        const v = bboxIou(d.bbox, g.bbox);
        if (v >= opts.iou) pairs.push([v, di, gi]);
      }
    }
    pairs.sort(
      (p, q) => q[0] - p[0] || dt.detections[q[1]]!.score - dt.detections[p[1]]!.score || p[1] - q[1] || p[2] - q[2],
    );
    for (const [, di, gi] of pairs) {
      if (dtToGt[di] !== -1 || gtToDt[gi] !== -1) continue;
      dtToGt[di] = gi;
      gtToDt[gi] = di;
    }
  }
  return { dtToGt, gtToDt };
}

/** `[K+1, K+1]` counts: rows predicted class (last = background: missed GT), columns true class (last = background: false detection). */
export interface ConfusionMatrix {
  /** Category names, then `'background'`. */
  labels: string[];
  /** Row-major `(K+1) x (K+1)`: `counts[p * (K+1) + t]`, p = predicted, t = true. */
  counts: Int32Array;
  conf: number;
  iou: number;
}

/**
 * Confusion matrix of detections with score >= `conf` against the ground truth, matched at IoU >= `iou`
 * regardless of class (YOLOv5's rule): a matched pair counts at (predicted, true); an unmatched
 * ground truth at (background, true); an unmatched detection at (predicted, background).
 */
export function confusionMatrix(gt: CocoGroundTruth, dt: CocoResults, conf = 0.25, iou = 0.5): ConfusionMatrix {
  const cats = gt.categories;
  const K = cats.length;
  const idx = new Map(cats.map((c, i) => [c.id, i]));
  const m = matchDetections(gt, dt, { iou, conf, sameClass: false });
  const counts = new Int32Array((K + 1) * (K + 1));
  gt.annotations.forEach((a, gi) => {
    const t = idx.get(a.categoryId);
    if (t === undefined || m.gtToDt[gi] === -2) return;
    const di = m.gtToDt[gi]!;
    const p = di >= 0 ? (idx.get(dt.detections[di]!.categoryId) ?? K) : K;
    counts[p * (K + 1) + t]!++;
  });
  dt.detections.forEach((d, di) => {
    if (d.score < conf || m.dtToGt[di] !== -1) return;
    const p = idx.get(d.categoryId);
    if (p !== undefined) counts[p * (K + 1) + K]!++;
  });
  return { labels: [...cats.map((c) => c.name), 'background'], counts, conf, iou };
}

/** Precision, recall and F1 of one class at each confidence threshold. */
export interface ClassCurves {
  categoryId: number;
  name: string;
  /** Non-crowd ground truths. */
  gt: number;
  /** Confidence thresholds 0, 0.01, …, 1 (detections with score >= threshold count). */
  conf: Float64Array;
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  /** Threshold of the best F1 (the lowest one on ties), and that F1, precision and recall. */
  best: { conf: number; f1: number; precision: number; recall: number };
}

/**
 * Per-class precision / recall / F1 against the confidence threshold, detections matched to same-class
 * ground truths at IoU >= `iou` over all detections (matching does not depend on the threshold: a
 * higher threshold only drops detections, which are counted by score). Precision is 1 where no
 * detection passes the threshold (YOLOv5's convention is 0; 1 keeps the PR curve monotone at its end).
 */
export function classCurves(gt: CocoGroundTruth, dt: CocoResults, iou = 0.5, steps = 101): ClassCurves[] {
  const m = matchDetections(gt, dt, { iou, conf: -Infinity, sameClass: true });
  const conf = Float64Array.from({ length: steps }, (_, i) => i / (steps - 1));
  return gt.categories.map((c) => {
    const nGt = gt.annotations.filter((a) => a.categoryId === c.id && !a.iscrowd).length;
    const tp = new Float64Array(steps),
      n = new Float64Array(steps);
    dt.detections.forEach((d, di) => {
      if (d.categoryId !== c.id) return;
      // thresholds t with d.score >= t: indices 0..floor(score * (steps-1)), exact for t = i/(steps-1)
      let hi = Math.min(steps - 1, Math.floor(d.score * (steps - 1)));
      while (hi + 1 < steps && d.score >= conf[hi + 1]!) hi++;
      while (hi >= 0 && d.score < conf[hi]!) hi--;
      for (let i = 0; i <= hi; i++) {
        n[i]!++;
        if (m.dtToGt[di]! >= 0) tp[i]!++;
      }
    });
    const precision = new Float64Array(steps),
      recall = new Float64Array(steps),
      f1 = new Float64Array(steps);
    let best = { conf: 0, f1: -1, precision: 0, recall: 0 };
    for (let i = 0; i < steps; i++) {
      precision[i] = n[i]! > 0 ? tp[i]! / n[i]! : 1;
      recall[i] = nGt > 0 ? tp[i]! / nGt : 0;
      const s = precision[i]! + recall[i]!;
      f1[i] = s > 0 ? (2 * precision[i]! * recall[i]!) / s : 0;
      if (f1[i]! > best.f1) best = { conf: conf[i]!, f1: f1[i]!, precision: precision[i]!, recall: recall[i]! };
    }
    return { categoryId: c.id, name: c.name, gt: nGt, conf, precision, recall, f1, best };
  });
}

/** Recall by object size from a `cocoEval` result (area ranges other than `all`), over all categories. */
export interface SizeRecall {
  area: string;
  range: [number, number];
  /** Non-crowd ground truths whose `area` falls in the range (both ends inclusive). */
  gt: number;
  /** Recall at IoU 0.5 and averaged over the IoU thresholds, at the largest maxDets; -1 without GT. */
  recall50: number;
  recall: number;
}

/** Recall per area range, mean over categories with ground truth (as pycocotools' AR). */
export function recallBySize(res: CocoEvalResult, gt: CocoGroundTruth): SizeRecall[] {
  const { T, K, A, M } = res.dims;
  const m = M - 1;
  const t50 = res.params.iouThrs.indexOf(0.5);
  const mean = (v: number[]) => {
    const x = v.filter((y) => y > -1);
    return x.length ? x.reduce((s, y) => s + y, 0) / x.length : -1;
  };
  const cats = new Set(res.params.useCats ? res.params.catIds : gt.categories.map((c) => c.id));
  return res.params.areaRanges.map((ar, a) => {
    const at = (t: number) => Array.from({ length: K }, (_, k) => res.recall[((t * K + k) * A + a) * M + m]!);
    const all: number[] = [];
    for (let t = 0; t < T; t++) all.push(...at(t));
    const nGt = gt.annotations.filter(
      (g) => !g.iscrowd && cats.has(g.categoryId) && g.area >= ar.range[0] && g.area <= ar.range[1],
    ).length;
    return {
      area: ar.label,
      range: ar.range,
      gt: nGt,
      recall50: t50 >= 0 ? mean(at(t50)) : -1,
      recall: mean(all),
    };
  });
}
