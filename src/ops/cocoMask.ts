/**
 * pycocotools' mask API (`pycocotools.mask`) as public ops on COCO RLEs, without decoding masks:
 * `maskIou` (matrix, crowd-aware), `maskMerge` (union / intersection), `maskArea`, `maskToBbox`,
 * `maskFrPoly` and `maskFrBbox` (rasterise polygons and boxes exactly as `frPyObjects`), and
 * `maskEncode` / `maskDecode`. Computes what pycocotools' `maskApi.c` computes, quirks included
 * (src/backends/js/cocoRle.ts).
 */
import { ensureBackends } from '../backends/index.js';
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import {
  bboxIouXywh,
  checkCountsSum,
  cocoRleArea,
  cocoRleDecode,
  cocoRleEncode,
  cocoRleFromBbox,
  cocoRleFromPolygon,
  cocoRleFromString,
  cocoRleMerge,
  cocoRleToBbox,
  cocoRleToString,
  type CocoRle,
} from '../backends/js/cocoRle.js';
import type { MaskIouArgs } from '../backends/js/maskIou.js';
import { checkInteger, checkUint8Array, invalid, isFiniteNumber } from '../validate.js';

/** A COCO RLE as in COCO JSON: `size` `[height, width]`, `counts` compressed string or run lengths. */
export interface MaskRle {
  size: [number, number];
  counts: string | ArrayLike<number>;
}

/** Parse one RLE argument into counts (checked: they must sum to height * width). */
export function toCocoRle(name: string, r: unknown): CocoRle {
  if (r === null || typeof r !== 'object') invalid(name, 'an RLE { size: [h, w], counts }', r);
  const { size, counts } = r as Partial<MaskRle>;
  if (!Array.isArray(size) || size.length !== 2) invalid(`${name}.size`, '[height, width]', size);
  const h = checkInteger(`${name}.size[0]`, size[0], 0, 1 << 30);
  const w = checkInteger(`${name}.size[1]`, size[1], 0, 1 << 30);
  if (typeof counts === 'string') return cocoRleFromString(counts, h, w, `${name}.counts`);
  if (counts === null || typeof counts !== 'object' || typeof (counts as ArrayLike<number>).length !== 'number')
    invalid(`${name}.counts`, 'a compressed string or an array of run lengths', counts);
  const c = Uint32Array.from(counts as ArrayLike<number>);
  for (let i = 0; i < c.length; i++)
    if (c[i] !== (counts as ArrayLike<number>)[i]) invalid(`${name}.counts[${i}]`, 'a run length in 0..2^32-1', counts);
  checkCountsSum(c, h, w, `${name}.counts`);
  return { height: h, width: w, counts: c };
}

/** An RLE as COCO JSON writes it (compressed counts string). */
export function fromCocoRle(r: CocoRle): MaskRle {
  return { size: [r.height, r.width], counts: cocoRleToString(r.counts) };
}

function rleList(name: string, v: unknown): CocoRle[] {
  if (!Array.isArray(v)) invalid(name, 'an array of RLEs { size, counts }', v);
  return v.map((r, i) => toCocoRle(`${name}[${i}]`, r));
}

function boxList(name: string, v: unknown): Float64Array {
  if (!Array.isArray(v)) invalid(name, 'an array of boxes [x, y, w, h]', v);
  const out = new Float64Array(4 * v.length);
  v.forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 4 || !b.every(isFiniteNumber))
      invalid(`${name}[${i}]`, 'a box [x, y, w, h]', b);
    out.set(b as number[], 4 * i);
  });
  return out;
}

function flat(rles: readonly CocoRle[]): { counts: Uint32Array; offsets: Int32Array; sizes: Int32Array } {
  const offsets = new Int32Array(rles.length + 1);
  rles.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.counts.length));
  const counts = new Uint32Array(offsets[rles.length]!);
  const sizes = new Int32Array(2 * rles.length);
  rles.forEach((r, i) => {
    counts.set(r.counts, offsets[i]!);
    sizes[2 * i] = r.height;
    sizes[2 * i + 1] = r.width;
  });
  return { counts, offsets, sizes };
}

export interface MaskIouOptions {
  backend?: BackendChoice;
}

export interface MaskIouResult extends Ran {
  /** Row-major `[D, G]`: IoU of detection d and ground truth g; -1 where their sizes differ. */
  iou: Float64Array;
  rows: number;
  cols: number;
}

/**
 * pycocotools' `mask.iou(dt, gt, iscrowd)`: IoU of every detection with every ground truth. Both
 * RLEs (run-wise, no decoding; box IoU of their `toBbox` first, exact only where that is > 0) or both
 * boxes `[x, y, w, h]` (bbIou). With `iscrowd[g]` the union is the detection's area (intersection over
 * the detection), as COCOeval scores crowd regions.
 * @throws InvalidArgumentError for malformed RLEs (counts not summing to h*w), boxes or iscrowd
 * @example const { iou } = await maskIou(dtRles, gtRles, [0, 1]); // iou[d * gt.length + g]
 */
export async function maskIou(
  dt: readonly MaskRle[] | readonly number[][],
  gt: readonly MaskRle[] | readonly number[][],
  iscrowd?: ArrayLike<number | boolean>,
  options: MaskIouOptions = {},
): Promise<MaskIouResult> {
  const rows = Array.isArray(dt) ? dt.length : invalid('dt', 'an array of RLEs or boxes', dt);
  const cols = Array.isArray(gt) ? gt.length : invalid('gt', 'an array of RLEs or boxes', gt);
  const crowd = new Uint8Array(cols);
  if (iscrowd !== undefined) {
    if (typeof iscrowd !== 'object' || iscrowd === null || iscrowd.length !== cols)
      invalid('iscrowd', `${cols} flags (one per ground truth)`, iscrowd);
    for (let g = 0; g < cols; g++) crowd[g] = iscrowd[g] ? 1 : 0;
  }
  const isBox = (v: unknown) => Array.isArray(v);
  if (rows > 0 && cols > 0 && isBox(dt[0]) !== isBox(gt[0]))
    invalid('gt', 'the same kind as dt (both RLEs or both boxes)', gt[0]);
  if ((rows > 0 && isBox(dt[0])) || (cols > 0 && isBox(gt[0]))) {
    const out = new Float64Array(rows * cols);
    bboxIouXywh(boxList('dt', dt), boxList('gt', gt), crowd, out);
    return { iou: out, rows, cols, backend: 'js' };
  }
  const d = flat(rleList('dt', dt)),
    g = flat(rleList('gt', gt));
  checkUint8Array('iscrowd', crowd, cols);
  ensureBackends();
  const args: MaskIouArgs = {
    dtCounts: d.counts,
    dtOffsets: d.offsets,
    dtSizes: d.sizes,
    gtCounts: g.counts,
    gtOffsets: g.offsets,
    gtSizes: g.sizes,
    iscrowd: crowd,
  };
  const work = d.counts.length * cols + g.counts.length * rows;
  const { result, backend } = await dispatch<MaskIouArgs, Float64Array>('maskIou', args, options.backend, work);
  return { iou: result, rows, cols, backend };
}

/**
 * pycocotools' `mask.merge(rles, intersect)`: union (default) or intersection of same-size RLEs,
 * run-wise. Different sizes give an empty `[0, 0]` RLE, as pycocotools does.
 */
export function maskMerge(rles: readonly MaskRle[], intersect = false): MaskRle {
  if (typeof intersect !== 'boolean') invalid('intersect', 'a boolean', intersect);
  return fromCocoRle(cocoRleMerge(rleList('rles', rles), intersect));
}

/** pycocotools' `mask.area`: pixels set in each RLE. */
export function maskArea(rles: readonly MaskRle[]): Float64Array {
  return Float64Array.from(rleList('rles', rles), cocoRleArea);
}

/** pycocotools' `mask.toBbox`: `[x, y, w, h]` per RLE (a run crossing columns spans the full height, as pycocotools). */
export function maskToBbox(rles: readonly MaskRle[]): number[][] {
  return rleList('rles', rles).map(cocoRleToBbox);
}

/**
 * pycocotools' `frPyObjects` for polygons: one RLE per polygon `[x0, y0, x1, y1, ...]` of an
 * `height x width` image (pass the result to `maskMerge` for one object with several polygons).
 */
export function maskFrPoly(polygons: readonly (readonly number[])[], height: number, width: number): MaskRle[] {
  const h = checkInteger('height', height, 0, 1 << 30),
    w = checkInteger('width', width, 0, 1 << 30);
  if (!Array.isArray(polygons)) invalid('polygons', 'an array of polygons [x0, y0, x1, y1, ...]', polygons);
  return polygons.map((p, i) => {
    if (!Array.isArray(p) || p.length < 4 || !p.every(isFiniteNumber))
      invalid(`polygons[${i}]`, 'at least two finite x, y pairs', p);
    return fromCocoRle(cocoRleFromPolygon(p, h, w));
  });
}

/** pycocotools' `frPyObjects` for boxes `[x, y, w, h]` (rasterised as the polygon of their corners). */
export function maskFrBbox(boxes: readonly (readonly number[])[], height: number, width: number): MaskRle[] {
  const h = checkInteger('height', height, 0, 1 << 30),
    w = checkInteger('width', width, 0, 1 << 30);
  const b = boxList('boxes', boxes);
  return Array.from({ length: b.length / 4 }, (_, i) =>
    fromCocoRle(cocoRleFromBbox(b.subarray(4 * i, 4 * i + 4), h, w)),
  );
}

/** pycocotools' `mask.encode`: a binary mask (non-zero = 1), row-major `[height, width]`, to an RLE. */
export function maskEncode(mask: Uint8Array, height: number, width: number): MaskRle {
  const h = checkInteger('height', height, 0, 1 << 30),
    w = checkInteger('width', width, 0, 1 << 30);
  checkUint8Array('mask', mask, h * w);
  return fromCocoRle(cocoRleEncode(mask, h, w, 'row'));
}

/** pycocotools' `mask.decode`: the RLE as a row-major `[height, width]` 0/1 mask. */
export function maskDecode(rle: MaskRle): Uint8Array {
  return cocoRleDecode(toCocoRle('rle', rle), 'row');
}
