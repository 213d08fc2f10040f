/** `maskbox detect`: run an ONNX detector (the bundled vesicle model by default) over a batch of images. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError, ModelError } from '../../errors.js';
import { Detector } from '../../model/detector.js';
import { checkTileOptions } from '../../model/tiling.js';
import { defaultInferenceThreads, EXECUTION_PROVIDERS, type ExecutionProvider } from '../../model/session.js';
import { DETECTOR_LAYOUTS } from '../../model/layouts.js';
import { defaultModelPath } from '../../pipeline/defaultModel.js';
import { letterboxDecoder } from '../../pipeline/decode.js';
import { detectorProcessor } from '../../pipeline/processors.js';
import { checkOneOf } from '../../validate.js';
import { intFlag, numberFlag, parseFlags, type Command } from '../command.js';
import { OUTPUT_FLAGS, OUTPUT_USAGE, prepareDetectionRun, runDetectionCommand } from '../detectionCli.js';

const options = {
  ...OUTPUT_FLAGS,
  model: { type: 'string' },
  conf: { type: 'string' },
  iou: { type: 'string' },
  'max-det': { type: 'string' },
  agnostic: { type: 'boolean' },
  provider: { type: 'string' },
  batch: { type: 'string' },
  layout: { type: 'string' },
  tile: { type: 'string' },
  overlap: { type: 'string' },
  'full-frame': { type: 'boolean' },
  'flip-tta': { type: 'boolean' },
  threads: { type: 'string' },
  'fast-decode': { type: 'boolean' },
  'input-size': { type: 'string' },
  'input-scale': { type: 'string' },
  'channel-stretch': { type: 'string' },
} as const;

/** `maskbox detect <inputs...>`. */
export const detectCommand: Command = {
  path: ['detect'],
  summary: 'Detect objects in images with an ONNX model (default: the bundled vesicle detector)',
  usage:
    'maskbox detect <files|dirs|globs|zip...> [--model M.onnx] [--conf 0.4] [--iou 0.45] [--max-det 1000]\n' +
    '    [--out DIR|file.csv|file.json] [--format csv|coco|yolo] [--overlay DIR] [--resume] [--json]\n' +
    '  --model M.onnx           YOLOv5/v6/v8/11 or end2end ONNX detector (default: models/cdv-yolov6-tiny.onnx)\n' +
    '  --conf, --iou, --max-det YOLOv5 post-process: keep score > conf, NMS suppresses IoU > iou\n' +
    '  --agnostic               class-agnostic NMS;  --provider cpu|cuda|webgpu (default cpu)\n' +
    '  --batch N                images per inference run (default 1; the model fixes it if its batch is fixed)\n' +
    '  --layout yolov5|yolov6|yolov8|end2end  the output layout when it cannot be inferred (default: inferred)\n' +
    '  --tile PX|auto|0         sliced inference: tiles of PX image pixels (auto: from the model input and the\n' +
    '                           frame size), boxes merged across seams; --overlap 0.2; --full-frame adds a whole-frame pass\n' +
    '  --flip-tta               also detect on the mirrored image and fuse both (weighted boxes fusion)\n' +
    "  --input-size PX          run a dynamic-size model at PX x PX (default: the model's size, or its own rule:\n" +
    '                           the bundled model runs a frame at half its size, 2048² -> 1024, 640..1536)\n' +
    '  --input-scale S          dynamic-size models: input side = frame side x S (multiple of 32, 640..1536)\n' +
    '  --channel-stretch LO,HI|none  stretch each colour channel of a frame so its LO and HI percentiles map to\n' +
    "                           black and white (default: the model's own, from its metadata: the bundled model\n" +
    '                           uses 1,99.99, which removes camera offset and gain; none: off)\n' +
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
    const conf = numberFlag('conf', v.conf, 0.4, { min: 0, max: 1 });
    const iou = numberFlag('iou', v.iou, 0.45, { min: 0, max: 1 });
    const maxDetections = intFlag('max-det', v['max-det'], 1000, 1, 1 << 20);
    const batch = intFlag('batch', v.batch, 1, 1, 4096);
    const threads = intFlag('threads', v.threads, defaultInferenceThreads(), 1, 1024);
    const layout = v.layout === undefined ? undefined : checkOneOf('layout', v.layout, DETECTOR_LAYOUTS);
    const tile: number | 'auto' | undefined =
      v.tile === undefined || v.tile === 'auto' ? v.tile : numberFlag('tile', v.tile);
    const tiling = {
      tile,
      overlap: numberFlag('overlap', v.overlap, 0.2),
      fullFrame: v['full-frame'] ?? false,
      flipTta: v['flip-tta'] ?? false,
    };
    checkTileOptions(tiling);
    if (v['input-size'] !== undefined && v['input-scale'] !== undefined)
      throw new InvalidArgumentError('input-size', '--input-size and --input-scale cannot be combined');
    const inputSize =
      v['input-size'] !== undefined
        ? intFlag('input-size', v['input-size'], 640, 32, 16384)
        : v['input-scale'] !== undefined
          ? { scale: numberFlag('input-scale', v['input-scale'], 0.5, { min: 0.01, max: 8 }) }
          : undefined;
    const channelStretch = parseChannelStretch(v['channel-stretch']);
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
      ...(layout ? { layout } : {}),
      ...(inputSize !== undefined ? { inputSize } : {}),
      ...(channelStretch !== undefined ? { channelStretch } : {}),
    }).catch((err: unknown) => {
      if (err instanceof ModelError && err.message.includes('`layout`'))
        throw new ModelError(`${err.message} (on the command line: --layout ${DETECTOR_LAYOUTS.join('|')})`);
      throw err;
    });
    try {
      const perRun = detector.input.batch ?? batch;
      const detectOptions = { conf, iou, maxDetections, agnostic: v.agnostic ?? false, ...tiling };
      return await runDetectionCommand(prepared, {
        processor: detectorProcessor(detector, detectOptions, perRun),
        ...(fastDecode ? { decode: letterboxDecoder((w, h) => detector.inputSizeFor(w, h)) } : {}),
        info: {
          model,
          provider: detector.provider,
          layout: detector.layout,
          input: describeInputSize(detector),
          ...(detector.channelStretch ? { 'channel stretch': `${detector.channelStretch.join('..')} %` } : {}),
          ...(tile !== undefined ? { tile, overlap: tiling.overlap, 'full frame': String(tiling.fullFrame) } : {}),
          ...(tiling.flipTta ? { 'flip tta': 'true' } : {}),
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

/** `--channel-stretch LO,HI` -> [LO, HI]; `none` -> null (off); absent -> undefined (the model's own). */
function parseChannelStretch(text: string | undefined): [number, number] | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  const parts = text.split(',');
  const [lo, hi] = parts.map((p) => numberFlag('channel-stretch', p, 0, { min: 0, max: 100 }));
  if (parts.length !== 2 || !(lo! < hi!))
    throw new InvalidArgumentError(
      'channel-stretch',
      `Expected LO,HI percentiles with LO < HI (or none) for --channel-stretch but received '${text}'`,
    );
  return [lo!, hi!];
}
