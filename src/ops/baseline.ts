/**
 * The lab's "DBSCAN baseline" vesicle detector (DESIGN section 1), as one call: the image in, one box
 * per cluster of bright pixels out.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkInteger, checkNotShared, checkOneOf, checkPositive, invalid } from '../validate.js';

export interface BaselineArgs {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
  eps: number;
  minSamples: number;
  passes: number;
  scale: 'raw' | 'unit';
  box: 'minmax' | 'edges';
}

export interface BaselineKernelResult {
  boxes: Float32Array;
  sizes: Int32Array;
  points: Int32Array;
  labels: Int32Array;
}

/** Largest image accepted, in pixels (width * height): 2^26 = 67,108,864, e.g. 8192 x 8192. */
export const MAX_BASELINE_PIXELS = 2 ** 26;

/** An interleaved (HWC) 8-bit image, e.g. sharp's `raw()` output. */
export interface BaselineImage {
  /** `[height * width * channels]` bytes, row-major, channels interleaved. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 (grey, counted as R = G = B), 3 (RGB) or 4 (RGBA, alpha ignored). */
  channels: number;
}

export interface BaselineOptions {
  /** DBSCAN radius in pixels. Default 3 (the lab's). */
  eps?: number;
  /** DBSCAN min_samples. Default 2 (the lab's). */
  minSamples?: number;
  /** How many times the 3x3 filter runs, integer 1..100. Default 5 (the lab's). */
  passes?: number;
  /**
   * Pixel values the first convolution sees: `'unit'` 0..1 (default: /255, torchvision's ToTensor) or
   * `'raw'` 0..255. Only the first pass depends on it. With `'unit'` the first pass is an intensity
   * threshold (RGB sum of the centre times 10 plus the 8 neighbours' sums above 11, i.e. 2805 in 8-bit
   * units); with `'raw'` it keeps every pixel that is or touches a non-zero pixel (a dilation), which
   * is why `'unit'` is taken as the lab's setting.
   */
  scale?: 'raw' | 'unit';
  /**
   * Box rule. `'edges'` (default, the lab's `[min, max+1]`): the box around the cluster's pixel
   * squares, `x1 = min column, y1 = min row, x2 = max column + 1, y2 = max row + 1`, so a one-pixel
   * cluster is 1x1. `'minmax'`: `x2 = max column, y2 = max row` (pixel indices; a one-pixel cluster
   * has zero width, which no IoU can match).
   */
  box?: 'minmax' | 'edges';
  backend?: BackendChoice;
}

export interface BaselineResult extends Ran {
  /** `[K*4]` x1,y1,x2,y2 per cluster, cluster k at index k (see `box`). */
  boxes: Float32Array;
  /** `[K]` pixels per cluster. */
  sizes: Int32Array;
  /** `[K]` confidence per cluster, {@link baselineScore} of its size: `n / (n + 100)`, so AP can rank boxes. */
  scores: Float32Array;
  /** `[M*2]` x (column), y (row) of every pixel the filter kept, in row-major order. */
  points: Int32Array;
  /** `[M]` cluster of each of those pixels, -1 for DBSCAN noise (noise makes no box). */
  labels: Int32Array;
}

/**
 * The lab's settings, shared by the library and `maskbox baseline` (the CLI passes no value of its own).
 * `scale: 'unit'` because the lab's pipeline fed torchvision tensors (0..1) to the filter; `box: 'edges'`
 * because its boxes spanned the cluster's pixels, `[min, max + 1]`.
 */
export const BASELINE_DEFAULTS = Object.freeze({
  eps: 3,
  minSamples: 2,
  passes: 5,
  scale: 'unit' as const,
  box: 'edges' as const,
});

/** Cluster size (pixels) at which {@link baselineScore} is 0.5. */
export const BASELINE_SCORE_HALF = 100;

/**
 * A baseline box's confidence from its cluster's size `n` (pixels kept by the filter):
 * `n / (n + 100)`. Monotone in `n` (bigger clusters rank first; a 2-pixel speck scores 0.02, a
 * 20x20 vesicle 0.8), in (0, 1), so COCO AP has a ranking to work with instead of a constant.
 */
export function baselineScore(n: number): number {
  return n / (n + BASELINE_SCORE_HALF);
}

/** Validates the image and options into the kernel's argument object. */
export function baselineArgs(image: BaselineImage, options: BaselineOptions): BaselineArgs {
  if (image === null || typeof image !== 'object')
    invalid('image', 'an object { data, width, height, channels }', image);
  const { data } = image;
  if (!(data instanceof Uint8Array)) invalid('image.data', 'a Uint8Array (8-bit HWC pixels)', data);
  checkNotShared('image.data', data);
  const width = checkInteger('image.width', image.width, 1);
  const height = checkInteger('image.height', image.height, 1);
  const channels = image.channels;
  if (channels !== 1 && channels !== 3 && channels !== 4) invalid('image.channels', '1, 3 or 4', channels);
  if (width * height > MAX_BASELINE_PIXELS) {
    throw new InvalidArgumentError(
      'image',
      `Expected at most ${MAX_BASELINE_PIXELS} pixels (MAX_BASELINE_PIXELS, e.g. 8192x8192) for image but received ${width}x${height} = ${width * height}; downscale or tile it first`,
    );
  }
  if (data.length !== width * height * channels) {
    invalid(
      'image.data',
      `a Uint8Array of length width*height*channels = ${width}*${height}*${channels} = ${width * height * channels}`,
      data,
    );
  }
  return {
    data,
    width,
    height,
    channels,
    eps: checkPositive('eps', options.eps ?? BASELINE_DEFAULTS.eps),
    minSamples: checkInteger('minSamples', options.minSamples ?? BASELINE_DEFAULTS.minSamples, 1, 2 ** 31 - 1),
    passes: checkInteger('passes', options.passes ?? BASELINE_DEFAULTS.passes, 1, 100),
    scale: checkOneOf('scale', options.scale ?? BASELINE_DEFAULTS.scale, ['raw', 'unit'] as const),
    box: checkOneOf('box', options.box ?? BASELINE_DEFAULTS.box, ['minmax', 'edges'] as const),
  };
}

/**
 * The lab's DBSCAN baseline detector: a fixed 3x3 convolution (all weights 1, centre 10, bias -11,
 * zero padding, same size) then binarize `> 0`, applied `passes` (5) times, the first over the RGB
 * channels summed; the coordinates of the remaining pixels (row-major, as `np.argwhere`) are clustered
 * with DBSCAN(eps=3, min_samples=2) (scikit-learn's exact labels); each cluster is one object, its box
 * `[min, max + 1]` of its pixels, its score {@link baselineScore} of its size. Known fault (kept on
 * purpose): touching vesicles become one cluster.
 *
 * @param image HWC uint8, `width * height <= MAX_BASELINE_PIXELS`
 * @throws InvalidArgumentError for a wrong data length, channels other than 1/3/4, an image above
 *   MAX_BASELINE_PIXELS, or bad options
 * @example
 *   const { data, info } = await sharp('cdv.png').raw().toBuffer({ resolveWithObject: true });
 *   const { boxes, sizes } = await dbscanBaseline({ data, width: info.width, height: info.height, channels: info.channels });
 */
export async function dbscanBaseline(image: BaselineImage, options: BaselineOptions = {}): Promise<BaselineResult> {
  const args = baselineArgs(image, options);
  const { result, backend } = await dispatch('baseline', args, options.backend, args.width * args.height);
  const scores = new Float32Array(result.sizes.length);
  for (let k = 0; k < scores.length; k++) scores[k] = baselineScore(result.sizes[k]!);
  return { ...result, scores, backend };
}
