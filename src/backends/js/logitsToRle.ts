/**
 * Hand-bone post-process reference: logits `[C, h, w]` -> bilinear `[C, H, W]` (the resize kernel) ->
 * `logit > cutoff` (the float32 sigmoid threshold, see `sigmoidCutoff` in src/ops/logitsToRle.ts) ->
 * row-major RLE (the rle kernel) -> the competition's strings. It is literally that composition, one
 * channel at a time (one `[H, W]` float plane and one mask reused across channels), so it is the spec
 * the fused native kernel is held to: identical strings.
 */
import type { LogitsToRleArgs, LogitsToRleOutput } from '../../ops/logitsToRle.js';
export type { LogitsToRleArgs, LogitsToRleOutput } from '../../ops/logitsToRle.js';
import { resize, type ResizeArgs } from './resize.js';
import { rleEncode, runsArea } from './rle.js';
import { formatRle } from '../../ops/rle.js';

export function logitsToRle(args: LogitsToRleArgs): LogitsToRleOutput {
  const { data, channels, inHeight, inWidth, outHeight, outWidth, cutoff } = args;
  const inPlane = inHeight * inWidth;
  const n = outHeight * outWidth;
  const plane = new Float32Array(n);
  const mask = new Uint8Array(n);
  const rle: string[] = [];
  const areas: number[] = [];
  for (let c = 0; c < channels; c++) {
    resize({
      data: data.subarray(c * inPlane, (c + 1) * inPlane),
      channels: 1,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      out: plane,
    });
    for (let i = 0; i < n; i++) mask[i] = plane[i]! > cutoff ? 1 : 0;
    const runs = rleEncode({ mask, channels: 1, height: outHeight, width: outWidth, order: 'row' })[0]!;
    rle.push(formatRle(runs));
    areas.push(runsArea(runs));
  }
  return { rle, areas };
}
