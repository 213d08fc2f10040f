/**
 * The hand-bone post-process, fused: segmentation logits `[C, h, w]` -> bilinear resize to `[H, W]`
 * (torch `F.interpolate(mode='bilinear', align_corners=False)`) -> `sigmoid > threshold` -> one
 * competition RLE string per class (row-major, 1-based `start length` pairs), plus each mask's area.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkAllFinite, checkFloat32Array, checkRange, invalid } from '../validate.js';
import { checkResizeShapes, type ResizeArgs } from './resize.js';

/** The resize's geometry (`data`: `[channels, inHeight, inWidth]` finite logits), without an output plane. */
export interface LogitsToRleArgs extends Omit<ResizeArgs, 'out'> {
  /** A pixel is in the mask when its interpolated float32 logit is `> cutoff` (may be +Infinity). */
  cutoff: number;
}

export interface LogitsToRleOutput {
  /** One row-major RLE string per channel (1-based `start length` pairs; `''` when empty). */
  rle: string[];
  /** Pixels in each channel's mask. */
  areas: number[];
}

export interface LogitsToRleOptions {
  /**
   * Probability threshold `t` in [0, 1]: a pixel is in the mask when `sigmoid(logit) > t`, computed
   * as torch does on a float32 tensor (see `sigmoidCutoff`). Default 0.5. Not with `logitCutoff`.
   */
  threshold?: number;
  /**
   * Threshold the interpolated logit directly: a pixel is in the mask when `logit > logitCutoff`
   * (compared in float32: the value is rounded to float32 first). For reproducing another sigmoid's
   * rounding exactly (e.g. torch's vectorised path at t = 0.4, see `sigmoidCutoff`). Not with `threshold`.
   */
  logitCutoff?: number;
  backend?: BackendChoice;
}

export interface LogitsToRleResult extends Ran {
  /** One row-major RLE string per class, in class order (`''` for an empty mask). */
  rle: string[];
  /** Pixels in each class's mask (`H * W` at most). */
  areas: number[];
  /** The float32 logit cutoff that was applied: mask = `logit > cutoff`. */
  cutoff: number;
  channels: number;
  height: number;
  width: number;
}

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);

/** float32 with ordered key `k` (keys grow with the value; -0 and +0 share key 0). */
function fromKey(k: number): number {
  bits[0] = k >= 0 ? k : -k | 0x80000000;
  return f32[0]!;
}

/**
 * `sigmoid(x)` as torch computes it on a float32 tensor, `1 / (1 + exp(-x))` with every step rounded to
 * float32; `exp` is the correctly rounded float32 exponential (`Math.exp` rounded to float32: exact
 * except where `exp(x)` lies within ~1e-16 relative of a float32 rounding boundary).
 */
export function sigmoidF32(x: number): number {
  const fr = Math.fround;
  return fr(1 / fr(1 + fr(Math.exp(-fr(x)))));
}

/**
 * The float32 logit cutoff equivalent to `sigmoid(x) > t` in float32: the largest float32 `c` with
 * `sigmoidF32(c) <= fround(t)`, so that for every float32 logit `x`, `x > c` exactly when
 * `sigmoidF32(x) > t` (sigmoidF32 never decreases). Found by bisection over the float32 bit patterns
 * (32 steps); `+Infinity` when no logit passes (t = 1).
 *
 * At t = 0.5 the cutoff is `1.5 * 2^-24` (8.940696716308594e-8), not 0: a logit of 1e-8 gives
 * `exp(-x) = 1` in float32 and sigmoid exactly 0.5, which is not `> 0.5`. This is what torch 1.13 does
 * on both of its CPU paths. At other thresholds torch's vectorised path (Sleef's expf, 1 ulp) can sit
 * one float32 step away from its scalar path (glibc's expf), which this function equals: e.g. t = 0.4
 * gives -0.4054650068283081 here and in torch's scalar loop, -0.4054650366306305 in its AVX2 loop
 * (`test/goldens/logitsToRle/sigmoid_cutoffs.json`). Pass `logitCutoff` to pick either.
 * @throws InvalidArgumentError unless `0 <= t <= 1`
 */
export function sigmoidCutoff(threshold: number): number {
  const t = Math.fround(checkRange('threshold', threshold, 0, 1));
  let lo = -0x7f7fffff; // key of -FLT_MAX: sigmoid 0, never > t for t >= 0
  let hi = 0x7f7fffff; // key of FLT_MAX
  if (!(sigmoidF32(fromKey(hi)) > t)) return Infinity;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (sigmoidF32(fromKey(mid)) > t) hi = mid;
    else lo = mid;
  }
  return fromKey(lo);
}

/**
 * Logits to the competition's RLE strings, fused: per class, bilinear resize to `size`, sigmoid,
 * `> threshold`, row-major RLE. Equal, string for string, to `resizeBilinear` -> `sigmoid > t` ->
 * `encodeRle` (the JS kernel is that composition); the native kernel never materialises the `[H, W]`
 * float plane (it interpolates only the pixels whose source cell straddles the cutoff).
 *
 * Exactness: the resize is torch's CPU float32 arithmetic (bit-identical to its NCHW kernel, C >= 2;
 * see `resizeBilinear`), the threshold is an exact float32 logit cutoff (`sigmoidCutoff`), so the masks
 * equal torch's `sigmoid(F.interpolate(x)) > t` pixel for pixel (checked against torch 1.13 goldens);
 * C = 1 in torch takes another kernel that can differ by 1 ulp, i.e. only on pixels within 1 ulp of
 * the cutoff. Backends agree exactly with each other.
 * @param logits `[C, h, w]` float32, finite (for a batch `[B, C, h, w]` pass `[B*C, h, w]`)
 * @param shape `[C, h, w]` positive integers, `h*w <= 2^28`
 * @param size output `[H, W]`, `H*W <= 2^28`
 * @throws InvalidArgumentError for bad sizes, a length that does not match `shape`, a NaN/infinite
 *   logit (naming its index), a threshold outside [0, 1], or both `threshold` and `logitCutoff`
 * @example const { rle, areas } = await logitsToRle(out, [29, 512, 512], [2048, 2048]);
 */
export async function logitsToRle(
  logits: Float32Array,
  shape: readonly [number, number, number],
  size: readonly [number, number],
  options: LogitsToRleOptions = {},
): Promise<LogitsToRleResult> {
  checkFloat32Array('logits', logits);
  const { channels, inHeight, inWidth, outHeight, outWidth } = checkResizeShapes(shape, size);
  checkFloat32Array('logits', logits, channels * inHeight * inWidth);
  checkAllFinite('logits', logits);
  let cutoff: number;
  if (options.logitCutoff !== undefined) {
    if (options.threshold !== undefined) invalid('logitCutoff', 'no threshold alongside it', options.threshold);
    const c = options.logitCutoff;
    if (typeof c !== 'number' || Number.isNaN(c)) invalid('logitCutoff', 'a number', c);
    cutoff = Math.fround(c);
  } else cutoff = sigmoidCutoff(options.threshold ?? 0.5);
  const args: LogitsToRleArgs = { data: logits, channels, inHeight, inWidth, outHeight, outWidth, cutoff };
  const { result, backend } = await dispatch('logitsToRle', args, options.backend, channels * outHeight * outWidth);
  return { rle: result.rle, areas: result.areas, cutoff, channels, height: outHeight, width: outWidth, backend };
}
