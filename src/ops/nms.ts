/**
 * Greedy non-maximum suppression over boxes with scores (and optional classes).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkAllFinite, checkFloat32Array, checkInteger, checkNotShared, checkRange, invalid } from '../validate.js';
import { checkBoxes } from './boxes.js';
import { checkDeviceTensor, isDeviceTensor, type DeviceTensor } from './deviceTensor.js';

export interface NmsArgs {
  boxes: Float32Array;
  scores: Float32Array;
  /** Class per box; null = class-agnostic. */
  classes: Int32Array | null;
  iouThreshold: number;
  /** Keep `score > scoreThreshold` (YOLOv5's rule); -Infinity keeps all. */
  scoreThreshold: number;
  maxCandidates: number;
  maxDetections: number;
  /**
   * Boxes and scores on a device instead of `boxes`/`scores` (which are then empty): only the kernel of
   * the backend that holds them reads them, and `nms()` sends such calls there.
   */
  device?: { boxes: DeviceTensor; scores: DeviceTensor };
}

export interface NmsOptions {
  /** Suppress a box whose IoU with a kept box is `> iouThreshold`. Default 0.45. Range [0, 1]. */
  iouThreshold?: number;
  /** Only boxes with `score > scoreThreshold` are candidates. Default: all (-Infinity). */
  scoreThreshold?: number;
  /** Class index per box; boxes of different classes never suppress each other. Omit for class-agnostic NMS. */
  classes?: Int32Array;
  /** At most this many highest-scoring candidates enter NMS. Default: all. */
  maxCandidates?: number;
  /** At most this many boxes are kept. Default: all. */
  maxDetections?: number;
  backend?: BackendChoice;
}

export interface NmsResult extends Ran {
  /** Indices of kept boxes, in visiting order (score descending, equal scores lower index first). */
  indices: Int32Array;
}

/** Validates and normalises NMS arguments into the kernel's argument object. */
export function nmsArgs(
  boxes: Float32Array | DeviceTensor,
  scores: Float32Array | DeviceTensor,
  options: NmsOptions,
): NmsArgs {
  let device: NmsArgs['device'];
  let n: number;
  if (isDeviceTensor(boxes) || isDeviceTensor(scores)) {
    if (!isDeviceTensor(boxes) || !isDeviceTensor(scores))
      invalid('boxes', 'boxes and scores both on the device, or both on the host', boxes);
    n = checkDeviceTensor('scores', scores).length;
    device = { boxes: checkDeviceTensor('boxes', boxes, 4 * n), scores };
    boxes = new Float32Array(0); // device values are not checked for NaN here (NaN never passes a > test)
    scores = boxes;
  } else {
    n = checkBoxes('boxes', boxes);
    checkFloat32Array('scores', scores, n);
    checkAllFinite('scores', scores);
  }
  const iouThreshold = checkRange('iouThreshold', options.iouThreshold ?? 0.45, 0, 1);
  const scoreThreshold = options.scoreThreshold ?? -Infinity;
  if (typeof scoreThreshold !== 'number' || Number.isNaN(scoreThreshold))
    invalid('scoreThreshold', 'a number', scoreThreshold);
  const maxCandidates = checkInteger('maxCandidates', options.maxCandidates ?? n, 0);
  const maxDetections = checkInteger('maxDetections', options.maxDetections ?? n, 0);
  let classes: Int32Array | null = null;
  if (options.classes !== undefined) {
    if (!(options.classes instanceof Int32Array) || options.classes.length !== n) {
      throw new InvalidArgumentError('classes', `Expected an Int32Array of length ${n} for classes`);
    }
    checkNotShared('classes', options.classes);
    classes = options.classes;
  }
  return {
    boxes,
    scores,
    classes,
    iouThreshold,
    scoreThreshold,
    maxCandidates,
    maxDetections,
    ...(device && { device }),
  };
}

/**
 * Greedy NMS (torchvision semantics, float32 IoU, `iou > threshold` suppresses).
 * @param boxes `[N*4]` x1,y1,x2,y2 (finite, x2 >= x1, y2 >= y1), or a DeviceTensor (webgpu or cuda; with
 *   `scores` one on the same device: the op runs there)
 * @param scores `[N]` finite, or a DeviceTensor
 * @throws InvalidArgumentError on wrong lengths, NaN, thresholds out of range
 * @example const { indices } = await nms(boxes, scores, { iouThreshold: 0.5, classes });
 */
export async function nms(
  boxes: Float32Array | DeviceTensor,
  scores: Float32Array | DeviceTensor,
  options: NmsOptions = {},
): Promise<NmsResult> {
  const args = nmsArgs(boxes, scores, options);
  let choice = options.backend;
  if (args.device) {
    const where = args.device.boxes.location;
    if (args.device.scores.location !== where)
      invalid('scores', `a device tensor on ${where}, where the boxes are`, args.device.scores.location);
    if (choice !== undefined && choice !== where)
      invalid('backend', `${where} (or none) for ${where} device tensors`, choice);
    choice = where;
  }
  const { result, backend } = await dispatch('nms', args, choice, scores.length);
  return { indices: result, backend };
}
