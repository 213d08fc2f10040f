/**
 * Host side of kernels/letterbox.wgsl: the HWC samples go up as they are (8- or 16-bit, packed in
 * u32 words), with the per-axis taps of the reference's float64 linearTaps (second-tap weights
 * rounded to f32); the [3, H, W] float32 planes come back. The three (low, range) pairs are the
 * reference's own (`kernelLevels`: the levels per channel, or a percentile stretch's `[low, high]` from
 * the reference's exact histogram, computed here on the host).
 */
import type { LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
import { kernelLevels } from '../js/letterbox.js';
import { linearTaps } from '../js/resize.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';
import { GpuTensor } from './tensor.js';

/** Taps of one axis for the letterbox kernel: source index pairs and the second tap's weight, f32. */
function taps(inSize: number, outSize: number): { index: Uint32Array; weight: Float32Array } {
  const t = linearTaps(inSize, outSize, false);
  const index = new Uint32Array(outSize * 2);
  for (let d = 0; d < outSize; d++) {
    index[2 * d] = t.i0[d]!;
    index[2 * d + 1] = t.i1[d]!;
  }
  return { index, weight: Float32Array.from(t.w1) };
}

/** `true`, or why the image or the output does not fit one storage binding. */
export function letterboxSupports(a: LetterboxArgs, ctx: GpuContext): true | string {
  const max = ctx.limits.maxStorageBufferBindingSize;
  if (a.data.byteLength > max) return `an image of ${a.data.byteLength} bytes exceeds a storage binding (${max})`;
  if (a.out.byteLength > max) return `an output of ${a.out.byteLength} bytes exceeds a storage binding (${max})`;
  return true;
}

/** A letterboxed image left on the GPU: `[3, H, W]` float32 in `buffer` (from the context's pool). */
export interface GpuLetterbox {
  buffer: GPUBuffer;
  /** The pooled percentile values, or entry 0 of the levels (the kernel result's `low`, `high`). */
  low: number;
  high: number;
}

/** Runs the kernel and leaves the planes on the GPU; the caller releases `buffer` to `ctx`. */
export async function letterboxOnGpu(a: LetterboxArgs, ctx: GpuContext): Promise<GpuLetterbox> {
  const ok = letterboxSupports(a, ctx);
  if (ok !== true) throw new RangeError(`letterbox on webgpu: ${ok}`);
  const { low, high, range } = kernelLevels(a);
  const ty = taps(a.height, a.newHeight);
  const tx = taps(a.width, a.newWidth);
  const low32 = low.map(Math.fround);
  const u = ctx.uniforms([
    { u32: a.width },
    { u32: a.height },
    { u32: a.channels },
    { u32: a.data instanceof Uint16Array ? 1 : 0 },
    { u32: a.newWidth },
    { u32: a.newHeight },
    { u32: a.left },
    { u32: a.top },
    { u32: a.outWidth },
    { u32: a.outHeight },
    { f32: a.pad },
    ...low32.map((l) => ({ f32: l })),
    ...low32.map((l, c) => ({ f32: low[c]! - l })),
    ...range.map((r) => ({ f32: r })),
  ]);
  const inputs = [
    ctx.upload(a.data),
    ctx.upload(ty.index),
    ctx.upload(ty.weight),
    ctx.upload(tx.index),
    ctx.upload(tx.weight),
  ] as const;
  const plane = a.outWidth * a.outHeight;
  const buffer = ctx.scratch(3 * plane * 4);
  try {
    const pipeline = await ctx.pipeline('letterbox', WGSL.letterbox, 'letterbox');
    const enc = ctx.device.createCommandEncoder({ label: 'letterbox' });
    const pass = enc.beginComputePass();
    const [px, tyi, tyw, txi, txw] = inputs;
    const group = ctx.bind(pipeline, { 0: u, 1: px, 2: tyi, 3: tyw, 4: txi, 5: txw, 6: buffer });
    GpuContext.dispatch(pass, pipeline, group, ctx.cover(plane));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    return { buffer, low: low[0], high: high[0] };
  } catch (err) {
    ctx.release(buffer);
    throw err;
  } finally {
    ctx.release(u, ...inputs);
  }
}

/** Kernel `letterbox` on WebGPU: writes `a.out`, within 1e-6 of the reference (see the .wgsl). */
export async function letterboxWebgpu(a: LetterboxArgs, ctx: GpuContext): Promise<LetterboxOutput> {
  const { buffer, low, high } = await letterboxOnGpu(a, ctx);
  if (a.keepOnDevice) {
    return { data: a.out, low, high, device: new GpuTensor(ctx, buffer, 3 * a.outWidth * a.outHeight) };
  }
  try {
    a.out.set(new Float32Array(await ctx.read(buffer, a.out.byteLength)));
    return { data: a.out, low, high };
  } finally {
    ctx.release(buffer);
  }
}
