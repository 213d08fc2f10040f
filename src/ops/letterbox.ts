/**
 * YOLOv5/YOLOv6 letterbox: keep the aspect ratio, resize (bilinear, half-pixel centres), pad with 114,
 * and produce the model's input `[3, H, W]` float32 (RGB, CHW, normalised) in one pass.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import {
  checkFinite,
  checkFloat32Array,
  checkInteger,
  checkNotShared,
  checkOneOf,
  checkRange,
  describe,
  invalid,
} from '../validate.js';
import { checkPlaneSize, MAX_PIXELS, overlaps } from './resize.js';
import type { BoxTransform } from './scaleBoxes.js';
import type { DeviceTensor } from './deviceTensor.js';

export type PixelArray = Uint8Array | Uint8ClampedArray | Uint16Array;

export interface LetterboxArgs {
  /** HWC samples, `height * width * channels`. */
  data: PixelArray;
  width: number;
  height: number;
  /** 1 (grey, replicated to RGB), 3 (RGB) or 4 (RGBA, alpha ignored). */
  channels: number;
  /** Full scale of the input depth: 255 (8-bit) or 65535 (16-bit). */
  maxValue: number;
  /** Size the image is resized to, and where it is placed in the output. */
  newWidth: number;
  newHeight: number;
  left: number;
  top: number;
  outWidth: number;
  outHeight: number;
  /** Output value of padding (already normalised, e.g. 114/255). */
  pad: number;
  /** Percentile stretch `[low, high]` in percent over the colour samples (pooled), or null for `levels`. */
  percentiles: readonly [number, number] | null;
  /**
   * Without `percentiles`: the input values mapped to 0 and 1 per output channel (R, G, B: three
   * entries each, a grey input's one entry repeated; `[0, maxValue]` by default). With `percentiles` the
   * kernel uses the pooled percentile values on every channel instead.
   */
  levels: ChannelLevels;
  /** `[3, outHeight, outWidth]`, written by the kernel (untouched when `keepOnDevice`). */
  out: Float32Array;
  /** Leave the planes on the device and return them as `device` (webgpu and cuda; the op enforces it). */
  keepOnDevice?: boolean;
}

export interface LetterboxOutput {
  data: Float32Array;
  /** The planes on the device, when `keepOnDevice` was asked for. */
  device?: DeviceTensor;
  /** Input values mapped to 0 and 1: the pooled percentile values, or entry 0 of `levels`. */
  low: number;
  high: number;
}

/** Input values mapped to 0 and 1, one entry per channel. */
export interface ChannelLevels {
  low: readonly number[];
  high: readonly number[];
}

/** Raw interleaved pixels, as `sharp(...).raw().toBuffer({ resolveWithObject: true })` gives them. */
export interface RawImage {
  /** HWC samples: Uint8Array / Uint8ClampedArray (8-bit, incl. Node's Buffer) or Uint16Array (16-bit). */
  data: PixelArray;
  width: number;
  height: number;
  /** 1 (grey, replicated to RGB), 3 (RGB) or 4 (RGBA; alpha is ignored). */
  channels: number;
}

export interface LetterboxGeometry {
  /** Target `S` (square) or `[height, width]`. Default 640. */
  size?: number | readonly [number, number];
  /**
   * Pad only up to a multiple of `stride` (YOLOv5/v6 `auto=True`, the lab's inference, for models with
   * dynamic input shapes) instead of to the full target. Default false (a static 640x640 model).
   */
  auto?: boolean;
  /** Stride for `auto`. Default 32. */
  stride?: number;
  /** Allow enlarging small images (YOLOv5 `scaleup`). Default true. */
  scaleUp?: boolean;
}

export interface LetterboxOptions extends LetterboxGeometry {
  /** Padding value in 8-bit units; the output holds `padValue / 255` whatever the input depth. Default 114. */
  padValue?: number;
  /**
   * Percentile stretch `[low, high]` (percent, `0 <= low < high <= 100`): the values at these
   * percentiles of the colour samples (numpy.percentile, linear) map to 0 and 1, clamped. Default: none
   * (`v / 255` for 8-bit, `v / 65535` for 16-bit).
   */
  percentiles?: readonly [number, number];
  /**
   * Per-channel levels: the input values (the input's own units: 0..255 for 8-bit, 0..65535 for
   * 16-bit) mapped to 0 and 1, one entry per colour channel of the input (1 for grey, 3 for RGB and
   * RGBA; alpha excluded), e.g. from `channelPercentiles`. Output channel c is `clamp((v - low[c]) /
   * (high[c] > low[c] ? high[c] - low[c] : 1), 0, 1)` of the input channel that feeds it (grey: entry 0
   * for all three). Not together with `percentiles`. Default: `[0, 255]` or `[0, 65535]` on every channel.
   */
  levels?: ChannelLevels;
  /** Write into this array (length `3*H*W`, e.g. a slice of a batch tensor) instead of allocating. */
  out?: Float32Array;
  /**
   * `'gpu'`: leave the planes on the device and return them as `device` (`data` is then empty): for a
   * model or kernel on that device. On the webgpu backend (the default then) or `backend: 'cuda'`;
   * any other explicit backend is an error. Default `'host'`.
   */
  output?: 'host' | 'gpu';
  backend?: BackendChoice;
}

/**
 * Where the image went. `ratio`, `newWidth/newHeight`, `left/top` describe the letterbox itself
 * (YOLOv5 returns `ratio` and `(dw, dh)`, YOLOv6 `(left, top)`). `gain`, `padX`, `padY` undo it as
 * YOLOv5's `scale_boxes(letterboxed_shape, boxes, image_shape)` (and YOLOv6's `rescale`) do, recomputed
 * from the two shapes: `gain = min(height/imageHeight, width/imageWidth)`, `padX = (width -
 * imageWidth*gain)/2` (fractional, not the integer `left`).
 *
 * `gain` equals `ratio` except in `auto` mode when `round(w*r)` rounded down onto a multiple of the
 * stride (e.g. 430x614 to 640: ratio 1.04235, gain 448/430 = 1.04186); YOLOv5/v6 then use that gain,
 * and so does maskbox, to give the lab's numbers. One deliberate difference: with `scaleUp: false` and
 * an image smaller than the target, YOLOv5's shape-based gain would be wrong (the image was not
 * enlarged); maskbox uses `gain = min(height/imageHeight, width/imageWidth, ratio)`, which is YOLOv5's
 * value whenever `scaleUp` is true.
 */
export interface LetterboxParams extends BoxTransform {
  /** Output (letterboxed) size. */
  width: number;
  height: number;
  /** Resize ratio `r = min(S_h/h, S_w/w)` (at most 1 when `scaleUp` is false). */
  ratio: number;
  /** Resized image size: `round(w*r)`, `round(h*r)` with Python's round (halves to even). */
  newWidth: number;
  newHeight: number;
  /** Integer padding before the image: `round(dw - 0.1)`, `round(dh - 0.1)`. */
  left: number;
  top: number;
}

export interface LetterboxResult extends Ran {
  /** `[3, height, width]` float32, RGB, values in [0, 1] (empty with `output: 'gpu'`). */
  data: Float32Array;
  /** With `output: 'gpu'`: the `[3, height, width]` planes on the device; the caller disposes it. */
  device?: DeviceTensor;
  width: number;
  height: number;
  params: LetterboxParams;
  /** Input values mapped to 0 and 1 (`[0, 255]`, `[0, 65535]`, the percentile values, or entry 0 of `levels`). */
  low: number;
  high: number;
  /**
   * The input values mapped to 0 and 1 per colour channel of the input (1 or 3 entries, the form of the
   * `levels` option): the option's own values, `[0, maxValue]` on each channel by default, the pooled
   * percentile values repeated with `percentiles`.
   */
  levels: { low: number[]; high: number[] };
}

/** Python 3's `round(x)`: nearest integer, halves to even (`round(312.5) == 312`). */
export function pythonRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function checkTarget(size: unknown): [number, number] {
  if (typeof size === 'number') {
    checkPlaneSize('size', size, size, 'size', 'size');
    return [size, size];
  }
  if (!Array.isArray(size) || size.length !== 2) invalid('size', 'a positive integer or [height, width]', size);
  checkPlaneSize('size', size[0], size[1], 'size[0]', 'size[1]');
  return [size[0], size[1]];
}

function checkBoolean(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') invalid(name, 'a boolean', v);
  return v;
}

/**
 * Letterbox geometry for an image size, exactly as YOLOv5's `letterbox()` (and YOLOv6's): no pixels
 * touched. E.g. an image 1000 wide and 2048 high, to 640: `ratio` 0.3125, `newWidth` 312 (312.5 rounds
 * to even), `left` 164, `padX` 163.75.
 * @throws InvalidArgumentError for sizes that are not positive integers, too large (> MAX_PIXELS), or an
 *   aspect ratio so extreme that a side would round to 0 pixels
 */
export function letterboxParams(
  imageWidth: number,
  imageHeight: number,
  options: LetterboxGeometry = {},
): LetterboxParams {
  checkPlaneSize('image', imageHeight, imageWidth, 'image.height', 'image.width');
  const [th, tw] = checkTarget(options.size ?? 640);
  const auto = checkBoolean('auto', options.auto, false);
  const scaleUp = checkBoolean('scaleUp', options.scaleUp, true);
  const stride = checkInteger('stride', options.stride ?? 32, 1, 1 << 16);
  const w = imageWidth;
  const h = imageHeight;
  let r = Math.min(th / h, tw / w);
  if (!scaleUp) r = Math.min(r, 1);
  const newWidth = pythonRound(w * r);
  const newHeight = pythonRound(h * r);
  if (newWidth < 1 || newHeight < 1) {
    invalid(
      'image',
      `an aspect ratio that leaves at least 1 pixel per side at size ${th}x${tw}`,
      `${w}x${h} (resized to ${newWidth}x${newHeight})`,
    );
  }
  let dw = tw - newWidth; // YOLOv5: dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]
  let dh = th - newHeight;
  if (auto) {
    dw %= stride;
    dh %= stride;
  }
  const left = pythonRound(dw / 2 - 0.1);
  const right = pythonRound(dw / 2 + 0.1);
  const top = pythonRound(dh / 2 - 0.1);
  const bottom = pythonRound(dh / 2 + 0.1);
  const width = newWidth + left + right;
  const height = newHeight + top + bottom;
  const gain = Math.min(height / h, width / w, r); // see LetterboxParams
  return {
    width,
    height,
    ratio: r,
    newWidth,
    newHeight,
    left,
    top,
    gain,
    padX: (width - w * gain) / 2,
    padY: (height - h * gain) / 2,
    imageWidth: w,
    imageHeight: h,
  };
}

/** Checks an image argument (`data`, sizes, channels, length); shared by the ops that take a `RawImage`. */
export function checkImage(image: unknown): RawImage {
  if (typeof image !== 'object' || image === null)
    invalid('image', 'an object { data, width, height, channels }', image);
  const im = image as RawImage;
  const { data, channels } = im;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Uint16Array)) {
    invalid('image.data', 'a Uint8Array, Uint8ClampedArray or Uint16Array', data);
  }
  checkNotShared('image.data', data);
  checkPlaneSize('image', im.height, im.width, 'image.height', 'image.width');
  if (channels !== 1 && channels !== 3 && channels !== 4) invalid('image.channels', '1, 3 or 4', channels);
  const n = im.width * im.height * channels;
  if (data.length !== n) {
    throw new InvalidArgumentError(
      'image.data',
      `Expected ${n} samples (${im.height}x${im.width}x${channels}) for image.data but received ${describe(data)}`,
    );
  }
  return im;
}

/** Full scale of an image's samples: 65535 for 16-bit, 255 for 8-bit. */
export function maxValueOf(data: PixelArray): number {
  return data instanceof Uint16Array ? 65535 : 255;
}

/** Colour channels of an image: alpha excluded (1 for grey, 3 for RGB and RGBA). */
export function colourChannels(channels: number): number {
  return channels === 4 ? 3 : channels;
}

/** Checks a `[low, high]` percentile pair (percent, `0 <= low < high <= 100`) named `name`. */
export function checkPercentiles(name: string, p: unknown): [number, number] {
  if (!Array.isArray(p) || p.length !== 2) invalid(name, '[low, high] in percent', p);
  checkRange(`${name}[0]`, p[0], 0, 100);
  checkRange(`${name}[1]`, p[1], 0, 100);
  if (!(p[0] < p[1])) invalid(name, 'low < high', `[${p[0]}, ${p[1]}]`);
  return [p[0], p[1]];
}

/** One side of `levels`: `colours` finite numbers (an array or typed array), copied. */
function checkLevelList(name: string, v: unknown, colours: number, channels: number): number[] {
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    invalid(name, `an array of ${colours} numbers`, v);
  }
  const list = v as ArrayLike<unknown>;
  if (list.length !== colours) {
    const why = channels === 4 ? 'one per colour channel of a 4-channel image, alpha excluded' : `one per channel`;
    invalid(name, `an array of ${colours} number${colours === 1 ? '' : 's'} (${why})`, v);
  }
  return Array.from(list, (x, i) => checkFinite(`${name}[${i}]`, x));
}

/** Checks the `levels` option against an image of `channels` channels; returns copies. */
function checkLevels(levels: unknown, channels: number): { low: number[]; high: number[] } {
  if (typeof levels !== 'object' || levels === null || Array.isArray(levels)) {
    invalid('levels', 'an object { low, high }', levels);
  }
  const colours = colourChannels(channels);
  const l = levels as ChannelLevels;
  return {
    low: checkLevelList('levels.low', l.low, colours, channels),
    high: checkLevelList('levels.high', l.high, colours, channels),
  };
}

/**
 * Letterbox an image into a model input: `[3, H, W]` float32 RGB in [0, 1], the image resized by
 * `r = min(S_h/h, S_w/w)` (bilinear, half-pixel centres, no antialias: OpenCV INTER_LINEAR's formula
 * in float), centred, padded with `padValue/255`, normalised by `/255` (8-bit), `/65535` (16-bit), a
 * pooled percentile stretch or per-channel `levels`, all in one pass. `params` undo it
 * (`scaleBoxes(boxes, params)`).
 * @param image HWC pixels; `width*height <= MAX_PIXELS` (2^28)
 * @throws InvalidArgumentError when sizes are not positive integers or too large, `data.length !=
 *   width*height*channels`, `channels` is not 1/3/4, an option is out of range, `levels` has the wrong
 *   length or a non-finite value or comes with `percentiles`, or `out` has the wrong length
 * @example const { data, params } = await letterbox({ data, width, height, channels: 3 }, { size: 640 });
 * @example // per-channel stretch computed once on the whole frame, then applied to every tile
 * const levels = await channelPercentiles(frame, [0.5, 99.5]);
 * const tile = await letterbox(frameTile, { levels });
 */
export async function letterbox(image: RawImage, options: LetterboxOptions = {}): Promise<LetterboxResult> {
  const im = checkImage(image);
  const params = letterboxParams(im.width, im.height, options);
  const padValue = checkRange('padValue', options.padValue ?? 114, 0, 255);
  const percentiles = options.percentiles === undefined ? null : checkPercentiles('percentiles', options.percentiles);
  const maxValue = maxValueOf(im.data);
  const colours = colourChannels(im.channels);
  let levels = { low: new Array<number>(colours).fill(0), high: new Array<number>(colours).fill(maxValue) };
  if (options.levels !== undefined) {
    if (percentiles !== null) {
      throw new InvalidArgumentError(
        'levels',
        'Expected levels or percentiles but received both: levels are the stretch itself, percentiles compute one',
      );
    }
    levels = checkLevels(options.levels, im.channels);
  }
  const feed = colours === 1 ? [0, 0, 0] : [0, 1, 2]; // the input channel of each output channel
  const n = 3 * params.width * params.height;
  const output = checkOneOf('output', options.output ?? 'host', ['host', 'gpu'] as const);
  let backendChoice = options.backend;
  if (output === 'gpu') {
    if (backendChoice !== undefined && backendChoice !== 'webgpu' && backendChoice !== 'cuda')
      invalid('backend', "webgpu, cuda (or none: webgpu) with output: 'gpu'", backendChoice);
    if (options.out !== undefined) invalid('out', "no output array with output: 'gpu'", options.out);
    backendChoice ??= 'webgpu';
  }
  let out: Float32Array;
  if (output === 'gpu') out = new Float32Array(0);
  else if (options.out !== undefined) {
    out = checkFloat32Array('out', options.out, n);
    if (overlaps(out, im.data)) invalid('out', 'an array that does not overlap image.data', out);
  } else out = new Float32Array(n);
  const args: LetterboxArgs = {
    data: im.data,
    width: im.width,
    height: im.height,
    channels: im.channels,
    maxValue,
    newWidth: params.newWidth,
    newHeight: params.newHeight,
    left: params.left,
    top: params.top,
    outWidth: params.width,
    outHeight: params.height,
    pad: padValue / 255,
    percentiles,
    levels: { low: feed.map((c) => levels.low[c]!), high: feed.map((c) => levels.high[c]!) },
    out,
    ...(output === 'gpu' ? { keepOnDevice: true } : {}),
  };
  const { result, backend } = await dispatch('letterbox', args, backendChoice, n);
  return {
    data: result.data,
    width: params.width,
    height: params.height,
    params,
    low: result.low,
    high: result.high,
    levels:
      percentiles === null
        ? levels
        : { low: new Array<number>(colours).fill(result.low), high: new Array<number>(colours).fill(result.high) },
    backend,
    ...(result.device ? { device: result.device } : {}),
  };
}

export { MAX_PIXELS };
