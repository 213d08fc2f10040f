/**
 * maskbox public API: re-exports only. Every op is async, validates its arguments (typed errors naming
 * the argument) and says which backend ran.
 */
export * from './errors.js';
export {
  setDefaultBackend,
  getDefaultBackend,
  BACKEND_NAMES,
  type BackendName,
  type BackendChoice,
  type BackendStatus,
} from './backends/registry.js';
export { backends } from './backends/status.js';

// Boxes and detection post-processing
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

// Preprocessing
export {
  letterbox,
  letterboxParams,
  pythonRound,
  type LetterboxOptions,
  type LetterboxParams,
  type LetterboxResult,
  type LetterboxGeometry,
} from './ops/letterbox.js';
export {
  scaleBoxes,
  letterboxTransform,
  type BoxTransform,
  type ScaleBoxesOptions,
  type ScaleBoxesResult,
} from './ops/scaleBoxes.js';
export { resizeBilinear, type ResizeOptions, type ResizeResult } from './ops/resize.js';

// Masks: RLE, Dice, fused logits -> RLE
export {
  encodeRle,
  decodeRle,
  parseRle,
  formatRle,
  maskToRuns,
  runsToMask,
  encodeCocoRle,
  decodeCocoRle,
  runsToCocoCounts,
  cocoCountsToRuns,
  rleArea,
  rleIou,
  rleOverlap,
  type MaskShape,
  type RleOptions,
  type CocoCounts,
} from './ops/rle.js';
export {
  dice,
  rleDice,
  diceFromCsv,
  diceScore,
  type DiceOptions,
  type DiceResult,
  type CsvDiceOptions,
  type CsvDiceResult,
} from './ops/dice.js';
export { logitsToRle, type LogitsToRleOptions, type LogitsToRleResult } from './ops/logitsToRle.js';

// Scoring
export { cocoEval, type CocoEvalOptions, type CocoEvalResult } from './ops/cocoEval.js';
export {
  maskIou,
  maskMerge,
  maskArea,
  maskToBbox,
  maskFrPoly,
  maskFrBbox,
  maskEncode,
  maskDecode,
  type MaskRle,
  type MaskIouResult,
} from './ops/cocoMask.js';
export {
  COCO_STAT_NAMES,
  formatCocoSummary,
  cocoPerClass,
  type CocoStats,
  type CocoStatName,
} from './ops/cocoSummary.js';
export { vocAp, type VocApOptions, type VocApResult } from './ops/vocAp.js';

// Clustering and the DBSCAN baseline detector
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

// Models
export {
  Detector,
  type DetectorOptions,
  type DetectorDetectOptions,
  type Detections,
  type DetectorImage,
} from './model/detector.js';
export { autoTile, tileGrid, AUTO_TILE_SCALE, type TileOptions, type Tile } from './model/tiling.js';
export { Segmenter, type SegmenterOptions, type SegmentOptions, type Segmentation } from './model/segmenter.js';
export { hardVoteCsv, voteRuns, type HardVoteOptions } from './model/ensemble.js';
export { inferLayout, DETECTOR_LAYOUTS, type DetectorLayout } from './model/layouts.js';
export { HANDBONE_CLASSES } from './model/classes.js';

// I/O
export { readImage, MAX_IMAGE_PIXELS, type RawImage as DecodedImage, type ReadImageOptions } from './io/image.js';
export { readCocoGroundTruth, readCocoResults, parseCocoGroundTruth, parseCocoResults } from './io/cocoJson.js';
export {
  readSubmissionCsv,
  formatSubmissionCsv,
  SubmissionCsvWriter,
  SUBMISSION_HEADER,
  type SubmissionRow,
} from './io/submissionCsv.js';
export {
  detectionsToRows,
  formatDetectionsCsv,
  parseDetectionsCsv,
  roundHalfEven,
  DETECTIONS_CSV_HEADER,
} from './io/detectionsCsv.js';
export { parseYoloTxt, formatYoloTxt } from './io/yoloTxt.js';

// Pipelines and simulation
export { runBatch, type RunOptions, type BatchSummary, type Processor, type Sink } from './pipeline/runner.js';
export { defaultModelPath } from './pipeline/defaultModel.js';
export { simulateCdv, resolveCdvParams, CDV_DEFAULTS, CDV_PRESETS, type CdvParams } from './sim/cdv.js';
export { writeCdvDataset, type CdvDatasetOptions } from './sim/cdvDataset.js';
