/**
 * Detection post-processing shared by the built-in and custom decoders: the `detect()` options,
 * filtering and NMS of decoder candidates, and mapping stretched-input boxes back to the image.
 * (Letterboxed boxes go back through the `scaleBoxes` op.)
 */
import type { BackendChoice } from '../backends/registry.js';
import { nms } from '../ops/nms.js';
import { checkInteger, checkRange, invalid } from '../validate.js';
import { selectDecoded, type DecodedBoxes } from './decoders/types.js';

/** Options of `Detector.detect` / `detectBatch`. */
export interface DetectOptions {
  /** Confidence threshold: keep `score > conf`. Default 0.4. Range [0, 1]. */
  conf?: number;
  /** NMS IoU threshold: suppress IoU `> iou`. Default 0.45. Range [0, 1]. */
  iou?: number;
  /** Boxes leaving NMS at most. Default 1000. */
  maxDetections?: number;
  /** Boxes entering NMS at most. Default 30000. */
  maxCandidates?: number;
  /** Keep only these class indices. */
  classes?: number[];
  /** Class-agnostic NMS. Default false. */
  agnostic?: boolean;
}

/** {@link DetectOptions} with defaults applied and values checked. */
export interface CheckedDetectOptions {
  conf: number;
  iou: number;
  maxDetections: number;
  maxCandidates: number;
  classes: number[] | undefined;
  agnostic: boolean;
}

/**
 * Apply the defaults (conf 0.4, iou 0.45, maxDetections 1000, maxCandidates 30000) and check each option.
 * @throws InvalidArgumentError naming the option
 */
export function checkDetectOptions(o: DetectOptions): CheckedDetectOptions {
  if (typeof o !== 'object' || o === null) invalid('options', 'an object', o);
  const conf = checkRange('conf', o.conf ?? 0.4, 0, 1);
  const iou = checkRange('iou', o.iou ?? 0.45, 0, 1);
  const maxDetections = checkInteger('maxDetections', o.maxDetections ?? 1000, 1);
  const maxCandidates = checkInteger('maxCandidates', o.maxCandidates ?? 30000, 1);
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes)) invalid('classes', 'an array of class indices', o.classes);
    o.classes.forEach((c, i) => checkInteger(`classes[${i}]`, c, 0));
  }
  if (o.agnostic !== undefined && typeof o.agnostic !== 'boolean') invalid('agnostic', 'a boolean', o.agnostic);
  return { conf, iou, maxDetections, maxCandidates, classes: o.classes, agnostic: o.agnostic ?? false };
}

/**
 * Keep candidates with `score > conf` (and a class in `classes`), then greedy NMS (per class unless
 * `agnostic`; skipped when the decoder set `nms: false`), at most `maxDetections`, in NMS order.
 * @param backend backend of the NMS op
 */
export async function suppressDecoded(
  d: DecodedBoxes,
  o: CheckedDetectOptions,
  backend?: BackendChoice,
): Promise<DecodedBoxes> {
  const keep: number[] = [];
  for (let i = 0; i < d.scores.length; i++) {
    if (d.scores[i]! > o.conf && (!o.classes || o.classes.includes(d.classes[i]!))) keep.push(i);
  }
  let order = keep;
  if (d.nms !== false && keep.length > 0) {
    const sub = selectDecoded(d, keep);
    const { indices } = await nms(sub.boxes, sub.scores, {
      iouThreshold: o.iou,
      classes: o.agnostic ? undefined : sub.classes,
      maxCandidates: o.maxCandidates,
      maxDetections: o.maxDetections,
      backend,
    });
    order = Array.from(indices, (k) => keep[k]!);
  }
  return selectDecoded(d, order.slice(0, o.maxDetections));
}

/**
 * Boxes from a stretched (not letterboxed) input back to the image: `x * sx`, `y * sy`, clipped to
 * `[0, width] x [0, height]`.
 */
export function stretchedToImage(
  boxes: Float32Array,
  sx: number,
  sy: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = Math.min(Math.max(boxes[i]! * sx, 0), width);
    out[i + 1] = Math.min(Math.max(boxes[i + 1]! * sy, 0), height);
    out[i + 2] = Math.min(Math.max(boxes[i + 2]! * sx, 0), width);
    out[i + 3] = Math.min(Math.max(boxes[i + 3]! * sy, 0), height);
  }
  return out;
}
