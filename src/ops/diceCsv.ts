/**
 * Dice between two submission CSVs (`image_name,class,rle`), computed on runs without decoding a mask
 * (the third input of ./dice.ts; Node only, since it reads files through src/io/submissionCsv.ts).
 */
import type { Ran } from '../backends/registry.js';
import { ParseError } from '../errors.js';
import {
  readSubmissionCsv,
  readSubmissionRows,
  submissionKey,
  type CsvInput,
  type SubmissionRecord,
} from '../io/submissionCsv.js';
import { diceRule, diceScore, mean, type DiceOptions } from './dice.js';
import { checkShape, parseRle, rleOverlap } from './rle.js';

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
