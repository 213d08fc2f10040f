/**
 * COCO run-length encoding, computing exactly what pycocotools' `maskApi.c` computes (same integer
 * and float64 steps, same quirks), so that areas, boxes and IoUs — and therefore COCO segm scores —
 * agree to the last bit.
 *
 * A COCO RLE is `counts`: alternating run lengths of 0s and 1s over the mask flattened column-major
 * (x outer, y inner), starting with a run of 0s (0 when the mask starts with a 1) and summing to
 * `height * width`. Its compressed string form writes each count (from index 3 on, as the difference
 * from the count two places before) as 5-bit groups, least significant first, each char `48 + bits`
 * with `0x20` set while more groups follow and `0x10` of the last group the sign.
 */
import { ParseError } from '../../errors.js';

export { cocoRleFromBbox, cocoRleFromPolygon } from './cocoPoly.js';

export interface CocoRle {
  height: number;
  width: number;
  /** Alternating run lengths, first a run of 0s, column-major. */
  counts: Uint32Array;
}

const UINT = 0x100000000;
const ASCII = new TextDecoder('latin1');
let decodeScratch = new Uint32Array(4096);
const POW32 = Float64Array.from({ length: 9 }, (_, k) => 2 ** (5 * k));

/**
 * COCO counts of a binary mask (non-zero = 1).
 * @param order `col`: `mask` is column-major `[W, H]` (pycocotools' Fortran order); `row`: row-major `[H, W]`.
 */
export function cocoRleEncode(mask: Uint8Array, height: number, width: number, order: 'col' | 'row' = 'col'): CocoRle {
  const out: number[] = [];
  let prev = 0,
    run = 0;
  for (let x = 0, j = 0; x < width; x++) {
    for (let y = 0; y < height; y++, j++) {
      const v = (order === 'col' ? mask[j]! : mask[y * width + x]!) !== 0 ? 1 : 0;
      if (v !== prev) {
        out.push(run);
        run = 0;
        prev = v;
      }
      run++;
    }
  }
  out.push(run);
  return { height, width, counts: Uint32Array.from(out) };
}

/** Decodes counts into a 0/1 mask, column-major (`col`, pycocotools' layout) or row-major `[H, W]` (`row`). */
export function cocoRleDecode(rle: CocoRle, order: 'col' | 'row' = 'col'): Uint8Array {
  const { height: h, width: w, counts } = rle;
  const out = new Uint8Array(h * w);
  let p = 0,
    v = 0;
  for (let j = 0; j < counts.length; j++) {
    const end = Math.min(p + counts[j]!, h * w);
    if (v) {
      if (order === 'col') out.fill(1, p, end);
      else for (let q = p; q < end; q++) out[(q % h) * w + ((q / h) | 0)] = 1;
    }
    p = end;
    v ^= 1;
  }
  return out;
}

/** Area (number of 1s) of counts `counts[start .. start+m)`. */
export function countsArea(counts: Uint32Array, start = 0, m = counts.length - start): number {
  let a = 0;
  for (let j = 1; j < m; j += 2) a += counts[start + j]!;
  return a;
}

/** Number of 1s (pycocotools `area`). */
export function cocoRleArea(rle: CocoRle): number {
  return countsArea(rle.counts);
}

/**
 * Bounding box `[x, y, w, h]` of counts as pycocotools' `rleToBbox` (uint32 arithmetic; a mask whose
 * runs span several columns gets the full column height). Writes into `out` at `offset`.
 */
export function countsToBbox(
  counts: Uint32Array,
  start: number,
  m: number,
  h: number,
  w: number,
  out: Float64Array,
  offset: number,
): void {
  m = Math.floor(m / 2) * 2;
  if (m === 0 || h === 0) {
    out[offset] = out[offset + 1] = out[offset + 2] = out[offset + 3] = 0;
    return;
  }
  let xs = w,
    ys = h,
    xe = 0,
    ye = 0,
    cc = 0,
    xp = 0;
  for (let j = 0; j < m; j++) {
    cc += counts[start + j]!;
    if (cc >= UINT) cc -= UINT; // uint32 wrap-around (malformed counts only)
    let t = cc - (j & 1);
    if (t < 0) t += UINT;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  out[offset] = xs;
  out[offset + 2] = xe - xs + 1;
  out[offset + 1] = ys;
  out[offset + 3] = ye - ys + 1;
}

/** `[x, y, w, h]` of the mask's 1s, as pycocotools' `toBbox`. */
export function cocoRleToBbox(rle: CocoRle): [number, number, number, number] {
  const b = new Float64Array(4);
  countsToBbox(rle.counts, 0, rle.counts.length, rle.height, rle.width, b, 0);
  return [b[0]!, b[1]!, b[2]!, b[3]!];
}

/**
 * Union (or intersection) of RLEs, as pycocotools' `rleMerge`. Masks of different sizes give an
 * empty 0x0 RLE (pycocotools' behaviour); no RLEs give one too.
 */
export function cocoRleMerge(rles: readonly CocoRle[], intersect = false): CocoRle {
  if (rles.length === 0) return { height: 0, width: 0, counts: new Uint32Array(0) };
  const first = rles[0]!;
  let h = first.height,
    w = first.width;
  if (rles.length === 1) return { height: h, width: w, counts: first.counts.slice() };
  let cnts = Array.from(first.counts);
  for (let i = 1; i < rles.length; i++) {
    const B = rles[i]!;
    if (B.height !== h || B.width !== w) {
      h = w = 0;
      cnts = [];
      break;
    }
    const A = cnts;
    const bc = B.counts;
    const out: number[] = [];
    let ca = A.length ? A[0]! : 0,
      cb = bc.length ? bc[0]! : 0;
    let v = 0,
      va = 0,
      vb = 0,
      a = 1,
      b = 1,
      cc = 0,
      ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++]!;
        va ^= 1;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < bc.length) {
        cb = bc[b++]!;
        vb ^= 1;
      }
      ct += cb;
      const vp = v;
      v = intersect ? va & vb : va | vb;
      if (v !== vp || ct === 0) {
        out.push(cc);
        cc = 0;
      }
    }
    cnts = out;
  }
  return { height: h, width: w, counts: Uint32Array.from(cnts) };
}

/**
 * Intersection and union of two count spans, walking runs (pycocotools' `rleIou` inner loop).
 * Returns `inter / union` with pycocotools' rules: 0 when the intersection is empty; with `crowd`
 * the union is the area of `a` (the detection).
 */
export function countsIou(
  ac: Uint32Array,
  a0: number,
  am: number,
  bc: Uint32Array,
  b0: number,
  bm: number,
  crowd: boolean,
): number {
  let ca = am > 0 ? ac[a0]! : 0,
    cb = bm > 0 ? bc[b0]! : 0;
  let va = false,
    vb = false,
    a = 1,
    b = 1,
    i = 0,
    u = 0,
    ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    if (va || vb) {
      u += c;
      if (va && vb) i += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < am) {
      ca = ac[a0 + a++]!;
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < bm) {
      cb = bc[b0 + b++]!;
      vb = !vb;
    }
    ct += cb;
  }
  if (i === 0) u = 1;
  else if (crowd) u = countsArea(ac, a0, am);
  return i / u;
}

/**
 * Box IoU of pycocotools' `bbIou`: boxes `[x, y, w, h]`, float64; with `crowd` the union is the
 * detection's area. Writes `out[d * G + g]` for detection `d`, ground truth `g`.
 */
export function bboxIouXywh(
  dt: Float64Array,
  gt: Float64Array,
  crowd: ArrayLike<number> | null,
  out: Float64Array,
  outOffset = 0,
  dtStart = 0,
  nd = dt.length / 4,
  gtStart = 0,
  ng = gt.length / 4,
): void {
  for (let g = 0; g < ng; g++) {
    const G = (gtStart + g) * 4;
    const gx = gt[G]!,
      gy = gt[G + 1]!,
      gw = gt[G + 2]!,
      gh = gt[G + 3]!;
    const ga = gw * gh;
    const isCrowd = crowd !== null && crowd[gtStart + g]! !== 0;
    for (let d = 0; d < nd; d++) {
      const D = (dtStart + d) * 4;
      const dx = dt[D]!,
        dy = dt[D + 1]!,
        dw = dt[D + 2]!,
        dh = dt[D + 3]!;
      const o = outOffset + d * ng + g;
      out[o] = 0;
      const iw = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
      if (iw <= 0) continue;
      const ih = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
      if (ih <= 0) continue;
      const da = dw * dh;
      const inter = iw * ih;
      out[o] = inter / (isCrowd ? da : da + ga - inter);
    }
  }
}

/**
 * IoU matrix `[D, G]` (row-major, detection-major) between RLEs, as pycocotools' `iou(dt, gt, iscrowd)`:
 * box IoU of their `toBbox` first, exact run-wise IoU only where that is > 0; -1 where sizes differ.
 */
export function cocoRleIou(dt: readonly CocoRle[], gt: readonly CocoRle[], iscrowd?: ArrayLike<number>): Float64Array {
  const nd = dt.length,
    ng = gt.length;
  const db = new Float64Array(nd * 4),
    gb = new Float64Array(ng * 4);
  dt.forEach((r, i) => countsToBbox(r.counts, 0, r.counts.length, r.height, r.width, db, i * 4));
  gt.forEach((r, i) => countsToBbox(r.counts, 0, r.counts.length, r.height, r.width, gb, i * 4));
  const out = new Float64Array(nd * ng);
  bboxIouXywh(db, gb, iscrowd ?? null, out);
  for (let d = 0; d < nd; d++) {
    for (let g = 0; g < ng; g++) {
      const o = d * ng + g;
      if (!(out[o]! > 0)) continue;
      const D = dt[d]!,
        G = gt[g]!;
      if (D.height !== G.height || D.width !== G.width) {
        out[o] = -1;
        continue;
      }
      const crowd = iscrowd !== undefined && iscrowd[g]! !== 0;
      out[o] = countsIou(D.counts, 0, D.counts.length, G.counts, 0, G.counts.length, crowd);
    }
  }
  return out;
}

/** pycocotools' compressed string of counts (LEB128-like, 6 bits a char, delta-coded from index 3). */
export function cocoRleToString(counts: ArrayLike<number>): string {
  const bytes = new Uint8Array(counts.length * 7);
  let n = 0;
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      bytes[n++] = c + 48;
    }
  }
  return ASCII.decode(bytes.subarray(0, n));
}

/**
 * Parses pycocotools' compressed counts string. Throws ParseError (naming `source`) on a char outside
 * `0`..`o`, a truncated value, a negative or oversized count, or counts that do not sum to
 * `height * width`.
 */
export function cocoRleFromString(s: string, height: number, width: number, source = 'counts'): CocoRle {
  const n = s.length;
  if (decodeScratch.length < n) decodeScratch = new Uint32Array(Math.max(n, 2 * decodeScratch.length));
  const cnts = decodeScratch; // at most one count per char
  let m = 0,
    p = 0;
  while (p < n) {
    let x = 0,
      k = 0,
      c = 0;
    const begin = p;
    do {
      if (p >= n) throw new ParseError(source, `compressed RLE ends inside a value (at char ${begin})`);
      c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) {
        throw new ParseError(source, `compressed RLE has an invalid char '${s[p]}' at ${p} (expected '0'..'o')`);
      }
      if (k >= 7) throw new ParseError(source, `compressed RLE value at char ${begin} is too long`);
      x += (c & 0x1f) * POW32[k]!;
      p++;
      k++;
    } while (c & 0x20);
    if (c & 0x10) x -= POW32[k]!;
    if (m > 2) x += cnts[m - 2]!;
    if (x < 0 || x >= UINT)
      throw new ParseError(source, `compressed RLE decodes to an invalid run length ${x} (count ${m})`);
    cnts[m++] = x;
  }
  const counts = cnts.slice(0, m);
  checkCountsSum(counts, height, width, source);
  return { height, width, counts };
}

/** Throws ParseError unless counts sum to `height * width`. */
export function checkCountsSum(counts: ArrayLike<number>, height: number, width: number, source: string): void {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]!;
  if (sum !== height * width) {
    throw new ParseError(
      source,
      `RLE counts sum to ${sum} but size [${height}, ${width}] has ${height * width} pixels`,
    );
  }
}
