/**
 * Greedy NMS reference. Visit candidates by score descending (equal scores: lower index first), keep
 * a box unless its float32 IoU with an already kept box of the same class is > iouThreshold.
 * Deliberately simple (O(candidates x kept)): this is the spec the native kernels are tested against.
 */
import type { NmsArgs } from '../../ops/nms.js';
export type { NmsArgs } from '../../ops/nms.js';
import { iouF32 } from './iou.js';

/** Candidate indices with score > thr, ordered by score desc then index asc, capped at `max`. */
export function rankCandidates(scores: Float32Array, thr: number, max: number): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > thr) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return Int32Array.from(idx.length > max ? idx.slice(0, max) : idx);
}

export function nms(args: NmsArgs): Int32Array {
  const { boxes, scores, classes, iouThreshold, scoreThreshold, maxCandidates, maxDetections } = args;
  const order = rankCandidates(scores, scoreThreshold, maxCandidates);
  const kept: number[] = [];
  for (let o = 0; o < order.length && kept.length < maxDetections; o++) {
    const i = order[o]!;
    let suppressed = false;
    for (let k = 0; k < kept.length; k++) {
      const j = kept[k]!;
      if (classes !== null && classes[i] !== classes[j]) continue;
      if (iouF32(boxes, i, boxes, j) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(i);
  }
  return Int32Array.from(kept);
}
