/**
 * Decoder for "end2end" exports (YOLOv6 `--end2end`, YOLOv7/v8 ONNX exports with NMS inside the graph):
 * four outputs `num_dets [B,1]`, `det_boxes [B,K,4]` (x1,y1,x2,y2 in input pixels), `det_scores [B,K]`,
 * `det_classes [B,K]`. Only the first `num_dets[b]` entries of image b are real; the rest is padding.
 * NMS already ran inside the model, so the detector does not run it again (the caller's `iou` and
 * `agnostic` have no effect; `conf`, `classes` and `maxDetections` still filter).
 */
import type * as ort from 'onnxruntime-node';
import { ModelError } from '../../errors.js';
import { formatShape } from '../session.js';
import { intAt, type DecodedBoxes, type DecoderMeta, type DetectorDecoder } from './types.js';

/** Output names of an end2end model by role. */
export interface End2endOutputs {
  numDets: string;
  boxes: string;
  scores: string;
  classes: string;
}

function output(outputs: Record<string, ort.Tensor>, name: string): ort.Tensor {
  const t = outputs[name];
  if (!t) throw new ModelError(`end2end decoder: the model returned no output '${name}'`);
  return t;
}

/**
 * Make the end2end decoder for these output names (see `inferLayout`).
 * @throws ModelError at decode time when an output is missing or its shape does not fit `[B,K,4]`/`[B,K]`
 * @example const decoder = end2endDecoder({ numDets: 'num_dets', boxes: 'det_boxes', scores: 'det_scores', classes: 'det_classes' });
 */
export function end2endDecoder(names: End2endOutputs): DetectorDecoder {
  return (outputs: Record<string, ort.Tensor>, meta: DecoderMeta): DecodedBoxes => {
    const num = output(outputs, names.numDets);
    const boxes = output(outputs, names.boxes);
    const scores = output(outputs, names.scores);
    const classes = output(outputs, names.classes);
    const b = meta.batchIndex;
    const k = boxes.dims[1] ?? 0;
    if (boxes.dims.length !== 3 || boxes.dims[2] !== 4 || scores.dims[1] !== k || classes.dims[1] !== k) {
      throw new ModelError(
        `end2end decoder: expected det_boxes [B,K,4], det_scores [B,K], det_classes [B,K]; got ` +
          `${formatShape(boxes.dims as number[])}, ${formatShape(scores.dims as number[])}, ${formatShape(classes.dims as number[])}`,
      );
    }
    const n = Math.max(0, Math.min(k, intAt(num.data, b * (num.size / Math.max(1, num.dims[0] ?? 1)))));
    const bd = boxes.data as Float32Array;
    const out: DecodedBoxes = {
      boxes: new Float32Array(4 * n),
      scores: new Float32Array(n),
      classes: new Int32Array(n),
      nms: false,
    };
    for (let i = 0; i < n; i++) {
      const src = (b * k + i) * 4;
      out.boxes.set(bd.subarray(src, src + 4), 4 * i);
      out.scores[i] = Number((scores.data as ArrayLike<number>)[b * k + i]);
      out.classes[i] = intAt(classes.data, b * k + i);
    }
    return out;
  };
}
