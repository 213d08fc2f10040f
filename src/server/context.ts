/** What every route shares: settings, models, the gate, the upload cache, metrics. */
import type { FastifyRequest } from 'fastify';
import type { UploadCache } from './cache.js';
import type { Gate } from './gate.js';
import { HttpError } from './httpError.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedDetector, ServedSegmenter } from './models.js';
import type { ResolvedServeOptions } from './options.js';

export interface ServerContext {
  options: ResolvedServeOptions;
  detectors: ServedDetector[];
  segmenters: ServedSegmenter[];
  gate: Gate;
  cache: UploadCache;
  metrics: ServerMetrics;
  /** When each request started (ms, `performance.now()`), for the per-request deadline. */
  started: WeakMap<FastifyRequest, number>;
}

/**
 * The model named `name` (or the first of its kind).
 * @throws HttpError 404 when there is none
 */
export function findModel<M extends { name: string }>(list: M[], name: string | undefined, kind: string): M {
  const m = name === undefined ? list[0] : list.find((x) => x.name === name);
  if (!m)
    throw new HttpError(
      404,
      'ERR_NO_MODEL',
      name === undefined
        ? `this server has no ${kind} (start it with --model M.onnx)`
        : `no ${kind} named '${name}' (GET /v1/models lists them)`,
    );
  return m;
}

/**
 * Run `work` holding a compute slot, within what is left of the request's time limit. On timeout the
 * answer is 504 at once; the slot is held until the work really ends (inference cannot be interrupted),
 * so the concurrency limit stays true.
 * @throws HttpError 504 when the deadline passes
 */
export async function compute<T>(ctx: ServerContext, req: FastifyRequest, work: () => Promise<T>): Promise<T> {
  const start = ctx.started.get(req) ?? performance.now();
  const left = () => ctx.options.timeoutMs - (performance.now() - start);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        ctx.metrics.rejected.inc({ reason: 'timeout' });
        reject(new HttpError(504, 'ERR_TIMEOUT', `the request took longer than ${ctx.options.timeoutMs} ms`));
      },
      Math.max(0, left()),
    );
  });
  const acquiring = ctx.gate.acquire();
  try {
    let slot;
    try {
      slot = await Promise.race([acquiring, deadline]);
    } catch (err) {
      void acquiring.then((s) => s.release()); // a slot granted after the deadline goes straight back
      throw err;
    }
    const run = work().finally(() => slot.release());
    run.catch(() => undefined); // answered with 504 already when the deadline won
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
