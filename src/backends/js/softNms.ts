/**
 * Soft-NMS reference (Bodla et al. 2017, "Improving Object Detection With One Line of Code"; the
 * formulas of mmcv's `soft_nms` and of ensemble_boxes' `soft_nms`). Repeatedly take the live box with
 * the highest current score (equal scores: lower index first), keep it, and decay every other live box
 * of the same class by its float32 IoU `o` with the kept one:
 * - `linear`: `s *= 1 - o` when `o > iouThreshold`;
 * - `gaussian`: `s *= exp(-o² / sigma)`;
 * - `hard`: `s = 0` when `o > iouThreshold` (greedy NMS, for comparison).
 * A box whose score is no longer `> scoreThreshold` dies. Scores are decayed in float64.
 * O(N²): the spec the native kernel is tested against.
 */
import { iouF32 } from './iou.js';
import type { SoftNmsMethod, SoftNmsArgs, SoftNmsOutput } from '../../ops/softNms.js';

/** The decay factor for IoU `o` (shared by the JS and native kernels' definition). */
export function softNmsWeight(method: SoftNmsMethod, o: number, iouThreshold: number, sigma: number): number {
  if (method === 'gaussian') return Math.exp(-(o * o) / sigma);
  if (o <= iouThreshold) return 1;
  return method === 'linear' ? 1 - o : 0;
}

export function softNms(args: SoftNmsArgs): SoftNmsOutput {
  const { boxes, classes, method, iouThreshold, sigma, scoreThreshold, maxDetections } = args;
  const n = args.scores.length;
  const cur = Float64Array.from(args.scores);
  const live: number[] = [];
  for (let i = 0; i < n; i++) if (cur[i]! > scoreThreshold) live.push(i);
  const keep: number[] = [],
    kept: number[] = [];
  while (live.length > 0 && keep.length < maxDetections) {
    let best = 0;
    for (let t = 1; t < live.length; t++) if (cur[live[t]!]! > cur[live[best]!]!) best = t;
    const i = live[best]!;
    live.splice(best, 1);
    keep.push(i);
    kept.push(cur[i]!);
    let w = 0;
    for (let t = 0; t < live.length; t++) {
      const j = live[t]!;
      if (classes === null || classes[j] === classes[i]) {
        cur[j] = cur[j]! * softNmsWeight(method, iouF32(boxes, i, boxes, j), iouThreshold, sigma);
        if (!(cur[j]! > scoreThreshold)) continue;
      }
      live[w++] = j;
    }
    live.length = w;
  }
  return { indices: Int32Array.from(keep), scores: Float32Array.from(kept) };
}
