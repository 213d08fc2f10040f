/**
 * channelPercentiles reference kernel: numpy.percentile(samples, q) (method 'linear', float64) of each
 * colour channel (alpha excluded) of an integer image, exactly, through histograms. The same histograms
 * give letterbox's pooled percentile stretch (`imagePercentiles` in ./letterbox.ts), and the webgpu
 * letterbox computes its stretch with them on the host.
 */
import { colourChannels, type PixelArray } from '../../ops/letterbox.js';
import type { ChannelPercentilesArgs, ChannelPercentilesOutput } from '../../ops/channelPercentiles.js';

/** One histogram (`maxValue + 1` counts) per colour channel of an HWC image: 1 for grey, 3 for RGB and RGBA. */
export function channelHistograms(data: PixelArray, channels: number, maxValue: number): Uint32Array[] {
  const hists = Array.from({ length: colourChannels(channels) }, () => new Uint32Array(maxValue + 1)); // at most 2^28 per channel
  for (let c = 0; c < hists.length; c++) {
    const hist = hists[c]!;
    for (let i = c; i < data.length; i += channels) {
      const v = data[i]!;
      hist[v] = hist[v]! + 1;
    }
  }
  return hists;
}

/**
 * numpy.percentile (method 'linear', float64) at each q (percent) of the `n` samples counted in `hist`
 * (value v in bin v).
 */
export function histogramPercentiles(hist: ArrayLike<number>, n: number, qs: readonly number[]): number[] {
  // k-th smallest sample (0-based) from the histogram
  const kth = (k: number): number => {
    let seen = 0;
    for (let v = 0; v < hist.length; v++) if ((seen += hist[v]!) > k) return v;
    return hist.length - 1;
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

export function channelPercentiles(args: ChannelPercentilesArgs): ChannelPercentilesOutput {
  const { data, channels, maxValue, percentiles } = args;
  const pixels = data.length / channels;
  const low: number[] = [];
  const high: number[] = [];
  for (const hist of channelHistograms(data, channels, maxValue)) {
    const [lo, hi] = histogramPercentiles(hist, pixels, percentiles) as [number, number];
    low.push(lo);
    high.push(hi);
  }
  return { low, high };
}
