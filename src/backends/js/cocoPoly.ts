/**
 * Polygons and boxes to COCO RLE exactly as pycocotools' `rleFrPoly` / `rleFrBbox` (maskApi.c): vertices
 * upsampled by 5 and rounded with C's `(int)(v + .5)`, every edge walked densely, then the y-boundary
 * crossings downsampled back to pixel centres, sorted and differenced into counts. Same integer and
 * float64 steps, so the masks — and COCO segm scores computed on them — agree bit for bit.
 */
import type { CocoRle } from './cocoRle.js';

const scratchBufs: Int32Array[] = [new Int32Array(1024), new Int32Array(1024)];
const scratchF: Float64Array[] = [];
/** Reusable buffers for the polygon walk (0, 1: Int32 u/v; 2: float64 candidates). */
function scratch(i: 0 | 1, n: number): Int32Array;
function scratch(i: 2, n: number): Float64Array;
function scratch(i: number, n: number): Int32Array | Float64Array {
  if (i === 2) {
    if (!scratchF[0] || scratchF[0].length < n) scratchF[0] = new Float64Array(Math.max(n, 1024));
    return scratchF[0];
  }
  if (scratchBufs[i]!.length < n) scratchBufs[i] = new Int32Array(n);
  return scratchBufs[i]!;
}

/** C's `(int)` cast of a double as x86 does it: truncation; NaN and out-of-range give INT_MIN. */
function cInt(x: number): number {
  if (!(x > -2147483649 && x < 2147483648)) return -2147483648;
  return Math.trunc(x) | 0;
}

/**
 * Rasterises a polygon `[x0, y0, x1, y1, ...]` exactly as pycocotools' `rleFrPoly`: vertices upsampled
 * by 5 and rounded, edges walked densely, then y-boundary crossings downsampled back to pixel
 * centres. Odd trailing values are ignored (as pycocotools does).
 */
export function cocoRleFromPolygon(xy: ArrayLike<number>, height: number, width: number): CocoRle {
  const h = height,
    w = width,
    scale = 5;
  const k = Math.floor(xy.length / 2);
  const x = new Int32Array(k + 1),
    y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(scale * xy[j * 2]! + 0.5);
  x[k] = x[0]!;
  for (let j = 0; j < k; j++) y[j] = cInt(scale * xy[j * 2 + 1]! + 0.5);
  y[k] = y[0]!;
  // Walk every edge densely: upsampled points (u, v) in order. Interpolated values lie between two
  // vertices, so Int32Array stores truncate exactly as C's (int) cast; a zero-length edge gives
  // (int)NaN, INT_MIN on x86.
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j]! - x[j + 1]!), Math.abs(y[j]! - y[j + 1]!)) + 1;
  const u = scratch(0, m),
    v = scratch(1, m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j]!,
      xe = x[j + 1]!,
      ys = y[j]!,
      ye = y[j + 1]!;
    const dx = Math.abs(xe - xs),
      dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    if (dx === 0 && dy === 0) {
      u[m] = xs;
      v[m++] = -2147483648;
      continue;
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m++] = ys + s * t + 0.5;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m++] = xs + s * t + 0.5;
      }
    }
  }
  // Points on the y-boundary, downsampled, as column-major pixel indices x * h + y.
  const cand = scratch(2, m + 1);
  let kk = 0;
  for (let j = 1; j < m; j++) {
    const uj = u[j]!,
      uq = u[j - 1]!;
    if (uj === uq) continue;
    let xd = uj < uq ? uj : uj - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    const vj = v[j]!,
      vq = v[j - 1]!;
    let yd = vj < vq ? vj : vq;
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    cand[kk++] = xd * h + Math.ceil(yd);
  }
  // RLE from the boundary points (uint arithmetic).
  cand[kk++] = h * w;
  const a = new Uint32Array(kk);
  for (let j = 0; j < kk; j++) a[j] = cand[j]! >>> 0;
  a.sort();
  let p = 0;
  for (let j = 0; j < kk; j++) {
    const t = a[j]!;
    a[j] = t - p;
    p = t;
  }
  const b = new Uint32Array(kk);
  let j = 0;
  m = 0;
  b[m++] = a[j++]!;
  while (j < kk) {
    if (a[j]! > 0) b[m++] = a[j++]!;
    else {
      j++;
      if (j < kk) b[m - 1]! += a[j++]!;
    }
  }
  return { height: h, width: w, counts: b.slice(0, m) };
}

/** A box `[x, y, w, h]` rasterised as pycocotools' `rleFrBbox` (the polygon of its four corners). */
export function cocoRleFromBbox(bbox: ArrayLike<number>, height: number, width: number): CocoRle {
  const xs = bbox[0]!,
    ys = bbox[1]!,
    xe = xs + bbox[2]!,
    ye = ys + bbox[3]!;
  return cocoRleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], height, width);
}
