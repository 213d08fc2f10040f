/** Source taps of one axis: for output index d, `w0[d] * in[i0[d]] + w1[d] * in[i1[d]]`. */
import type { ResizeArgs } from '../../ops/resize.js';
export type { ResizeArgs } from '../../ops/resize.js';
export interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/**
 * Half-pixel-centre linear taps of one axis (`align_corners=False`, no antialias). With `float32` the
 * scale and the weights are rounded to float32 as torch does for float32 tensors (the source coordinate
 * stays float64); without, everything is float64 (torch on float64 tensors; OpenCV's INTER_LINEAR
 * before its fixed-point rounding).
 */
export function linearTaps(inSize: number, outSize: number, float32: boolean): LinearTaps {
  const f = float32 ? Math.fround : (x: number) => x;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float64Array(outSize);
  const w1 = new Float64Array(outSize);
  const scale = f(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    if (inSize === outSize) {
      i0[d] = i1[d] = d;
      w0[d] = 1;
      continue;
    }
    const src = Math.max(scale * (d + 0.5) - 0.5, 0);
    const x0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = f(Math.min(src - x0, 1));
    i0[d] = x0;
    i1[d] = x0 < inSize - 1 ? x0 + 1 : x0;
    w1[d] = l1;
    w0[d] = f(1 - l1);
  }
  return { i0, i1, w0, w1 };
}

const fround = Math.fround;

/**
 * `fma(a, wa, f32(b * wb))` rounded to float32, for float32 a, wa, b, wb: the product `a * wa` is exact
 * in float64 (48 bits), so one float64 add and one rounding to float32 give the fused result (bar
 * double-rounding ties, which are vanishingly rare and at most 1 ulp).
 */
export function lerpF32(a: number, wa: number, b: number, wb: number): number {
  return fround(a * wa + fround(b * wb));
}

/** Width-direction interpolation of one source row into `dst` (length outWidth). */
function interpolateRow(src: Float32Array, rowStart: number, tx: LinearTaps, dst: Float32Array): void {
  const { i0, i1, w0, w1 } = tx;
  for (let x = 0; x < dst.length; x++) {
    dst[x] = lerpF32(src[rowStart + i0[x]!]!, w0[x]!, src[rowStart + i1[x]!]!, w1[x]!);
  }
}

export function resize(args: ResizeArgs): Float32Array {
  const { data, channels, inHeight, inWidth, outHeight, outWidth, out } = args;
  const tx = linearTaps(inWidth, outWidth, true);
  const ty = linearTaps(inHeight, outHeight, true);
  // Two cached horizontally-interpolated rows; source rows are visited in non-decreasing order.
  const rowA = new Float32Array(outWidth);
  const rowB = new Float32Array(outWidth);
  for (let c = 0; c < channels; c++) {
    const plane = c * inHeight * inWidth;
    const outPlane = c * outHeight * outWidth;
    let keyA = -1; // source row held in rowA
    let keyB = -1;
    const row = (y: number): Float32Array => {
      if (y === keyA) return rowA;
      if (y === keyB) return rowB;
      // Evict the older row (the lower index; rows only move forward).
      if (keyA < keyB) {
        interpolateRow(data, plane + y * inWidth, tx, rowA);
        keyA = y;
        return rowA;
      }
      interpolateRow(data, plane + y * inWidth, tx, rowB);
      keyB = y;
      return rowB;
    };
    for (let y = 0; y < outHeight; y++) {
      const r0 = row(ty.i0[y]!);
      const r1 = row(ty.i1[y]!); // never evicts r0: i1 is i0 or i0 + 1
      const wy0 = ty.w0[y]!;
      const wy1 = ty.w1[y]!;
      const o = outPlane + y * outWidth;
      for (let x = 0; x < outWidth; x++) out[o + x] = lerpF32(r0[x]!, wy0, r1[x]!, wy1);
    }
  }
  return out;
}
