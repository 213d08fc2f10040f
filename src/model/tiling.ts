/**
 * Sliced inference (as SAHI does): cut a large frame into overlapping tiles, detect on each tile at a
 * larger scale than the whole frame allows, map the boxes back, optionally add a full-frame pass, and
 * merge across the seams (a vesicle cut by a seam comes out as one box: see `mergeBoxSets`).
 * The Detector runs it (`detect(image, { tile })`); this file holds the geometry, the automatic
 * choice and the merge.
 */
import { InvalidArgumentError } from '../errors.js';
import type { BackendChoice } from '../backends/registry.js';
import { iosF32 } from '../backends/js/nmm.js';
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
  /** A piece cut by a seam joins a box whose intersection over the smaller box is `> mergeThreshold`. Default 0.5 (SAHI's). */
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
 * Whether a box (frame pixels) reaches within `margin` (2 % of the tile side, at least 2 px) of an
 * edge of its tile that lies inside the frame: the object may continue in the neighbouring tile (a
 * piece cut by a seam; the detector's box of a cut object need not end exactly at the edge). Safe to
 * over-flag: the overlap is much wider than the margin, so the neighbour sees such an object whole.
 */
export function isCutBox(
  boxes: Float32Array,
  i: number,
  t: Tile,
  width: number,
  height: number,
  margin = Math.max(2, 0.02 * Math.min(t.width, t.height)),
): boolean {
  const x1 = boxes[4 * i]!,
    y1 = boxes[4 * i + 1]!,
    x2 = boxes[4 * i + 2]!,
    y2 = boxes[4 * i + 3]!;
  return (
    (t.x > 0 && x1 <= t.x + margin) ||
    (t.y > 0 && y1 <= t.y + margin) ||
    (t.x + t.width < width && x2 >= t.x + t.width - margin) ||
    (t.y + t.height < height && y2 >= t.y + t.height - margin)
  );
}

/**
 * Merge the passes' boxes across seams, in three steps:
 * 1. boxes not cut by a seam (and every full-frame box): greedy suppression by intersection over the
 *    smaller box `> threshold` (per class unless `agnostic`), each kept box unchanged — the same object
 *    seen whole by two overlapping tiles, and fragments inside a box;
 * 2. a cut piece whose intersection over the smaller box with a kept whole box is `> threshold` is
 *    dropped (the neighbouring tile saw the object whole);
 * 3. the remaining cut pieces are joined by non-maximum merging (IoS `> threshold`): an object larger
 *    than the overlap, cut in both tiles, comes out as the union of its pieces.
 * Only pieces are ever unioned, so a large low-score box never swallows its neighbours. Output by
 * score descending (best member's score and class), at most `maxDetections`.
 */
export async function mergeBoxSets(
  sets: readonly (BoxSet & { tile?: Tile })[],
  opts: {
    threshold: number;
    agnostic: boolean;
    maxDetections: number;
    width: number;
    height: number;
    backend?: BackendChoice;
  },
): Promise<BoxSet> {
  const whole: number[] = [],
    cut: number[] = [];
  const n = sets.reduce((s, x) => s + x.scores.length, 0);
  const boxes = new Float32Array(4 * n),
    scores = new Float32Array(n),
    classes = new Int32Array(n);
  let o = 0;
  for (const s of sets) {
    boxes.set(s.boxes, 4 * o);
    scores.set(s.scores, o);
    classes.set(s.classes, o);
    for (let i = 0; i < s.scores.length; i++)
      (s.tile && isCutBox(s.boxes, i, s.tile, opts.width, opts.height) ? cut : whole).push(o + i);
    o += s.scores.length;
  }
  const pick = (idx: readonly number[]) => ({
    boxes: Float32Array.from(idx.flatMap((i) => Array.from(boxes.subarray(4 * i, 4 * i + 4)))),
    scores: Float32Array.from(idx, (i) => scores[i]!),
    classes: Int32Array.from(idx, (i) => classes[i]!),
  });
  const w = pick(whole);
  // greedy suppression by IoS: NMM's keepers, each with its own box (no union)
  const kept = await nmm(w.boxes, w.scores, {
    metric: 'ios',
    matchThreshold: opts.threshold,
    classes: opts.agnostic ? undefined : w.classes,
    backend: opts.backend,
  });
  const keptIdx = Array.from(kept.indices, (k) => whole[k]!);
  const pieces = cut.filter((i) => {
    for (const k of keptIdx) {
      if (!opts.agnostic && classes[k] !== classes[i]) continue;
      if (iosF32(boxes, i, boxes, k) > opts.threshold) return false;
    }
    return true;
  });
  const c = pick(pieces);
  const joined = await nmm(c.boxes, c.scores, {
    metric: 'ios',
    matchThreshold: opts.threshold,
    classes: opts.agnostic ? undefined : c.classes,
    backend: opts.backend,
  });
  const k = pick(keptIdx);
  const all = [
    ...Array.from(k.scores, (sc, i) => ({ sc, box: k.boxes.subarray(4 * i, 4 * i + 4), cls: k.classes[i]! })),
    ...Array.from(joined.scores, (sc, i) => ({
      sc,
      box: joined.boxes.subarray(4 * i, 4 * i + 4),
      cls: c.classes[joined.indices[i]!]!,
    })),
  ]
    .sort((a, b) => b.sc - a.sc)
    .slice(0, opts.maxDetections);
  const out: BoxSet = {
    boxes: new Float32Array(4 * all.length),
    scores: Float32Array.from(all, (x) => x.sc),
    classes: Int32Array.from(all, (x) => x.cls),
  };
  all.forEach((x, i) => out.boxes.set(x.box, 4 * i));
  return out;
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
