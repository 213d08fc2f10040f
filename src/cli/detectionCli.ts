/**
 * What `maskbox detect` and `maskbox baseline` share: the output flags, choosing the sinks, running the
 * batch, and the end-of-batch summary (table or `--json`, failures on stderr, exit code).
 */
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { cocoImagesPath, type CategoryIdFn, type CocoCategory } from '../io/cocoResults.js';
import { OutputGuard, prepareOutput, readTextFile } from '../io/files.js';
import { parseJsonText } from '../io/json.js';
import {
  cocoSink,
  combinedCsvSink,
  overlaySink,
  perImageCsvSink,
  yoloTxtSink,
  type DetectionLike,
} from '../pipeline/detectionSinks.js';
import { parseShard, shardRange, writeShardInfo, type ShardInfo } from '../distributed/shard.js';
import { listInputs, type ImageInput } from '../pipeline/inputs.js';
import type { Decoder } from '../pipeline/decode.js';
import { formatStages } from '../pipeline/progress.js';
import { runBatch, type BatchSummary, type Processor, type Sink } from '../pipeline/runner.js';
import { backendSummary } from './backend.js';
import { tuneMallocForBatches } from './mallocTuning.js';
import { intFlag, printJson, printTable } from './command.js';
import { checkOutputFile, checkPlannedOutputs, inputFiles } from './outputs.js';

/** parseArgs options for the output side, shared by detect and baseline. */
export const OUTPUT_FLAGS = {
  out: { type: 'string' },
  format: { type: 'string' },
  overlay: { type: 'string' },
  labels: { type: 'boolean' },
  'coco-gt': { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
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
  '  --overwrite              replace existing output files (without it, a file this run did not create is an error)\n' +
  '  --concurrency N          images in inference at once (default 1); --prefetch N decoded ahead (default 2)\n' +
  '  --json                   print the summary as JSON\n' +
  '  --shard I/N              only the I-th of N contiguous blocks of the inputs (0-based); combine with maskbox merge\n' +
  '  Inputs: image files, directories (recursive), globs (*, **, ?), .zip archives. Exit 1 if any image failed.\n' +
  '  Outputs are checked before any work: never an input file, never two inputs into one file; inputs sharing\n' +
  '  a stem (a.png, a.jpg) get a_png_result.csv, a_jpg_result.csv. Earlier *_overlay.png in the --overlay\n' +
  '  folder are not taken as inputs. Input files larger than MASKBOX_MAX_READ_BYTES (default 1 GiB) are refused.';

/** Values of the output flags after parsing. */
export interface OutputFlagValues {
  out?: string;
  format?: string;
  overlay?: string;
  labels?: boolean;
  'coco-gt'?: string;
  resume?: boolean;
  overwrite?: boolean;
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
  const gt = parseJsonText(await readTextFile(path, { argument: 'coco-gt' }), path) as {
    images?: { id: number; file_name: string }[];
    categories?: CocoCategory[];
  } | null;
  if (gt === null || typeof gt !== 'object' || !Array.isArray(gt.images) || !Array.isArray(gt.categories))
    throw new ParseError(path, 'expected "images" and "categories" arrays');
  for (const [k, list] of [
    ['images', gt.images],
    ['categories', gt.categories],
  ] as const)
    list.forEach((e, i) => {
      if (e === null || typeof e !== 'object' || !Number.isSafeInteger((e as { id?: unknown }).id))
        throw new ParseError(path, `${k}[${i}]: expected an object with an integer 'id'`);
    });
  const imageIds = new Map(gt.images.map((im) => [im.file_name, im.id] as [string, number]));
  const categories = [...gt.categories].sort((a, b) => a.id - b.id);
  const categoryId: CategoryIdFn = (c) => categories[c]?.id ?? c + 1;
  return { imageIds, categoryId, categories };
}

/**
 * Build the sinks for a plan (and --overlay). `beforeOpen` sees the per-image sinks before any file sink
 * (combined CSV, COCO) creates a file, so a refused plan leaves nothing behind.
 */
export async function detectionSinks(
  plan: OutputPlan,
  v: OutputFlagValues,
  beforeOpen?: (perImage: Sink<DetectionLike>[]) => Promise<void>,
): Promise<Sink<DetectionLike>[]> {
  const resume = v.resume ?? false;
  const perImage: Sink<DetectionLike>[] = [];
  if (plan.kind === 'csv') perImage.push(perImageCsvSink(plan.path));
  else if (plan.kind === 'yolo') perImage.push(yoloTxtSink(plan.path));
  if (v.overlay) perImage.push(overlaySink(v.overlay, { labels: v.labels }));
  await beforeOpen?.(perImage);
  const gt = plan.kind === 'coco' && v['coco-gt'] ? await cocoGtMaps(v['coco-gt']) : {};
  if (plan.kind === 'csv-combined') return [await combinedCsvSink(plan.path, { resume }), ...perImage];
  if (plan.kind === 'coco') return [await cocoSink(plan.path, { resume, ...gt }), ...perImage];
  return perImage;
}

/** A detection run whose flags, inputs and outputs are checked, ready to run (see {@link prepareDetectionRun}). */
export interface PreparedDetectionRun {
  specs: string[];
  values: OutputFlagValues;
  plan: OutputPlan;
  /** Every input of the batch (output names are decided over all of them, so shards agree). */
  all: ImageInput[];
  /** The inputs of this run (of this shard with --shard). */
  inputs: ImageInput[];
  /** Global position of `inputs[0]` (non-zero for a shard). */
  firstIndex: number;
  shardInfo?: ShardInfo;
  guard: OutputGuard;
  concurrency: number;
  prefetch: number;
}

/** True when `p` lies inside folder `dir`. */
function isInside(p: string, dir: string): boolean {
  const r = relative(resolve(dir), resolve(p));
  return r !== '' && r.split(sep)[0] !== '..' && !isAbsolute(r);
}

/**
 * Everything before the work: flags validated, inputs listed (earlier overlays in the overlay folder
 * left out), output locations created and proven writable, no output an input or a file the run did not
 * create (unless --overwrite / --resume), no two inputs into one file.
 * @param otherInputs files the run reads besides the images (a model, a ground truth): never outputs
 * @throws InvalidArgumentError naming the flag and path
 */
export async function prepareDetectionRun(
  specs: string[],
  v: OutputFlagValues,
  otherInputs: string[] = [],
): Promise<PreparedDetectionRun> {
  if (specs.length === 0)
    throw new InvalidArgumentError('inputs', 'no inputs given: pass image files, directories, globs or .zip archives');
  const plan = planOutput(v.out, v.format);
  const concurrency = intFlag('concurrency', v.concurrency, 1, 1, 1024);
  const prefetch = intFlag('prefetch', v.prefetch, 2, 0, 1024);
  if (v.resume && v.overwrite)
    throw new InvalidArgumentError(
      'overwrite',
      '--resume continues existing outputs; it cannot be combined with --overwrite',
    );
  const overlay = v.overlay;
  const exclude = overlay ? (p: string) => p.endsWith('_overlay.png') && isInside(p, overlay) : undefined;
  const all = await listInputs(specs, { exclude });
  if (all.length === 0) throw new InvalidArgumentError('inputs', `no images found in: ${specs.join(' ')}`);
  const shard = parseShard(v.shard);
  const range = shard ? shardRange(all.length, shard) : { first: 0, count: all.length };
  const inputs = all.slice(range.first, range.first + range.count);
  const shardInfo = shard ? { shard: shard.index, of: shard.count, ...range, total: all.length } : undefined;
  const guard = new OutputGuard(v.overwrite ?? false);
  await guard.addInputs([...inputFiles(all), ...otherInputs, ...(v['coco-gt'] ? [v['coco-gt']] : [])]);
  const resume = v.resume ?? false;
  if (plan.kind === 'csv' || plan.kind === 'yolo') await prepareOutput(plan.path, 'dir', 'out');
  else {
    await checkOutputFile(guard, plan.path, 'out', resume);
    if (plan.kind === 'coco') await checkOutputFile(guard, cocoImagesPath(plan.path), 'out', resume);
  }
  if (overlay) await prepareOutput(overlay, 'dir', 'overlay');
  return { specs, values: v, plan, all, inputs, firstIndex: range.first, shardInfo, guard, concurrency, prefetch };
}

/** What {@link runDetectionCommand} needs besides the prepared run. */
export interface DetectionRun {
  processor: Processor<DetectionLike>;
  /** How images are decoded (default: full size, `readImage`). */
  decode?: Decoder;
  /** Extra fields for the summary (model, provider, ...). */
  info?: Record<string, string | number>;
  /** Backends the processor reported (for the summary under `auto`). */
  backends?: () => Iterable<string>;
}

/**
 * Run a prepared detection batch and print its summary. Returns the exit code: 0, or 1 when any image
 * failed (the others are still written).
 */
export async function runDetectionCommand(p: PreparedDetectionRun, run: DetectionRun): Promise<number> {
  const { values: v, plan } = p;
  const resume = v.resume ?? false;
  const sinks = await detectionSinks(plan, v, (perImage) =>
    checkPlannedOutputs(perImage, p.all, p.guard, resume, new Set(p.inputs.map((i) => i.name))),
  );
  let detections = 0;
  for (const s of sinks) for (const n of s.notes?.() ?? []) process.stderr.write(`maskbox: ${n}\n`);
  const malloc = tuneMallocForBatches();
  const summary = await runBatch({
    inputs: p.inputs,
    firstIndex: p.firstIndex,
    processor: run.processor,
    decode: run.decode,
    reuseBuffers: true, // our sinks and processors keep no pixels past write()
    sinks,
    concurrency: p.concurrency,
    prefetch: p.prefetch,
    resume,
    total: p.inputs.length,
    onResult: (_job, det) => (detections += det.scores.length),
  });
  if (plan.kind === 'csv-combined' || plan.kind === 'coco') await writeShardInfo(plan.path, p.shardInfo);
  const outputs: Record<string, string> = { [plan.kind]: plan.path };
  if (v.overlay) outputs.overlay = v.overlay;
  const info = { ...(run.info ?? {}), backend: backendSummary(run.backends?.() ?? []), malloc };
  printSummary(summary, { detections }, outputs, info, v.json ?? false);
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
      timings: s.timings,
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
        ...(s.processed > 0 ? [['time', formatStages(s.timings)]] : []),
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
