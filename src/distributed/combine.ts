/**
 * The combining step of a run (the BullMQ parent job): once every image job has finished, read the
 * stored results in input order and write them through the local command's own sinks — so the combined
 * CSV, COCO JSON or submission CSV is byte for byte what the local command writes. Files are written
 * under a temporary name beside the target and renamed into place; the step can be re-run at any time
 * (a worker killed while combining leaves the job to another worker).
 */
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { detectionSinks, type OutputPlan } from '../cli/detectionCli.js';
import { submissionSink } from '../cli/commands/segment.js';
import { cocoImagesPath } from '../io/cocoResults.js';
import { writeFileAtomic, type DetectionLike } from '../pipeline/detectionSinks.js';
import type { ImageFailure, ImageJob, Sink } from '../pipeline/runner.js';
import { fromRef } from './inputRefs.js';
import type { StoredResult } from './processors.js';
import type { InputRef, RunSpec } from './spec.js';
import { readFailure, readInputs, readPart, summaryPath } from './workDir.js';

/** A finished run, as the combining step reports it (and `summary.json` holds it). */
export interface RunSummary {
  run: string;
  kind: RunSpec['kind'];
  total: number;
  processed: number;
  failed: number;
  /** The first 1000 failures, in input order. */
  failures: ImageFailure[];
  failuresOmitted: number;
  /** Boxes written (detect, baseline) or non-empty masks (segment). */
  detections?: number;
  masks?: number;
  outputs: Record<string, string>;
  /** ISO time the combining step finished. */
  finishedAt: string;
}

const MAX_FAILURES = 1000;

/** A temporary name beside `path` that keeps its extension (COCO derives `.images.json` from it). */
function tempBeside(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  return join(dirname(path), `.${stem}.combine-${process.pid}${ext}`);
}

/** Sinks for a run's outputs (no overlays: workers write those), and how to move temp files into place. */
async function outputSinks(
  spec: RunSpec,
): Promise<{ sinks: Sink<StoredResult>[]; commit: () => Promise<void>; abort: () => Promise<void> }> {
  const out = spec.output;
  const moves: [string, string][] = [];
  let target = out.path;
  if (out.kind === 'csv-combined' || out.kind === 'coco' || out.kind === 'submission') {
    target = tempBeside(out.path);
    moves.push([target, out.path]);
    if (out.kind === 'coco') moves.push([cocoImagesPath(target), cocoImagesPath(out.path)]);
  }
  let sinks: Sink<StoredResult>[];
  if (out.kind === 'submission') {
    sinks = [(await submissionSink(target, false)) as unknown as Sink<StoredResult>];
  } else {
    const plan: OutputPlan = { kind: out.kind, path: target };
    sinks = (await detectionSinks(plan, { 'coco-gt': spec.cocoGt })) as Sink<StoredResult>[];
  }
  return {
    sinks,
    commit: async () => {
      for (const [from, to] of moves) await rename(from, to);
    },
    abort: async () => {
      for (const [from] of moves) await rm(from, { force: true });
    },
  };
}

/**
 * Write a run's outputs from its work folder; returns (and stores in `summary.json`) the summary.
 * @throws when an output cannot be written (the job is then retried)
 */
export async function combineRun(spec: RunSpec): Promise<RunSummary> {
  const summary: RunSummary = {
    run: spec.run,
    kind: spec.kind,
    total: 0,
    processed: 0,
    failed: 0,
    failures: [],
    failuresOmitted: 0,
    outputs: { [spec.output.kind]: spec.output.path },
    finishedAt: '',
  };
  if (spec.overlay) summary.outputs.overlay = spec.overlay.dir;
  const fail = (f: ImageFailure) => {
    summary.failed++;
    if (summary.failures.length < MAX_FAILURES) summary.failures.push(f);
    else summary.failuresOmitted++;
  };
  let count = 0;
  const refs: InputRef[] = [];
  for await (const ref of readInputs(spec.workDir)) refs.push(ref);
  const { sinks, commit, abort } = await outputSinks(spec);
  try {
    // Output names are decided over every input, as the local command decides them (same-stem inputs).
    const inputs = refs.map((r) => fromRef(r));
    for (const s of sinks) s.plan?.(inputs);
    for (const ref of refs) {
      summary.total++;
      const part = await readPart<StoredResult>(spec.workDir, ref);
      if (!part) {
        fail(
          (await readFailure(spec.workDir, ref.index)) ?? {
            index: ref.index,
            name: ref.name,
            origin: ref.origin,
            stage: 'process',
            code: 'ERR_MASKBOX_QUEUE',
            message: `${ref.origin}: no result (its job failed or was removed)`,
          },
        );
        continue;
      }
      const job: ImageJob = {
        index: ref.index,
        input: inputs[ref.index]!,
        image: {
          data: new Uint8Array(0),
          width: part.width,
          height: part.height,
          channels: part.channels,
          bitDepth: part.bitDepth,
        },
      };
      let failure: ImageFailure | undefined;
      for (const sink of sinks) {
        try {
          await sink.write(job, part.result);
        } catch (err) {
          const e = err as { code?: string; message?: string };
          failure ??= {
            index: ref.index,
            name: ref.name,
            origin: ref.origin,
            stage: 'write',
            code: e.code ?? 'ERR_UNKNOWN',
            message: String(e.message ?? err),
          };
        }
      }
      if (failure) fail(failure);
      else {
        summary.processed++;
        const r = part.result;
        count += 'areas' in r ? r.areas.filter((a) => a > 0).length : (r as DetectionLike).scores.length;
      }
    }
  } catch (err) {
    for (const s of sinks) await s.close().catch(() => {});
    await abort();
    throw err;
  }
  for (const s of sinks) await s.close();
  await commit();
  if (spec.kind === 'segment') summary.masks = count;
  else summary.detections = count;
  summary.finishedAt = new Date().toISOString();
  await writeFileAtomic(summaryPath(spec.workDir), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
