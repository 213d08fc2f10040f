/**
 * Sinks for detection results, shared by `maskbox detect` and `maskbox baseline`: the lab's CSV per
 * image or combined, COCO results JSON, YOLO txt, and overlay PNGs. Output paths mirror the input names
 * (`sub/a.png` -> `OUT/sub/a_result.csv`); `..` and absolute parts of names (zip entries) are dropped.
 * Per-image files are written to a temporary name and renamed, so resume can trust any file it finds.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CocoResultsWriter, toCocoResults, type CategoryIdFn, type CocoCategory } from '../io/cocoResults.js';
import {
  COMBINED_DETECTIONS_CSV_HEADER,
  formatCombinedRows,
  formatDetectionsCsv,
  resultCsvName,
  splitCsvLine,
} from '../io/detectionsCsv.js';
import { writeOverlay } from '../io/overlay.js';
import { formatYoloTxt } from '../io/yoloTxt.js';
import { nameToPath, readLines } from './inputs.js';
import { JournaledFile } from './journal.js';
import type { ImageJob, Sink } from './runner.js';

/** What a detector (or the baseline) returns for one image: xyxy boxes in original pixels. */
export interface DetectionLike {
  boxes: Float32Array;
  scores: ArrayLike<number>;
  /** Class per box (default: all 0). */
  classes?: ArrayLike<number>;
}

/** An input name made safe as a relative output path: no empty, `.` or `..` segments, `/`-separated. */
export function safeName(name: string): string {
  const parts = name.split(/[\\/]/).filter((p) => p !== '' && p !== '.' && p !== '..');
  return parts.join('/').replace(/^[A-Za-z]:/, '') || '_';
}

/** Drop the extension of the last path segment: `sub/a.png` -> `sub/a`. */
export function stripExtension(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? name.slice(0, dot) : name;
}

/** Write a file via a temporary name and a rename (creating directories). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

const classesOf = (d: DetectionLike) => d.classes ?? new Int32Array(d.scores.length);

/** A per-image-file sink: `fileFor(name)` gives the path under `dir`, `render` the content. */
function perImageSink(
  dir: string,
  fileFor: (name: string) => string,
  render: (job: ImageJob, det: DetectionLike) => string | Promise<void>,
): Sink<DetectionLike> {
  const pathOf = (name: string) => join(dir, nameToPath(fileFor(safeName(name))));
  return {
    done: (input) => existsSync(pathOf(input.name)),
    async write(job, det) {
      const out = render(job, det);
      if (typeof out === 'string') await writeFileAtomic(pathOf(job.input.name), out);
      else await out;
    },
    async close() {},
  };
}

/**
 * The lab's CSV, one file per image: `DIR/<name without extension>_result.csv` (boxes clipped to the
 * image, then the rule in src/io/detectionsCsv.ts).
 */
export function perImageCsvSink(dir: string): Sink<DetectionLike> {
  return perImageSink(dir, resultCsvName, (job, det) =>
    formatDetectionsCsv(det.boxes, det.scores, { width: job.image.width, height: job.image.height }),
  );
}

/** YOLO txt per image: `DIR/<name without extension>.txt`, `class xc yc w h` normalized (+ conf with `saveConf`). */
export function yoloTxtSink(dir: string, options: { saveConf?: boolean } = {}): Sink<DetectionLike> {
  return perImageSink(
    dir,
    (n) => `${stripExtension(n)}.txt`,
    (job, det) =>
      formatYoloTxt(
        det.boxes,
        classesOf(det),
        job.image.width,
        job.image.height,
        options.saveConf ? det.scores : undefined,
      ),
  );
}

/**
 * Overlay PNGs: `DIR/<name without extension>_overlay.png` (never overwrites an input PNG of the same name);
 * score labels only with `labels: true`.
 */
export function overlaySink(dir: string, options: { labels?: boolean } = {}): Sink<DetectionLike> {
  const pathOf = (name: string) => join(dir, nameToPath(`${stripExtension(safeName(name))}_overlay.png`));
  return perImageSink(
    dir,
    (n) => `${stripExtension(n)}_overlay.png`,
    (job, det) =>
      writeOverlay(pathOf(job.input.name), job.image, det.boxes, {
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
export async function combinedCsvSink(path: string, options: { resume?: boolean } = {}): Promise<Sink<DetectionLike>> {
  const file = await JournaledFile.open(path, {
    header: COMBINED_DETECTIONS_CSV_HEADER + '\n',
    resume: options.resume,
    namesFromFile: combinedCsvNames,
  });
  return {
    done: (input) => file.has(input.name),
    write: (job, det) =>
      file.append(
        job.input.name,
        formatCombinedRows(job.input.name, det.boxes, det.scores, { width: job.image.width, height: job.image.height }),
      ),
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
    done: (input) => writer.has(input.name),
    async write(job, det) {
      const id =
        options.imageIds?.get(job.input.name) ??
        options.imageIds?.get(safeName(job.input.name).split('/').pop()!) ??
        job.index + 1;
      const image = { id, file_name: job.input.name, width: job.image.width, height: job.image.height };
      await writer.add(image, toCocoResults(id, det.boxes, det.scores, classesOf(det), options.categoryId));
    },
    close: () => writer.close(),
  };
}
