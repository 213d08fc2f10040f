/**
 * The DBSCAN baseline's fixed filter chain: a 3x3 convolution (all weights 1, centre 10, bias -11,
 * zero padding, same size: torch `conv2d(padding=1)`) then `> 0`, repeated. The first pass runs over
 * the RGB channels summed (a `[1,3,3,3]` kernel); a grey image counts as R = G = B.
 *
 * Computed in exact integer arithmetic: `conv = 9 * centre + (3x3 box sum)` compared with the bias.
 * On a binary mask (passes 2..) that keeps a pixel exactly when it is on and has >= 2 of its 8
 * neighbours on. With `scale: 'unit'` (values /255, torchvision's ToTensor) the first test is
 * `conv > 11 * 255`; torch's float32 arithmetic can decide a pixel whose real value is exactly 0
 * either way, we say "not > 0".
 */

/** 3x3 box sum with zero padding: `out[y,x] = sum of src over the 3x3 window`. */
function boxSum3(src: Int32Array | Uint8Array, w: number, h: number, tmp: Int32Array, out: Int32Array): void {
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      let s = src[r + x]!;
      if (x > 0) s += src[r + x - 1]!;
      if (x + 1 < w) s += src[r + x + 1]!;
      tmp[r + x] = s;
    }
  }
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      let s = tmp[r + x]!;
      if (y > 0) s += tmp[r - w + x]!;
      if (y + 1 < h) s += tmp[r + w + x]!;
      out[r + x] = s;
    }
  }
}

/**
 * Runs the filter chain on an HWC uint8 image (1, 3 or 4 channels; a 4th channel is ignored) and
 * returns the final binary mask `[height * width]` (0/1).
 */
export function baselineFilter(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  passes: number,
  scale: 'raw' | 'unit',
): Uint8Array {
  const n = width * height;
  const sum = new Int32Array(n);
  if (channels === 1) for (let i = 0; i < n; i++) sum[i] = 3 * data[i]!;
  else for (let i = 0, j = 0; i < n; i++, j += channels) sum[i] = data[j]! + data[j + 1]! + data[j + 2]!;
  const tmp = new Int32Array(n);
  const box = new Int32Array(n);
  const mask = new Uint8Array(n);
  boxSum3(sum, width, height, tmp, box);
  const t0 = scale === 'unit' ? 11 * 255 : 11;
  for (let i = 0; i < n; i++) mask[i] = 9 * sum[i]! + box[i]! > t0 ? 1 : 0;
  for (let p = 1; p < passes; p++) {
    boxSum3(mask, width, height, tmp, box);
    for (let i = 0; i < n; i++) mask[i] = 9 * mask[i]! + box[i]! > 11 ? 1 : 0;
  }
  return mask;
}
