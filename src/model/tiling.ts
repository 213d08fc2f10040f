/**
 * Sliced inference (as SAHI does): cut a large frame into overlapping tiles, detect on each tile at a
 * larger scale than the whole frame allows, map the boxes back, optionally add a full-frame pass, and
 * merge across the seams with non-maximum merging (a vesicle cut by a seam comes out as one box).
 * The Detector runs it (`detect(image, { tile })`); this file holds the geometry, the automatic
 * choice and the merge.
 */
import { InvalidArgumentError } from '../errors.js';
import type { BackendChoice } from '../backends/registry.js';
import { nmm } from '../ops/nmm.js';
import { checkInteger, checkRange, invalid } from '../validate.js';
import type { ModelImage } from './preprocess.js';

/** Tiling options of `Detector.detect` (and `maskbox detect --tile --overlap --full-frame`). */
export interface TileOptions {
  /**
   * Tile side in image pixels (each tile is letterboxed to the model's input), `'auto'`
   * ({@link autoTile}: tiles only when the frame is much larger than the tiles), or `0` / omitted for
   * one full-frame pass (no tiling).
   */
  tile?: number | 'auto';
  /** Overlap between neighbouring tiles as a fraction of the tile side, [0, 0.9]. Default 0.2. */
  overlap?: number;
  /** Also run the whole frame (letterboxed) and merge its boxes with the tiles'. Default false. */
  fullFrame?: boolean;
  /** Merge boxes whose intersection over the smaller box is `> mergeThreshold`. Default 0.5 (SAHI's). */
  mergeThreshold?: number;
  /**
   * Test-time augmentation: also detect on the left-right mirrored frame and fuse both passes with
   * weighted boxes fusion (IoU 0.55, equal weights). Default false.
   */
  flipTta?: boolean;
}

/** A tile: its top-left corner and size in image pixels. */
export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Checked tiling options; `tile` 0 means no tiling. */
export interface CheckedTileOptions {
  tile: number | 'auto';
  overlap: number;
  fullFrame: boolean;
  mergeThreshold: number;
  flipTta: boolean;
}

/**
 * Image pixels per model-input pixel at which the automatic choice tiles: tiles of
 * `inputSide * AUTO_TILE_SCALE` image pixels, 1440 px for a 640 model (a 2048² frame seen at 0.44
 * instead of the letterbox's 0.31: 4 tiles). The bundled model was trained at 0.6–1.6x the letterbox
 * scale; at 1.0 (640-px tiles) it splits vesicles into pieces. Measured: benchmarks/RESULTS.md
 * (detector on held-out presets, with and without tiles).
 */
export const AUTO_TILE_SCALE = 2.25;

/** Validates tiling options (defaults: no tiling, overlap 0.2, no full-frame pass, merge IoS 0.5). */
export function checkTileOptions(o: TileOptions): CheckedTileOptions {
  const tile = o.tile ?? 0;
  if (tile !== 'auto') checkInteger('tile', tile, 0, 1 << 16);
  if (tile !== 'auto' && tile !== 0 && tile < 32) invalid('tile', "0 (off), 'auto' or an integer >= 32", tile);
  const overlap = checkRange('overlap', o.overlap ?? 0.2, 0, 0.9);
  if (o.fullFrame !== undefined && typeof o.fullFrame !== 'boolean') invalid('fullFrame', 'a boolean', o.fullFrame);
  const mergeThreshold = checkRange('mergeThreshold', o.mergeThreshold ?? 0.5, 0, 1);
  if (o.flipTta !== undefined && typeof o.flipTta !== 'boolean') invalid('flipTta', 'a boolean', o.flipTta);
  return { tile, overlap, fullFrame: o.fullFrame ?? false, mergeThreshold, flipTta: o.flipTta ?? false };
}

/**
 * The automatic tile side for a `width x height` frame and a model input of `inputSide` pixels:
 * `inputSide * AUTO_TILE_SCALE`, or 0 (no tiling) when the frame's longer side is at most 1.25 times
 * that (one tile would cover it nearly whole).
 */
export function autoTile(width: number, height: number, inputSide: number): number {
  const tile = Math.round(inputSide * AUTO_TILE_SCALE);
  return Math.max(width, height) <= 1.25 * tile ? 0 : tile;
}

/** Tile origins along one axis: step `tile - overlapPx`, the last tile flush with the edge. */
function axis(length: number, tile: number, overlapPx: number): number[] {
  if (length <= tile) return [0];
  const step = Math.max(1, tile - overlapPx);
  const out: number[] = [];
  for (let p = 0; ; p += step) {
    if (p + tile >= length) {
      out.push(length - tile);
      break;
    }
    out.push(p);
  }
  return out;
}

/**
 * The tiles covering a frame, row by row: side `tile` (clipped to the frame when it is smaller),
 * neighbours overlapping by `round(tile * overlap)` pixels or more (the last row and column are
 * flush with the frame's edges, as SAHI's slicing).
 */
export function tileGrid(width: number, height: number, tile: number, overlap: number): Tile[] {
  checkInteger('width', width, 1);
  checkInteger('height', height, 1);
  checkInteger('tile', tile, 1);
  checkRange('overlap', overlap, 0, 0.9);
  const o = Math.round(tile * overlap);
  const tw = Math.min(tile, width),
    th = Math.min(tile, height);
  const tiles: Tile[] = [];
  for (const y of axis(height, th, o)) for (const x of axis(width, tw, o)) tiles.push({ x, y, width: tw, height: th });
  return tiles;
}

/** Copy a tile's pixels out of an interleaved HWC image. */
export function cropImage(image: ModelImage, t: Tile): ModelImage {
  const { width, channels } = image;
  if (t.x < 0 || t.y < 0 || t.x + t.width > width || t.y + t.height > image.height)
    throw new InvalidArgumentError('tile', `tile ${JSON.stringify(t)} lies outside the ${width}x${image.height} image`);
  const Ctor = image.data instanceof Uint16Array ? Uint16Array : Uint8Array;
  const out = new Ctor(t.width * t.height * channels);
  const row = t.width * channels;
  for (let y = 0; y < t.height; y++) {
    const src = ((t.y + y) * width + t.x) * channels;
    out.set(image.data.subarray(src, src + row), y * row);
  }
  return { data: out, width: t.width, height: t.height, channels };
}

/** Boxes, scores and classes of one pass (a tile's boxes already in frame pixels). */
export interface BoxSet {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
}

/** Shift a tile's boxes by its origin into frame pixels. */
export function offsetBoxes(boxes: Float32Array, t: Tile): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i]! + t.x;
    out[i + 1] = boxes[i + 1]! + t.y;
    out[i + 2] = boxes[i + 2]! + t.x;
    out[i + 3] = boxes[i + 3]! + t.y;
  }
  return out;
}

/**
 * Merge the passes' boxes: non-maximum merging by intersection over the smaller box (`> threshold`),
 * per class unless `agnostic`; merged boxes are the union of their members, with the best member's
 * score and class, by score descending, at most `maxDetections`.
 */
export async function mergeBoxSets(
  sets: readonly BoxSet[],
  opts: { threshold: number; agnostic: boolean; maxDetections: number; backend?: BackendChoice },
): Promise<BoxSet> {
  const n = sets.reduce((s, x) => s + x.scores.length, 0);
  const boxes = new Float32Array(4 * n),
    scores = new Float32Array(n),
    classes = new Int32Array(n);
  let o = 0;
  for (const s of sets) {
    boxes.set(s.boxes, 4 * o);
    scores.set(s.scores, o);
    classes.set(s.classes, o);
    o += s.scores.length;
  }
  const r = await nmm(boxes, scores, {
    metric: 'ios',
    matchThreshold: opts.threshold,
    classes: opts.agnostic ? undefined : classes,
    maxDetections: opts.maxDetections,
    backend: opts.backend,
  });
  return { boxes: r.boxes, scores: r.scores, classes: Int32Array.from(r.indices, (i) => classes[i]!) };
}

/** The image mirrored left-right (HWC). */
export function flipImage(image: ModelImage): ModelImage {
  const { width, height, channels } = image;
  const Ctor = image.data instanceof Uint16Array ? Uint16Array : Uint8Array;
  const out = new Ctor(image.data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels,
        d = (y * width + (width - 1 - x)) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = image.data[s + c]!;
    }
  return { data: out, width, height, channels };
}

/** Boxes found on the mirrored frame, mapped back: `x1' = width - x2`, `x2' = width - x1`. */
export function unflipBoxes(boxes: Float32Array, width: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = width - boxes[i + 2]!;
    out[i + 1] = boxes[i + 1]!;
    out[i + 2] = width - boxes[i]!;
    out[i + 3] = boxes[i + 3]!;
  }
  return out;
}
