/**
 * Non-maximum merging (NMM, as SAHI merges sliced predictions): instead of dropping a box that matches
 * a higher-scoring one, grow the higher one to cover it.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkAllFinite, checkFloat32Array, checkInteger, checkOneOf, checkRange, invalid } from '../validate.js';
import { checkBoxes } from './boxes.js';

export type MatchMetric = 'iou' | 'ios';

export interface NmmArgs {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array | null;
  metric: MatchMetric;
  matchThreshold: number;
  scoreThreshold: number;
  maxDetections: number;
}

export interface NmmOutput {
  /** Keeper of each merged box, in visiting order. */
  indices: Int32Array;
  /** `[K*4]` merged boxes. */
  boxes: Float32Array;
  /** `[N]` per input box: the output position (0..K-1) it was merged into, or -1 (below the score threshold, or past maxDetections). */
  groups: Int32Array;
}

export interface NmmOptions {
  /** `'ios'` (default, SAHI's): intersection over the smaller box; `'iou'`. */
  metric?: MatchMetric;
  /** Merge when the metric is `> matchThreshold`. Default 0.5. Range [0, 1]. */
  matchThreshold?: number;
  /** Only boxes with `score > scoreThreshold` take part. Default: all. */
  scoreThreshold?: number;
  /** Class per box; boxes of different classes never merge. Omit for class-agnostic. */
  classes?: Int32Array;
  /** At most this many merged boxes. Default: all. */
  maxDetections?: number;
  backend?: BackendChoice;
}

export interface NmmResult extends NmmOutput, Ran {
  /** Keeper's score per merged box (the highest of its members). */
  scores: Float32Array;
}

/** `classes` option: undefined -> null, else an Int32Array of length n. */
export function checkClasses(classes: unknown, n: number): Int32Array | null {
  if (classes === undefined) return null;
  if (!(classes instanceof Int32Array) || classes.length !== n)
    throw new InvalidArgumentError('classes', `Expected an Int32Array of length ${n} for classes`);
  return classes;
}

/** `scoreThreshold` option: any number but NaN (±Infinity allowed), `fallback` when undefined. */
export function checkScoreThreshold(v: unknown, fallback: number): number {
  const t = v ?? fallback;
  if (typeof t !== 'number' || Number.isNaN(t)) invalid('scoreThreshold', 'a number', t);
  return t;
}

/** Validates and normalises NMM arguments into the kernel's argument object. */
export function nmmArgs(boxes: Float32Array, scores: Float32Array, options: NmmOptions): NmmArgs {
  const n = checkBoxes('boxes', boxes);
  checkFloat32Array('scores', scores, n);
  checkAllFinite('scores', scores);
  const scoreThreshold = checkScoreThreshold(options.scoreThreshold, -Infinity);
  return {
    boxes,
    scores,
    classes: checkClasses(options.classes, n),
    metric: checkOneOf('metric', options.metric ?? 'ios', ['iou', 'ios'] as const),
    matchThreshold: checkRange('matchThreshold', options.matchThreshold ?? 0.5, 0, 1),
    scoreThreshold,
    maxDetections: checkInteger('maxDetections', options.maxDetections ?? n, 0),
  };
}

/**
 * Greedy non-maximum merging: by score descending (equal: lower index first), each box not yet merged
 * keeps its place and absorbs every later unmerged box of its class whose IoS (or IoU) with it is
 * `> matchThreshold`; the output box is the union of the members, with the keeper's score and class.
 * Used to join detections of one object cut by tile seams.
 * @param boxes `[N*4]` x1,y1,x2,y2 (finite, x2 >= x1, y2 >= y1)
 * @param scores `[N]` finite
 * @returns keepers' indices, merged boxes, their scores, and the group of every input box
 * @throws InvalidArgumentError on wrong lengths, NaN, options out of range
 * @example const { boxes: merged, scores: s } = await nmm(boxes, scores, { metric: 'ios', matchThreshold: 0.5 });
 */
export async function nmm(boxes: Float32Array, scores: Float32Array, options: NmmOptions = {}): Promise<NmmResult> {
  const args = nmmArgs(boxes, scores, options);
  const { result, backend } = await dispatch('nmm', args, options.backend, scores.length);
  const s = new Float32Array(result.indices.length);
  result.indices.forEach((i, k) => (s[k] = scores[i]!));
  return { ...result, scores: s, backend };
}
