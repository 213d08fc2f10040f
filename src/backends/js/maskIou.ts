/**
 * pycocotools' `mask.iou(dt, gt, iscrowd)` on RLEs, reference kernel: box IoU of the masks' `toBbox`
 * first, exact run-wise IoU only where that is > 0 (a crowd ground truth divides by the detection's
 * area), -1 where sizes differ. Flat inputs (counts concatenated, offsets, sizes) so the native
 * kernel reads the same arrays.
 */
import type { MaskIouArgs } from '../../ops/maskIou.js';
import { cocoRleIou, type CocoRle } from './cocoRle.js';

/** Views of flat RLEs as CocoRle objects (no copy). */
export function flatRles(counts: Uint32Array, offsets: Int32Array, sizes: Int32Array): CocoRle[] {
  const out: CocoRle[] = [];
  for (let i = 0; i + 1 < offsets.length; i++)
    out.push({
      height: sizes[2 * i]!,
      width: sizes[2 * i + 1]!,
      counts: counts.subarray(offsets[i]!, offsets[i + 1]!),
    });
  return out;
}

export function maskIou(a: MaskIouArgs): Float64Array {
  const dt = flatRles(a.dtCounts, a.dtOffsets, a.dtSizes);
  const gt = flatRles(a.gtCounts, a.gtOffsets, a.gtSizes);
  return cocoRleIou(dt, gt, a.iscrowd);
}
