import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { touchingPairRecall, touchingPairs, TOUCHING_GAP_PX } from '../src/metrics/touchingRecall.js';
import { simulateCdv, resolveCdvParams } from '../src/sim/cdv.js';
import { matchPoints } from '../benchmarks/metrics.js';

const f32 = (...v: number[]) => Float32Array.from(v);
const i32 = (...v: number[]) => Int32Array.from(v);

// Two touching vesicles side by side (gap 1 px), a third far away.
const discs = [
  { cx: 20, cy: 20, radius: 10 },
  { cx: 41, cy: 20, radius: 10 },
  { cx: 100, cy: 100, radius: 10 },
];
const gt = f32(10, 10, 30, 30, 31, 10, 51, 30, 90, 90, 110, 110);

describe('touchingPairs', () => {
  it('finds pairs whose edge gap is <= maxGap (default 2 px, inclusive)', () => {
    expect(TOUCHING_GAP_PX).toBe(2);
    expect([...touchingPairs(discs)]).toEqual([0, 1]);
    expect([...touchingPairs(discs, 0.5)]).toEqual([]);
    expect([...touchingPairs(discs, 1)]).toEqual([0, 1]); // gap exactly 1: inclusive
    expect([
      ...touchingPairs([
        { cx: 0, cy: 0, radius: 5 },
        { cx: 12, cy: 0, radius: 5 },
      ]),
    ]).toEqual([0, 1]); // gap 2
    expect(touchingPairs([]).length).toBe(0);
  });

  it("agrees with the simulator's per-vesicle touching flag (nearestGap <= 2)", () => {
    const p = resolveCdvParams({
      width: 512,
      height: 512,
      density: [200, 200],
      touching: [0.5, 0.5],
      boxFrac: [0.04, 0.06],
    });
    const img = simulateCdv(p, 7, 0);
    const pairs = touchingPairs(img.vesicles);
    const inPair = new Set(pairs);
    expect(pairs.length).toBeGreaterThan(0);
    img.vesicles.forEach((v, i) => expect(inPair.has(i)).toBe(v.nearestGap <= TOUCHING_GAP_PX));
  });

  it('rejects malformed vesicles naming the argument', () => {
    expect(() => touchingPairs([{ cx: 0, cy: NaN, radius: 1 }])).toThrow(InvalidArgumentError);
    expect(() => touchingPairs([{ cx: 0, cy: 0, radius: -1 }])).toThrow(/vesicles\[0\]\.radius/);
    expect(() => touchingPairs(discs, Infinity)).toThrow(/maxGap/);
  });
});

describe('touchingPairRecall', () => {
  const pairs = touchingPairs(discs);

  it('recalls a pair found by two distinct detections', () => {
    const r = touchingPairRecall(gt, pairs, f32(11, 10, 30, 30, 31, 11, 50, 30), f32(0.9, 0.8));
    expect(r).toMatchObject({ pairs: 1, recalled: 1, merged: 0, recall: 1 });
    expect([...r.matchOf]).toEqual([0, 1, -1]);
  });

  it('does not recall a pair covered by one merged box, and counts it as merged', () => {
    const r = touchingPairRecall(gt, pairs, f32(10, 10, 51, 30), f32(0.9));
    expect(r).toMatchObject({ pairs: 1, recalled: 0, merged: 1, recall: 0 });
  });

  it('needs both vesicles: one found is not a recalled pair', () => {
    const r = touchingPairRecall(gt, pairs, f32(10, 10, 30, 30, 90, 90, 110, 110), f32(0.9, 0.8));
    expect(r).toMatchObject({ recalled: 0, merged: 0 });
    expect([...r.matchOf]).toEqual([0, -1, 1]);
  });

  it('one detection cannot match both vesicles (one-to-one, at IoU >= 0.5)', () => {
    // A box exactly between the two, overlapping each by half its width: IoU 1/3 with each -> no match.
    const mid = f32(20, 10, 41, 30);
    expect(touchingPairRecall(gt, pairs, mid).recalled).toBe(0);
    // Two identical boxes on vesicle 0: the second cannot take vesicle 0 again, nor vesicle 1.
    const dup = f32(10, 10, 30, 30, 10, 10, 30, 30);
    const r = touchingPairRecall(gt, pairs, dup, f32(0.5, 0.9));
    expect(r.recalled).toBe(0);
    expect(r.matchOf[0]).toBe(1); // the higher score matches first
  });

  it('uses IoU >= iouThr (inclusive) and honours the option', () => {
    // Box 10..30 x 10..25 inside gt0 (area 300 / 400): IoU 0.75.
    const d = f32(10, 10, 30, 25, 31, 10, 51, 30);
    expect(touchingPairRecall(gt, pairs, d, undefined, { iouThr: 0.75 }).recalled).toBe(1);
    expect(touchingPairRecall(gt, pairs, d, undefined, { iouThr: 0.76 }).recalled).toBe(0);
  });

  it('gives NaN recall without pairs and handles no detections', () => {
    expect(touchingPairRecall(gt, new Int32Array(0), f32()).recall).toBeNaN();
    expect(touchingPairRecall(gt, pairs, f32())).toMatchObject({ pairs: 1, recalled: 0, merged: 0, recall: 0 });
  });

  it('rejects malformed input naming the argument', () => {
    expect(() => touchingPairRecall(gt, i32(0, 3), f32())).toThrow(/pairs\[1\]/);
    expect(() => touchingPairRecall(gt, i32(0), f32())).toThrow(/pairs/);
    expect(() => touchingPairRecall(gt, pairs, f32(0, 0, 1))).toThrow(/detBoxes/);
    expect(() => touchingPairRecall(gt, pairs, f32(0, 0, 1, 1), f32(1, 2))).toThrow(/scores/);
    expect(() => touchingPairRecall(gt, pairs, f32(), undefined, { iouThr: 2 })).toThrow(/iouThr/);
  });
});

describe('matchPoints (benchmarks/metrics.ts)', () => {
  it('matches one-to-one within r, nearest first', () => {
    // Two predictions near one reference: only the nearer matches; the other is a false positive.
    expect(matchPoints([0, 0, 1.5, 0], [1, 0], 2)).toEqual({ tp: 1, fp: 1, fn: 0, dx: 0.5, dy: 0 });
    // Nearest-first makes p1 take r0 (d 0.5), then p0 takes r1 (d 1.9).
    expect(matchPoints([0, 0, 2, 0], [2.5, 0, -1.9, 0], 2)).toMatchObject({ tp: 2, fp: 0, fn: 0 });
    expect(matchPoints([0, 0], [2, 0], 2).tp).toBe(1); // inclusive radius
    expect(matchPoints([0, 0], [2.01, 0], 2)).toMatchObject({ tp: 0, fp: 1, fn: 1 });
    expect(matchPoints([], [1, 1], 2)).toEqual({ tp: 0, fp: 0, fn: 1, dx: 0, dy: 0 });
  });
});
