/**
 * Device-resident chaining on the WebGPU backend: letterbox can leave its planes on the device
 * (`output: 'gpu'`), nms can take boxes and scores there; the handles read back and dispose.
 */
import { describe, expect, it } from 'vitest';
import { backendStatus, getKernel, initBackend, registerKernels } from '../src/backends/registry.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { GpuTensor } from '../src/backends/webgpu/tensor.js';
import { WGSL } from '../src/backends/webgpu/wgsl.js';
import { letterbox } from '../src/ops/letterbox.js';
import { InvalidArgumentError } from '../src/errors.js';
import { rng } from './helpers.js';
import { randomImage } from './preprocessFixtures.js';
import { expectNmsOnDevice } from './deviceTensorSpec.js';

const run = backendStatus('webgpu').available ? describe : describe.skip;

/** The backend's context, reached through a kernel registered for this file only. */
async function gpuContext(): Promise<GpuContext> {
  await initBackend('webgpu');
  let seen: GpuContext | null = null;
  registerKernels([
    { op: 'iou', backend: 'webgpu', run: (_a: unknown, ctx: GpuContext) => ((seen = ctx), new Float32Array(0)) },
  ]);
  await getKernel('iou', 'webgpu')!.run({ a: new Float32Array(0), b: new Float32Array(0) });
  return seen!;
}

run('device tensors (webgpu)', () => {
  it("letterbox output: 'gpu' holds exactly the planes the host output gets; read after dispose rejects", async () => {
    const img = randomImage(rng(41), 300, 200, 3);
    const host = await letterbox(img, { size: 160, backend: 'webgpu' });
    const dev = await letterbox(img, { size: 160, output: 'gpu' });
    expect(dev.backend).toBe('webgpu');
    expect(dev.data.length).toBe(0);
    expect(dev.device!.length).toBe(3 * 160 * 160);
    expect(Array.from(await dev.device!.read())).toEqual(Array.from(host.data));
    dev.device!.dispose();
    dev.device!.dispose(); // idempotent
    await expect(dev.device!.read()).rejects.toThrow(/disposed/);
    await expect(letterbox(img, { output: 'gpu', backend: 'cpu' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(letterbox(img, { output: 'gpu', out: new Float32Array(3 * 640 * 640) })).rejects.toThrow(/out/);
  });

  it('nms takes boxes and scores on the device and keeps what the host call keeps', async () => {
    const ctx = await gpuContext();
    await expectNmsOnDevice((d) => GpuTensor.fromHost(ctx, d), 'webgpu', 5000, [
      { iouThreshold: 0.5, scoreThreshold: 0.1 },
    ]);
  });

  it('reports a validation error at the next read instead of returning stale data', async () => {
    const ctx = await gpuContext();
    const pipeline = await ctx.pipeline('rleOverlap', WGSL.rleOverlap, 'overlap');
    const u = ctx.uniforms([{ u32: 1 }]);
    const b = ctx.zeros(4);
    try {
      ctx.bind(pipeline, { 0: u }); // bindings 1-5 missing: a validation error, not an exception
      await expect(ctx.read(b, 4)).rejects.toThrow(/validation failed before this read: .*entries/);
      expect(new Uint32Array(await ctx.read(b, 4))[0]).toBe(0); // reported once
    } finally {
      ctx.release(u, b);
    }
  });
});
