/**
 * A detector's raw output kept after one inference, and the post-processing that turns it into boxes
 * again for any `conf`/`iou`/`maxDetections`: YOLOv5's NMS (`nonMaxSuppression`) on the raw prediction,
 * then `scaleBoxes` back to the image. This is exactly what `Detector.detect` does after inference, so
 * re-running it gives the boxes `maskbox detect` writes for those settings. No Node imports: the web page
 * bundles this file and runs the same code in the browser.
 */
import type { BackendChoice } from '../backends/registry.js';
import { nonMaxSuppression } from '../ops/yoloNms.js';
import { scaleBoxes, type BoxTransform } from '../ops/scaleBoxes.js';
import { checkInteger, checkRange, invalid } from '../validate.js';

/** Layouts whose raw output can be kept and post-processed again. */
export type RawLayout = 'yolov5' | 'yolov8';

/** What describes a kept raw output (everything but the numbers themselves); JSON-safe. */
export interface RawMeta {
  /** `[1, N, K]` rows (YOLOv5/v6) or `[1, K, N]` columns (YOLOv8/11). */
  dims: [number, number, number];
  /** How `nonMaxSuppression` reads the rows: `'yolov5'` (with objectness; YOLOv6 too) or `'yolov8'`. */
  layout: RawLayout;
  /** Letterbox transform back to the image (YOLOv5's scale_boxes). */
  transform: BoxTransform;
}

/** One image's raw prediction and how to map it back. */
export interface RawOutput extends RawMeta {
  /** The prediction tensor of this image, float32, `dims[1] * dims[2]` values. */
  data: Float32Array;
}

/** Post-processing settings (the `detect` options). */
export interface PostprocessOptions {
  /** Keep `score > conf`. Default 0.4. */
  conf?: number;
  /** NMS suppresses IoU `> iou`. Default 0.45. */
  iou?: number;
  /** Boxes out at most. Default 1000. */
  maxDetections?: number;
  /** Class-agnostic NMS. Default false. */
  agnostic?: boolean;
  backend?: BackendChoice;
}

/** Boxes of one image in original pixels, NMS order. */
export interface PostprocessResult {
  /** `[K*4]` x1,y1,x2,y2 in image pixels, clipped to the image. */
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  /** Backend that ran the NMS. */
  backend: string;
}

/**
 * Check a raw output's shape against its data.
 * @throws InvalidArgumentError naming `raw.dims`, `raw.data` or `raw.layout`
 */
export function checkRawOutput(raw: RawOutput): RawOutput {
  if (raw.layout !== 'yolov5' && raw.layout !== 'yolov8') invalid('raw.layout', "'yolov5' or 'yolov8'", raw.layout);
  if (!Array.isArray(raw.dims) || raw.dims.length !== 3) invalid('raw.dims', '[1, N, K]', raw.dims);
  checkInteger('raw.dims[0]', raw.dims[0], 1, 1);
  const n = checkInteger('raw.dims[1]', raw.dims[1], 1) * checkInteger('raw.dims[2]', raw.dims[2], 1);
  if (!(raw.data instanceof Float32Array) || raw.data.length !== n)
    invalid('raw.data', `a Float32Array of ${n} values`, raw.data);
  return raw;
}

/**
 * Boxes from a kept raw output: YOLOv5's NMS with these settings, then the letterbox undone.
 * @throws InvalidArgumentError for settings out of range (naming `conf`, `iou`, `maxDetections`)
 * @example const { boxes, scores } = await postprocessRaw(raw, { conf: 0.25, iou: 0.5 });
 */
export async function postprocessRaw(raw: RawOutput, options: PostprocessOptions = {}): Promise<PostprocessResult> {
  checkRawOutput(raw);
  const conf = checkRange('conf', options.conf ?? 0.4, 0, 1);
  const iou = checkRange('iou', options.iou ?? 0.45, 0, 1);
  const maxDetections = checkInteger('maxDetections', options.maxDetections ?? 1000, 1);
  const [per] = await nonMaxSuppression(raw.data, raw.dims, {
    layout: raw.layout,
    conf,
    iou,
    maxDetections,
    maxCandidates: 30000,
    agnostic: options.agnostic ?? false,
    backend: options.backend,
  });
  const { boxes } = await scaleBoxes(per!.boxes, raw.transform, { backend: options.backend });
  return { boxes, scores: per!.scores, classes: per!.classes, backend: per!.backend };
}
