/**
 * Host side of kernels/rleOverlap.wgsl: both sides' run lists go up, three counts per channel come
 * back (intersection, |a|, |b|), as the reference computes them (integer only).
 */
import type { RleOverlapArgs } from '../../ops/rle.js';
import { GpuContext } from './context.js';
import { flatRuns } from './rleDecode.js';
import { WGSL } from './wgsl.js';

/** Kernel `rleOverlap` on WebGPU: `[C * 3]` intersection, |a|, |b| per channel. */
export async function rleOverlapWebgpu(a: RleOverlapArgs, ctx: GpuContext): Promise<Float64Array> {
  const channels = a.a.length;
  const out = new Float64Array(channels * 3);
  if (channels === 0) return out;
  const fa = flatRuns(a.a);
  const fb = flatRuns(a.b);
  const u = ctx.uniforms([{ u32: channels }]);
  const bufs = [ctx.upload(fa.runs), ctx.upload(fa.first), ctx.upload(fb.runs), ctx.upload(fb.first)] as const;
  const counts = ctx.scratch(channels * 12);
  try {
    const pipeline = await ctx.pipeline('rleOverlap', WGSL.rleOverlap, 'overlap');
    const enc = ctx.device.createCommandEncoder({ label: 'rleOverlap' });
    const pass = enc.beginComputePass();
    const group = ctx.bind(pipeline, { 0: u, 1: bufs[0], 2: bufs[1], 3: bufs[2], 4: bufs[3], 5: counts });
    GpuContext.dispatch(pass, pipeline, group, ctx.cover(channels));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    out.set(new Uint32Array(await ctx.read(counts, channels * 12)));
    return out;
  } finally {
    ctx.release(u, counts, ...bufs);
  }
}
