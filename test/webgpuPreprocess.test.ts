/**
 * The WebGPU letterbox, resize and baseline kernels against the js reference on inputs larger and more
 * varied than the shared op specs (which run them too, through describeEachKernel): resize bit for bit,
 * letterbox within the 1e-6 a float32 kernel is allowed, the baseline's points, labels and boxes exactly.
 */
import { describe, expect, it } from 'vitest';
import { backendStatus, getKernel } from '../src/backends/registry.js';
import { letterbox, type RawImage } from '../src/ops/letterbox.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { BackendUnavailableError } from '../src/errors.js';
import { integerRadius } from '../src/backends/webgpu/dbscan.js';
import { rng } from './helpers.js';

const run = backendStatus('webgpu').available ? describe : describe.skip;

function image(r: () => number, width: number, height: number, channels: number, depth: 8 | 16, spread = 1): RawImage {
  const n = width * height * channels;
  const data = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  const max = depth === 8 ? 256 : 65536;
  for (let i = 0; i < n; i++) data[i] = Math.min(max - 1, Math.floor((0.5 + (r() - 0.5) * spread) * max));
  return { data, width, height, channels };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

run('webgpu preprocessing kernels against the reference', () => {
  it('letterbox: within 1e-6 on 8/16-bit grey/RGB/RGBA, sizes, auto, percentile stretches (narrow ones too)', async () => {
    const r = rng(31);
    let worst = 0;
    for (let k = 0; k < 12; k++) {
      const depth = k % 2 === 0 ? 8 : 16;
      const channels = [1, 3, 4][k % 3]!;
      // spread 0.02: a 16-bit image over ~1300 values, stretched to [0, 1] by its percentiles
      const img = image(
        r,
        1 + Math.floor(r() * 400),
        1 + Math.floor(r() * 400),
        channels,
        depth,
        k % 4 === 3 ? 0.02 : 1,
      );
      const opts = {
        size: k % 4 === 0 ? ([64 + Math.floor(r() * 200), 64 + Math.floor(r() * 200)] as [number, number]) : 160,
        auto: k % 5 === 1,
        percentiles: k % 2 === 1 ? ([r() * 10, 90 + r() * 10] as [number, number]) : undefined,
      };
      const js = await letterbox(img, { ...opts, backend: 'js' });
      const gpu = await letterbox(img, { ...opts, backend: 'webgpu' });
      expect(gpu.backend).toBe('webgpu');
      expect([gpu.low, gpu.high]).toEqual([js.low, js.high]);
      const d = maxDiff(gpu.data, js.data);
      worst = Math.max(worst, d);
      expect(d, `${img.width}x${img.height}x${channels} ${depth}-bit ${JSON.stringify(opts)}`).toBeLessThan(1e-6);
    }
    console.log(`letterbox webgpu vs js: max |diff| ${worst.toExponential(2)}`);
  });

  it('resize: bit-identical to js (the emulated fused multiply-add) on up, down and mixed scales', async () => {
    const r = rng(32);
    const shapes: [[number, number, number], [number, number]][] = [
      [
        [29, 16, 16],
        [64, 64],
      ],
      [
        [3, 64, 48],
        [17, 200],
      ],
      [
        [2, 1, 9],
        [7, 9],
      ],
      [
        [1, 128, 128],
        [512, 300],
      ],
      [
        [2, 100, 70],
        [31, 29],
      ],
      [
        [1, 1, 1],
        [3, 5],
      ],
    ];
    for (const [shape, size] of shapes) {
      const n = shape[0] * shape[1] * shape[2];
      const x = Float32Array.from({ length: n }, () => (r() < 0.1 ? 0 : (r() - 0.5) * 10 ** (r() * 8 - 3)));
      const js = await resizeBilinear(x, shape, size, { backend: 'js' });
      const gpu = await resizeBilinear(x, shape, size, { backend: 'webgpu' });
      let differ = 0;
      for (let i = 0; i < js.data.length; i++) if (!Object.is(js.data[i], gpu.data[i])) differ++;
      expect(differ, `${shape} -> ${size}`).toBe(0);
    }
  });

  it('baseline: points, labels, boxes equal the reference (noise, long chains, eps and minSamples sweep)', async () => {
    const r = rng(33);
    const w = 301,
      h = 203;
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < data.length; i++) data[i] = r() < 0.35 ? 200 + Math.floor(r() * 55) : Math.floor(r() * 40);
    // a one-pixel-wide serpentine: one long component whose labels need many propagation rounds
    for (let y = 10; y < 190; y += 4) for (let x = 5; x < 295; x++) data.set([255, 255, 255], 3 * (y * w + x));
    for (const [eps, minSamples, passes, scale] of [
      [3, 2, 5, 'unit'],
      [1, 3, 1, 'unit'],
      [Math.SQRT2, 4, 2, 'unit'],
      [2.5, 9, 1, 'raw'],
      [5, 30, 3, 'unit'],
    ] as const) {
      const img = { data, width: w, height: h, channels: 3 };
      const o = { eps, minSamples, passes, scale } as const;
      const js = await dbscanBaseline(img, { ...o, backend: 'js' });
      const gpu = await dbscanBaseline(img, { ...o, backend: 'webgpu' });
      const label = JSON.stringify(o);
      expect(gpu.backend).toBe('webgpu');
      expect(Array.from(gpu.points), label).toEqual(Array.from(js.points));
      expect(Array.from(gpu.labels), label).toEqual(Array.from(js.labels));
      expect(Array.from(gpu.sizes), label).toEqual(Array.from(js.sizes));
      expect(Array.from(gpu.boxes), label).toEqual(Array.from(js.boxes));
    }
  });

  it('baseline: declines an eps whose square sits just below an integer sqrt-tie, naming why', async () => {
    // eps = sqrt(3): eps * eps = 2.9999999999999996 < 3, but sqrt(3) <= eps: sklearn's KD-tree decides those pairs
    const eps = Math.sqrt(3);
    expect(integerRadius(eps).tie).toBe(true);
    expect(integerRadius(Math.SQRT2).tie).toBe(false);
    const img = { data: new Uint8Array(16 * 16).fill(255), width: 16, height: 16, channels: 1 };
    await expect(dbscanBaseline(img, { eps, backend: 'webgpu' })).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(
      getKernel('baseline', 'webgpu')!.supports!({
        ...img,
        eps,
        minSamples: 2,
        passes: 1,
        scale: 'unit',
        box: 'edges',
      }),
    ).toMatch(/sqrt-tie/);
  });
});
