/**
 * A static split of a batch for engines that hand out indices (Kubernetes Indexed Jobs, Slurm arrays):
 * `--shard I/N` on the local commands takes the I-th of N contiguous blocks of the inputs (0-based I, in
 * the order the command lists its inputs), keeps the global input positions (so COCO image ids match the
 * unsplit run), and writes `<out>.shard.json` beside a file output so `maskbox merge` can check and
 * order the pieces. Blocks are contiguous so that merging is concatenation in shard order.
 */
import { InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../pipeline/detectionSinks.js';
import { countInputs, expandInputs, type ImageInput } from '../pipeline/inputs.js';

/** One shard of N. */
export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** What `<out>.shard.json` records. */
export interface ShardInfo {
  shard: number;
  of: number;
  /** Global position of the shard's first input, and how many inputs it has. */
  first: number;
  count: number;
  /** Inputs of the whole batch. */
  total: number;
}

/**
 * Parse `I/N` (0 <= I < N). Undefined stays undefined.
 * @throws InvalidArgumentError (argument `shard`) otherwise
 */
export function parseShard(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count || count > 1_000_000)
    throw new InvalidArgumentError('shard', `Expected I/N with 0 <= I < N for --shard but received '${text}'`);
  return { index, count };
}

/** The block `[first, first + count)` of shard `s` over `total` inputs (sizes differ by at most one). */
export function shardRange(total: number, s: Shard): { first: number; count: number } {
  const first = Math.floor((s.index * total) / s.count);
  const end = Math.floor(((s.index + 1) * total) / s.count);
  return { first, count: end - first };
}

/**
 * The inputs of one shard (names as the unsplit command gives them) and where it starts.
 * Without a shard: every input, from 0.
 */
export async function shardInputs(
  specs: readonly string[],
  shard: Shard | undefined,
): Promise<{ inputs: AsyncIterable<ImageInput>; firstIndex: number; info?: ShardInfo }> {
  if (!shard) return { inputs: expandInputs(specs), firstIndex: 0 };
  const total = await countInputs(specs);
  const { first, count } = shardRange(total, shard);
  async function* take(): AsyncGenerator<ImageInput> {
    let i = 0;
    for await (const input of expandInputs(specs)) {
      if (i >= first + count) break;
      if (i++ >= first) yield input;
    }
  }
  return { inputs: take(), firstIndex: first, info: { shard: shard.index, of: shard.count, first, count, total } };
}

/** The sidecar of a shard's file output. */
export const shardInfoPath = (outPath: string) => `${outPath}.shard.json`;

/** Write `<out>.shard.json` (file outputs only; per-image folders need no merge). */
export async function writeShardInfo(outPath: string, info: ShardInfo | undefined): Promise<void> {
  if (info) await writeFileAtomic(shardInfoPath(outPath), JSON.stringify(info) + '\n');
}
