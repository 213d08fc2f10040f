/**
 * Host side of kernels/resize.wgsl: float32 planes up, the per-axis taps up (made here by the
 * reference's linearTaps, so the indices and float32 weights are the reference's own), the resized
 * planes back. Bit-identical to the js and cpu kernels (the kernel emulates their fused multiply-add).
 */
import type { ResizeArgs } from '../../ops/resize.js';
import { linearTaps } from '../js/resize.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** Taps of one axis as the kernels read them: source index pairs (u32) and weight pairs (f32). */
export function axisTaps(inSize: number, outSize: number): { index: Uint32Array; weight: Float32Array } {
  const t = linearTaps(inSize, outSize, true);
  const index = new Uint32Array(outSize * 2);
  const weight = new Float32Array(outSize * 2);
  for (let d = 0; d < outSize; d++) {
    index[2 * d] = t.i0[d]!;
    index[2 * d + 1] = t.i1[d]!;
    weight[2 * d] = t.w0[d]!;
    weight[2 * d + 1] = t.w1[d]!;
  }
  return { index, weight };
}

/** `true`, or why the planes do not fit one storage binding. */
export function resizeSupports(a: ResizeArgs, ctx: GpuContext): true | string {
  const bytes = 4 * Math.max(a.data.length, a.out.length);
  if (bytes > ctx.limits.maxStorageBufferBindingSize)
    return `${bytes} bytes of planes exceed a storage binding (${ctx.limits.maxStorageBufferBindingSize})`;
  return true;
}

/** Kernel `resize` on WebGPU: writes `a.out` (and returns it). */
export async function resizeWebgpu(a: ResizeArgs, ctx: GpuContext): Promise<Float32Array> {
  const { channels, inHeight, inWidth, outHeight, outWidth, out } = a;
  if (out.length === 0) return out;
  const ok = resizeSupports(a, ctx);
  if (ok !== true) throw new RangeError(`resize on webgpu: ${ok}`);
  const ty = axisTaps(inHeight, outHeight);
  const tx = axisTaps(inWidth, outWidth);
  const u = ctx.uniforms([
    { u32: channels },
    { u32: inHeight },
    { u32: inWidth },
    { u32: outHeight },
    { u32: outWidth },
    { u32: 0 }, // never
  ]);
  const bufs = [
    ctx.upload(a.data),
    ctx.upload(ty.index),
    ctx.upload(ty.weight),
    ctx.upload(tx.index),
    ctx.upload(tx.weight),
    ctx.scratch(out.byteLength),
  ] as const;
  try {
    const pipeline = await ctx.pipeline('resize', WGSL.resize, 'resize');
    const enc = ctx.device.createCommandEncoder({ label: 'resize' });
    const pass = enc.beginComputePass();
    const group = ctx.bind(pipeline, { 0: u, 1: bufs[0], 2: bufs[1], 3: bufs[2], 4: bufs[3], 5: bufs[4], 6: bufs[5] });
    GpuContext.dispatch(pass, pipeline, group, ctx.cover(out.length));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    out.set(new Float32Array(await ctx.read(bufs[5], out.byteLength)));
    return out;
  } finally {
    ctx.release(u, ...bufs);
  }
}
