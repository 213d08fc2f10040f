/**
 * Sinks for detection results, shared by `maskbox detect` and `maskbox baseline`: the lab's CSV per
 * image or combined, COCO results JSON, YOLO txt, and overlay PNGs. Output paths mirror the input names
 * (`sub/a.png` -> `OUT/sub/a_result.csv`; names are made safe by src/pipeline/inputs.ts). When several
 * inputs of a run share a stem (`a.png`, `a.jpg`), their outputs keep the extension (`a_png_result.csv`,
 * `a_jpg_result.csv`), decided by each sink's `plan()` over the whole input list. Every file is written
 * to a temporary name in its folder and renamed (src/io/files.ts), so resume can trust any file it finds.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CocoResultsWriter, toCocoResults, type CategoryIdFn, type CocoCategory } from '../io/cocoResults.js';
import {
  COMBINED_DETECTIONS_CSV_HEADER,
  formatCombinedRows,
  formatDetectionsCsv,
  splitCsvLine,
} from '../io/detectionsCsv.js';
import { writeFileAtomic } from '../io/files.js';
import { renderOverlay } from '../io/overlay.js';
import { formatYoloTxt } from '../io/yoloTxt.js';
import { nameToPath, readLines, safeName, type ImageInput } from './inputs.js';
import { describeRecovery, JournaledFile } from './journal.js';
import { frameSize, type ImageJob, type PlannedOutputs, type Sink } from './runner.js';

export { safeName, writeFileAtomic };

/** What a detector (or the baseline) returns for one image: xyxy boxes in original pixels. */
export interface DetectionLike {
  boxes: Float32Array;
  scores: ArrayLike<number>;
  /** Class per box (default: all 0). */
  classes?: ArrayLike<number>;
  /** Ms per stage of computing it (a Detector's preprocess / infer / postprocess), for the batch's timings. */
  timings?: Readonly<Record<string, number>>;
}

/** Drop the extension of the last path segment: `sub/a.png` -> `sub/a`. */
export function stripExtension(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? name.slice(0, dot) : name;
}

/**
 * Output stems (name without extension) for a run's inputs: `stripExtension(name)`, except that inputs
 * sharing a stem (compared case-insensitively, for case-insensitive file systems) keep their extension
 * with `_` instead of the dot: `a.png`, `a.jpg` -> `a_png`, `a_jpg`.
 */
export function outputStems(names: Iterable<string>): Map<string, string> {
  const list = [...names];
  const count = new Map<string, number>();
  for (const n of list) {
    const k = stripExtension(safeName(n)).toLowerCase();
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const out = new Map<string, string>();
  for (const n of list) {
    const safe = safeName(n);
    const stem = stripExtension(safe);
    out.set(n, count.get(stem.toLowerCase())! > 1 ? stem + (safe.slice(stem.length).replace(/^\./, '_') || '_') : stem);
  }
  return out;
}

const classesOf = (d: DetectionLike) => d.classes ?? new Int32Array(d.scores.length);

/** A per-image-file sink: `suffix` after the output stem, `render` the content. */
function perImageSink(
  dir: string,
  flag: string,
  suffix: string,
  render: (job: ImageJob, det: DetectionLike, path: string) => string | Promise<Uint8Array>,
): Sink<DetectionLike> {
  let stems: Map<string, string> | undefined;
  const pathOf = (name: string) => join(dir, nameToPath((stems?.get(name) ?? stripExtension(safeName(name))) + suffix));
  return {
    plan(inputs: readonly ImageInput[]): PlannedOutputs {
      stems = outputStems(inputs.map((i) => i.name));
      return { flag, dir, perInput: inputs.map((i) => [i.name, [pathOf(i.name)]]), files: [] };
    },
    done: (input) => existsSync(pathOf(input.name)),
    async write(job, det) {
      const path = pathOf(job.input.name);
      await writeFileAtomic(path, await render(job, det, path));
    },
    async close() {},
  };
}

/**
 * The lab's CSV, one file per image: `DIR/<name without extension>_result.csv` (boxes clipped to the
 * image, then the rule in src/io/detectionsCsv.ts).
 */
export function perImageCsvSink(dir: string, flag = 'out'): Sink<DetectionLike> {
  return perImageSink(dir, flag, '_result.csv', (job, det) =>
    formatDetectionsCsv(det.boxes, det.scores, frameSize(job.image)),
  );
}

/** YOLO txt per image: `DIR/<name without extension>.txt`, `class xc yc w h` normalized (+ conf with `saveConf`). */
export function yoloTxtSink(dir: string, options: { saveConf?: boolean } = {}, flag = 'out'): Sink<DetectionLike> {
  return perImageSink(dir, flag, '.txt', (job, det) =>
    formatYoloTxt(
      det.boxes,
      classesOf(det),
      frameSize(job.image).width,
      frameSize(job.image).height,
      options.saveConf ? det.scores : undefined,
    ),
  );
}

/**
 * Overlay PNGs: `DIR/<name without extension>_overlay.png` (never overwrites an input PNG of the same name);
 * score labels only with `labels: true`.
 */
export function overlaySink(dir: string, options: { labels?: boolean } = {}, flag = 'overlay'): Sink<DetectionLike> {
  return perImageSink(dir, flag, '_overlay.png', (job, det) =>
    renderOverlay(job.image, det.boxes, {
      scores: det.scores,
      classes: det.classes,
      labels: options.labels ?? false,
    }),
  );
}

/** Image names already in a combined CSV (first column of each data line). */
async function* combinedCsvNames(path: string): AsyncGenerator<string> {
  let first = true;
  for await (const line of readLines(path)) {
    if (first || line === '') {
      first = false;
      continue;
    }
    try {
      yield splitCsvLine(line)[0]!;
    } catch {
      // a malformed line: not ours to judge here
    }
  }
}

/**
 * One combined CSV for the batch: header `image,x_center,...,area`, rows in input order then NMS order.
 * Resumable (see src/pipeline/journal.ts).
 */
export async function combinedCsvSink(
  path: string,
  options: { resume?: boolean; flag?: string } = {},
): Promise<Sink<DetectionLike>> {
  const file = await JournaledFile.open(path, {
    header: COMBINED_DETECTIONS_CSV_HEADER + '\n',
    resume: options.resume,
    namesFromFile: combinedCsvNames,
  });
  const note = describeRecovery(path, file.recovery);
  return {
    plan: () => ({ flag: options.flag ?? 'out', perInput: [], files: [path] }),
    notes: () => (note ? [note] : []),
    done: (input) => file.has(input.name),
    write: (job, det) =>
      file.append(job.input.name, formatCombinedRows(job.input.name, det.boxes, det.scores, frameSize(job.image))),
    close: () => file.close(),
  };
}

/** Options of {@link cocoSink}. */
export interface CocoSinkOptions {
  resume?: boolean;
  /** `file_name -> image id` (e.g. from a ground-truth file); default: input position + 1. */
  imageIds?: ReadonlyMap<string, number>;
  /** Class index -> category id (default `cls + 1`). */
  categoryId?: CategoryIdFn;
  categories?: CocoCategory[];
}

/** COCO results JSON (+ `<out>.images.json`), streaming and resumable (see src/io/cocoResults.ts). */
export async function cocoSink(path: string, options: CocoSinkOptions = {}): Promise<Sink<DetectionLike>> {
  const writer = await CocoResultsWriter.open(path, { resume: options.resume, categories: options.categories });
  return {
    plan: () => ({ flag: 'out', perInput: [], files: writer.outputs() }),
    notes: () => writer.notes(),
    done: (input) => writer.has(input.name),
    async write(job, det) {
      const id =
        options.imageIds?.get(job.input.name) ??
        options.imageIds?.get(safeName(job.input.name).split('/').pop()!) ??
        job.index + 1;
      const image = { id, file_name: job.input.name, ...frameSize(job.image) };
      await writer.add(image, toCocoResults(id, det.boxes, det.scores, classesOf(det), options.categoryId));
    },
    close: () => writer.close(),
  };
}
