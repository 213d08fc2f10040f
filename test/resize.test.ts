import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PIXELS, resizeBilinear } from '../src/ops/resize.js';
import { InvalidArgumentError } from '../src/errors.js';
import { getKernel, type BackendName } from '../src/backends/registry.js';
import { REPO, describeEachBackend, rng } from './helpers.js';

/** describeEachBackend, running only on backends that have a kernel for `op` (others show as skipped). */
function describeEachKernel(op: string, name: string, fn: (backend: BackendName) => void): void {
  describeEachBackend(name, (backend) => {
    if (getKernel(op, backend)) fn(backend);
    else it.skip(`(skipped: no ${backend} kernel for '${op}' yet)`, () => {});
  });
}

interface ResizeCase {
  shape: [number, number, number];
  size: [number, number];
  input: number[];
  torch: number[];
  exact_max_diff: number;
}
const golden: { torch: string; cases: ResizeCase[] } = JSON.parse(
  readFileSync(join(REPO, 'test/goldens/preprocess/resize.json'), 'utf8'),
);

/** Goldens hold the shortest decimal of each float32 value; fround restores the float32 exactly. */
function maxAbsDiff(a: ArrayLike<number>, golden: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - Math.fround(golden[i]!)));
  return m;
}

function randomPlanes(r: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 40);
}

describeEachKernel('resize', 'resizeBilinear', (backend) => {
  it(`matches torch F.interpolate(bilinear, align_corners=False) within 1e-5 (torch ${golden.torch})`, async () => {
    for (const c of golden.cases) {
      const { data, channels, height, width } = await resizeBilinear(Float32Array.from(c.input), c.shape, c.size, {
        backend,
      });
      expect([channels, height, width]).toEqual([c.shape[0], ...c.size]);
      const err = maxAbsDiff(data, c.torch);
      expect(err, `${c.shape} -> ${c.size}`).toBeLessThan(1e-5);
    }
  });

  it.runIf(backend === 'js')("is bit-identical to torch's NCHW kernel (C >= 2, input larger than 1x1)", async () => {
    for (const c of golden.cases.filter((c) => c.shape[0] >= 2 && c.shape[1] * c.shape[2] > 1)) {
      const { data } = await resizeBilinear(Float32Array.from(c.input), c.shape, c.size, { backend });
      expect(maxAbsDiff(data, c.torch), `${c.shape} -> ${c.size}`).toBe(0);
    }
  });

  it('reproduces torch, not exact bilinear, where they differ (float32 source coordinates)', async () => {
    const big = golden.cases.filter((c) => c.exact_max_diff > 1e-4);
    expect(big.length).toBeGreaterThan(0);
    for (const c of big) {
      const { data } = await resizeBilinear(Float32Array.from(c.input), c.shape, c.size, { backend });
      expect(maxAbsDiff(data, c.torch)).toBeLessThan(c.exact_max_diff / 20);
    }
  });

  it('copies when the size is unchanged and keeps constant planes constant', async () => {
    const r = rng(3);
    const x = randomPlanes(r, 2 * 5 * 7);
    expect(Array.from((await resizeBilinear(x, [2, 5, 7], [5, 7], { backend })).data)).toEqual(Array.from(x));
    const k = new Float32Array(3 * 4 * 6).fill(-2.75);
    for (const size of [
      [13, 1],
      [1, 1],
      [9, 17],
      [2, 3],
    ] as const) {
      const { data } = await resizeBilinear(k, [3, 4, 6], size, { backend });
      for (const v of data) expect(v).toBeCloseTo(-2.75, 6);
    }
  });

  it('resizes each channel independently (a batch folds into channels)', async () => {
    const r = rng(5);
    const x = randomPlanes(r, 3 * 6 * 5);
    const all = (await resizeBilinear(x, [3, 6, 5], [11, 14], { backend })).data;
    for (let c = 0; c < 3; c++) {
      const one = (await resizeBilinear(x.subarray(c * 30, c * 30 + 30), [1, 6, 5], [11, 14], { backend })).data;
      expect(Array.from(all.subarray(c * 154, c * 154 + 154))).toEqual(Array.from(one));
    }
  });

  it('writes into a caller-supplied output', async () => {
    const x = Float32Array.from([0, 1, 2, 3]);
    const out = new Float32Array(2 * 4 + 2).subarray(1, 9);
    const res = await resizeBilinear(x, [1, 2, 2], [2, 4], { out, backend });
    expect(res.data).toBe(out);
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1, 2, 2.25, 2.75, 3]);
  });
});

describe('resizeBilinear argument checks', () => {
  const x = new Float32Array(2 * 3 * 4);
  it('rejects non-integer, zero, negative and too large sizes, naming the argument', async () => {
    await expect(resizeBilinear(x, [2, 3, 4], [0, 5])).rejects.toThrow(/size\[0\]/);
    await expect(resizeBilinear(x, [2, 3, 4], [5, 2.5])).rejects.toThrow(/size\[1\]/);
    await expect(resizeBilinear(x, [2, 3, 4], [-1, 5])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(resizeBilinear(x, [2, 3.5, 4], [5, 5])).rejects.toThrow(/shape\[1\]/);
    await expect(resizeBilinear(x, [0, 3, 4], [5, 5])).rejects.toThrow(/shape\[0\]/);
    await expect(resizeBilinear(x, [2, 3, 4], [16385, 16384])).rejects.toThrow(
      new RegExp(`at most ${MAX_PIXELS} pixels`),
    );
    await expect(resizeBilinear(x, [2, 3, 4] as never, [5] as never)).rejects.toThrow(/\[height, width\] for size/);
  });
  it('rejects a data length that does not match the shape', async () => {
    await expect(resizeBilinear(x, [2, 3, 5], [5, 5])).rejects.toThrow(
      /Float32Array of length 30 for data but received Float32Array of length 24/,
    );
    await expect(resizeBilinear(new Uint8Array(24) as never, [2, 3, 4], [5, 5])).rejects.toThrow(
      /Float32Array for data/,
    );
  });
  it('rejects NaN and infinities naming the index', async () => {
    const bad = new Float32Array(24);
    bad[17] = NaN;
    await expect(resizeBilinear(bad, [2, 3, 4], [5, 5])).rejects.toThrow(/data\[17\]/);
    bad[17] = 0;
    bad[3] = -Infinity;
    await expect(resizeBilinear(bad, [2, 3, 4], [5, 5])).rejects.toThrow(/data\[3\]/);
  });
  it('rejects an output of the wrong length or one that overlaps the input', async () => {
    await expect(resizeBilinear(x, [2, 3, 4], [5, 5], { out: new Float32Array(49) })).rejects.toThrow(
      /length 50 for out/,
    );
    const shared = new Float32Array(100);
    await expect(
      resizeBilinear(shared.subarray(0, 24), [2, 3, 4], [5, 5], { out: shared.subarray(20, 70) }),
    ).rejects.toThrow(/overlap/);
    await expect(
      resizeBilinear(shared.subarray(0, 24), [2, 3, 4], [5, 5], { out: shared.subarray(24, 74) }),
    ).resolves.toBeTruthy();
  });
});
