/**
 * YOLO txt labels: one object per line, `class xc yc w h` normalized to 0..1 by the image width and
 * height (DESIGN.md section 1), optionally followed by a confidence (YOLOv5 `--save-conf`). Blank lines
 * are allowed. Written with `%g`-style numbers as YOLOv5's `save_txt` does.
 */
import { ParseError } from '../errors.js';
import { checkFloat32Array, invalid } from '../validate.js';

/** Labels of one image. */
export interface YoloLabels {
  /** Class index per object. */
  classes: Int32Array;
  /** `xc, yc, w, h` per object, normalized (0..1). */
  boxes: Float32Array;
  /** Confidence per object when the file has a sixth column on every line, else undefined. */
  scores?: Float32Array;
}

const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parse a YOLO txt file.
 * @param source names the file in errors
 * @throws ParseError with the 1-based line number for a wrong field count, a non-number, a negative or
 *   non-integer class, or a non-finite coordinate
 * @example parseYoloTxt('0 0.5 0.5 0.1 0.2\n', 'a.txt') // { classes: [0], boxes: [0.5, 0.5, 0.1, 0.2] }
 */
export function parseYoloTxt(text: string, source = 'labels.txt'): YoloLabels {
  const classes: number[] = [];
  const boxes: number[] = [];
  const scores: number[] = [];
  let withScore: boolean | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    if (f.length !== 5 && f.length !== 6) {
      throw new ParseError(
        source,
        `expected 'class xc yc w h' (5 fields, or 6 with a confidence) but found ${f.length} fields`,
        i + 1,
      );
    }
    if (withScore === undefined) withScore = f.length === 6;
    else if (withScore !== (f.length === 6)) throw new ParseError(source, 'lines mix 5 and 6 fields', i + 1);
    const bad = f.findIndex((s) => !NUM.test(s));
    if (bad >= 0) throw new ParseError(source, `field ${bad + 1} is not a number: '${f[bad]!.slice(0, 20)}'`, i + 1);
    const cls = Number(f[0]);
    if (!Number.isInteger(cls) || cls < 0)
      throw new ParseError(source, `class must be a non-negative integer, found '${f[0]}'`, i + 1);
    const v = f.slice(1).map(Number);
    if (v.some((x) => !Number.isFinite(x))) throw new ParseError(source, 'coordinates must be finite', i + 1);
    if (v[2]! < 0 || v[3]! < 0) throw new ParseError(source, 'width and height must be >= 0', i + 1);
    classes.push(cls);
    boxes.push(v[0]!, v[1]!, v[2]!, v[3]!);
    if (withScore) scores.push(v[4]!);
  }
  const out: YoloLabels = { classes: Int32Array.from(classes), boxes: Float32Array.from(boxes) };
  if (withScore) out.scores = Float32Array.from(scores);
  return out;
}

/**
 * Format a number as C's `%g` (6 significant digits, trailing zeros dropped, exponent form below 1e-4 or
 * from 1e6), which YOLOv5 uses for label files.
 */
export function formatG(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exp = Number(x.toExponential(5).split('e')[1]);
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * Format labels from xyxy pixel boxes: normalizes by the image size. With `scores`, a sixth column.
 * @throws InvalidArgumentError on length mismatches or a non-positive image size
 * @example formatYoloTxt(new Float32Array([10, 10, 30, 50]), [0], 100, 100) // '0 0.2 0.3 0.2 0.4\n'
 */
export function formatYoloTxt(
  boxesXyxy: Float32Array,
  classes: ArrayLike<number>,
  width: number,
  height: number,
  scores?: ArrayLike<number>,
): string {
  checkFloat32Array('boxes', boxesXyxy);
  const n = boxesXyxy.length / 4;
  if (!Number.isInteger(n)) invalid('boxes', 'a Float32Array whose length is a multiple of 4', boxesXyxy);
  if (classes.length !== n) invalid('classes', `${n} class indices`, classes);
  if (scores && scores.length !== n) invalid('scores', `${n} scores`, scores);
  if (!(width > 0)) invalid('width', 'a number > 0', width);
  if (!(height > 0)) invalid('height', 'a number > 0', height);
  let out = '';
  for (let i = 0; i < n; i++) {
    const x1 = boxesXyxy[4 * i]!;
    const y1 = boxesXyxy[4 * i + 1]!;
    const x2 = boxesXyxy[4 * i + 2]!;
    const y2 = boxesXyxy[4 * i + 3]!;
    const f = [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height];
    if (scores) f.push(scores[i]!);
    out += `${classes[i]} ${f.map(formatG).join(' ')}\n`;
  }
  return out;
}

/**
 * Normalized `xc,yc,w,h` labels to xyxy pixel boxes (e.g. ground truth for evaluation or overlays).
 * @example yoloToXyxy(labels.boxes, 2048, 2048)
 */
export function yoloToXyxy(boxes: Float32Array, width: number, height: number): Float32Array {
  checkFloat32Array('boxes', boxes);
  if (boxes.length % 4 !== 0) invalid('boxes', 'a Float32Array whose length is a multiple of 4', boxes);
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const cx = boxes[i]! * width;
    const cy = boxes[i + 1]! * height;
    const w = boxes[i + 2]! * width;
    const h = boxes[i + 3]! * height;
    out[i] = cx - w / 2;
    out[i + 1] = cy - h / 2;
    out[i + 2] = cx + w / 2;
    out[i + 3] = cy + h / 2;
  }
  return out;
}
