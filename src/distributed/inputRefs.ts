/**
 * Inputs that travel through the queue: what `submit` expands on its machine (files, directories, globs,
 * `.zip` archives, as the local commands do, plus http(s) URLs) becomes a list of {@link InputRef}s that
 * any worker can read again — by absolute path on shared storage, by archive and entry, or by URL.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { ParseError } from '../errors.js';
import { expandInputs, type ImageInput } from '../pipeline/inputs.js';
import type { InputRef } from './spec.js';

/** True for an http(s) URL spec. */
export const isUrl = (spec: string) => /^https?:\/\//i.test(spec);

/** The name a URL input gets: the last path segment (decoded), or `image`. */
function urlName(url: string): string {
  try {
    const seg = new URL(url).pathname.split('/').filter(Boolean).pop();
    return seg ? decodeURIComponent(seg) : 'image';
  } catch {
    throw new ParseError(url, 'not a valid URL');
  }
}

/**
 * Expand input specs into references, in the local commands' order and with their names (URLs are
 * kept in place, named after their last path segment, made unique with `~2`, `~3`, ...).
 * @throws InvalidArgumentError when a file spec does not exist
 */
export async function expandRefs(specs: readonly string[]): Promise<InputRef[]> {
  const refs: InputRef[] = [];
  const names = new Set<string>();
  const add = (r: Omit<InputRef, 'index'>) => {
    let name = r.name;
    if (names.has(name)) {
      const dot = name.lastIndexOf('.');
      const [stem, ext] = dot > name.lastIndexOf('/') + 1 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
      for (let i = 2; names.has(name); i++) name = `${stem}~${i}${ext}`;
    }
    names.add(name);
    refs.push({ ...r, name, index: refs.length });
  };
  // Consecutive file specs expand together, exactly as the local command expands them.
  let files: string[] = [];
  const flush = async () => {
    if (files.length === 0) return;
    for await (const input of expandInputs(files)) add(toRef(input));
    files = [];
  };
  for (const spec of specs) {
    if (isUrl(spec)) {
      await flush();
      add({ name: urlName(spec), origin: spec, url: spec });
    } else files.push(spec);
  }
  await flush();
  return refs;
}

function toRef(input: ImageInput): Omit<InputRef, 'index'> {
  if (input.path !== undefined) return { name: input.name, origin: input.origin, path: resolve(input.path) };
  const bang = input.origin.toLowerCase().indexOf('.zip!');
  if (bang < 0) throw new ParseError(input.origin, 'an input that is neither a file nor a zip entry');
  const archive = resolve(input.origin.slice(0, bang + 4));
  return { name: input.name, origin: input.origin, zip: { archive, entry: input.origin.slice(bang + 5) } };
}

/** Turn a reference back into a runner input that reads it. */
export function fromRef(ref: InputRef, fetchTimeoutMs = 60_000): ImageInput {
  const base = { name: ref.name, origin: ref.origin };
  if (ref.path !== undefined) return { ...base, path: ref.path, read: () => readFile(ref.path!) };
  if (ref.zip !== undefined) {
    const { archive, entry } = ref.zip;
    return {
      ...base,
      read: async () => {
        const out = unzipSync(new Uint8Array(await readFile(archive)), { filter: (f) => f.name === entry });
        const bytes = out[entry];
        if (!bytes) throw new ParseError(ref.origin, 'zip entry could not be read');
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
    };
  }
  const url = ref.url!;
  return {
    ...base,
    read: async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs) });
      if (!res.ok) throw new ParseError(url, `HTTP ${res.status} ${res.statusText}`);
      return Buffer.from(await res.arrayBuffer());
    },
  };
}
