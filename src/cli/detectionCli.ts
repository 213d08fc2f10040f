/**
 * What `maskbox detect` and `maskbox baseline` share: the output flags, choosing the sinks, running the
 * batch, and the end-of-batch summary (table or `--json`, failures on stderr, exit code).
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InvalidArgumentError, ParseError } from '../errors.js';
import type { CategoryIdFn, CocoCategory } from '../io/cocoResults.js';
import {
  cocoSink,
  combinedCsvSink,
  overlaySink,
  perImageCsvSink,
  yoloTxtSink,
  type DetectionLike,
} from '../pipeline/detectionSinks.js';
import { parseShard, shardInputs, writeShardInfo } from '../distributed/shard.js';
import { countInputs } from '../pipeline/inputs.js';
import { runBatch, type BatchSummary, type Processor, type Sink } from '../pipeline/runner.js';
import { numberFlag, printJson, printTable } from './command.js';

/** parseArgs options for the output side, shared by detect and baseline. */
export const OUTPUT_FLAGS = {
  out: { type: 'string' },
  format: { type: 'string' },
  overlay: { type: 'string' },
  labels: { type: 'boolean' },
  'coco-gt': { type: 'string' },
  resume: { type: 'boolean' },
  concurrency: { type: 'string' },
  prefetch: { type: 'string' },
  json: { type: 'boolean' },
  shard: { type: 'string' },
} as const;

/** Usage lines for {@link OUTPUT_FLAGS}. */
export const OUTPUT_USAGE =
  '  --out DIR|file.csv|file.json  DIR: one CSV per image, <name>_result.csv (default ./results);\n' +
  '      file.csv: one combined CSV with a leading image column; file.json: COCO results (+ file.images.json)\n' +
  '  --format csv|coco|yolo   default from --out (csv for a directory); yolo: DIR/<name>.txt, class xc yc w h\n' +
  '  --overlay DIR            also write DIR/<name>_overlay.png with the boxes drawn (--labels: with scores)\n' +
  '  --coco-gt GT.json        COCO: take image ids (by file_name) and category ids from a ground-truth file\n' +
  '  --resume                 skip images whose outputs already exist (a combined file is continued)\n' +
  '  --concurrency N          images in inference at once (default 1); --prefetch N decoded ahead (default 2)\n' +
  '  --json                   print the summary as JSON\n' +
  '  --shard I/N              only the I-th of N contiguous blocks of the inputs (0-based); combine with maskbox merge\n' +
  '  Inputs: image files, directories (recursive), globs (*, **, ?), .zip archives. Exit 1 if any image failed.';

/** Values of the output flags after parsing. */
export interface OutputFlagValues {
  out?: string;
  format?: string;
  overlay?: string;
  labels?: boolean;
  'coco-gt'?: string;
  resume?: boolean;
  concurrency?: string;
  prefetch?: string;
  json?: boolean;
  shard?: string;
}

/** Where detections go. */
export interface OutputPlan {
  kind: 'csv' | 'csv-combined' | 'coco' | 'yolo';
  /** A directory (csv, yolo) or a file (csv-combined, coco). */
  path: string;
}

/**
 * Decide the output from `--out` and `--format`.
 * @throws InvalidArgumentError for a format that contradicts the --out file extension
 */
export function planOutput(out: string | undefined, format: string | undefined): OutputPlan {
  if (format !== undefined && !['csv', 'coco', 'yolo'].includes(format)) {
    throw new InvalidArgumentError(
      'format',
      `Expected one of 'csv', 'coco', 'yolo' for --format but received '${format}'`,
    );
  }
  const ext = out === undefined ? '' : extname(out).toLowerCase();
  if (ext === '.csv') {
    if (format !== undefined && format !== 'csv')
      throw new InvalidArgumentError('format', `--out ${out} is a .csv file but --format is ${format}`);
    return { kind: 'csv-combined', path: out! };
  }
  if (ext === '.json') {
    if (format !== undefined && format !== 'coco')
      throw new InvalidArgumentError('format', `--out ${out} is a .json file but --format is ${format}`);
    return { kind: 'coco', path: out! };
  }
  const dir = out ?? 'results';
  if (format === 'coco') return { kind: 'coco', path: join(dir, 'results.json') };
  if (format === 'yolo') return { kind: 'yolo', path: dir };
  return { kind: 'csv', path: dir };
}

/** Image ids by file_name and category ids by class index, from a COCO ground-truth file. */
async function cocoGtMaps(
  path: string,
): Promise<{ imageIds: Map<string, number>; categoryId: CategoryIdFn; categories: CocoCategory[] }> {
  let gt: { images?: { id: number; file_name: string }[]; categories?: CocoCategory[] };
  try {
    gt = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ParseError(path, `cannot read COCO ground truth: ${(err as Error).message}`);
  }
  if (!Array.isArray(gt.images) || !Array.isArray(gt.categories))
    throw new ParseError(path, 'expected "images" and "categories" arrays');
  const imageIds = new Map(gt.images.map((im) => [im.file_name, im.id] as [string, number]));
  const categories = [...gt.categories].sort((a, b) => a.id - b.id);
  const categoryId: CategoryIdFn = (c) => categories[c]?.id ?? c + 1;
  return { imageIds, categoryId, categories };
}

/** Build the sinks for a plan (and --overlay). */
export async function detectionSinks(plan: OutputPlan, v: OutputFlagValues): Promise<Sink<DetectionLike>[]> {
  const resume = v.resume ?? false;
  const sinks: Sink<DetectionLike>[] = [];
  if (plan.kind === 'csv') sinks.push(perImageCsvSink(plan.path));
  else if (plan.kind === 'yolo') sinks.push(yoloTxtSink(plan.path));
  else if (plan.kind === 'csv-combined') sinks.push(await combinedCsvSink(plan.path, { resume }));
  else sinks.push(await cocoSink(plan.path, { resume, ...(v['coco-gt'] ? await cocoGtMaps(v['coco-gt']) : {}) }));
  if (v.overlay) sinks.push(overlaySink(v.overlay, { labels: v.labels }));
  return sinks;
}

/** What {@link runDetectionCommand} needs besides the flags. */
export interface DetectionRun {
  specs: string[];
  values: OutputFlagValues;
  processor: Processor<DetectionLike>;
  /** Extra fields for the summary (model, provider, ...). */
  info?: Record<string, string | number>;
}

/**
 * Run a detection batch from parsed flags and print its summary. Returns the exit code: 0, or 1 when any
 * image failed (the others are still written).
 * @throws InvalidArgumentError when no inputs are given or none is found
 */
export async function runDetectionCommand(run: DetectionRun): Promise<number> {
  const { specs, values: v } = run;
  if (specs.length === 0)
    throw new InvalidArgumentError('inputs', 'no inputs given: pass image files, directories, globs or .zip archives');
  const plan = planOutput(v.out, v.format);
  const concurrency = numberFlag('concurrency', v.concurrency, 1);
  const prefetch = numberFlag('prefetch', v.prefetch, 2);
  const total = process.stderr.isTTY ? await countInputs(specs) : undefined;
  const shard = await shardInputs(specs, parseShard(v.shard));
  const sinks = await detectionSinks(plan, v);
  let detections = 0;
  const summary = await runBatch({
    inputs: shard.inputs,
    firstIndex: shard.firstIndex,
    processor: run.processor,
    sinks,
    concurrency,
    prefetch,
    resume: v.resume ?? false,
    total,
    onResult: (_job, det) => (detections += det.scores.length),
  });
  if (summary.total === 0 && !shard.info)
    throw new InvalidArgumentError('inputs', `no images found in: ${specs.join(' ')}`);
  if (plan.kind === 'csv-combined' || plan.kind === 'coco') await writeShardInfo(plan.path, shard.info);
  const outputs: Record<string, string> = { [plan.kind]: plan.path };
  if (v.overlay) outputs.overlay = v.overlay;
  printSummary(summary, { detections }, outputs, run.info ?? {}, v.json ?? false);
  return summary.failed > 0 ? 1 : 0;
}

/**
 * Print a batch summary: a key/value table (or JSON with `json`) on stdout, failures on stderr.
 * Shared with `maskbox segment`.
 */
export function printSummary(
  s: BatchSummary,
  counts: Record<string, number>,
  outputs: Record<string, string>,
  info: Record<string, string | number>,
  json: boolean,
): void {
  if (json) {
    printJson({
      ...info,
      images: s.processed,
      skipped: s.skipped,
      failed: s.failed,
      ...counts,
      seconds: s.seconds,
      imagesPerSecond: s.imagesPerSecond,
      outputs,
      failures: s.failures,
      failuresOmitted: s.failuresOmitted,
    });
  } else {
    printTable(
      ['', 'value'],
      [
        ...Object.entries(info),
        ['images', s.processed],
        ['skipped', s.skipped],
        ...Object.entries(counts),
        ['failed', s.failed],
        ['images/s', s.imagesPerSecond.toFixed(2)],
        ...Object.entries(outputs).map(([k, p]) => [`out (${k})`, p]),
      ].map(([k, val]) => [String(k), val as string | number]),
    );
  }
  if (s.failed > 0) {
    const lines = s.failures
      .slice(0, 20)
      .map((f) => `  [${f.stage}] ${f.message.includes(f.origin) ? f.message : `${f.origin}: ${f.message}`}`);
    const more = s.failed - Math.min(20, s.failures.length);
    process.stderr.write(
      `maskbox: ${s.failed} image(s) failed:\n${lines.join('\n')}\n${more > 0 ? `  … and ${more} more\n` : ''}`,
    );
  }
}
