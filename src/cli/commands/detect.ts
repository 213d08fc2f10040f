/** `maskbox detect`: run an ONNX detector (the bundled vesicle model by default) over a batch of images. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError, ModelError } from '../../errors.js';
import { Detector } from '../../model/detector.js';
import { defaultInferenceThreads, EXECUTION_PROVIDERS, type ExecutionProvider } from '../../model/session.js';
import { DETECTOR_LAYOUTS } from '../../model/layouts.js';
import { defaultModelPath } from '../../pipeline/defaultModel.js';
import { letterboxDecoder } from '../../pipeline/decode.js';
import { detectorProcessor } from '../../pipeline/processors.js';
import { intFlag, parseFlags, type Command } from '../command.js';
import { OUTPUT_FLAGS, OUTPUT_USAGE, prepareDetectionRun, runDetectionCommand } from '../detectionCli.js';
import { DETECTOR_FLAGS, DETECTOR_USAGE, parseDetectorFlags } from '../detectorFlags.js';

const options = {
  ...OUTPUT_FLAGS,
  ...DETECTOR_FLAGS,
  model: { type: 'string' },
  provider: { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  'fast-decode': { type: 'boolean' },
} as const;

/** `maskbox detect <inputs...>`. */
export const detectCommand: Command = {
  path: ['detect'],
  summary: 'Detect objects in images with an ONNX model (default: the bundled vesicle detector)',
  usage:
    'maskbox detect <files|dirs|globs|zip...> [--model M.onnx] [--conf 0.4] [--iou 0.45] [--max-det 1000]\n' +
    '    [--out DIR|file.csv|file.json] [--format csv|coco|yolo] [--overlay DIR] [--resume] [--json]\n' +
    '  --model M.onnx           YOLOv5/v6/v8/11 or end2end ONNX detector (default: models/cdv-yolov6-tiny.onnx)\n' +
    DETECTOR_USAGE +
    '  --provider cpu|cuda|webgpu  the execution provider (default cpu)\n' +
    '  --batch N                images per inference run (default 1; the model fixes it if its batch is fixed)\n' +
    '  --threads N              onnxruntime threads, not spinning (default: half the cores, at least 2;\n' +
    '                           the next images decode meanwhile)\n' +
    '  --fast-decode            decode straight to the model input size (libvips resize while decoding; JPEG\n' +
    '                           shrink-on-load): faster, but the pixels differ from the reference letterbox\n' +
    '                           (accuracy: docs/performance.md); not with --tile or --overlay\n' +
    OUTPUT_USAGE,
  async run(argv) {
    const { values: v, positionals } = parseFlags(() =>
      parseArgs({ args: argv, options, allowPositionals: true, strict: true }),
    );
    const batch = intFlag('batch', v.batch, 1, 1, 4096);
    const threads = intFlag('threads', v.threads, defaultInferenceThreads(), 1, 1024);
    const { loadOptions, detectOptions } = parseDetectorFlags(v);
    const { tile } = detectOptions;
    const fastDecode = v['fast-decode'] ?? false;
    if (fastDecode && ((tile !== undefined && tile !== 0) || v.overlay !== undefined)) {
      throw new InvalidArgumentError(
        'fast-decode',
        `--fast-decode decodes frames at the model's input size; it cannot be combined with ${tile !== undefined && tile !== 0 ? '--tile' : '--overlay'}`,
      );
    }
    const provider = (v.provider ?? 'cpu') as ExecutionProvider;
    if (!EXECUTION_PROVIDERS.includes(provider)) {
      throw new InvalidArgumentError(
        'provider',
        `Expected one of ${EXECUTION_PROVIDERS.join(', ')} for --provider but received '${v.provider}'`,
      );
    }
    const model = v.model ?? defaultModelPath();
    if (v.model === undefined && !existsSync(model)) {
      throw new ModelError(`the bundled model is missing (${model}); pass --model M.onnx`);
    }
    const prepared = await prepareDetectionRun(positionals, v, [model]);
    const detector = await Detector.load(model, {
      executionProviders: provider,
      intraOpNumThreads: threads,
      spinning: false,
      ...loadOptions,
    }).catch((err: unknown) => {
      if (err instanceof ModelError && err.message.includes('`layout`'))
        throw new ModelError(`${err.message} (on the command line: --layout ${DETECTOR_LAYOUTS.join('|')})`);
      throw err;
    });
    try {
      const perRun = detector.input.batch ?? batch;
      return await runDetectionCommand(prepared, {
        processor: detectorProcessor(detector, detectOptions, perRun),
        ...(fastDecode ? { decode: letterboxDecoder((w, h) => detector.inputSizeFor(w, h)) } : {}),
        info: {
          model,
          provider: detector.provider,
          layout: detector.layout,
          input: describeInputSize(detector),
          ...(detector.channelStretch ? { 'channel stretch': `${detector.channelStretch.join('..')} %` } : {}),
          ...(tile !== undefined
            ? { tile, overlap: detectOptions.overlap, 'full frame': String(detectOptions.fullFrame) }
            : {}),
          ...(detectOptions.flipTta ? { 'flip tta': 'true' } : {}),
          threads,
          ...(fastDecode ? { 'fast decode': 'true' } : {}),
        },
      });
    } finally {
      await detector.dispose();
    }
  },
};

/** The input size for the summary: fixed, or the per-frame rule. */
function describeInputSize(d: Detector): string {
  const a = d.autoInputSize;
  if (!a) return `${d.inputSize[0]}x${d.inputSize[1]}`;
  return `frame side x ${a.scale}, multiple of 32 in ${a.min}..${a.max} (2048x2048 -> ${d.inputSizeFor(2048, 2048)[0]})`;
}
