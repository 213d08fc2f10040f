import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logitsToRle, sigmoidCutoff, sigmoidF32 } from '../src/ops/logitsToRle.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { encodeRle } from '../src/ops/rle.js';
import { InvalidArgumentError } from '../src/errors.js';
import { loadNative } from '../bindings/native.js';
import { getKernel } from '../src/backends/registry.js';
import { REPO, describeEachKernel, rng } from './helpers.js';

const golden = (name: string) => JSON.parse(readFileSync(join(REPO, 'test/goldens/logitsToRle', name), 'utf8'));
const cutoffs = golden('sigmoid_cutoffs.json') as {
  torch: string;
  cases: { threshold: number; vector: number | null; scalar: number | null }[];
};
const pipeline = golden('torch_pipeline.json') as {
  torch: string;
  cases: {
    shape: [number, number, number];
    size: [number, number];
    threshold: number;
    kind: string;
    logits: number[];
    rle: string[];
    areas: number[];
  }[];
};

const C05 = 1.5 * 2 ** -24; // the float32 logit cutoff of sigmoid > 0.5

/** Neighbouring float32 values: `next(x, k)` is k float32 steps above x (k may be negative). */
function next(x: number, k: number): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  const key = i[0]! >= 0 ? i[0]! : -(i[0]! & 0x7fffffff);
  const n = key + k;
  i[0] = n >= 0 ? n : -n | 0x80000000;
  return f[0]!;
}

/** The spec as a composition of the public ops, with sigmoid computed in float32 per pixel. */
async function composed(
  logits: Float32Array,
  shape: [number, number, number],
  size: [number, number],
  threshold: number,
): Promise<string[]> {
  const { data } = await resizeBilinear(logits, shape, size, { backend: 'js' });
  const t = Math.fround(threshold);
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    mask[i] = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-data[i]!)))) > t ? 1 : 0;
  }
  return (await encodeRle(mask, { height: size[0], width: size[1] }, { backend: 'js' })).rle;
}

/**
 * Logits that make every code path work: smooth blobs (large cells decided without interpolation),
 * normal noise, and patches of values within ~3 float32 steps of the 0.5 cutoff, whose interpolated
 * values straddle it.
 */
function randomLogits(r: () => number, c: number, h: number, w: number): Float32Array {
  const x = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) {
    const cy = r() * h,
      cx = r() * w,
      rad = 1 + r() * Math.max(h, w) * 0.4;
    const mode = k % 3;
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const i = (k * h + y) * w + xx;
        const d = Math.hypot(y - cy, xx - cx) / rad;
        let v = mode === 0 ? 8 * (1 - d * d) : mode === 1 ? (r() - 0.5) * 8 : 6 * (1 - d);
        if (r() < 0.15) v = [0, -0, C05, next(C05, 1), next(C05, -1), 1e-8, -1e-8, 2 * C05][Math.floor(r() * 8)]!;
        if (r() < 0.05) v = (r() - 0.3) * 4e-7; // a near-threshold speck
        x[i] = v;
      }
    }
    if (r() < 0.5) x.fill(C05 * (0.5 + r()), (k * h + Math.floor(h / 2)) * w, (k * h + Math.floor(h / 2) + 1) * w);
  }
  return x;
}

describe('sigmoidCutoff (the float32 logit cutoff of sigmoid > t)', () => {
  it(`equals torch ${cutoffs.torch}'s scalar-path cutoff at every threshold, and its AVX2 path within one float32 step`, () => {
    const vectorDiffers: number[] = [];
    for (const c of cutoffs.cases) {
      const ours = sigmoidCutoff(c.threshold);
      expect(ours, `t=${c.threshold}`).toBe(c.scalar ?? Infinity);
      const v = c.vector ?? Infinity;
      if (ours !== v) {
        vectorDiffers.push(c.threshold);
        expect([next(ours, 1), next(ours, -1)]).toContain(v);
      }
    }
    // Sleef's 1-ulp expf in torch's vectorised loop; glibc's (correctly rounded here) in its scalar tail.
    expect(vectorDiffers).toEqual([0.4, 0.55, 0.6]);
  });

  it('is 1.5 * 2^-24 at 0.5: sigmoid(1e-8) is exactly 0.5 in float32, not above it', () => {
    expect(sigmoidCutoff(0.5)).toBe(C05);
    expect(sigmoidF32(1e-8)).toBe(0.5);
    expect(sigmoidF32(C05)).toBe(0.5);
    expect(sigmoidF32(next(C05, 1))).toBeGreaterThan(0.5);
    expect(sigmoidCutoff(1)).toBe(Infinity);
    expect(sigmoidCutoff(0)).toBe(Math.fround(-88.72283935546875));
  });

  it('splits the floats cleanly: x > cutoff exactly when sigmoidF32(x) > t, around each cutoff', () => {
    for (const t of [0, 1e-6, 0.1, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 0.999, 0.9999999]) {
      const c = sigmoidCutoff(t);
      const tf = Math.fround(t);
      for (let k = -2000; k <= 2000; k++) {
        const x = next(c, k);
        if (sigmoidF32(x) > tf !== x > c) throw new Error(`t=${t}: x=${x} (cutoff ${k} steps away) disagrees`);
      }
    }
  });

  it('rejects thresholds outside [0, 1]', () => {
    expect(() => sigmoidCutoff(-0.1)).toThrow(InvalidArgumentError);
    expect(() => sigmoidCutoff(1.5)).toThrow(/threshold/);
    expect(() => sigmoidCutoff(NaN)).toThrow(/threshold/);
  });
});

describeEachKernel('logitsToRle', 'logitsToRle', (backend) => {
  it(`matches torch ${pipeline.torch} (F.interpolate, sigmoid, > t) + the competition's encoder`, async () => {
    for (const c of pipeline.cases) {
      const res = await logitsToRle(Float32Array.from(c.logits), c.shape, c.size, { threshold: c.threshold, backend });
      const label = `${c.kind} ${c.shape} -> ${c.size} t=${c.threshold}`;
      expect(res.backend).toBe(backend);
      expect(res.rle, label).toEqual(c.rle);
      expect(res.areas, label).toEqual(c.areas);
      expect([res.channels, res.height, res.width]).toEqual([c.shape[0], ...c.size]);
    }
  });

  it('equals resizeBilinear -> float32 sigmoid -> > t -> encodeRle on random logits (incl. values near the cutoff)', async () => {
    const r = rng(17);
    const cases: [[number, number, number], [number, number], number][] = [
      [[3, 17, 23], [64, 50], 0.5],
      [[4, 16, 16], [64, 64], 0.5],
      [[3, 40, 30], [13, 7], 0.5],
      [[3, 9, 9], [9, 40], 0.3],
      [[2, 1, 12], [5, 30], 0.5],
      [[2, 12, 1], [31, 1], 0.5],
      [[3, 24, 24], [100, 100], 0.7],
    ];
    for (const [shape, size, t] of cases) {
      const x = randomLogits(r, ...shape);
      const want = await composed(x, shape, size, t);
      const got = await logitsToRle(x, shape, size, { threshold: t, backend });
      expect(got.rle, `${shape} -> ${size}`).toEqual(want);
      expect(got.cutoff).toBe(sigmoidCutoff(t));
    }
  });

  it('writes runs across row ends, empty masks as "" and full masks as one run', async () => {
    const x = new Float32Array(3 * 4 * 4).fill(-5);
    x.fill(5, 16, 32); // channel 1 all on
    for (let y = 0; y < 4; y++) x[32 + y * 4 + 3] = 5; // channel 2: last column
    x[32 + 4] = 5; // and the first pixel of row 1
    const res = await logitsToRle(x, [3, 4, 4], [4, 4], { backend });
    expect(res.rle).toEqual(['', '1 16', '4 2 8 1 12 1 16 1']);
    expect(res.areas).toEqual([0, 16, 5]);
    const none = await logitsToRle(x, [3, 4, 4], [8, 8], { threshold: 1, backend });
    expect(none.rle).toEqual(['', '', '']);
    const all = await logitsToRle(x, [3, 4, 4], [8, 8], { threshold: 0, backend });
    expect(all.rle).toEqual(['1 64', '1 64', '1 64']);
  });

  it('takes an explicit logitCutoff (e.g. torch AVX2 path cutoff) instead of a threshold', async () => {
    const x = Float32Array.from([-0.4054650366306305, -0.4054650068283081, 0, -1]);
    const a = await logitsToRle(x, [1, 2, 2], [2, 2], { threshold: 0.4, backend });
    const b = await logitsToRle(x, [1, 2, 2], [2, 2], { logitCutoff: -0.4054650366306305, backend });
    expect([a.rle, b.rle]).toEqual([['3 1'], ['2 2']]);
    expect(b.cutoff).toBe(Math.fround(-0.4054650366306305));
  });
});

describe('logitsToRle: the cpu kernel equals the js kernel exactly', () => {
  const cpu = getKernel('logitsToRle', 'cpu') && loadNative() ? it : it.skip;
  cpu('on random logits, thresholds and shapes (incl. row blocks joined across threads)', async () => {
    const r = rng(99);
    const cases: [[number, number, number], [number, number], number][] = [
      [[29, 64, 64], [256, 256], 0.5],
      [[2, 512, 512], [2048, 2048], 0.5],
      [[1, 128, 96], [1024, 700], 0.5], // one channel: rows split into blocks
      [[1, 300, 300], [1000, 1000], 0.6],
      [[2, 200, 150], [37, 1500], 0.25],
      [[5, 7, 300], [900, 40], 0.5],
    ];
    for (const [shape, size, t] of cases) {
      const x = randomLogits(r, ...shape);
      const js = await logitsToRle(x, shape, size, { threshold: t, backend: 'js' });
      const native = await logitsToRle(x, shape, size, { threshold: t, backend: 'cpu' });
      expect(native.backend).toBe('cpu');
      for (let c = 0; c < shape[0]; c++)
        expect(native.rle[c] === js.rle[c], `${shape} -> ${size} class ${c}`).toBe(true);
      expect(native.areas).toEqual(js.areas);
    }
    // Logits a few float32 steps around a cutoff of 1, where the rounding margin decides which cells
    // are interpolated: cells just outside it must come out as the reference computes them.
    for (const spread of [2 ** -23, 2 ** -20, 2 ** -19, 2 ** -17]) {
      const x = Float32Array.from({ length: 3 * 40 * 40 }, () => 1 + (r() - 0.5) * spread * 8);
      const opts = { logitCutoff: 1 + spread };
      const js = await logitsToRle(x, [3, 40, 40], [150, 170], { ...opts, backend: 'js' });
      const native = await logitsToRle(x, [3, 40, 40], [150, 170], { ...opts, backend: 'cpu' });
      expect(native.rle, `spread ${spread}`).toEqual(js.rle);
    }
    // One plane fully on: every row block's runs join into one.
    const on = await logitsToRle(new Float32Array(64 * 64).fill(3), [1, 64, 64], [2048, 2048], { backend: 'cpu' });
    expect(on.rle).toEqual([`1 ${2048 * 2048}`]);
  });

  cpu('rejects bad arguments in C++ with a JS error naming them (never a crash)', async () => {
    const addon = loadNative()! as unknown as Record<string, (a: unknown) => Promise<unknown>>;
    const ok = {
      data: new Float32Array(2 * 3 * 4),
      channels: 2,
      inHeight: 3,
      inWidth: 4,
      outHeight: 5,
      outWidth: 6,
      cutoff: 0,
    };
    await expect(addon.logitsToRle!(ok)).resolves.toBeTruthy();
    const bad = (patch: object) => () => addon.logitsToRle!({ ...ok, ...patch });
    expect(bad({ data: new Float32Array(23) })).toThrow(
      /Expected a Float32Array of length channels \* inHeight \* inWidth \(length 24\) for data but received length 23/,
    );
    expect(bad({ data: new Float64Array(24) })).toThrow(/Float32Array for data/);
    expect(bad({ channels: 0 })).toThrow(RangeError);
    expect(bad({ outWidth: 2.5 })).toThrow(/outWidth/);
    expect(bad({ outHeight: 2 ** 31 - 1, outWidth: 4 })).toThrow(/outHeight \* outWidth/);
    expect(bad({ cutoff: NaN })).toThrow(/cutoff/);
    expect(bad({ inHeight: 2 ** 31 - 1, inWidth: 2 ** 31 - 1 })).toThrow(/data/);
    try {
      bad({ channels: 3 })();
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_MASKBOX_NATIVE_ARGUMENT');
      expect((e as { argument: string }).argument).toBe('data');
    }
    expect(() => addon.logitsToRle!(undefined)).toThrow(TypeError);
  });
});

describe('logitsToRle argument checks', () => {
  const x = new Float32Array(2 * 3 * 4);
  it('names the bad argument', async () => {
    await expect(logitsToRle(x, [2, 3, 5], [4, 4])).rejects.toThrow(/length 30 for logits/);
    await expect(logitsToRle(x, [2, 3, 4], [0, 4])).rejects.toThrow(/size\[0\]/);
    await expect(logitsToRle(x, [2, 3, 4] as never, [4] as never)).rejects.toThrow(/\[height, width\] for size/);
    await expect(logitsToRle(new Uint8Array(24) as never, [2, 3, 4], [4, 4])).rejects.toThrow(
      /Float32Array for logits/,
    );
    await expect(logitsToRle(x, [2, 3, 4], [4, 4], { threshold: 2 })).rejects.toThrow(/threshold/);
    await expect(logitsToRle(x, [2, 3, 4], [4, 4], { threshold: 0.5, logitCutoff: 0 })).rejects.toThrow(/logitCutoff/);
    await expect(logitsToRle(x, [2, 3, 4], [4, 4], { logitCutoff: NaN })).rejects.toBeInstanceOf(InvalidArgumentError);
    const bad = x.slice();
    bad[13] = NaN;
    await expect(logitsToRle(bad, [2, 3, 4], [4, 4])).rejects.toThrow(/logits\[13\]/);
    bad[13] = 0;
    bad[0] = -Infinity;
    bad[20] = NaN;
    await expect(logitsToRle(bad, [2, 3, 4], [4, 4])).rejects.toThrow(/logits\[0\]/);
    const odd = new Float32Array(3 * 5 * 5); // 75: the last element is past the 4-at-a-time loop
    odd[74] = Infinity;
    await expect(logitsToRle(odd, [3, 5, 5], [4, 4])).rejects.toThrow(
      'Expected a finite number for logits[74] but received Infinity of type number',
    );
  });
});
