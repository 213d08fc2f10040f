/**
 * Host side of the native letterbox kernel (native/cpu/letterbox.cc, and native/cuda/letterbox.cu, whose
 * binding takes the same arguments): the op's arguments in the addon's form.
 */
import type { LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
import type { NativeAddon } from '../../../bindings/native.js';

/** The op's arguments in the native letterbox binding's form (also the cuda `letterboxToDevice`'s). */
export function letterboxAddonArgs(a: LetterboxArgs): Parameters<NativeAddon['letterbox']>[0] {
  const { data, percentiles: q } = a;
  return {
    ...a,
    data: data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data,
    stretch: q !== null,
    percentileLow: q?.[0] ?? 0,
    percentileHigh: q?.[1] ?? 100,
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
