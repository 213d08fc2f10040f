/**
 * The batch runner: inputs -> read/decode -> process (inference + post-process) -> write, streaming.
 *
 * - Bounded: at most `concurrency * batchSize + prefetch` images are alive at once (decoding, waiting,
 *   in inference, or waiting to be written), so memory is flat in the number of images.
 * - Overlapped: the next images are read and decoded (sharp works off the JS thread) while the current
 *   one is in inference — a small prefetch queue.
 * - Ordered: results reach the sinks one at a time, in input order, whatever order they finish in.
 * - Tolerant: a failure to read, decode, process or write one image is recorded in the summary and the
 *   batch goes on. The caller decides the exit code (the CLI returns 1 when any image failed).
 * - Resumable: with `resume`, an input is skipped when every sink says its output exists.
 *
 * detect, baseline and segment all run through {@link runBatch}; they differ only in the
 * {@link Processor} (what to compute for one image) and the {@link Sink}s (what to write).
 */
import { availableParallelism } from 'node:os';
import { MaskboxError, ParseError } from '../errors.js';
import { checkInteger } from '../validate.js';
import { BufferPool } from './bufferPool.js';
import type { ImageInput } from './inputs.js';
import { createProgress, type Progress } from './progress.js';

/** A decoded image as `readImage` returns it: interleaved HWC pixels. */
export interface DecodedImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
  /** The file's own size when it was decoded smaller (`readImage`'s `resize`); results are in its pixels. */
  source?: { width: number; height: number };
}

/** The size of the frame results refer to: the file's own size (`source`), else the decoded size. */
export function frameSize(image: DecodedImage): { width: number; height: number } {
  return { width: image.source?.width ?? image.width, height: image.source?.height ?? image.height };
}

/** One image on its way through the pipeline. */
export interface ImageJob {
  /** Position in the input stream (0-based; skipped inputs count too, so it is stable under resume). */
  index: number;
  input: ImageInput;
  image: DecodedImage;
}

/** What to compute for one image (e.g. run a detector). */
export interface Processor<R> {
  process(job: ImageJob): Promise<R>;
  /** Optional batched form (model batching); must return one result per job, in order. */
  processBatch?(jobs: ImageJob[]): Promise<R[]>;
  /** Images per `processBatch` call (default 1: no batching). */
  batchSize?: number;
  /**
   * Sub-stages of one result's processing, ms per image (e.g. a detector's preprocess / infer /
   * postprocess), summed into the batch's {@link BatchTimings}.
   */
  timings?(result: R): Readonly<Record<string, number>> | undefined;
}

/** The files a sink will write, for the checks made before a batch starts. */
export interface PlannedOutputs {
  /** The CLI flag that names these outputs (`out`, `overlay`), for messages. */
  flag: string;
  /** The folder of per-image outputs, if any. */
  dir?: string;
  /** Per input name, the files written for it. */
  perInput: [string, string[]][];
  /** Files written once for the whole batch (a combined CSV, a COCO results file). */
  files: string[];
}

/** Where results go (a CSV per image, a combined CSV, overlays, ...). */
export interface Sink<R> {
  /**
   * Called once before the batch with every input (names final), when the caller lists inputs first:
   * fixes output names (e.g. disambiguating same-stem inputs) and returns the files to be written.
   */
  plan?(inputs: readonly ImageInput[]): PlannedOutputs;
  /** Messages for the user, e.g. what a resume discarded. */
  notes?(): string[];
  /** For resume: true when this input's output already exists. Sinks without it are never "done". */
  done?(input: ImageInput, index: number): boolean | Promise<boolean>;
  /** Write one image's result. Called one at a time, in input order. */
  write(job: ImageJob, result: R): Promise<void>;
  /** Flush and finalize; called once at the end, also when images failed. */
  close(): Promise<void>;
}

/** One image that failed, and why. */
export interface ImageFailure {
  index: number;
  name: string;
  origin: string;
  /** The stage that failed. */
  stage: 'read' | 'decode' | 'process' | 'write';
  /** The MaskboxError code, or the Node error code, or 'ERR_UNKNOWN'. */
  code: string;
  message: string;
}

/**
 * Where a batch's time went, in milliseconds per processed image. Stages of different images run at
 * the same time (the next images decode while one is in inference), so the stage times do not add up
 * to `wall`: a stage whose time is close to `wall` (or a `utilisation` near 1) is what bounds the rate.
 */
export interface BatchTimings {
  /**
   * Mean wall time per image in each stage, in pipeline order: `read`, `decode`, then the processor's
   * own sub-stages when it reports them (detect: `preprocess`, `infer`, `postprocess`) or else
   * `process`, then `write`. A stage's time includes waiting for a thread while other stages run.
   */
  stages: Record<string, number>;
  /** Elapsed time per processed image (1000 / imagesPerSecond). */
  wall: number;
  /** CPU time of the whole process (every thread) per processed image. */
  cpu: number;
  /** `cpu / (wall * cores)`: 1 when every core worked for this process the whole time. */
  utilisation: number;
  /** Cores of this machine (`os.availableParallelism()`). */
  cores: number;
}

/** The end-of-batch summary. */
export interface BatchSummary {
  /** Inputs seen (processed + failed + skipped). */
  total: number;
  /** Images processed and written. */
  processed: number;
  /** Inputs skipped by resume. */
  skipped: number;
  failed: number;
  /** The first `maxFailuresKept` failures (all of them unless `failuresOmitted > 0`). */
  failures: ImageFailure[];
  failuresOmitted: number;
  seconds: number;
  /** processed / seconds (skipped inputs not counted). */
  imagesPerSecond: number;
  /** Stage times per processed image, CPU time and utilisation. */
  timings: BatchTimings;
}

/** Memory the runner offers a decoder with `reuseBuffers` (pass `into` on to `readImage`). */
export interface DecodeMemory {
  /** Memory for the decoded pixels: `ReadImageOptions.into`. */
  into: (byteLength: number) => Uint8Array;
}

/** A runner decoder: encoded bytes to pixels (`memory` only with `reuseBuffers`). */
export type DecodeFn = (bytes: Buffer, input: ImageInput, memory?: DecodeMemory) => Promise<DecodedImage>;

/** Options of {@link runBatch}. */
export interface RunOptions<R> {
  inputs: AsyncIterable<ImageInput> | Iterable<ImageInput>;
  processor: Processor<R>;
  sinks?: Sink<R>[];
  /** Decode image bytes (default: `readImage` from src/io/image.ts). */
  decode?: DecodeFn;
  /**
   * Recycle the memory of file reads and decoded pixels from image to image (default false): fewer
   * new buffers, so far fewer major GCs and page faults on large frames. The lifetime rule, which the
   * processor, sinks and `onResult` must keep: an image's `job.image.data` (and any view of its
   * buffer) may be used until the last sink's `write` for that image has settled and `onResult` has
   * returned — then the runner may decode another image into the same memory. Keep a copy
   * (`data.slice()`) to hold pixels longer. The encoded bytes are recycled when `decode` settles: a
   * custom decoder must not keep `bytes`. Images from the default decoder (`readImage` with `into`) and
   * inputs from `expandInputs` use the pool; other memory is left alone.
   */
  reuseBuffers?: boolean;
  /** Process calls in flight at once (default 1; a model session already uses every core). */
  concurrency?: number;
  /** Images read and decoded ahead of processing (default 2). */
  prefetch?: number;
  /** Skip inputs whose outputs exist in every sink. */
  resume?: boolean;
  /** Called after each image is written (e.g. to count detections); runs in input order. */
  onResult?: (job: ImageJob, result: R) => void;
  /** Progress bar (images/s and stage times): `true` = on stderr when it is a TTY (default), `false` = off, or your own. */
  progress?: boolean | Progress;
  /** Number of inputs, when known, for the progress bar. */
  total?: number;
  /** Failures kept in the summary (default 1000); the rest are only counted. */
  maxFailuresKept?: number;
  /** Index of the first input (default 0): a shard of a larger batch keeps its global positions. */
  firstIndex?: number;
}

interface Outcome<R> {
  index: number;
  input: ImageInput;
  image?: DecodedImage;
  result?: R;
  failure?: ImageFailure;
  /** Wall ms of this image's read, decode and process stages. */
  ms: { read: number; decode: number; process: number };
}

/** Sums of stage times over the processed images, turned into {@link BatchTimings}. */
class StageClock {
  private readonly sums = new Map<string, number>([
    ['read', 0],
    ['decode', 0],
  ]);
  private detailed = false;
  private readonly cpu0 = process.cpuUsage();
  readonly cores = availableParallelism();

  add(stage: string, ms: number): void {
    this.sums.set(stage, (this.sums.get(stage) ?? 0) + ms);
  }

  /** Count one written image's stages (`detail`: the processor's sub-stages, replacing `process`). */
  image(ms: Outcome<unknown>['ms'], write: number, detail: Readonly<Record<string, number>> | undefined): void {
    this.add('read', ms.read);
    this.add('decode', ms.decode);
    if (detail) {
      this.detailed = true;
      for (const [k, v] of Object.entries(detail)) if (Number.isFinite(v)) this.add(k, v);
    }
    this.add('process', ms.process);
    this.add('write', write);
  }

  /** Per-image means over `n` images, `elapsedMs` since the start. */
  timings(n: number, elapsedMs: number): BatchTimings {
    const per = (v: number) => (n > 0 ? v / n : 0);
    const stages: Record<string, number> = {};
    for (const [k, v] of this.sums) {
      if (k === 'write' || (k === 'process' && this.detailed)) continue;
      stages[k] = per(v);
    }
    stages.write = per(this.sums.get('write') ?? 0);
    const u = process.cpuUsage(this.cpu0);
    const cpuMs = (u.user + u.system) / 1000;
    return {
      stages,
      wall: per(elapsedMs),
      cpu: per(cpuMs),
      utilisation: n > 0 && elapsedMs > 0 ? cpuMs / (elapsedMs * this.cores) : 0,
      cores: this.cores,
    };
  }
}

/** Describe an error as an {@link ImageFailure}. */
export function toFailure(index: number, input: ImageInput, stage: ImageFailure['stage'], err: unknown): ImageFailure {
  const e = err as { code?: unknown; message?: unknown };
  const code = err instanceof MaskboxError ? err.code : typeof e?.code === 'string' ? e.code : 'ERR_UNKNOWN';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return { index, name: input.name, origin: input.origin, stage, code, message };
}

/** A counting semaphore with FIFO waiters. */
class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

let defaultDecoder: DecodeFn | undefined;
async function decodeWithReadImage(bytes: Buffer, input: ImageInput, memory?: DecodeMemory): Promise<DecodedImage> {
  if (!defaultDecoder) {
    const { readImage } = await import('../io/image.js');
    defaultDecoder = (b, inp, m) => readImage(b, { name: inp.origin, into: m?.into });
  }
  return defaultDecoder(bytes, input, memory);
}

/**
 * Run a batch. Never throws for a per-image problem (those are in the summary); throws only for
 * invalid options or when a sink cannot be closed.
 * @example
 * const summary = await runBatch({
 *   inputs: expandInputs(['imgs/']),
 *   processor: { process: (job) => detector.detect(job.image, { conf: 0.4 }) },
 *   sinks: [perImageCsvSink('out/')],
 * });
 */
export async function runBatch<R>(options: RunOptions<R>): Promise<BatchSummary> {
  const { processor, sinks = [], resume = false, onResult } = options;
  const concurrency = checkInteger('concurrency', options.concurrency ?? 1, 1, 1024);
  const prefetch = checkInteger('prefetch', options.prefetch ?? 2, 0, 1024);
  const batchSize = checkInteger('batchSize', processor.batchSize ?? 1, 1, 4096);
  const maxKept = checkInteger('maxFailuresKept', options.maxFailuresKept ?? 1000, 0);
  const decode = options.decode ?? decodeWithReadImage;
  const window = concurrency * batchSize + prefetch;
  // Alive at once: the window, plus one chunk started while the head chunk is being written.
  const pools = options.reuseBuffers
    ? { files: new BufferPool(window + batchSize), pixels: new BufferPool(window + batchSize) }
    : undefined;
  const memory = pools && { into: (n: number) => pools.pixels.take(n) };
  const readInto = pools && { into: (n: number) => pools.files.take(n) };
  const progress =
    typeof options.progress === 'object'
      ? options.progress
      : createProgress({ total: options.total, enabled: options.progress !== false ? undefined : false });

  const summary: BatchSummary = {
    total: 0,
    processed: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    failuresOmitted: 0,
    seconds: 0,
    imagesPerSecond: 0,
    timings: { stages: {}, wall: 0, cpu: 0, utilisation: 0, cores: 1 },
  };
  const fail = (f: ImageFailure) => {
    summary.failed++;
    if (summary.failures.length < maxKept) summary.failures.push(f);
    else summary.failuresOmitted++;
  };
  const infer = new Semaphore(concurrency);
  const start = performance.now();
  const clock = new StageClock();
  const report = () =>
    progress.update(
      summary.processed + summary.failed + summary.skipped,
      summary.processed,
      summary.failed,
      performance.now() - start,
      summary.processed > 0 ? () => clock.timings(summary.processed, performance.now() - start) : undefined,
    );

  const readAndDecode = async (index: number, input: ImageInput): Promise<Outcome<R>> => {
    const ms = { read: 0, decode: 0, process: 0 };
    let t = performance.now();
    let bytes: Buffer;
    try {
      bytes = await input.read(readInto);
      if (bytes.length === 0) throw new ParseError(input.origin, 'empty file (0 bytes), not an image');
    } catch (err) {
      return { index, input, ms, failure: toFailure(index, input, 'read', err) };
    }
    ms.read = performance.now() - t;
    t = performance.now();
    try {
      const image = await decode(bytes, input, memory);
      ms.decode = performance.now() - t;
      return { index, input, ms, image };
    } catch (err) {
      return { index, input, ms, failure: toFailure(index, input, 'decode', err) };
    } finally {
      pools?.files.give(bytes);
    }
  };

  const processOne = async (o: Outcome<R>): Promise<void> => {
    const t = performance.now();
    try {
      o.result = await processor.process({ index: o.index, input: o.input, image: o.image! });
    } catch (err) {
      o.failure = toFailure(o.index, o.input, 'process', err);
    }
    o.ms.process = performance.now() - t;
  };

  const runChunk = async (items: { index: number; input: ImageInput }[]): Promise<Outcome<R>[]> => {
    const outs = await Promise.all(items.map((it) => readAndDecode(it.index, it.input)));
    const ok = outs.filter((o) => !o.failure);
    if (ok.length === 0) return outs;
    await infer.acquire();
    try {
      if (ok.length > 1 && processor.processBatch) {
        try {
          const t = performance.now();
          const res = await processor.processBatch(
            ok.map((o) => ({ index: o.index, input: o.input, image: o.image! })),
          );
          if (res.length !== ok.length)
            throw new Error(`processBatch returned ${res.length} results for ${ok.length} images`);
          const share = (performance.now() - t) / ok.length;
          ok.forEach((o, k) => ((o.result = res[k]), (o.ms.process = share)));
        } catch {
          for (const o of ok) await processOne(o); // isolate the image that broke the batch
        }
      } else {
        for (const o of ok) await processOne(o);
      }
    } finally {
      infer.release();
    }
    return outs;
  };

  const writeOutcome = async (o: Outcome<R>): Promise<void> => {
    if (o.failure) {
      fail(o.failure);
    } else {
      const job: ImageJob = { index: o.index, input: o.input, image: o.image! };
      let failure: ImageFailure | undefined;
      const t = performance.now();
      for (const sink of sinks) {
        try {
          await sink.write(job, o.result as R);
        } catch (err) {
          failure ??= toFailure(o.index, o.input, 'write', err);
        }
      }
      if (failure) fail(failure);
      else {
        clock.image(o.ms, performance.now() - t, processor.timings?.(o.result as R));
        summary.processed++;
        onResult?.(job, o.result as R);
      }
    }
    pools?.pixels.give(o.image?.data); // the lifetime rule of RunOptions.reuseBuffers: every sink is done
    report();
  };

  const isDone = async (input: ImageInput, index: number): Promise<boolean> => {
    if (!resume || sinks.length === 0) return false;
    for (const s of sinks) if (!s.done || !(await s.done(input, index))) return false;
    return true;
  };

  // Chunks in flight, in input order; each settles to outcomes and never rejects.
  const queue: Promise<Outcome<R>[]>[] = [];
  let inFlight = 0;
  const queuedSizes: number[] = [];
  const drainHead = async () => {
    const outs = await queue.shift()!;
    inFlight -= queuedSizes.shift()!;
    for (const o of outs) await writeOutcome(o);
  };
  let chunk: { index: number; input: ImageInput }[] = [];
  const flush = () => {
    if (chunk.length === 0) return;
    queue.push(runChunk(chunk));
    queuedSizes.push(chunk.length);
    inFlight += chunk.length;
    chunk = [];
  };

  try {
    let index = checkInteger('firstIndex', options.firstIndex ?? 0, 0);
    for await (const input of options.inputs) {
      const i = index++;
      summary.total++;
      if (await isDone(input, i)) {
        summary.skipped++;
        report();
        continue;
      }
      chunk.push({ index: i, input });
      if (chunk.length >= batchSize) flush();
      while (inFlight >= window && queue.length > 0) await drainHead();
    }
    flush();
    while (queue.length > 0) await drainHead();
  } finally {
    // Let in-flight work settle before closing sinks, even when the input stream threw.
    await Promise.allSettled(queue);
    progress.finish();
    for (const s of sinks) await s.close();
  }
  const elapsed = performance.now() - start;
  summary.seconds = elapsed / 1000;
  summary.imagesPerSecond = summary.seconds > 0 ? summary.processed / summary.seconds : 0;
  summary.timings = clock.timings(summary.processed, elapsed);
  return summary;
}
