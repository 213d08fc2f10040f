/**
 * Host side of kernels/nms.wgsl: the `nms` kernel, and the sort + suppress chain that yoloNms reuses.
 * Boxes, scores and classes go up once; keys are made and bitonic-sorted on the GPU; the candidate
 * count (4 bytes) comes back to size the IoU mask; the mask is built and scanned in blocks of rows
 * that fit a storage binding; only the kept indices come back.
 */
import type { NmsArgs } from '../../ops/nms.js';
import { GpuContext, f32Below, type Uniform } from './context.js';
import { WGSL } from './wgsl.js';
import { deviceBuffer } from './tensor.js';

/** Mask bytes per block of rows (also bounded by the adapter's storage binding size). */
let maskBlockBytes = 64 << 20;

/** Sets the mask block size (tests use a small one to run many blocks); returns the previous one. */
export function setMaskBlockBytes(bytes: number): number {
  const old = maskBlockBytes;
  maskBlockBytes = bytes;
  return old;
}

/** The Params struct of kernels/nms.wgsl, in declaration order. */
interface NmsParams {
  n?: number;
  p2?: number;
  m?: number;
  words?: number;
  row0?: number;
  rows?: number;
  maxDet?: number;
  useClasses?: boolean;
  scoreThr?: number;
  iouThr?: number;
  offset?: number;
  k?: number;
  j?: number;
}

function params(v: NmsParams): Uniform[] {
  return [
    { u32: v.n ?? 0 },
    { u32: v.p2 ?? 0 },
    { u32: v.m ?? 0 },
    { u32: v.words ?? 0 },
    { u32: v.row0 ?? 0 },
    { u32: v.rows ?? 0 },
    { u32: v.maxDet ?? 0 },
    { u32: v.useClasses ? 1 : 0 },
    { f32: v.scoreThr ?? 0 },
    { f32: v.iouThr ?? 0 },
    { f32: v.offset ?? 0 },
    { u32: v.k ?? 0 },
    { u32: v.j ?? 0 },
    { u32: 0 }, // never
  ];
}

const pipe = (ctx: GpuContext, entry: string) => ctx.pipeline('nms', WGSL.nms, entry);

/** `n` rounded up to a power of two (at least 2). */
export function pow2(n: number): number {
  return Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(1, n))));
}

/** Records the bitonic sort of `keys` (`p2` entries, a power of two) into `enc`. */
export async function encodeSort(
  ctx: GpuContext,
  enc: GPUCommandEncoder,
  keys: GPUBuffer,
  p2: number,
): Promise<GPUBuffer> {
  const steps: NmsParams[] = [];
  for (let k = 2; k <= p2; k *= 2) for (let j = k / 2; j >= 1; j /= 2) steps.push({ p2, k, j });
  const u = ctx.uniformBlocks(steps.map(params));
  const sort = await pipe(ctx, 'sort');
  const groups = ctx.cover(p2 / 2);
  const pass = enc.beginComputePass({ label: 'nms:sort' });
  steps.forEach((_, i) => GpuContext.dispatch(pass, sort, ctx.bind(sort, { 0: u.slot(i), 1: keys }), groups));
  pass.end();
  return u.buffer;
}

/** Inputs of the suppression chain: sorted keys (`.y` = the index to report) and per-index boxes/classes. */
export interface Ranked {
  keys: GPUBuffer;
  boxes: GPUBuffer;
  classes: GPUBuffer;
  /** Candidates entering NMS (the first `m` sorted keys). */
  m: number;
  iouThreshold: number;
  maxDetections: number;
  useClasses: boolean;
  /** Class offset added to every box coordinate (YOLOv5's max_wh), 0 for none. */
  offset: number;
}

/** Gather, IoU mask and greedy scan over `m` ranked candidates; resolves with the kept indices in order. */
export async function suppress(ctx: GpuContext, r: Ranked): Promise<Int32Array> {
  const { m } = r;
  const maxDet = Math.min(r.maxDetections, m);
  if (m === 0 || maxDet === 0) return new Int32Array(0);
  const words = Math.ceil(m / 32);
  const budget = Math.min(maskBlockBytes, ctx.limits.maxStorageBufferBindingSize);
  const rowsPerBlock = Math.max(32, Math.floor(budget / (words * 4) / 32) * 32);
  const blocks = Math.ceil(m / rowsPerBlock);
  const base: NmsParams = {
    m,
    words,
    maxDet,
    useClasses: r.useClasses,
    iouThr: f32Below(r.iouThreshold),
    offset: r.offset,
  };
  const u = ctx.uniformBlocks([
    params(base),
    ...Array.from({ length: blocks }, (_, b) =>
      params({ ...base, row0: b * rowsPerBlock, rows: Math.min(rowsPerBlock, m - b * rowsPerBlock) }),
    ),
  ]);
  const sortedBoxes = ctx.scratch(m * 16);
  const sortedClasses = ctx.scratch(m * 4);
  const mask = ctx.scratch(Math.min(rowsPerBlock, m) * words * 4);
  const removed = ctx.zeros(words * 4);
  const out = ctx.zeros((1 + maxDet) * 4);
  const [gather, build, scan] = await Promise.all([pipe(ctx, 'gather'), pipe(ctx, 'build_mask'), pipe(ctx, 'scan')]);
  const enc = ctx.device.createCommandEncoder({ label: 'nms:suppress' });
  const pass = enc.beginComputePass();
  const g = { 0: u.slot(0), 1: r.keys, 4: r.boxes, 5: r.classes, 6: sortedBoxes, 7: sortedClasses };
  GpuContext.dispatch(pass, gather, ctx.bind(gather, g), ctx.cover(m));
  for (let b = 0; b < blocks; b++) {
    const rows = Math.min(rowsPerBlock, m - b * rowsPerBlock);
    const slot = u.slot(1 + b);
    GpuContext.dispatch(
      pass,
      build,
      ctx.bind(build, { 0: slot, 6: sortedBoxes, 7: sortedClasses, 8: mask }),
      ctx.cover(rows * words),
    );
    GpuContext.dispatch(pass, scan, ctx.bind(scan, { 0: slot, 1: r.keys, 8: mask, 9: removed, 10: out }), [1, 1]);
  }
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
  try {
    const head = new Uint32Array(await ctx.read(out, 4 * (1 + maxDet)));
    return Int32Array.from(head.subarray(1, 1 + head[0]!));
  } finally {
    ctx.release(u.buffer, sortedBoxes, sortedClasses, mask, removed, out);
  }
}

/** Reads the 4-byte candidate counter. */
export async function readCount(ctx: GpuContext, counter: GPUBuffer): Promise<number> {
  return new Uint32Array(await ctx.read(counter, 4))[0]!;
}

/** Kernel `nms` on WebGPU: same arguments and result as the reference (src/backends/js/nms.ts). */
export async function nmsWebgpu(args: NmsArgs, ctx: GpuContext): Promise<Int32Array> {
  const { boxes, scores, classes, device } = args;
  const n = device ? device.scores.length : scores.length;
  if (n === 0 || args.maxCandidates === 0 || args.maxDetections === 0) return new Int32Array(0);
  const p2 = pow2(n);
  // Device tensors are the caller's: used in place, never released here.
  const scoresBuf = device ? deviceBuffer('scores', device.scores, ctx) : ctx.upload(scores);
  const boxesBuf = device ? deviceBuffer('boxes', device.boxes, ctx) : ctx.upload(boxes);
  const classesBuf = classes ? ctx.upload(classes) : ctx.zeros(4);
  const keys = ctx.scratch(p2 * 8);
  const counter = ctx.zeros(4);
  const u = ctx.uniformBlocks([params({ n, p2, scoreThr: f32Below(args.scoreThreshold) })]);
  let sortUniforms: GPUBuffer | null = null;
  try {
    const makeKeys = await pipe(ctx, 'make_keys');
    const enc = ctx.device.createCommandEncoder({ label: 'nms:rank' });
    const pass = enc.beginComputePass();
    GpuContext.dispatch(
      pass,
      makeKeys,
      ctx.bind(makeKeys, { 0: u.slot(0), 1: keys, 2: scoresBuf, 3: counter }),
      ctx.cover(p2),
    );
    pass.end();
    sortUniforms = await encodeSort(ctx, enc, keys, p2);
    ctx.device.queue.submit([enc.finish()]);
    const m = Math.min(await readCount(ctx, counter), args.maxCandidates);
    return await suppress(ctx, {
      keys,
      boxes: boxesBuf,
      classes: classesBuf,
      m,
      iouThreshold: args.iouThreshold,
      maxDetections: args.maxDetections,
      useClasses: classes !== null,
      offset: 0,
    });
  } finally {
    ctx.release(classesBuf, keys, counter, u.buffer);
    if (!device) ctx.release(scoresBuf, boxesBuf);
    if (sortUniforms) ctx.release(sortUniforms);
  }
}
