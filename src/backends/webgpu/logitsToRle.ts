/**
 * Host side of kernels/logitsToRle.wgsl: the fused logits -> bilinear -> threshold -> runs chain on
 * the GPU, for every channel at once. The logits and the resize taps go up; the per-channel run
 * counts (C pairs) come back to size the output; then only each run's start and end pixel come back.
 * The H x W mask never crosses, as bytes or bits.
 */
import type { LogitsToRleArgs, LogitsToRleOutput } from '../../ops/logitsToRle.js';
import { formatRle } from '../../ops/rle.js';
import { linearTaps } from '../js/resize.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** Taps of one axis as the kernel reads them: source indices (u32 pairs) and float32 weights. */
function taps(inSize: number, outSize: number): { index: Uint32Array; weight: Float32Array } {
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

/** Kernel `logitsToRle` on WebGPU: identical strings and areas to the reference. */
export async function logitsToRleWebgpu(a: LogitsToRleArgs, ctx: GpuContext): Promise<LogitsToRleOutput> {
  const { channels, inHeight, inWidth, outHeight, outWidth } = a;
  const n = outHeight * outWidth;
  if (channels === 0) return { rle: [], areas: [] };
  if (n === 0) return { rle: new Array<string>(channels).fill(''), areas: new Array<number>(channels).fill(0) };
  const words = Math.ceil(n / 32);
  const cells = channels * words;
  const ty = taps(inHeight, outHeight);
  const tx = taps(inWidth, outWidth);
  const u = ctx.uniforms([
    { u32: channels },
    { u32: inHeight },
    { u32: inWidth },
    { u32: outHeight },
    { u32: outWidth },
    { u32: words },
    { f32: a.cutoff },
    { u32: 0 }, // never
  ]);
  const bufs = {
    data: ctx.upload(a.data),
    tapsY: ctx.upload(ty.index),
    weightsY: ctx.upload(ty.weight),
    tapsX: ctx.upload(tx.index),
    weightsX: ctx.upload(tx.weight),
    mask: ctx.scratch(cells * 4),
    counts: ctx.scratch(cells * 8),
    offsets: ctx.scratch(cells * 8),
    totals: ctx.scratch(channels * 8),
  };
  const extra: GPUBuffer[] = [];
  try {
    const [maskWords, countRuns, scan, compact] = await Promise.all(
      ['mask_words', 'count_runs', 'scan', 'compact'].map((e) => ctx.pipeline('logitsToRle', WGSL.logitsToRle, e)),
    );
    const enc = ctx.device.createCommandEncoder({ label: 'logitsToRle:count' });
    const pass = enc.beginComputePass();
    const inputs = {
      0: u,
      1: bufs.data,
      2: bufs.tapsY,
      3: bufs.weightsY,
      4: bufs.tapsX,
      5: bufs.weightsX,
      6: bufs.mask,
    };
    GpuContext.dispatch(pass, maskWords!, ctx.bind(maskWords!, inputs), ctx.cover(cells));
    GpuContext.dispatch(
      pass,
      countRuns!,
      ctx.bind(countRuns!, { 0: u, 6: bufs.mask, 7: bufs.counts }),
      ctx.cover(cells),
    );
    GpuContext.dispatch(pass, scan!, ctx.bind(scan!, { 0: u, 7: bufs.counts, 8: bufs.offsets, 9: bufs.totals }), [
      channels,
      1,
    ]);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const totals = new Uint32Array(await ctx.read(bufs.totals, channels * 8));
    const bases = new Uint32Array(channels);
    let total = 0;
    for (let c = 0; c < channels; c++) {
      bases[c] = total;
      total += totals[2 * c]!;
    }
    const rle: string[] = [];
    const areas: number[] = [];
    let starts: Uint32Array = new Uint32Array(0),
      ends: Uint32Array = new Uint32Array(0);
    if (total > 0) {
      const basesBuf = ctx.upload(bases);
      const startsBuf = ctx.scratch(total * 4);
      const endsBuf = ctx.scratch(total * 4);
      extra.push(basesBuf, startsBuf, endsBuf);
      const enc2 = ctx.device.createCommandEncoder({ label: 'logitsToRle:compact' });
      const pass2 = enc2.beginComputePass();
      const bind = { 0: u, 6: bufs.mask, 8: bufs.offsets, 10: basesBuf, 11: startsBuf, 12: endsBuf };
      GpuContext.dispatch(pass2, compact!, ctx.bind(compact!, bind), ctx.cover(cells));
      pass2.end();
      ctx.device.queue.submit([enc2.finish()]);
      [starts, ends] = (await Promise.all([ctx.read(startsBuf, total * 4), ctx.read(endsBuf, total * 4)])).map(
        (b) => new Uint32Array(b),
      ) as [Uint32Array, Uint32Array];
    }
    for (let c = 0; c < channels; c++) {
      const k = totals[2 * c]!;
      const runs = new Uint32Array(k * 2);
      let area = 0;
      for (let r = 0; r < k; r++) {
        const s = starts[bases[c]! + r]!,
          len = ends[bases[c]! + r]! - s + 1;
        runs[2 * r] = s;
        runs[2 * r + 1] = len;
        area += len;
      }
      rle.push(formatRle(runs));
      areas.push(area);
    }
    return { rle, areas };
  } finally {
    ctx.release(u, ...Object.values(bufs), ...extra);
  }
}
