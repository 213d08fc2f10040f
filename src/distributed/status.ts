/**
 * `status`: where a run stands — done, failed, active and waiting images, images/s and ETA, the per-image
 * error list, and (once combined) the run's summary. Read from Redis only (no shared storage needed).
 */
import { Job, Queue } from 'bullmq';
import type { ImageFailure } from '../pipeline/runner.js';
import type { RunSummary } from './combine.js';
import { COMBINE_QUEUE, IMAGE_QUEUE, QueueError, connectOnce, parseQueueUrl, redisOptions } from './connection.js';
import type { ImageJobData } from './spec.js';
import { checkRunName, readRunRecord } from './submit.js';

/** A run's state, as {@link runStatus} reports it. */
export interface RunStatus {
  run: string;
  queue: string;
  kind: string;
  /** `running`: images left; `combining`: writing outputs; `done`; `failed`: the combining step failed. */
  state: 'running' | 'combining' | 'done' | 'failed';
  generation: number;
  total: number;
  /** Images with a result (including those skipped by a re-submission). */
  done: number;
  failed: number;
  active: number;
  waiting: number;
  elapsedSeconds: number;
  /** Images per second since this submission. */
  imagesPerSecond: number;
  /** Seconds left at that rate (undefined before the first image or once done). */
  etaSeconds?: number;
  /** Failed images: from the summary once combined, else from the failed jobs' reasons. */
  errors: { name?: string; message: string }[];
  summary?: RunSummary;
  /** Why the combining step failed. */
  failedReason?: string;
  outputs: Record<string, string>;
}

type Deps = Awaited<ReturnType<Job['getDependencies']>>;

/** Every processed and ignored (failed) child of a parent job, following the cursors. */
async function allDependencies(
  parent: Job,
): Promise<{ processed: Record<string, unknown>; ignored: Record<string, string> }> {
  const processed: Record<string, unknown> = {};
  const ignored: Record<string, string> = {};
  let pc: number | undefined = 0;
  let ic: number | undefined = 0;
  while (pc !== undefined || ic !== undefined) {
    const d: Deps = await parent.getDependencies({
      ...(pc !== undefined ? { processed: { cursor: pc, count: 1000 } } : {}),
      ...(ic !== undefined ? { ignored: { cursor: ic, count: 1000 } } : {}),
    });
    if (pc !== undefined) Object.assign(processed, d.processed ?? {});
    if (ic !== undefined) Object.assign(ignored, d.ignored ?? {});
    pc = d.nextProcessedCursor ? d.nextProcessedCursor : undefined;
    ic = d.nextIgnoredCursor ? d.nextIgnoredCursor : undefined;
  }
  return { processed, ignored };
}

const imagesOf = (v: unknown): number => {
  const r = typeof v === 'string' ? (JSON.parse(v) as { images?: number }) : (v as { images?: number } | null);
  return typeof r?.images === 'number' ? r.images : 1;
};

/**
 * The status of a run.
 * @throws InvalidArgumentError for a bad URL or run name; QueueError when Redis cannot be reached or
 *   holds no run of that name
 */
export async function runStatus(queue: string, run: string): Promise<RunStatus> {
  const address = parseQueueUrl(queue);
  checkRunName(run);
  const redis = await connectOnce(address);
  let rec;
  try {
    rec = await readRunRecord(redis, run);
  } finally {
    redis.disconnect();
  }
  if (!rec) throw new QueueError(`no run named '${run}' on ${address.display}`);
  const conn = redisOptions(address, { maxRetriesPerRequest: 2 });
  const combineQ = new Queue(COMBINE_QUEUE, { connection: conn });
  const imageQ = new Queue(IMAGE_QUEUE, { connection: conn });
  combineQ.on('error', () => {});
  imageQ.on('error', () => {});
  try {
    const elapsed = (Date.now() - rec.createdAt) / 1000;
    const outputs: Record<string, string> = { [rec.spec.output.kind]: rec.spec.output.path };
    if (rec.spec.overlay) outputs.overlay = rec.spec.overlay.dir;
    const base = {
      run,
      queue: address.display,
      kind: rec.spec.kind,
      generation: rec.gen,
      total: rec.total,
      outputs,
      elapsedSeconds: elapsed,
    };
    const parent = await Job.fromId<unknown, RunSummary>(combineQ, rec.parentId);
    const state = parent ? await parent.getState() : 'unknown';
    if (state === 'completed' && parent!.returnvalue) {
      const s = parent!.returnvalue;
      const rate = rec.queued / Math.max(1e-3, ((parent!.finishedOn ?? Date.now()) - rec.createdAt) / 1000);
      return {
        ...base,
        state: 'done',
        done: s.processed,
        failed: s.failed,
        active: 0,
        waiting: 0,
        imagesPerSecond: rate,
        errors: s.failures.map((f: ImageFailure) => ({ name: f.name, message: `[${f.stage}] ${f.message}` })),
        summary: s,
      };
    }
    if (!parent || state === 'unknown')
      throw new QueueError(
        `run '${run}' has lost its jobs on ${address.display} (was Redis flushed?); submit it again to continue`,
      );
    const { processed, ignored } = await allDependencies(parent);
    const doneNow = Object.values(processed).reduce<number>((n, v) => n + imagesOf(v), 0);
    const errors = Object.values(ignored).flatMap((reason) =>
      String(reason)
        .split('\n')
        .map((message) => ({ message })),
    );
    let active = 0;
    for (const j of await imageQ.getJobs(['active'], 0, -1)) {
      if (j?.parent?.id === rec.parentId) active += (j.data as ImageJobData).items?.length ?? 1;
    }
    const done = rec.skipped + doneNow;
    const failed = errors.length;
    const waiting = Math.max(0, rec.total - done - failed - active);
    const rate = doneNow / Math.max(1e-3, elapsed);
    const left = rec.total - done - failed;
    return {
      ...base,
      state: state === 'failed' ? 'failed' : state === 'waiting-children' ? 'running' : 'combining',
      done,
      failed,
      active,
      waiting,
      imagesPerSecond: rate,
      ...(rate > 0 && left > 0 ? { etaSeconds: left / rate } : {}),
      errors,
      ...(state === 'failed' ? { failedReason: parent.failedReason } : {}),
    };
  } finally {
    await Promise.all([combineQ.close(), imageQ.close()]);
  }
}
