/**
 * COCO evaluation reference kernel (pycocotools `COCOeval.evaluate` + `accumulate`), in three
 * separable stages over flat typed arrays — the layout a native kernel reads as is:
 * 1. `computeIous` (this file): per cell (image x category), the `[D, G]` IoU matrix, as pycocotools'
 *    `computeIoU`: box IoU (`bbIou`) or RLE IoU (`rleIou`), crowd ground truths using the detection's
 *    area as the union.
 * 2. `evaluateCells` (`cocoMatch.ts`): greedy matching per cell, area range and IoU threshold
 *    (`evaluateImg`), giving each detection a state: true positive, false positive or ignored.
 * 3. `accumulateCoco` (`cocoAccumulate.ts`): per category, area range and max-detections, the
 *    precision at each recall threshold and the final recall (`accumulate`).
 * Grouping, sorting and RLE conversion happen once in `src/ops/cocoEval.ts`.
 */
import type { FlatRles, CocoEvalArgs, CocoEvalOutput } from '../../ops/cocoEval.js';
export type { FlatRles, CocoEvalArgs, CocoEvalOutput } from '../../ops/cocoEval.js';
import { bboxIouXywh, countsIou } from './cocoRle.js';
import { evaluateCells } from './cocoMatch.js';
import { accumulateCoco } from './cocoAccumulate.js';

export interface CellIous {
  /** Per cell, `[D, G]` detection-major, concatenated. */
  iou: Float64Array;
  /** Offset of each cell's matrix in `iou` (length cells + 1). */
  start: Int32Array;
}

/** Stage 1: IoU matrices of every cell. */
export function computeIous(args: CocoEvalArgs): CellIous {
  const { gtStart, dtStart, gtBox, dtBox, gtCrowd } = args;
  const cells = gtStart.length - 1;
  const start = new Int32Array(cells + 1);
  for (let c = 0; c < cells; c++) {
    start[c + 1] = start[c]! + (gtStart[c + 1]! - gtStart[c]!) * (dtStart[c + 1]! - dtStart[c]!);
  }
  const iou = new Float64Array(start[cells]!);
  const gr = args.gtRle,
    dr = args.dtRle;
  for (let c = 0; c < cells; c++) {
    const g0 = gtStart[c]!,
      ng = gtStart[c + 1]! - g0;
    const d0 = dtStart[c]!,
      nd = dtStart[c + 1]! - d0;
    if (ng === 0 || nd === 0) continue;
    const o = start[c]!;
    bboxIouXywh(dtBox, gtBox, gtCrowd, iou, o, d0, nd, g0, ng);
    if (args.iouType !== 'segm' || !gr || !dr) continue;
    for (let d = 0; d < nd; d++) {
      const dj = d0 + d;
      for (let g = 0; g < ng; g++) {
        const idx = o + d * ng + g;
        if (!(iou[idx]! > 0)) continue;
        const gj = g0 + g;
        if (dr.height[dj] !== gr.height[gj] || dr.width[dj] !== gr.width[gj]) {
          iou[idx] = -1;
          continue;
        }
        const a0 = dr.start[dj]!,
          b0 = gr.start[gj]!;
        iou[idx] = countsIou(
          dr.counts,
          a0,
          dr.start[dj + 1]! - a0,
          gr.counts,
          b0,
          gr.start[gj + 1]! - b0,
          gtCrowd[gj] !== 0,
        );
      }
    }
  }
  return { iou, start };
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The `cocoEval` kernel: IoUs, per-cell matching, accumulation (yielding to the event loop between stages). */
export async function cocoEval(args: CocoEvalArgs): Promise<CocoEvalOutput> {
  const ious = computeIous(args);
  await nextTick();
  const cells = evaluateCells(args, ious);
  await nextTick();
  return accumulateCoco(args, cells);
}
