/**
 * Host side of kernels/dice.wgsl: the `dice` kernel's pixel counts, one image at a time (in groups of
 * classes that fit a storage binding). The masks go up; three counters per class come back.
 */
import type { DiceArgs } from '../../ops/dice.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** `true`, or why these arguments are too large for one dispatch row per class. */
export function diceSupports(a: DiceArgs, ctx: GpuContext): true | string {
  const chunks = Math.ceil(a.pixels / 4 / ctx.workgroupSize);
  if (chunks > ctx.limits.maxComputeWorkgroupsPerDimension) return `${a.pixels} pixels per class is too many`;
  if (a.pixels > ctx.limits.maxStorageBufferBindingSize)
    return `a class of ${a.pixels} bytes exceeds a storage binding`;
  return true;
}

/** Kernel `dice` on WebGPU: `[images * classes * 3]` intersection, |pred|, |truth|, as the reference. */
export async function diceWebgpu(a: DiceArgs, ctx: GpuContext): Promise<Float64Array> {
  const { pred, truth, classes, pixels } = a;
  const out = new Float64Array(pred.length * classes * 3);
  if (classes === 0 || pixels === 0) return out;
  const ok = diceSupports(a, ctx);
  if (ok !== true) throw new RangeError(`dice on webgpu: ${ok}`);
  const pipeline = await ctx.pipeline('dice', WGSL.dice, 'count');
  const perGroup = Math.max(1, Math.floor(ctx.limits.maxStorageBufferBindingSize / pixels));
  const chunks = Math.ceil(pixels / 4 / ctx.workgroupSize);
  const u = ctx.uniforms([{ u32: pixels }]);
  try {
    for (let i = 0; i < pred.length; i++) {
      for (let c0 = 0; c0 < classes; c0 += perGroup) {
        const c1 = Math.min(classes, c0 + perGroup);
        const p = ctx.upload(pred[i]!.subarray(c0 * pixels, c1 * pixels));
        const t = ctx.upload(truth[i]!.subarray(c0 * pixels, c1 * pixels));
        const counts = ctx.zeros((c1 - c0) * 12);
        try {
          const enc = ctx.device.createCommandEncoder({ label: 'dice' });
          const pass = enc.beginComputePass();
          GpuContext.dispatch(pass, pipeline, ctx.bind(pipeline, { 0: u, 1: p, 2: t, 3: counts }), [chunks, c1 - c0]);
          pass.end();
          ctx.device.queue.submit([enc.finish()]);
          const got = new Uint32Array(await ctx.read(counts, (c1 - c0) * 12));
          for (let k = 0; k < got.length; k++) out[(i * classes + c0) * 3 + k] = got[k]!;
        } finally {
          ctx.release(p, t, counts);
        }
      }
    }
    return out;
  } finally {
    ctx.release(u);
  }
}
