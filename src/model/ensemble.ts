/**
 * Hard voting across several submission CSVs (`image_name,class,rle`): a pixel is in the ensemble's
 * mask when at least `minVotes` of the N inputs have it (default a strict majority, `floor(N/2) + 1`).
 *
 * Computed on runs, never on decoded masks: each row's RLE becomes sorted `start, length` runs, and
 * one sweep over the run boundaries of the N rows counts the votes (O(total runs · log)). The CSVs are
 * streamed in lockstep while their rows come in the same order (the usual case: the same pipeline
 * wrote them); on the first row whose key differs, the rest of every file is indexed by
 * `(image_name, class)` and matched by key, so any row order works. A row missing from one input
 * (or present only in some) is an error naming it.
 */
import { ParseError } from '../errors.js';
import {
  readSubmissionRows,
  SubmissionCsvWriter,
  submissionKey,
  type CsvInput,
  type SubmissionRecord,
  type SubmissionRow,
} from '../io/submissionCsv.js';
import { formatRle, parseRle } from '../ops/rle.js';
import { checkInteger, invalid } from '../validate.js';

/** Options of {@link hardVoteRows}. */
export interface HardVoteOptions {
  /** Votes a pixel needs. Default `floor(N/2) + 1` (strict majority). */
  minVotes?: number;
  /** Mask size, to check that every run lies inside the image. Default: unchecked (up to 2^32 - 1 pixels). */
  height?: number;
  width?: number;
}

/**
 * Pixels covered by at least `minVotes` of the run lists (each sorted, non-overlapping, 0-based
 * `start, length` pairs). Returns maximal runs in the same form.
 * @example voteRuns([Uint32Array.of(0, 4), Uint32Array.of(2, 4), Uint32Array.of(3, 1)], 2) // [2, 2]
 */
export function voteRuns(lists: readonly Uint32Array[], minVotes: number): Uint32Array {
  let total = 0;
  for (const l of lists) total += l.length / 2;
  const starts = new Float64Array(total),
    ends = new Float64Array(total);
  let n = 0;
  for (const l of lists) {
    for (let k = 0; k < l.length; k += 2) {
      starts[n] = l[k]!;
      ends[n++] = l[k]! + l[k + 1]!;
    }
  }
  starts.sort();
  ends.sort();
  const out: number[] = [];
  let i = 0,
    j = 0,
    count = 0,
    runStart = -1;
  while (i < n || j < n) {
    const pos = Math.min(i < n ? starts[i]! : Infinity, j < n ? ends[j]! : Infinity);
    while (i < n && starts[i] === pos) (count++, i++);
    while (j < n && ends[j] === pos) (count--, j++);
    if (runStart < 0 && count >= minVotes) runStart = pos;
    else if (runStart >= 0 && count < minVotes) {
      if (pos > runStart) out.push(runStart, pos - runStart);
      runStart = -1;
    }
  }
  return Uint32Array.from(out);
}

function sourceOf(input: CsvInput): string {
  return typeof input === 'string' ? input : (input.name ?? 'csv');
}

/**
 * Stream the hard-voted rows of several submission CSVs, in the first input's row order.
 * @param inputs two or more CSVs (paths, or `{ text, name }`)
 * @param options `minVotes` (default strict majority), `height`/`width` to bound the runs
 * @throws InvalidArgumentError for fewer than 2 inputs or `minVotes` outside 1..N
 * @throws ParseError naming the file and line for a malformed CSV or RLE, a duplicate row, or a row
 *   missing from one of the inputs
 * @example for await (const row of hardVoteRows(['a.csv', 'b.csv', 'c.csv'])) console.log(row.rle);
 */
export async function* hardVoteRows(
  inputs: readonly CsvInput[],
  options: HardVoteOptions = {},
): AsyncGenerator<SubmissionRow> {
  if (!Array.isArray(inputs) || inputs.length < 2) invalid('inputs', 'two or more submission CSVs', inputs);
  const N = inputs.length;
  const minVotes = checkInteger('minVotes', options.minVotes ?? Math.floor(N / 2) + 1, 1, N);
  let pixels = 0xffffffff;
  if (options.height !== undefined || options.width !== undefined) {
    pixels = checkInteger('height', options.height, 1) * checkInteger('width', options.width, 1);
  }
  const sources = inputs.map(sourceOf);
  const vote = (rows: SubmissionRecord[]): SubmissionRow => {
    const runs = rows.map((r, k) => parseRle(r.rle, pixels, sources[k], r.line));
    return { image_name: rows[0]!.image_name, class: rows[0]!.class, rle: formatRle(voteRuns(runs, minVotes)) };
  };
  const iters = inputs.map((inp) => readSubmissionRows(inp)[Symbol.asyncIterator]());
  const seen = new Set<string>();
  const dup = (k: number, r: SubmissionRecord) => {
    throw new ParseError(sources[k]!, `duplicate row for image '${r.image_name}', class '${r.class}'`, r.line);
  };
  // Lockstep while the keys agree.
  let pending: (SubmissionRecord | undefined)[] = [];
  for (;;) {
    pending = await Promise.all(iters.map(async (it) => (await it.next()).value as SubmissionRecord | undefined));
    const first = pending[0];
    if (pending.every((r) => r === undefined)) return;
    if (!first || pending.some((r) => !r || r.image_name !== first.image_name || r.class !== first.class)) break;
    const key = submissionKey(first.image_name, first.class);
    if (seen.has(key)) dup(0, first);
    seen.add(key);
    yield vote(pending as SubmissionRecord[]);
  }
  // Orders differ: index the rest of every input by key, then follow the first input's order.
  const maps: Map<string, SubmissionRecord>[] = [];
  for (let k = 0; k < N; k++) {
    const m = new Map<string, SubmissionRecord>();
    const add = (r: SubmissionRecord) => {
      const key = submissionKey(r.image_name, r.class);
      if (m.has(key) || seen.has(key)) dup(k, r);
      m.set(key, r);
    };
    if (pending[k]) add(pending[k]!);
    for (let r = await iters[k]!.next(); !r.done; r = await iters[k]!.next()) add(r.value);
    maps.push(m);
  }
  for (const [key, first] of maps[0]!) {
    const rows = maps.map((m, k) => {
      const r = m.get(key);
      if (!r)
        throw new ParseError(
          sources[k]!,
          `no row for image '${first.image_name}', class '${first.class}' (present in ${sources[0]} line ${first.line})`,
        );
      m.delete(key);
      return r;
    });
    yield vote(rows);
  }
  for (let k = 1; k < N; k++) {
    for (const r of maps[k]!.values()) {
      throw new ParseError(
        sources[0]!,
        `no row for image '${r.image_name}', class '${r.class}' (present in ${sources[k]} line ${r.line})`,
      );
    }
  }
}

/**
 * Hard-vote several submission CSVs into a new one.
 * @param inputs two or more CSVs
 * @param dest output path (created or truncated)
 * @returns the number of rows written
 * @throws as {@link hardVoteRows}
 * @example await hardVoteCsv(['fold0.csv', 'fold1.csv', 'fold2.csv'], 'ensemble.csv');
 */
export async function hardVoteCsv(
  inputs: readonly CsvInput[],
  dest: string,
  options: HardVoteOptions = {},
): Promise<{ rows: number }> {
  const gen = hardVoteRows(inputs, options);
  const first = await gen.next(); // surface argument and header errors before creating the file
  const writer = new SubmissionCsvWriter(dest);
  try {
    if (!first.done) await writer.write(first.value);
    for await (const row of gen) await writer.write(row);
  } finally {
    await writer.close();
  }
  return { rows: writer.rows };
}
