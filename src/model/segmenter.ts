/**
 * `Segmenter`: multi-label semantic segmentation over one or several ONNX models (the hand-bone job,
 * DESIGN section 2). Per image: resize to the model's input size (stretch, bilinear) and `/255`; run;
 * logits `[B, C, h, w]` (optionally averaged with the horizontally flipped run, flipped back); per class
 * bilinear resize back to the image size (torch `F.interpolate(align_corners=False)`), sigmoid,
 * average the probabilities over the models (K-fold soft ensemble), `> threshold`; row-major RLE per
 * class; submission rows `{ image_name, class, rle }` in class order.
 *
 * Memory stays at a few full-size planes whatever the class count: classes are resized, thresholded
 * and encoded one at a time.
 */
import * as ort from 'onnxruntime-node';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BackendChoice } from '../backends/registry.js';
import { InvalidArgumentError, ModelError } from '../errors.js';
import { checkRawImage } from '../io/image.js';
import type { SubmissionRow } from '../io/submissionCsv.js';
import { encodeRle } from '../ops/rle.js';
import { resizeBilinear } from '../ops/resize.js';
import { logitsToRle, sigmoidCutoff } from '../ops/logitsToRle.js';
import { checkInteger, checkRange, invalid } from '../validate.js';
import { HANDBONE_CLASSES } from './classes.js';
import { checkInputSize, flipRows, stretchToTensor, type ModelImage } from './preprocess.js';
import { imageInputSpec, type ImageInputSpec } from './layouts.js';
import {
  createSession,
  formatShape,
  type ExecutionProvider,
  type ModelSession,
  type SessionOptions,
} from './session.js';

/** Options of {@link Segmenter.load}. */
export interface SegmenterOptions extends SessionOptions {
  /** Model input size `S` or `[height, width]` for models with dynamic height/width. Default 512. Must match a fixed size. */
  inputSize?: number | readonly [number, number];
  /** Probability threshold: a pixel is in the mask when the (averaged) probability is `> threshold`. Default 0.5. */
  threshold?: number;
  /** Horizontal-flip test-time augmentation (logits of the flipped run flipped back and averaged). Default false. */
  flip?: boolean;
  /** Class names, one per output channel. Default the 29 hand bones. */
  classes?: readonly string[];
  /** Backend of the resize and RLE ops. */
  backend?: BackendChoice;
}

/** Options of {@link Segmenter.segment}. */
export interface SegmentOptions {
  /** `image_name` of the rows (its basename is used). Default `'image'`. */
  name?: string;
  /** Override the load-time threshold. */
  threshold?: number;
  /** Override the load-time flip TTA. */
  flip?: boolean;
  /** Also return the masks `[C, H, W]` (C x the image size in bytes). Default false. */
  masks?: boolean;
}

/** Result of {@link Segmenter.segment}. */
export interface Segmentation {
  /** One row per class, in class order: `{ image_name, class, rle }` (row-major, 1-based RLE). */
  rows: SubmissionRow[];
  /** The RLE strings alone, `rle[c]` for class `c`. */
  rle: string[];
  /** Pixels in each class's mask. */
  areas: number[];
  /** `[C, H, W]` 0/1, only with `masks: true`. */
  masks?: Uint8Array;
  timings: { preprocess: number; infer: number; postprocess: number };
  provider: ExecutionProvider;
}

interface Member {
  ms: ModelSession;
  input: ImageInputSpec;
  size: [number, number];
  output: string;
  batchFixed: number | null;
}

/** Semantic segmenter over one model or a K-fold ensemble. Create with {@link Segmenter.load}. */
export class Segmenter {
  /** Class names, one per output channel. */
  readonly classes: readonly string[];
  /** Provider of the first model (all models are created with the same options). */
  readonly provider: ExecutionProvider;
  /** Number of models averaged. */
  readonly models: number;
  private members: Member[] | null;
  private readonly options: SegmenterOptions;

  private constructor(members: Member[], classes: readonly string[], options: SegmenterOptions) {
    this.members = members;
    this.classes = classes;
    this.provider = members[0]!.ms.provider;
    this.models = members.length;
    this.options = options;
  }

  /**
   * Load one model, or several for soft ensembling (probabilities averaged).
   * @param models a path or bytes, or a list of them
   * @param options input size (512 for dynamic models), threshold (0.5), flip TTA, class names, providers
   * @throws ModelError when a file is not ONNX, does not take one image `[B,3,H,W]`, has no `[B,C,h,w]`
   *   output, or C differs from the class names (or between models)
   * @example const seg = await Segmenter.load(['fold0.onnx', 'fold1.onnx'], { flip: true });
   */
  static async load(
    models: string | Uint8Array | readonly (string | Uint8Array)[],
    options: SegmenterOptions = {},
  ): Promise<Segmenter> {
    const list = Array.isArray(models) ? [...models] : [models as string | Uint8Array];
    if (list.length === 0) invalid('models', 'at least one model', models);
    checkRange('threshold', options.threshold ?? 0.5, 0, 1);
    if (options.flip !== undefined && typeof options.flip !== 'boolean') invalid('flip', 'a boolean', options.flip);
    const wanted = checkInputSize(options.inputSize);
    const members: Member[] = [];
    try {
      for (const m of list) {
        const ms = await createSession(m, options);
        members.push({ ms, input: null!, size: [0, 0], output: '', batchFixed: null });
        const input = imageInputSpec(ms.inputs, ms.source, 'segmenter');
        if (
          (input.height !== null && wanted && wanted[0] !== input.height) ||
          (input.width !== null && wanted && wanted[1] !== input.width)
        ) {
          throw new InvalidArgumentError(
            'inputSize',
            `${ms.source}: the model's input is fixed at ${formatShape(ms.inputs[0]!.shape)}; inputSize ${wanted!.join('x')} does not match`,
          );
        }
        const out = ms.outputs.filter((o) => o.shape.length === 4 && o.type === 'float32');
        if (out.length !== 1) {
          throw new ModelError(
            `${ms.source}: expected one float32 output of logits [B,C,h,w]; outputs: ${ms.outputs.map((o) => `${o.name} ${formatShape(o.shape)}`).join(', ')}`,
          );
        }
        Object.assign(members[members.length - 1]!, {
          input,
          output: out[0]!.name,
          batchFixed: input.batch,
          size: [input.height ?? wanted?.[0] ?? 512, input.width ?? wanted?.[1] ?? 512],
        });
      }
      const channels = members.map((m) => m.ms.outputs.find((o) => o.name === m.output)!.shape[1]);
      const classes = options.classes ?? HANDBONE_CLASSES;
      if (!Array.isArray(classes) || classes.some((c) => typeof c !== 'string'))
        invalid('classes', 'an array of class names', classes);
      channels.forEach((c, i) => {
        if (typeof c === 'number' && c !== classes.length) {
          throw new ModelError(
            `${members[i]!.ms.source}: the model outputs ${c} classes but ${classes.length} class names are given${options.classes ? '' : ' (the 29 hand bones by default)'}; pass \`classes\``,
          );
        }
      });
      return new Segmenter(members, classes, { ...options });
    } catch (err) {
      await Promise.all(members.map((m) => m.ms.session.release()));
      throw err;
    }
  }

  /**
   * Segment one image.
   * @param image HWC pixels `{ data, width, height, channels }` (8- or 16-bit)
   * @param options row name, threshold/flip overrides, `masks: true` to get the masks too
   * @returns rows in class order, RLE strings, areas, timings (ms) and the provider
   * @throws InvalidArgumentError for a malformed image or options; ModelError when the output shape is wrong or the segmenter was disposed
   * @example const { rows } = await seg.segment(await readImage('image1.png'), { name: 'image1.png' });
   */
  async segment(image: ModelImage, options: SegmentOptions = {}): Promise<Segmentation> {
    const members = this.members;
    if (!members) throw new ModelError('segmenter was disposed');
    checkRawImage('image', image);
    const threshold = checkRange('threshold', options.threshold ?? this.options.threshold ?? 0.5, 0, 1);
    const flip = options.flip ?? this.options.flip ?? false;
    if (typeof flip !== 'boolean') invalid('flip', 'a boolean', flip);
    const name = basename(options.name ?? 'image');
    const backend = this.options.backend;
    const t0 = performance.now();
    // One input per distinct model size; the flipped copy right after it (batch 2 when allowed).
    const inputs = new Map<string, Float32Array>();
    for (const m of members) {
      const key = m.size.join('x');
      if (inputs.has(key)) continue;
      const [h, w] = m.size;
      const data = new Float32Array((flip ? 2 : 1) * 3 * h * w);
      await stretchToTensor(image, h, w, data.subarray(0, 3 * h * w), backend);
      if (flip) flipRows(data.subarray(0, 3 * h * w), data.subarray(3 * h * w), 3 * h, w);
      inputs.set(key, data);
    }
    const t1 = performance.now();
    const logits: { data: Float32Array; h: number; w: number }[] = [];
    for (const m of members) logits.push(await this.infer(m, inputs.get(m.size.join('x'))!, flip));
    const t2 = performance.now();

    const C = this.classes.length;
    const H = image.height,
      W = image.width,
      P = H * W;
    if (logits.length === 1 && !options.masks) {
      // One model: the fused op resizes, thresholds and encodes without materialising full-size planes.
      const l = logits[0]!;
      const fused = await logitsToRle(l.data, [C, l.h, l.w], [H, W], { threshold, backend });
      const t3f = performance.now();
      return {
        rows: fused.rle.map((r, c) => ({ image_name: name, class: this.classes[c]!, rle: r })),
        rle: fused.rle,
        areas: fused.areas,
        timings: { preprocess: t1 - t0, infer: t2 - t1, postprocess: t3f - t2 },
        provider: this.provider,
      };
    }
    const rle: string[] = [],
      areas: number[] = [];
    const masks = options.masks ? new Uint8Array(C * P) : null;
    // One upsampled plane per model (reused across classes): memory is K full-size planes, not C.
    const ups = logits.map(() => new Float32Array(P));
    const mask = new Uint8Array(P);
    // x > cutoff iff float32 sigmoid(x) > t (as torch computes it): one model needs no exp at all, and an
    // ensemble only where its models disagree (all above the threshold means the mean is too; below alike).
    const logitThr = sigmoidCutoff(threshold);
    const K = logits.length;
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) {
        const l = logits[k]!;
        const plane = l.data.subarray(c * l.h * l.w, (c + 1) * l.h * l.w);
        await resizeBilinear(plane, [1, l.h, l.w], [H, W], { out: ups[k], backend });
      }
      let area = 0;
      if (K === 1) {
        const up = ups[0]!;
        for (let i = 0; i < P; i++) area += mask[i] = up[i]! > logitThr ? 1 : 0;
      } else {
        for (let i = 0; i < P; i++) {
          let above = 0;
          for (let k = 0; k < K; k++) if (ups[k]![i]! > logitThr) above++;
          let on = above === K ? 1 : 0;
          if (above > 0 && above < K) {
            let sum = 0;
            for (let k = 0; k < K; k++) sum += 1 / (1 + Math.exp(-ups[k]![i]!));
            on = sum / K > threshold ? 1 : 0;
          }
          area += mask[i] = on;
        }
      }
      const {
        rle: [s],
      } = await encodeRle(mask, { height: H, width: W }, { backend });
      rle.push(s!);
      areas.push(area);
      if (masks) masks.set(mask, c * P);
    }
    const t3 = performance.now();
    const rows = rle.map((r, c) => ({ image_name: name, class: this.classes[c]!, rle: r }));
    const result: Segmentation = {
      rows,
      rle,
      areas,
      timings: { preprocess: t1 - t0, infer: t2 - t1, postprocess: t3 - t2 },
      provider: this.provider,
    };
    if (masks) result.masks = masks;
    return result;
  }

  /** Release every model's session. */
  async dispose(): Promise<void> {
    const m = this.members;
    this.members = null;
    if (m) await Promise.all(m.map((x) => x.ms.session.release()));
  }

  /** Run one model; with flip, average the logits with the flipped run's, flipped back. Returns `[C, h, w]`. */
  private async infer(
    m: Member,
    data: Float32Array,
    flip: boolean,
  ): Promise<{ data: Float32Array; h: number; w: number }> {
    const [h, w] = m.size;
    const n = 3 * h * w;
    const runs: Float32Array[] = [];
    let dims: readonly number[] = [];
    const run = async (input: Float32Array, b: number) => {
      const batch = m.batchFixed ?? b;
      const feed = batch === b ? input : padBatch(input, n, batch);
      let out: ort.Tensor;
      try {
        const r = await m.ms.session.run({ [m.input.name]: new ort.Tensor('float32', feed, [batch, 3, h, w]) }, [
          m.output,
        ]);
        out = r[m.output] as ort.Tensor;
      } catch (err) {
        throw new ModelError(
          `${m.ms.source}: inference failed on input [${batch},3,${h},${w}]: ${(err as Error).message.split('\n')[0]}`,
          { cause: err },
        );
      }
      dims = out.dims;
      if (dims.length !== 4 || dims[1] !== this.classes.length) {
        throw new ModelError(
          `${m.ms.source}: output '${m.output}' is ${formatShape(dims as number[])}, expected [B,${this.classes.length},h,w]`,
        );
      }
      const per = dims[1]! * dims[2]! * dims[3]!;
      for (let i = 0; i < b; i++) runs.push((out.data as Float32Array).subarray(i * per, (i + 1) * per));
    };
    if (!flip || m.batchFixed === 1) {
      await run(data.subarray(0, n), 1);
      if (flip) await run(data.subarray(n), 1);
    } else await run(data, 2);
    const [, C, lh, lw] = dims as [number, number, number, number];
    if (!flip) return { data: runs[0]!, h: lh, w: lw };
    const back = new Float32Array(C * lh * lw);
    flipRows(runs[1]!, back, C * lh, lw);
    const a = runs[0]!;
    for (let i = 0; i < back.length; i++) back[i] = (a[i]! + back[i]!) / 2;
    return { data: back, h: lh, w: lw };
  }
}

function padBatch(data: Float32Array, n: number, batch: number): Float32Array {
  const out = new Float32Array(batch * n);
  out.set(data.subarray(0, Math.min(data.length, batch * n)));
  return out;
}
