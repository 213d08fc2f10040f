/**
 * pycocotools' mask API (`pycocotools.mask`) as public ops on COCO RLEs, without decoding masks:
 * `maskIou` (matrix, crowd-aware), `maskMerge` (union / intersection), `maskArea`, `maskToBbox`,
 * `maskFrPoly` and `maskFrBbox` (rasterise polygons and boxes exactly as `frPyObjects`), and
 * `maskEncode` / `maskDecode`. `maskIou` is dispatched (js and cpu kernels: ./maskIou.ts). Computes what pycocotools' `maskApi.c` computes, quirks included
 * (src/backends/js/cocoRle.ts).
 */
import {
  cocoRleArea,
  cocoRleDecode,
  cocoRleEncode,
  cocoRleFromBbox,
  cocoRleFromPolygon,
  cocoRleMerge,
  cocoRleToBbox,
} from '../backends/js/cocoRle.js';
import { checkInteger, checkUint8Array, invalid, isFiniteNumber } from '../validate.js';
import { boxList, fromCocoRle, rleList, toCocoRle, type MaskRle } from './cocoMaskArgs.js';

export { maskIou, type MaskIouArgs, type MaskIouOptions, type MaskIouResult } from './maskIou.js';
export { toCocoRle, fromCocoRle, type MaskRle } from './cocoMaskArgs.js';

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
