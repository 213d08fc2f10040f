/**
 * pycocotools' `mask.iou(dt, gt, iscrowd)` as a dispatched op (js reference, native cpu kernel): the
 * IoU matrix of RLEs without decoding them, or of `[x, y, w, h]` boxes. The rest of the mask API is in
 * ./cocoMask.ts.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { bboxIouXywh } from '../backends/js/cocoRle.js';
import { checkUint8Array, invalid } from '../validate.js';
import { boxList, flatRles, rleList, type MaskRle } from './cocoMaskArgs.js';

/** The kernel's arguments: RLEs flattened (counts concatenated, offsets, sizes) so native code reads them in place. */
export interface MaskIouArgs {
  /** All detections' counts concatenated; detection i is `dtCounts[dtOffsets[i] .. dtOffsets[i+1])`. */
  dtCounts: Uint32Array;
  dtOffsets: Int32Array;
  /** `[h, w]` per detection. */
  dtSizes: Int32Array;
  gtCounts: Uint32Array;
  gtOffsets: Int32Array;
  gtSizes: Int32Array;
  /** 1 where ground truth g is a crowd region. */
  iscrowd: Uint8Array;
}

export interface MaskIouOptions {
  backend?: BackendChoice;
}

export interface MaskIouResult extends Ran {
  /** Row-major `[D, G]`: IoU of detection d and ground truth g; -1 where their sizes differ. */
  iou: Float64Array;
  rows: number;
  cols: number;
}

/**
 * pycocotools' `mask.iou(dt, gt, iscrowd)`: IoU of every detection with every ground truth. Both
 * RLEs (run-wise, no decoding; box IoU of their `toBbox` first, exact only where that is > 0) or both
 * boxes `[x, y, w, h]` (bbIou). With `iscrowd[g]` the union is the detection's area (intersection over
 * the detection), as COCOeval scores crowd regions.
 * @throws InvalidArgumentError for malformed RLEs (counts not summing to h*w), boxes or iscrowd
 * @example const { iou } = await maskIou(dtRles, gtRles, [0, 1]); // iou[d * gt.length + g]
 */
export async function maskIou(
  dt: readonly MaskRle[] | readonly number[][],
  gt: readonly MaskRle[] | readonly number[][],
  iscrowd?: ArrayLike<number | boolean>,
  options: MaskIouOptions = {},
): Promise<MaskIouResult> {
  const rows = Array.isArray(dt) ? dt.length : invalid('dt', 'an array of RLEs or boxes', dt);
  const cols = Array.isArray(gt) ? gt.length : invalid('gt', 'an array of RLEs or boxes', gt);
  const crowd = new Uint8Array(cols);
  if (iscrowd !== undefined) {
    if (typeof iscrowd !== 'object' || iscrowd === null || iscrowd.length !== cols)
      invalid('iscrowd', `${cols} flags (one per ground truth)`, iscrowd);
    for (let g = 0; g < cols; g++) crowd[g] = iscrowd[g] ? 1 : 0;
  }
  const isBox = (v: unknown) => Array.isArray(v);
  if (rows > 0 && cols > 0 && isBox(dt[0]) !== isBox(gt[0]))
    invalid('gt', 'the same kind as dt (both RLEs or both boxes)', gt[0]);
  if ((rows > 0 && isBox(dt[0])) || (cols > 0 && isBox(gt[0]))) {
    const out = new Float64Array(rows * cols);
    bboxIouXywh(boxList('dt', dt), boxList('gt', gt), crowd, out);
    return { iou: out, rows, cols, backend: 'js' };
  }
  const d = flatRles(rleList('dt', dt)),
    g = flatRles(rleList('gt', gt));
  checkUint8Array('iscrowd', crowd, cols);
  const args: MaskIouArgs = {
    dtCounts: d.counts,
    dtOffsets: d.offsets,
    dtSizes: d.sizes,
    gtCounts: g.counts,
    gtOffsets: g.offsets,
    gtSizes: g.sizes,
    iscrowd: crowd,
  };
  const work = d.counts.length * cols + g.counts.length * rows;
  const { result, backend } = await dispatch('maskIou', args, options.backend, work);
  return { iou: result, rows, cols, backend };
}
