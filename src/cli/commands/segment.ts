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
import { parseShard, shardInputs, writeShardInfo } from '../../distributed/shard.js';
import { countInputs } from '../../pipeline/inputs.js';
import { JournaledFile } from '../../pipeline/journal.js';
import { runBatch, type Sink } from '../../pipeline/runner.js';
import { numberFlag, parseFlags, requireFlag, type Command } from '../command.js';
import { printSummary } from '../detectionCli.js';

const options = {
  model: { type: 'string', multiple: true },
  tta: { type: 'boolean' },
  threshold: { type: 'string' },
  'input-size': { type: 'string' },
  provider: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
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
  return {
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
    '  --resume continues an interrupted --out. Exit 1 if any image failed (the others are written).\n' +
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
    const threshold = numberFlag('threshold', v.threshold, 0.5);
    const inputSize = v['input-size'] === undefined ? undefined : numberFlag('input-size', v['input-size']);
    const provider = (v.provider ?? 'cpu') as ExecutionProvider;
    if (!EXECUTION_PROVIDERS.includes(provider)) {
      throw new InvalidArgumentError(
        'provider',
        `Expected one of ${EXECUTION_PROVIDERS.join(', ')} for --provider but received '${v.provider}'`,
      );
    }
    const seg = await Segmenter.load(models, {
      threshold,
      flip: v.tta ?? false,
      inputSize,
      executionProviders: provider,
    });
    try {
      const resume = v.resume ?? false;
      let masks = 0;
      const shard = await shardInputs(positionals, parseShard(v.shard));
      const summary = await runBatch<Segmentation>({
        inputs: shard.inputs,
        firstIndex: shard.firstIndex,
        processor: { process: (job) => seg.segment(job.image, { name: basename(job.input.name) }) },
        sinks: [await submissionSink(out, resume)],
        concurrency: numberFlag('concurrency', v.concurrency, 1),
        prefetch: numberFlag('prefetch', v.prefetch, 2),
        resume,
        total: process.stderr.isTTY ? await countInputs(positionals) : undefined,
        onResult: (_job, r) => (masks += r.areas.filter((a) => a > 0).length),
      });
      if (summary.total === 0 && !shard.info)
        throw new InvalidArgumentError('inputs', `no images found in: ${positionals.join(' ')}`);
      await writeShardInfo(out, shard.info);
      const info = { models: models.length, tta: v.tta ? 'flip' : 'off', provider: seg.provider };
      printSummary(summary, { 'non-empty masks': masks }, { submission: out }, info, v.json ?? false);
      return summary.failed > 0 ? 1 : 0;
    } finally {
      await seg.dispose();
    }
  },
};
