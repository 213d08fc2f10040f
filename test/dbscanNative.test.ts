/**
 * The native DBSCAN / baseline kernels beyond the shared specs (test/dbscan.test.ts and
 * test/baseline.test.ts run on the cpu backend through describeEachKernel): inputs large enough to
 * split across threads (grid cells, row bands with their halos), sqrt-tie data on the grid path,
 * float32, sparse grids, many filter passes — each equal to the JS reference output for output — and
 * argument errors (bad lengths, types, ranges) as JS exceptions, never crashes.
 *
 * With MASKBOX_REQUIRE_NATIVE=1 a missing addon is a failure, not a skip.
 */
import { describe, expect, it } from 'vitest';
import { loadNative, nativeStatus } from '../bindings/native.js';
import { dbscan as jsDbscan } from '../src/backends/js/dbscan.js';
import { baseline as jsBaseline, type BaselineArgs } from '../src/backends/js/baseline.js';
import { baselineCpu, dbscanCpu } from '../src/backends/cpu/dbscan.js';
import { rng } from './helpers.js';

const addon = loadNative() as unknown as Record<string, (args: unknown) => Promise<unknown>> | null;
const requireNative = process.env.MASKBOX_REQUIRE_NATIVE === '1';
const run = addon && typeof addon.dbscan === 'function' ? describe : describe.skip;
const reason = addon ? 'this build has no dbscan' : nativeStatus().reason;

it('the native DBSCAN kernels are built (or the reason is known)', () => {
  if (requireNative) expect(addon?.dbscan, reason).toBeTypeOf('function');
  else expect(reason.length).toBeGreaterThan(0);
});

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  a.byteLength === b.byteLength &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** On-pixels of random blobs (radius 2..8, 70 % filled), raster order, as the benchmark's points. */
function pixelPoints(side: number, blobs: number, seed: number): Float64Array {
  const r = rng(seed);
  const mask = new Uint8Array(side * side);
  for (let b = 0; b < blobs; b++) {
    const cx = r() * side,
      cy = r() * side,
      rad = 2 + r() * 6;
    for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(side - 1, cy + rad); y++)
      for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(side - 1, cx + rad); x++)
        if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad && r() < 0.7) mask[y * side + x] = 1;
  }
  const pts: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) pts.push(i % side, Math.floor(i / side));
  return Float64Array.from(pts);
}

run(`native dbscan equals the JS reference (${reason})`, () => {
  const check = async (points: Float64Array | Float32Array, dims: number, eps: number, minSamples: number) => {
    const args = { points, dims, eps, minSamples };
    const want = jsDbscan(args);
    const got = await dbscanCpu(args);
    expect(got.clusters).toBe(want.clusters);
    expect(same(got.labels, want.labels)).toBe(true);
    expect(same(got.core, want.core)).toBe(true);
    return want;
  };

  it('pixel-like points across many cells and threads (eps 3, min 2 / 5; eps 1.5)', async () => {
    const pts = pixelPoints(400, 600, 1);
    expect(pts.length / 2).toBeGreaterThan(20_000);
    expect((await check(pts, 2, 3, 2)).clusters).toBeGreaterThan(50);
    await check(pts, 2, 3, 5);
    await check(pts, 2, 1.5, 4);
    await check(Float32Array.from(pts), 2, 3, 9);
  });

  it('integer points on both native paths: raster (pixels) and grid (duplicates, eps > 8, huge or sparse coordinates)', async () => {
    const pts = pixelPoints(300, 400, 2);
    const n = pts.length / 2;
    await check(pts, 2, 8, 20); // raster, largest eps it takes
    await check(pts, 2, 8.5, 20); // grid
    const dup = Float64Array.from([...pts, ...pts.subarray(0, 200)]); // 100 duplicated points: grid
    await check(dup, 2, 3, 3);
    await check(
      pts.map((v, i) => (i % 2 ? v : v + 2 ** 31)),
      2,
      3,
      2,
    ); // beyond 2^30: grid
    await check(
      pts.map((v) => v * 5),
      2,
      7.5,
      3,
    ); // bounding box above 16n pixels: grid
    // integer data with sqrt-ties: eps^2 just below a sum of two squares (sqrt(13)^2 = 12.999999999999998,
    // so offsets (2, 3) are ties): grid path; eps^2 just above (sqrt(5), sqrt(8)) or exact: raster
    for (const eps of [Math.sqrt(13), Math.sqrt(18), Math.sqrt(5), Math.sqrt(8), Math.SQRT2, 2.5])
      await check(pts, 2, eps, 4);
    expect(n).toBeGreaterThan(10_000);
  });

  it('sparse pixels (the sorted-rows path): 5 % cover, shuffled order, far outliers, eps up to 64', async () => {
    const pts = pixelPoints(1200, 900, 4); // ~5 % of the canvas: too sparse for the raster
    const n = pts.length / 2;
    expect(n / (1200 * 1200)).toBeLessThan(0.08);
    expect((await check(pts, 2, 3, 2)).clusters).toBeGreaterThan(100);
    await check(pts, 2, 1.5, 3);
    await check(Float32Array.from(pts), 2, 8.5, 12);
    await check(pts, 2, 20, 40);
    await check(pts, 2, 64, 300);
    // not in raster order: sorted inside the kernel, labels still by input index
    const r = rng(5);
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const shuffled = new Float64Array(2 * n);
    perm.forEach((p, i) => ((shuffled[2 * i] = pts[2 * p]!), (shuffled[2 * i + 1] = pts[2 * p + 1]!)));
    await check(shuffled, 2, 3, 2);
    await check(shuffled, 2, 2.5, 4);
    // far outliers (a huge bounding box, negative coordinates), rows of one point, a tie eps (grid path)
    await check(Float64Array.from([...pts, -1e6, -1e6, 1e6, 3, 5e5, -7, 5e5, -6, 5e5, -5]), 2, 3, 2);
    await check(
      Float64Array.from(pts.subarray(0, 4000)).map((v, i) => (i % 2 ? v * 3 : v)),
      2,
      3,
      2,
    );
    await check(pts, 2, Math.sqrt(13), 4);
  });

  it('sqrt-tie data on the grid path (decimal lattices: (0.3, 0.4) with eps 0.5) decides as sklearn', async () => {
    for (const [step, eps, m, seed] of [
      [0.1, 0.5, 4, 2],
      [0.1, 0.5, 8, 3],
      [0.05, 0.25, 5, 4],
      [0.26, 1.3, 6, 5],
    ] as const) {
      const r = rng(seed);
      const pts = Float64Array.from({ length: 2 * 3000 }, () => Math.round(r() * 60) * step);
      let ties = 0;
      for (let i = 0; i < 3000; i++)
        for (let j = i + 1; j < 3000; j++) {
          const s = (pts[2 * i]! - pts[2 * j]!) ** 2 + (pts[2 * i + 1]! - pts[2 * j + 1]!) ** 2;
          if (s > eps * eps && Math.sqrt(s) <= eps) ties++;
        }
      expect(ties).toBeGreaterThan(0); // the case exercises the tie path
      await check(pts, 2, eps, m);
      await check(Float32Array.from(pts), 2, eps, m);
    }
  });

  it('random floats in 1, 2, 3 and 5 dimensions, duplicates, sparse grids and huge spreads', async () => {
    const r = rng(9);
    for (const [n, dims, scale, spread, eps, m] of [
      [20_000, 2, 100, 0, 0.7, 4],
      [5_000, 1, 50, 1e6, 0.02, 3],
      [6_000, 3, 8, 40, 0.6, 5],
      [3_000, 5, 3, 0, 1.1, 6],
      [4_000, 2, 1, 1e12, 0.05, 2],
      [2_000, 2, 1, 1e300, 0.2, 2],
      [12, 2, 1, 0, 0.4, 2],
    ] as const) {
      const pts = Float64Array.from(
        { length: n * dims },
        (_, i) => (i % dims === 0 ? Math.floor(r() * 4) * spread : 0) + Math.round(r() * scale * 1000) / 1000,
      );
      await check(pts, dims, eps, m);
    }
    await check(new Float64Array(2 * 5000).fill(7), 2, 1e-9, 5000); // one cell, all duplicates, all core
    await check(new Float64Array(2 * 5000).fill(7), 2, 1e-9, 5001); // all noise
  });

  it('coordinates whose squares overflow: the brute path keeps NaN distances out (fuzz finding)', async () => {
    // |a|^2 - 2ab + |b|^2 is inf - inf = NaN here: Math.max(0, NaN) is NaN in the reference, never <= eps^2.
    await check(new Float64Array([3.85e142, 1e-171, 1.56e192, 9.3e86, 8.0e307, 2.5e-129, 1e200, 0]), 2, 9.5625, 2);
    await check(new Float64Array([1e200, 0, 2e200, 0, 3, 4]), 2, 1, 1);
    await check(new Float64Array([1e200, 1e200, 0, 0]), 1, 0.5, 1);
  });
});

run('native baseline equals the JS reference', () => {
  const image = (w: number, h: number, ch: number, seed: number): Uint8Array => {
    const r = rng(seed);
    const grey = new Float32Array(w * h).map(() => r() * 30);
    for (let b = 0; b < (w * h) / 900; b++) {
      const cx = r() * w,
        cy = r() * h,
        rad = 3 + r() * 8,
        peak = 100 + r() * 155;
      for (let y = Math.max(0, Math.floor(cy - rad)); y < Math.min(h, cy + rad); y++)
        for (let x = Math.max(0, Math.floor(cx - rad)); x < Math.min(w, cx + rad); x++)
          grey[y * w + x]! += peak * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (rad * rad)) * (0.6 + 0.8 * r());
    }
    const out = new Uint8Array(w * h * ch);
    for (let i = 0; i < w * h; i++)
      for (let c = 0; c < ch; c++) out[i * ch + c] = Math.min(255, grey[i]! * (0.8 + 0.4 * r()));
    return out;
  };
  const check = async (args: BaselineArgs) => {
    const want = jsBaseline(args);
    const got = await baselineCpu(args);
    expect(same(got.points, want.points)).toBe(true);
    expect(same(got.labels, want.labels)).toBe(true);
    expect(Array.from(got.sizes)).toEqual(Array.from(want.sizes));
    expect(Array.from(got.boxes)).toEqual(Array.from(want.boxes));
    return want;
  };
  const base = { eps: 3, minSamples: 2, passes: 5, scale: 'unit', box: 'minmax' } as const;

  it('images split into row bands (halo rows), every channel count, 1..30 passes, raw and unit', async () => {
    let seed = 1;
    for (const [w, h] of [
      [640, 480],
      [257, 1030],
      [1, 300],
      [300, 1],
      [3, 3],
    ] as const) {
      for (const ch of [1, 3, 4]) {
        const data = image(w, h, ch, seed++);
        const r = await check({ ...base, data, width: w, height: h, channels: ch });
        if (w * h > 10_000) expect(r.sizes.length).toBeGreaterThan(3);
        // raw 0..255 values: the first pass dilates the noisy background, DBSCAN gets one huge cluster
        if (ch === 1)
          await check({ ...base, data, width: w, height: h, channels: ch, scale: 'raw', passes: 2, box: 'edges' });
      }
    }
    const data = image(500, 700, 3, 99);
    for (const passes of [1, 2, 3, 7, 18, 30])
      await check({ ...base, data, width: 500, height: 700, channels: 3, passes });
    await check({ ...base, data, width: 500, height: 700, channels: 3, eps: 1.5, minSamples: 4 });
  });
});

run('native dbscan / baseline reject bad arguments as JS errors, never crash', () => {
  const dbscan = (o: object) => addon!.dbscan!({ dims: 2, eps: 1, minSamples: 2, ...o });
  const baseline = (o: object) =>
    addon!.baseline!({
      data: new Uint8Array(12),
      width: 2,
      height: 2,
      channels: 3,
      eps: 3,
      minSamples: 2,
      passes: 5,
      unit: true,
      edges: false,
      ...o,
    });
  const rejects = async (f: () => Promise<unknown>, re: RegExp) => {
    let err: unknown = null;
    try {
      await f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(re);
  };

  it('dbscan: wrong output lengths, odd point lengths, wrong types and ranges', async () => {
    const points = new Float64Array(8); // 4 points
    const ok = { points, labels: new Int32Array(4), core: new Uint8Array(4) };
    await expect(dbscan(ok)).resolves.toBe(1);
    await rejects(() => dbscan({ ...ok, labels: new Int32Array(3) }), /labels/);
    await rejects(() => dbscan({ ...ok, labels: new Int32Array(5) }), /labels/);
    await rejects(() => dbscan({ ...ok, core: new Uint8Array(0) }), /core/);
    await rejects(() => dbscan({ ...ok, points: new Float64Array(7) }), /points/);
    await rejects(() => dbscan({ ...ok, points: new Float64Array(9), dims: 3 }), /labels/); // 3 points, 4 labels
    await rejects(() => dbscan({ ...ok, points: new Int32Array(8) }), /Float64Array or Float32Array for points/);
    await rejects(() => dbscan({ ...ok, points: [0, 0, 1, 1] }), /points/);
    await rejects(() => dbscan({ ...ok, labels: new Float64Array(4) }), /Int32Array for labels/);
    await rejects(() => dbscan({ ...ok, core: new Int8Array(4) }), /Uint8Array for core/);
    for (const eps of [0, -1, NaN, Infinity, '1']) await rejects(() => dbscan({ ...ok, eps }), /eps/);
    for (const minSamples of [0, 1.5, 2 ** 31]) await rejects(() => dbscan({ ...ok, minSamples }), /minSamples/);
    for (const dims of [0, 2.5, 2 ** 21]) await rejects(() => dbscan({ ...ok, dims }), /dims/);
    await rejects(() => addon!.dbscan!(null), /options object|object/);
    // a non-finite coordinate rejects the promise (the public API checks first; this is the defence)
    const nan = new Float64Array(40).fill(1);
    nan[33] = NaN;
    await rejects(() => dbscan({ points: nan, labels: new Int32Array(20), core: new Uint8Array(20) }), /points\[33\]/);
    const inf = new Float32Array(4).fill(Infinity);
    await rejects(() => dbscan({ points: inf, labels: new Int32Array(2), core: new Uint8Array(2) }), /points\[0\]/);
  });

  it('baseline: wrong data length, sizes, channels and passes', async () => {
    await expect(baseline({})).resolves.toMatchObject({ labels: new Int32Array(0) });
    await rejects(() => baseline({ data: new Uint8Array(11) }), /data/);
    await rejects(() => baseline({ data: new Uint8Array(13) }), /data/);
    await rejects(() => baseline({ channels: 2, data: new Uint8Array(8) }), /channels/);
    await rejects(() => baseline({ channels: 5, data: new Uint8Array(20) }), /channels/);
    await rejects(() => baseline({ width: 0, data: new Uint8Array(0) }), /width/);
    await rejects(() => baseline({ width: 2 ** 14, height: 2 ** 14, data: new Uint8Array(0) }), /height|pixels/);
    await rejects(() => baseline({ data: new Uint16Array(12) }), /Uint8Array for data/);
    await rejects(() => baseline({ passes: 0 }), /passes/);
    await rejects(() => baseline({ passes: 101 }), /passes/);
    await rejects(() => baseline({ unit: 1 }), /unit/);
    await rejects(() => baseline({ eps: 0 }), /eps/);
  });
});
