/**
 * Host side of the native letterbox kernel (native/cpu/letterbox.cc, and native/cuda/letterbox.cu, whose
 * binding takes the same arguments): the op's arguments in the addon's form.
 */
import type { LetterboxArgs, LetterboxOutput, PixelArray } from '../../ops/letterbox.js';
import type { NativeAddon } from '../../../bindings/native.js';

/** Pixels as the addon takes them: a Uint8ClampedArray viewed as a Uint8Array (no copy). */
export function addonPixels(data: PixelArray): Uint8Array | Uint16Array {
  return data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
}

/** The op's arguments in the native letterbox binding's form (also the cuda `letterboxToDevice`'s). */
export function letterboxAddonArgs(a: LetterboxArgs): Parameters<NativeAddon['letterbox']>[0] {
  const { data, percentiles: q, levels } = a;
  return {
    ...a,
    data: addonPixels(data),
    stretch: q !== null,
    percentileLow: q?.[0] ?? 0,
    percentileHigh: q?.[1] ?? 100,
    levelLow: Float64Array.from(levels.low),
    levelHigh: Float64Array.from(levels.high),
  };
}

/** Kernel `letterbox` on an addon object with the native letterbox binding. */
export async function letterboxNative(
  a: LetterboxArgs,
  addon: Pick<NativeAddon, 'letterbox'>,
): Promise<LetterboxOutput> {
  const { low, high } = await addon.letterbox(letterboxAddonArgs(a));
  return { data: a.out, low, high };
}
