/**
 * Host side of kernels/rleEncode.wgsl: the `rleEncode` kernel (mask bytes up, runs back), and the run
 * stages (count, scan, compact) that logitsToRle shares. Only the per-channel run counts and each
 * run's start and end pixel come back.
 */
import type { RleEncodeArgs } from '../../ops/rle.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** The Params uniform of kernels/rleEncode.wgsl. */
export function rleParams(ctx: GpuContext, channels: number, height: number, width: number, col: boolean): GPUBuffer {
  const words = Math.ceil((height * width) / 32);
  return ctx.uniforms([{ u32: channels }, { u32: words }, { u32: height }, { u32: width }, { u32: col ? 1 : 0 }]);
}

/**
 * Runs of every channel from a buffer of mask words (`channels * words` u32, 32 pixels each, in the
 * runs' order). `u` is kernels/rleEncode.wgsl's Params. Resolves with one `[start, length, ...]` list
 * per channel (0-based starts), as the reference's run lists.
 */
export async function runsFromWords(
  ctx: GpuContext,
  mask: GPUBuffer,
  u: GPUBuffer,
  channels: number,
  words: number,
): Promise<Uint32Array[]> {
  const cells = channels * words;
  const counts = ctx.scratch(cells * 8);
  const offsets = ctx.scratch(cells * 8);
  const totalsBuf = ctx.scratch(channels * 8);
  const extra: GPUBuffer[] = [];
  try {
    const [countRuns, scan, compact] = await Promise.all(
      ['count_runs', 'scan', 'compact'].map((e) => ctx.pipeline('rleEncode', WGSL.rleEncode, e)),
    );
    const enc = ctx.device.createCommandEncoder({ label: 'rle:count' });
    const pass = enc.beginComputePass();
    GpuContext.dispatch(pass, countRuns!, ctx.bind(countRuns!, { 0: u, 6: mask, 7: counts }), ctx.cover(cells));
    GpuContext.dispatch(pass, scan!, ctx.bind(scan!, { 0: u, 7: counts, 8: offsets, 9: totalsBuf }), [channels, 1]);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const totals = new Uint32Array(await ctx.read(totalsBuf, channels * 8));
    const bases = new Uint32Array(channels);
    let total = 0;
    for (let c = 0; c < channels; c++) {
      bases[c] = total;
      total += totals[2 * c]!;
    }
    let starts: Uint32Array = new Uint32Array(0),
      ends: Uint32Array = new Uint32Array(0);
    if (total > 0) {
      const basesBuf = ctx.upload(bases);
      const startsBuf = ctx.scratch(total * 4);
      const endsBuf = ctx.scratch(total * 4);
      extra.push(basesBuf, startsBuf, endsBuf);
      const enc2 = ctx.device.createCommandEncoder({ label: 'rle:compact' });
      const pass2 = enc2.beginComputePass();
      const bind = { 0: u, 6: mask, 8: offsets, 10: basesBuf, 11: startsBuf, 12: endsBuf };
      GpuContext.dispatch(pass2, compact!, ctx.bind(compact!, bind), ctx.cover(cells));
      pass2.end();
      ctx.device.queue.submit([enc2.finish()]);
      const [s, e] = await Promise.all([ctx.read(startsBuf, total * 4), ctx.read(endsBuf, total * 4)]);
      starts = new Uint32Array(s);
      ends = new Uint32Array(e);
    }
    const out: Uint32Array[] = [];
    for (let c = 0; c < channels; c++) {
      const k = totals[2 * c]!;
      const runs = new Uint32Array(k * 2);
      for (let r = 0; r < k; r++) {
        const s = starts[bases[c]! + r]!;
        runs[2 * r] = s;
        runs[2 * r + 1] = ends[bases[c]! + r]! - s + 1;
      }
      out.push(runs);
    }
    return out;
  } finally {
    ctx.release(counts, offsets, totalsBuf, ...extra);
  }
}

/** Kernel `rleEncode` on WebGPU: the same run lists as the reference (row or column order). */
export async function rleEncodeWebgpu(a: RleEncodeArgs, ctx: GpuContext): Promise<Uint32Array[]> {
  const { mask, channels, height, width } = a;
  const n = height * width;
  if (channels === 0) return [];
  if (n === 0) return Array.from({ length: channels }, () => new Uint32Array(0));
  const words = Math.ceil(n / 32);
  const u = rleParams(ctx, channels, height, width, a.order === 'col');
  const bytes = ctx.upload(mask);
  const bits = ctx.scratch(channels * words * 4);
  try {
    const maskBytes = await ctx.pipeline('rleEncode', WGSL.rleEncode, 'mask_bytes');
    const enc = ctx.device.createCommandEncoder({ label: 'rleEncode:pack' });
    const pass = enc.beginComputePass();
    GpuContext.dispatch(pass, maskBytes, ctx.bind(maskBytes, { 0: u, 1: bytes, 6: bits }), ctx.cover(channels * words));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    return await runsFromWords(ctx, bits, u, channels, words);
  } finally {
    ctx.release(u, bytes, bits);
  }
}
