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
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';
import { NOISE, NONE, clusterGrid, integerRadius, radiusSupported } from './dbscan.js';

/** `true`, or why these arguments do not run here. */
export function baselineSupports(a: BaselineArgs, ctx: GpuContext): true | string {
  const ok = radiusSupported(a.eps);
  if (ok !== true) return ok;
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
  ]);
  const px = ctx.upload(a.data);
  const masks = [ctx.scratch(4 * n), ctx.scratch(4 * n)] as const;
  try {
    const [first, pass] = await Promise.all(
      ['filter_first', 'filter_pass'].map((e) => ctx.pipeline('baseline', WGSL.baseline, e)),
    );
    const groups = ctx.cover(n);
    const enc = ctx.device.createCommandEncoder({ label: 'baseline:filter' });
    const cpass = enc.beginComputePass();
    GpuContext.dispatch(cpass, first!, ctx.bind(first!, { 0: u, 1: px, 3: masks[0] }), groups);
    let cur = 0;
    for (let k = 1; k < a.passes; k++) {
      GpuContext.dispatch(cpass, pass!, ctx.bind(pass!, { 0: u, 2: masks[cur]!, 3: masks[1 - cur]! }), groups);
      cur = 1 - cur;
    }
    cpass.end();
    ctx.device.queue.submit([enc.finish()]);
    // The kept pixels (0/1 per pixel) are the points, in row-major order: the grid as it stands.
    const grid = { counts: masks[cur]!, width, height, maxD2, r, minSamples: a.minSamples };
    const { result } = await clusterGrid(ctx, grid);
    return listClusters(result, width, a.box);
  } finally {
    ctx.release(u, px, ...masks);
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
