/**
 * The platform-neutral public API, re-exported by both entry points (src/index.ts for Node,
 * src/browser.ts for browsers): errors, backend control, and the ops that need no Node I/O.
 * Nothing here wires a backend: the entry points do.
 */
export * from './errors.js';
export {
  setDefaultBackend,
  getDefaultBackend,
  initBackends,
  disposeBackends,
  BACKEND_NAMES,
  type BackendName,
  type BackendChoice,
  type BackendStatus,
} from './backends/registry.js';
export { backends } from './backends/status.js';

export { boxIou, type IouOptions, type IouResult } from './ops/iou.js';
export { nms, type NmsOptions, type NmsResult } from './ops/nms.js';
export { softNms, type SoftNmsOptions, type SoftNmsResult, type SoftNmsMethod } from './ops/softNms.js';
export { nmm, type NmmOptions, type NmmResult, type MatchMetric } from './ops/nmm.js';
export { weightedBoxesFusion, type WbfInput, type WbfOptions, type WbfResult, type WbfConfType } from './ops/wbf.js';
export {
  nonMaxSuppression,
  YOLO_LAYOUTS,
  type YoloLayout,
  type YoloNmsOptions,
  type YoloNmsResult,
} from './ops/yoloNms.js';
export {
  letterbox,
  letterboxParams,
  pythonRound,
  type LetterboxOptions,
  type LetterboxParams,
  type LetterboxResult,
  type LetterboxGeometry,
  type ChannelLevels,
} from './ops/letterbox.js';
export {
  channelPercentiles,
  type ChannelPercentilesOptions,
  type ChannelPercentilesResult,
} from './ops/channelPercentiles.js';
export { scaleBoxes, letterboxTransform, type ScaleBoxesOptions, type ScaleBoxesResult } from './ops/scaleBoxes.js';
export { resizeBilinear, type ResizeOptions, type ResizeResult } from './ops/resize.js';
export {
  encodeRle,
  decodeRle,
  parseRle,
  formatRle,
  maskToRuns,
  runsToMask,
  encodeCocoRle,
  decodeCocoRle,
  rleArea,
  rleIou,
  rleOverlap,
  type MaskShape,
  type RleOptions,
} from './ops/rle.js';
export { dice, rleDice, diceScore, type DiceOptions, type DiceResult } from './ops/dice.js';
export { logitsToRle, type LogitsToRleOptions, type LogitsToRleResult } from './ops/logitsToRle.js';
export { dbscan, type DbscanOptions, type DbscanResult } from './ops/dbscan.js';
export {
  dbscanBaseline,
  baselineScore,
  BASELINE_DEFAULTS,
  BASELINE_SCORE_HALF,
  type BaselineImage,
  type BaselineOptions,
  type BaselineResult,
} from './ops/baseline.js';
