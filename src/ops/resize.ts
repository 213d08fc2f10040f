/**
 * Bilinear resize of float32 planes (e.g. segmentation logits `[29, 512, 512]` back to `[29, 2048, 2048]`),
 * matching PyTorch `F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)`.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkAllFinite, checkFloat32Array, checkInteger, invalid } from '../validate.js';

/**
 * Bilinear resize of float32 `[C, h, w]` planes to `[C, H, W]`, computed as torch's CPU kernel for
 * `F.interpolate(mode='bilinear', align_corners=False, antialias=False)` given an output `size`
 * (checked against Debian's torch 1.13 with one-hot inputs: the weights are bit-identical):
 *
 * - per axis, `scale = f32(in / out)` (float32, as torch computes it for float32 tensors), source
 *   coordinate `src = scale * (d + 0.5) - 0.5` in float64, 0 when negative (torch clamps before
 *   flooring); `i0 = floor(src)`, `i1 = i0 + 1` except at the last source pixel, weights
 *   `w1 = f32(src - i0)`, `w0 = f32(1 - w1)`; an axis whose size does not change is copied
 *   (`i0 = i1 = d`, `w0 = 1`, `w1 = 0`), as torch does;
 * - `row(y) = lerp(in[y][i0x], w0x, in[y][i1x], w1x)` (width first), then
 *   `out = lerp(row(i0y), w0y, row(i1y), w1y)`, where `lerp(a, wa, b, wb) = fma(a, wa, f32(b * wb))`
 *   rounded to float32: torch's `t0 * w0 + t1 * w1` as its x86-64 build evaluates it (an FMA; found by
 *   matching the goldens bit for bit).
 *
 * The result is bit-identical to torch 1.13's NCHW kernel (C >= 2) in the goldens, and within 1 ulp of
 * its channels-last kernel (taken for C = 1 or a 1x1 input, which multiplies the weights together first).
 * The float32 `scale` is what makes torch differ from exact bilinear by up to ~5e-4 on large downscales
 * (2000 -> 7); reproducing it is what keeps this kernel on torch's numbers. Integer ratios such
 * as 512 -> 2048 have an exact scale and agree with exact bilinear. (Newer torch releases may round the
 * source coordinate itself to float32, moving large non-integer downscales by another ~1e-4.)
 * Each horizontally interpolated source row is computed once and reused by every output row that needs
 * it (the same arithmetic in the same order, so the result does not change).
 */
export interface ResizeArgs {
  data: Float32Array;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  /** Output `[channels, outHeight, outWidth]`, written by the kernel. */
  out: Float32Array;
}

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
  const work = args.out.length;
  const { result, backend } = await dispatch('resize', args, options.backend, work);
  return { data: result, channels: args.channels, height: args.outHeight, width: args.outWidth, backend };
}
