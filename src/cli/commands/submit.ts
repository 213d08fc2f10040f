/** `maskbox submit detect|baseline|segment`: enqueue a distributed run on BullMQ + Redis (src/distributed). */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { submit } from '../../distributed/submit.js';
import { RUN_KINDS, type DetectSpec, type RunKind } from '../../distributed/spec.js';
import { intFlag, numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';
import { DETECTOR_FLAGS, parseDetectorFlags, type DetectorFlagValues } from '../detectorFlags.js';

const options = {
  queue: { type: 'string' },
  run: { type: 'string' },
  chunk: { type: 'string' },
  attempts: { type: 'string' },
  'backoff-ms': { type: 'string' },
  work: { type: 'string' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
  // the local commands' flags that change what is computed or written
  out: { type: 'string' },
  format: { type: 'string' },
  overlay: { type: 'string' },
  labels: { type: 'boolean' },
  'coco-gt': { type: 'string' },
  model: { type: 'string', multiple: true },
  ...DETECTOR_FLAGS,
  batch: { type: 'string' },
  eps: { type: 'string' },
  'min-samples': { type: 'string' },
  passes: { type: 'string' },
  scale: { type: 'string' },
  box: { type: 'string' },
  tta: { type: 'boolean' },
  threshold: { type: 'string' },
} as const;

/** Flags that only one kind takes. */
const ONLY: Record<string, RunKind[]> = {
  format: ['detect', 'baseline'],
  overlay: ['detect', 'baseline'],
  labels: ['detect', 'baseline'],
  'coco-gt': ['detect', 'baseline'],
  ...Object.fromEntries(Object.keys(DETECTOR_FLAGS).map((f): [string, RunKind[]] => [f, ['detect']])),
  batch: ['detect'],
  eps: ['baseline'],
  'min-samples': ['baseline'],
  passes: ['baseline'],
  scale: ['baseline'],
  box: ['baseline'],
  model: ['detect', 'segment'],
  tta: ['segment'],
  threshold: ['segment'],
  'input-size': ['detect', 'segment'],
};

/** Usage lines: the local command's flags that `submit <kind>` forwards to the workers, from {@link ONLY}. */
const FORWARDED = RUN_KINDS.map((k) => {
  const lines: string[] = [];
  for (const f of ['out', ...Object.keys(ONLY).filter((f) => ONLY[f]!.includes(k))]) {
    if (lines.length > 0 && lines.at(-1)!.length + f.length < 94) lines[lines.length - 1] += ` --${f}`;
    else lines.push(`--${f}`);
  }
  return `    ${k.padEnd(10)}${lines.join('\n' + ' '.repeat(14))}\n`;
}).join('');

/** `maskbox submit <kind> <inputs...> --queue URL --run NAME`. */
export const submitCommand: Command = {
  path: ['submit'],
  summary: 'Submit a distributed detect/baseline/segment run to a BullMQ queue on Redis (workers: maskbox worker)',
  usage:
    'maskbox submit detect|baseline|segment <files|dirs|globs|zip|urls...> --queue redis://HOST:PORT/DB --run NAME\n' +
    "    [the local command's options, below] [--chunk K] [--attempts 3] [--backoff-ms 1000] [--work DIR] [--json]\n" +
    '  One job per image (or per K images), and a parent job that writes the outputs exactly as the local\n' +
    '  command would once every image is done. Inputs and outputs must be on storage every worker can\n' +
    '  read and write (absolute paths are stored); http(s) URLs are fetched by the workers.\n' +
    '  --run NAME               names the run; submitting it again continues it (images with results are skipped)\n' +
    '  --chunk K                images per job (default 1);  --attempts N  tries per job before its images fail\n' +
    "  --work DIR               the run's work folder on shared storage (default .maskbox-run-NAME beside --out)\n" +
    '  --overwrite              replace existing outputs (a re-submitted run replaces its own without it)\n' +
    "  The local command's flags it forwards to the workers (their meaning and defaults: maskbox detect|baseline|\n" +
    "  segment --help; detect's are checked as maskbox detect checks them), so the outputs are the local command's:\n" +
    FORWARDED +
    "  Not forwarded: --provider, --threads (the worker's --backend), --fast-decode, --resume, --concurrency,\n" +
    '  --prefetch, --shard.\n' +
    '  Follow it with: maskbox status --queue URL --run NAME --watch',
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    const kind = positionals[0];
    if (kind === undefined || !(RUN_KINDS as readonly string[]).includes(kind))
      throw new InvalidArgumentError(
        'kind',
        `Expected one of ${RUN_KINDS.join(', ')} after 'maskbox submit' but received '${kind ?? ''}'`,
      );
    const k = kind as RunKind;
    for (const [flag, kinds] of Object.entries(ONLY)) {
      if ((v as Record<string, unknown>)[flag] !== undefined && !kinds.includes(k))
        throw new InvalidArgumentError(flag, `--${flag} does not apply to 'maskbox submit ${k}'`);
    }
    if (k === 'detect' && (v.model?.length ?? 0) > 1)
      throw new InvalidArgumentError('model', 'detect takes one --model');
    const num = (name: string, value: string | undefined) =>
      value === undefined ? undefined : numberFlag(name, value);
    const queue = requireFlag('queue', v.queue);
    const run = requireFlag('run', v.run);
    const r = await submit({
      queue,
      run,
      kind: k,
      inputs: positionals.slice(1),
      out: v.out,
      format: v.format,
      overlay: v.overlay,
      labels: v.labels,
      cocoGt: v['coco-gt'],
      detect: k === 'detect' ? detectRunOptions(v) : undefined,
      baseline: {
        eps: num('eps', v.eps),
        minSamples: num('min-samples', v['min-samples']),
        passes: num('passes', v.passes),
        scale: v.scale as 'raw' | 'unit' | undefined,
        box: v.box as 'minmax' | 'edges' | undefined,
      },
      segment: {
        models: v.model,
        threshold: num('threshold', v.threshold),
        tta: v.tta,
        inputSize: num('input-size', v['input-size']),
      },
      chunk: num('chunk', v.chunk),
      attempts: num('attempts', v.attempts),
      backoffMs: num('backoff-ms', v['backoff-ms']),
      workDir: v.work,
      overwrite: v.overwrite,
    });
    if (v.json) printJson(r);
    else {
      printTable(
        ['', 'value'],
        [
          ['run', r.run],
          ['state', r.state === 'in-progress' ? 'in progress (nothing added)' : 'submitted'],
          ['submission', r.generation],
          ['images', r.total],
          ['queued', r.queued],
          ['skipped (done before)', r.skipped],
          ['jobs', r.jobs],
          [`out (${r.output.kind})`, r.output.path],
          ['work folder', r.workDir],
        ],
      );
    }
    return 0;
  },
};

/** A detect run's options, parsed and checked as `maskbox detect` does. */
function detectRunOptions(v: DetectorFlagValues & { model?: string[]; batch?: string }): Partial<DetectSpec> {
  const { loadOptions, detectOptions } = parseDetectorFlags(v);
  return {
    ...(v.model !== undefined ? { model: v.model[0] } : {}),
    batch: intFlag('batch', v.batch, 1, 1, 4096),
    ...loadOptions,
    ...detectOptions,
  };
}
