/**
 * The `maskbox detect` flags that change what the detector computes: how it is loaded (`--layout`,
 * `--input-size`, `--input-scale`, `--channel-stretch`) and how it is run (`--conf`, `--iou`,
 * `--max-det`, `--agnostic`, `--tile`, `--overlap`, `--full-frame`, `--flip-tta`). One parser for
 * `maskbox detect` (and so its `--shard I/N` runs) and `maskbox submit detect`, so that both take the
 * same values with the same errors, and a distributed run computes what the local command does.
 */
import { InvalidArgumentError } from '../errors.js';
import { DETECTOR_LAYOUTS, type DetectorLayout } from '../model/layouts.js';
import { intFlag, numberFlag } from './command.js';

/** parseArgs options of the detector flags. */
export const DETECTOR_FLAGS = {
  conf: { type: 'string' },
  iou: { type: 'string' },
  'max-det': { type: 'string' },
  agnostic: { type: 'boolean' },
  layout: { type: 'string' },
  tile: { type: 'string' },
  overlap: { type: 'string' },
  'full-frame': { type: 'boolean' },
  'flip-tta': { type: 'boolean' },
  'input-size': { type: 'string' },
  'input-scale': { type: 'string' },
  'channel-stretch': { type: 'string' },
} as const;

/** Usage lines for {@link DETECTOR_FLAGS}. */
export const DETECTOR_USAGE =
  '  --conf, --iou, --max-det YOLOv5 post-process: keep score > conf, NMS suppresses IoU > iou (0.4, 0.45, 1000)\n' +
  '  --agnostic               class-agnostic NMS\n' +
  '  --layout yolov5|yolov6|yolov8|end2end  the output layout when it cannot be inferred (default: inferred)\n' +
  '  --tile PX|auto|0         sliced inference: tiles of PX image pixels (auto: from the model input and the\n' +
  '                           frame size), boxes merged across seams; --overlap 0.2; --full-frame adds a whole-frame pass\n' +
  '  --flip-tta               also detect on the mirrored image and fuse both (weighted boxes fusion)\n' +
  "  --input-size PX          run a dynamic-size model at PX x PX (default: the model's size, or its own rule:\n" +
  '                           the bundled model runs a frame at 0.75x its size, 2048² -> 1536, 640..1536)\n' +
  '  --input-scale S          dynamic-size models: input side = frame side x S (multiple of 32, 640..1536)\n' +
  '  --channel-stretch LO,HI|none  stretch each colour channel of a frame so its LO and HI percentiles map to\n' +
  "                           black and white (default: the model's own, from its metadata: the bundled model\n" +
  '                           uses 1,99.99, which removes camera offset and gain; none: off)\n';

/** Values of {@link DETECTOR_FLAGS} after parsing (parseArgs: a string, or a boolean for switches). */
export type DetectorFlagValues = {
  [K in keyof typeof DETECTOR_FLAGS]?: (typeof DETECTOR_FLAGS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The `Detector.load` options the flags set (absent: the model's own). */
export interface DetectorLoadFlags {
  layout?: DetectorLayout;
  /** `--input-size PX`, or `--input-scale S` as `{ scale: S }`. */
  inputSize?: number | { scale: number };
  /** `[LO, HI]` percent; null: off (`none`); absent: the model's metadata default. */
  channelStretch?: [number, number] | null;
}

/** The `Detector.detect` options the flags set. */
export interface DetectorRunFlags {
  conf: number;
  iou: number;
  maxDetections: number;
  agnostic: boolean;
  /** Absent: no tiling. */
  tile?: number | 'auto';
  overlap: number;
  fullFrame: boolean;
  flipTta: boolean;
}

/** `maskbox detect`'s defaults for {@link DetectorRunFlags}. */
export const DETECT_DEFAULTS: Readonly<DetectorRunFlags> = {
  conf: 0.4,
  iou: 0.45,
  maxDetections: 1000,
  agnostic: false,
  overlap: 0.2,
  fullFrame: false,
  flipTta: false,
};

/**
 * Check the detector flags and turn them into `Detector.load` and `Detector.detect` options.
 * @throws InvalidArgumentError naming the flag for a bad value
 */
export function parseDetectorFlags(v: DetectorFlagValues): {
  loadOptions: DetectorLoadFlags;
  detectOptions: DetectorRunFlags;
} {
  const d = DETECT_DEFAULTS;
  const detectOptions: DetectorRunFlags = {
    conf: numberFlag('conf', v.conf, d.conf, { min: 0, max: 1 }),
    iou: numberFlag('iou', v.iou, d.iou, { min: 0, max: 1 }),
    maxDetections: intFlag('max-det', v['max-det'], d.maxDetections, 1, 1 << 20),
    agnostic: v.agnostic ?? d.agnostic,
    ...(v.tile !== undefined ? { tile: parseTile(v.tile) } : {}),
    overlap: numberFlag('overlap', v.overlap, d.overlap, { min: 0, max: 0.9 }),
    fullFrame: v['full-frame'] ?? d.fullFrame,
    flipTta: v['flip-tta'] ?? d.flipTta,
  };
  if (v['input-size'] !== undefined && v['input-scale'] !== undefined)
    throw new InvalidArgumentError('input-size', '--input-size and --input-scale cannot be combined');
  const inputSize =
    v['input-size'] !== undefined
      ? intFlag('input-size', v['input-size'], undefined, 32, 16384)
      : v['input-scale'] !== undefined
        ? { scale: numberFlag('input-scale', v['input-scale'], undefined, { min: 0.01, max: 8 }) }
        : undefined;
  const channelStretch = parseChannelStretch(v['channel-stretch']);
  const loadOptions: DetectorLoadFlags = {
    ...(v.layout !== undefined ? { layout: parseLayout(v.layout) } : {}),
    ...(inputSize !== undefined ? { inputSize } : {}),
    ...(channelStretch !== undefined ? { channelStretch } : {}),
  };
  return { loadOptions, detectOptions };
}

/** `--layout yolov5|yolov6|yolov8|end2end`. */
function parseLayout(text: string): DetectorLayout {
  if (!(DETECTOR_LAYOUTS as readonly string[]).includes(text))
    throw new InvalidArgumentError(
      'layout',
      `Expected one of ${DETECTOR_LAYOUTS.join(', ')} for --layout but received '${text}'`,
    );
  return text as DetectorLayout;
}

/** `--tile PX|auto|0`: 0 is off, PX at least 32. */
function parseTile(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  const tile = intFlag('tile', text, undefined, 0, 1 << 16);
  if (tile !== 0 && tile < 32)
    throw new InvalidArgumentError(
      'tile',
      `Expected 0 (off), auto or an integer >= 32 for --tile but received '${text}'`,
    );
  return tile;
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
