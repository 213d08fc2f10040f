/**
 * Letterbox reference kernel: bilinear resize (half-pixel centres) of a uint8/uint16 HWC image fused with
 * HWC -> CHW float32 normalisation and constant padding, in one pass over the output.
 *
 * Per output sample the whole contract is `letterboxSample` below: the bilinear value at float64 taps
 * from `linearTaps(in, out, false)` (width first, then height, as torch on float64 tensors), then
 * `clamp((v - low[c]) / range[c], 0, 1)` with output channel c's levels (`kernelLevels`: per channel,
 * or the pooled percentile values on all three); the result is rounded once to float32. A native kernel computes the
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
import { channelHistograms, histogramPercentiles } from './channelPercentiles.js';

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
 * an integer image, pooled, exactly: the sum of the channels' histograms.
 */
export function imagePercentiles(
  data: PixelArray,
  channels: number,
  maxValue: number,
  qs: readonly number[],
): number[] {
  const hists = channelHistograms(data, channels, maxValue);
  const pooled = new Float64Array(maxValue + 1);
  for (const h of hists) for (let v = 0; v <= maxValue; v++) pooled[v]! += h[v]!;
  return histogramPercentiles(pooled, (data.length / channels) * hists.length, qs);
}

/** What a kernel normalises output channel c with: `clamp((v - low[c]) / range[c], 0, 1)`. */
export interface KernelLevels {
  low: [number, number, number];
  high: [number, number, number];
  /** `high - low`, or 1 where `high <= low`. */
  range: [number, number, number];
}

/**
 * The levels of a letterbox call per output channel: the pooled percentile values on every channel
 * with `percentiles` (computed here, on the host), else `args.levels`. Every backend normalises with
 * these three (low, range) pairs (the native ones compute the same from the same arguments).
 */
export function kernelLevels(
  args: Pick<LetterboxArgs, 'data' | 'channels' | 'maxValue' | 'percentiles' | 'levels'>,
): KernelLevels {
  const three = (a: readonly number[]): [number, number, number] => [a[0]!, a[1]!, a[2]!];
  let low = three(args.levels.low);
  let high = three(args.levels.high);
  if (args.percentiles !== null) {
    const [lo, hi] = imagePercentiles(args.data, args.channels, args.maxValue, args.percentiles) as [number, number];
    low = [lo, lo, lo];
    high = [hi, hi, hi];
  }
  const range = three(low.map((l, c) => (high[c]! > l ? high[c]! - l : 1)));
  return { low, high, range };
}

export function letterbox(args: LetterboxArgs): LetterboxOutput {
  const { data, width, height, channels, newWidth, newHeight, left, top, outWidth, outHeight, pad, out } = args;
  const { low, high, range } = kernelLevels(args);
  const [lr, lg, lb] = low;
  const [sr, sg, sb] = range;

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
      const red = letterboxSample(data, r0, r1, wy0, wy1, c0, c1, wx0, wx1, lr, sr);
      out[o + x] = red;
      out[plane + o + x] = green
        ? letterboxSample(data, r0 + green, r1 + green, wy0, wy1, c0, c1, wx0, wx1, lg, sg)
        : red;
      out[2 * plane + o + x] = blue
        ? letterboxSample(data, r0 + blue, r1 + blue, wy0, wy1, c0, c1, wx0, wx1, lb, sb)
        : red;
    }
  }
  return { data: out, low: low[0], high: high[0] };
}
