/**
 * YOLO post-processing over a raw prediction tensor: decode + score + NMS, exactly as YOLOv5's
 * `non_max_suppression` (and Ultralytics' for YOLOv8/11 layouts without objectness).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkAllFinite, checkFloat32Array, checkInteger, checkOneOf, checkRange } from '../validate.js';

export interface YoloNmsArgs {
  pred: Float32Array;
  /** Number of predictions (anchors / grid cells). */
  count: number;
  /** 'rows': `[count, 4 (+1) + C]` (YOLOv5/6); 'columns': `[4 + C, count]` (YOLOv8/11). */
  layout: 'rows' | 'columns';
  hasObjectness: boolean;
  numClasses: number;
  conf: number;
  iou: number;
  /** Keep only these class indices; null keeps all. */
  classFilter: Int32Array | null;
  agnostic: boolean;
  maxCandidates: number;
  maxDetections: number;
  maxWh: number;
}

export interface YoloDetections {
  /** `[K*4]` x1,y1,x2,y2 in the prediction's (input) pixel space. */
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  /** Prediction row each detection came from. */
  rows: Int32Array;
}

/** Output layouts: YOLOv5 `[B,N,5+C]`, YOLOv6 `[B,N,5+C]` (objectness 1.0), YOLOv8/11 `[B,4+C,N]`. */
export type YoloLayout = 'yolov5' | 'yolov6' | 'yolov8';
export const YOLO_LAYOUTS: readonly YoloLayout[] = ['yolov5', 'yolov6', 'yolov8'];

export interface YoloNmsOptions {
  layout?: YoloLayout;
  /** Confidence threshold (YOLOv5 conf_thres). Default 0.4 (the lab's). */
  conf?: number;
  /** IoU threshold (iou_thres). Default 0.45. */
  iou?: number;
  /** Keep only these classes. */
  classes?: number[];
  /** Class-agnostic NMS. Default false. */
  agnostic?: boolean;
  /** Boxes entering NMS at most (max_nms). Default 30000. */
  maxCandidates?: number;
  /** Boxes leaving NMS at most (max_det). Default 1000. */
  maxDetections?: number;
  backend?: BackendChoice;
}

export interface YoloNmsResult extends YoloDetections, Ran {}

/** YOLOv5's max_wh: class offset that keeps boxes of different classes apart in one NMS. */
const MAX_WH = 7680;

/**
 * Decode and suppress a raw YOLO prediction. Returns one result per batch item.
 * @param pred raw output, float32
 * @param shape `[B, N, 5+C]` / `[N, 5+C]` (yolov5/yolov6) or `[B, 4+C, N]` / `[4+C, N]` (yolov8)
 * @throws InvalidArgumentError when the shape does not match the data or the layout, or a value is NaN
 * @example const [det] = await nonMaxSuppression(out.data, out.dims, { conf: 0.4, iou: 0.45 });
 */
export async function nonMaxSuppression(
  pred: Float32Array,
  shape: readonly number[],
  options: YoloNmsOptions = {},
): Promise<YoloNmsResult[]> {
  checkFloat32Array('pred', pred);
  const layout = checkOneOf('layout', options.layout ?? 'yolov5', YOLO_LAYOUTS);
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3)) {
    throw new InvalidArgumentError('shape', `Expected shape [B, N, K] or [N, K] but received ${JSON.stringify(shape)}`);
  }
  shape.forEach((d, i) => checkInteger(`shape[${i}]`, d, 0));
  const dims = shape.length === 2 ? [1, ...shape] : [...shape];
  const [batch, d1, d2] = dims as [number, number, number];
  if (batch * d1 * d2 !== pred.length) {
    throw new InvalidArgumentError(
      'pred',
      `Expected ${batch * d1 * d2} values for shape ${JSON.stringify(shape)} but received ${pred.length}`,
    );
  }
  const columns = layout === 'yolov8';
  const hasObjectness = !columns;
  const count = columns ? d2 : d1;
  const width = columns ? d1 : d2;
  const numClasses = width - (hasObjectness ? 5 : 4);
  if (numClasses < 1) {
    throw new InvalidArgumentError(
      'shape',
      `Expected at least ${hasObjectness ? 6 : 5} values per prediction for layout ${layout} but shape is ${JSON.stringify(shape)}`,
    );
  }
  checkAllFinite('pred', pred);
  const conf = checkRange('conf', options.conf ?? 0.4, 0, 1);
  const iou = checkRange('iou', options.iou ?? 0.45, 0, 1);
  const maxCandidates = checkInteger('maxCandidates', options.maxCandidates ?? 30000, 1);
  const maxDetections = checkInteger('maxDetections', options.maxDetections ?? 1000, 1);
  let classFilter: Int32Array | null = null;
  if (options.classes !== undefined) {
    if (!Array.isArray(options.classes))
      throw new InvalidArgumentError('classes', 'Expected an array of class indices for classes');
    options.classes.forEach((c, i) => checkInteger(`classes[${i}]`, c, 0, numClasses - 1));
    classFilter = Int32Array.from(options.classes);
  }
  const per = d1 * d2;
  const results: YoloNmsResult[] = [];
  for (let b = 0; b < batch; b++) {
    const args: YoloNmsArgs = {
      pred: pred.subarray(b * per, (b + 1) * per),
      count,
      layout: columns ? 'columns' : 'rows',
      hasObjectness,
      numClasses,
      conf,
      iou,
      classFilter,
      agnostic: options.agnostic ?? false,
      maxCandidates,
      maxDetections,
      maxWh: MAX_WH,
    };
    const { result, backend } = await dispatch('yoloNms', args, options.backend, per);
    results.push({ ...result, backend });
  }
  return results;
}
