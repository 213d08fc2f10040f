/**
 * Letterbox reference kernel: bilinear resize (half-pixel centres) of a uint8/uint16 HWC image fused with
 * HWC -> CHW float32 normalisation and constant padding, in one pass over the output.
 *
 * Per output sample the whole contract is `letterboxSample` below: the bilinear value at float64 taps
 * from `linearTaps(in, out, false)` (width first, then height, as torch on float64 tensors), then
 * `clamp((v - low) / range, 0, 1)`; the result is rounded once to float32. A native kernel computes the
 * same function; it may use float32 arithmetic within 1e-6 absolute.
 *
 * This equals OpenCV's `cv2.resize(INTER_LINEAR)` (which YOLOv5/v6 call) before OpenCV rounds its uint8
 * result and quantises its weights to 11 bits, so the lab's 8-bit pipeline differs from this float
 * result by under 1/255 per sample. Neither applies antialiasing on downscale.
 *
 * Memory: the fill of the padding plus one write per output sample; the source is read through
 * per-axis tap tables (`linearTaps`), 4 samples per output channel.
 */
import type { PixelArray, LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
export type { PixelArray, LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
import { linearTaps } from './resize.js';

/**
 * One output sample, the whole per-pixel contract: bilinear interpolation (width first, then height) of
 * the four HWC samples at offsets `r + c` (`r0, r1` = source row * width * channels + channel,
 * `c0, c1` = source column * channels), then `clamp((v - low) / range, 0, 1)`, in float64.
 */
export function letterboxSample(
  src: PixelArray,
  r0: number,
  r1: number,
  wy0: number,
  wy1: number,
  c0: number,
  c1: number,
  wx0: number,
  wx1: number,
  low: number,
  range: number,
): number {
  const top = wx0 * src[r0 + c0]! + wx1 * src[r0 + c1]!;
  const bottom = wx0 * src[r1 + c0]! + wx1 * src[r1 + c1]!;
  const v = (wy0 * top + wy1 * bottom - low) / range;
  return v <= 0 ? 0 : v >= 1 ? 1 : v;
}

/**
 * numpy.percentile(samples, q) (method 'linear', float64) over the colour samples (alpha excluded) of
 * an integer image, exactly, through a histogram.
 */
export function imagePercentiles(
  data: PixelArray,
  channels: number,
  maxValue: number,
  qs: readonly number[],
): number[] {
  const hist = new Uint32Array(maxValue + 1); // at most 3 * 2^28 samples
  const colour = channels === 4 ? 3 : channels;
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < colour; c++) {
      const v = data[i + c]!;
      hist[v] = hist[v]! + 1;
    }
  }
  const n = (data.length / channels) * colour;
  // k-th smallest sample (0-based) from the histogram
  const kth = (k: number): number => {
    let seen = 0;
    for (let v = 0; v <= maxValue; v++) if ((seen += hist[v]!) > k) return v;
    return maxValue;
  };
  return qs.map((q) => {
    const virtual = (n - 1) * (q / 100);
    const prev = Math.floor(virtual);
    if (virtual >= n - 1) return kth(n - 1);
    const a = kth(prev);
    const b = kth(prev + 1);
    const t = virtual - prev;
    const diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t; // numpy's _lerp
  });
}

export function letterbox(args: LetterboxArgs): LetterboxOutput {
  const { data, width, height, channels, newWidth, newHeight, left, top, outWidth, outHeight, pad, out } = args;
  let low = 0;
  let high = args.maxValue;
  if (args.percentiles !== null) {
    [low, high] = imagePercentiles(data, channels, args.maxValue, args.percentiles) as [number, number];
  }
  const range = high > low ? high - low : 1;

  const tx = linearTaps(width, newWidth, false);
  const ty = linearTaps(height, newHeight, false);
  const cx0 = tx.i0.map((i) => i * channels); // column offsets into HWC rows
  const cx1 = tx.i1.map((i) => i * channels);
  const rowStride = width * channels;
  const plane = outWidth * outHeight;
  const green = channels > 1 ? 1 : 0; // channel offsets; 0 = replicate grey
  const blue = channels > 1 ? 2 : 0;
  out.fill(pad);
  for (let y = 0; y < newHeight; y++) {
    const r0 = ty.i0[y]! * rowStride;
    const r1 = ty.i1[y]! * rowStride;
    const wy0 = ty.w0[y]!;
    const wy1 = ty.w1[y]!;
    const o = (top + y) * outWidth + left;
    for (let x = 0; x < newWidth; x++) {
      const c0 = cx0[x]!;
      const c1 = cx1[x]!;
      const wx0 = tx.w0[x]!;
      const wx1 = tx.w1[x]!;
      const red = letterboxSample(data, r0, r1, wy0, wy1, c0, c1, wx0, wx1, low, range);
      out[o + x] = red;
      out[plane + o + x] = green
        ? letterboxSample(data, r0 + green, r1 + green, wy0, wy1, c0, c1, wx0, wx1, low, range)
        : red;
      out[2 * plane + o + x] = blue
        ? letterboxSample(data, r0 + blue, r1 + blue, wy0, wy1, c0, c1, wx0, wx1, low, range)
        : red;
    }
  }
  return { data: out, low, high };
}
