/**
 * Dice, as the hand-bone competition scores it: per image per class
 * `(2·|A∩B| + eps) / (|A| + |B| + eps)` with `eps = 1e-4`, averaged over images, then over classes.
 * `emptyScore` replaces the smoothing: `2·|A∩B| / (|A| + |B|)`, and `emptyScore` when both are empty.
 * Scores are computed in float64 from integer pixel counts (identical on every backend).
 *
 * Three inputs: decoded masks (`dice`), two run lists (`rleDice`), two submission CSVs (`diceFromCsv`,
 * computed on runs without decoding a mask).
 */
import { ensureBackends } from '../backends/index.js';
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import type { DiceArgs } from '../backends/js/dice.js';
import { InvalidArgumentError, ParseError } from '../errors.js';
import {
  readSubmissionCsv,
  readSubmissionRows,
  submissionKey,
  type CsvInput,
  type SubmissionRecord,
} from '../io/submissionCsv.js';
import { checkInteger, checkRange, checkUint8Array, invalid, isFiniteNumber } from '../validate.js';
import { checkShape, overlapOf, parseRle, rleOverlap, type MaskShape } from './rle.js';

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
  ensureBackends();
  const args: DiceArgs = { pred: p, truth: t, classes, pixels };
  const { result, backend } = await dispatch<DiceArgs, Float64Array>(
    'dice',
    args,
    options.backend,
    p.length * classes * pixels,
  );
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

function mean(a: ArrayLike<number>): number {
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

export interface CsvDiceOptions extends DiceOptions {
  /** Image height the RLE starts are checked against. Default 2048. */
  height?: number;
  /** Default 2048. */
  width?: number;
}

export interface CsvDiceResult extends Ran {
  /** Classes in the order they first appear in the truth CSV. */
  classes: string[];
  /** Mean over images, per class (same order as `classes`). */
  perClass: Float64Array;
  /** Images scored per class. */
  imagesPerClass: Int32Array;
  /** Mean of `perClass`. */
  mean: number;
  /** Images, in the order they first appear in the truth CSV. */
  images: string[];
  /** One score per matched row, in the order of the pred CSV. */
  rows: { image_name: string; class: string; dice: number }[];
}

const BATCH = 2048;

/**
 * Dice between a predicted and a true submission CSV, computed on runs (no mask is decoded). Rows are
 * matched by `(image_name, class)` in any order; the truth CSV is held in memory, the pred CSV streamed.
 * @throws ParseError naming the file and line of: a malformed CSV or RLE, a duplicate row, a pred row
 *   with no truth row, or a truth row with no pred row
 * @example const { perClass, mean } = await diceFromCsv('pred.csv', 'truth.csv');
 */
export async function diceFromCsv(
  pred: CsvInput,
  truth: CsvInput,
  options: CsvDiceOptions = {},
): Promise<CsvDiceResult> {
  const shape = { height: options.height ?? 2048, width: options.width ?? 2048 };
  const pixels = checkShape(shape);
  const rule = diceRule(options);
  const predName = typeof pred === 'string' ? pred : (pred.name ?? 'pred');
  const truthName = typeof truth === 'string' ? truth : (truth.name ?? 'truth');
  const tp = typeof truth === 'string' ? truth : { text: truth.text, name: truthName };
  const pp = typeof pred === 'string' ? pred : { text: pred.text, name: predName };

  const truthRows = new Map<string, SubmissionRecord | null>(); // null once matched
  const classIndex = new Map<string, number>();
  const images = new Set<string>();
  for (const r of await readSubmissionCsv(tp)) {
    const k = submissionKey(r.image_name, r.class);
    const prev = truthRows.get(k);
    if (prev)
      throw new ParseError(
        truthName,
        `duplicate row for image '${r.image_name}', class '${r.class}' (first at line ${prev.line})`,
        r.line,
      );
    truthRows.set(k, r);
    if (!classIndex.has(r.class)) classIndex.set(r.class, classIndex.size);
    images.add(r.image_name);
  }

  const sums = new Float64Array(classIndex.size);
  const n = new Int32Array(classIndex.size);
  const rows: CsvDiceResult['rows'] = [];
  const seen = new Map<string, number>();
  let backend: Ran['backend'] = 'js';
  let a: Uint32Array[] = [],
    b: Uint32Array[] = [];
  const flush = async () => {
    if (a.length === 0) return;
    const r = await rleOverlap(a, b, options);
    backend = r.backend;
    const first = rows.length - a.length;
    for (let k = 0; k < a.length; k++) {
      const row = rows[first + k]!;
      row.dice = diceScore(r.counts[3 * k]!, r.counts[3 * k + 1]!, r.counts[3 * k + 2]!, rule);
      const c = classIndex.get(row.class)!;
      sums[c]! += row.dice;
      n[c]!++;
    }
    a = [];
    b = [];
  };
  for await (const r of readSubmissionRows(pp)) {
    const k = submissionKey(r.image_name, r.class);
    const firstLine = seen.get(k);
    if (firstLine !== undefined)
      throw new ParseError(
        predName,
        `duplicate row for image '${r.image_name}', class '${r.class}' (first at line ${firstLine})`,
        r.line,
      );
    seen.set(k, r.line);
    const t = truthRows.get(k);
    if (!t)
      throw new ParseError(
        predName,
        `row for image '${r.image_name}', class '${r.class}' has no matching row in ${truthName}`,
        r.line,
      );
    truthRows.set(k, null);
    a.push(parseRle(r.rle, pixels, predName, r.line));
    b.push(parseRle(t.rle, pixels, truthName, t.line));
    rows.push({ image_name: r.image_name, class: r.class, dice: NaN });
    if (a.length >= BATCH) await flush();
  }
  await flush();
  let missing: SubmissionRecord | null = null,
    nMissing = 0;
  for (const t of truthRows.values()) if (t) ((missing ??= t), nMissing++);
  if (missing) {
    const more = nMissing > 1 ? ` (and ${nMissing - 1} more truth rows)` : '';
    throw new ParseError(
      truthName,
      `row for image '${missing.image_name}', class '${missing.class}' has no matching row in ${predName}${more}`,
      missing.line,
    );
  }
  const perClass = sums.map((s, c) => s / n[c]!);
  return {
    classes: [...classIndex.keys()],
    perClass,
    imagesPerClass: n,
    mean: mean(perClass),
    images: [...images],
    rows,
    backend,
  };
}
