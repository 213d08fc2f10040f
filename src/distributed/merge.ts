/**
 * `merge`: combine the file outputs of a batch split with `--shard I/N` into the file the unsplit command
 * writes, byte for byte: CSVs (the combined detections CSV, the submission CSV) are concatenated in shard
 * order under one header; COCO results are re-written through the same writer, image by image. Each
 * shard's `<out>.shard.json` says which block it holds; a missing, repeated or foreign shard is an error.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InvalidArgumentError, ParseError } from '../errors.js';
import {
  CocoResultsWriter,
  cocoImagesPath,
  type CocoCategory,
  type CocoImage,
  type CocoResult,
} from '../io/cocoResults.js';
import { readLines } from '../pipeline/inputs.js';
import { shardInfoPath, type ShardInfo } from './shard.js';

/** What {@link mergeShards} wrote. */
export interface MergeResult {
  out: string;
  kind: 'csv' | 'coco';
  shards: number;
  /** Inputs covered (the unsplit batch's size). */
  total: number;
}

async function readInfo(path: string): Promise<ShardInfo> {
  const p = shardInfoPath(path);
  if (!existsSync(p))
    throw new InvalidArgumentError('inputs', `${path} has no ${basename(p)}: not the output of a --shard run`);
  try {
    return JSON.parse(await readFile(p, 'utf8')) as ShardInfo;
  } catch (err) {
    throw new ParseError(p, `unreadable shard info: ${(err as Error).message}`);
  }
}

/** Check that the shards are exactly 0..N-1 of one batch, and order them. */
function order(paths: string[], infos: ShardInfo[]): { path: string; info: ShardInfo }[] {
  const items = paths.map((path, i) => ({ path, info: infos[i]! })).sort((a, b) => a.info.shard - b.info.shard);
  const n = items[0]!.info.of;
  const total = items[0]!.info.total;
  let next = 0;
  for (const [k, { path, info }] of items.entries()) {
    if (info.of !== n || info.total !== total)
      throw new InvalidArgumentError(
        'inputs',
        `${path} is shard ${info.shard}/${info.of} of ${info.total} inputs; ${items[0]!.path} is of ${n} shards over ${total}`,
      );
    if (info.shard !== k)
      throw new InvalidArgumentError(
        'inputs',
        info.shard < k ? `shard ${info.shard}/${n} is given twice (${path})` : `shard ${k}/${n} is missing`,
      );
    if (info.first !== next)
      throw new InvalidArgumentError('inputs', `${path}: shard ${k} starts at input ${info.first}, expected ${next}`);
    next += info.count;
  }
  if (items.length !== n) throw new InvalidArgumentError('inputs', `shard ${items.length}/${n} is missing`);
  if (next !== total) throw new InvalidArgumentError('inputs', `the shards cover ${next} of ${total} inputs`);
  return items;
}

/** The first line of a file, with its newline. */
async function firstLine(path: string): Promise<string> {
  for await (const line of readLines(path)) return line + '\n';
  return '';
}

async function mergeCsv(items: { path: string }[], tmp: string): Promise<void> {
  const header = await firstLine(items[0]!.path);
  const out = await open(tmp, 'w');
  try {
    await out.write(header);
    for (const { path } of items) {
      const text = await readFile(path);
      const nl = text.indexOf(0x0a);
      if (text.subarray(0, nl + 1).toString() !== header)
        throw new ParseError(path, `its header differs from ${items[0]!.path}'s ('${header.trim()}')`, 1);
      await out.write(text.subarray(nl + 1));
    }
  } finally {
    await out.close();
  }
}

async function mergeCoco(items: { path: string }[], tmp: string): Promise<void> {
  const cats = new Map<number, CocoCategory>();
  const shards: { images: CocoImage[]; byImage: Map<number, CocoResult[]> }[] = [];
  for (const { path } of items) {
    let results: CocoResult[];
    let images: { images: CocoImage[]; categories?: CocoCategory[] };
    try {
      results = JSON.parse(await readFile(path, 'utf8')) as CocoResult[];
      images = JSON.parse(await readFile(cocoImagesPath(path), 'utf8'));
    } catch (err) {
      throw new ParseError(path, `not a maskbox COCO results file with its .images.json: ${(err as Error).message}`);
    }
    const byImage = new Map<number, CocoResult[]>();
    for (const r of results) {
      const list = byImage.get(r.image_id);
      if (list) list.push(r);
      else byImage.set(r.image_id, [r]);
    }
    for (const c of images.categories ?? []) if (!cats.has(c.id)) cats.set(c.id, c);
    shards.push({ images: images.images, byImage });
  }
  const writer = await CocoResultsWriter.open(tmp, { categories: [...cats.values()].sort((a, b) => a.id - b.id) });
  for (const s of shards) for (const image of s.images) await writer.add(image, s.byImage.get(image.id) ?? []);
  await writer.close();
}

/**
 * Merge shard outputs into `out` (written under a temporary name, then renamed).
 * @throws InvalidArgumentError when a shard is missing, repeated, from another split, or `out` is one of
 *   the inputs; ParseError for an unreadable shard
 */
export async function mergeShards(paths: readonly string[], out: string): Promise<MergeResult> {
  if (paths.length === 0) throw new InvalidArgumentError('inputs', 'no shard outputs given');
  const abs = paths.map((p) => resolve(p));
  const target = resolve(out);
  if (abs.includes(target))
    throw new InvalidArgumentError('out', `--out ${out} is one of the inputs; merging never overwrites an input`);
  const ext = extname(target).toLowerCase();
  if (ext !== '.csv' && ext !== '.json')
    throw new InvalidArgumentError('out', `Expected a .csv or .json file for --out but received '${out}'`);
  for (const p of abs)
    if (extname(p).toLowerCase() !== ext)
      throw new InvalidArgumentError('inputs', `${p}: every shard must be a ${ext} file like --out`);
  const items = order(abs, await Promise.all(abs.map(readInfo)));
  const tmp = join(dirname(target), `.${basename(target, ext)}.merge-${process.pid}${ext}`);
  try {
    if (ext === '.csv') await mergeCsv(items, tmp);
    else await mergeCoco(items, tmp);
    await rename(tmp, target);
    if (ext === '.json') await rename(cocoImagesPath(tmp), cocoImagesPath(target));
  } catch (err) {
    await rm(tmp, { force: true });
    await rm(cocoImagesPath(tmp), { force: true });
    throw err;
  }
  return { out: target, kind: ext === '.csv' ? 'csv' : 'coco', shards: items.length, total: items[0]!.info.total };
}
