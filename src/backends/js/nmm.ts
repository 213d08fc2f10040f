/**
 * Non-maximum merging reference (SAHI's `greedy_nmm` + merge, made deterministic): visit boxes by
 * score descending (equal scores: lower index first); each box not yet merged becomes a keeper, and
 * every later unmerged box of the same class whose match with the keeper's own box is
 * `> matchThreshold` is merged into it. The merged box is the union (min x1/y1, max x2/y2) of the
 * keeper and its members; its score and class are the keeper's (the highest).
 * Match metrics in float32 arithmetic, like `iouF32`: `iou`, or `ios` = intersection over the smaller
 * area (a box cut by a tile seam lies inside the whole one: its IoS is ~1, its IoU may be 0.5).
 * O(N²): the spec the native kernel is tested against.
 */
import { rankCandidates } from './nms.js';
import { iouF32 } from './iou.js';
import type { MatchMetric, NmmArgs, NmmOutput } from '../../ops/nmm.js';

const f = Math.fround;

/** Intersection over the smaller area, float32 steps (0 when the smaller area is 0). */
export function iosF32(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const i4 = i * 4,
    j4 = j * 4;
  const areaA = f(f(a[i4 + 2]! - a[i4]!) * f(a[i4 + 3]! - a[i4 + 1]!));
  const areaB = f(f(b[j4 + 2]! - b[j4]!) * f(b[j4 + 3]! - b[j4 + 1]!));
  const w = Math.max(0, f(Math.min(a[i4 + 2]!, b[j4 + 2]!) - Math.max(a[i4]!, b[j4]!)));
  const h = Math.max(0, f(Math.min(a[i4 + 3]!, b[j4 + 3]!) - Math.max(a[i4 + 1]!, b[j4 + 1]!)));
  const small = Math.min(areaA, areaB);
  return small > 0 ? f(f(w * h) / small) : 0;
}

export function nmm(args: NmmArgs): NmmOutput {
  const { boxes, scores, classes, metric, matchThreshold, scoreThreshold, maxDetections } = args;
  const order = rankCandidates(scores, scoreThreshold, scores.length);
  const groups = new Int32Array(scores.length).fill(-1);
  const keep: number[] = [];
  const merged: number[] = [];
  const match = metric === 'ios' ? iosF32 : iouF32;
  for (let o = 0; o < order.length && keep.length < maxDetections; o++) {
    const i = order[o]!;
    if (groups[i] !== -1) continue;
    const g = keep.length;
    keep.push(i);
    groups[i] = g;
    let x1 = boxes[4 * i]!,
      y1 = boxes[4 * i + 1]!,
      x2 = boxes[4 * i + 2]!,
      y2 = boxes[4 * i + 3]!;
    for (let p = o + 1; p < order.length; p++) {
      const j = order[p]!;
      if (groups[j] !== -1 || (classes !== null && classes[j] !== classes[i])) continue;
      if (!(match(boxes, i, boxes, j) > matchThreshold)) continue;
      groups[j] = g;
      x1 = Math.min(x1, boxes[4 * j]!);
      y1 = Math.min(y1, boxes[4 * j + 1]!);
      x2 = Math.max(x2, boxes[4 * j + 2]!);
      y2 = Math.max(y2, boxes[4 * j + 3]!);
    }
    merged.push(x1, y1, x2, y2);
  }
  return { indices: Int32Array.from(keep), boxes: Float32Array.from(merged), groups };
}
