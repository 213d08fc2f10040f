/**
 * A run's work folder, on storage every worker and the combining step can reach:
 *
 * ```
 * <workDir>/inputs.jsonl        one InputRef per line, in input order (written once by submit)
 * <workDir>/spec.json           the RunSpec (a re-submission must match it)
 * <workDir>/parts/<index>.json  one finished image: its name, size and result (written atomically)
 * <workDir>/failed/<index>.json the last failure of an image (removed when it later succeeds)
 * <workDir>/summary.json        the run's summary, written by the combining step
 * ```
 *
 * A part file is the proof that an image is done: re-submitting a run skips every index that has one,
 * and the combining step reads them in input order, so each image's result is written exactly once.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../pipeline/detectionSinks.js';
import { readLines } from '../pipeline/inputs.js';
import type { ImageFailure } from '../pipeline/runner.js';
import { decodeResult, encodeResult } from './codec.js';
import type { InputRef } from './spec.js';

/** A finished image as stored in `parts/`. */
export interface Part<R = unknown> {
  index: number;
  name: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
  result: R;
}

/** The input manifest of a run. */
export const inputsPath = (workDir: string) => join(workDir, 'inputs.jsonl');
/** The run's spec, as submitted. */
export const specPath = (workDir: string) => join(workDir, 'spec.json');
/** The summary the combining step writes. */
export const summaryPath = (workDir: string) => join(workDir, 'summary.json');
/** The stored result of input `index`. */
export const partPath = (workDir: string, index: number) => join(workDir, 'parts', `${index}.json`);
/** The last recorded failure of input `index`. */
export const failurePath = (workDir: string, index: number) => join(workDir, 'failed', `${index}.json`);

/** Write the input manifest (atomically). */
export async function writeInputs(workDir: string, refs: readonly InputRef[]): Promise<void> {
  await writeFileAtomic(inputsPath(workDir), refs.map((r) => JSON.stringify(r) + '\n').join(''));
}

/** Stream the input manifest. */
export async function* readInputs(workDir: string): AsyncGenerator<InputRef> {
  for await (const line of readLines(inputsPath(workDir))) if (line !== '') yield JSON.parse(line) as InputRef;
}

/** Store a finished image, then drop any failure recorded for it by an earlier attempt. */
export async function writePart(workDir: string, part: Part): Promise<void> {
  await writeFileAtomic(partPath(workDir, part.index), encodeResult(part));
  await rm(failurePath(workDir, part.index), { force: true });
}

/** A stored image, or undefined when there is none (or it belongs to another name: a stale part). */
export async function readPart<R>(workDir: string, ref: InputRef): Promise<Part<R> | undefined> {
  const p = partPath(workDir, ref.index);
  if (!existsSync(p)) return undefined;
  const part = decodeResult<Part<R>>(await readFile(p, 'utf8'));
  return part.index === ref.index && part.name === ref.name ? part : undefined;
}

/** True when the image has a part file for this name. */
export async function hasPart(workDir: string, ref: InputRef): Promise<boolean> {
  try {
    return (await readPart(workDir, ref)) !== undefined;
  } catch {
    return false; // unreadable part: recompute it
  }
}

/** Record an image's failure (the combining step lists it). */
export async function writeFailure(workDir: string, failure: ImageFailure): Promise<void> {
  await writeFileAtomic(failurePath(workDir, failure.index), JSON.stringify(failure));
}

/** The recorded failure of an image, if any. */
export async function readFailure(workDir: string, index: number): Promise<ImageFailure | undefined> {
  try {
    return JSON.parse(await readFile(failurePath(workDir, index), 'utf8')) as ImageFailure;
  } catch {
    return undefined;
  }
}
