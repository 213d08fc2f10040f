/**
 * The per-image computation of a run, built from its {@link RunSpec} with the local commands' own
 * pieces (the Detector and `detectorProcessor`, `baselineProcessor`, the Segmenter), so a worker computes
 * exactly what `maskbox detect|baseline|segment` computes. Models are loaded once per worker (per model
 * and load options) and shared by its concurrent jobs.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { baselineProcessor } from '../cli/commands/baseline.js';
import { ModelError } from '../errors.js';
import { Detector } from '../model/detector.js';
import { Segmenter } from '../model/segmenter.js';
import type { ExecutionProvider } from '../model/session.js';
import { defaultModelPath } from '../pipeline/defaultModel.js';
import type { DetectionLike } from '../pipeline/detectionSinks.js';
import { detectorProcessor } from '../pipeline/processors.js';
import type { Processor } from '../pipeline/runner.js';
import type { DetectorLoadFlags } from '../cli/detectorFlags.js';
import { detectorOptionsOf, type RunSpec } from './spec.js';

/** Loaded models of one worker, keyed by what was loaded. */
export class ModelCache {
  private readonly detectors = new Map<string, Promise<Detector>>();
  private readonly segmenters = new Map<string, Promise<Segmenter>>();

  constructor(
    readonly provider: ExecutionProvider,
    /** The worker's `--model`: the detector for runs that name none. */
    readonly defaultDetector?: string,
  ) {}

  /** The model a detect run uses on this worker. */
  detectorPath(spec: RunSpec): string {
    return spec.detect?.model ?? this.defaultDetector ?? defaultModelPath();
  }

  /** Load (once per model and options) and return a detector. */
  detector(path: string, options: DetectorLoadFlags = {}): Promise<Detector> {
    const key = JSON.stringify([path, options]);
    let d = this.detectors.get(key);
    if (!d) {
      if (!existsSync(path)) return Promise.reject(new ModelError(`model not found on this worker: ${path}`));
      d = Detector.load(path, { ...options, executionProviders: this.provider });
      d.catch(() => this.detectors.delete(key));
      this.detectors.set(key, d);
    }
    return d;
  }

  /** Load (once) and return a segmenter for a run's models and options. */
  segmenter(spec: RunSpec): Promise<Segmenter> {
    const s = spec.segment!;
    const key = JSON.stringify([s.models, s.threshold, s.tta, s.inputSize]);
    let seg = this.segmenters.get(key);
    if (!seg) {
      const missing = s.models.find((m) => !existsSync(m));
      if (missing) return Promise.reject(new ModelError(`model not found on this worker: ${missing}`));
      seg = Segmenter.load(s.models, {
        threshold: s.threshold,
        flip: s.tta,
        inputSize: s.inputSize,
        executionProviders: this.provider,
      });
      seg.catch(() => this.segmenters.delete(key));
      this.segmenters.set(key, seg);
    }
    return seg;
  }

  /** Release every loaded model. */
  async dispose(): Promise<void> {
    const all = [...this.detectors.values(), ...this.segmenters.values()];
    this.detectors.clear();
    this.segmenters.clear();
    for (const m of await Promise.allSettled(all)) if (m.status === 'fulfilled') await m.value.dispose();
  }
}

/** What a processor returns, reduced to what the sinks read (no timings, no masks). */
export type StoredResult = DetectionLike | { rows: unknown[]; areas: number[] };

/** The runner processor for a run, as the local command builds it. */
export async function processorFor(spec: RunSpec, models: ModelCache): Promise<Processor<StoredResult>> {
  if (spec.kind === 'baseline') return baselineProcessor(spec.baseline);
  if (spec.kind === 'segment') {
    const seg = await models.segmenter(spec);
    return {
      async process(job) {
        const r = await seg.segment(job.image, { name: basename(job.input.name) });
        return { rows: r.rows, areas: r.areas };
      },
    };
  }
  const d = spec.detect!;
  const { loadOptions, detectOptions } = detectorOptionsOf(d);
  const detector = await models.detector(models.detectorPath(spec), loadOptions);
  const inner = detectorProcessor(detector, detectOptions, detector.input.batch ?? d.batch);
  const keep = (r: DetectionLike): DetectionLike => ({ boxes: r.boxes, scores: r.scores, classes: r.classes });
  return {
    process: async (job) => keep(await inner.process(job)),
    ...(inner.processBatch
      ? { batchSize: inner.batchSize, processBatch: async (jobs) => (await inner.processBatch!(jobs)).map(keep) }
      : {}),
  };
}
