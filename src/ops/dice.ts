/**
 * Dice, as the hand-bone competition scores it: per image per class
 * `(2·|A∩B| + eps) / (|A| + |B| + eps)` with `eps = 1e-4`, averaged over images, then over classes.
 * `emptyScore` replaces the smoothing: `2·|A∩B| / (|A| + |B|)`, and `emptyScore` when both are empty.
 * Scores are computed in float64 from integer pixel counts (identical on every backend).
 *
 * Three inputs: decoded masks (`dice`), two run lists (`rleDice`), two submission CSVs (`diceFromCsv` in
 * ./diceCsv.ts, Node only: computed on runs without decoding a mask).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { checkInteger, checkNotShared, checkRange, checkUint8Array, invalid, isFiniteNumber } from '../validate.js';
import { checkShape, overlapOf, parseRle, rleOverlap, type MaskShape } from './rle.js';

export interface DiceArgs {
  /** One `[C, H, W]` mask per image. */
  pred: readonly Uint8Array[];
  truth: readonly Uint8Array[];
  classes: number;
  /** `H * W`. */
  pixels: number;
}

export interface DiceScoreOptions {
  /** Smoothing added to numerator and denominator. Default 1e-4 (the competition's). Must be > 0. */
  eps?: number;
  /** Instead of smoothing: the score of a pair of empty masks, in [0, 1] (no eps then). */
  emptyScore?: number;
}

export interface DiceOptions extends DiceScoreOptions {
  backend?: BackendChoice;
}

/** Normalised scoring rule: `eps` (0 when `emptyScore` is set) and `emptyScore` (NaN when smoothing). */
export interface DiceRule {
  eps: number;
  emptyScore: number;
}

/** Validates the scoring options. */
export function diceRule(options: DiceScoreOptions = {}): DiceRule {
  if (options.emptyScore !== undefined) {
    if (options.eps !== undefined)
      throw new InvalidArgumentError('eps', 'emptyScore replaces the eps smoothing: pass eps or emptyScore, not both');
    return { eps: 0, emptyScore: checkRange('emptyScore', options.emptyScore, 0, 1) };
  }
  const eps = options.eps ?? 1e-4;
  if (!isFiniteNumber(eps) || eps <= 0) invalid('eps', 'a finite number > 0 (or set emptyScore)', eps);
  return { eps, emptyScore: NaN };
}

/** Dice of one pair from its pixel counts. */
export function diceScore(
  intersection: number,
  areaA: number,
  areaB: number,
  rule: DiceRule = { eps: 1e-4, emptyScore: NaN },
): number {
  const den = areaA + areaB;
  if (rule.eps === 0 && den === 0) return rule.emptyScore;
  return (2 * intersection + rule.eps) / (den + rule.eps);
}

export interface MaskDiceShape extends MaskShape {
  /** Channels per image (29 for hand-bone). */
  classes: number;
}

export interface DiceResult extends Ran {
  /** `[images, classes]` row-major. */
  perImage: Float64Array;
  /** Mean over images, per class (NaN when there are no images). */
  perClass: Float64Array;
  /** Mean of `perClass`. */
  mean: number;
  /** `[images, classes, 3]`: intersection, |pred|, |truth| (pixel counts). */
  counts: Float64Array;
  images: number;
  classes: number;
}

function splitImages(name: string, m: Uint8Array | readonly Uint8Array[], per: number): Uint8Array[] {
  if (m instanceof Uint8Array) {
    checkNotShared(name, m);
    if (per === 0 ? m.length !== 0 : m.length % per !== 0)
      invalid(name, `a Uint8Array whose length is a multiple of classes * height * width = ${per}`, m);
    const n = per === 0 ? 0 : m.length / per;
    return Array.from({ length: n }, (_, i) => m.subarray(i * per, (i + 1) * per));
  }
  if (!Array.isArray(m)) invalid(name, 'a Uint8Array or an array of Uint8Array (one [C, H, W] mask per image)', m);
  return m.map((x, i) => checkUint8Array(`${name}[${i}]`, x, per));
}

/**
 * Dice of predicted vs true masks, per image per class.
 * @param pred `[N, C, H, W]` as one Uint8Array, or N Uint8Arrays of `[C, H, W]`; non-zero = 1
 * @param truth same layout and size as `pred`
 * @throws InvalidArgumentError on mismatched sizes or bad options
 * @example const { perClass, mean } = await dice(predMasks, trueMasks, { classes: 29, height: 2048, width: 2048 });
 */
export async function dice(
  pred: Uint8Array | readonly Uint8Array[],
  truth: Uint8Array | readonly Uint8Array[],
  shape: MaskDiceShape,
  options: DiceOptions = {},
): Promise<DiceResult> {
  const pixels = checkShape(shape);
  const classes = checkInteger('classes', shape.classes, 0);
  const rule = diceRule(options);
  const p = splitImages('pred', pred, classes * pixels);
  const t = splitImages('truth', truth, classes * pixels);
  if (p.length !== t.length)
    throw new InvalidArgumentError(
      'truth',
      `Expected ${p.length} images for truth (as many as pred) but received ${t.length}`,
    );
  const args: DiceArgs = { pred: p, truth: t, classes, pixels };
  const { result, backend } = await dispatch('dice', args, options.backend, p.length * classes * pixels);
  return { ...summarize(result, p.length, classes, rule), counts: result, backend };
}

/** Per-image scores, per-class means over images and their mean, from `[images, classes, 3]` counts. */
export function summarize(counts: Float64Array, images: number, classes: number, rule: DiceRule) {
  const perImage = new Float64Array(images * classes);
  const perClass = new Float64Array(classes);
  for (let k = 0; k < images * classes; k++) {
    perImage[k] = diceScore(counts[3 * k]!, counts[3 * k + 1]!, counts[3 * k + 2]!, rule);
    perClass[k % classes]! += perImage[k]!;
  }
  for (let c = 0; c < classes; c++) perClass[c] = perClass[c]! / images;
  return { perImage, perClass, mean: mean(perClass), images, classes };
}

/** Arithmetic mean. */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/**
 * Dice of two masks given as runs (or RLE strings with `height`/`width`), without decoding.
 * @example const { dice } = await rleDice('1 3', '2 3', { height: 1, width: 5 }); // (4 + 1e-4) / (6 + 1e-4)
 */
export async function rleDice(
  a: Uint32Array | string,
  b: Uint32Array | string,
  options: Partial<MaskShape> & DiceOptions = {},
): Promise<Ran & { dice: number; intersection: number; areaA: number; areaB: number }> {
  const rule = diceRule(options);
  const o = await overlapOf(a, b, options);
  return { dice: diceScore(o.intersection, o.areaA, o.areaB, rule), ...o };
}
