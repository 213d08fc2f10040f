/**
 * Pascal VOC average precision reference kernel (the devkit's `voc_eval` + `voc_ap`), boxes only.
 *
 * Per class, detections are visited by score descending (ties: input order). Each takes the ground
 * truth of its image with the largest IoU (the first one on ties); if that IoU is > the threshold it is
 * ignored when the ground truth is difficult, a true positive when that ground truth is still free
 * (which then becomes taken), else a false positive (a duplicate); below the threshold it is a false
 * positive. recall = tp / npos, precision = tp / max(tp + fp, eps) over the ranks (ignored detections
 * keep their row, repeating the previous values). AP, all-point: the area under the precision
 * envelope at every recall change; 11-point: the mean of the envelope's max precision at recall
 * >= 0, 0.1, …, 1.
 */
import type { VocApArgs, VocApOutput } from '../../ops/vocAp.js';
export type { VocApArgs, VocApOutput } from '../../ops/vocAp.js';
import { pairwiseSum } from './pairwiseSum.js';

export const VOC_FP = 0;
export const VOC_TP = 1;
export const VOC_IGNORED = 2;

const EPS = Number.EPSILON; // np.finfo(np.float64).eps

function iouXyxy(a: Float64Array, i: number, b: Float64Array, j: number): number {
  const i4 = i * 4,
    j4 = j * 4;
  const w = Math.max(0, Math.min(a[i4 + 2]!, b[j4 + 2]!) - Math.max(a[i4]!, b[j4]!));
  const h = Math.max(0, Math.min(a[i4 + 3]!, b[j4 + 3]!) - Math.max(a[i4 + 1]!, b[j4 + 1]!));
  const inter = w * h;
  const union =
    (a[i4 + 2]! - a[i4]!) * (a[i4 + 3]! - a[i4 + 1]!) + (b[j4 + 2]! - b[j4]!) * (b[j4 + 3]! - b[j4 + 1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** AP from a recall/precision curve (`voc_ap`). */
export function vocApFromCurve(
  recall: Float64Array,
  precision: Float64Array,
  interpolation: 'all-point' | '11-point',
): number {
  const n = recall.length;
  if (interpolation === '11-point') {
    let ap = 0;
    for (let q = 0; q <= 10; q++) {
      const t = q * 0.1; // np.arange(0, 1.1, 0.1): 0.30000000000000004, …
      let p = 0;
      for (let j = 0; j < n; j++) if (recall[j]! >= t && precision[j]! > p) p = precision[j]!;
      ap += p / 11;
    }
    return ap;
  }
  const mrec = new Float64Array(n + 2),
    mpre = new Float64Array(n + 2);
  mrec.set(recall, 1);
  mrec[n + 1] = 1;
  mpre.set(precision, 1);
  for (let j = n; j >= 1; j--) if (mpre[j + 1]! > mpre[j]!) mpre[j] = mpre[j + 1]!;
  const terms = new Float64Array(n + 1);
  let m = 0;
  for (let j = 0; j <= n; j++) if (mrec[j + 1] !== mrec[j]) terms[m++] = (mrec[j + 1]! - mrec[j]!) * mpre[j + 1]!;
  return pairwiseSum(terms, 0, m);
}

export function vocAp(args: VocApArgs): VocApOutput {
  const { numClasses: K, numImages: I, gtStart, gtBox, gtDifficult, dtClassStart, dtImage, dtBox, iouThreshold } = args;
  const N = dtClassStart[K]!;
  const ap = new Float64Array(K),
    numGt = new Int32Array(K);
  const state = new Uint8Array(N),
    precision = new Float64Array(N),
    recall = new Float64Array(N);
  const taken = new Uint8Array(gtDifficult.length);
  for (let k = 0; k < K; k++) {
    let npos = 0;
    for (let g = gtStart[k * I]!; g < gtStart[(k + 1) * I]!; g++) if (!gtDifficult[g]) npos++;
    numGt[k] = npos;
    let tp = 0,
      fp = 0;
    const d0 = dtClassStart[k]!,
      d1 = dtClassStart[k + 1]!;
    for (let d = d0; d < d1; d++) {
      const c = k * I + dtImage[d]!;
      let best = -Infinity,
        jmax = -1;
      for (let g = gtStart[c]!; g < gtStart[c + 1]!; g++) {
        const o = iouXyxy(dtBox, d, gtBox, g);
        if (o > best) {
          best = o;
          jmax = g;
        }
      }
      if (jmax >= 0 && best > iouThreshold) {
        if (gtDifficult[jmax]) state[d] = VOC_IGNORED;
        else if (!taken[jmax]) {
          taken[jmax] = 1;
          state[d] = VOC_TP;
          tp++;
        } else {
          state[d] = VOC_FP;
          fp++;
        }
      } else {
        state[d] = VOC_FP;
        fp++;
      }
      recall[d] = tp / npos;
      precision[d] = tp / Math.max(tp + fp, EPS);
    }
    ap[k] = npos === 0 ? NaN : vocApFromCurve(recall.subarray(d0, d1), precision.subarray(d0, d1), args.interpolation);
  }
  return { ap, numGt, state, precision, recall };
}
