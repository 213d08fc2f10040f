/**
 * YOLOv5 `scale_boxes` reference on float32 boxes, every step rounded to float32 as torch computes it on
 * a float32 tensor with Python-float gain and pad: `x = f32(f32(x - f32(padX)) / f32(gain))` (true
 * division, not a multiplication by the reciprocal), then `clip_boxes`: x clamped to `[0, imageWidth]`,
 * y to `[0, imageHeight]`. Bit-identical to torch's CPU result.
 */
import type { ScaleBoxesArgs } from '../../ops/scaleBoxes.js';
export type { ScaleBoxesArgs } from '../../ops/scaleBoxes.js';

export function scaleBoxes(args: ScaleBoxesArgs): Float32Array {
  const { boxes, out, clip } = args;
  const f = Math.fround;
  const gain = f(args.gain),
    padX = f(args.padX),
    padY = f(args.padY);
  const w = args.imageWidth,
    h = args.imageHeight;
  for (let i = 0; i < boxes.length; i += 4) {
    for (let k = 0; k < 4; k++) {
      const isX = (k & 1) === 0;
      let v = f(f(boxes[i + k]! - (isX ? padX : padY)) / gain);
      if (clip) v = Math.min(Math.max(v, 0), isX ? w : h);
      out[i + k] = v;
    }
  }
  return out;
}
