/**
 * Dice reference kernel: per image and class, the pixel counts `|A∩B|, |A|, |B|` of two `[C, H, W]`
 * masks (non-zero = 1). The counts are integers, identical on every backend; the score is formed from
 * them in `src/ops/dice.ts`. Four bytes per step where both masks share a word alignment.
 */
import type { DiceArgs } from '../../ops/dice.js';
export type { DiceArgs } from '../../ops/dice.js';
import { count4, nonZeroBytes, wordView } from './rle.js';

/** `[images * classes * 3]`: intersection, |pred|, |truth| per image per class. */
export function dice(args: DiceArgs): Float64Array {
  const { pred, truth, classes, pixels } = args;
  const out = new Float64Array(pred.length * classes * 3);
  for (let i = 0; i < pred.length; i++) {
    for (let c = 0; c < classes; c++)
      countOverlap(pred[i]!, c * pixels, truth[i]!, c * pixels, pixels, out, (i * classes + c) * 3);
  }
  return out;
}

/** Pixel counts `[inter, |a|, |b|]` of the non-zero bytes of `a[aOff..+n)` and `b[bOff..+n)`, added into `acc[at..at+3)`. */
export function countOverlap(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  n: number,
  acc: Float64Array,
  at: number,
): void {
  let inter = 0,
    sa = 0,
    sb = 0,
    i = 0;
  const pa = a.byteOffset + aOff,
    pb = b.byteOffset + bOff;
  if (((pa - pb) & 3) === 0) {
    // Same alignment: bytes up to a word boundary, then four bytes per step.
    for (; i < n && ((pa + i) & 3) !== 0; i++) {
      const x = a[aOff + i] !== 0 ? 1 : 0,
        y = b[bOff + i] !== 0 ? 1 : 0;
      sa += x;
      sb += y;
      inter += x & y;
    }
    const wa = wordView(a),
      wb = wordView(b);
    const nw = (n - i) >>> 2;
    let ja = (pa + i) >>> 2,
      jb = (pb + i) >>> 2;
    for (let w = 0; w < nw; w++, ja++, jb++) {
      const x = wa[ja]!,
        y = wb[jb]!;
      if ((x | y) === 0) continue;
      const mx = nonZeroBytes(x),
        my = nonZeroBytes(y);
      sa += count4(mx);
      sb += count4(my);
      inter += count4(mx & my);
    }
    i += nw << 2;
  }
  for (; i < n; i++) {
    const x = a[aOff + i] !== 0 ? 1 : 0,
      y = b[bOff + i] !== 0 ? 1 : 0;
    sa += x;
    sb += y;
    inter += x & y;
  }
  acc[at]! += inter;
  acc[at + 1]! += sa;
  acc[at + 2]! += sb;
}
