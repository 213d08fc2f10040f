/**
 * Undo a letterbox on boxes: YOLOv5's `scale_boxes` (model-input pixels -> original image pixels).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkAllFinite, checkFloat32Array, checkPositive, invalid, isFiniteNumber } from '../validate.js';
import { checkPlaneSize } from './resize.js';

export interface ScaleBoxesArgs {
  boxes: Float32Array;
  /** Output, length of boxes; may be `boxes` itself (in place). */
  out: Float32Array;
  gain: number;
  padX: number;
  padY: number;
  imageWidth: number;
  imageHeight: number;
  clip: boolean;
}

/**
 * How boxes map back to the image: `x_image = (x - padX) / gain` (YOLOv5's `ratio_pad`), clipped to
 * `imageWidth` x `imageHeight`. A `LetterboxParams` is one.
 */
export interface BoxTransform {
  gain: number;
  /** Fractional padding, `(inputWidth - imageWidth*gain) / 2`. */
  padX: number;
  padY: number;
  imageWidth: number;
  imageHeight: number;
}

export interface ScaleBoxesOptions {
  /** Write the result into `boxes` itself. Default false (a new array). */
  inPlace?: boolean;
  /** Clamp x to `[0, imageWidth]` and y to `[0, imageHeight]` (YOLOv5's clip_boxes). Default true. */
  clip?: boolean;
  backend?: BackendChoice;
}

export interface ScaleBoxesResult extends Ran {
  /** `x1,y1,x2,y2` per box in image pixels, float32 (the input array when `inPlace`). */
  boxes: Float32Array;
}

/**
 * YOLOv5's `scale_boxes(img1_shape, boxes, img0_shape)` transform with `ratio_pad=None`: the gain and the
 * fractional pad recomputed from the letterboxed input size and the image size,
 * `gain = min(inputHeight/imageHeight, inputWidth/imageWidth)`, `padX = (inputWidth - imageWidth*gain)/2`.
 * @throws InvalidArgumentError when a size is not a positive integer or exceeds MAX_PIXELS
 */
export function letterboxTransform(
  inputWidth: number,
  inputHeight: number,
  imageWidth: number,
  imageHeight: number,
): BoxTransform {
  checkPlaneSize('input', inputHeight, inputWidth, 'inputHeight', 'inputWidth');
  checkPlaneSize('image', imageHeight, imageWidth, 'imageHeight', 'imageWidth');
  const gain = Math.min(inputHeight / imageHeight, inputWidth / imageWidth);
  return {
    gain,
    padX: (inputWidth - imageWidth * gain) / 2,
    padY: (inputHeight - imageHeight * gain) / 2,
    imageWidth,
    imageHeight,
  };
}

/**
 * Map boxes from letterboxed model-input pixels back to the original image, as YOLOv5's `scale_boxes`:
 * subtract the fractional pad, divide by the gain, clip to the image. Computed in float32 step by step
 * exactly as torch does on a float32 tensor (bit-identical), so that the lab's later `.round()` (half to
 * even) lands on the same integers.
 * @param boxes `[N*4]` x1,y1,x2,y2, finite (order within a box is not checked)
 * @param transform `LetterboxParams` from `letterbox`, or `letterboxTransform(...)`, or YOLOv5's
 *   explicit `ratio_pad` written as `{ gain, padX, padY, imageWidth, imageHeight }`
 * @throws InvalidArgumentError when the length is not a multiple of 4, a coordinate is NaN/infinite
 *   (naming it, e.g. `boxes[6]`), or the transform has a non-positive gain, a non-finite pad, or image
 *   sizes that are not positive integers
 * @example const { boxes: inImage } = await scaleBoxes(det.boxes, lb.params);
 */
export async function scaleBoxes(
  boxes: Float32Array,
  transform: BoxTransform,
  options: ScaleBoxesOptions = {},
): Promise<ScaleBoxesResult> {
  checkFloat32Array('boxes', boxes);
  if (boxes.length % 4 !== 0)
    invalid('boxes', 'a Float32Array whose length is a multiple of 4 (x1,y1,x2,y2 per box)', boxes);
  checkAllFinite('boxes', boxes);
  if (typeof transform !== 'object' || transform === null)
    invalid('transform', 'an object { gain, padX, padY, imageWidth, imageHeight }', transform);
  const gain = checkPositive('transform.gain', transform.gain);
  if (!isFiniteNumber(transform.padX)) invalid('transform.padX', 'a finite number', transform.padX);
  if (!isFiniteNumber(transform.padY)) invalid('transform.padY', 'a finite number', transform.padY);
  checkPlaneSize(
    'transform',
    transform.imageHeight,
    transform.imageWidth,
    'transform.imageHeight',
    'transform.imageWidth',
  );
  if (options.inPlace !== undefined && typeof options.inPlace !== 'boolean')
    invalid('inPlace', 'a boolean', options.inPlace);
  if (options.clip !== undefined && typeof options.clip !== 'boolean') invalid('clip', 'a boolean', options.clip);
  const args: ScaleBoxesArgs = {
    boxes,
    out: options.inPlace ? boxes : new Float32Array(boxes.length),
    gain,
    padX: transform.padX,
    padY: transform.padY,
    imageWidth: transform.imageWidth,
    imageHeight: transform.imageHeight,
    clip: options.clip ?? true,
  };
  const { result, backend } = await dispatch('scaleBoxes', args, options.backend, boxes.length / 4);
  return { boxes: result, backend };
}
