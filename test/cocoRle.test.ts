import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bboxIouXywh,
  cocoRleArea,
  cocoRleDecode,
  cocoRleEncode,
  cocoRleFromBbox,
  cocoRleFromPolygon,
  cocoRleFromString,
  cocoRleIou,
  cocoRleMerge,
  cocoRleToBbox,
  cocoRleToString,
  type CocoRle,
} from '../src/backends/js/cocoRle.js';
import { ParseError } from '../src/errors.js';

/** A random 0/1 mask `[H, W]` row-major. */
const maskArb = fc
  .record({ h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }), seed: fc.integer() })
  .chain(({ h, w }) =>
    fc.record({
      h: fc.constant(h),
      w: fc.constant(w),
      m: fc.uint8Array({ minLength: h * w, maxLength: h * w, max: 1 }),
    }),
  );

function rows(rle: CocoRle): string[] {
  const m = cocoRleDecode(rle, 'row');
  return Array.from({ length: rle.height }, (_, y) =>
    Array.from(m.subarray(y * rle.width, (y + 1) * rle.width)).join(''),
  );
}

describe('COCO RLE counts', () => {
  it('encodes column-major, starting with a run of 0s', () => {
    // 3x2 row-major: column 0 = 0,1,1 ; column 1 = 1,0,0
    const r = cocoRleEncode(Uint8Array.from([0, 1, 1, 0, 1, 0]), 3, 2, 'row');
    expect(Array.from(r.counts)).toEqual([1, 3, 2]);
    expect(Array.from(cocoRleEncode(Uint8Array.from([1, 1]), 2, 1).counts)).toEqual([0, 2]);
    expect(Array.from(cocoRleEncode(new Uint8Array(0), 0, 0).counts)).toEqual([0]);
  });

  it('round-trips masks in both layouts; area and toBbox agree with the decoded mask', () => {
    fc.assert(
      fc.property(maskArb, ({ h, w, m }) => {
        const r = cocoRleEncode(m, h, w, 'row');
        expect(cocoRleDecode(r, 'row')).toEqual(m);
        expect(cocoRleEncode(cocoRleDecode(r, 'col'), h, w, 'col').counts).toEqual(r.counts);
        const ones = m.reduce((s, v) => s + v, 0);
        expect(cocoRleArea(r)).toBe(ones);
        let x0 = w,
          y0 = h,
          x1 = -1,
          y1 = -1;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            if (m[y * w + x]) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        const [bx, by, bw, bh] = cocoRleToBbox(r);
        if (ones === 0) expect([bx, by, bw, bh]).toEqual([0, 0, 0, 0]);
        else {
          expect([bx, bw]).toEqual([x0, x1 - x0 + 1]);
          // pycocotools' toBbox: a run that continues into the next column spans the full height.
          if (x1 === x0) expect([by, bh]).toEqual([y0, y1 - y0 + 1]);
          else expect(by <= y0 && by + bh >= y1 + 1).toBe(true);
        }
      }),
    );
  });

  it('toBbox gives the full column height when a run crosses columns (pycocotools quirk)', () => {
    // 4x2: pixel (x0, y3) and (x1, y0) form one run across the column boundary.
    const r = cocoRleEncode(Uint8Array.from([0, 0, 0, 1, 1, 0, 0, 0]), 4, 2, 'col');
    expect(cocoRleToBbox(r)).toEqual([0, 0, 2, 4]);
  });
});

describe('compressed RLE strings', () => {
  it('matches hand-computed pycocotools strings (delta from index 3, sign bit 0x10)', () => {
    expect(cocoRleToString([3, 2])).toBe('32');
    expect(cocoRleToString([100])).toBe('T3');
    // 20 and 30 set 0x10, so they need a second char; 5 - 20 = -15 -> 'A'
    expect(cocoRleToString([10, 20, 30, 5])).toBe(':d0n0A');
    expect(Array.from(cocoRleFromString(':d0n0A', 65, 1).counts)).toEqual([10, 20, 30, 5]);
  });

  it('round-trips any counts, including large runs and negative deltas', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 12 }), (c) => {
        const total = c.reduce((s, v) => s + v, 0);
        if (total > Number.MAX_SAFE_INTEGER) return;
        const s = cocoRleToString(c);
        expect(s).toMatch(/^[0-o]*$/);
        expect(Array.from(cocoRleFromString(s, 1, total).counts)).toEqual(c);
      }),
    );
  });

  it('rejects malformed strings with ParseError naming the input', () => {
    expect(() => cocoRleFromString('3 2', 5, 1, 'dt.json')).toThrow(/dt.json: .*invalid char ' ' at 1/);
    expect(() => cocoRleFromString('T', 100, 1)).toThrow(/ends inside a value/);
    expect(() => cocoRleFromString('32', 6, 1)).toThrow(/sum to 5 but size \[6, 1\] has 6 pixels/);
    expect(() => cocoRleFromString('00A', 100, 1)).toThrow(/invalid run length -15/);
    expect(() => cocoRleFromString('oooooooo0', 1, 1)).toThrow(ParseError);
  });
});

describe('polygons and boxes (rleFrPoly)', () => {
  it('rasterises an integer box to exactly its pixels', () => {
    const r = cocoRleFromBbox([1, 1, 2, 3], 6, 5);
    expect(rows(r)).toEqual(['00000', '01100', '01100', '01100', '00000', '00000']);
    expect(cocoRleArea(cocoRleFromBbox([0, 0, 10, 10], 20, 20))).toBe(100);
    expect(cocoRleToBbox(r)).toEqual([1, 1, 2, 3]);
  });

  it('rasterises a triangle by pixel centres and clips to the image', () => {
    expect(rows(cocoRleFromPolygon([0, 0, 4, 0, 0, 4], 6, 6))).toEqual([
      '111000',
      '110000',
      '100000',
      '000000',
      '000000',
      '000000',
    ]);
    const clipped = cocoRleFromBbox([-3, -3, 5, 5], 4, 4);
    expect(rows(clipped)).toEqual(['1100', '1100', '0000', '0000']);
    expect(cocoRleArea(cocoRleFromPolygon([], 3, 3))).toBe(0);
  });

  it('tolerates repeated vertices (zero-length edges)', () => {
    const a = cocoRleFromPolygon([1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 1], 6, 6);
    const b = cocoRleFromPolygon([1, 1, 1, 4, 4, 4, 4, 1], 6, 6);
    expect(a.counts).toEqual(b.counts);
  });
});

describe('merge and IoU', () => {
  it('merge equals OR / AND of the decoded masks', () => {
    fc.assert(
      fc.property(maskArb, fc.integer(), ({ h, w, m }, seed) => {
        const m2 = m.map((v, i) => ((i * 7 + seed) % 3 === 0 ? 1 - v : v));
        const a = cocoRleEncode(m, h, w, 'row'),
          b = cocoRleEncode(m2, h, w, 'row');
        expect(cocoRleDecode(cocoRleMerge([a, b]), 'row')).toEqual(m.map((v, i) => v | m2[i]!));
        expect(cocoRleDecode(cocoRleMerge([a, b], true), 'row')).toEqual(m.map((v, i) => v & m2[i]!));
      }),
    );
    expect(cocoRleMerge([cocoRleFromBbox([0, 0, 1, 1], 2, 2), cocoRleFromBbox([0, 0, 1, 1], 3, 3)]).counts.length).toBe(
      0,
    );
  });

  it('IoU equals the decoded masks; crowd divides by the detection area; sizes differ -> -1', () => {
    fc.assert(
      fc.property(maskArb, fc.integer(), ({ h, w, m }, seed) => {
        const m2 = m.map((v, i) => ((i * 5 + seed) % 4 === 0 ? 1 - v : v));
        const d = cocoRleEncode(m, h, w, 'row'),
          g = cocoRleEncode(m2, h, w, 'row');
        let inter = 0,
          union = 0,
          areaD = 0;
        m.forEach((v, i) => ((inter += v & m2[i]!), (union += v | m2[i]!), (areaD += v)));
        const [plain, crowd] = [cocoRleIou([d], [g], [0])[0]!, cocoRleIou([d], [g], [1])[0]!];
        expect(plain).toBe(inter === 0 ? 0 : inter / union);
        expect(crowd).toBe(inter === 0 ? 0 : inter / areaD);
      }),
    );
    const a = cocoRleFromBbox([0, 0, 2, 2], 4, 4),
      b = cocoRleFromBbox([0, 0, 2, 2], 5, 4);
    expect(cocoRleIou([a], [b])[0]).toBe(-1);
  });

  it('box IoU as bbIou: [x, y, w, h], crowd uses the detection area', () => {
    const out = new Float64Array(2);
    bboxIouXywh(Float64Array.of(0, 0, 10, 10), Float64Array.of(5, 0, 10, 10, 0, 0, 20, 20), Uint8Array.of(0, 1), out);
    expect(out[0]).toBeCloseTo(50 / 150, 15);
    expect(out[1]).toBe(1);
  });
});
