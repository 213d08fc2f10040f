/**
 * The custom-decoder contract: a function from the model's raw outputs to candidate boxes in
 * model-input pixels. The detector then filters by `conf`/`classes`, runs NMS (unless the decoder
 * says it already did), and maps the boxes back to the original image.
 */
import type * as ort from 'onnxruntime-node';
import { invalid } from '../../validate.js';

/** What a decoder knows about the run it decodes. */
export interface DecoderMeta {
  /** Which image of the batch to decode (outputs hold the whole batch). */
  batchIndex: number;
  /** Images in this run's batch (padding included for fixed-batch models). */
  batchSize: number;
  /** Model input size in pixels: boxes must be returned in this frame. */
  inputWidth: number;
  inputHeight: number;
  /** The caller's thresholds; a decoder may use `conf` to skip hopeless candidates early. */
  conf: number;
  iou: number;
  classes: readonly number[] | undefined;
  agnostic: boolean;
  maxDetections: number;
}

/** Candidates from a decoder, in model-input pixels. */
export interface DecodedBoxes {
  /** `[N*4]` x1,y1,x2,y2 in model-input pixels. */
  boxes: Float32Array;
  /** `[N]` confidence. */
  scores: Float32Array;
  /** `[N]` class index. */
  classes: Int32Array;
  /**
   * Whether the detector should run greedy NMS on these (per class unless `agnostic`, IoU `> iou`
   * suppresses). Default true; set false when the model or the decoder already suppressed.
   */
  nms?: boolean;
}

/**
 * A custom decoder: reads the outputs of one run (every output, by name) and returns the candidates
 * of image `meta.batchIndex`. May be async.
 * @example
 * const decoder: DetectorDecoder = (outputs, meta) => myGridDecode(outputs['758'], meta);
 */
export type DetectorDecoder = (
  outputs: Record<string, ort.Tensor>,
  meta: DecoderMeta,
) => DecodedBoxes | Promise<DecodedBoxes>;

/** Read an integer tensor element (int32, int64 as BigInt, float) as a number. */
export function intAt(data: ort.Tensor['data'], i: number): number {
  return Number((data as ArrayLike<number | bigint>)[i]);
}

/**
 * Check a decoder's result: `scores` Float32Array `[N]`, `boxes` Float32Array `[4N]`, `classes` Int32Array `[N]`.
 * @throws InvalidArgumentError naming `decoder().boxes` etc.
 */
export function checkDecoded(d: DecodedBoxes): DecodedBoxes {
  if (typeof d !== 'object' || d === null) invalid('decoder', 'a decoder returning { boxes, scores, classes }', d);
  const n = d.scores instanceof Float32Array ? d.scores.length : -1;
  if (n < 0) invalid('decoder().scores', 'a Float32Array', d.scores);
  if (!(d.boxes instanceof Float32Array) || d.boxes.length !== 4 * n) {
    invalid('decoder().boxes', `a Float32Array of length ${4 * n} (x1,y1,x2,y2 per score)`, d.boxes);
  }
  if (!(d.classes instanceof Int32Array) || d.classes.length !== n)
    invalid('decoder().classes', `an Int32Array of length ${n}`, d.classes);
  return d;
}

/** The candidates at `idx`, in that order (a new `DecodedBoxes`, same `nms` flag). */
export function selectDecoded(d: DecodedBoxes, idx: readonly number[]): DecodedBoxes {
  const boxes = new Float32Array(idx.length * 4),
    scores = new Float32Array(idx.length),
    classes = new Int32Array(idx.length);
  idx.forEach((k, j) => {
    boxes.set(d.boxes.subarray(4 * k, 4 * k + 4), 4 * j);
    scores[j] = d.scores[k]!;
    classes[j] = d.classes[k]!;
  });
  return { boxes, scores, classes, nms: d.nms };
}
