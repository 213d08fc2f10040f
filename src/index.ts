/**
 * maskbox public API: re-exports only. Every op is async, validates its arguments (typed errors naming
 * the argument) and says which backend ran.
 */
import { wireBackends } from './backends/index.js';

// The Node entry wires js, cpu and webgpu (the browser entry, src/browser.ts, wires js and webgpu).
wireBackends();

export * from './api.js';
// Node-only additions to the ops of ./api.ts
export { runsToCocoCounts, cocoCountsToRuns, type CocoCounts } from './ops/rle.js';
export { diceFromCsv, type CsvDiceOptions, type CsvDiceResult } from './ops/diceCsv.js';
export { type BoxTransform } from './ops/scaleBoxes.js';

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
export {
  parseDetectionsFile,
  fuseDetectionFiles,
  type DetectionsFile,
  type DetectionsFormat,
  type BoxEnsembleOptions,
  type BoxEnsembleResult,
} from './model/boxEnsemble.js';
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

// Distributed runs on BullMQ + Redis, and the --shard split (src/distributed).
export * from './distributed/index.js';
