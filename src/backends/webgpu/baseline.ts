/**
 * Host side of kernels/baseline.wgsl: the DBSCAN baseline with the filter chain and the clustering
 * on the GPU, on the image grid itself (the kept pixels are the points, so the grid is free). The
 * image goes up; one word per pixel comes back (its cluster root, noise, or not kept), from which the
 * points, labels and boxes are listed here in the reference's order.
 *
 * Distances between pixels are integers, decided exactly: `dx^2 + dy^2 <= floor(eps^2)`. The one case
 * this cannot reproduce is an eps whose square lies just below an integer S with `sqrt(S) <= eps`
 * (a "sqrt-tie", decided by sklearn's KD-tree leaves, see ../js/dbscanTies.ts): `supports` declines it.
 */
import type { BaselineArgs, BaselineKernelResult } from '../../ops/baseline.js';
import { sqrtTieBound } from '../js/dbscanTies.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** Largest window radius (pixels) the kernels search: (2r+1)^2 = 961 taps per pixel. */
const MAX_RADIUS = 15;
/** Label propagation rounds per submission before the host looks at the `changed` flag. */
const ROUNDS = 8;
const NONE = 0xffffffff;
const NOISE = 0xfffffffe;

/** The integer distance rule for eps: the largest squared distance within eps and the window radius. */
export function integerRadius(eps: number): { maxD2: number; r: number; tie: boolean } {
  const maxD2 = Math.floor(eps * eps);
  const r = Math.floor(Math.sqrt(maxD2));
  return { maxD2, r, tie: maxD2 + 1 <= sqrtTieBound(eps) };
}

/** `true`, or why these arguments do not run here. */
export function baselineSupports(a: BaselineArgs, ctx: GpuContext): true | string {
  if (!(a.eps < MAX_RADIUS + 1)) return `eps ${a.eps} is above the largest window (radius ${MAX_RADIUS})`;
  if (integerRadius(a.eps).tie)
    return `eps ${a.eps} has a sqrt-tie at an integer distance (sklearn's KD-tree decides it)`;
  const bytes = 4 * a.width * a.height;
  if (bytes > ctx.limits.maxStorageBufferBindingSize) return `${bytes} bytes per pixel plane exceed a storage binding`;
  return true;
}

/** Kernel `baseline` on WebGPU: the reference's points, labels, boxes and sizes. */
export async function baselineWebgpu(a: BaselineArgs, ctx: GpuContext): Promise<BaselineKernelResult> {
  const ok = baselineSupports(a, ctx);
  if (ok !== true) throw new RangeError(`baseline on webgpu: ${ok}`);
  const { width, height } = a;
  const n = width * height;
  const { maxD2, r } = integerRadius(a.eps);
  const u = ctx.uniforms([
    { u32: width },
    { u32: height },
    { u32: a.channels },
    { u32: a.scale === 'unit' ? 11 * 255 : 11 },
    { u32: r },
    { u32: maxD2 },
    { u32: Math.min(a.minSamples, 0xffffffff) },
  ]);
  const px = ctx.upload(a.data);
  const masks = [ctx.scratch(4 * n), ctx.scratch(4 * n)] as const;
  const labels = ctx.scratch(4 * n);
  const changed = ctx.zeros(4);
  const result = ctx.scratch(4 * n);
  try {
    const [first, pass, core, propagate, jump, border] = await Promise.all(
      ['filter_first', 'filter_pass', 'core_flags', 'propagate', 'jump', 'border'].map((e) =>
        ctx.pipeline('baseline', WGSL.baseline, e),
      ),
    );
    const groups = ctx.cover(n);
    // The filter chain and the core flags, one submission.
    let enc = ctx.device.createCommandEncoder({ label: 'baseline:filter' });
    let cpass = enc.beginComputePass();
    GpuContext.dispatch(cpass, first!, ctx.bind(first!, { 0: u, 1: px, 3: masks[0] }), groups);
    let cur = 0;
    for (let k = 1; k < a.passes; k++) {
      GpuContext.dispatch(cpass, pass!, ctx.bind(pass!, { 0: u, 2: masks[cur]!, 3: masks[1 - cur]! }), groups);
      cur = 1 - cur;
    }
    const on = masks[cur]!;
    GpuContext.dispatch(cpass, core!, ctx.bind(core!, { 0: u, 2: on, 4: labels }), groups);
    cpass.end();
    ctx.device.queue.submit([enc.finish()]);
    // Connected components of the core pixels: rounds until no label moves.
    const gProp = ctx.bind(propagate!, { 0: u, 4: labels, 5: changed });
    const gJump = ctx.bind(jump!, { 0: u, 4: labels, 5: changed });
    for (;;) {
      enc = ctx.device.createCommandEncoder({ label: 'baseline:components' });
      enc.clearBuffer(changed, 0, 4);
      cpass = enc.beginComputePass();
      for (let k = 0; k < ROUNDS; k++) {
        GpuContext.dispatch(cpass, propagate!, gProp, groups);
        GpuContext.dispatch(cpass, jump!, gJump, groups);
      }
      cpass.end();
      ctx.device.queue.submit([enc.finish()]);
      if (new Uint32Array(await ctx.read(changed, 4))[0] === 0) break;
    }
    enc = ctx.device.createCommandEncoder({ label: 'baseline:border' });
    cpass = enc.beginComputePass();
    GpuContext.dispatch(cpass, border!, ctx.bind(border!, { 0: u, 2: on, 4: labels, 6: result }), groups);
    cpass.end();
    ctx.device.queue.submit([enc.finish()]);
    return listClusters(new Uint32Array(await ctx.read(result, 4 * n)), width, a.box);
  } finally {
    ctx.release(u, px, ...masks, labels, changed, result);
  }
}

/** Points (row-major), labels numbered by root, boxes and sizes from the per-pixel result. */
function listClusters(res: Uint32Array, width: number, box: BaselineArgs['box']): BaselineKernelResult {
  const id = new Map<number, number>();
  let m = 0;
  for (let i = 0; i < res.length; i++) {
    const v = res[i]!;
    if (v === NONE) continue;
    m++;
    if (v === i) id.set(i, id.size); // a root: the lowest core pixel of its cluster, met in index order
  }
  const k = id.size;
  const points = new Int32Array(2 * m);
  const labels = new Int32Array(m);
  const sizes = new Int32Array(k);
  const boxes = new Float32Array(4 * k);
  for (let c = 0; c < k; c++) boxes.set([Infinity, Infinity, -Infinity, -Infinity], 4 * c);
  const edge = box === 'edges' ? 1 : 0;
  for (let i = 0, t = 0; i < res.length; i++) {
    const v = res[i]!;
    if (v === NONE) continue;
    const y = Math.floor(i / width);
    const x = i - y * width;
    points[2 * t] = x;
    points[2 * t + 1] = y;
    const c = v === NOISE ? -1 : id.get(v)!;
    labels[t++] = c;
    if (c < 0) continue;
    sizes[c]!++;
    if (x < boxes[4 * c]!) boxes[4 * c] = x;
    if (y < boxes[4 * c + 1]!) boxes[4 * c + 1] = y;
    if (x + edge > boxes[4 * c + 2]!) boxes[4 * c + 2] = x + edge;
    if (y + edge > boxes[4 * c + 3]!) boxes[4 * c + 3] = y + edge;
  }
  return { boxes, sizes, points, labels };
}
