/**
 * The checks every command makes on its outputs before any work starts (see src/io/files.ts):
 * locations exist or can be created and are writable, no output is an input (same file after
 * resolving links), no two inputs write the same file, and no existing file is replaced unless the run
 * created it, `--resume` continues it, or `--overwrite` says so.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { OutputGuard, prepareOutput } from '../io/files.js';
import type { ImageInput } from '../pipeline/inputs.js';
import type { Sink } from '../pipeline/runner.js';

/** The input files of a run for the guard: files on disk, and the archives zip entries come from. */
export function inputFiles(inputs: readonly ImageInput[]): string[] {
  const out = new Set<string>();
  for (const i of inputs) {
    if (i.path) out.add(i.path);
    else {
      const bang = i.origin.lastIndexOf('!');
      if (bang > 0) out.add(i.origin.slice(0, bang));
    }
  }
  return [...out];
}

/**
 * Check one output file: its folder is writable, it is no input, and it is new (or `allowExisting`, or
 * the guard's `overwrite`).
 */
export async function checkOutputFile(
  guard: OutputGuard,
  path: string,
  flag: string,
  allowExisting = false,
): Promise<void> {
  await prepareOutput(path, 'file', flag);
  await guard.checkFile(path, flag, allowExisting);
}

/**
 * Ask every sink for its planned files and check them: no clashes (two inputs, one file), none an input,
 * none existing unless `resume` or overwrite.
 * @throws InvalidArgumentError listing the clashes, or naming the first refused file
 */
export async function checkPlannedOutputs<R>(
  sinks: readonly Sink<R>[],
  inputs: readonly ImageInput[],
  guard: OutputGuard,
  resume: boolean,
  /** Check only the files of these input names (a shard: the others belong to other runs). */
  only?: ReadonlySet<string>,
): Promise<void> {
  const owner = new Map<string, string>();
  const clashes: string[] = [];
  const checks: [string, string][] = [];
  for (const s of sinks) {
    const p = s.plan?.(inputs);
    if (!p) continue;
    for (const [name, files] of p.perInput) {
      for (const f of files) {
        const k = resolve(f);
        const prev = owner.get(k);
        if (prev !== undefined) clashes.push(`${f} (from ${prev} and ${name})`);
        else owner.set(k, name);
        if (!only || only.has(name)) checks.push([f, p.flag]);
      }
    }
  }
  if (clashes.length > 0) {
    const list = clashes.slice(0, 10).join('; ') + (clashes.length > 10 ? `; … and ${clashes.length - 10} more` : '');
    throw new InvalidArgumentError('out', `${clashes.length} output file(s) would be written twice: ${list}`);
  }
  for (const [f, flag] of checks) await guard.checkFile(f, flag, resume);
}

export { OutputGuard };
