/**
 * The native addon's functions, typed from the op table (./table.ts): for each op it implements
 * (native/cpu/<op>.cc), the op's kernel arguments plus the outputs of known size, allocated in JS and
 * passed in. bindings/native.ts derives `NativeAddon` from this; test/contract.test.ts checks that a
 * built addon exports each one. Node only (the browser entry never loads the addon).
 */
import type { OpArgs, OpResult } from './table.js';
import type { LetterboxArgs } from './letterbox.js';
import type { ChannelPercentilesArgs } from './channelPercentiles.js';
import type { RleOrder } from './rle.js';
import type { CocoEvalArgs } from './cocoEval.js';
import type { NativeCocoPrepareArgs, NativeCocoPrepareResult } from '../backends/cpu/cocoEvalPrepare.js';
import type { BaselineArgs } from './baseline.js';

/** Formats the native `rleEncode` can return: run lists (`runs`, `coco` counts) or strings. */
export type NativeRleFormat = 'runs' | 'coco' | 'rle' | 'cocoString';

/** One row per addon function (besides `info()`). */
export interface NativeOpTable {
  iou: { args: OpArgs<'iou'> & { out: Float32Array }; result: void };
  nms: { args: OpArgs<'nms'>; result: OpResult<'nms'> };
  yoloNms: { args: OpArgs<'yoloNms'>; result: OpResult<'yoloNms'> };
  letterbox: {
    args: Omit<LetterboxArgs, 'data' | 'percentiles' | 'levels'> & {
      data: Uint8Array | Uint16Array;
      stretch: boolean;
      percentileLow: number;
      percentileHigh: number;
      /** Levels per output channel (R, G, B), 3 each; used when `stretch` is false. */
      levelLow: Float64Array;
      levelHigh: Float64Array;
    };
    /** The pooled percentile values, or entry 0 of the levels. */
    result: { low: number; high: number };
  };
  /** Fills `low` and `high` (one value per colour channel: 1 for grey, 3 for RGB and RGBA). */
  channelPercentiles: {
    args: Omit<ChannelPercentilesArgs, 'data' | 'percentiles'> & {
      data: Uint8Array | Uint16Array;
      percentileLow: number;
      percentileHigh: number;
      low: Float64Array;
      high: Float64Array;
    };
    result: void;
  };
  resize: { args: OpArgs<'resize'>; result: void };
  scaleBoxes: { args: OpArgs<'scaleBoxes'>; result: void };
  logitsToRle: { args: OpArgs<'logitsToRle'>; result: OpResult<'logitsToRle'> };
  rleEncode: { args: OpArgs<'rleEncode'> & { format?: NativeRleFormat }; result: Uint32Array[] | string[] };
  rleDecode: {
    args: { height: number; width: number; order: RleOrder; out: Uint8Array; zeroed?: boolean } & (
      { runs: readonly Uint32Array[] } | { rle: readonly string[] } | { coco: readonly string[] }
    );
    result: void;
  };
  rleOverlap: { args: OpArgs<'rleOverlap'> & { out: Float64Array }; result: void };
  dice: { args: OpArgs<'dice'> & { out: Float64Array }; result: void };
  cocoEval: { args: CocoEvalArgs & { precision: Float64Array; recall: Float64Array }; result: void };
  /** The kernel arguments of `cocoEval` from flat arrays (src/backends/cpu/cocoEvalPrepare.ts). */
  cocoEvalPrepare: { args: NativeCocoPrepareArgs; result: NativeCocoPrepareResult };
  /** Fills `labels` and `core`; resolves with the number of clusters. */
  dbscan: { args: OpArgs<'dbscan'> & { labels: Int32Array; core: Uint8Array }; result: number };
  baseline: {
    args: Omit<BaselineArgs, 'scale' | 'box'> & { unit: boolean; edges: boolean };
    result: OpResult<'baseline'>;
  };
  softNms: { args: OpArgs<'softNms'>; result: OpResult<'softNms'> };
  nmm: { args: OpArgs<'nmm'>; result: OpResult<'nmm'> };
  wbf: { args: OpArgs<'wbf'>; result: OpResult<'wbf'> };
  maskIou: { args: OpArgs<'maskIou'> & { out: Float64Array }; result: void };
  /** Reads every byte once on the native pool (the benchmarks' stream-read floor). */
  readFloor: { args: { mask: Uint8Array }; result: number };
  /** The COCO results-file tokenizer (src/io/cocoJsonNative.ts). */
  parseCocoResults: { args: { bytes: Uint8Array }; result: NativeCocoResults };
  /** Ground-truth polygons to COCO RLE counts, many masks at once (src/ops/cocoEvalPrepare.ts). */
  /**
   * Plain PNGs into `out` (native/cpu/pngDecode.cc, src/io/pngNative.ts); resolves '' when decoded,
   * else why it declined (the caller then uses sharp).
   */
  pngDecode: {
    args: { bytes: Uint8Array; out: Uint8Array; width: number; height: number; channels: 1 | 3; bitDepth: 8 | 16 };
    result: string;
  };
  cocoPolygons: {
    args: { coords: Float64Array; polyStart: Int32Array; maskStart: Int32Array; height: Int32Array; width: Int32Array };
    result: { counts: Uint32Array; start: Int32Array };
  };
}

export type NativeOpName = keyof NativeOpTable;

const NATIVE_OPS: Record<NativeOpName, true> = {
  iou: true,
  nms: true,
  yoloNms: true,
  letterbox: true,
  channelPercentiles: true,
  resize: true,
  scaleBoxes: true,
  logitsToRle: true,
  rleEncode: true,
  rleDecode: true,
  rleOverlap: true,
  dice: true,
  cocoEval: true,
  cocoEvalPrepare: true,
  dbscan: true,
  baseline: true,
  softNms: true,
  nmm: true,
  wbf: true,
  readFloor: true,
  maskIou: true,
  parseCocoResults: true,
  cocoPolygons: true,
  pngDecode: true,
};
/** Every function the native addon exports besides `info()`. */
export const NATIVE_OP_NAMES = Object.keys(NATIVE_OPS) as NativeOpName[];

/** What the addon's `parseCocoResults` resolves to (see native/cpu/cocoJson.cc): flat arrays, or `error`. */
export interface NativeCocoResults {
  error?: string;
  kind: 'bbox' | 'segm';
  imageId: Float64Array;
  categoryId: Float64Array;
  score: Float64Array;
  bbox: Float64Array;
  area: Float64Array;
  /** Mask results: 1 where `bbox` is the mask's toBbox (no bbox given); box results: empty. */
  boxFromMask: Uint8Array;
  segKind: Uint8Array;
  segSize: Float64Array;
  /** Compressed RLE strings' bytes (a Node Buffer from the addon). */
  text: Uint8Array;
  textStart: Float64Array;
  counts: Uint32Array;
  countsStart: Float64Array;
}
