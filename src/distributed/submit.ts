/**
 * `submit`: enqueue a run as a BullMQ flow — one child job per image (or per chunk of images) on
 * {@link IMAGE_QUEUE}, and a parent job on {@link COMBINE_QUEUE} that writes the combined outputs when
 * every child has finished. Children whose image fails after the configured attempts are moved to the
 * parent's ignored (failed) dependencies, so a poisoned input fails only its own job.
 *
 * A run is named (`run`); submitting the same name again continues it: images that already have a result
 * in the work folder are skipped, the rest are enqueued, and the outputs are combined again. While the run
 * is still in progress, submitting it again changes nothing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FlowProducer, Job, Queue } from 'bullmq';
import { planOutput } from '../cli/detectionCli.js';
import { DETECT_DEFAULTS } from '../cli/detectorFlags.js';
import { checkChannelStretch } from '../model/detector.js';
import { DETECTOR_LAYOUTS } from '../model/layouts.js';
import { checkTileOptions } from '../model/tiling.js';
import { InvalidArgumentError } from '../errors.js';
import { BASELINE_DEFAULTS, type BaselineOptions } from '../ops/baseline.js';
import { checkInteger, checkOneOf, checkRange } from '../validate.js';
import { COMBINE_QUEUE, IMAGE_QUEUE, QueueError, connectOnce, parseQueueUrl, redisOptions } from './connection.js';
import { checkOutputFile, checkPlannedOutputs, inputFiles } from '../cli/outputs.js';
import { OutputGuard } from '../io/files.js';
import { cocoImagesPath } from '../io/cocoResults.js';
import {
  overlaySink,
  perImageCsvSink,
  writeFileAtomic,
  yoloTxtSink,
  type DetectionLike,
} from '../pipeline/detectionSinks.js';
import type { Sink } from '../pipeline/runner.js';
import { expandRefs, fromRef } from './inputRefs.js';
import {
  RUN_KINDS,
  specKey,
  type DetectSpec,
  type InputRef,
  type RunKind,
  type RunOutput,
  type RunSpec,
  type SegmentSpec,
} from './spec.js';
import { hasPart, inputsPath, specPath, writeInputs } from './workDir.js';

/** Options of {@link submit}. */
export interface SubmitOptions {
  /** `redis://HOST:PORT/DB`. */
  queue: string;
  /** Run name: letters, digits, `_` and `-`, at most 100. */
  run: string;
  kind: RunKind;
  /** Image files, directories, globs, `.zip` archives (on storage every worker reads), http(s) URLs. */
  inputs: string[];
  /** As the local command's `--out` (detect, baseline: DIR, file.csv or file.json; segment: submission.csv). */
  out?: string;
  /** As the local command's `--format` (detect, baseline). */
  format?: string;
  /** Overlay PNG folder (detect, baseline), and whether to print scores on them. */
  overlay?: string;
  labels?: boolean;
  /** COCO ground truth for image and category ids (detect, baseline). */
  cocoGt?: string;
  detect?: Partial<DetectSpec>;
  baseline?: BaselineOptions;
  segment?: Partial<SegmentSpec>;
  /** Images per job (default 1). */
  chunk?: number;
  /** Attempts per job before its images count as failed (default 3). */
  attempts?: number;
  /** Wait between attempts, ms (default 1000). */
  backoffMs?: number;
  /** The work folder (default `.maskbox-run-<run>` beside the output). */
  workDir?: string;
  /** Replace existing outputs of a new run (a continued run replaces its own). */
  overwrite?: boolean;
}

/** What {@link submit} did. */
export interface SubmitResult {
  run: string;
  /** `submitted`: jobs were added; `in-progress`: the run is still running, nothing was added. */
  state: 'submitted' | 'in-progress';
  /** Submissions of this run so far (1 for a new run). */
  generation: number;
  total: number;
  /** Images enqueued now, and skipped because they already have results. */
  queued: number;
  skipped: number;
  jobs: number;
  workDir: string;
  output: RunOutput;
}

/** The run record kept in Redis (what `status` reads). */
export interface RunRecord {
  spec: RunSpec;
  gen: number;
  parentId: string;
  total: number;
  skipped: number;
  queued: number;
  createdAt: number;
}

/** The Redis key of a run's record. */
export const runKey = (run: string) => `maskbox:run:${run}`;

/** The parent job id of a run's generation. */
export const parentJobId = (run: string, gen: number) => `${run}.${gen}`;

/** @throws InvalidArgumentError unless `run` is a valid run name */
export function checkRunName(run: unknown): string {
  if (typeof run !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(run))
    throw new InvalidArgumentError(
      'run',
      `Expected a run name of letters, digits, '_' and '-' (at most 100, starting with a letter or digit) for --run but received '${String(run)}'`,
    );
  return run;
}

const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));

/** Build and check the run's spec from the options (no I/O). */
function buildSpec(o: SubmitOptions, total: number, chunk: number): RunSpec {
  const kind = checkOneOf('kind', o.kind, RUN_KINDS);
  let output: RunOutput;
  if (kind === 'segment') {
    if (!o.out) throw new InvalidArgumentError('out', 'missing required flag --out submission.csv');
    output = { kind: 'submission', path: resolve(o.out) };
  } else {
    const plan = planOutput(o.out, o.format);
    output = { kind: plan.kind, path: resolve(plan.path) };
  }
  const workDir = resolve(o.workDir ?? join(dirname(output.path), `.maskbox-run-${o.run}`));
  const spec: RunSpec = { run: o.run, kind, workDir, output, total, chunk };
  if (kind !== 'segment') {
    if (o.overlay) spec.overlay = { dir: resolve(o.overlay), labels: o.labels ?? false };
    if (o.cocoGt) spec.cocoGt = resolve(o.cocoGt);
  }
  if (kind === 'detect') {
    const d = o.detect ?? {};
    const x = DETECT_DEFAULTS; // the local command's defaults
    spec.detect = {
      ...(d.model !== undefined ? { model: abs(d.model) } : {}),
      conf: checkRange('conf', d.conf ?? x.conf, 0, 1),
      iou: checkRange('iou', d.iou ?? x.iou, 0, 1),
      maxDetections: checkInteger('maxDetections', d.maxDetections ?? x.maxDetections, 1),
      agnostic: d.agnostic ?? x.agnostic,
      batch: checkInteger('batch', d.batch ?? 1, 1, 4096),
      ...detectorSpec(d),
    };
  } else if (kind === 'baseline') {
    const b = o.baseline ?? {};
    const d = BASELINE_DEFAULTS; // the local command's defaults
    spec.baseline = {
      eps: checkRange('eps', b.eps ?? d.eps, 0, 1e6),
      minSamples: checkInteger('minSamples', b.minSamples ?? d.minSamples, 1),
      passes: checkInteger('passes', b.passes ?? d.passes, 1, 100),
      scale: checkOneOf('scale', b.scale ?? d.scale, ['raw', 'unit'] as const),
      box: checkOneOf('box', b.box ?? d.box, ['minmax', 'edges'] as const),
    };
  } else {
    const s = o.segment ?? {};
    if (!s.models || s.models.length === 0)
      throw new InvalidArgumentError('model', 'missing required flag --model (repeat it for an ensemble)');
    spec.segment = {
      models: s.models.map((m) => resolve(m)),
      threshold: checkRange('threshold', s.threshold ?? 0.5, 0, 1),
      tta: s.tta ?? false,
      ...(s.inputSize !== undefined ? { inputSize: checkInteger('inputSize', s.inputSize, 1, 65536) } : {}),
    };
  }
  return spec;
}

/**
 * The detector options of a detect run's spec, checked, without those at their defaults (so that a run
 * submitted before they were forwarded, or without them, keeps its spec): `overlap` and `fullFrame`
 * only matter with tiles.
 */
function detectorSpec(d: Partial<DetectSpec>): Partial<DetectSpec> {
  const t = checkTileOptions(d);
  const x = DETECT_DEFAULTS;
  const { inputSize, channelStretch } = d;
  if (typeof inputSize === 'object') checkRange('inputSize.scale', inputSize.scale, 0.01, 8);
  else if (inputSize !== undefined) checkInteger('inputSize', inputSize, 32, 16384);
  return {
    ...(d.layout !== undefined ? { layout: checkOneOf('layout', d.layout, DETECTOR_LAYOUTS) } : {}),
    ...(typeof inputSize === 'object' ? { inputSize: { scale: inputSize.scale } } : {}),
    ...(typeof inputSize === 'number' ? { inputSize } : {}),
    ...(channelStretch !== undefined
      ? { channelStretch: channelStretch === null ? null : checkChannelStretch(channelStretch) }
      : {}),
    ...(t.tile !== 0 ? { tile: t.tile } : {}),
    ...(t.tile !== 0 && t.overlap !== x.overlap ? { overlap: t.overlap } : {}),
    ...(t.tile !== 0 && t.fullFrame ? { fullFrame: true } : {}),
    ...(t.flipTta ? { flipTta: true } : {}),
  };
}

/**
 * The local commands' checks on outputs, before anything is written: no output is an input, no two
 * inputs write one file, and an existing output is replaced only by a continued run or with `overwrite`.
 */
async function checkOutputs(spec: RunSpec, refs: InputRef[], continuing: boolean, overwrite: boolean): Promise<void> {
  const inputs = refs.map((r) => fromRef(r));
  const guard = new OutputGuard(overwrite);
  await guard.addInputs([...inputFiles(inputs), ...(spec.cocoGt ? [spec.cocoGt] : [])]);
  const out = spec.output;
  const perImage: Sink<DetectionLike>[] = [];
  if (out.kind === 'csv') perImage.push(perImageCsvSink(out.path));
  else if (out.kind === 'yolo') perImage.push(yoloTxtSink(out.path));
  else {
    await checkOutputFile(guard, out.path, 'out', continuing);
    if (out.kind === 'coco') await checkOutputFile(guard, cocoImagesPath(out.path), 'out', continuing);
  }
  if (spec.overlay) perImage.push(overlaySink(spec.overlay.dir, { labels: spec.overlay.labels }));
  await checkPlannedOutputs(perImage, inputs, guard, continuing);
}

/** Read a run's record, or undefined. */
export async function readRunRecord(
  redis: { get(key: string): Promise<string | null> },
  run: string,
): Promise<RunRecord | undefined> {
  const text = await redis.get(runKey(run));
  return text === null ? undefined : (JSON.parse(text) as RunRecord);
}

/**
 * Submit (or continue) a run. Checks the queue first: with a bad URL or an unreachable Redis nothing is
 * written anywhere.
 * @throws InvalidArgumentError for bad options or inputs; QueueError when Redis cannot be reached or the
 *   run name is taken by a run with other options or inputs
 * @example await submit({ queue: 'redis://10.0.0.5:6379/0', run: 'plate7', kind: 'detect', inputs: ['/data/plate7'], out: '/data/out/plate7.csv' });
 */
export async function submit(o: SubmitOptions): Promise<SubmitResult> {
  const address = parseQueueUrl(o.queue);
  checkRunName(o.run);
  const chunk = checkInteger('chunk', o.chunk ?? 1, 1, 100_000);
  const attempts = checkInteger('attempts', o.attempts ?? 3, 1, 100);
  const backoffMs = checkInteger('backoffMs', o.backoffMs ?? 1000, 0, 3_600_000);
  if (o.inputs.length === 0)
    throw new InvalidArgumentError(
      'inputs',
      'no inputs given: pass image files, directories, globs, .zip archives or URLs',
    );
  buildSpec(o, 0, chunk); // option errors before any I/O
  const redis = await connectOnce(address);
  try {
    const refs = await expandRefs(o.inputs);
    if (refs.length === 0) throw new InvalidArgumentError('inputs', `no images found in: ${o.inputs.join(' ')}`);
    const spec = buildSpec(o, refs.length, chunk);
    const manifest = refs.map((r) => JSON.stringify(r) + '\n').join('');

    let gen = 1;
    const rec = await readRunRecord(redis, o.run);
    if (rec) {
      if (specKey(rec.spec) !== specKey(spec))
        throw new QueueError(
          `run '${o.run}' already exists on ${address.display} with other options or outputs; use another --run name`,
        );
      const state = await parentState(address, rec.parentId);
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
        return {
          run: o.run,
          state: 'in-progress',
          generation: rec.gen,
          total: rec.total,
          queued: 0,
          skipped: rec.skipped,
          jobs: 0,
          workDir: spec.workDir,
          output: spec.output,
        };
      }
      gen = rec.gen + 1;
    }
    await checkOutputs(spec, refs, rec !== undefined || existsSync(inputsPath(spec.workDir)), o.overwrite ?? false);
    // The work folder: a previous submission's must hold the same inputs and options.
    if (existsSync(inputsPath(spec.workDir))) {
      if ((await readFile(inputsPath(spec.workDir), 'utf8')) !== manifest)
        throw new QueueError(
          `the work folder ${spec.workDir} holds another input list; use another --run name or --work folder`,
        );
      if (
        existsSync(specPath(spec.workDir)) &&
        specKey(JSON.parse(await readFile(specPath(spec.workDir), 'utf8'))) !== specKey(spec)
      )
        throw new QueueError(
          `the work folder ${spec.workDir} belongs to a run with other options; use another --run name or --work folder`,
        );
    } else {
      await writeInputs(spec.workDir, refs);
    }
    await writeFileAtomic(specPath(spec.workDir), JSON.stringify(spec, null, 2) + '\n');

    const pending: InputRef[] = [];
    for (const r of refs) if (!(await hasPart(spec.workDir, r))) pending.push(r);
    const parentId = parentJobId(o.run, gen);
    const children: FlowChildJob[] = [];
    for (let i = 0; i < pending.length; i += chunk) {
      const items = pending.slice(i, i + chunk);
      children.push({
        name: 'images',
        queueName: IMAGE_QUEUE,
        data: { spec, gen, items },
        opts: {
          jobId: `${o.run}.${gen}.${items[0]!.index}`,
          attempts,
          backoff: { type: 'fixed', delay: backoffMs },
          ignoreDependencyOnFailure: true,
        },
      });
    }
    const producer = new FlowProducer({ connection: redisOptions(address, { maxRetriesPerRequest: 2 }) });
    producer.on('error', () => {});
    try {
      await producer.add({
        name: 'combine',
        queueName: COMBINE_QUEUE,
        data: { spec, gen },
        opts: { jobId: parentId, attempts: 5, backoff: { type: 'fixed', delay: 1000 } },
        children,
      });
    } finally {
      await producer.close();
    }
    const record: RunRecord = {
      spec,
      gen,
      parentId,
      total: refs.length,
      skipped: refs.length - pending.length,
      queued: pending.length,
      createdAt: Date.now(),
    };
    await redis.set(runKey(o.run), JSON.stringify(record));
    return {
      run: o.run,
      state: 'submitted',
      generation: gen,
      total: refs.length,
      queued: pending.length,
      skipped: record.skipped,
      jobs: children.length,
      workDir: spec.workDir,
      output: spec.output,
    };
  } finally {
    redis.disconnect();
  }
}

type FlowChildJob = Parameters<FlowProducer['add']>[0] extends { children?: (infer C)[] } ? C : never;

/** The state of a run's parent job ('unknown' when it is gone, e.g. Redis was flushed). */
export async function parentState(address: ReturnType<typeof parseQueueUrl>, parentId: string): Promise<string> {
  const q = new Queue(COMBINE_QUEUE, { connection: redisOptions(address, { maxRetriesPerRequest: 2 }) });
  q.on('error', () => {});
  try {
    const job = await Job.fromId(q, parentId);
    return job ? await job.getState() : 'unknown';
  } finally {
    await q.close();
  }
}
