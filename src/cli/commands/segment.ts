/**
 * `maskbox segment`: run one or several segmentation models (K-fold soft ensemble, optional flip TTA)
 * over a batch of images into the hand-bone competition's submission CSV (`image_name,class,rle`).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { readSubmissionRows, formatSubmissionCsv, SUBMISSION_HEADER } from '../../io/submissionCsv.js';
import { Segmenter, type Segmentation } from '../../model/segmenter.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../model/session.js';
import { OutputGuard } from '../../io/files.js';
import { parseShard, shardRange, writeShardInfo } from '../../distributed/shard.js';
import { listInputs } from '../../pipeline/inputs.js';
import { describeRecovery, JournaledFile } from '../../pipeline/journal.js';
import { runBatch, type Sink } from '../../pipeline/runner.js';
import { tuneMallocForBatches } from '../mallocTuning.js';
import { backendSummary } from '../backend.js';
import { intFlag, numberFlag, parseFlags, requireFlag, type Command } from '../command.js';
import { printSummary } from '../detectionCli.js';
import { checkOutputFile, inputFiles } from '../outputs.js';

const options = {
  model: { type: 'string', multiple: true },
  tta: { type: 'boolean' },
  threshold: { type: 'string' },
  'input-size': { type: 'string' },
  provider: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  concurrency: { type: 'string' },
  prefetch: { type: 'string' },
  json: { type: 'boolean' },
  shard: { type: 'string' },
} as const;

const HEADER = SUBMISSION_HEADER.join(',') + '\n';

/** Image names already in a submission CSV (resume from a finished file). */
async function* submissionNames(path: string): AsyncGenerator<string> {
  let last: string | undefined;
  for await (const row of readSubmissionRows(path)) {
    if (row.image_name !== last) yield (last = row.image_name);
  }
}

/**
 * A streaming, resumable submission CSV sink: rows of each image in class order, images in input order.
 * `image_name` is the file's basename; two inputs with the same basename are an error for the second.
 */
export async function submissionSink(path: string, resume: boolean): Promise<Sink<Segmentation>> {
  const file = await JournaledFile.open(path, { header: HEADER, resume, namesFromFile: submissionNames });
  const written = new Set<string>();
  const note = describeRecovery(path, file.recovery);
  return {
    notes: () => (note ? [note] : []),
    done: (input) => file.has(basename(input.name)),
    async write(job, seg) {
      const name = basename(job.input.name);
      if (written.has(name)) throw new InvalidArgumentError('inputs', `two inputs share the image_name '${name}'`);
      written.add(name);
      await file.append(name, formatSubmissionCsv(seg.rows).slice(HEADER.length));
    },
    close: () => file.close(),
  };
}

/** `maskbox segment <inputs...> --model M [--model M2 ...] --out submission.csv`. */
export const segmentCommand: Command = {
  path: ['segment'],
  summary: 'Segment images with ONNX models into a submission CSV (image_name,class,rle)',
  usage:
    'maskbox segment <files|dirs|globs|zip...> --model M.onnx [--model M2.onnx ...] [--tta] [--threshold 0.5]\n' +
    '    --out submission.csv [--input-size 512] [--provider cpu|cuda|webgpu] [--resume] [--json]\n' +
    '  Several --model: probabilities averaged (K-fold soft ensemble). --tta: horizontal-flip averaging.\n' +
    '  One row per image per class in class order (29 hand bones), RLE row-major 1-based; image_name = basename.\n' +
    '  --resume continues an interrupted --out; --overwrite replaces an existing --out (else an error).\n' +
    '  The CSV is built as OUT.partial and renamed when complete. Exit 1 if any image failed (the others are written).\n' +
    '  --shard I/N: only the I-th of N contiguous blocks of the inputs (0-based); combine with maskbox merge.',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    const models = v.model ?? [];
    if (models.length === 0)
      throw new InvalidArgumentError('model', 'missing required flag --model (repeat it for an ensemble)');
    const out = requireFlag('out', v.out);
    if (positionals.length === 0)
      throw new InvalidArgumentError(
        'inputs',
        'no inputs given: pass image files, directories, globs or .zip archives',
      );
    const threshold = numberFlag('threshold', v.threshold, 0.5, { min: 0, max: 1 });
    const inputSize =
      v['input-size'] === undefined ? undefined : intFlag('input-size', v['input-size'], undefined, 1, 16384);
    const concurrency = intFlag('concurrency', v.concurrency, 1, 1, 1024);
    const prefetch = intFlag('prefetch', v.prefetch, 2, 0, 1024);
    const resume = v.resume ?? false;
    if (resume && v.overwrite)
      throw new InvalidArgumentError(
        'overwrite',
        '--resume continues existing outputs; it cannot be combined with --overwrite',
      );
    const provider = (v.provider ?? 'cpu') as ExecutionProvider;
    if (!EXECUTION_PROVIDERS.includes(provider)) {
      throw new InvalidArgumentError(
        'provider',
        `Expected one of ${EXECUTION_PROVIDERS.join(', ')} for --provider but received '${v.provider}'`,
      );
    }
    const all = await listInputs(positionals);
    if (all.length === 0) throw new InvalidArgumentError('inputs', `no images found in: ${positionals.join(' ')}`);
    const shard = parseShard(v.shard);
    const range = shard ? shardRange(all.length, shard) : { first: 0, count: all.length };
    const inputs = all.slice(range.first, range.first + range.count);
    const shardInfo = shard ? { shard: shard.index, of: shard.count, ...range, total: all.length } : undefined;
    const byBase = new Map<string, string[]>();
    for (const i of all) byBase.set(basename(i.name), [...(byBase.get(basename(i.name)) ?? []), i.origin]);
    const clashes = [...byBase].filter(([, list]) => list.length > 1);
    if (clashes.length > 0)
      throw new InvalidArgumentError(
        'inputs',
        `image_name is the file's basename, and ${clashes.length} basename(s) are shared: ` +
          clashes
            .slice(0, 10)
            .map(([b, list]) => `${b} (${list.join(', ')})`)
            .join('; '),
      );
    const guard = new OutputGuard(v.overwrite ?? false);
    await guard.addInputs([...inputFiles(inputs), ...models]);
    await checkOutputFile(guard, out, 'out', resume);
    const seg = await Segmenter.load(models, {
      threshold,
      flip: v.tta ?? false,
      inputSize,
      executionProviders: provider,
    });
    try {
      let masks = 0;
      const sink = await submissionSink(out, resume);
      for (const n of sink.notes?.() ?? []) process.stderr.write(`maskbox: ${n}\n`);
      const malloc = tuneMallocForBatches();
      const summary = await runBatch<Segmentation>({
        inputs,
        firstIndex: range.first,
        processor: { process: (job) => seg.segment(job.image, { name: basename(job.input.name) }) },
        sinks: [sink],
        reuseBuffers: true, // our sinks and processors keep no pixels past write()
        concurrency,
        prefetch,
        resume,
        total: inputs.length,
        onResult: (_job, r) => (masks += r.areas.filter((a) => a > 0).length),
      });
      await writeShardInfo(out, shardInfo);
      const info = {
        models: models.length,
        tta: v.tta ? 'flip' : 'off',
        provider: seg.provider,
        backend: backendSummary(),
        malloc,
      };
      printSummary(summary, { 'non-empty masks': masks }, { submission: out }, info, v.json ?? false);
      return summary.failed > 0 ? 1 : 0;
    } finally {
      await seg.dispose();
    }
  },
};
