/**
 * A maskbox worker: pulls image jobs and combine jobs from the queue and runs them with the local
 * commands' pipeline code (`runBatch`, the same processors and sinks). One process loads each model
 * once and runs `concurrency` jobs at a time. Results go to the run's work folder atomically, so a job
 * re-run after a crash (BullMQ hands a stalled job to another worker) writes the same file again.
 */
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { InvalidArgumentError } from '../errors.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../model/session.js';
import { overlaySink } from '../pipeline/detectionSinks.js';
import type { ImageInput } from '../pipeline/inputs.js';
import { NO_PROGRESS } from '../pipeline/progress.js';
import { runBatch, type Sink } from '../pipeline/runner.js';
import { checkInteger } from '../validate.js';
import { combineRun, type RunSummary } from './combine.js';
import { COMBINE_QUEUE, IMAGE_QUEUE, connectOnce, parseQueueUrl, redisOptions } from './connection.js';
import { fromRef } from './inputRefs.js';
import { ModelCache, processorFor, type StoredResult } from './processors.js';
import type { CombineJobData, ImageJobData, ImageJobResult } from './spec.js';
import { hasPart, readInputs, writeFailure, writePart } from './workDir.js';

/** Options of {@link createWorker}. */
export interface WorkerOptions {
  /** `redis://HOST:PORT/DB`. */
  queue: string;
  /** Jobs run at once in this process (default 1). */
  concurrency?: number;
  /** Execution provider for ONNX models: cpu (default), cuda, webgpu. */
  backend?: ExecutionProvider;
  /** Detector for detect runs that name no model; loaded at start (default: the bundled one, on first use). */
  model?: string;
  /** A job's lock lasts this long without renewal before it counts as stalled (default 30000 ms). */
  lockMs?: number;
  /** How often stalled jobs are looked for (default 30000 ms). */
  stalledMs?: number;
  /** Log lines (default: to stderr). */
  log?: (line: string) => void;
}

/** A running worker. */
export interface MaskboxWorker {
  /** What the health line says. */
  readonly name: string;
  readonly backend: ExecutionProvider;
  readonly model: string;
  readonly queue: string;
  /** Images processed and failed (final or not) by this worker so far. */
  readonly stats: { images: number; failed: number; jobs: number; combined: number };
  /**
   * Stop taking jobs. Graceful by default (the jobs in hand finish); `force` drops them at once (BullMQ
   * then hands them to another worker when their lock expires).
   */
  close(force?: boolean): Promise<void>;
}

/**
 * Start a worker on a queue.
 * @throws InvalidArgumentError for a bad URL or option; QueueError when Redis cannot be reached;
 *   ModelError when `model` cannot be loaded
 * @example const w = await createWorker({ queue: 'redis://10.0.0.5:6379/0', concurrency: 2 });
 */
export async function createWorker(options: WorkerOptions): Promise<MaskboxWorker> {
  const address = parseQueueUrl(options.queue);
  const concurrency = checkInteger('concurrency', options.concurrency ?? 1, 1, 256);
  const lockDuration = checkInteger('lockMs', options.lockMs ?? 30_000, 200, 3_600_000);
  const stalledInterval = checkInteger('stalledMs', options.stalledMs ?? 30_000, 100, 3_600_000);
  const backend = options.backend ?? 'cpu';
  if (!EXECUTION_PROVIDERS.includes(backend))
    throw new InvalidArgumentError(
      'backend',
      `Expected one of ${EXECUTION_PROVIDERS.join(', ')} for backend but received '${backend}'`,
    );
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  (await connectOnce(address)).disconnect();

  const models = new ModelCache(backend, options.model);
  if (options.model !== undefined) await models.detector(options.model);
  const name = `${hostname()}:${process.pid}`;
  const manifests = new Map<string, Promise<ImageInput[]>>();
  const runInputs = (workDir: string): Promise<ImageInput[]> => {
    let m = manifests.get(workDir);
    if (!m) {
      m = (async () => {
        const all: ImageInput[] = [];
        for await (const r of readInputs(workDir)) all.push(fromRef(r));
        return all;
      })();
      m.catch(() => manifests.delete(workDir));
      manifests.set(workDir, m);
    }
    return m;
  };
  const stats = { images: 0, failed: 0, jobs: 0, combined: 0 };

  const processImages = async (job: Job<ImageJobData, ImageJobResult>): Promise<ImageJobResult> => {
    const { spec, items } = job.data;
    const processor = await processorFor(spec, models);
    const parts: Sink<StoredResult> = {
      done: (_input, i) => hasPart(spec.workDir, items[i]!),
      write: (j, result) =>
        writePart(spec.workDir, {
          index: items[j.index]!.index,
          name: items[j.index]!.name,
          width: j.image.width,
          height: j.image.height,
          channels: j.image.channels,
          bitDepth: j.image.bitDepth,
          result,
        }),
      close: async () => {},
    };
    const sinks: Sink<StoredResult>[] = [parts];
    if (spec.overlay) {
      const overlay = overlaySink(spec.overlay.dir, { labels: spec.overlay.labels }) as Sink<StoredResult>;
      overlay.plan?.(await runInputs(spec.workDir)); // names decided over every input of the run, as locally
      sinks.push(overlay);
    }
    let done = 0;
    const summary = await runBatch<StoredResult>({
      inputs: items.map((r) => fromRef(r)),
      processor,
      sinks,
      resume: true,
      progress: NO_PROGRESS,
      onResult: () => void job.updateProgress(Math.round((100 * ++done) / items.length)).catch(() => {}),
    });
    stats.jobs++;
    stats.images += summary.processed;
    if (summary.failed === 0) return { images: items.length };
    stats.failed += summary.failed;
    const lines: string[] = [];
    for (const f of summary.failures) {
      const ref = items[f.index]!;
      const failure = { ...f, index: ref.index, name: ref.name, origin: ref.origin };
      await writeFailure(spec.workDir, failure);
      lines.push(`[${f.stage}] ${f.message.includes(ref.origin) ? f.message : `${ref.origin}: ${f.message}`}`);
    }
    const attempt = job.attemptsMade + 1;
    log(
      `maskbox worker: job ${job.id} (run ${spec.run}) attempt ${attempt}/${job.opts.attempts ?? 1}: ${lines.join('; ')}`,
    );
    throw new Error(lines.join('\n'));
  };

  const processCombine = async (job: Job<CombineJobData, RunSummary>): Promise<RunSummary> => {
    const s = await combineRun(job.data.spec);
    stats.combined++;
    log(
      `maskbox worker: run ${s.run} combined: ${s.processed} image(s), ${s.failed} failed -> ${Object.values(s.outputs).join(', ')}`,
    );
    return s;
  };

  const common = {
    connection: redisOptions(address),
    name,
    lockDuration,
    stalledInterval,
    maxStalledCount: 3,
  };
  const images = new Worker<ImageJobData, ImageJobResult>(IMAGE_QUEUE, processImages, { ...common, concurrency });
  const combiner = new Worker<CombineJobData, RunSummary>(COMBINE_QUEUE, processCombine, { ...common, concurrency: 1 });
  let lastError = 0;
  const onError = (err: Error) => {
    const now = Date.now();
    if (now - lastError > 5000) log(`maskbox worker: queue connection problem (retrying): ${err.message}`);
    lastError = now;
  };
  images.on('error', onError);
  combiner.on('error', onError);
  await Promise.all([images.waitUntilReady(), combiner.waitUntilReady()]);

  let closing: Promise<void> | undefined;
  return {
    name,
    backend,
    model: options.model ?? 'per run (default: the bundled detector)',
    queue: address.display,
    stats,
    close(force = false) {
      if (force) return Promise.all([images.close(true), combiner.close(true)]).then(() => models.dispose());
      closing ??= Promise.all([images.close(), combiner.close()]).then(() => models.dispose());
      return closing;
    },
  };
}
