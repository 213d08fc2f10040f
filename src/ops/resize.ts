/**
 * Bilinear resize of float32 planes (e.g. segmentation logits `[29, 512, 512]` back to `[29, 2048, 2048]`),
 * matching PyTorch `F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)`.
 */
import { ensureBackends } from '../backends/index.js';
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import type { ResizeArgs } from '../backends/js/resize.js';
import { checkAllFinite, checkFloat32Array, checkInteger, invalid } from '../validate.js';

/**
 * Largest image plane accepted by the preprocessing ops: 2^28 pixels (16384 x 16384) per plane, for the
 * input and the output alike. Larger sizes throw InvalidArgumentError.
 */
export const MAX_PIXELS = 2 ** 28;
/** Largest tensor (elements) a preprocessing op reads or writes, so native kernels can index with int32. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Checks a plane size as positive integers whose product is at most MAX_PIXELS; errors name
 * `heightName` / `widthName`, or `name` for the product.
 */
export function checkPlaneSize(
  name: string,
  height: unknown,
  width: unknown,
  heightName: string,
  widthName: string,
): asserts height is number {
  const h = checkInteger(heightName, height, 1);
  const w = checkInteger(widthName, width, 1);
  if (h * w > MAX_PIXELS) {
    invalid(name, `at most ${MAX_PIXELS} pixels (2^28) per plane`, `${h}x${w} (${h * w} pixels)`);
  }
}

export interface ResizeOptions {
  /** Write into this array (length `C*H*W`) instead of allocating one. Must not overlap the input. */
  out?: Float32Array;
  backend?: BackendChoice;
}

export interface ResizeResult extends Ran {
  /** `[channels, height, width]` row-major, float32. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** True when two views share bytes of the same buffer. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength
  );
}

/**
 * Checks a resize's `shape` `[C, h, w]` and target `size` `[H, W]` (integers, planes within MAX_PIXELS)
 * and returns them by name. Shared by every op that resizes planes.
 */
export function checkResizeShapes(
  shape: readonly number[],
  size: readonly number[],
): { channels: number; inHeight: number; inWidth: number; outHeight: number; outWidth: number } {
  if (!Array.isArray(shape) || shape.length !== 3) invalid('shape', '[channels, height, width]', shape);
  if (!Array.isArray(size) || size.length !== 2) invalid('size', '[height, width]', size);
  const [channels, inHeight, inWidth] = shape as [number, number, number];
  const [outHeight, outWidth] = size as [number, number];
  checkInteger('shape[0]', channels, 1);
  checkPlaneSize('shape', inHeight, inWidth, 'shape[1]', 'shape[2]');
  checkPlaneSize('size', outHeight, outWidth, 'size[0]', 'size[1]');
  return { channels, inHeight, inWidth, outHeight, outWidth };
}

/** Validates and normalises resize arguments into the kernel's argument object. */
export function resizeArgs(
  data: Float32Array,
  shape: readonly number[],
  size: readonly number[],
  options: ResizeOptions,
): ResizeArgs {
  checkFloat32Array('data', data);
  const { channels, inHeight, inWidth, outHeight, outWidth } = checkResizeShapes(shape, size);
  if (channels * inHeight * inWidth > MAX_ELEMENTS || channels * outHeight * outWidth > MAX_ELEMENTS) {
    invalid(
      'shape',
      `at most ${MAX_ELEMENTS} elements in the input and the output`,
      `[${channels}, ${inHeight}, ${inWidth}] -> [${outHeight}, ${outWidth}]`,
    );
  }
  checkFloat32Array('data', data, channels * inHeight * inWidth);
  checkAllFinite('data', data);
  const n = channels * outHeight * outWidth;
  let out: Float32Array;
  if (options.out !== undefined) {
    out = checkFloat32Array('out', options.out, n);
    if (overlaps(out, data)) invalid('out', 'an array that does not overlap data', out);
  } else out = new Float32Array(n);
  return { data, channels, inHeight, inWidth, outHeight, outWidth, out };
}

/**
 * Bilinear resize with half-pixel centres (`align_corners=False`, no antialias), every channel alike.
 *
 * Reproduces torch's CPU float32 arithmetic (`scale = f32(in/out)`, negative source coordinates clamped
 * to 0, float32 weights; see `src/backends/js/resize.ts`): the JS kernel is bit-identical to torch 1.13
 * on `[1, C>=2, h, w]` inputs and within 1 ulp otherwise; other backends are held to 1e-5 absolute on
 * logit-sized values. Both differ from exact bilinear by up to ~5e-4 on large non-integer downscales
 * (not on 512 -> 2048). Infinite values are rejected because torch would turn them into NaN next to
 * zero weights. For a batch `[B, C, h, w]`, pass `[B*C, h, w]`.
 * @param data `[C, h, w]` float32, finite
 * @param shape `[C, h, w]` positive integers, `h*w <= MAX_PIXELS` (2^28)
 * @param size `[H, W]` positive integers, `H*W <= MAX_PIXELS`
 * @throws InvalidArgumentError when a size is not a positive integer or too large, `data.length != C*h*w`,
 *   an element is NaN or infinite (naming its index, e.g. `data[17]`), or `out` has the wrong length
 * @example const { data: up } = await resizeBilinear(logits, [29, 512, 512], [2048, 2048]);
 */
export async function resizeBilinear(
  data: Float32Array,
  shape: readonly [number, number, number],
  size: readonly [number, number],
  options: ResizeOptions = {},
): Promise<ResizeResult> {
  const args = resizeArgs(data, shape, size, options);
  ensureBackends();
  const work = args.out.length;
  const { result, backend } = await dispatch<ResizeArgs, Float32Array>('resize', args, options.backend, work);
  return { data: result, channels: args.channels, height: args.outHeight, width: args.outWidth, backend };
}
