/**
 * Recall of touching pairs: how often a detector finds *both* of two vesicles that touch, instead of
 * one box around the pair (the DBSCAN baseline's known fault, DESIGN.md §1) or neither.
 *
 * - A **touching pair** is two ground-truth vesicles whose edge-to-edge gap — centre distance minus
 *   both outer radii, the simulator's own definition (`src/sim/cdv.ts`) — is at most `maxGap`
 *   (default {@link TOUCHING_GAP_PX} = 2 px, the threshold behind the simulator's `touching` flag).
 * - Detections are matched one-to-one to ground truth at IoU >= `iouThr` (default 0.5) as
 *   pycocotools matches at one threshold: detections by score descending (stable, equal scores in
 *   input order), each takes the still-unmatched ground truth of highest IoU (on equal IoU the later
 *   one), IoU `inter / (areaA + areaB - inter)` in float64, no +1.
 * - A pair is **recalled** when both of its vesicles are matched; one-to-one matching makes the two
 *   detections distinct. A pair is **merged** when one detection covers at least half of each of the
 *   two ground-truth boxes (intersection / ground-truth area >= 0.5 for both): one box for two vesicles.
 */
import { TOUCHING_GAP_PX } from '../sim/cdvDataset.js';
import { checkBoxes } from '../ops/boxes.js';
import { checkFloat32Array, checkRange, invalid, isFiniteNumber } from '../validate.js';

export { TOUCHING_GAP_PX };

/** A ground-truth vesicle's placement disc (the simulator's `CdvVesicle` has these fields). */
export interface VesicleDisc {
  cx: number;
  cy: number;
  /** Outer radius in pixels. */
  radius: number;
}

/**
 * Pairs of vesicles whose edge-to-edge gap `hypot(dx, dy) - ra - rb` is `<= maxGap`.
 * @param vesicles centre and outer radius per vesicle, in the order of the ground-truth boxes
 * @param maxGap largest gap (px) that counts as touching; default {@link TOUCHING_GAP_PX} (2)
 * @returns `[P*2]` indices `i, j` with `i < j`, ordered by `i` then `j`
 * @throws InvalidArgumentError for a non-array, a non-finite centre or a negative/non-finite radius
 * @example touchingPairs([{ cx: 10, cy: 10, radius: 5 }, { cx: 21, cy: 10, radius: 5 }]) // Int32Array [0, 1] (gap 1)
 */
export function touchingPairs(vesicles: readonly VesicleDisc[], maxGap: number = TOUCHING_GAP_PX): Int32Array {
  if (!Array.isArray(vesicles)) invalid('vesicles', 'an array of { cx, cy, radius }', vesicles);
  if (!isFiniteNumber(maxGap)) invalid('maxGap', 'a finite number', maxGap);
  vesicles.forEach((v, i) => {
    if (!isFiniteNumber(v?.cx) || !isFiniteNumber(v?.cy)) invalid(`vesicles[${i}]`, 'finite cx and cy', v);
    if (!isFiniteNumber(v.radius) || v.radius < 0) invalid(`vesicles[${i}].radius`, 'a finite number >= 0', v.radius);
  });
  const out: number[] = [];
  for (let i = 0; i < vesicles.length; i++) {
    const a = vesicles[i]!;
    for (let j = i + 1; j < vesicles.length; j++) {
      const b = vesicles[j]!;
      if (Math.hypot(a.cx - b.cx, a.cy - b.cy) - a.radius - b.radius <= maxGap) out.push(i, j);
    }
  }
  return Int32Array.from(out);
}

export interface TouchingRecallOptions {
  /** IoU a detection needs to match a ground truth, in [0, 1]; default 0.5. */
  iouThr?: number;
}

export interface TouchingRecallResult {
  /** Number of pairs scored. */
  pairs: number;
  /** Pairs whose two vesicles were both matched (by two distinct detections). */
  recalled: number;
  /** Pairs with one detection covering at least half of each vesicle's box. */
  merged: number;
  /** `recalled / pairs`; NaN when there are no pairs. */
  recall: number;
  /** `[G]` the detection matched to each ground truth, -1 when none. */
  matchOf: Int32Array;
}

function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.min(a[i + 2]!, b[j + 2]!) - Math.max(a[i]!, b[j]!);
  const h = Math.min(a[i + 3]!, b[j + 3]!) - Math.max(a[i + 1]!, b[j + 1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[i + 2]! - a[i]!) * (a[i + 3]! - a[i + 1]!) + (b[j + 2]! - b[j]!) * (b[j + 3]! - b[j + 1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Intersection of box `d` with ground truth `g`, over the ground truth's area (0 for an empty box). */
function coverage(gt: Float32Array, g: number, det: Float32Array, d: number): number {
  const w = Math.min(gt[g + 2]!, det[d + 2]!) - Math.max(gt[g]!, det[d]!);
  const h = Math.min(gt[g + 3]!, det[d + 3]!) - Math.max(gt[g + 1]!, det[d + 1]!);
  const area = (gt[g + 2]! - gt[g]!) * (gt[g + 3]! - gt[g + 1]!);
  return w > 0 && h > 0 && area > 0 ? (w * h) / area : 0;
}

/**
 * Recall of touching pairs for one image (see the module comment for the exact rules).
 * @param gtBoxes `[G*4]` ground-truth `x1,y1,x2,y2`
 * @param pairs `[P*2]` ground-truth index pairs, e.g. from {@link touchingPairs}
 * @param detBoxes `[D*4]` detections `x1,y1,x2,y2`, in the same pixel frame
 * @param scores `[D]` detection scores (matching order); omitted: all equal, so input order
 * @param options `iouThr` (0.5)
 * @returns pairs, recalled, merged, recall (NaN without pairs) and each ground truth's match
 * @throws InvalidArgumentError for malformed boxes, a pair index out of range or a bad `iouThr`
 * @example
 *   const pairs = touchingPairs(vesicles);
 *   const { recall, merged } = touchingPairRecall(gtBoxes, pairs, det.boxes, det.scores);
 */
export function touchingPairRecall(
  gtBoxes: Float32Array,
  pairs: Int32Array,
  detBoxes: Float32Array,
  scores?: Float32Array,
  options: TouchingRecallOptions = {},
): TouchingRecallResult {
  const G = checkBoxes('gtBoxes', gtBoxes);
  const D = checkBoxes('detBoxes', detBoxes);
  if (!(pairs instanceof Int32Array) || pairs.length % 2 !== 0)
    invalid('pairs', 'an Int32Array of even length (i, j per pair)', pairs);
  for (let k = 0; k < pairs.length; k++)
    if (pairs[k]! < 0 || pairs[k]! >= G) invalid(`pairs[${k}]`, `a ground-truth index in 0..${G - 1}`, pairs[k]);
  if (scores !== undefined) checkFloat32Array('scores', scores, D);
  const iouThr = checkRange('iouThr', options.iouThr ?? 0.5, 0, 1);

  const order = Array.from({ length: D }, (_, d) => d);
  if (scores) order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const matchOf = new Int32Array(G).fill(-1);
  for (const d of order) {
    let best = -1;
    let bestIou = Math.min(iouThr, 1 - 1e-10);
    for (let g = 0; g < G; g++) {
      if (matchOf[g] !== -1) continue;
      const v = iou(detBoxes, d * 4, gtBoxes, g * 4);
      if (v >= bestIou) {
        bestIou = v;
        best = g;
      }
    }
    if (best >= 0) matchOf[best] = d;
  }

  let recalled = 0;
  let merged = 0;
  const P = pairs.length / 2;
  for (let k = 0; k < P; k++) {
    const i = pairs[2 * k]!;
    const j = pairs[2 * k + 1]!;
    if (matchOf[i] !== -1 && matchOf[j] !== -1) recalled++;
    for (let d = 0; d < D; d++) {
      if (coverage(gtBoxes, i * 4, detBoxes, d * 4) >= 0.5 && coverage(gtBoxes, j * 4, detBoxes, d * 4) >= 0.5) {
        merged++;
        break;
      }
    }
  }
  return { pairs: P, recalled, merged, recall: P > 0 ? recalled / P : NaN, matchOf };
}
