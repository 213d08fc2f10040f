/**
 * The 12 COCO summary numbers from accumulated precision/recall, as pycocotools' `summarize`:
 * each is the mean of the entries > -1 of a slice (numpy's pairwise summation, so the last bits
 * agree too), or -1 when the slice has none.
 */
import { pairwiseSum } from '../backends/js/pairwiseSum.js';
import type { CocoEvalResult } from './cocoEval.js';

export { pairwiseSum };

/** Names of the 12 stats, in pycocotools' order. */
export const COCO_STAT_NAMES = [
  'AP',
  'AP50',
  'AP75',
  'APs',
  'APm',
  'APl',
  'AR1',
  'AR10',
  'AR100',
  'ARs',
  'ARm',
  'ARl',
] as const;
export type CocoStatName = (typeof COCO_STAT_NAMES)[number];
export type CocoStats = Record<CocoStatName, number>;

/**
 * Which `maxDets` the summary uses:
 * - `pycocotools` (default): exactly `summarize()` — AP uses the literal 100 (so AP is -1 when 100 is
 *   not among maxDets), AP50..APl, AR100 and ARs..ARl use `maxDets[2]`, AR1 `maxDets[0]`, AR10
 *   `maxDets[1]`; needs at least 3 maxDets.
 * - `largest`: every "100" is the largest maxDets; AR1/AR10/AR100 use the first, second and last.
 */
export type CocoSummaryMode = 'pycocotools' | 'largest';

export interface CocoStatSpec {
  name: CocoStatName;
  metric: 'AP' | 'AR';
  /** null: averaged over all IoU thresholds. */
  iouThr: number | null;
  area: string;
  maxDets: number;
}

export interface CocoSummaryInput {
  precision: Float64Array;
  recall: Float64Array;
  iouThrs: readonly number[];
  recThrs: readonly number[];
  numCategories: number;
  areaLabels: readonly string[];
  maxDets: readonly number[];
}

/** The stat specs for a summary mode. @throws RangeError in `pycocotools` mode with fewer than 3 maxDets */
export function cocoStatSpecs(maxDets: readonly number[], mode: CocoSummaryMode): CocoStatSpec[] {
  const M = maxDets.length;
  if (mode === 'pycocotools' && M < 3) {
    throw new RangeError(
      `summary 'pycocotools' needs at least 3 maxDets (it reads maxDets[2]); got ${M}: use summary 'largest'`,
    );
  }
  const last = maxDets[M - 1]!;
  const d0 = maxDets[0]!;
  const d1 = maxDets[Math.min(1, M - 1)]!;
  const d2 = mode === 'pycocotools' ? maxDets[2]! : last;
  const top = mode === 'pycocotools' ? 100 : last;
  const s = (
    name: CocoStatName,
    metric: 'AP' | 'AR',
    iouThr: number | null,
    area: string,
    md: number,
  ): CocoStatSpec => ({
    name,
    metric,
    iouThr,
    area,
    maxDets: md,
  });
  return [
    s('AP', 'AP', null, 'all', top),
    s('AP50', 'AP', 0.5, 'all', d2),
    s('AP75', 'AP', 0.75, 'all', d2),
    s('APs', 'AP', null, 'small', d2),
    s('APm', 'AP', null, 'medium', d2),
    s('APl', 'AP', null, 'large', d2),
    s('AR1', 'AR', null, 'all', d0),
    s('AR10', 'AR', null, 'all', d1),
    s('AR100', 'AR', null, 'all', mode === 'pycocotools' ? d2 : last),
    s('ARs', 'AR', null, 'small', d2),
    s('ARm', 'AR', null, 'medium', d2),
    s('ARl', 'AR', null, 'large', d2),
  ];
}

/** One stat: mean of the entries > -1 of the slice (pycocotools' `_summarize`), -1 if none. */
export function summarizeOne(input: CocoSummaryInput, spec: CocoStatSpec): number {
  const { precision, recall, iouThrs, recThrs, numCategories: K, areaLabels, maxDets } = input;
  const T = iouThrs.length,
    R = recThrs.length,
    A = areaLabels.length,
    M = maxDets.length;
  const a = areaLabels.indexOf(spec.area);
  const m = maxDets.indexOf(spec.maxDets);
  if (a < 0 || m < 0) return -1;
  const ts: number[] = [];
  for (let t = 0; t < T; t++) if (spec.iouThr === null || iouThrs[t] === spec.iouThr) ts.push(t);
  const vals = new Float64Array(ts.length * (spec.metric === 'AP' ? R * K : K));
  let n = 0;
  for (const t of ts) {
    if (spec.metric === 'AP') {
      for (let r = 0; r < R; r++) {
        for (let k = 0; k < K; k++) {
          const v = precision[(((t * R + r) * K + k) * A + a) * M + m]!;
          if (v > -1) vals[n++] = v;
        }
      }
    } else {
      for (let k = 0; k < K; k++) {
        const v = recall[((t * K + k) * A + a) * M + m]!;
        if (v > -1) vals[n++] = v;
      }
    }
  }
  return n === 0 ? -1 : pairwiseSum(vals, 0, n) / n;
}

/** All 12 stats for `specs` (see `cocoStatSpecs`). */
export function summarizeCoco(input: CocoSummaryInput, specs: readonly CocoStatSpec[]): CocoStats {
  const out = {} as CocoStats;
  for (const spec of specs) out[spec.name] = summarizeOne(input, spec);
  return out;
}

/** pycocotools' printed summary lines (`Average Precision (AP) @[ IoU=0.50:0.95 | area= all | maxDets=100 ] = 0.505`). */
export function formatCocoSummary(
  stats: CocoStats,
  specs: readonly CocoStatSpec[],
  iouThrs: readonly number[],
): string {
  const iouAll = `${iouThrs[0]!.toFixed(2)}:${iouThrs[iouThrs.length - 1]!.toFixed(2)}`;
  return specs
    .map((s) => {
      const title = s.metric === 'AP' ? 'Average Precision' : 'Average Recall';
      const iou = (s.iouThr === null ? iouAll : s.iouThr.toFixed(2)).padEnd(9);
      const v = stats[s.name];
      return ` ${title.padEnd(18)} (${s.metric}) @[ IoU=${iou} | area=${s.area.padStart(6)} | maxDets=${String(s.maxDets).padStart(3)} ] = ${v.toFixed(3)}`;
    })
    .join('\n');
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

/**
 * Per-category AP/AR (means of the entries > -1, as `summarize` does per category) and the IoU-0.5
 * precision/recall curve (precision at each of `params.recThrs`) from a `cocoEval` result.
 */
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
    return v.length ? pairwiseSum(v) / v.length : -1;
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
