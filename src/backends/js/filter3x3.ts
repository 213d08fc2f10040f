/**
 * The DBSCAN baseline's fixed filter chain: a 3x3 convolution (all weights 1, centre 10, bias -11,
 * zero padding, same size: torch `conv2d(padding=1)`) then `> 0`, repeated. The first pass runs over
 * the RGB channels summed (a `[1,3,3,3]` kernel); a grey image counts as R = G = B.
 *
 * Computed in exact integer arithmetic: `conv = 9 * centre + (3x3 box sum)` compared with the bias.
 * On a binary mask (passes 2..) that keeps a pixel exactly when it is on and has >= 2 of its 8
 * neighbours on. With `scale: 'unit'` (values /255, torchvision's ToTensor) the first test is
 * `conv > 11 * 255`, decided exactly. Where the real result is exactly 0 (`conv == 2805`, about
 * 1 pixel in 40,000 on a noisy 8-bit image) torch's float32 `conv2d(x / 255)` leaves a rounding
 * residue of either sign (+-1e-6) and so keeps or drops the pixel depending on its build and even on
 * the image size (Debian's torch 1.13 sums in a different order below ~100x100 pixels); we drop it,
 * as the exact value says. Everywhere else torch and this code agree (float32 error ~1e-6 against a
 * margin of 1/255).
 */

/** 3x3 box sum with zero padding: `out[y,x] = sum of src over the 3x3 window` (rows, then columns). */
function boxSum3(src: Int32Array, w: number, h: number, tmp: Int32Array, out: Int32Array): void {
  for (let y = 0; y < h; y++) {
    const r = y * w;
    if (w === 1) {
      tmp[r] = src[r]!;
      continue;
    }
    tmp[r] = src[r]! + src[r + 1]!;
    for (let x = r + 1, e = r + w - 1; x < e; x++) tmp[x] = src[x - 1]! + src[x]! + src[x + 1]!;
    tmp[r + w - 1] = src[r + w - 2]! + src[r + w - 1]!;
  }
  if (h === 1) {
    out.set(tmp);
    return;
  }
  for (let x = 0; x < w; x++) out[x] = tmp[x]! + tmp[w + x]!;
  for (let i = w, e = (h - 1) * w; i < e; i++) out[i] = tmp[i - w]! + tmp[i]! + tmp[i + w]!;
  for (let i = (h - 1) * w, e = h * w; i < e; i++) out[i] = tmp[i - w]! + tmp[i]!;
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
  const on = new Int32Array(n); // the mask, kept in Int32 so boxSum3 stays monomorphic
  boxSum3(sum, width, height, tmp, box);
  const t0 = scale === 'unit' ? 11 * 255 : 11;
  for (let i = 0; i < n; i++) on[i] = 9 * sum[i]! + box[i]! > t0 ? 1 : 0;
  // binary passes: an on pixel stays when >= 2 of its neighbours are on (9*m + box > 11)
  for (let p = 1; p < passes; p++) {
    boxSum3(on, width, height, tmp, box);
    for (let i = 0; i < n; i++) on[i] = on[i]! & (box[i]! >= 3 ? 1 : 0);
  }
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = on[i]!;
  return mask;
}
