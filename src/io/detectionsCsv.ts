/**
 * The vesicle lab's detections CSV (DESIGN.md section 1), reproduced exactly.
 *
 * Header `x_center,y_center,width,height,confidence,area`, one row per detection in NMS output order.
 * The rule, applied to the un-letterboxed xyxy boxes in original pixels:
 * 1. clip x to `[0, width]` and y to `[0, height]` of the image (YOLOv5 `clip_boxes`; a no-op for boxes
 *    that the detector already clipped);
 * 2. round every coordinate to an integer, halves to even (Python `round`, torch `round`);
 * 3. `width = x2 - x1`, `height = y2 - y1`, `x_center = trunc(x1 + width / 2)`,
 *    `y_center = trunc(y1 + height / 2)`, `area = width * height`.
 *
 * `confidence` is written as Python prints `float(score)` for a float32 score (`conf.item()` in the lab's
 * script): the shortest decimal that round-trips the float32 value widened to float64, in Python's repr
 * layout — `0.8999999761581421` for float32 0.9, `1.0` for 1, `9.999999747378752e-06` for 1e-5. This is
 * what pandas/`csv` write for those Python floats. Checked against `scripts/goldens/detections_csv.py`.
 *
 * Files: one per image, `<image basename without extension>_result.csv` ({@link resultCsvName}), or one
 * combined CSV with a leading `image` column ({@link COMBINED_DETECTIONS_CSV_HEADER}).
 */
import { ParseError } from '../errors.js';
import { checkFloat32Array, invalid } from '../validate.js';

/** The lab's header, without a trailing newline. */
export const DETECTIONS_CSV_HEADER = 'x_center,y_center,width,height,confidence,area';
/** Header of the combined (all images in one file) variant: a leading `image` column. */
export const COMBINED_DETECTIONS_CSV_HEADER = `image,${DETECTIONS_CSV_HEADER}`;

/** One CSV row: integer pixels except `confidence` (the float32 score, as a number). */
export interface DetectionCsvRow {
  x_center: number;
  y_center: number;
  width: number;
  height: number;
  confidence: number;
  area: number;
}

/** Image size used to clip boxes before rounding. Omit to skip clipping (boxes already clipped). */
export interface DetectionsCsvOptions {
  width?: number;
  height?: number;
}

/**
 * Round to the nearest integer, exact halves to the even neighbour (Python 3 `round(x)`, numpy/torch
 * `round`). `roundHalfEven(2.5) === 2`, `roundHalfEven(3.5) === 4`, `roundHalfEven(-0.5) === 0`.
 * Non-finite values are returned unchanged.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f; // exact for doubles
  let r: number;
  if (d < 0.5) r = f;
  else if (d > 0.5) r = f + 1;
  else r = f % 2 === 0 ? f : f + 1;
  return r === 0 ? 0 : r; // no -0
}

/**
 * Format a number as Python's `repr(float)` / `str(float)` does: shortest round-trip digits, fixed
 * notation for decimal exponents -4..15 with at least one fractional digit (`1.0`), otherwise
 * `d.ddde±XX` with at least two exponent digits (`1e-05`, `1.5e+16`); `nan`, `inf`, `-inf`.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip (ECMA-262 Number::toString).
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential());
  if (!m) throw new Error(`unexpected toExponential output for ${x}`); // unreachable for finite x
  const digits = m[1]! + (m[2] ?? '');
  const exp = Number(m[3]);
  if (exp < -4 || exp >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/**
 * Apply the lab's rule to boxes (`x1,y1,x2,y2` per box, original pixels) and scores, keeping their order.
 * Scores are taken as float32 (`Math.fround`), as the model produces them.
 * @param boxes Float32Array of length 4N
 * @param scores N scores
 * @param options image `width`/`height` to clip to (both or neither)
 * @throws InvalidArgumentError when lengths disagree or the image size is not a positive integer
 * @example detectionsToRows(new Float32Array([0.5, 1.5, 2.5, 3.5]), new Float32Array([0.9]))
 *   // [{ x_center: 1, y_center: 3, width: 2, height: 2, confidence: 0.8999999761581421, area: 4 }]
 */
export function detectionsToRows(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  options: DetectionsCsvOptions = {},
): DetectionCsvRow[] {
  checkFloat32Array('boxes', boxes);
  if (boxes.length % 4 !== 0) invalid('boxes', 'a Float32Array whose length is a multiple of 4', boxes);
  const n = boxes.length / 4;
  if (scores.length !== n) invalid('scores', `${n} scores (one per box)`, scores);
  const { width: W, height: H } = options;
  if ((W === undefined) !== (H === undefined)) invalid('options.height', 'width and height together', H);
  if (W !== undefined && (!Number.isInteger(W) || W <= 0)) invalid('options.width', 'a positive integer', W);
  if (H !== undefined && (!Number.isInteger(H) || H <= 0)) invalid('options.height', 'a positive integer', H);
  const clip = (v: number, hi: number | undefined) => (hi === undefined ? v : Math.min(Math.max(v, 0), hi));
  const rows: DetectionCsvRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = roundHalfEven(clip(boxes[4 * i]!, W));
    const y1 = roundHalfEven(clip(boxes[4 * i + 1]!, H));
    const x2 = roundHalfEven(clip(boxes[4 * i + 2]!, W));
    const y2 = roundHalfEven(clip(boxes[4 * i + 3]!, H));
    const width = x2 - x1;
    const height = y2 - y1;
    rows[i] = {
      x_center: Math.trunc(x1 + width / 2) || 0,
      y_center: Math.trunc(y1 + height / 2) || 0,
      width,
      height,
      confidence: Math.fround(scores[i]!),
      area: width * height,
    };
  }
  return rows;
}

/** Quote a CSV field when it holds a comma, quote or line break (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no newline); with `image`, the combined layout's leading column. */
export function formatDetectionRow(row: DetectionCsvRow, image?: string): string {
  const body = `${row.x_center},${row.y_center},${row.width},${row.height},${pyFloatRepr(row.confidence)},${row.area}`;
  return image === undefined ? body : `${csvField(image)},${body}`;
}

/**
 * The whole per-image file: header plus one line per detection, `\n` line endings, trailing newline.
 * @example formatDetectionsCsv(det.boxes, det.scores, { width: 2048, height: 2048 })
 */
export function formatDetectionsCsv(
  boxes: Float32Array,
  scores: ArrayLike<number>,
  options: DetectionsCsvOptions = {},
): string {
  const rows = detectionsToRows(boxes, scores, options);
  return [DETECTIONS_CSV_HEADER, ...rows.map((r) => formatDetectionRow(r))].join('\n') + '\n';
}

/**
 * Lines (each with `\n`) of the combined CSV for one image, without the header; empty when no detections.
 */
export function formatCombinedRows(
  image: string,
  boxes: Float32Array,
  scores: ArrayLike<number>,
  options: DetectionsCsvOptions = {},
): string {
  let out = '';
  for (const r of detectionsToRows(boxes, scores, options)) out += formatDetectionRow(r, image) + '\n';
  return out;
}

/**
 * The per-image file name for an input name: `'sub/img_01.png'` -> `'sub/img_01_result.csv'` (directory
 * part kept, extension dropped).
 */
export function resultCsvName(imageName: string): string {
  const slash = imageName.lastIndexOf('/');
  const dot = imageName.lastIndexOf('.');
  const stem = dot > slash + 1 ? imageName.slice(0, dot) : imageName;
  return `${stem}_result.csv`;
}

/** Split one CSV line into fields (RFC 4180 quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
      if (i >= line.length) return out;
      if (line[i] !== ',') throw new Error('text after a closing quote');
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/** A parsed row; `image` is set for the combined layout. */
export interface ParsedDetectionRow extends DetectionCsvRow {
  image?: string;
}

/**
 * Read a per-image or combined detections CSV back (the layout is told by the header).
 * @param source names the input in errors
 * @throws ParseError (with the line number) on a wrong header, a wrong field count or a non-number
 */
export function parseDetectionsCsv(text: string, source = 'detections.csv'): ParsedDetectionRow[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0] ?? '';
  const combined = header === COMBINED_DETECTIONS_CSV_HEADER;
  if (!combined && header !== DETECTIONS_CSV_HEADER) {
    throw new ParseError(
      source,
      `expected header '${DETECTIONS_CSV_HEADER}' (optionally with a leading 'image' column) but found '${header.slice(0, 80)}'`,
      1,
    );
  }
  const rows: ParsedDetectionRow[] = [];
  for (let ln = 1; ln < lines.length; ln++) {
    const line = lines[ln]!;
    if (line === '') continue;
    let f: string[];
    try {
      f = splitCsvLine(line);
    } catch (err) {
      throw new ParseError(source, (err as Error).message, ln + 1);
    }
    const want = combined ? 7 : 6;
    if (f.length !== want) throw new ParseError(source, `expected ${want} fields but found ${f.length}`, ln + 1);
    const nums = f.slice(combined ? 1 : 0).map(Number);
    const bad = nums.findIndex((v, k) => !Number.isFinite(v) || f[k + (combined ? 1 : 0)]!.trim() === '');
    if (bad >= 0)
      throw new ParseError(
        source,
        `field ${bad + (combined ? 2 : 1)} is not a number: '${f[bad + (combined ? 1 : 0)]}'`,
        ln + 1,
      );
    const [x_center, y_center, width, height, confidence, area] = nums as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const row: ParsedDetectionRow = { x_center, y_center, width, height, confidence, area };
    if (combined) row.image = f[0]!;
    rows.push(row);
  }
  return rows;
}
