/**
 * Host side of the native letterbox kernel (native/cpu/letterbox.cc, and native/cuda/letterbox.cu, whose
 * binding takes the same arguments): the op's arguments in the addon's form.
 */
import type { LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
import type { NativeAddon } from '../../../bindings/native.js';

/** Kernel `letterbox` on an addon object with the native letterbox binding. */
export async function letterboxNative(
  a: LetterboxArgs,
  addon: Pick<NativeAddon, 'letterbox'>,
): Promise<LetterboxOutput> {
  const { data, percentiles: q } = a;
  const { low, high } = await addon.letterbox({
    ...a,
    data: data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data,
    stretch: q !== null,
    percentileLow: q?.[0] ?? 0,
    percentileHigh: q?.[1] ?? 100,
  });
  return { data: a.out, low, high };
}
