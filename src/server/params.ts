/**
 * Request settings from the query string and form fields (a form field wins over the query), checked
 * with the library's validators, so errors name the field: `conf`, `iou`, `max_det`, `format`, ...
 */
import { InvalidArgumentError } from '../errors.js';
import { checkInteger, checkOneOf, checkRange } from '../validate.js';

/** Output formats of the detection routes. */
export const DETECT_FORMATS = ['json', 'csv', 'coco'] as const;
export type DetectFormat = (typeof DETECT_FORMATS)[number];

/** Checked detection settings. */
export interface DetectParams {
  conf: number;
  iou: number;
  maxDetections: number;
  agnostic: boolean;
  format: DetectFormat;
  /** Keep the raw output for later `conf`/`iou` changes. Default true. */
  keep: boolean;
  /** Model name; undefined = the first detector. */
  model: string | undefined;
  /** Sliced inference: tile side in px or `'auto'`; undefined = one full-frame pass (the raw output is kept only then). */
  tile: number | 'auto' | undefined;
  /** Tile overlap fraction (default 0.2). */
  overlap: number | undefined;
  /** Also run the full frame and merge (default false). */
  fullFrame: boolean | undefined;
}

type Source = Record<string, unknown>;

function pick(src: Source, key: string): unknown {
  const v = src[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** A number from a query/form value (numbers pass; strings must parse fully). */
export function numberParam(name: string, v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n))
    throw new InvalidArgumentError(name, `Expected a number for ${name} but received '${String(v).slice(0, 40)}'`);
  return n;
}

/** A boolean from `true/false/1/0/yes/no`. */
export function boolParam(name: string, v: unknown): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new InvalidArgumentError(name, `Expected true or false for ${name} but received '${s.slice(0, 40)}'`);
}

/** A short identifier-like string (model names). */
export function nameParam(name: string, v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(v))
    throw new InvalidArgumentError(name, `Expected a model name ([A-Za-z0-9._-]) for ${name}`);
  return v;
}

/**
 * Detection settings: `conf` (0.4), `iou` (0.45), `max_det` (1000), `agnostic` (false), `format`
 * (json), `keep` (true), `model`; sliced inference `tile` (px or `auto`), `overlap` (0.2), `full_frame`.
 * @throws InvalidArgumentError naming the field
 */
export function detectParams(query: Source, fields: Source = {}): DetectParams {
  const src = { ...query, ...fields };
  return {
    conf: checkRange('conf', numberParam('conf', pick(src, 'conf')) ?? 0.4, 0, 1),
    iou: checkRange('iou', numberParam('iou', pick(src, 'iou')) ?? 0.45, 0, 1),
    maxDetections: checkInteger('max_det', numberParam('max_det', pick(src, 'max_det')) ?? 1000, 1, 100_000),
    agnostic: boolParam('agnostic', pick(src, 'agnostic')) ?? false,
    format: checkOneOf('format', pick(src, 'format') ?? 'json', DETECT_FORMATS),
    keep: boolParam('keep', pick(src, 'keep')) ?? true,
    model: nameParam('model', pick(src, 'model')),
    tile: pick(src, 'tile') === 'auto' ? 'auto' : numberParam('tile', pick(src, 'tile')),
    overlap: numberParam('overlap', pick(src, 'overlap')),
    fullFrame: boolParam('full_frame', pick(src, 'full_frame')),
  };
}

/** Checked DBSCAN-baseline settings. */
export interface BaselineParams {
  eps?: number;
  minSamples?: number;
  passes?: number;
  scale?: 'raw' | 'unit';
  box?: 'minmax' | 'edges';
  format: DetectFormat;
}

/**
 * Baseline settings: `eps`, `min_samples`, `passes`, `scale` (raw|unit), `box` (minmax|edges) — the
 * library's defaults when absent — and `format`.
 * @throws InvalidArgumentError naming the field
 */
export function baselineParams(query: Source, fields: Source = {}): BaselineParams {
  const src = { ...query, ...fields };
  const scale = pick(src, 'scale');
  const box = pick(src, 'box');
  return {
    eps: numberParam('eps', pick(src, 'eps')),
    minSamples: numberParam('min_samples', pick(src, 'min_samples')),
    passes: numberParam('passes', pick(src, 'passes')),
    scale: scale === undefined ? undefined : checkOneOf('scale', scale, ['raw', 'unit'] as const),
    box: box === undefined ? undefined : checkOneOf('box', box, ['minmax', 'edges'] as const),
    format: checkOneOf('format', pick(src, 'format') ?? 'json', DETECT_FORMATS),
  };
}

/** Checked segmentation settings. */
export interface SegmentParams {
  format: 'json' | 'csv';
  threshold: number | undefined;
  model: string | undefined;
}

/** Segmentation settings: `format` (json|csv), `threshold` (the model's, 0.5), `model`. */
export function segmentParams(query: Source, fields: Source = {}): SegmentParams {
  const src = { ...query, ...fields };
  const t = numberParam('threshold', pick(src, 'threshold'));
  return {
    format: checkOneOf('format', pick(src, 'format') ?? 'json', ['json', 'csv'] as const),
    threshold: t === undefined ? undefined : checkRange('threshold', t, 0, 1),
    model: nameParam('model', pick(src, 'model')),
  };
}
