/**
 * The op table: every dispatched op's kernel argument and result types, in one place. The types are
 * defined beside each op's checks (`src/ops/<op>.ts`); every backend's kernels are typed against this
 * table (see `Kernel` in src/backends/registry.ts), and the native addon's typings are derived from
 * it (`NativeOpTable` in ./nativeTable.ts, used by bindings/native.ts), so a change to an op's arguments fails to compile
 * wherever a kernel disagrees.
 *
 * Adding an op: define its `Args`/result types in `src/ops/<op>.ts`, add a row here, and register a
 * kernel per backend (docs/backends.md).
 */
import type { IouArgs } from './iou.js';
import type { NmsArgs } from './nms.js';
import type { YoloDetections, YoloNmsArgs } from './yoloNms.js';
import type { LetterboxArgs, LetterboxOutput } from './letterbox.js';
import type { ResizeArgs } from './resize.js';
import type { ScaleBoxesArgs } from './scaleBoxes.js';
import type { RleDecodeArgs, RleEncodeArgs, RleOrder, RleOverlapArgs } from './rle.js';
import type { DiceArgs } from './dice.js';
import type { DbscanArgs, DbscanKernelResult } from './dbscan.js';
import type { BaselineArgs, BaselineKernelResult } from './baseline.js';
import type { LogitsToRleArgs, LogitsToRleOutput } from './logitsToRle.js';
import type { SoftNmsArgs, SoftNmsOutput } from './softNms.js';
import type { NmmArgs, NmmOutput } from './nmm.js';
import type { WbfArgs, WbfOutput } from './wbf.js';
import type { MaskIouArgs } from './maskIou.js';
import type { ChannelPercentilesArgs, ChannelPercentilesOutput } from './channelPercentiles.js';

/**
 * Each op's kernel arguments (validated and normalised by `src/ops/<op>.ts`) and kernel result.
 * The COCO scoring ops (`cocoEval`, `vocAp`), whose inputs come from Node's file loaders, add their
 * rows beside their definitions (declaration merging in src/ops/cocoEval.ts and vocAp.ts), so the
 * browser entry compiles without them.
 */
export interface OpTable {
  iou: { args: IouArgs; result: Float32Array };
  nms: { args: NmsArgs; result: Int32Array };
  yoloNms: { args: YoloNmsArgs; result: YoloDetections };
  letterbox: { args: LetterboxArgs; result: LetterboxOutput };
  channelPercentiles: { args: ChannelPercentilesArgs; result: ChannelPercentilesOutput };
  resize: { args: ResizeArgs; result: Float32Array };
  scaleBoxes: { args: ScaleBoxesArgs; result: Float32Array };
  rleEncode: { args: RleEncodeArgs; result: Uint32Array[] };
  rleDecode: { args: RleDecodeArgs; result: Uint8Array };
  rleOverlap: { args: RleOverlapArgs; result: Float64Array };
  dice: { args: DiceArgs; result: Float64Array };
  dbscan: { args: DbscanArgs; result: DbscanKernelResult };
  baseline: { args: BaselineArgs; result: BaselineKernelResult };
  logitsToRle: { args: LogitsToRleArgs; result: LogitsToRleOutput };
  softNms: { args: SoftNmsArgs; result: SoftNmsOutput };
  nmm: { args: NmmArgs; result: NmmOutput };
  wbf: { args: WbfArgs; result: WbfOutput };
  maskIou: { args: MaskIouArgs; result: Float64Array };
}

export type OpName = keyof OpTable;
export type OpArgs<Op extends OpName> = OpTable[Op]['args'];
export type OpResult<Op extends OpName> = OpTable[Op]['result'];

/** The ops every entry point has (cocoEval, cocoEvalPrepare, cocoPolygons and vocAp are Node's), at run time; the record makes the compiler check it. */
const OPS: Record<Exclude<OpName, 'cocoEval' | 'cocoEvalPrepare' | 'cocoPolygons' | 'vocAp'>, true> = {
  iou: true,
  nms: true,
  yoloNms: true,
  letterbox: true,
  channelPercentiles: true,
  resize: true,
  scaleBoxes: true,
  rleEncode: true,
  rleDecode: true,
  rleOverlap: true,
  dice: true,
  dbscan: true,
  baseline: true,
  logitsToRle: true,
  softNms: true,
  nmm: true,
  wbf: true,
  maskIou: true,
};
export const OP_NAMES = Object.keys(OPS) as OpName[];
/** The ops only the Node entry registers. */
export const NODE_OP_NAMES = ['cocoEval', 'cocoEvalPrepare', 'cocoPolygons', 'vocAp'] as const;
