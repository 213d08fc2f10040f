/**
 * Host side of the WebGPU `dbscan` kernel, which takes every input the op accepts, with sklearn's
 * labels. Three paths, in the order tried:
 * - n <= 11: sklearn's brute force labels these sequentially from its own (GEMM-expanded)
 *   neighbourhoods; the host runs the reference (src/backends/js/dbscan.ts) on them: a handful of
 *   points, no GPU work to speak of.
 * - integer 1-D/2-D points on a dense enough grid with eps <= 15 and no integer sqrt-tie (pixel
 *   coordinates, the baseline's and the CLI's case): rasterised here onto kernels/dbscan.wgsl's grid,
 *   where a cell holds the number of points on it. Integer distances are decided exactly:
 *   `dx^2 + dy^2 <= floor(eps^2)`. The baseline's kept pixels are such a grid as they stand (./baseline.ts).
 * - everything else (fractional coordinates, more dimensions, sparse spreads, large eps):
 *   ./dbscanPoints.ts, f32 on the GPU with the pairs f32 cannot decide sent back to the host.
 */
import type { DbscanArgs, DbscanKernelResult } from '../../ops/dbscan.js';
import { SKLEARN_BRUTE_MAX, sqrtTieBound } from '../js/dbscanTies.js';
import { dbscan as dbscanReference } from '../js/dbscan.js';
import { dbscanPoints, dbscanPointsSupported } from './dbscanPoints.js';
import { GpuContext } from './context.js';
import { WGSL } from './wgsl.js';

/** Largest window radius (cells) the kernels search: (2r+1)^2 = 961 taps per cell. */
const MAX_RADIUS = 15;
/** Label propagation rounds per submission before the host looks at the `changed` flag. */
const ROUNDS = 8;
export const NONE = 0xffffffff;
export const NOISE = 0xfffffffe;

/** The integer distance rule for `r2` (the squared radius the reference compares with). */
export function integerRadius(eps: number, r2 = eps * eps): { maxD2: number; r: number; tie: boolean } {
  const maxD2 = Math.floor(r2);
  const r = Math.floor(Math.sqrt(maxD2));
  return { maxD2, r, tie: maxD2 + 1 <= sqrtTieBound(eps) };
}

/** `true`, or why `eps` cannot be decided on the integer grid. */
export function radiusSupported(eps: number): true | string {
  if (!(eps < MAX_RADIUS + 1)) return `eps ${eps} is above the largest window (radius ${MAX_RADIUS})`;
  if (integerRadius(eps).tie) return `eps ${eps} has a sqrt-tie at an integer distance (sklearn's KD-tree decides it)`;
  return true;
}

export interface Grid {
  counts: GPUBuffer;
  width: number;
  height: number;
  maxD2: number;
  r: number;
  minSamples: number;
}

/**
 * Core flags and connected components on the grid, then each cell's cluster (`rank` given: it numbers
 * the roots, from the core labels; else the root index is the number). Returns the result per cell
 * (cluster, NOISE, or NONE for empty cells) and the core label per cell (root or NONE).
 */
export async function clusterGrid(
  ctx: GpuContext,
  g: Grid,
  rank?: (roots: Uint32Array) => Uint32Array,
): Promise<{ result: Uint32Array; roots: Uint32Array | null }> {
  const n = g.width * g.height;
  const u = ctx.uniforms([
    { u32: g.width },
    { u32: g.height },
    { u32: g.r },
    { u32: g.maxD2 },
    { u32: Math.min(g.minSamples, 0xffffffff) },
    { u32: rank ? 1 : 0 },
  ]);
  const labels = ctx.scratch(4 * n);
  const changed = ctx.zeros(4);
  const result = ctx.scratch(4 * n);
  let rankBuf: GPUBuffer | null = null;
  try {
    const [core, propagate, jump, border] = await Promise.all(
      ['core_flags', 'propagate', 'jump', 'border'].map((e) => ctx.pipeline('dbscan', WGSL.dbscan, e)),
    );
    const groups = ctx.cover(n);
    let enc = ctx.device.createCommandEncoder({ label: 'dbscan:core' });
    let pass = enc.beginComputePass();
    GpuContext.dispatch(pass, core!, ctx.bind(core!, { 0: u, 1: g.counts, 2: labels }), groups);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const gProp = ctx.bind(propagate!, { 0: u, 2: labels, 3: changed });
    const gJump = ctx.bind(jump!, { 0: u, 2: labels, 3: changed });
    for (;;) {
      enc = ctx.device.createCommandEncoder({ label: 'dbscan:components' });
      enc.clearBuffer(changed, 0, 4);
      pass = enc.beginComputePass();
      for (let k = 0; k < ROUNDS; k++) {
        GpuContext.dispatch(pass, propagate!, gProp, groups);
        GpuContext.dispatch(pass, jump!, gJump, groups);
      }
      pass.end();
      ctx.device.queue.submit([enc.finish()]);
      if (new Uint32Array(await ctx.read(changed, 4))[0] === 0) break;
    }
    let roots: Uint32Array | null = null;
    if (rank) {
      roots = new Uint32Array(await ctx.read(labels, 4 * n));
      rankBuf = ctx.upload(rank(roots));
    } else rankBuf = ctx.zeros(4); // bound all the same: the entry point uses the binding
    const entries = { 0: u, 1: g.counts, 2: labels, 4: result, 5: rankBuf };
    enc = ctx.device.createCommandEncoder({ label: 'dbscan:border' });
    pass = enc.beginComputePass();
    GpuContext.dispatch(pass, border!, ctx.bind(border!, entries), groups);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    return { result: new Uint32Array(await ctx.read(result, 4 * n)), roots };
  } finally {
    ctx.release(u, labels, changed, result);
    if (rankBuf) ctx.release(rankBuf);
  }
}

/** The grid the points span (1-D or 2-D integer coordinates), or why they do not fit one. */
function pointGrid(
  a: DbscanArgs,
  maxCells: number,
): { minX: number; minY: number; width: number; height: number } | string {
  const { points, dims } = a;
  if (points.length === 0) return { minX: 0, minY: 0, width: 0, height: 0 };
  if (dims > 2) return `${dims}-D points (the grid kernels take 1-D and 2-D)`;
  let minX = Infinity,
    maxX = -Infinity,
    minY = 0,
    maxY = 0;
  if (dims === 2) [minY, maxY] = [Infinity, -Infinity];
  for (let i = 0; i < points.length; i += dims) {
    const x = points[i]!;
    if (!Number.isInteger(x)) return 'fractional coordinates';
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (dims === 2) {
      const y = points[i + 1]!;
      if (!Number.isInteger(y)) return 'fractional coordinates';
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  const width = maxX - minX + 1,
    height = maxY - minY + 1;
  const n = points.length / dims;
  if (width * height > maxCells || width * height > 16 * n + (1 << 20))
    return `integer points spread over ${width}x${height} cells: too sparse for the grid kernels`;
  return { minX, minY, width, height };
}

/** The raster grid for these points, or why they do not fit it (then ./dbscanPoints.ts takes them). */
function rasterGrid(a: DbscanArgs, ctx: GpuContext) {
  const ok = radiusSupported(a.eps);
  return ok !== true ? ok : pointGrid(a, Math.min(2 ** 26, ctx.limits.maxStorageBufferBindingSize / 4));
}

/** `true`, or why these points exceed the device's buffers (every other input runs). */
export function dbscanSupports(a: DbscanArgs, ctx: GpuContext): true | string {
  const n = a.points.length / a.dims;
  if (n <= SKLEARN_BRUTE_MAX || typeof rasterGrid(a, ctx) !== 'string') return true;
  return dbscanPointsSupported(a, ctx);
}

/** Kernel `dbscan` on WebGPU: the reference's labels, core flags and cluster count. */
export async function dbscanWebgpu(a: DbscanArgs, ctx: GpuContext): Promise<DbscanKernelResult> {
  const n = a.points.length / a.dims;
  if (n === 0) return { labels: new Int32Array(0), core: new Uint8Array(0), clusters: 0 };
  if (n <= SKLEARN_BRUTE_MAX) return dbscanReference(a);
  const g = rasterGrid(a, ctx);
  if (typeof g === 'string') return dbscanPoints(a, ctx);
  const { maxD2, r } = integerRadius(a.eps);
  const cell = new Uint32Array(n);
  const counts = new Uint32Array(g.width * g.height);
  for (let i = 0; i < n; i++) {
    const x = a.points[i * a.dims]! - g.minX;
    const y = a.dims === 2 ? a.points[i * a.dims + 1]! - g.minY : 0;
    cell[i] = y * g.width + x;
    counts[cell[i]!]!++;
  }
  const countsBuf = ctx.upload(counts);
  let clusters = 0;
  try {
    // Clusters are numbered in order of their lowest-index core point: walk the points in index order.
    const numberRoots = (roots: Uint32Array): Uint32Array => {
      const rank = new Uint32Array(roots.length).fill(NONE);
      for (let i = 0; i < n; i++) {
        const root = roots[cell[i]!]!;
        if (root !== NONE && rank[root] === NONE) rank[root] = clusters++;
      }
      return rank;
    };
    const { result, roots } = await clusterGrid(
      ctx,
      { counts: countsBuf, width: g.width, height: g.height, maxD2, r, minSamples: a.minSamples },
      numberRoots,
    );
    const labels = new Int32Array(n);
    const core = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = result[cell[i]!]!;
      labels[i] = v === NOISE ? -1 : v;
      core[i] = roots![cell[i]!] !== NONE ? 1 : 0;
    }
    return { labels, core, clusters };
  } finally {
    ctx.release(countsBuf);
  }
}
