/**
 * FastestDet (dog-qiuqiu/FastestDet, BSD-3-Clause) as an example of a custom grid decoder.
 *
 * The model takes a 352x352 BGR image resized WITHOUT letterbox (a plain stretch, bilinear), /255,
 * and outputs `[1, 5+C, H, W]` (C = 80 COCO classes, a 22x22 grid): per cell the objectness, the box
 * regression `x, y, w, h`, and C class scores. Decoding as the repository's ncnn example
 * (`example/ncnn/FastestDet.cpp`): best class (first maximum), `score = obj^0.6 * cls^0.4`, keep
 * `score > thresh` (0.65 there), `cx = (gx + tanh(x)) / W`, `cy = (gy + tanh(y)) / H`, `w = sigmoid(w)`,
 * `h = sigmoid(h)` (fractions of the image), then per-class NMS with IoU `> 0.45` suppressing.
 * Use {@link fastestDetOptions} with `Detector.load` and {@link FASTESTDET_THRESHOLDS} with `detect`.
 */
import type * as ort from 'onnxruntime-node';
import { ModelError } from '../../errors.js';
import { formatShape } from '../session.js';
import type { DecodedBoxes, DecoderMeta, DetectorDecoder } from './types.js';

/** FastestDet's own thresholds (ncnn example): score 0.65, NMS IoU 0.45. */
export const FASTESTDET_THRESHOLDS = Object.freeze({ conf: 0.65, iou: 0.45 });

/** Options of {@link fastestDetDecoder}. */
export interface FastestDetDecoderOptions {
  /** Exponents of `score = obj^objPower * cls^clsPower`. Default 0.6 and 0.4 (the ncnn example). */
  objPower?: number;
  clsPower?: number;
  /** Output to read. Default: the model's only (or first rank-4) output. */
  output?: string;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function pickOutput(outputs: Record<string, ort.Tensor>, name: string | undefined): ort.Tensor {
  if (name !== undefined) {
    const t = outputs[name];
    if (!t)
      throw new ModelError(
        `FastestDet decoder: no output named '${name}' (outputs: ${Object.keys(outputs).join(', ')})`,
      );
    return t;
  }
  const t = Object.values(outputs).find((o) => o.dims.length === 4);
  if (!t)
    throw new ModelError(
      `FastestDet decoder: expected an output [B, 5+C, H, W]; outputs: ${Object.keys(outputs).join(', ')}`,
    );
  return t;
}

/**
 * The FastestDet grid decoder.
 * @example
 * const det = await Detector.load('FastestDet.onnx', fastestDetOptions());
 * const r = await det.detect(image, FASTESTDET_THRESHOLDS);
 */
export function fastestDetDecoder(options: FastestDetDecoderOptions = {}): DetectorDecoder {
  const objPower = options.objPower ?? 0.6;
  const clsPower = options.clsPower ?? 0.4;
  return (outputs: Record<string, ort.Tensor>, meta: DecoderMeta): DecodedBoxes => {
    const t = pickOutput(outputs, options.output);
    const [, ch, gh, gw] = t.dims as [number, number, number, number];
    if (t.type !== 'float32' || ch < 6)
      throw new ModelError(
        `FastestDet decoder: expected float32 [B, 5+C, H, W], got ${t.type} ${formatShape(t.dims as number[])}`,
      );
    const data = t.data as Float32Array;
    const plane = gh * gw;
    const base = meta.batchIndex * ch * plane;
    const boxes: number[] = [],
      scores: number[] = [],
      classes: number[] = [];
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        const cell = base + gy * gw + gx;
        const obj = data[cell]!;
        let best = 0,
          cls = 0;
        for (let c = 0; c < ch - 5; c++) {
          const s = data[cell + (5 + c) * plane]!;
          if (s > best) {
            best = s;
            cls = c;
          }
        }
        const score = Math.pow(best, clsPower) * Math.pow(obj, objPower);
        if (!(score > meta.conf)) continue;
        const cx = (gx + Math.tanh(data[cell + plane]!)) / gw;
        const cy = (gy + Math.tanh(data[cell + 2 * plane]!)) / gh;
        const w = sigmoid(data[cell + 3 * plane]!);
        const h = sigmoid(data[cell + 4 * plane]!);
        boxes.push(
          (cx - w / 2) * meta.inputWidth,
          (cy - h / 2) * meta.inputHeight,
          (cx + w / 2) * meta.inputWidth,
          (cy + h / 2) * meta.inputHeight,
        );
        scores.push(score);
        classes.push(cls);
      }
    }
    return {
      boxes: Float32Array.from(boxes),
      scores: Float32Array.from(scores),
      classes: Int32Array.from(classes),
      nms: true,
    };
  };
}

/**
 * `Detector.load` options for FastestDet: this decoder, stretch resize (no letterbox), BGR input.
 * @example const det = await Detector.load('FastestDet.onnx', fastestDetOptions());
 */
export function fastestDetOptions(options: FastestDetDecoderOptions = {}): {
  decoder: DetectorDecoder;
  resize: 'stretch';
  channelOrder: 'bgr';
} {
  return { decoder: fastestDetDecoder(options), resize: 'stretch', channelOrder: 'bgr' };
}
