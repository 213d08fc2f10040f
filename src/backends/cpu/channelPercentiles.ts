/** Host side of the native channelPercentiles kernel (native/cpu/channelPercentiles.cc). */
import type { ChannelPercentilesArgs, ChannelPercentilesOutput } from '../../ops/channelPercentiles.js';
import { colourChannels } from '../../ops/letterbox.js';
import type { NativeAddon } from '../../../bindings/native.js';
import { addonPixels } from './letterbox.js';

/** Kernel `channelPercentiles`: the addon fills one value per colour channel into `low` and `high`. */
export async function channelPercentilesCpu(
  a: ChannelPercentilesArgs,
  addon: Pick<NativeAddon, 'channelPercentiles'>,
): Promise<ChannelPercentilesOutput> {
  const colours = colourChannels(a.channels);
  const low = new Float64Array(colours);
  const high = new Float64Array(colours);
  await addon.channelPercentiles({
    data: addonPixels(a.data),
    maxValue: a.maxValue,
    channels: a.channels,
    percentileLow: a.percentiles[0],
    percentileHigh: a.percentiles[1],
    low,
    high,
  });
  return { low: Array.from(low), high: Array.from(high) };
}
