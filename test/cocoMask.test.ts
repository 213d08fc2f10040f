import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import {
  maskArea,
  maskDecode,
  maskEncode,
  maskFrBbox,
  maskFrPoly,
  maskIou,
  maskMerge,
  maskToBbox,
  type MaskRle,
} from '../src/ops/cocoMask.js';
import { describeEachKernel, rng } from './helpers.js';

/** Random row-major masks of blobs (some empty, some touching the borders). */
function randomMasks(seed: number, n: number, h: number, w: number): Uint8Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, k) => {
    const m = new Uint8Array(h * w);
    if (k % 7 === 6) return m;
    for (let b = 0; b < 1 + Math.floor(r() * 3); b++) {
      const cx = r() * w,
        cy = r() * h,
        rad = 2 + r() * (w / 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < rad * rad) m[y * w + x] = 1;
    }
    return m;
  });
}
const pop = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);

describeEachKernel('maskIou', 'maskIou (pycocotools mask.iou) on RLEs', (backend) => {
  const H = 37,
    W = 53;
  const dtM = randomMasks(1, 30, H, W),
    gtM = randomMasks(2, 25, H, W);
  const dt = dtM.map((m) => maskEncode(m, H, W)),
    gt = gtM.map((m) => maskEncode(m, H, W));
  const crowd = gt.map((_, i) => (i % 4 === 0 ? 1 : 0));

  it('equals the decoded masks; a crowd region divides by the detection area', async () => {
    const r = await maskIou(dt, gt, crowd, { backend });
    expect(r.backend).toBe(backend);
    expect([r.rows, r.cols]).toEqual([30, 25]);
    for (let d = 0; d < 30; d++)
      for (let g = 0; g < 25; g++) {
        let inter = 0,
          union = 0;
        for (let i = 0; i < H * W; i++) {
          inter += dtM[d]![i]! & gtM[g]![i]!;
          union += dtM[d]![i]! | gtM[g]![i]!;
        }
        const want = inter === 0 ? 0 : inter / (crowd[g] ? pop(dtM[d]!) : union);
        expect(r.iou[d * 25 + g]).toBe(want);
      }
  });
  it('-1 where sizes differ; empty inputs; same result as the JS reference', async () => {
    const big = maskEncode(new Uint8Array(40 * 60).fill(1), 40, 60);
    const full = maskEncode(new Uint8Array(H * W).fill(1), H, W);
    const r = await maskIou([full], [big, full], undefined, { backend });
    expect(Array.from(r.iou)).toEqual([-1, 1]);
    expect((await maskIou([], gt, undefined, { backend })).iou.length).toBe(0);
    const js = await maskIou(dt, gt, crowd, { backend: 'js' });
    expect(Array.from((await maskIou(dt, gt, crowd, { backend })).iou)).toEqual(Array.from(js.iou));
  });
});

describe('pycocotools mask API', () => {
  it('encode/decode round trip with pycocotools strings', () => {
    // 4x4, box x 0..1 y 0..1: column-major counts [0, 2, 2, 2, 10]; string deltas from index 3: 0, 2, 2, 0, 8
    const m = new Uint8Array(16);
    m[0] = m[1] = m[4] = m[5] = 1;
    const r = maskEncode(m, 4, 4);
    expect(r).toEqual({ size: [4, 4], counts: '02208' });
    expect(Array.from(maskDecode(r))).toEqual(Array.from(m));
    expect(Array.from(maskDecode({ size: [4, 4], counts: [0, 2, 2, 2, 10] }))).toEqual(Array.from(m));
  });
  it('merge (union, intersection), area and toBbox equal the decoded masks', () => {
    const H = 20,
      W = 30;
    const ms = randomMasks(5, 6, H, W);
    const rles = ms.map((m) => maskEncode(m, H, W));
    const union = maskDecode(maskMerge(rles));
    const inter = maskDecode(maskMerge(rles.slice(0, 2), true));
    for (let i = 0; i < H * W; i++) {
      expect(union[i]).toBe(ms.some((m) => m[i]) ? 1 : 0);
      expect(inter[i]).toBe(ms[0]![i]! & ms[1]![i]!);
    }
    expect(Array.from(maskArea(rles))).toEqual(ms.map(pop));
    // a blob inside one column range: toBbox is its extent
    const blob = new Uint8Array(H * W);
    for (let y = 3; y < 7; y++) for (let x = 10; x < 15; x++) blob[y * W + x] = 1;
    expect(maskToBbox([maskEncode(blob, H, W)])).toEqual([[10, 3, 5, 4]]);
    // pycocotools' quirk: a run continuing into the next column spans the full height
    const wrap = new Uint8Array(H * W);
    wrap[(H - 1) * W + 2] = wrap[0 * W + 3] = 1;
    expect(maskToBbox([maskEncode(wrap, H, W)])).toEqual([[2, 0, 2, H]]);
    expect(maskMerge([rles[0]!, maskEncode(new Uint8Array(4), 2, 2)])).toEqual({ size: [0, 0], counts: '' });
  });
  it('frPoly / frBbox rasterise as pycocotools', () => {
    const [box] = maskFrBbox([[2, 1, 3, 2]], 6, 8);
    const m = maskDecode(box!);
    const set: [number, number][] = [];
    for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) if (m[y * 8 + x]) set.push([x, y]);
    expect(set).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
      [2, 2],
      [3, 2],
      [4, 2],
    ]);
    expect(maskFrPoly([[2, 1, 2, 3, 5, 3, 5, 1]], 6, 8)).toEqual([box]);
    expect(maskArea(maskFrPoly([[0, 0, 10, 0, 0, 10]], 20, 20))[0]).toBeGreaterThan(40);
  });
  it('boxes [x, y, w, h] take the bbIou path, crowd over the detection', async () => {
    const r = await maskIou(
      [
        [0, 0, 10, 10],
        [5, 5, 10, 10],
      ],
      [
        [0, 0, 10, 10],
        [0, 0, 20, 20],
      ],
      [0, 1],
    );
    expect(Array.from(r.iou)).toEqual([1, 1, 25 / 175, 1]);
  });
  it('bad input names the argument', async () => {
    const ok: MaskRle = { size: [2, 2], counts: [4] };
    await expect(maskIou([ok], [{ size: [2, 2], counts: [3] }])).rejects.toThrow(ParseError);
    await expect(maskIou([ok], [ok], [0, 1])).rejects.toThrow(/iscrowd/);
    await expect(maskIou([ok], [[0, 0, 1, 1]])).rejects.toThrow(InvalidArgumentError);
    expect(() => maskArea([{ size: [2], counts: [4] } as never])).toThrow(/rles\[0\]\.size/);
    expect(() => maskFrPoly([[1, 2]], 4, 4)).toThrow(/polygons\[0\]/);
    expect(() => maskEncode(new Uint8Array(3), 2, 2)).toThrow(/mask/);
    expect(() => maskDecode({ size: [2, 2], counts: 'zz' })).toThrow(ParseError);
  });
});
