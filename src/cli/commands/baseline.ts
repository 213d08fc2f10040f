/**
 * `maskbox baseline`: the lab's DBSCAN baseline detector (src/ops/baseline.ts) over a batch of images,
 * with the same outputs as `maskbox detect`, and the library's defaults (BASELINE_DEFAULTS: scale
 * 'unit', boxes `[min, max+1]`). Each box's confidence is its cluster's size n as `n / (n + 100)`
 * (baselineScore), class 0. 16-bit images are brought to 8 bits as OpenCV's `imread` does (`v >> 8`),
 * since the baseline's threshold is defined on 8-bit pixels.
 */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import { BASELINE_DEFAULTS, dbscanBaseline, type BaselineOptions } from '../../ops/baseline.js';
import type { DetectionLike } from '../../pipeline/detectionSinks.js';
import type { DecodedImage, Processor } from '../../pipeline/runner.js';
import { intFlag, numberFlag, parseFlags, type Command } from '../command.js';
import { OUTPUT_FLAGS, OUTPUT_USAGE, prepareDetectionRun, runDetectionCommand } from '../detectionCli.js';

const options = {
  ...OUTPUT_FLAGS,
  eps: { type: 'string' },
  'min-samples': { type: 'string' },
  passes: { type: 'string' },
  scale: { type: 'string' },
  box: { type: 'string' },
} as const;

/** 8-bit pixels for the baseline: 16-bit samples shifted right by 8 (OpenCV's imread conversion). */
export function to8bit(image: DecodedImage): Uint8Array {
  if (image.data instanceof Uint8Array) return image.data;
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i]! >> 8;
  return out;
}

/** A runner processor for the DBSCAN baseline: boxes scored `n / (n + 100)` by cluster size, class 0. */
export function baselineProcessor(
  opts: BaselineOptions = {},
  onBackend?: (backend: string) => void,
): Processor<DetectionLike> {
  return {
    async process(job) {
      const { width, height, channels } = job.image;
      const r = await dbscanBaseline({ data: to8bit(job.image), width, height, channels }, opts);
      onBackend?.(r.backend);
      const k = r.boxes.length / 4;
      return { boxes: r.boxes, scores: r.scores, classes: new Int32Array(k) };
    },
  };
}

/** `maskbox baseline <inputs...>`. */
export const baselineCommand: Command = {
  path: ['baseline'],
  summary: "Detect vesicles with the lab's DBSCAN baseline (same outputs as detect)",
  usage:
    'maskbox baseline <files|dirs|globs|zip...> [--out DIR|file.csv|file.json] [--format csv|coco|yolo] [--overlay DIR]\n' +
    '    [--eps 3] [--min-samples 2] [--passes 5] [--scale unit|raw] [--box edges|minmax] [--resume] [--json]\n' +
    "  3x3 filter (weights 1, centre 10, bias -11, > 0) x passes over 0..1 pixels (--scale unit, the lab's),\n" +
    '  DBSCAN(eps, min_samples) on the kept pixels, one box per cluster spanning its pixels [min, max+1]\n' +
    '  (--box edges). Confidence n/(n+100) for a cluster of n pixels (so AP can rank boxes), class 0.\n' +
    OUTPUT_USAGE,
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    for (const [flag, allowed] of [
      ['scale', ['raw', 'unit']],
      ['box', ['minmax', 'edges']],
    ] as const) {
      const val = v[flag];
      if (val !== undefined && !(allowed as readonly string[]).includes(val)) {
        throw new InvalidArgumentError(
          flag,
          `Expected one of ${allowed.join(', ')} for --${flag} but received '${val}'`,
        );
      }
    }
    const opts: BaselineOptions = {
      eps: numberFlag('eps', v.eps, BASELINE_DEFAULTS.eps, { above: 0 }),
      minSamples: intFlag('min-samples', v['min-samples'], BASELINE_DEFAULTS.minSamples, 1),
      passes: intFlag('passes', v.passes, BASELINE_DEFAULTS.passes, 0, 1000),
      scale: (v.scale ?? BASELINE_DEFAULTS.scale) as 'raw' | 'unit',
      box: (v.box ?? BASELINE_DEFAULTS.box) as 'minmax' | 'edges',
    };
    const prepared = await prepareDetectionRun(positionals, v);
    const ran = new Set<string>();
    return runDetectionCommand(prepared, {
      processor: baselineProcessor(opts, (b) => ran.add(b)),
      backends: () => ran,
      info: {
        detector: 'dbscan-baseline',
        eps: opts.eps!,
        'min samples': opts.minSamples!,
        passes: opts.passes!,
        scale: opts.scale!,
        box: opts.box!,
      },
    });
  },
};
