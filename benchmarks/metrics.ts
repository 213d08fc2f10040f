/**
 * Point-detection scoring for the SMLM check of benchmarks/detectVsBaseline.bench.ts: predicted
 * positions (box centres) against reference emitter positions, matched one-to-one within a radius.
 */

export interface PointCounts {
  tp: number;
  fp: number;
  fn: number;
  /** Sums of `pred - ref` over the matched pairs (mean offset = dx / tp): a systematic shift shows here. */
  dx: number;
  dy: number;
}

/**
 * One-to-one matching of predicted points to reference points within distance `r` (inclusive):
 * every (prediction, reference) pair within `r`, taken in increasing distance (ties: lower prediction
 * index, then lower reference index), is matched when neither side is matched yet. Greedy nearest
 * first: the usual localization-challenge rule without the Hungarian step.
 * @param pred `[x, y, ...]`
 * @param ref `[x, y, ...]` in the same frame
 * @returns true positives (matched), false positives (unmatched predictions), false negatives
 *   (unmatched references), and the summed offsets of the matched pairs
 */
export function matchPoints(pred: ArrayLike<number>, ref: ArrayLike<number>, r: number): PointCounts {
  const P = pred.length / 2;
  const R = ref.length / 2;
  const cand: [number, number, number][] = [];
  const r2 = r * r;
  for (let i = 0; i < P; i++)
    for (let j = 0; j < R; j++) {
      const dx = pred[2 * i]! - ref[2 * j]!;
      const dy = pred[2 * i + 1]! - ref[2 * j + 1]!;
      const d2 = dx * dx + dy * dy;
      if (d2 <= r2) cand.push([d2, i, j]);
    }
  cand.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const usedP = new Uint8Array(P);
  const usedR = new Uint8Array(R);
  let tp = 0;
  let dx = 0;
  let dy = 0;
  for (const [, i, j] of cand) {
    if (usedP[i] || usedR[j]) continue;
    usedP[i] = usedR[j] = 1;
    tp++;
    dx += pred[2 * i]! - ref[2 * j]!;
    dy += pred[2 * i + 1]! - ref[2 * j + 1]!;
  }
  return { tp, fp: P - tp, fn: R - tp, dx, dy };
}

/** Adds `b` into `a`. */
export function addCounts(a: PointCounts, b: PointCounts): PointCounts {
  a.tp += b.tp;
  a.fp += b.fp;
  a.fn += b.fn;
  a.dx += b.dx;
  a.dy += b.dy;
  return a;
}

/** Precision, recall and F1 (NaN where the denominator is 0). */
export function prf(c: PointCounts): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : NaN;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : NaN;
  const f1 = 2 * c.tp + c.fp + c.fn > 0 ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : NaN;
  return { precision, recall, f1 };
}

/** Centres `[x, y, ...]` of boxes `x1,y1,x2,y2`, shifted by `offset` (0.5 for boxes in pixel-index units). */
export function boxCentres(boxes: Float32Array, offset = 0): Float64Array {
  const out = new Float64Array(boxes.length / 2);
  for (let i = 0, k = 0; i < boxes.length; i += 4, k += 2) {
    out[k] = (boxes[i]! + boxes[i + 2]!) / 2 + offset;
    out[k + 1] = (boxes[i + 1]! + boxes[i + 3]!) / 2 + offset;
  }
  return out;
}

/**
 * Ground-truth boxes with at least two predicted box centres inside them (inclusive): a vesicle split
 * into fragments.
 */
export function fragmented(gtBoxes: Float32Array, centres: Float64Array): number {
  let n = 0;
  for (let g = 0; g < gtBoxes.length; g += 4) {
    let k = 0;
    for (let i = 0; i < centres.length && k < 2; i += 2) {
      const x = centres[i]!;
      const y = centres[i + 1]!;
      if (x >= gtBoxes[g]! && x <= gtBoxes[g + 2]! && y >= gtBoxes[g + 1]! && y <= gtBoxes[g + 3]!) k++;
    }
    if (k >= 2) n++;
  }
  return n;
}
