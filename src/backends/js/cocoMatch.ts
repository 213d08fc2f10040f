/**
 * Stage 2 of COCO evaluation: pycocotools' `evaluateImg` for every cell and area range.
 *
 * Per cell, ground truths are ignored when crowd or when their `area` is outside the range (both
 * ends inclusive); non-ignored ones are visited first (stable). For each IoU threshold `t` and each
 * detection in score order, the best ground truth is the last one reaching the running best IoU
 * (starting at `min(t, 1 - 1e-10)`, so equal IoUs go to the later ground truth), skipping ground
 * truths already matched unless crowd, and stopping at the first ignored ground truth once a
 * non-ignored one matched. A detection matched to an ignored ground truth is ignored; an unmatched
 * one is ignored when its own area is outside the range, else a false positive.
 */
import type { CellIous, CocoEvalArgs } from './cocoEval.js';

export const DT_FP = 0;
export const DT_TP = 1;
export const DT_IGNORED = 2;

export interface CellEvaluation {
  /** `[A, N, T]` states of every detection (`DT_FP`, `DT_TP`, `DT_IGNORED`). */
  dtState: Uint8Array;
  /** `[A, cells]` number of non-ignored ground truths. */
  gtCount: Int32Array;
}

export function evaluateCells(args: CocoEvalArgs, ious: CellIous): CellEvaluation {
  const { gtStart, dtStart, gtArea, gtCrowd, dtArea, iouThrs, areaRanges } = args;
  const cells = gtStart.length - 1;
  const N = dtStart[cells]!;
  const T = iouThrs.length;
  const A = areaRanges.length / 2;
  const dtState = new Uint8Array(A * N * T);
  const gtCount = new Int32Array(A * cells);
  let maxG = 0;
  for (let c = 0; c < cells; c++) maxG = Math.max(maxG, gtStart[c + 1]! - gtStart[c]!);
  const order = new Int32Array(maxG); // cell-local gt indices, non-ignored first
  const ignored = new Uint8Array(maxG); // by position in `order`
  const crowd = new Uint8Array(maxG); // by position in `order`
  const matched = new Uint8Array(maxG); // by position in `order`
  const thr = new Float64Array(T);
  for (let t = 0; t < T; t++) thr[t] = Math.min(iouThrs[t]!, 1 - 1e-10);

  for (let a = 0; a < A; a++) {
    const lo = areaRanges[2 * a]!,
      hi = areaRanges[2 * a + 1]!;
    for (let c = 0; c < cells; c++) {
      const g0 = gtStart[c]!,
        G = gtStart[c + 1]! - g0;
      const d0 = dtStart[c]!,
        D = dtStart[c + 1]! - d0;
      if (G === 0) {
        // Nothing to match: each detection is a false positive, or ignored outside the range.
        for (let d = 0; d < D; d++) {
          const ar = dtArea[d0 + d]!;
          dtState.fill(ar < lo || ar > hi ? DT_IGNORED : DT_FP, (a * N + d0 + d) * T, (a * N + d0 + d + 1) * T);
        }
        continue;
      }
      let nKept = 0;
      for (let g = 0; g < G; g++) {
        const ar = gtArea[g0 + g]!;
        if (!(gtCrowd[g0 + g]! !== 0 || ar < lo || ar > hi)) order[nKept++] = g;
      }
      for (let g = 0, p = nKept; g < G; g++) {
        const ar = gtArea[g0 + g]!;
        if (gtCrowd[g0 + g]! !== 0 || ar < lo || ar > hi) order[p++] = g;
      }
      for (let p = 0; p < G; p++) {
        ignored[p] = p >= nKept ? 1 : 0;
        crowd[p] = gtCrowd[g0 + order[p]!]!;
      }
      gtCount[a * cells + c] = nKept;
      const base = ious.start[c]!;
      for (let t = 0; t < T; t++) {
        for (let p = 0; p < G; p++) matched[p] = 0;
        for (let d = 0; d < D; d++) {
          let best = thr[t]!;
          let m = -1;
          const row = base + d * G;
          for (let p = 0; p < G; p++) {
            if (matched[p] && !crowd[p]) continue;
            if (m > -1 && !ignored[m] && ignored[p]) break;
            const v = ious.iou[row + order[p]!]!;
            if (v < best) continue;
            best = v;
            m = p;
          }
          let state: number;
          if (m > -1) {
            state = ignored[m] ? DT_IGNORED : DT_TP;
            matched[m] = 1;
          } else {
            const ar = dtArea[d0 + d]!;
            state = ar < lo || ar > hi ? DT_IGNORED : DT_FP;
          }
          dtState[(a * N + d0 + d) * T + t] = state;
        }
      }
    }
  }
  return { dtState, gtCount };
}
