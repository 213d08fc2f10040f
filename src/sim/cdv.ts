/**
 * Simulator of super-resolution renderings of cell-derived vesicles (CDVs), as the lab images them
 * (DESIGN.md §1): each vesicle is a cluster of single-molecule localizations on a ring, a projected
 * spherical shell or a filled disc; localizations are rendered as Gaussian spots; background
 * localizations, small clumps of debris, a smooth haze, display gamma and camera noise are added.
 * Ground truth is one box per vesicle (the extent of its localizations plus 1.5 spot sigmas).
 *
 * Every numeric parameter is a range `[lo, hi]`: each image draws its own value (and each vesicle its
 * own size, brightness, shape). docs/simulator.md documents the model and every parameter.
 * This file is pure computation (scene and ground truth); `cdvRender.ts` renders, `cdvDataset.ts` writes files.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkInteger, checkOneOf, checkRange, invalid } from '../validate.js';
import { develop, Splatter } from './cdvRender.js';
import { deriveSeed, Prng } from './prng.js';

export type Range = readonly [number, number];
export type VesicleShape = 'ring' | 'shell' | 'disc';
export const VESICLE_SHAPES: readonly VesicleShape[] = ['ring', 'shell', 'disc'];
/** How the 8-bit grey frame becomes RGB: grey, matplotlib's hot, red or green channel only, inverted grey. */
export type Colormap = 'grey' | 'hot' | 'red' | 'green' | 'inverted';
export const COLORMAPS: readonly Colormap[] = ['grey', 'hot', 'red', 'green', 'inverted'];

/** Simulation parameters. Lengths are in pixels unless named `*Frac`. */
export interface CdvParams {
  /** Image width and height in pixels. */
  width: number;
  height: number;
  /** Vesicles per megapixel (10^6 px² of image area); the count per image is Poisson around it. */
  density: Range;
  /** Vesicle box side as a fraction of the image's shorter side (0.012–0.02 in the lab's data). */
  boxFrac: Range;
  /** Aspect ratio (minor/major axis) of each vesicle's ellipse. */
  aspect: Range;
  /** Allowed vesicle shapes, drawn uniformly. */
  shapes: readonly VesicleShape[];
  /** Fluorophore binding sites per vesicle. */
  sites: Range;
  /** Mean localizations per site (Poisson, at least 1): repeated blinks make bright spots. */
  locsPerSite: Range;
  /** Localization precision: standard deviation of each localization around its site (px). */
  locPrecision: Range;
  /** Radial spread of a ring relative to its radius (standard deviation). */
  ringWidth: Range;
  /** Rendering blur: sigma of the Gaussian spot drawn for each localization (px). */
  spotSigma: Range;
  /** Per-vesicle brightness multiplier. */
  brightness: Range;
  /** 8-bit grey level of the peak of one localization before gamma and noise. */
  spotLevel: Range;
  /** Minimum edge-to-edge gap between vesicle outlines (px); negative allows overlap. */
  minGap: number;
  /** Fraction of vesicles placed touching an earlier one (gap drawn in [minGap, minGap + 2]). */
  touching: Range;
  /** Isolated background localizations per megapixel. */
  bgDensity: Range;
  /** Small clumps (2–8 localizations within ~3 px) of debris per megapixel. */
  clutter: Range;
  /** Amplitude (grey levels) of a smooth low-frequency background haze. */
  haze: Range;
  /** Camera offset (grey levels). */
  offset: Range;
  /** Gaussian read noise sigma (grey levels). */
  readNoise: Range;
  /** Shot-noise factor: noise sigma = sqrt(shotNoise * signal). */
  shotNoise: Range;
  /** Display gamma applied to the rendered signal (out = 255 * (in/255)^gamma). */
  gamma: Range;
  /** Probability that an image goes through a JPEG round trip (artefacts) before it is saved. */
  jpegProb: number;
  /** JPEG quality for that round trip and for `--format jpg`. */
  jpegQuality: Range;
  /** Camera gain on the rendered signal (after gamma, before offset and noise); < 1 makes dim frames. */
  gain: Range;
  /** Colour maps, one drawn per image (applied when the frame is written as PNG/JPG). */
  colormaps: readonly Colormap[];
  /** Fraction of binding sites that blink repeatedly (Poisson extra localizations, mean 4x locsPerSite). */
  blinking: Range;
  /** Probability that a frame comes from an EMCCD: doubled shot-noise variance, clock-induced-charge spikes. */
  emccd: number;
  /** Radius of a vesicle placed touching another, relative to that one's (unequal pairs); `[0, 0]`: independent sizes. */
  unequalPairs: Range;
  /**
   * Vesicles placed first at fixed centres with fixed outer radii (px), before the random ones (which
   * keep `minGap` from them): e.g. on tile seams. Default none (and then no PRNG draw changes).
   */
  planted?: readonly { cx: number; cy: number; radius: number }[];
}

/** Lab-like defaults: 2048x2048, boxes 1.2–2 % of the side, dozens to hundreds of vesicles. */
export const CDV_DEFAULTS: CdvParams = {
  width: 2048,
  height: 2048,
  density: [8, 40],
  boxFrac: [0.012, 0.02],
  aspect: [0.8, 1],
  shapes: VESICLE_SHAPES,
  sites: [15, 60],
  locsPerSite: [1.5, 5],
  locPrecision: [0.5, 1.2],
  ringWidth: [0.05, 0.15],
  spotSigma: [0.8, 1.6],
  brightness: [0.5, 1],
  spotLevel: [40, 110],
  minGap: 0,
  touching: [0.1, 0.25],
  bgDensity: [300, 2500],
  clutter: [2, 15],
  haze: [0, 12],
  offset: [0, 15],
  readNoise: [1, 4],
  shotNoise: [0, 1],
  gamma: [0.8, 1.2],
  jpegProb: 0,
  jpegQuality: [60, 95],
  gain: [1, 1],
  colormaps: ['grey'],
  blinking: [0, 0],
  emccd: 0,
  unequalPairs: [0, 0],
};

/** Wider ranges for training data: sizes, densities, brightness, noise and JPEG all vary more. */
export const CDV_WIDE: CdvParams = {
  ...CDV_DEFAULTS,
  density: [3, 90],
  boxFrac: [0.007, 0.035],
  aspect: [0.7, 1],
  sites: [6, 120],
  locsPerSite: [1, 6],
  locPrecision: [0.3, 2],
  ringWidth: [0.03, 0.25],
  spotSigma: [0.6, 2.5],
  brightness: [0.4, 1],
  spotLevel: [25, 150],
  touching: [0, 0.5],
  bgDensity: [0, 6000],
  clutter: [0, 50],
  haze: [0, 30],
  offset: [0, 40],
  readNoise: [0, 10],
  shotNoise: [0, 3],
  gamma: [0.6, 1.4],
  jpegProb: 0.3,
  jpegQuality: [30, 95],
};

/**
 * Training data for the next model (issue 15): the wide ranges plus the failure cases seen on other
 * simulators' frames — tiny and sparse vesicles, dim frames with camera offset and gain, every common
 * colour map, unequal touching pairs, blinking, EMCCD noise, JPEG.
 */
export const CDV_TRAIN: CdvParams = {
  ...CDV_WIDE,
  density: [2, 110],
  boxFrac: [0.005, 0.035],
  touching: [0, 0.6],
  unequalPairs: [0.45, 1],
  offset: [0, 60],
  gain: [0.4, 1.2],
  spotLevel: [20, 150],
  colormaps: COLORMAPS,
  blinking: [0, 0.3],
  emccd: 0.25,
};

/**
 * Held-out evaluation presets: never used for training. Each moves several settings outside what
 * the model was trained on (elongated vesicles, wider spots, colour maps, camera offset and gain).
 * - `eval-lab`: frames like the lab's, other shapes and optics (ellipses, wide spots, hot map, JPEG);
 * - `eval-dense`: dense frames, many touching pairs of unequal size (grey: an inverted map is a
 *   training-only setting, it would hide density behind polarity);
 * - `eval-smalldim`: small, sparse, dim vesicles on an offset camera with low gain, red/green maps, EMCCD.
 */
export const CDV_EVAL_LAB: CdvParams = {
  ...CDV_DEFAULTS,
  aspect: [0.55, 0.85],
  shapes: ['ring', 'shell'],
  spotSigma: [1.4, 2.2],
  colormaps: ['hot', 'grey'],
  emccd: 0.5,
  jpegProb: 0.5,
  jpegQuality: [50, 80],
};
export const CDV_EVAL_DENSE: CdvParams = {
  ...CDV_DEFAULTS,
  density: [70, 140],
  touching: [0.45, 0.7],
  unequalPairs: [0.5, 0.9],
  blinking: [0.1, 0.2],
};
export const CDV_EVAL_SMALLDIM: CdvParams = {
  ...CDV_DEFAULTS,
  boxFrac: [0.006, 0.01],
  density: [2, 8],
  sites: [10, 30],
  spotLevel: [20, 45],
  offset: [50, 90],
  gain: [0.35, 0.55],
  colormaps: ['red', 'green'],
  emccd: 1,
};

export const CDV_PRESETS = {
  lab: CDV_DEFAULTS,
  wide: CDV_WIDE,
  train: CDV_TRAIN,
  'eval-lab': CDV_EVAL_LAB,
  'eval-dense': CDV_EVAL_DENSE,
  'eval-smalldim': CDV_EVAL_SMALLDIM,
} as const;
/** Presets no training run may use (the held-out judges). */
export const HELD_OUT_PRESETS = ['eval-lab', 'eval-dense', 'eval-smalldim'] as const;
export type CdvPreset = keyof typeof CDV_PRESETS;

/** One ground-truth vesicle. */
export interface CdvVesicle {
  /** Box `x1, y1, x2, y2` in pixels, clipped to the image. */
  box: [number, number, number, number];
  shape: VesicleShape;
  /** Centre and outer radius (px) used for placement. */
  cx: number;
  cy: number;
  radius: number;
  /** Edge-to-edge gap (px) to the nearest other vesicle's outline; Infinity when alone. */
  nearestGap: number;
  localizations: number;
}

/** One simulated image: grey levels 0..255 as float32 (row-major) and its vesicles. */
export interface CdvImage {
  width: number;
  height: number;
  /** Grey levels in [0, 255] before quantisation, so 8- and 16-bit outputs share one rendering. */
  pixels: Float32Array;
  vesicles: CdvVesicle[];
  /** Colour map the writer applies (PNG/JPG). */
  colormap: Colormap;
  /** Whether the writer should put this image through a JPEG round trip, and at which quality. */
  jpeg: number | undefined;
  seed: number;
}

const RANGE_KEYS = [
  'density',
  'boxFrac',
  'aspect',
  'sites',
  'locsPerSite',
  'locPrecision',
  'ringWidth',
  'spotSigma',
  'brightness',
  'spotLevel',
  'touching',
  'bgDensity',
  'clutter',
  'haze',
  'offset',
  'readNoise',
  'shotNoise',
  'gamma',
  'jpegQuality',
  'gain',
  'blinking',
  'unequalPairs',
] as const satisfies readonly (keyof CdvParams)[];

/** Upper limits that keep one image's work bounded. */
const LIMITS: Record<(typeof RANGE_KEYS)[number], Range> = {
  density: [0, 2000],
  boxFrac: [0.001, 0.5],
  aspect: [0.1, 1],
  sites: [1, 5000],
  locsPerSite: [0, 100],
  locPrecision: [0, 50],
  ringWidth: [0, 1],
  spotSigma: [0.2, 20],
  brightness: [0, 10],
  spotLevel: [0, 10000],
  touching: [0, 1],
  bgDensity: [0, 1e6],
  clutter: [0, 1e4],
  haze: [0, 255],
  offset: [0, 255],
  readNoise: [0, 255],
  shotNoise: [0, 100],
  gamma: [0.1, 10],
  jpegQuality: [1, 100],
  gain: [0.01, 100],
  blinking: [0, 1],
  unequalPairs: [0, 10],
};

/** Merge `overrides` into a preset and check every value, naming the parameter on error. */
export function resolveCdvParams(overrides: Partial<CdvParams> = {}, preset: CdvPreset = 'lab'): CdvParams {
  checkOneOf('preset', preset, Object.keys(CDV_PRESETS) as CdvPreset[]);
  const p: CdvParams = { ...CDV_PRESETS[preset] };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (p as unknown as Record<string, unknown>)[k] = v;
  checkInteger('width', p.width, 16, 16384);
  checkInteger('height', p.height, 16, 16384);
  for (const key of RANGE_KEYS) {
    const r = p[key];
    const [lo, hi] = LIMITS[key];
    if (!Array.isArray(r) || r.length !== 2) invalid(key, 'a range [lo, hi]', r);
    checkRange(`${key}[0]`, r[0], lo, hi);
    checkRange(`${key}[1]`, r[1], lo, hi);
    if (r[1] < r[0])
      throw new InvalidArgumentError(key, `Expected lo <= hi for ${key} but received [${r[0]}, ${r[1]}]`);
  }
  checkRange('minGap', p.minGap, -1000, 1000);
  if (p.planted !== undefined) {
    if (!Array.isArray(p.planted)) invalid('planted', 'an array of { cx, cy, radius }', p.planted);
    p.planted.forEach((v, i) => {
      checkRange(`planted[${i}].cx`, v?.cx, 0, p.width);
      checkRange(`planted[${i}].cy`, v?.cy, 0, p.height);
      checkRange(`planted[${i}].radius`, v?.radius, 1.5, Math.min(p.width, p.height) / 2);
    });
  }
  checkRange('jpegProb', p.jpegProb, 0, 1);
  checkRange('emccd', p.emccd, 0, 1);
  if (!Array.isArray(p.colormaps) || p.colormaps.length === 0)
    invalid('colormaps', `a non-empty list of ${COLORMAPS.join(', ')}`, p.colormaps);
  p.colormaps.forEach((c, i) => checkOneOf(`colormaps[${i}]`, c, COLORMAPS));
  if (!Array.isArray(p.shapes) || p.shapes.length === 0)
    invalid('shapes', `a non-empty list of ${VESICLE_SHAPES.join(', ')}`, p.shapes);
  p.shapes.forEach((s, i) => checkOneOf(`shapes[${i}]`, s, VESICLE_SHAPES));
  return p;
}

const draw = (rng: Prng, r: Range) => rng.uniform(r[0], r[1]);

/**
 * Simulate image `index` of a dataset with base seed `seed`. Each image has its own PRNG stream, so
 * image i is the same whatever `n` is. `params` must come from `resolveCdvParams`.
 */
export function simulateCdv(params: CdvParams, seed: number, index: number): CdvImage {
  const imageSeed = deriveSeed(seed, index);
  const rng = new Prng(imageSeed);
  const { width: W, height: H } = params;
  const mpix = (W * H) / 1e6;
  const signal = new Float32Array(W * H);

  // Per-image draws.
  const spotSigma = draw(rng, params.spotSigma);
  const locPrecision = draw(rng, params.locPrecision);
  // A localization peak stays above the read noise (labelled vesicles must be visible).
  const readNoise = draw(rng, params.readNoise);
  const spotLevel = Math.max(draw(rng, params.spotLevel), 4 * readNoise + 5);
  const bgDensity = draw(rng, params.bgDensity);
  const touching = draw(rng, params.touching);
  const nTarget = rng.poisson(draw(rng, params.density) * mpix);
  const blink = params.blinking[1] > 0 ? draw(rng, params.blinking) : 0;

  const vesicles = placeVesicles(rng, params, nTarget, touching, spotSigma, locPrecision);
  const splat = new Splatter(signal, W, H);

  // Vesicles: sites on the shape, several localizations per site.
  for (const v of vesicles) {
    const aspect = draw(rng, params.aspect);
    const theta = rng.uniform(0, Math.PI);
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const ringWidth = draw(rng, params.ringWidth);
    const r = v.inner;
    const locsMean = draw(rng, params.locsPerSite);
    let nSites = Math.max(1, Math.round(draw(rng, params.sites) * (0.5 + (v.radius / (0.016 * Math.min(W, H))) * 0.5)));
    // Visibility: the vesicle's localization density is at least 6x the background's + 0.02/px².
    const minLocs = (6 * bgDensity * 1e-6 + 0.02) * Math.PI * r * r * aspect;
    if (nSites * Math.max(1, locsMean) < minLocs) nSites = Math.ceil(minLocs / Math.max(1, locsMean));
    const amp = spotLevel * draw(rng, params.brightness);
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    let count = 0;
    for (let s = 0; s < nSites; s++) {
      let u: number;
      let w: number;
      if (v.shape === 'ring') {
        const a = rng.uniform(0, 2 * Math.PI);
        const rr = r * (1 + ringWidth * rng.normal());
        u = rr * Math.cos(a);
        w = rr * Math.sin(a);
      } else if (v.shape === 'shell') {
        const z = rng.uniform(-1, 1);
        const a = rng.uniform(0, 2 * Math.PI);
        const rr = r * Math.sqrt(1 - z * z);
        u = rr * Math.cos(a);
        w = rr * Math.sin(a);
      } else {
        const a = rng.uniform(0, 2 * Math.PI);
        const rr = r * Math.sqrt(rng.next());
        u = rr * Math.cos(a);
        w = rr * Math.sin(a);
      }
      w *= aspect;
      const sx = v.cx + u * cos - w * sin;
      const sy = v.cy + u * sin + w * cos;
      let k = Math.max(1, rng.poisson(locsMean));
      if (blink > 0 && rng.chance(blink)) k += rng.poisson(4 * Math.max(1, locsMean));
      for (let j = 0; j < k; j++) {
        const x = sx + locPrecision * rng.normal();
        const y = sy + locPrecision * rng.normal();
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        splat.add(x, y, spotSigma, amp * Math.exp(0.25 * rng.normal()));
        if (x < x1) x1 = x;
        if (y < y1) y1 = y;
        if (x > x2) x2 = x;
        if (y > y2) y2 = y;
        count++;
      }
    }
    const pad = 1.5 * spotSigma;
    v.localizations = count;
    v.box =
      count === 0
        ? [0, 0, 0, 0]
        : [Math.max(0, x1 - pad), Math.max(0, y1 - pad), Math.min(W, x2 + pad), Math.min(H, y2 + pad)];
  }

  // Background: isolated localizations and small debris clumps (not vesicles: too few spots).
  const nBg = rng.poisson(bgDensity * mpix);
  for (let i = 0; i < nBg; i++)
    splat.add(rng.uniform(0, W), rng.uniform(0, H), spotSigma, spotLevel * Math.exp(0.4 * rng.normal()));
  const nClutter = rng.poisson(draw(rng, params.clutter) * mpix);
  for (let i = 0; i < nClutter; i++) {
    const cx = rng.uniform(0, W);
    const cy = rng.uniform(0, H);
    const k = rng.int(2, 8);
    for (let j = 0; j < k; j++) {
      const x = cx + 1.5 * rng.normal();
      const y = cy + 1.5 * rng.normal();
      if (x >= 0 && y >= 0 && x < W && y < H) splat.add(x, y, spotSigma, spotLevel * Math.exp(0.4 * rng.normal()));
    }
  }

  const pixels = develop(rng, params, signal, W, H, readNoise);
  const jpeg = rng.chance(params.jpegProb) ? Math.round(draw(rng, params.jpegQuality)) : undefined;
  const cm = params.colormaps;
  const colormap = cm.length > 1 ? cm[rng.int(0, cm.length - 1)]! : cm[0]!;
  const out: CdvVesicle[] = vesicles
    .filter((v) => v.localizations > 0 && v.box[2] - v.box[0] >= 1 && v.box[3] - v.box[1] >= 1)
    .map(({ box, shape, cx, cy, radius, nearestGap, localizations }) => ({
      box,
      shape,
      cx,
      cy,
      radius,
      nearestGap,
      localizations,
    }));
  return { width: W, height: H, pixels, vesicles: out, colormap, jpeg, seed: imageSeed };
}

interface Placed extends CdvVesicle {
  /** Radius of the localization pattern (outer radius minus the blur margin). */
  inner: number;
}

/** Place up to `n` vesicles without overlap closer than minGap; some touch an earlier one. */
function placeVesicles(
  rng: Prng,
  p: CdvParams,
  n: number,
  touching: number,
  spotSigma: number,
  locPrecision: number,
): Placed[] {
  const { width: W, height: H, minGap } = p;
  const side = Math.min(W, H);
  const placed: Placed[] = [];
  const margin = 1.5 * spotSigma + locPrecision;
  for (const v of p.planted ?? []) {
    const shape = p.shapes[rng.int(0, p.shapes.length - 1)]!;
    const inner = Math.max(0.5, v.radius - margin);
    placed.push({
      box: [0, 0, 0, 0],
      shape,
      cx: v.cx,
      cy: v.cy,
      radius: v.radius,
      inner,
      nearestGap: Infinity,
      localizations: 0,
    });
  }
  for (let i = 0; i < n; i++) {
    let radius = Math.max(1.5, (draw(rng, p.boxFrac) * side) / 2);
    const shape = p.shapes[rng.int(0, p.shapes.length - 1)]!;
    for (let attempt = 0; attempt < 30; attempt++) {
      let cx: number;
      let cy: number;
      if (placed.length > 0 && rng.chance(touching)) {
        const other = placed[rng.int(0, placed.length - 1)]!;
        if (p.unequalPairs[1] > 0) radius = Math.max(1.5, other.radius * draw(rng, p.unequalPairs));
        const d = other.radius + radius + rng.uniform(minGap, minGap + 2);
        const a = rng.uniform(0, 2 * Math.PI);
        cx = other.cx + d * Math.cos(a);
        cy = other.cy + d * Math.sin(a);
      } else {
        cx = rng.uniform(0, W);
        cy = rng.uniform(0, H);
      }
      if (cx < radius * 0.5 || cy < radius * 0.5 || cx > W - radius * 0.5 || cy > H - radius * 0.5) continue;
      let ok = true;
      for (const q of placed) {
        const gap = Math.hypot(q.cx - cx, q.cy - cy) - q.radius - radius;
        if (gap < minGap - 1e-9) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      placed.push({
        box: [0, 0, 0, 0],
        shape,
        cx,
        cy,
        radius,
        inner: Math.max(0.5, radius - margin),
        nearestGap: Infinity,
        localizations: 0,
      });
      break;
    }
  }
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!;
      const b = placed[j]!;
      const gap = Math.hypot(a.cx - b.cx, a.cy - b.cy) - a.radius - b.radius;
      if (gap < a.nearestGap) a.nearestGap = gap;
      if (gap < b.nearestGap) b.nearestGap = gap;
    }
  }
  return placed;
}
