/**
 * Weighted boxes fusion (WBF, Solovyev et al. 2021; ensemble_boxes' algorithm): fuse the detections of
 * several models (or flips, or tiles) into boxes whose coordinates are the score-weighted mean of each
 * cluster's members.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkAllFinite, checkFloat32Array, checkOneOf, checkRange, invalid, isFiniteNumber } from '../validate.js';
import { checkBoxes } from './boxes.js';

export type WbfConfType = 'avg' | 'max';

export interface WbfArgs {
  /** All models' boxes concatenated, `[N*4]`. */
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  /** Model index of each box (0..M-1). */
  models: Int32Array;
  /** Weight per model, `[M]`, positive. */
  weights: Float64Array;
  iouThreshold: number;
  skipBoxThreshold: number;
  confType: WbfConfType;
  allowsOverflow: boolean;
}

export interface WbfOutput {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  /** Boxes fused into each output box. */
  counts: Int32Array;
}

/** One model's detections. */
export interface WbfInput {
  boxes: Float32Array;
  scores: Float32Array;
  /** Class per box; default all 0. */
  classes?: Int32Array;
}

export interface WbfOptions {
  /** Weight per model (> 0). Default all 1. */
  weights?: readonly number[];
  /** A box joins a cluster when its IoU with the fused box is `> iouThreshold`. Default 0.55 (ensemble_boxes'). */
  iouThreshold?: number;
  /** Boxes with `score < skipBoxThreshold` are left out. Default 0. */
  skipBoxThreshold?: number;
  /** Fused score: `'avg'` (default) mean weighted score, rescaled by min(models, boxes) / Σweights; `'max'`. */
  confType?: WbfConfType;
  /** `avg` only: rescale by boxes / Σweights (a score can exceed 1). Default false. */
  allowsOverflow?: boolean;
  backend?: BackendChoice;
}

export interface WbfResult extends WbfOutput, Ran {}

/** Validates the per-model inputs and options into the kernel's argument object (inputs concatenated). */
export function wbfArgs(inputs: readonly WbfInput[], options: WbfOptions): WbfArgs {
  if (!Array.isArray(inputs) || inputs.length === 0)
    invalid('inputs', 'a non-empty array of { boxes, scores, classes? } (one per model)', inputs);
  let n = 0;
  const counts = inputs.map((m, k) => {
    if (m === null || typeof m !== 'object') invalid(`inputs[${k}]`, 'an object { boxes, scores, classes? }', m);
    const c = checkBoxes(`inputs[${k}].boxes`, m.boxes);
    checkFloat32Array(`inputs[${k}].scores`, m.scores, c);
    checkAllFinite(`inputs[${k}].scores`, m.scores);
    if (m.classes !== undefined && (!(m.classes instanceof Int32Array) || m.classes.length !== c))
      throw new InvalidArgumentError(
        `inputs[${k}].classes`,
        `Expected an Int32Array of length ${c} for inputs[${k}].classes`,
      );
    n += c;
    return c;
  });
  const weights = new Float64Array(inputs.length).fill(1);
  if (options.weights !== undefined) {
    if (!Array.isArray(options.weights) || options.weights.length !== inputs.length)
      invalid('weights', `an array of ${inputs.length} weights (one per model)`, options.weights);
    options.weights.forEach((w, k) => {
      if (!isFiniteNumber(w) || w <= 0) invalid(`weights[${k}]`, 'a finite number > 0', w);
      weights[k] = w;
    });
  }
  const boxes = new Float32Array(4 * n),
    scores = new Float32Array(n),
    classes = new Int32Array(n),
    models = new Int32Array(n);
  let o = 0;
  inputs.forEach((m, k) => {
    boxes.set(m.boxes, 4 * o);
    scores.set(m.scores, o);
    if (m.classes) classes.set(m.classes, o);
    models.fill(k, o, o + counts[k]!);
    o += counts[k]!;
  });
  const skip = options.skipBoxThreshold ?? 0;
  if (typeof skip !== 'number' || Number.isNaN(skip)) invalid('skipBoxThreshold', 'a number', skip);
  return {
    boxes,
    scores,
    classes,
    models,
    weights,
    iouThreshold: checkRange('iouThreshold', options.iouThreshold ?? 0.55, 0, 1),
    skipBoxThreshold: skip,
    confType: checkOneOf('confType', options.confType ?? 'avg', ['avg', 'max'] as const),
    allowsOverflow: options.allowsOverflow === true,
  };
}

/**
 * Weighted boxes fusion over several models' detections (ensemble_boxes' `weighted_boxes_fusion`,
 * deterministic ties, any coordinate units): per class, boxes by weighted score join the fused box
 * they overlap most (IoU > `iouThreshold`) or start a new one; fused coordinates are the
 * score-weighted mean, the score the mean weighted score rescaled by how many models agree.
 * @param inputs one `{ boxes, scores, classes? }` per model (boxes `[N*4]` x1,y1,x2,y2)
 * @returns fused boxes by score descending, their scores, classes, and members per box
 * @throws InvalidArgumentError on wrong lengths, NaN, bad weights or options
 * @example const fused = await weightedBoxesFusion([a, b], { weights: [2, 1], iouThreshold: 0.55 });
 */
export async function weightedBoxesFusion(inputs: readonly WbfInput[], options: WbfOptions = {}): Promise<WbfResult> {
  const args = wbfArgs(inputs, options);
  const { result, backend } = await dispatch('wbf', args, options.backend, args.scores.length);
  return { ...result, backend };
}
