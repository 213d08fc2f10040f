/**
 * Soft-NMS (linear or Gaussian score decay instead of removal), the contract of `nms`.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import {
  checkAllFinite,
  checkFloat32Array,
  checkInteger,
  checkOneOf,
  checkPositive,
  checkRange,
  invalid,
} from '../validate.js';
import { checkBoxes } from './boxes.js';
import { checkClasses, checkScoreThreshold } from './nmm.js';

export type SoftNmsMethod = 'linear' | 'gaussian' | 'hard';

export interface SoftNmsArgs {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array | null;
  method: SoftNmsMethod;
  iouThreshold: number;
  sigma: number;
  scoreThreshold: number;
  maxDetections: number;
}

export interface SoftNmsOutput {
  /** Kept boxes in the order they were taken. */
  indices: Int32Array;
  /** Their decayed scores at the time they were taken (float32). */
  scores: Float32Array;
}

export interface SoftNmsOptions {
  /** `'linear'` (default): `s *= 1 - iou` above `iouThreshold`; `'gaussian'`: `s *= exp(-iou² / sigma)`; `'hard'`: greedy NMS. */
  method?: SoftNmsMethod;
  /** IoU above which `linear` / `hard` decay a score. Default 0.3 (Bodla et al.). Range [0, 1]. */
  iouThreshold?: number;
  /** Gaussian width. Default 0.5. > 0. */
  sigma?: number;
  /** A box is dropped once its decayed score is no longer `> scoreThreshold`. Default 0.001. */
  scoreThreshold?: number;
  /** Class per box: boxes of different classes never decay each other. Omit for class-agnostic. */
  classes?: Int32Array;
  /** At most this many boxes are kept. Default: all. */
  maxDetections?: number;
  backend?: BackendChoice;
}

export interface SoftNmsResult extends SoftNmsOutput, Ran {}

/** Validates and normalises soft-NMS arguments into the kernel's argument object. */
export function softNmsArgs(boxes: Float32Array, scores: Float32Array, options: SoftNmsOptions): SoftNmsArgs {
  const n = checkBoxes('boxes', boxes);
  checkFloat32Array('scores', scores, n);
  checkAllFinite('scores', scores);
  return {
    boxes,
    scores,
    classes: checkClasses(options.classes, n),
    method: checkOneOf('method', options.method ?? 'linear', ['linear', 'gaussian', 'hard'] as const),
    iouThreshold: checkRange('iouThreshold', options.iouThreshold ?? 0.3, 0, 1),
    sigma: checkPositive('sigma', options.sigma ?? 0.5),
    scoreThreshold: checkScoreThreshold(options.scoreThreshold, 0.001),
    maxDetections: checkInteger('maxDetections', options.maxDetections ?? n, 0),
  };
}

/**
 * Soft-NMS (Bodla et al. 2017): take the box with the highest current score (equal: lower index),
 * decay the others of its class by their float32 IoU with it, repeat; drop boxes whose score falls to
 * `scoreThreshold` or below. Keeps overlapping true objects (touching vesicles) that greedy NMS removes.
 * @param boxes `[N*4]` x1,y1,x2,y2 (finite, x2 >= x1, y2 >= y1)
 * @param scores `[N]` finite
 * @returns kept indices in the order taken and their decayed scores
 * @throws InvalidArgumentError on wrong lengths, NaN, options out of range
 * @example const { indices, scores: s } = await softNms(boxes, scores, { method: 'gaussian', sigma: 0.5 });
 */
export async function softNms(
  boxes: Float32Array,
  scores: Float32Array,
  options: SoftNmsOptions = {},
): Promise<SoftNmsResult> {
  const args = softNmsArgs(boxes, scores, options);
  const { result, backend } = await dispatch('softNms', args, options.backend, scores.length);
  return { ...result, backend };
}
