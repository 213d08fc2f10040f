/**
 * Stage 3 of COCO evaluation: pycocotools' `accumulate`.
 *
 * For each category k, area range a and max-detections m: the first `maxDets[m]` detections of every
 * image, ordered by score descending with a stable sort over the images in id order (numpy's
 * `argsort(kind='mergesort')`); cumulative true and false positives skipping ignored detections;
 * recall `tp / npig`, precision `tp / (tp + fp + eps)` (eps = `np.spacing(1)`), made non-increasing
 * from the right; at each recall threshold the precision at the first rank whose recall reaches it
 * (`searchsorted(side='left')`), 0 past the last. Settings without non-ignored ground truth stay -1.
 * (Skipping ignored detections instead of carrying them as zero rows, as pycocotools does, gives
 * identical values: they repeat the previous recall and precision.)
 */
import type { CocoEvalArgs, CocoEvalOutput } from './cocoEval.js';
import { DT_IGNORED, DT_TP, type CellEvaluation } from './cocoMatch.js';

const EPS = Number.EPSILON; // np.spacing(1)

export function accumulateCoco(args: CocoEvalArgs, ev: CellEvaluation): CocoEvalOutput {
  const { dtStart, dtScore, iouThrs, recThrs, maxDets, numImages: I, numCategories: K } = args;
  const T = iouThrs.length,
    R = recThrs.length,
    A = args.areaRanges.length / 2,
    M = maxDets.length;
  const cells = dtStart.length - 1;
  const N = dtStart[cells]!;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const { dtState, gtCount } = ev;

  // Rank of each detection within its cell (cells hold at most maxDets[M-1], score-sorted).
  const rank = new Int32Array(N);
  for (let c = 0; c < cells; c++) for (let n = dtStart[c]!; n < dtStart[c + 1]!; n++) rank[n] = n - dtStart[c]!;

  let maxPerCat = 0;
  for (let k = 0; k < K; k++) maxPerCat = Math.max(maxPerCat, dtStart[(k + 1) * I]! - dtStart[k * I]!);
  const rc = new Float64Array(T * maxPerCat);
  const pr = new Float64Array(T * maxPerCat);
  const len = new Int32Array(T);
  const tp = new Float64Array(T),
    fp = new Float64Array(T);

  for (let k = 0; k < K; k++) {
    const n0 = dtStart[k * I]!,
      n1 = dtStart[(k + 1) * I]!;
    // One stable sort per category; every maxDets cut keeps this relative order.
    const order = new Int32Array(n1 - n0);
    for (let j = 0; j < order.length; j++) order[j] = n0 + j;
    order.sort((x, y) => dtScore[y]! - dtScore[x]! || x - y);
    for (let a = 0; a < A; a++) {
      let npig = 0;
      for (let i = 0; i < I; i++) npig += gtCount[a * cells + k * I + i]!;
      if (npig === 0) continue;
      for (let m = 0; m < M; m++) {
        const maxDet = maxDets[m]!;
        len.fill(0);
        tp.fill(0);
        fp.fill(0);
        for (let j = 0; j < order.length; j++) {
          const n = order[j]!;
          if (rank[n]! >= maxDet) continue;
          const s0 = (a * N + n) * T;
          for (let t = 0; t < T; t++) {
            const st = dtState[s0 + t]!;
            if (st === DT_IGNORED) continue;
            if (st === DT_TP) tp[t]!++;
            else fp[t]!++;
            const at = t * maxPerCat + len[t]!++;
            rc[at] = tp[t]! / npig;
            pr[at] = tp[t]! / (fp[t]! + tp[t]! + EPS);
          }
        }
        for (let t = 0; t < T; t++) {
          const nd = len[t]!,
            off = t * maxPerCat;
          recall[((t * K + k) * A + a) * M + m] = tp[t]! / npig;
          for (let i = nd - 1; i > 0; i--) if (pr[off + i]! > pr[off + i - 1]!) pr[off + i - 1] = pr[off + i]!;
          let j = 0;
          for (let r = 0; r < R; r++) {
            const thr = recThrs[r]!;
            while (j < nd && rc[off + j]! < thr) j++;
            precision[(((t * R + r) * K + k) * A + a) * M + m] = j < nd ? pr[off + j]! : 0;
          }
        }
      }
    }
  }
  return { precision, recall };
}
