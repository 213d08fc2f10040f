/** Detection answers in the three formats: JSON, the lab's CSV (byte for byte `maskbox detect`'s), COCO. */
import type { FastifyReply } from 'fastify';
import { toCocoResults } from '../io/cocoResults.js';
import { formatDetectionsCsv, resultCsvName } from '../io/detectionsCsv.js';
import type { DetectFormat } from './params.js';

/** Boxes to answer for one image. */
export interface DetectionAnswer {
  model: string;
  image: { name: string; width: number; height: number };
  boxes: Float32Array;
  scores: ArrayLike<number>;
  classes: ArrayLike<number>;
  labels: readonly string[];
  /** Extra JSON fields (params, upload id, timings...). */
  extra: Record<string, unknown>;
}

/** One detection in the JSON answer. */
export interface JsonDetection {
  /** x1, y1, x2, y2 in original image pixels. */
  box: [number, number, number, number];
  score: number;
  class: number;
  label: string;
}

/** The JSON detections list. */
export function jsonDetections(a: Pick<DetectionAnswer, 'boxes' | 'scores' | 'classes' | 'labels'>): JsonDetection[] {
  const n = a.scores.length;
  const out: JsonDetection[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = a.classes[i]!;
    out[i] = {
      box: [a.boxes[4 * i]!, a.boxes[4 * i + 1]!, a.boxes[4 * i + 2]!, a.boxes[4 * i + 3]!],
      score: a.scores[i]!,
      class: c,
      label: a.labels[c] ?? String(c),
    };
  }
  return out;
}

/** Send the answer in `format`. CSV comes with `Content-Disposition: attachment; filename=<name>_result.csv`. */
export function sendDetections(reply: FastifyReply, a: DetectionAnswer, format: DetectFormat): FastifyReply {
  if (format === 'csv') {
    const csv = formatDetectionsCsv(a.boxes, a.scores, { width: a.image.width, height: a.image.height });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${resultCsvName(a.image.name)}"`)
      .send(csv);
  }
  if (format === 'coco') {
    const classes = Int32Array.from({ length: a.scores.length }, (_, i) => a.classes[i]!);
    return reply.send(toCocoResults(1, a.boxes, a.scores, classes));
  }
  return reply.send({
    model: a.model,
    image: a.image,
    count: a.scores.length,
    detections: jsonDetections(a),
    ...a.extra,
  });
}
