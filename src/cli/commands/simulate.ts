/** `maskbox simulate cdv`: write a simulated vesicle dataset with YOLO and COCO ground truth. */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import {
  CDV_PRESETS,
  resolveCdvParams,
  VESICLE_SHAPES,
  type CdvParams,
  type CdvPreset,
  type Colormap,
  type Range,
  type VesicleShape,
} from '../../sim/cdv.js';
import { CDV_FORMATS, writeCdvDataset, type CdvFormat } from '../../sim/cdvDataset.js';
import { readdir } from 'node:fs/promises';
import { prepareOutput } from '../../io/files.js';
import { intFlag, numberFlag, parseFlags, printJson, printTable, requireFlag, type Command } from '../command.js';

/** Range flags: `--<flag> a` or `--<flag> a:b`, mapped to CdvParams keys. */
const RANGE_FLAGS = {
  density: 'density',
  'box-frac': 'boxFrac',
  aspect: 'aspect',
  sites: 'sites',
  'locs-per-site': 'locsPerSite',
  'loc-precision': 'locPrecision',
  'ring-width': 'ringWidth',
  'spot-sigma': 'spotSigma',
  brightness: 'brightness',
  'spot-level': 'spotLevel',
  touching: 'touching',
  'bg-density': 'bgDensity',
  clutter: 'clutter',
  haze: 'haze',
  offset: 'offset',
  'read-noise': 'readNoise',
  'shot-noise': 'shotNoise',
  gamma: 'gamma',
  'jpeg-quality': 'jpegQuality',
  gain: 'gain',
  blinking: 'blinking',
  'unequal-pairs': 'unequalPairs',
} as const satisfies Record<string, keyof CdvParams>;

function rangeFlag(name: string, value: string): Range {
  const parts = value.split(':');
  if (parts.length > 2)
    throw new InvalidArgumentError(name, `Expected a number or lo:hi for --${name} but received '${value}'`);
  const lo = numberFlag(name, parts[0]);
  const hi = parts.length === 2 ? numberFlag(name, parts[1]) : lo;
  return [lo, hi];
}

const options = {
  n: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  size: { type: 'string' },
  format: { type: 'string' },
  preset: { type: 'string' },
  shapes: { type: 'string' },
  'min-gap': { type: 'string' },
  'jpeg-prob': { type: 'string' },
  overwrite: { type: 'boolean' },
  emccd: { type: 'string' },
  colormaps: { type: 'string' },
  json: { type: 'boolean' },
  ...Object.fromEntries(Object.keys(RANGE_FLAGS).map((k) => [k, { type: 'string' as const }])),
} as const;

export const simulateCommand: Command = {
  path: ['simulate', 'cdv'],
  summary: 'simulate vesicle (CDV) images with YOLO + COCO ground truth',
  usage:
    'maskbox simulate cdv --n N --out DIR [--seed 0] [--size 2048|WxH] [--format png|tif|jpg] [--preset lab|wide|train|eval-*]\n' +
    '    [--density 8:40] [--box-frac 0.012:0.02] [--min-gap 0] [--touching 0.1:0.25] [--shapes ring,shell,disc]\n' +
    '    [--sites ..] [--locs-per-site ..] [--loc-precision ..] [--ring-width ..] [--spot-sigma ..] [--brightness ..]\n' +
    '    [--spot-level ..] [--bg-density ..] [--clutter ..] [--haze ..] [--offset ..] [--read-noise ..] [--shot-noise ..]\n' +
    '    [--gamma ..] [--jpeg-prob 0] [--jpeg-quality 60:95] [--gain 1] [--blinking 0] [--unequal-pairs 0]\n' +
    '    [--emccd 0] [--colormaps grey,hot,red,green,inverted] [--start 0] [--json]\n' +
    `  Presets: ${Object.keys(CDV_PRESETS).join(', ')} (eval-* are held out: never train on them).\n` +
    '  Range flags take a number or lo:hi (each image draws its own value). See docs/simulator.md.\n' +
    '  --out must be a new or empty folder; --overwrite lets the files of a dataset already there be replaced.',
  async run(argv) {
    const { values: v } = parseFlags(() => parseArgs({ args: argv, options, strict: true }));
    const flags = v as Record<string, string | boolean | undefined>;
    const n = intFlag('n', requireFlag('n', v.n), undefined, 1, 10_000_000);
    const out = requireFlag('out', v.out);
    const seed = intFlag('seed', v.seed, 0, 0, Number.MAX_SAFE_INTEGER);
    const start = intFlag('start', v.start, 0, 0, Number.MAX_SAFE_INTEGER);
    const overrides: Partial<CdvParams> = {};
    const mutable = overrides as Record<string, unknown>;
    if (v.size !== undefined) {
      const m = /^(\d+)(?:x(\d+))?$/.exec(v.size);
      if (!m) throw new InvalidArgumentError('size', `Expected N or WxH for --size but received '${v.size}'`);
      overrides.width = Number(m[1]);
      overrides.height = Number(m[2] ?? m[1]);
    }
    for (const [flag, key] of Object.entries(RANGE_FLAGS)) {
      const value = flags[flag];
      if (typeof value === 'string') mutable[key] = rangeFlag(flag, value);
    }
    if (v['min-gap'] !== undefined) overrides.minGap = numberFlag('min-gap', v['min-gap']);
    if (v['jpeg-prob'] !== undefined) overrides.jpegProb = numberFlag('jpeg-prob', v['jpeg-prob']);
    if (v.emccd !== undefined) overrides.emccd = numberFlag('emccd', v.emccd);
    if (v.colormaps !== undefined) overrides.colormaps = v.colormaps.split(',').map((s) => s.trim()) as Colormap[];
    if (v.shapes !== undefined) {
      const shapes = v.shapes.split(',').map((s) => s.trim());
      for (const s of shapes) {
        if (!(VESICLE_SHAPES as readonly string[]).includes(s)) {
          throw new InvalidArgumentError(
            'shapes',
            `Expected a list of ${VESICLE_SHAPES.join(', ')} for --shapes but received '${v.shapes}'`,
          );
        }
      }
      overrides.shapes = shapes as VesicleShape[];
    }
    const preset = (v.preset ?? 'lab') as CdvPreset;
    if (!(preset in CDV_PRESETS))
      throw new InvalidArgumentError(
        'preset',
        `Expected one of ${Object.keys(CDV_PRESETS).join(', ')} for --preset but received '${preset}'`,
      );
    const format = (v.format ?? 'png') as CdvFormat;
    if (!CDV_FORMATS.includes(format))
      throw new InvalidArgumentError(
        'format',
        `Expected one of ${CDV_FORMATS.join(', ')} for --format but received '${format}'`,
      );
    const params = resolveCdvParams(overrides, preset);
    await prepareOutput(out, 'dir', 'out');
    if (!v.overwrite) {
      const existing = await readdir(out);
      if (existing.length > 0)
        throw new InvalidArgumentError(
          'out',
          `${out} is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}): simulate writes a whole dataset there; choose a new folder or pass --overwrite`,
        );
    }
    const summary = await writeCdvDataset(params, { n, out, seed, start, format });
    if (v.json) printJson({ ...summary, backend: 'js' });
    else
      printTable(
        ['out', 'images', 'boxes', 'touching', 'seed', 'format'],
        [[summary.out, summary.images, summary.boxes, summary.touching, summary.seed, summary.format]],
      );
    return 0;
  },
};
