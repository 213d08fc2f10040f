/**
 * The WebGPU letterbox, resize and baseline kernels against the js reference on inputs larger and more
 * varied than the shared op specs (which run them too, through describeEachKernel): resize bit for bit,
 * letterbox within the 1e-6 a float32 kernel is allowed, the baseline's points, labels and boxes exactly.
 */
import { describe, expect, it } from 'vitest';
import { backendStatus, getKernel } from '../src/backends/registry.js';
import { letterbox } from '../src/ops/letterbox.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { BackendUnavailableError } from '../src/errors.js';
import { integerRadius } from '../src/backends/webgpu/dbscan.js';
import { rng } from './helpers.js';
import { expectResizeLikeJs, letterboxCase, resizeCases } from './preprocessFixtures.js';

const run = backendStatus('webgpu').available ? describe : describe.skip;

/** Largest absolute difference between two equally long arrays. */
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
      const spread = k % 4 === 3 ? 0.02 : 1;
      const level = () => 0.5 + (r() - 0.5) * spread;
      const { img, size, auto } = letterboxCase(r, k, { maxSide: 400, channels, depth, level });
      const percentiles = k % 2 === 1 ? ([r() * 10, 90 + r() * 10] as [number, number]) : undefined;
      const opts = { size, auto, percentiles };
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
    await expectResizeLikeJs('webgpu', 32, resizeCases([512, 300]));
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
