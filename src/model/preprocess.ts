/**
 * Small tensor helpers shared by the detector and the segmenter: a plain (stretch) resize of HWC
 * pixels into a CHW model input, RGB to one channel, and left-right mirroring for flip TTA.
 */
import type { BackendChoice } from '../backends/registry.js';
import { resizeBilinear } from '../ops/resize.js';
import { checkInteger, invalid } from '../validate.js';

/** Interleaved HWC pixels, what `readImage` returns: 1 (grey), 3 (RGB) or 4 (RGBA, alpha ignored) channels, 8- or 16-bit. */
export interface ModelImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
  /**
   * The full-size frame these pixels were resampled from while decoding (`readImage`'s `resize`), if
   * any: results are returned in its pixels.
   */
  source?: { width: number; height: number };
}

/**
 * Check an image's optional `source` size; returns the factors from image to source pixels, or null
 * when there is no `source`.
 * @throws InvalidArgumentError naming `name.source`
 */
export function sourceScale(name: string, image: ModelImage): { sx: number; sy: number } | null {
  const s = image.source;
  if (s === undefined) return null;
  if (typeof s !== 'object' || s === null) invalid(`${name}.source`, 'an object { width, height }', s);
  const w = checkInteger(`${name}.source.width`, s.width, 1);
  const h = checkInteger(`${name}.source.height`, s.height, 1);
  return { sx: w / image.width, sy: h / image.height };
}

/**
 * Stretch-resize HWC pixels to `[3, h, w]` float32 RGB in [0, 1] (grey replicated): `/255` or `/65535`,
 * then bilinear with half-pixel centres (the resize op: torch `F.interpolate(align_corners=False)`,
 * OpenCV INTER_LINEAR's formula), no letterbox, no padding.
 * @param image pixels, already validated
 * @param h target height
 * @param w target width
 * @param out `3*h*w` floats to write into
 * @param backend backend of the resize op
 */
export async function stretchToTensor(
  image: ModelImage,
  h: number,
  w: number,
  out: Float32Array,
  backend?: BackendChoice,
): Promise<void> {
  const { data, width, height, channels } = image;
  const plane = width * height;
  const chw = new Float32Array(3 * plane);
  const scale = 1 / (data instanceof Uint16Array ? 65535 : 255);
  for (let p = 0, s = 0; p < plane; p++, s += channels) {
    for (let c = 0; c < 3; c++) chw[c * plane + p] = data[s + (channels < 3 ? 0 : c)]! * scale;
  }
  await resizeBilinear(chw, [3, height, width], [h, w], { out, backend });
}

/** `[3, H, W]` → `[1, H, W]`: the mean of the three channels, for single-channel models. */
export function toGrey(rgb: Float32Array, out: Float32Array): void {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = (rgb[i]! + rgb[n + i]! + rgb[2 * n + i]!) / 3;
}

/** Mirror each of `rows` rows of `width` values left-right, `src` into `dst` (which must not overlap it). */
export function flipRows(src: Float32Array, dst: Float32Array, rows: number, width: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    for (let x = 0; x < width; x++) dst[o + x] = src[o + width - 1 - x]!;
  }
}

/** Swap the first and third `[plane]` of a `[3, plane]` tensor in place (RGB ↔ BGR). */
export function swapRB(chw: Float32Array, plane: number): void {
  const r = chw.slice(0, plane);
  chw.copyWithin(0, 2 * plane, 3 * plane);
  chw.set(r, 2 * plane);
}

/**
 * Check an `inputSize` option: `S` or `[height, width]`, positive integers; `null` when absent.
 * @throws InvalidArgumentError naming `inputSize`
 */
export function checkInputSize(v: unknown): [number, number] | null {
  if (v === undefined) return null;
  if (typeof v === 'number') return [checkInteger('inputSize', v, 1), v];
  if (!Array.isArray(v) || v.length !== 2) invalid('inputSize', 'a positive integer or [height, width]', v);
  return [checkInteger('inputSize[0]', v[0], 1), checkInteger('inputSize[1]', v[1], 1)];
}
