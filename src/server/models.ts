/**
 * The models a server holds: ONNX detectors (kept raw outputs, so that new `conf`/`iou` settings re-run
 * only the post-processing), ONNX segmenters, and the lab's DBSCAN baseline. A detector's preprocessing
 * and inference are the library's `Detector`; its post-processing is `postprocessRaw`, the same ops
 * `Detector.detect` runs, so results equal `maskbox detect`'s.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ModelError } from '../errors.js';
import type { RawImage } from '../io/image.js';
import type { DetectorDecoder } from '../model/decoders/types.js';
import { Detector } from '../model/detector.js';
import { inferLayout, type DetectorLayout } from '../model/layouts.js';
import { Segmenter, type Segmentation } from '../model/segmenter.js';
import type { ExecutionProvider } from '../model/session.js';
import { letterboxParams } from '../ops/letterbox.js';
import { postprocessRaw, type PostprocessOptions, type PostprocessResult, type RawOutput } from './raw.js';
import type { TileOptions } from '../model/tiling.js';

/** What `GET /v1/models` says about one model. */
export interface ModelInfo {
  name: string;
  kind: 'detector' | 'segmenter' | 'baseline';
  /** Output layout (detectors), e.g. `'yolov6'`. */
  layout?: string;
  /** Model input `[height, width]`. */
  inputSize?: [number, number];
  classes: string[];
  /** onnxruntime execution provider in use (after any fallback). */
  provider?: ExecutionProvider;
  /** Whether its raw output is kept, so `conf`/`iou` can change without running the model again. */
  keepsRawOutput?: boolean;
  /** maskbox backend that ran its last post-processing (NMS): `js`, `cpu`, ...; null before the first run. */
  backend?: string | null;
}

/** One detection run: the boxes, and the raw output when the layout allows keeping it. */
export interface DetectorRun extends Omit<PostprocessResult, 'backend'> {
  raw: RawOutput | null;
  timings: { preprocess: number; infer: number; postprocess: number };
  /** Tiles run (sliced inference), when tiling was asked for. */
  tiles?: number;
}

/** Settings of one run: post-processing plus sliced inference (`tile` px or `'auto'`, `overlap`, `fullFrame`). */
export interface DetectorRunOptions extends PostprocessOptions, TileOptions {}

/** An ONNX detector as the server runs it. */
export class ServedDetector {
  readonly kind = 'detector';
  /** Backend of the last post-processing run (see {@link ModelInfo.backend}). */
  lastBackend: string | null = null;
  private readonly capture = new AsyncLocalStorage<{ data?: Float32Array; dims?: [number, number, number] }>();

  private constructor(
    readonly name: string,
    /** The plain Detector: tiled runs, and layouts whose raw output is not kept (end2end). */
    private readonly plain: Detector,
    /** The same model with a decoder that keeps the raw output (YOLO layouts), or null. */
    private readonly detector: Detector | null,
    readonly layout: DetectorLayout | 'custom',
    private readonly rawLayout: 'yolov5' | 'yolov8' | null,
    readonly classes: string[],
  ) {}

  /**
   * Load a detector. YOLOv5/v6/v8 layouts keep their raw output; end2end models run `Detector.detect`.
   * @throws ModelError when the file is not a detector (see `Detector.load`)
   */
  static async load(
    path: string,
    options: { name?: string; provider?: ExecutionProvider; classes?: string[] } = {},
  ): Promise<ServedDetector> {
    const name = options.name ?? basename(path).replace(/\.onnx$/i, '');
    const session = { executionProviders: options.provider ?? 'cpu' } as const;
    const probe = await Detector.load(path, session);
    const layout = probe.layout;
    if (layout === 'end2end' || layout === 'custom') {
      return new ServedDetector(name, probe, null, layout, null, options.classes ?? classNames(probe.names, 1));
    }
    const spec = inferLayout(probe.outputs, path);
    let served: ServedDetector | undefined;
    const decoder: DetectorDecoder = (outputs, meta) => {
      const slot = served!.capture.getStore();
      const t = outputs[spec.output];
      if (!slot || !t || t.type !== 'float32' || t.dims.length !== 3)
        throw new ModelError(`${path}: output '${spec.output}' is missing or not a float32 [B,N,K] tensor`);
      const [, d1, d2] = t.dims as [number, number, number];
      const per = d1 * d2;
      slot.data = (t.data as Float32Array).slice(meta.batchIndex * per, (meta.batchIndex + 1) * per);
      slot.dims = [1, d1, d2];
      return { boxes: new Float32Array(0), scores: new Float32Array(0), classes: new Int32Array(0), nms: false };
    };
    const detector = await Detector.load(path, { ...session, decoder });
    const out = detector.outputs.find((o) => o.name === spec.output)!;
    const width = Number(out.shape[layout === 'yolov8' ? 1 : 2]);
    const numClasses = Number.isInteger(width) ? width - (layout === 'yolov8' ? 4 : 5) : 1;
    served = new ServedDetector(
      name,
      probe,
      detector,
      layout,
      layout === 'yolov8' ? 'yolov8' : 'yolov5',
      options.classes ?? classNames(undefined, numClasses),
    );
    return served;
  }

  /** What `GET /v1/models` lists. */
  info(): ModelInfo {
    return {
      name: this.name,
      kind: 'detector',
      layout: this.layout,
      inputSize: [this.plain.inputSize[0], this.plain.inputSize[1]],
      classes: this.classes,
      provider: this.plain.provider,
      keepsRawOutput: this.rawLayout !== null,
      backend: this.lastBackend,
    };
  }

  /**
   * Run the model once on `image` and post-process with `options`.
   * @throws InvalidArgumentError for options out of range; ModelError when inference fails
   */
  async run(image: RawImage, options: DetectorRunOptions): Promise<DetectorRun> {
    const tiled = options.tile !== undefined && options.tile !== 0;
    if (this.detector === null || this.rawLayout === null || tiled) {
      const d = await this.plain.detect(image, options);
      return {
        boxes: d.boxes,
        scores: d.scores,
        classes: d.classes,
        raw: null,
        timings: d.timings,
        ...(tiled ? { tiles: d.tiles ?? 1 } : {}),
      };
    }
    const slot: { data?: Float32Array; dims?: [number, number, number] } = {};
    const detector = this.detector;
    const d = await this.capture.run(slot, () => detector.detect(image));
    const [h, w] = this.plain.inputSizeFor(image.width, image.height);
    const p = letterboxParams(image.width, image.height, { size: [h, w] });
    const raw: RawOutput = {
      data: slot.data!,
      dims: slot.dims!,
      layout: this.rawLayout,
      transform: { gain: p.gain, padX: p.padX, padY: p.padY, imageWidth: p.imageWidth, imageHeight: p.imageHeight },
    };
    const t0 = performance.now();
    const r = await postprocessRaw(raw, options);
    this.lastBackend = r.backend;
    const timings = { ...d.timings, postprocess: performance.now() - t0 };
    return { boxes: r.boxes, scores: r.scores, classes: r.classes, raw, timings };
  }

  async dispose(): Promise<void> {
    await this.plain.dispose();
    await this.detector?.dispose();
  }
}

/** An ONNX segmenter as the server runs it. */
export class ServedSegmenter {
  readonly kind = 'segmenter';
  private constructor(
    readonly name: string,
    private readonly segmenter: Segmenter,
  ) {}

  /** @throws ModelError when the file is not a segmentation model (see `Segmenter.load`) */
  static async load(
    path: string,
    options: { name?: string; provider?: ExecutionProvider } = {},
  ): Promise<ServedSegmenter> {
    const name = options.name ?? basename(path).replace(/\.onnx$/i, '');
    return new ServedSegmenter(name, await Segmenter.load(path, { executionProviders: options.provider ?? 'cpu' }));
  }

  get classes(): string[] {
    return [...this.segmenter.classes];
  }

  info(): ModelInfo {
    return { name: this.name, kind: 'segmenter', classes: this.classes, provider: this.segmenter.provider };
  }

  /** Segment one image; rows are named `imageName`. */
  run(image: RawImage, imageName: string, threshold?: number): Promise<Segmentation> {
    return this.segmenter.segment(image, { name: imageName, threshold });
  }

  async dispose(): Promise<void> {
    await this.segmenter.dispose();
  }
}

function classNames(names: readonly string[] | undefined, n: number): string[] {
  if (names && names.length > 0) return [...names];
  return Array.from({ length: Math.max(1, n) }, (_, i) => (n === 1 ? 'object' : `class-${i}`));
}

/**
 * Load a model file as a detector, or, when it is not one, as a segmenter.
 * @throws ModelError saying why it is neither
 */
export async function loadServedModel(
  path: string,
  options: { provider?: ExecutionProvider; classes?: string[] } = {},
): Promise<ServedDetector | ServedSegmenter> {
  try {
    return await ServedDetector.load(path, options);
  } catch (detErr) {
    if (!(detErr instanceof ModelError)) throw detErr;
    try {
      return await ServedSegmenter.load(path, options);
    } catch (segErr) {
      if (!(segErr instanceof ModelError)) throw segErr;
      throw new ModelError(`${path}: neither a detector (${detErr.message}) nor a segmenter (${segErr.message})`);
    }
  }
}
