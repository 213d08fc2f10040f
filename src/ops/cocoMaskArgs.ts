/** Argument parsing shared by the mask API ops (./cocoMask.ts, ./maskIou.ts): COCO RLEs and boxes. */
import { checkCountsSum, cocoRleFromString, cocoRleToString, type CocoRle } from '../backends/js/cocoRle.js';
import { checkInteger, invalid, isFiniteNumber } from '../validate.js';

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

/** Parse a list of RLE arguments. */
export function rleList(name: string, v: unknown): CocoRle[] {
  if (!Array.isArray(v)) invalid(name, 'an array of RLEs { size, counts }', v);
  return v.map((r, i) => toCocoRle(`${name}[${i}]`, r));
}

/** `[x, y, w, h]` boxes into a flat Float64Array. */
export function boxList(name: string, v: unknown): Float64Array {
  if (!Array.isArray(v)) invalid(name, 'an array of boxes [x, y, w, h]', v);
  const out = new Float64Array(4 * v.length);
  v.forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 4 || !b.every(isFiniteNumber))
      invalid(`${name}[${i}]`, 'a box [x, y, w, h]', b);
    out.set(b as number[], 4 * i);
  });
  return out;
}

/** RLEs flattened for the maskIou kernel: counts concatenated, offsets `[n + 1]`, sizes `[2n]`. */
export function flatRles(rles: readonly CocoRle[]): { counts: Uint32Array; offsets: Int32Array; sizes: Int32Array } {
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
