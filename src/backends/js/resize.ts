/**
 * Bilinear resize of float32 `[C, h, w]` planes to `[C, H, W]`, computed as torch's CPU kernel for
 * `F.interpolate(mode='bilinear', align_corners=False, antialias=False)` given an output `size`:
 *
 * - per axis, `scale = f32(in / out)`; source coordinate `src = f32(scale * (d + 0.5) - 0.5)`, 0 when
 *   negative (torch clamps before flooring); `i0 = min(floor(src), in - 1)`, `i1 = i0 + 1` except at
 *   the last source pixel, `w1 = clamp(src - i0, 0, 1)`, `w0 = f32(1 - w1)`; an axis whose size does
 *   not change is copied (`i0 = i1 = d`, `w0 = 1`, `w1 = 0`), as torch does;
 * - `row(y) = w0x * in[y][i0x] + w1x * in[y][i1x]` (width first), then
 *   `out = w0y * row(i0y) + w1y * row(i1y)`, each result rounded to float32.
 *
 * The float32 source coordinate is what makes torch differ from exact bilinear by up to ~1e-4 on large
 * resizes; reproducing it keeps this kernel within a few float32 ulps of torch (torch's channels-last
 * path, used for C = 1, multiplies the weights first and differs from its own NCHW path by an ulp).
 * Each horizontally interpolated source row is computed once and reused by every output row that needs
 * it (the same arithmetic in the same order, so the result does not change).
 */
export interface ResizeArgs {
  data: Float32Array;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  /** Output `[channels, outHeight, outWidth]`, written by the kernel. */
  out: Float32Array;
}

/** Source taps of one axis: for output index d, `w0[d] * in[i0[d]] + w1[d] * in[i1[d]]`. */
export interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/**
 * Half-pixel-centre linear taps of one axis (`align_corners=False`, no antialias). With `float32`
 * the scale, source coordinate and weights are rounded to float32 at each step exactly as torch does on
 * float32 tensors; without, they are float64 (torch on float64 tensors; OpenCV's INTER_LINEAR before
 * its fixed-point rounding).
 */
export function linearTaps(inSize: number, outSize: number, float32: boolean): LinearTaps {
  const f = float32 ? Math.fround : (x: number) => x;
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize);
  const w0 = new Float64Array(outSize), w1 = new Float64Array(outSize);
  const scale = f(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    if (inSize === outSize) {
      i0[d] = i1[d] = d;
      w0[d] = 1;
      continue;
    }
    // scale * (d + 0.5) - 0.5 is exact in float64 for these sizes, so f() rounds once (torch 1.13, or FMA).
    let src = f(scale * (d + 0.5) - 0.5);
    if (src < 0) src = 0;
    const x0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = Math.min(Math.max(f(src - x0), 0), 1);
    i0[d] = x0;
    i1[d] = x0 < inSize - 1 ? x0 + 1 : x0;
    w1[d] = l1;
    w0[d] = f(1 - l1);
  }
  return { i0, i1, w0, w1 };
}

/** Width-direction interpolation of one source row into `dst` (length outWidth), rounded to float32. */
function interpolateRow(src: Float32Array, rowStart: number, tx: LinearTaps, dst: Float32Array): void {
  const { i0, i1, w0, w1 } = tx;
  for (let x = 0; x < dst.length; x++) dst[x] = w0[x]! * src[rowStart + i0[x]!]! + w1[x]! * src[rowStart + i1[x]!]!;
}

export function resize(args: ResizeArgs): Float32Array {
  const { data, channels, inHeight, inWidth, outHeight, outWidth, out } = args;
  const tx = linearTaps(inWidth, outWidth, true);
  const ty = linearTaps(inHeight, outHeight, true);
  // Two cached horizontally-interpolated rows; source rows are visited in non-decreasing order.
  const rowA = new Float32Array(outWidth), rowB = new Float32Array(outWidth);
  for (let c = 0; c < channels; c++) {
    const plane = c * inHeight * inWidth;
    const outPlane = c * outHeight * outWidth;
    let keyA = -1, keyB = -1;
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
      const y0 = ty.i0[y]!, y1 = ty.i1[y]!;
      const wy0 = ty.w0[y]!, wy1 = ty.w1[y]!;
      const r0 = row(y0);
      const r1 = row(y1); // never evicts r0: y1 is y0 or y0 + 1
      const o = outPlane + y * outWidth;
      for (let x = 0; x < outWidth; x++) out[o + x] = wy0 * r0[x]! + wy1 * r1[x]!;
    }
  }
  return out;
}
