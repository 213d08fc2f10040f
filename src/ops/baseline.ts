/**
 * The lab's "DBSCAN baseline" vesicle detector (DESIGN section 1), as one call: the image in, one box
 * per cluster of bright pixels out.
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkInteger, checkOneOf, checkPositive, invalid } from '../validate.js';

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
   * Box rule. `'minmax'` (default, the lab's): `x1 = min column, y1 = min row, x2 = max column,
   * y2 = max row` over the cluster's pixels, so a one-pixel cluster has zero width. `'edges'`: the
   * box around the pixels' squares, `x2 = max column + 1`, `y2 = max row + 1`.
   */
  box?: 'minmax' | 'edges';
  backend?: BackendChoice;
}

export interface BaselineResult extends Ran {
  /** `[K*4]` x1,y1,x2,y2 per cluster, cluster k at index k (see `box`). */
  boxes: Float32Array;
  /** `[K]` pixels per cluster. */
  sizes: Int32Array;
  /** `[M*2]` x (column), y (row) of every pixel the filter kept, in row-major order. */
  points: Int32Array;
  /** `[M]` cluster of each of those pixels, -1 for DBSCAN noise (noise makes no box). */
  labels: Int32Array;
}

/** Validates the image and options into the kernel's argument object. */
export function baselineArgs(image: BaselineImage, options: BaselineOptions): BaselineArgs {
  if (image === null || typeof image !== 'object')
    invalid('image', 'an object { data, width, height, channels }', image);
  const { data } = image;
  if (!(data instanceof Uint8Array)) invalid('image.data', 'a Uint8Array (8-bit HWC pixels)', data);
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
    eps: checkPositive('eps', options.eps ?? 3),
    minSamples: checkInteger('minSamples', options.minSamples ?? 2, 1, 2 ** 31 - 1),
    passes: checkInteger('passes', options.passes ?? 5, 1, 100),
    scale: checkOneOf('scale', options.scale ?? 'unit', ['raw', 'unit'] as const),
    box: checkOneOf('box', options.box ?? 'minmax', ['minmax', 'edges'] as const),
  };
}

/**
 * The lab's DBSCAN baseline detector: a fixed 3x3 convolution (all weights 1, centre 10, bias -11,
 * zero padding, same size) then binarize `> 0`, applied `passes` (5) times, the first over the RGB
 * channels summed; the coordinates of the remaining pixels (row-major, as `np.argwhere`) are clustered
 * with DBSCAN(eps=3, min_samples=2) (scikit-learn's exact labels); each cluster is one object, its box
 * the min/max of its pixels. Known fault (kept on purpose): touching vesicles become one cluster.
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
  return { ...result, backend };
}
