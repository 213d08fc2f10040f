/**
 * Decoders for the batch runner. The default decodes every image at its full size (`readImage`); the
 * letterbox decoder (`maskbox detect --fast-decode`) decodes straight to the size the model's letterbox
 * resizes to, so the letterbox itself only pads and normalises: libvips resizes while it decodes (a
 * JPEG is decoded at 1/2, 1/4 or 1/8 by libjpeg's shrink-on-load first), the full-size pixels are never
 * held, and the work moves from the inference thread to the decode threads. Its pixels differ from the
 * reference letterbox (libvips' antialiased lanczos3 instead of plain bilinear); the accuracy effect on
 * the bundled model is in docs/performance.md.
 */
import { readImage, type ResizeKernel } from '../io/image.js';
import { letterboxParams } from '../ops/letterbox.js';
import type { DecodeFn } from './runner.js';

/** A runner decoder: encoded bytes to pixels (into the runner's memory with `reuseBuffers`). */
export type Decoder = DecodeFn;

/** Full-size decode (`readImage`), errors naming the input. */
export const fullDecoder: Decoder = (bytes, input, memory) =>
  readImage(bytes, { name: input.origin, into: memory?.into });

/**
 * A decoder that decodes each image at the size a letterbox to `size` (`[height, width]`, or a function of
 * the frame's width and height, as `Detector.inputSizeFor`) resizes it to
 * (`letterboxParams(...).newWidth/newHeight`), when that is smaller than the image; smaller images are
 * decoded as they are. The result's `source` is the file's size.
 * @example runBatch({ inputs, decode: letterboxDecoder((w, h) => detector.inputSizeFor(w, h)), processor, sinks })
 */
export function letterboxDecoder(
  size: readonly [number, number] | ((width: number, height: number) => readonly [number, number]),
  kernel?: ResizeKernel,
): Decoder {
  const resize = (width: number, height: number) => {
    const [h, w] = typeof size === 'function' ? size(width, height) : size;
    const p = letterboxParams(width, height, { size: [h, w] });
    return p.newWidth < width && p.newHeight < height ? { width: p.newWidth, height: p.newHeight } : null;
  };
  return (bytes, input, memory) =>
    readImage(bytes, { name: input.origin, resize, resizeKernel: kernel, into: memory?.into });
}
