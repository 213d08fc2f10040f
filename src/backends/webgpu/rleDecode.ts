/**
 * Host side of kernels/rleDecode.wgsl: the run lists go up (concatenated, with per-channel offsets),
 * the [C, H, W] mask bytes come back. Identical to the reference (integer only).
 */
import type { RleDecodeArgs } from '../../ops/rle.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** Run lists as one array of (start, length) pairs and `lists.length + 1` offsets (in pairs). */
export function flatRuns(lists: readonly Uint32Array[]): { runs: Uint32Array; first: Uint32Array } {
  const first = new Uint32Array(lists.length + 1);
  for (let c = 0; c < lists.length; c++) first[c + 1] = first[c]! + lists[c]!.length / 2;
  const runs = new Uint32Array(Math.max(2, 2 * first[lists.length]!)); // never an empty binding
  lists.forEach((r, c) => runs.set(r, 2 * first[c]!));
  return { runs, first };
}

/** `true`, or why the mask does not fit one storage binding. */
export function rleDecodeSupports(a: RleDecodeArgs, ctx: GpuContext): true | string {
  const bytes = a.runs.length * a.height * a.width;
  if (bytes > ctx.limits.maxStorageBufferBindingSize) return `a ${bytes}-byte mask exceeds a storage binding`;
  return true;
}

/** Kernel `rleDecode` on WebGPU: `[C * H * W]` bytes, 0/1. */
export async function rleDecodeWebgpu(a: RleDecodeArgs, ctx: GpuContext): Promise<Uint8Array> {
  const n = a.runs.length * a.height * a.width;
  if (n === 0) return new Uint8Array(0);
  const ok = rleDecodeSupports(a, ctx);
  if (ok !== true) throw new RangeError(`rleDecode on webgpu: ${ok}`);
  const words = Math.ceil(n / 4);
  const { runs, first } = flatRuns(a.runs);
  const u = ctx.uniforms([
    { u32: a.runs.length },
    { u32: a.height },
    { u32: a.width },
    { u32: a.order === 'col' ? 1 : 0 },
    { u32: words },
  ]);
  const bufs = [ctx.upload(runs), ctx.upload(first), ctx.scratch(words * 4)] as const;
  try {
    const pipeline = await ctx.pipeline('rleDecode', WGSL.rleDecode, 'decode');
    const enc = ctx.device.createCommandEncoder({ label: 'rleDecode' });
    const pass = enc.beginComputePass();
    GpuContext.dispatch(
      pass,
      pipeline,
      ctx.bind(pipeline, { 0: u, 1: bufs[0], 2: bufs[1], 3: bufs[2] }),
      ctx.cover(words),
    );
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    return new Uint8Array(await ctx.read(bufs[2], n));
  } finally {
    ctx.release(u, ...bufs);
  }
}
