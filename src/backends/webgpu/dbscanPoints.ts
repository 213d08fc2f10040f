/**
 * Host side of kernels/dbscanPoints.wgsl: DBSCAN on any points the op accepts (fractional, any
 * dims, sparse or huge spreads), with scikit-learn's labels. ./dbscan.ts sends here what its pixel
 * raster does not take.
 *
 * The cells are the js reference's grid (`buildGrid`: side eps*(1+2^-20) on the first two
 * coordinates, a hash of the non-empty cells, so cost follows the points, not the bounding box). Each
 * point is uploaded relative to an origin of its cell (the cell's first point; for coordinates past
 * the second, the middle of their range), in float64, scaled by a power of two that brings eps into
 * [1, 2), then rounded to f32 with a bound on that rounding; so the f32 error follows the cell size,
 * not the coordinates' magnitude. The GPU sorts every pair of neighbouring cells' points into within,
 * beyond, or too close to eps^2 for f32 to tell (see the .wgsl header for the bound); those ambiguous
 * pairs are decided here in float64 by the reference's own `sqDist` and fed back as extra edges.
 *
 * Decided on the host by the reference (src/backends/js/dbscan.ts), and why:
 * - a sqrt-tie among the ambiguous pairs (`S > eps^2` but `sqrt(S) <= eps`): sklearn's KD-tree then
 *   makes some neighbourhoods one-way, and its labels follow its sequential expansion, which the
 *   parallel definition does not reproduce;
 * - more ambiguous pairs than one storage buffer holds (only for eps near the float64 range's ends,
 *   or coordinates past the second spread over ~2^40 eps).
 * n <= 11 (sklearn's brute force, also sequential) is sent to the reference by ./dbscan.ts.
 * `dbscanPointsStats` says what the last call did.
 */
import type { DbscanArgs, DbscanKernelResult } from '../../ops/dbscan.js';
import { buildGrid, dbscan as dbscanReference, sqDist, type Grid } from '../js/dbscan.js';
import { sqrtTieBound } from '../js/dbscanTies.js';
import { GpuContext, f32Below } from './context.js';
import { WGSL } from './wgsl.js';

const NONE = 0xffffffff;
/** Label propagation rounds per submission before the host looks at the `changed` flag. */
const ROUNDS = 8;
/** Scaled coordinates are clamped here (their error bound then says the GPU cannot decide them). */
const CLAMP = 2 ** 40;
/** Error bounds are capped here: a pair with such a bound is never decided in f32 (see the .wgsl). */
const ERR_CAP = 2 ** 63;

/**
 * What the last `dbscanPoints` call did: grid cells, ambiguous pairs, the extra edges they gave, and
 * why the host decided it ('' when the GPU did).
 */
export const dbscanPointsStats = { cells: 0, ambiguous: 0, extraEdges: 0, host: '' };

/** The smallest f32 at or above x (largest at or below with `f32Below`). */
function f32Above(x: number): number {
  return -f32Below(-x);
}

/** An f32 at or above a non-negative error bound (capped: see ERR_CAP). */
function errUp(e: number): number {
  return Math.fround(Math.min(ERR_CAP, e) * (1 + 2 ** -20));
}

/** Stores v (scaled, float64) as f32 at out[i]; returns a bound on |v's exact value - out[i]|. */
function store(v: number, out: Float32Array, i: number): number {
  const f = Math.fround(Math.min(CLAMP, Math.max(-CLAMP, v)));
  out[i] = f;
  // v's own float64 rounding (subtraction, underflow of the scaling) and f32 denormals flushed
  return Math.abs(v - f) + Math.abs(v) * 2 ** -50 + 2 ** -120;
}

interface Prepared {
  rel: Float32Array;
  perr: Float32Array;
  cellOf: Uint32Array;
  cellStart: Uint32Array;
  nbr: Uint32Array;
  delta: Float32Array;
  errDelta: number;
  rLo: number;
  rHi: number;
  absSlack: number;
}

/** The GPU's inputs: relative scaled f32 coordinates with their error bounds, cells, thresholds. */
function prepare(a: DbscanArgs, g: Grid, n: number): Prepared {
  const { dims, eps } = a;
  const c = g.coords;
  // s = 2^-e brings eps into [1, 2) (exact scaling); e is kept where 2^-e and 2^-2e stay finite
  const e = Math.min(1000, Math.max(-1000, Math.floor(Math.log2(eps))));
  const s = 2 ** -e;
  const mid = new Float64Array(dims); // origin of the coordinates past the second
  for (let k = 2; k < dims; k++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let p = 0; p < n; p++) {
      const v = c[p * dims + k]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    mid[k] = lo / 2 + hi / 2;
  }
  const rel = new Float32Array(n * dims);
  const perr = new Float32Array(n);
  const cellOf = new Uint32Array(n);
  for (let cell = 0; cell < g.cells; cell++) {
    const first = g.cellStart[cell]!;
    for (let p = first; p < g.cellStart[cell + 1]!; p++) {
      cellOf[p] = cell;
      let err = 0;
      for (let k = 0; k < dims; k++) {
        const origin = k < 2 ? c[first * dims + k]! : mid[k]!;
        err = Math.max(err, store((c[p * dims + k]! - origin) * s, rel, p * dims + k));
      }
      perr[p] = errUp(err);
    }
  }
  const nbr = new Uint32Array(g.cells * 9);
  const delta = new Float32Array(g.cells * 8);
  let errDelta = 2 ** -120;
  for (let cell = 0; cell < g.cells; cell++) {
    const o = g.cellStart[cell]! * dims;
    for (let j = 0; j < 9; j++) {
      const c2 = g.nbr[cell * 9 + j]!;
      nbr[cell * 9 + j] = c2 < 0 ? NONE : c2;
      if (j < 5 || c2 < 0) continue;
      const o2 = g.cellStart[c2]! * dims;
      for (let k = 0; k < Math.min(2, dims); k++) {
        const t = (cell * 4 + j - 5) * 2 + k;
        errDelta = Math.max(errDelta, store((c[o2 + k]! - c[o + k]!) * s, delta, t));
      }
    }
  }
  const m = dims;
  return {
    rel,
    perr,
    cellOf,
    cellStart: Uint32Array.from(g.cellStart),
    nbr,
    delta,
    errDelta: errUp(errDelta),
    // r2 * s * s in this order: r2 may be Infinity (eps^2 overflows: every pair is within, as in sklearn)
    rLo: f32Below(eps * eps * s * s),
    rHi: f32Above(sqrtTieBound(eps) * s * s),
    // sklearn's S in float64 underflows by up to 2^-1075 per step; f32 denormals flush
    absSlack: Math.fround(((2 * m + 2) * 2 ** (-1074 - 2 * e) + (4 * m + 8) * 2 ** -120) * (1 + 2 ** -20)),
  };
}

/** `true`, or why these points exceed the device's buffers (one binding holds each array). */
export function dbscanPointsSupported(a: DbscanArgs, ctx: GpuContext): true | string {
  const n = a.points.length / a.dims;
  const max = ctx.limits.maxStorageBufferBindingSize;
  if (n * a.dims * 4 > max) return `${n} points x ${a.dims} coordinates exceed one storage buffer (${max} bytes)`;
  if (n * 36 > max) return `${n} points: their cells' neighbour table could exceed one storage buffer (${max} bytes)`;
  return true;
}

/** DBSCAN of `a` on the GPU (see the file header); n >= 1. */
export async function dbscanPoints(a: DbscanArgs, ctx: GpuContext): Promise<DbscanKernelResult> {
  const { dims, eps, points } = a;
  const n = points.length / dims;
  const host = (why: string) => ((dbscanPointsStats.host = why), dbscanReference(a));
  Object.assign(dbscanPointsStats, { cells: 0, ambiguous: 0, extraEdges: 0, host: '' });
  const g = buildGrid(points, dims, n, eps);
  dbscanPointsStats.cells = g.cells;
  const pre = prepare(a, g, n);
  const params = (cap: number, edges: number) =>
    ctx.uniforms([
      { u32: n },
      { u32: dims },
      { u32: cap },
      { u32: Math.min(a.minSamples, 0xffffffff) },
      { u32: edges },
      { f32: pre.rLo },
      { f32: pre.rHi },
      { f32: pre.errDelta },
      { f32: pre.absSlack },
    ]);
  const pipe = (entry: string) => ctx.pipeline('dbscanPoints', WGSL.dbscanPoints, entry);
  const inputs = {
    1: ctx.upload(pre.rel),
    2: ctx.upload(pre.perr),
    3: ctx.upload(pre.cellOf),
    4: ctx.upload(pre.cellStart),
    5: ctx.upload(pre.nbr),
    6: ctx.upload(pre.delta.length > 0 ? pre.delta : new Float32Array(1)),
  };
  const counts = ctx.scratch(4 * n);
  const ambCount = ctx.scratch(4);
  const labels = ctx.scratch(4 * n);
  const changed = ctx.scratch(4);
  const result = ctx.scratch(4 * n);
  const owned: GPUBuffer[] = [...Object.values(inputs), counts, ambCount, labels, changed, result];
  const run = (label: string, steps: [GPUComputePipeline, GPUBindGroup, number][], clear?: GPUBuffer) => {
    const enc = ctx.device.createCommandEncoder({ label: `dbscanPoints:${label}` });
    if (clear) enc.clearBuffer(clear, 0, 4);
    const pass = enc.beginComputePass();
    for (const [p, group, items] of steps) if (items > 0) GpuContext.dispatch(pass, p, group, ctx.cover(items));
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
  };
  try {
    // 1. counts and ambiguous pairs; the list is sized again when it overflowed
    const count = await pipe('count');
    let cap = Math.max(1 << 16, n);
    let ambiguous = 0;
    let amb: GPUBuffer | null = null;
    for (;;) {
      if (8 * cap > ctx.limits.maxStorageBufferBindingSize) {
        return host(`more ambiguous pairs (${ambiguous}) than a storage buffer holds`);
      }
      amb = ctx.scratch(8 * cap);
      owned.push(amb);
      const u = params(cap, 0);
      owned.push(u);
      run('count', [[count, ctx.bind(count, { 0: u, ...inputs, 7: counts, 8: ambCount, 9: amb }), n]], ambCount);
      ambiguous = new Uint32Array(await ctx.read(ambCount, 4))[0]!;
      if (ambiguous <= cap) break;
      cap = ambiguous;
    }
    dbscanPointsStats.ambiguous = ambiguous;

    // 2. the ambiguous pairs, decided as the reference decides them
    const pairs = new Uint32Array(ambiguous > 0 ? await ctx.read(amb, 8 * ambiguous) : new ArrayBuffer(0));
    const r2 = eps * eps;
    const tieBound = sqrtTieBound(eps);
    const extra: number[] = [];
    for (let t = 0; t < pairs.length; t += 2) {
      const d = sqDist(g.coords, dims, pairs[t]!, pairs[t + 1]!);
      if (d <= r2) extra.push(pairs[t]!, pairs[t + 1]!);
      else if (d <= tieBound) return host('a sqrt-tie pair (sklearn decides those sequentially)');
    }
    const edges = extra.length / 2;
    dbscanPointsStats.extraEdges = edges;
    const extraBuf = ctx.upload(edges > 0 ? Uint32Array.from(extra) : new Uint32Array(2));
    const u = params(cap, edges);
    owned.push(extraBuf, u);

    // 3. core flags and components
    const [countExtra, coreInit, propagate, propagateExtra, jump] = await Promise.all(
      ['count_extra', 'core_init', 'propagate', 'propagate_extra', 'jump'].map(pipe),
    );
    const base = { 0: u, ...inputs };
    run('core', [
      [countExtra!, ctx.bind(countExtra!, { 0: u, 7: counts, 12: extraBuf }), edges],
      [coreInit!, ctx.bind(coreInit!, { 0: u, 7: counts, 10: labels }), n],
    ]);
    const rounds: [GPUComputePipeline, GPUBindGroup, number][] = [];
    const dummy = ctx.zeros(4);
    owned.push(dummy);
    const gProp = ctx.bind(propagate!, { ...base, 10: labels, 11: changed, 13: dummy });
    const gExtra = ctx.bind(propagateExtra!, { 0: u, 10: labels, 11: changed, 12: extraBuf });
    const gJump = ctx.bind(jump!, { 0: u, 10: labels, 11: changed });
    for (let k = 0; k < ROUNDS; k++) {
      rounds.push([propagate!, gProp, n], [propagateExtra!, gExtra, edges], [jump!, gJump, n]);
    }
    do run('components', rounds, changed);
    while (new Uint32Array(await ctx.read(changed, 4))[0] !== 0);

    // 4. clusters numbered in order of their lowest-index core point, then border points
    const roots = new Uint32Array(await ctx.read(labels, 4 * n));
    const rank = new Uint32Array(n).fill(NONE);
    let clusters = 0;
    for (let i = 0; i < n; i++) {
      const root = roots[g.pos[i]!]!;
      if (root !== NONE && rank[root] === NONE) rank[root] = clusters++;
    }
    const rankBuf = ctx.upload(rank);
    owned.push(rankBuf);
    const [border, borderExtra] = await Promise.all(['border', 'border_extra'].map(pipe));
    run('border', [
      [border!, ctx.bind(border!, { ...base, 10: labels, 13: rankBuf, 14: result }), n],
      [borderExtra!, ctx.bind(borderExtra!, { 0: u, 10: labels, 12: extraBuf, 13: rankBuf, 14: result }), edges],
    ]);
    const out = new Uint32Array(await ctx.read(result, 4 * n));
    const labelsOut = new Int32Array(n);
    const core = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      const i = g.order[p]!;
      labelsOut[i] = out[p] === NONE ? -1 : out[p]!;
      core[i] = roots[p] !== NONE ? 1 : 0;
    }
    return { labels: labelsOut, core, clusters };
  } finally {
    ctx.release(...owned);
  }
}
