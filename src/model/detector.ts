/**
 * `Detector`: an ONNX object detector over onnxruntime-node. Letterbox in (YOLOv5/v6, or a plain
 * stretch for models trained that way), decode the raw output (YOLOv5/v6 rows, YOLOv8/11 columns,
 * end2end, or a custom decoder), YOLOv5's NMS, and boxes back in the original image's pixels.
 */
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import type { BackendChoice } from '../backends/registry.js';
import { InvalidArgumentError, ModelError } from '../errors.js';
import { checkRawImage } from '../io/image.js';
import { channelPercentiles } from '../ops/channelPercentiles.js';
import { letterbox, letterboxParams, type ChannelLevels, type LetterboxParams } from '../ops/letterbox.js';
import { scaleBoxes } from '../ops/scaleBoxes.js';
import { nonMaxSuppression } from '../ops/yoloNms.js';
import { checkInteger, checkOneOf, invalid } from '../validate.js';
import { end2endDecoder } from './decoders/end2end.js';
import { checkDecoded, type DecoderMeta, type DetectorDecoder } from './decoders/types.js';
import {
  checkLayout,
  DETECTOR_LAYOUTS,
  imageInputSpec,
  inferLayout,
  type DetectorLayout,
  type ImageInputSpec,
  type LayoutSpec,
} from './layouts.js';
import {
  checkDetectOptions,
  stretchedToImage,
  suppressDecoded,
  type CheckedDetectOptions,
  type DetectOptions,
} from './postprocess.js';
import { checkInputSize, sourceScale, stretchToTensor, swapRB, toGrey, type ModelImage } from './preprocess.js';
import {
  autoTile,
  checkTileOptions,
  cropImage,
  flipImage,
  mergeBoxSets,
  offsetBoxes,
  tileGrid,
  type BoxSet,
  type Tile,
  type TileOptions,
  unflipBoxes,
} from './tiling.js';
import { weightedBoxesFusion } from '../ops/wbf.js';
import {
  createSession,
  formatShape,
  type ExecutionProvider,
  type ModelSession,
  type SessionOptions,
  type TensorInfo,
} from './session.js';

/** An image to detect on: interleaved HWC pixels (what `readImage` returns), 1/3/4 channels, 8- or 16-bit. */
export type DetectorImage = ModelImage;
export type { DetectOptions, TileOptions };

/** Options of {@link Detector.detect}: the post-process's, and sliced inference's. */
export type DetectorDetectOptions = DetectOptions & TileOptions;

/**
 * An input size chosen per frame (dynamic-size models): the square side is the frame's longer side times
 * `scale`, rounded up to a multiple of 32 and clamped to `[min, max]` (defaults 640 and 1536). The bundled
 * vesicle model asks for `{ scale: 0.75 }` in its ONNX metadata (`maskbox.input_scale`): a 2048² frame runs at 1536.
 */
export interface AutoInputSize {
  scale: number;
  min?: number;
  max?: number;
}

/** The checked {@link AutoInputSize} with its defaults, or null when `inputSize` is not one. */
function checkAutoInputSize(v: unknown): Required<AutoInputSize> | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const a = v as Partial<AutoInputSize>;
  if (typeof a.scale !== 'number' || !Number.isFinite(a.scale) || a.scale <= 0 || a.scale > 8)
    invalid('inputSize.scale', 'a number in (0, 8]', a.scale);
  const min = checkInteger('inputSize.min', a.min ?? 640, 32, 16384);
  const max = checkInteger('inputSize.max', a.max ?? 1536, min, 16384);
  if (min % 32 !== 0 || max % 32 !== 0) invalid('inputSize.min/max', 'multiples of 32', [min, max]);
  return { scale: a.scale, min, max };
}

/**
 * The per-frame input size a dynamic-size model asks for in its ONNX metadata (`maskbox.input_scale`,
 * optional `maskbox.input_min` / `maskbox.input_max`; the bundled vesicle model sets the scale to 0.75), or null.
 * @throws ModelError when the values are malformed
 */
function modelInputRule(metadata: Record<string, string>, source: string): Required<AutoInputSize> | null {
  const scale = metadata['maskbox.input_scale'];
  if (scale === undefined) return null;
  const num = (k: string) => (metadata[k] === undefined ? undefined : Number(metadata[k]));
  try {
    return checkAutoInputSize({ scale: Number(scale), min: num('maskbox.input_min'), max: num('maskbox.input_max') });
  } catch (err) {
    throw new ModelError(`${source}: bad maskbox.input_* metadata: ${(err as Error).message}`);
  }
}

/**
 * The per-channel percentile stretch a model asks for in its ONNX metadata (`maskbox.channel_stretch`,
 * "LOW HIGH" in percent; the bundled vesicle model has "1 99.99"), or null.
 * @throws ModelError when the value is malformed
 */
function modelChannelStretch(metadata: Record<string, string>, source: string): [number, number] | null {
  const text = metadata['maskbox.channel_stretch'];
  if (text === undefined) return null;
  try {
    return checkChannelStretch(text.trim().split(/\s+/).map(Number));
  } catch (err) {
    throw new ModelError(`${source}: bad maskbox.channel_stretch metadata: ${(err as Error).message}`);
  }
}

/**
 * A `channelStretch` value: `[low, high]` percent, `0 <= low < high <= 100`.
 * @throws InvalidArgumentError (argument `channelStretch`) otherwise
 */
export function checkChannelStretch(v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) invalid('channelStretch', '[low, high] in percent', v);
  const [lo, hi] = v as unknown[];
  if (typeof lo !== 'number' || typeof hi !== 'number' || !(lo >= 0 && lo < hi && hi <= 100))
    invalid('channelStretch', '[low, high] with 0 <= low < high <= 100', v);
  return [lo, hi];
}

/** A frame's per-channel levels, carried by its tiles so that every tile is stretched like the whole frame. */
const FRAME_LEVELS = Symbol('maskbox.frameLevels');
type LevelledImage = DetectorImage & { [FRAME_LEVELS]?: ChannelLevels };

/** Options of {@link Detector.load}. */
export interface DetectorOptions extends SessionOptions {
  /** Output layout; `'auto'` (default) infers it from the output names/shapes. Ignored when `decoder` is given. */
  layout?: 'auto' | DetectorLayout;
  /** Custom decoder from raw outputs to boxes in input pixels (see `DetectorDecoder`). */
  decoder?: DetectorDecoder;
  /**
   * Model input size `S` or `[height, width]`, for models whose input height/width are dynamic. Must match
   * a fixed size. Or {@link AutoInputSize} (dynamic models only): a square input chosen per frame from its
   * size, so a model sees frames at the scale it was trained for. Default: the model's fixed size; for a
   * dynamic model, the rule in its ONNX metadata (`maskbox.input_scale`, as the bundled vesicle model has),
   * else 640.
   */
  inputSize?: number | readonly [number, number] | AutoInputSize;
  /** Letterbox: `auto` pads only to a multiple of `stride` (dynamic-shape models only; YOLOv5 `auto=True`), `scaleUp`, `padValue` (114). */
  letterbox?: { auto?: boolean; stride?: number; scaleUp?: boolean; padValue?: number };
  /** `'letterbox'` (default: keep ratio, pad) or `'stretch'` (resize to the input size, no padding). */
  resize?: 'letterbox' | 'stretch';
  /** Channel order the model expects. Default `'rgb'`. */
  channelOrder?: 'rgb' | 'bgr';
  /** Percentile stretch `[low, high]` for 16-bit images (letterbox only); default: value / 65535. */
  percentiles?: readonly [number, number];
  /**
   * Per-channel percentile stretch `[low, high]` (percent) of each whole frame, before tiling and letterbox:
   * each colour channel's values at these percentiles (numpy.percentile, linear) map to 0 and 1, so a
   * camera's offset and gain and a red or green colour map do not change what the model sees. Default: the
   * model's ONNX metadata `maskbox.channel_stretch` (the bundled vesicle model: `[1, 99.99]`), else none;
   * `null` turns it off. Not with `percentiles`.
   */
  channelStretch?: readonly [number, number] | null;
  /** Images per inference run in `detectBatch` when the batch dimension is dynamic. Default 8. */
  batchSize?: number;
  /** Class names, index = class id. */
  names?: readonly string[];
  /** Backend of the pre/post-processing ops (letterbox, NMS, ...). Default the registry's. */
  backend?: BackendChoice;
}

/**
 * Milliseconds per stage (wall clock; for batches, each stage's share per image). A type rather than an
 * interface so that it fits `Record<string, number>` (the batch runner sums any processor's stages).
 */
export type DetectTimings = {
  preprocess: number;
  infer: number;
  postprocess: number;
};

/** Detections of one image. */
export interface Detections {
  /** `[N*4]` x1,y1,x2,y2 in original image pixels, clipped to the image, in NMS output order. */
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  timings: DetectTimings;
  /** Execution provider that ran the model. */
  provider: ExecutionProvider;
  /** Tiles the frame was cut into (sliced inference; 0 for a plain full-frame pass), and whether a full-frame pass was added. */
  tiles?: number;
  fullFrame?: boolean;
}

interface Prepared {
  data: Float32Array;
  /** Maps input pixels back to the image: letterbox params, or per-axis scales for stretch. */
  letterbox: LetterboxParams | null;
  sx: number;
  sy: number;
  width: number;
  height: number;
  imageWidth: number;
  imageHeight: number;
}

const hasSource = (image: unknown): boolean =>
  typeof image === 'object' && image !== null && (image as DetectorImage).source !== undefined;

/** The image without its `source` (the pixels as they are). */
function withoutSource(image: DetectorImage): DetectorImage {
  const { data, width, height, channels } = image;
  return { data, width, height, channels };
}

/** Object detector over an ONNX model. Create with {@link Detector.load}; call {@link Detector.dispose} when done. */
export class Detector {
  /** Output layout decoded by the built-in decoders, or `'custom'` with a decoder. */
  readonly layout: DetectorLayout | 'custom';
  /** Execution provider that runs the model (after any fallback). */
  readonly provider: ExecutionProvider;
  /** Providers asked for that could not start, with onnxruntime's reason. */
  readonly fallbacks: readonly { provider: ExecutionProvider; reason: string }[];
  /** The model's image input. */
  readonly input: ImageInputSpec;
  /**
   * Input size fed to the model (letterbox target), `[height, width]`; with an {@link AutoInputSize}, its
   * smallest (`min`): {@link Detector.inputSizeFor} gives a frame's.
   */
  readonly inputSize: readonly [number, number];
  /** The per-frame input size rule, or null for a fixed `inputSize`. */
  readonly autoInputSize: Readonly<Required<AutoInputSize>> | null;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Class names given at load, if any. */
  readonly names: readonly string[] | undefined;
  /** The per-channel percentile stretch applied to each frame (see {@link DetectorOptions.channelStretch}), or null. */
  readonly channelStretch: readonly [number, number] | null;
  private session: ort.InferenceSession | null;
  private readonly spec: LayoutSpec | null;
  private readonly decoder: DetectorDecoder | null;
  private readonly options: DetectorOptions;
  private readonly source: string;
  /** Input tensors of finished runs, reused: a fresh 5 MB buffer per frame costs page faults and zeroing. */
  private readonly spareTensors: Float32Array[] = [];

  private constructor(
    ms: ModelSession,
    input: ImageInputSpec,
    size: [number, number],
    auto: Required<AutoInputSize> | null,
    stretch: [number, number] | null,
    spec: LayoutSpec | null,
    decoder: DetectorDecoder | null,
    options: DetectorOptions,
  ) {
    this.channelStretch = stretch;
    this.session = ms.session;
    this.provider = ms.provider;
    this.fallbacks = ms.fallbacks;
    this.inputs = ms.inputs;
    this.outputs = ms.outputs;
    this.source = ms.source;
    this.input = input;
    this.inputSize = size;
    this.autoInputSize = auto;
    this.spec = spec;
    this.decoder = decoder;
    this.layout = decoder && !spec ? 'custom' : spec!.layout;
    this.options = options;
    this.names = options.names;
  }

  /**
   * Load a detector.
   * @param model path to an `.onnx` file, or its bytes
   * @param options layout/decoder, input size, letterbox mode, execution providers (`'cpu'` default;
   *   `'cuda'`/`'webgpu'` fall back to CPU with a one-line warning when they cannot start)
   * @throws ModelError when the file is not ONNX, not an image model, or its layout cannot be inferred
   *   (pass `layout` or `decoder`)
   * @throws InvalidArgumentError for bad options (e.g. `inputSize` different from a fixed input size)
   * @example const det = await Detector.load('yolov8n.onnx'); const r = await det.detect(await readImage('a.jpg'));
   */
  static async load(model: string | Uint8Array, options: DetectorOptions = {}): Promise<Detector> {
    if (options.layout !== undefined) checkOneOf('layout', options.layout, ['auto', ...DETECTOR_LAYOUTS]);
    if (options.decoder !== undefined && typeof options.decoder !== 'function')
      invalid('decoder', 'a function (outputs, meta) => { boxes, scores, classes }', options.decoder);
    checkOneOf('resize', options.resize ?? 'letterbox', ['letterbox', 'stretch']);
    checkOneOf('channelOrder', options.channelOrder ?? 'rgb', ['rgb', 'bgr']);
    if (options.batchSize !== undefined) checkInteger('batchSize', options.batchSize, 1, 4096);
    if (
      options.names !== undefined &&
      (!Array.isArray(options.names) || options.names.some((n) => typeof n !== 'string'))
    )
      invalid('names', 'an array of class names', options.names);
    let auto = checkAutoInputSize(options.inputSize);
    let stretch = options.channelStretch == null ? null : checkChannelStretch(options.channelStretch);
    if (stretch && options.percentiles !== undefined)
      invalid('channelStretch', 'no channelStretch together with percentiles', options.channelStretch);
    const wanted = auto ? null : checkInputSize(options.inputSize);
    const ms = await createSession(model, options);
    try {
      const input = imageInputSpec(ms.inputs, ms.source);
      if (options.inputSize === undefined && input.height === null && input.width === null)
        auto = modelInputRule(ms.metadata, ms.source);
      if (options.channelStretch === undefined && options.percentiles === undefined)
        stretch = modelChannelStretch(ms.metadata, ms.source);
      if (stretch && options.resize === 'stretch')
        invalid('channelStretch', "the letterbox resize (resize: 'stretch' has no per-channel levels)", stretch);
      const fixed: [number | null, number | null] = [input.height, input.width];
      fixed.forEach((f, i) => {
        if (f !== null && wanted && wanted[i] !== f) {
          throw new InvalidArgumentError(
            'inputSize',
            `${ms.source}: the model's input is fixed at ${formatShape(ms.inputs[0]!.shape)}; inputSize ${wanted.join('x')} does not match`,
          );
        }
      });
      if (options.letterbox?.auto && (input.height !== null || input.width !== null)) {
        throw new InvalidArgumentError(
          'letterbox.auto',
          `${ms.source}: auto (stride) letterbox needs dynamic height/width, but the input is ${formatShape(ms.inputs[0]!.shape)}`,
        );
      }
      if (auto && (input.height !== null || input.width !== null)) {
        throw new InvalidArgumentError(
          'inputSize',
          `${ms.source}: an input size chosen per frame ({ scale }) needs dynamic height/width, but the input is ${formatShape(ms.inputs[0]!.shape)}`,
        );
      }
      const size: [number, number] = auto
        ? [auto.min, auto.min]
        : [input.height ?? wanted?.[0] ?? 640, input.width ?? wanted?.[1] ?? 640];
      let spec: LayoutSpec | null = null;
      let decoder: DetectorDecoder | null = options.decoder ?? null;
      if (!decoder) {
        const layout = options.layout ?? 'auto';
        spec = layout === 'auto' ? inferLayout(ms.outputs, ms.source) : checkLayout(layout, ms.outputs, ms.source);
        if (spec.end2end) decoder = end2endDecoder(spec.end2end);
      }
      return new Detector(ms, input, size, auto, stretch, spec, decoder, { ...options });
    } catch (err) {
      await ms.session.release();
      throw err;
    }
  }

  /**
   * Detect objects in one image.
   * @param image HWC pixels `{ data, width, height, channels }` (8- or 16-bit)
   * @param options `conf` 0.4, `iou` 0.45, `maxDetections` 1000, `classes`, `agnostic`; sliced
   *   inference with `tile` (px, or `'auto'`), `overlap` 0.2, `fullFrame`, `mergeThreshold` 0.5 (see TileOptions)
   * @returns boxes in original image pixels, scores, classes, per-stage timings (ms) and the provider
   * @throws InvalidArgumentError for a malformed image or options; ModelError when the detector was disposed or the outputs do not fit the layout
   * @example const { boxes, scores, classes } = await det.detect(img, { conf: 0.25 });
   * @example const tiled = await det.detect(frame2048, { tile: 1280, overlap: 0.2 }); // tiled.tiles === 4
   */
  async detect(image: DetectorImage, options: DetectorDetectOptions = {}): Promise<Detections> {
    if (hasSource(image)) {
      checkRawImage('image', image);
      const s = sourceScale('image', image)!;
      return this.inSource(await this.detect(withoutSource(image), options), image, s);
    }
    const t = checkTileOptions(options);
    if (t.flipTta) return this.detectFlipTta(image, options);
    if (t.tile !== 0) {
      checkRawImage('image', image);
      const side = t.tile === 'auto' ? autoTile(image.width, image.height, Math.max(...this.inputSize)) : t.tile;
      if (side !== 0) return this.detectTiled(image, options, side, t.overlap, t.fullFrame, t.mergeThreshold);
    }
    const [r] = await this.run([image], options, 'image');
    return r!;
  }

  /**
   * Flip test-time augmentation: the frame and its mirror image (each with the same tiling options),
   * fused by weighted boxes fusion (IoU 0.55, equal weights, per class), at most
   * `maxDetections`, by fused score.
   */
  private async detectFlipTta(image: DetectorImage, options: DetectorDetectOptions): Promise<Detections> {
    checkRawImage('image', image);
    const opts = checkDetectOptions(options);
    const plain = { ...options, flipTta: false };
    // the mirror image has the frame's percentiles: computed once, carried by both
    const levels = await this.frameLevels(image);
    const withLevels = (im: DetectorImage): LevelledImage => (levels ? { ...im, [FRAME_LEVELS]: levels } : im);
    const a = await this.detect(withLevels(image), plain);
    const b = await this.detect(withLevels(flipImage(image)), plain);
    const t0 = performance.now();
    const fused = await weightedBoxesFusion(
      [
        { boxes: a.boxes, scores: a.scores, classes: a.classes },
        { boxes: unflipBoxes(b.boxes, image.width), scores: b.scores, classes: b.classes },
      ],
      { iouThreshold: 0.55, backend: this.options.backend },
    );
    const k = Math.min(fused.scores.length, opts.maxDetections);
    const sum = (key: keyof DetectTimings) => a.timings[key] + b.timings[key];
    return {
      boxes: fused.boxes.slice(0, 4 * k),
      scores: fused.scores.slice(0, k),
      classes: fused.classes.slice(0, k),
      timings: {
        preprocess: sum('preprocess'),
        infer: sum('infer'),
        postprocess: sum('postprocess') + performance.now() - t0,
      },
      provider: this.provider,
      ...(a.tiles !== undefined ? { tiles: a.tiles, fullFrame: a.fullFrame } : {}),
    };
  }

  /**
   * Sliced inference: tiles of `tile` px overlapping by `overlap`, each letterboxed to the input and
   * detected (batched), boxes shifted back, an optional full-frame pass, then `mergeBoxSets`: NMS of
   * whole boxes, pieces cut by seams dropped when a whole box covers them, else joined (IoS > mergeThreshold).
   * Timings are the sums over all passes.
   */
  private async detectTiled(
    image: DetectorImage,
    options: DetectorDetectOptions,
    tile: number,
    overlap: number,
    fullFrame: boolean,
    mergeThreshold: number,
  ): Promise<Detections> {
    const opts = checkDetectOptions(options);
    const grid = tileGrid(image.width, image.height, tile, overlap);
    const t0 = performance.now();
    const levels = await this.frameLevels(image);
    const crops = grid.map((g): LevelledImage => {
      const c = cropImage(image, g);
      return levels ? { ...c, [FRAME_LEVELS]: levels } : c;
    });
    const crop = performance.now() - t0;
    const perTile = await this.detectBatch(crops, { ...options, tile: 0 }); // each crop: one plain pass
    const sets: (BoxSet & { tile?: Tile })[] = perTile.map((d, i) => ({
      boxes: offsetBoxes(d.boxes, grid[i]!),
      scores: d.scores,
      classes: d.classes,
      tile: grid[i]!,
    }));
    const passes = [...perTile];
    if (fullFrame) {
      const frame: LevelledImage = levels ? { ...image, [FRAME_LEVELS]: levels } : image;
      const [whole] = await this.run([frame], options, 'image');
      sets.push(whole!);
      passes.push(whole!);
    }
    const t1 = performance.now();
    const merged = await mergeBoxSets(sets, {
      threshold: mergeThreshold,
      agnostic: opts.agnostic,
      maxDetections: opts.maxDetections,
      width: image.width,
      height: image.height,
      backend: this.options.backend,
    });
    const sum = (k: keyof DetectTimings) => passes.reduce((s, p) => s + p.timings[k], 0);
    return {
      ...merged,
      timings: {
        preprocess: crop + sum('preprocess'),
        infer: sum('infer'),
        postprocess: sum('postprocess') + (performance.now() - t1),
      },
      provider: this.provider,
      tiles: grid.length,
      fullFrame,
    };
  }

  /**
   * Detect on several images, batching them into one inference run where the model's batch dimension
   * allows (dynamic: `batchSize` per run; fixed B: B per run, padded). Results are in input order.
   * @throws as {@link Detector.detect}; errors name `images[i]`
   */
  async detectBatch(images: readonly DetectorImage[], options: DetectorDetectOptions = {}): Promise<Detections[]> {
    if (!Array.isArray(images)) invalid('images', 'an array of images', images);
    if (images.some(hasSource)) {
      const scales = images.map((im, i) => (checkRawImage(`images[${i}]`, im), sourceScale(`images[${i}]`, im)));
      const plain = await this.detectBatch(images.map(withoutSource), options);
      return plain.map((d, i) => (scales[i] ? this.inSource(d, images[i]!, scales[i]) : d));
    }
    const t = checkTileOptions(options);
    if (t.tile !== 0 || t.flipTta) {
      const out: Detections[] = [];
      for (const im of images) out.push(await this.detect(im, options));
      return out;
    }
    const out: Detections[] = new Array(images.length);
    const fixedBatch = this.input.batch;
    const perRun = fixedBatch ?? this.options.batchSize ?? 8;
    // Group by the letterboxed input shape (it varies per image only in auto mode), keeping order.
    const groups = new Map<string, number[]>();
    images.forEach((im, i) => {
      checkRawImage(`images[${i}]`, im);
      const [h, w] = this.targetShape(im);
      const key = `${h}x${w}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const idx of groups.values()) {
      for (let k = 0; k < idx.length; k += perRun) {
        const chunk = idx.slice(k, k + perRun);
        const res = await this.run(
          chunk.map((i) => images[i]!),
          options,
          'images',
          chunk,
        );
        chunk.forEach((i, j) => (out[i] = res[j]!));
      }
    }
    return out;
  }

  /** Detections on a resampled image, in the pixels of its `source` frame. */
  private inSource(d: Detections, image: DetectorImage, s: { sx: number; sy: number }): Detections {
    const { width, height } = image.source!;
    return { ...d, boxes: stretchedToImage(d.boxes, s.sx, s.sy, width, height) }; // the same scale-and-clip
  }

  /** Release the onnxruntime session. The detector cannot be used afterwards. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }

  /**
   * The letterbox target `[height, width]` for a frame of this size: `inputSize`, or with an
   * {@link AutoInputSize} the square side `ceil32(max(width, height) * scale)` clamped to `[min, max]`.
   * @example det.inputSizeFor(2048, 2048) // [1536, 1536] for the bundled model's { scale: 0.75 }
   */
  inputSizeFor(width: number, height: number): [number, number] {
    const a = this.autoInputSize;
    if (!a) return [this.inputSize[0], this.inputSize[1]];
    const side = Math.min(a.max, Math.max(a.min, Math.ceil((Math.max(width, height) * a.scale) / 32) * 32));
    return [side, side];
  }

  private targetShape(image: DetectorImage): [number, number] {
    const size = this.inputSizeFor(image.width, image.height);
    if (this.options.resize === 'stretch' || !this.options.letterbox?.auto) return size;
    const p = letterboxParams(image.width, image.height, {
      size,
      auto: true,
      stride: this.options.letterbox.stride,
      scaleUp: this.options.letterbox.scaleUp,
    });
    return [p.height, p.width];
  }

  /** The frame's per-channel levels when this detector stretches frames (once per frame: its tiles carry them). */
  private async frameLevels(image: LevelledImage): Promise<ChannelLevels | undefined> {
    if (image[FRAME_LEVELS]) return image[FRAME_LEVELS];
    if (!this.channelStretch) return undefined;
    const { low, high } = await channelPercentiles(image, this.channelStretch, { backend: this.options.backend });
    return { low, high };
  }

  private async prepare(image: LevelledImage, out: Float32Array, shape: [number, number]): Promise<Prepared> {
    const o = this.options;
    const [h, w] = shape;
    let params: LetterboxParams | null = null;
    if (o.resize === 'stretch') {
      await stretchToTensor(image, h, w, out, o.backend);
    } else {
      const lb = await letterbox(image, {
        size: this.inputSizeFor(image.width, image.height),
        auto: o.letterbox?.auto,
        stride: o.letterbox?.stride,
        scaleUp: o.letterbox?.scaleUp,
        padValue: o.letterbox?.padValue,
        percentiles: o.percentiles,
        levels: await this.frameLevels(image),
        out,
        backend: o.backend,
      });
      params = lb.params;
    }
    const plane = h * w;
    if (o.channelOrder === 'bgr') swapRB(out, plane);
    return {
      data: out,
      letterbox: params,
      sx: image.width / w,
      sy: image.height / h,
      width: w,
      height: h,
      imageWidth: image.width,
      imageHeight: image.height,
    };
  }

  private async run(
    images: readonly DetectorImage[],
    options: DetectOptions,
    name: string,
    indices?: number[],
  ): Promise<Detections[]> {
    const session = this.session;
    if (!session) throw new ModelError(`${this.source}: detector was disposed`);
    const opts = checkDetectOptions(options);
    const t0 = performance.now();
    images.forEach((im, i) => checkRawImage(indices ? `${name}[${indices[i]}]` : name, im));
    const [h, w] = this.targetShape(images[0]!);
    const batch = this.input.batch ?? images.length;
    const c = this.input.channels;
    const size = batch * c * h * w;
    const spare = this.spareTensors.findIndex((t) => t.length === size);
    const tensorData = spare >= 0 ? this.spareTensors.splice(spare, 1)[0]! : new Float32Array(size);
    if (spare >= 0) tensorData.fill(0, images.length * c * h * w); // the padding slots of a fixed batch
    const prepared: Prepared[] = [];
    const scratch = c === 3 ? null : new Float32Array(3 * h * w);
    for (let i = 0; i < images.length; i++) {
      const dst = scratch ?? tensorData.subarray(i * 3 * h * w, (i + 1) * 3 * h * w);
      prepared.push(await this.prepare(images[i]!, dst, [h, w]));
      if (scratch) toGrey(scratch, tensorData.subarray(i * h * w, (i + 1) * h * w));
    }
    const t1 = performance.now();
    const feeds = { [this.input.name]: new ort.Tensor('float32', tensorData, [batch, c, h, w]) };
    const fetches = this.spec && !this.decoder ? [this.spec.output] : undefined;
    let outputs: Record<string, ort.Tensor>;
    try {
      outputs = (fetches ? await session.run(feeds, fetches) : await session.run(feeds)) as Record<string, ort.Tensor>;
    } catch (err) {
      throw new ModelError(
        `${this.source}: inference failed on input [${batch},${c},${h},${w}]: ${(err as Error).message.split('\n')[0]}`,
        { cause: err },
      );
    }
    const t2 = performance.now();
    const results = await this.decode(outputs, prepared, opts, batch);
    // Only now: every image is written in full by the letterbox, and the outputs have been read.
    if (this.spareTensors.length < 2) this.spareTensors.push(tensorData);
    const t3 = performance.now();
    const n = images.length;
    const timings: DetectTimings = { preprocess: (t1 - t0) / n, infer: (t2 - t1) / n, postprocess: (t3 - t2) / n };
    return results.map((r) => ({ ...r, timings: { ...timings }, provider: this.provider }));
  }

  private async decode(
    outputs: Record<string, ort.Tensor>,
    prepared: Prepared[],
    opts: CheckedDetectOptions,
    batch: number,
  ) {
    const results: { boxes: Float32Array; scores: Float32Array; classes: Int32Array }[] = [];
    if (!this.decoder) {
      const t = outputs[this.spec!.output]!;
      if (t.type !== 'float32')
        throw new ModelError(`${this.source}: output '${this.spec!.output}' is ${t.type}, expected float32`);
      const layout = this.spec!.layout === 'yolov8' ? 'yolov8' : 'yolov5';
      let per;
      try {
        per = await nonMaxSuppression(t.data as Float32Array, t.dims as number[], {
          layout,
          ...opts,
          backend: this.options.backend,
        });
      } catch (err) {
        if (!(err instanceof InvalidArgumentError) || err.argument === 'classes' || /^classes\[/.test(err.argument))
          throw err;
        throw new ModelError(
          `${this.source}: output '${this.spec!.output}' ${formatShape(t.dims as number[])} cannot be decoded as '${this.spec!.layout}': ${err.message}`,
          { cause: err },
        );
      }
      for (let i = 0; i < prepared.length; i++)
        results.push({
          boxes: await this.toImage(per[i]!.boxes, prepared[i]!),
          scores: per[i]!.scores,
          classes: per[i]!.classes,
        });
      return results;
    }
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const meta: DecoderMeta = {
        batchIndex: i,
        batchSize: batch,
        inputWidth: p.width,
        inputHeight: p.height,
        ...opts,
      };
      const d = checkDecoded(await this.decoder(outputs, meta));
      const kept = await suppressDecoded(d, opts, this.options.backend);
      results.push({ boxes: await this.toImage(kept.boxes, p), scores: kept.scores, classes: kept.classes });
    }
    return results;
  }

  private async toImage(boxes: Float32Array, p: Prepared): Promise<Float32Array> {
    if (p.letterbox) return (await scaleBoxes(boxes, p.letterbox, { backend: this.options.backend })).boxes;
    return stretchedToImage(boxes, p.sx, p.sy, p.imageWidth, p.imageHeight);
  }
}
