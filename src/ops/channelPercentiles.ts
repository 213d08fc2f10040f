/**
 * Per-channel percentiles of an image: what a per-channel percentile stretch maps to 0 and 1, computed
 * once on a whole frame and then applied to each tile with `letterbox(tile, { levels })`.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkImage, checkPercentiles, maxValueOf, type PixelArray, type RawImage } from './letterbox.js';

export interface ChannelPercentilesArgs {
  /** HWC samples, 8- or 16-bit. */
  data: PixelArray;
  /** 1, 3 or 4 (alpha ignored). */
  channels: number;
  /** Full scale of the input depth: 255 (8-bit) or 65535 (16-bit). */
  maxValue: number;
  /** `[low, high]` in percent, `0 <= low < high <= 100`. */
  percentiles: readonly [number, number];
}

/** The values at the two percentiles, one entry per colour channel (1 for grey, 3 for RGB and RGBA). */
export interface ChannelPercentilesOutput {
  low: number[];
  high: number[];
}

export interface ChannelPercentilesOptions {
  backend?: BackendChoice;
}

export interface ChannelPercentilesResult extends ChannelPercentilesOutput, Ran {}

/**
 * The values at percentiles `q = [low, high]` of each colour channel of an image, exactly as
 * `numpy.percentile(channel, q)` (method 'linear', float64) per channel, alpha excluded: the per-channel
 * `levels` of `letterbox` (the result can be passed as they are).
 * @param image HWC pixels, 8-bit (Uint8Array, Uint8ClampedArray) or 16-bit (Uint16Array), 1, 3 or 4 channels
 * @param q `[low, high]` in percent, `0 <= low < high <= 100`
 * @returns `low` and `high`: one value per colour channel (1 for grey, 3 for RGB and RGBA), in the input's units
 * @throws InvalidArgumentError for a malformed image (as `letterbox`) or percentiles out of range or not increasing
 * @example
 * const levels = await channelPercentiles(frame, [0.5, 99.5]); // once, on the whole frame
 * for (const tile of tiles) await letterbox(tile, { levels, size: 640 }); // the same stretch on every tile
 */
export async function channelPercentiles(
  image: RawImage,
  q: readonly [number, number],
  options: ChannelPercentilesOptions = {},
): Promise<ChannelPercentilesResult> {
  const im = checkImage(image);
  const percentiles = checkPercentiles('q', q);
  const args: ChannelPercentilesArgs = {
    data: im.data,
    channels: im.channels,
    maxValue: maxValueOf(im.data),
    percentiles,
  };
  const { result, backend } = await dispatch('channelPercentiles', args, options.backend, im.data.length);
  return { low: result.low, high: result.high, backend };
}
