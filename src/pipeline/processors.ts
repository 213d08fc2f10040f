/**
 * Adapters from models to the runner's {@link Processor}: anything with a Detector's `detect` signature
 * (the ONNX `Detector`, the DBSCAN baseline, a fake in tests) becomes a processor here.
 */
import type { DetectionLike } from './detectionSinks.js';
import type { DecodedImage, ImageJob, Processor } from './runner.js';

/** Detection options passed through to `detect` (the Detector's own names). */
export interface DetectOptions {
  conf?: number;
  iou?: number;
  maxDetections?: number;
  classes?: number[];
  agnostic?: boolean;
}

/** The part of a Detector the runner uses. `detectBatch` is used when present and `batchSize > 1`. */
export interface DetectorLike<D extends DetectionLike = DetectionLike> {
  detect(image: DecodedImage, options?: DetectOptions): Promise<D>;
  detectBatch?(images: DecodedImage[], options?: DetectOptions): Promise<D[]>;
}

/**
 * A processor that runs `detector.detect(job.image, options)` (or `detectBatch` over up to `batchSize`
 * images).
 * @example runBatch({ inputs, processor: detectorProcessor(detector, { conf: 0.4, iou: 0.45 }), sinks })
 */
export function detectorProcessor<D extends DetectionLike>(
  detector: DetectorLike<D>,
  options: DetectOptions = {},
  batchSize = 1,
): Processor<D> {
  const p: Processor<D> = {
    process: (job: ImageJob) => detector.detect(job.image, options),
    timings: (d) => d.timings,
  };
  if (batchSize > 1 && detector.detectBatch) {
    const batch = detector.detectBatch.bind(detector);
    p.batchSize = batchSize;
    p.processBatch = (jobs) =>
      batch(
        jobs.map((j) => j.image),
        options,
      );
  }
  return p;
}
