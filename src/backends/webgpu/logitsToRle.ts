/**
 * Host side of kernels/logitsToRle.wgsl: the fused logits -> bilinear -> threshold -> runs chain on
 * the GPU, for every channel at once. The logits and the resize taps go up; the mask words are made
 * here and turned into runs by the run stages of kernels/rleEncode.wgsl (./rleEncode.ts): the
 * per-channel run counts come back, then only each run's start and end pixel. The H x W mask never
 * crosses, as bytes or bits.
 */
import type { LogitsToRleArgs, LogitsToRleOutput } from '../../ops/logitsToRle.js';
import { formatRle } from '../../ops/rle.js';
import { runsArea } from '../js/rle.js';
import { rleParams, runsFromWords } from './rleEncode.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';
import { axisTaps as taps } from './resize.js';

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
  const uRuns = rleParams(ctx, channels, outHeight, outWidth, false);
  const bufs = {
    data: ctx.upload(a.data),
    tapsY: ctx.upload(ty.index),
    weightsY: ctx.upload(ty.weight),
    tapsX: ctx.upload(tx.index),
    weightsX: ctx.upload(tx.weight),
    mask: ctx.scratch(cells * 4),
  };
  try {
    const maskWords = await ctx.pipeline('logitsToRle', WGSL.logitsToRle, 'mask_words');
    const enc = ctx.device.createCommandEncoder({ label: 'logitsToRle:mask' });
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
    GpuContext.dispatch(pass, maskWords, ctx.bind(maskWords, inputs), ctx.cover(cells));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const runs = await runsFromWords(ctx, bufs.mask, uRuns, channels, words);
    return { rle: runs.map(formatRle), areas: runs.map(runsArea) };
  } finally {
    ctx.release(u, uRuns, ...Object.values(bufs));
  }
}
