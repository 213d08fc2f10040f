/**
 * What a distributed run is: the command (detect, baseline, segment) with its options, where its outputs
 * go, and the work folder on storage every worker can reach. A {@link RunSpec} travels in the jobs'
 * data, so a worker needs nothing but the queue to know what to compute.
 */
import type { BaselineOptions } from '../ops/baseline.js';
import type { OutputPlan } from '../cli/detectionCli.js';
import { DETECT_DEFAULTS, type DetectorLoadFlags, type DetectorRunFlags } from '../cli/detectorFlags.js';

/** The local command a run stands for. */
export type RunKind = 'detect' | 'baseline' | 'segment';
/** The run kinds. */
export const RUN_KINDS: readonly RunKind[] = ['detect', 'baseline', 'segment'];

/**
 * Options of `maskbox detect` that change results. The detector flags (`layout`, `inputSize`,
 * `channelStretch`, `tile`, `overlap`, `fullFrame`, `flipTta`) are stored only when they differ from the
 * defaults, so a spec without them (also one written before they were forwarded) means the defaults;
 * `overlap` and `fullFrame` only with `tile`. `channelStretch: null` is off, absent the model's own.
 */
export interface DetectSpec
  extends DetectorLoadFlags, Partial<Pick<DetectorRunFlags, 'tile' | 'overlap' | 'fullFrame' | 'flipTta'>> {
  /** The ONNX model as every worker sees it (absolute path); undefined: the worker's `--model` or the bundled one. */
  model?: string;
  conf: number;
  iou: number;
  maxDetections: number;
  agnostic: boolean;
  /** Images per inference run (the model's fixed batch wins). */
  batch: number;
}

/** A detect run's `Detector.load` and `Detector.detect` options, with the defaults for what the spec leaves out. */
export function detectorOptionsOf(d: DetectSpec): { loadOptions: DetectorLoadFlags; detectOptions: DetectorRunFlags } {
  const loadOptions: DetectorLoadFlags = {
    ...(d.layout !== undefined ? { layout: d.layout } : {}),
    ...(d.inputSize !== undefined ? { inputSize: d.inputSize } : {}),
    ...(d.channelStretch !== undefined ? { channelStretch: d.channelStretch } : {}),
  };
  const x = DETECT_DEFAULTS;
  const detectOptions: DetectorRunFlags = {
    conf: d.conf,
    iou: d.iou,
    maxDetections: d.maxDetections,
    agnostic: d.agnostic,
    ...(d.tile !== undefined ? { tile: d.tile } : {}),
    overlap: d.overlap ?? x.overlap,
    fullFrame: d.fullFrame ?? x.fullFrame,
    flipTta: d.flipTta ?? x.flipTta,
  };
  return { loadOptions, detectOptions };
}

/** Options of `maskbox segment` that change results. */
export interface SegmentSpec {
  models: string[];
  threshold: number;
  tta: boolean;
  inputSize?: number;
}

/** Where a run's outputs go: the local command's plan, or a submission CSV for segment. */
export type RunOutput = OutputPlan | { kind: 'submission'; path: string };

/** Everything a worker and the combining step need to reproduce the local command. */
export interface RunSpec {
  run: string;
  kind: RunKind;
  /** Absolute folder shared by all workers: `inputs.jsonl`, `parts/`, `failed/`, `summary.json`. */
  workDir: string;
  output: RunOutput;
  /** Overlay PNGs (detect, baseline), written by the worker that ran the image. */
  overlay?: { dir: string; labels: boolean };
  /** COCO ground truth for image and category ids (absolute path). */
  cocoGt?: string;
  detect?: DetectSpec;
  baseline?: BaselineOptions;
  segment?: SegmentSpec;
  /** Number of inputs. */
  total: number;
  /** Images per job. */
  chunk: number;
}

/**
 * One input as a worker reads it: a file on shared storage, an entry of a `.zip` on shared storage, or
 * an http(s) URL.
 */
export interface InputRef {
  index: number;
  /** The name outputs mirror (as the local command names it). */
  name: string;
  /** For messages: a path, `archive.zip!entry`, or the URL. */
  origin: string;
  path?: string;
  zip?: { archive: string; entry: string };
  url?: string;
}

/** Data of an image job (one chunk of a run). */
export interface ImageJobData {
  spec: RunSpec;
  gen: number;
  items: InputRef[];
}

/** Data of a run's parent (combine) job. */
export interface CombineJobData {
  spec: RunSpec;
  gen: number;
}

/** What an image job returns. */
export interface ImageJobResult {
  images: number;
}

/** The options of two specs that must agree for a re-submission to continue a run (all but sizes). */
export function specKey(s: RunSpec): string {
  const { total: _t, chunk: _c, ...rest } = s;
  return JSON.stringify(rest);
}
