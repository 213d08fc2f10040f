/**
 * The native ground-truth rasteriser (native/cpu/cocoEvalPolygons.cc, op `cocoPolygons`): each mask's
 * counts equal the js kernel's and the JS reference's (`segmentationToRle`: cocoRleFromPolygon / cocoRleFromBbox,
 * merged with cocoRleMerge) value for value, on random polygons (convex and not, degenerate edges,
 * vertices outside the image, several polygons per mask, box entries), and bad arguments are JS
 * exceptions. With MASKBOX_REQUIRE_NATIVE=1 a missing addon is a failure, not a skip.
 */
import { describe, expect, it } from 'vitest';
import { loadNative, nativeStatus } from '../bindings/native.js';
import { segmentationToRle, type CocoImage } from '../src/io/cocoJson.js';
import { cocoPolygons as jsCocoPolygons } from '../src/backends/js/scoring.js';
import { rng } from './helpers.js';

type Polygons = (args: {
  coords: Float64Array;
  polyStart: Int32Array;
  maskStart: Int32Array;
  height: Int32Array;
  width: Int32Array;
}) => Promise<{ counts: Uint32Array; start: Int32Array }>;
const addon = loadNative() as unknown as { cocoPolygons?: Polygons } | null;
const run = addon && typeof addon.cocoPolygons === 'function' ? describe : describe.skip;
const reason = !addon ? nativeStatus().reason : addon.cocoPolygons ? 'addon built' : 'this build has no cocoPolygons';

it('the native polygon rasteriser is built (or the reason is known)', () => {
  if (process.env.MASKBOX_REQUIRE_NATIVE === '1') expect(addon?.cocoPolygons, reason).toBeTypeOf('function');
  else expect(reason.length).toBeGreaterThan(0);
});

run(`native cocoPolygons equals segmentationToRle (${reason})`, () => {
  const pack = (masks: { seg: number[][]; h: number; w: number }[]) => {
    const polys = masks.flatMap((m) =>
      m.seg.map((p) =>
        m.seg[0]!.length === 4
          ? [p[0]!, p[1]!, p[0]!, p[1]! + p[3]!, p[0]! + p[2]!, p[1]! + p[3]!, p[0]! + p[2]!, p[1]!]
          : p,
      ),
    );
    const polyStart = new Int32Array(polys.length + 1);
    polys.forEach((p, i) => (polyStart[i + 1] = polyStart[i]! + p.length));
    const maskStart = new Int32Array(masks.length + 1);
    masks.forEach((m, j) => (maskStart[j + 1] = maskStart[j]! + m.seg.length));
    return {
      coords: Float64Array.from(polys.flat()),
      polyStart,
      maskStart,
      height: Int32Array.from(masks, (m) => m.h),
      width: Int32Array.from(masks, (m) => m.w),
    };
  };

  it('random polygons, several per mask, boxes, degenerate and out-of-image vertices', async () => {
    const r = rng(11);
    const masks: { seg: number[][]; h: number; w: number }[] = [];
    for (let j = 0; j < 400; j++) {
      const h = 1 + Math.floor(r() * 300),
        w = 1 + Math.floor(r() * 300);
      const parts = 1 + Math.floor(r() * 3);
      const seg: number[][] = [];
      if (j % 10 === 0) {
        for (let q = 0; q < parts; q++)
          seg.push([r() * w, r() * h, r() * w * 0.7, r() * h * 0.7].map((v) => Math.round(v * 100) / 100));
      } else {
        for (let q = 0; q < parts; q++) {
          const k = 3 + Math.floor(r() * 12);
          const p: number[] = [];
          for (let i = 0; i < k; i++) {
            // mostly inside, some outside the image, some repeated vertices, a few huge steps
            const x = j % 7 === 0 ? (r() - 0.2) * w * 1.4 : r() * w,
              y = j % 5 === 0 ? (r() - 0.2) * h * 1.4 : r() * h;
            p.push(Math.round(x * 100) / 100, Math.round(y * 100) / 100);
            if (r() < 0.1) p.push(p[p.length - 2]!, p[p.length - 1]!);
          }
          seg.push(p);
        }
      }
      masks.push({ seg, h, w });
    }
    const got = await addon!.cocoPolygons!(pack(masks));
    expect(got.start.length).toBe(masks.length + 1);
    const js = jsCocoPolygons(pack(masks)); // the op's js kernel, same flat layout
    expect(Array.from(got.start)).toEqual(Array.from(js.start));
    expect(Array.from(got.counts)).toEqual(Array.from(js.counts));
    masks.forEach((m, j) => {
      const image: CocoImage = { id: j, height: m.h, width: m.w } as CocoImage;
      const want = segmentationToRle(m.seg, image, 'test', `mask ${j}`);
      expect(Array.from(got.counts.subarray(got.start[j]!, got.start[j + 1]!)), `mask ${j}`).toEqual(
        Array.from(want.counts),
      );
    });
  });

  it('many masks over many blocks, with degenerate polygons and empty images', async () => {
    // The kernel fills one buffer per block of consecutive masks, reserved at a bound of each block's
    // counts: degenerate polygons (fewer than 3 points, odd value counts, repeated points), empty
    // images and long polygons must still give the js kernel's counts, in mask order.
    const r = rng(23);
    const masks: { seg: number[][]; h: number; w: number }[] = [];
    for (let j = 0; j < 3000; j++) {
      const h = j % 97 === 0 ? 0 : 1 + Math.floor(r() * 200),
        w = j % 89 === 0 ? 0 : 1 + Math.floor(r() * 200);
      const seg: number[][] = [];
      const parts = 1 + Math.floor(r() * 2);
      for (let q = 0; q < parts; q++) {
        const kind = Math.floor(r() * 6);
        const k = kind === 0 ? Math.floor(r() * 4) : kind === 1 ? 40 + Math.floor(r() * 60) : 3 + Math.floor(r() * 8);
        const p: number[] = [];
        for (let i = 0; i < k; i++) p.push(Math.round(r() * w * 100) / 100, Math.round(r() * h * 100) / 100);
        if (kind === 2 || (q === 0 && p.length === 4)) p.push(Math.round(r() * w)); // 4 values first: boxes
        seg.push(p);
      }
      masks.push({ seg, h, w });
    }
    const got = await addon!.cocoPolygons!(pack(masks));
    const js = jsCocoPolygons(pack(masks));
    expect(Array.from(got.start)).toEqual(Array.from(js.start));
    expect(Array.from(got.counts)).toEqual(Array.from(js.counts));
  });

  it('bad offsets, sizes and coordinates are JS errors', async () => {
    const call = async (a: Parameters<Polygons>[0]) => addon!.cocoPolygons!(a); // argument errors throw synchronously
    const ok = pack([{ seg: [[1, 1, 5, 1, 5, 5]], h: 10, w: 10 }]);
    await expect(call({ ...ok, maskStart: Int32Array.of(0, 2) })).rejects.toThrow(/maskStart/);
    await expect(call({ ...ok, polyStart: Int32Array.of(0, 99) })).rejects.toThrow(/polyStart/);
    await expect(call({ ...ok, height: Int32Array.of(-1) })).rejects.toThrow(/height/);
    await expect(call({ ...ok, width: Int32Array.of() })).rejects.toThrow(/width/);
    await expect(call({ ...ok, coords: Float64Array.of(1, 1, 5, 1, 5, NaN) })).rejects.toThrow(/coords/);
  });
});
