/**
 * DBSCAN, pure TypeScript reference. Equals scikit-learn's `DBSCAN(eps, min_samples).labels_`
 * (euclidean, default algorithm), including pairs exactly eps apart (see ./dbscanTies.ts).
 *
 * Neighbour search uses a uniform grid on the first two coordinates with cells slightly larger than
 * eps, so only the 3x3 surrounding cells are searched: O(n * neighbours) time, O(n) memory.
 * Labelling is sklearn's `dbscan_inner`: visit points by index; an unlabelled core point starts
 * cluster k and everything reachable from it through core points that is still unlabelled gets k.
 * With symmetric neighbourhoods this is exactly DESIGN's order-independent definition (clusters in
 * order of their lowest-index core point; a border point takes the smallest adjacent cluster).
 */
import type { DbscanArgs, DbscanKernelResult } from '../../ops/dbscan.js';
export type { DbscanArgs, DbscanKernelResult } from '../../ops/dbscan.js';
import { bruteNeighbors, resolveSqrtTies, sqrtTieBound, SKLEARN_BRUTE_MAX } from './dbscanTies.js';

/** DBSCAN labels for validated arguments. */
export function dbscan(args: DbscanArgs): DbscanKernelResult {
  const { points, dims, eps, minSamples } = args;
  const n = points.length / dims;
  if (n <= SKLEARN_BRUTE_MAX) return labelSmall(points, dims, n, eps, minSamples);
  return labelGrid(points, dims, n, eps, minSamples);
}

/** n <= 11: sklearn's brute-force neighbourhoods, then its labelling. */
function labelSmall(
  pts: Float64Array | Float32Array,
  dims: number,
  n: number,
  eps: number,
  minSamples: number,
): DbscanKernelResult {
  const { start, adj } = bruteNeighbors(pts, dims, n, eps, pts instanceof Float32Array);
  const core = new Uint8Array(n);
  for (let i = 0; i < n; i++) core[i] = start[i + 1]! - start[i]! >= minSamples ? 1 : 0;
  const labels = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  let k = 0;
  for (let seed = 0; seed < n; seed++) {
    if (labels[seed] !== -1 || !core[seed]) continue;
    labels[seed] = k;
    let top = 0;
    stack[top++] = seed;
    while (top > 0) {
      const p = stack[--top]!;
      for (let t = start[p]!; t < start[p + 1]!; t++) {
        const q = adj[t]!;
        if (labels[q] !== -1) continue;
        labels[q] = k;
        if (core[q]) stack[top++] = q;
      }
    }
    k++;
  }
  return { labels, core, clusters: k };
}

/** Points bucketed into grid cells; everything indexed by sorted position (cell-major). */
export interface Grid {
  /** sorted position -> original index */
  order: Int32Array;
  /** original index -> sorted position */
  pos: Int32Array;
  /** sorted coordinates, `[n * dims]` */
  coords: Float64Array;
  cellStart: Int32Array;
  /** sorted position -> cell */
  cellOfPos: Int32Array;
  /** 9 neighbouring cells (self included) per cell, -1 where empty */
  nbr: Int32Array;
  cells: number;
}

/**
 * Cell side `eps * (1 + 2^-20)`: rounding in `floor((x - min) / side)` can then never put two points
 * within eps of each other (sqrt-ties included) two cells apart. At most 2^26 cells per axis (the side
 * grows for extreme spreads, which costs speed, not correctness). The WebGPU kernel builds its cells
 * with it too (../webgpu/dbscanPoints.ts).
 */
export function buildGrid(pts: Float64Array | Float32Array, dims: number, n: number, eps: number): Grid {
  const two = dims >= 2;
  let minX = Infinity,
    maxX = -Infinity;
  let minY = two ? Infinity : 0,
    maxY = two ? -Infinity : 0;
  for (let i = 0; i < n; i++) {
    const x = pts[i * dims]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (two) {
      const y = pts[i * dims + 1]!;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  const LIMIT = 2 ** 26;
  const side = Math.max(eps * (1 + 2 ** -20), (maxX - minX) / LIMIT, (maxY - minY) / LIMIT);
  const nx = Number.isFinite(side) ? Math.floor((maxX - minX) / side) + 1 : 1;
  const ny = Number.isFinite(side) ? Math.floor((maxY - minY) / side) + 1 : 1;
  const dense = nx * ny <= 4 * n + 4096;

  // Compact ids for the non-empty cells, in order of first appearance.
  const cellOfPoint = new Int32Array(n);
  const cellX: number[] = [];
  const cellY: number[] = [];
  const denseIds = dense ? new Int32Array(nx * ny).fill(-1) : null;
  const sparseIds = dense ? null : new Map<number, number>();
  const lookup = (cx: number, cy: number): number => {
    if (cx < 0 || cy < 0 || cx >= nx || cy >= ny) return -1;
    return denseIds ? denseIds[cx + cy * nx]! : (sparseIds!.get(cx + cy * nx) ?? -1);
  };
  for (let i = 0; i < n; i++) {
    const cx = nx > 1 ? Math.floor((pts[i * dims]! - minX) / side) : 0;
    const cy = ny > 1 ? Math.floor((pts[i * dims + 1]! - minY) / side) : 0;
    let id = lookup(cx, cy);
    if (id < 0) {
      id = cellX.length;
      cellX.push(cx);
      cellY.push(cy);
      if (denseIds) denseIds[cx + cy * nx] = id;
      else sparseIds!.set(cx + cy * nx, id);
    }
    cellOfPoint[i] = id;
  }
  const cells = cellX.length;

  // Counting sort by cell.
  const cellStart = new Int32Array(cells + 1);
  for (let i = 0; i < n; i++) cellStart[cellOfPoint[i]! + 1]!++;
  for (let c = 0; c < cells; c++) cellStart[c + 1]! += cellStart[c]!;
  const fill = cellStart.slice(0, cells);
  const order = new Int32Array(n);
  const pos = new Int32Array(n);
  const cellOfPos = new Int32Array(n);
  const coords = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) {
    const c = cellOfPoint[i]!;
    const p = fill[c]!++;
    order[p] = i;
    pos[i] = p;
    cellOfPos[p] = c;
    for (let k = 0; k < dims; k++) coords[p * dims + k] = pts[i * dims + k]!;
  }

  const nbr = new Int32Array(cells * 9);
  for (let c = 0; c < cells; c++) {
    let t = c * 9;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) nbr[t++] = lookup(cellX[c]! + dx, cellY[c]! + dy);
  }
  return { order, pos, coords, cellStart, cellOfPos, nbr, cells };
}

/** Squared euclidean distance between sorted positions a and b, summed in dimension order as sklearn. */
export function sqDist(c: Float64Array, dims: number, a: number, b: number): number {
  if (dims === 2) {
    const dx = c[2 * a]! - c[2 * b]!;
    const dy = c[2 * a + 1]! - c[2 * b + 1]!;
    return dx * dx + dy * dy;
  }
  let s = 0;
  for (let k = 0; k < dims; k++) {
    const d = c[a * dims + k]! - c[b * dims + k]!;
    s += d * d;
  }
  return s;
}

function labelGrid(
  pts: Float64Array | Float32Array,
  dims: number,
  n: number,
  eps: number,
  minSamples: number,
): DbscanKernelResult {
  const g = buildGrid(pts, dims, n, eps);
  const { coords, cellStart, nbr, order, pos, cellOfPos } = g;
  const r2 = eps * eps;
  const tieBound = sqrtTieBound(eps);

  // Pass 1: neighbour counts (each pair once: within a cell, and towards higher-numbered cells).
  const count = new Int32Array(n);
  const ties: number[] = [];
  for (let c = 0; c < g.cells; c++) {
    const s0 = cellStart[c]!,
      e0 = cellStart[c + 1]!;
    for (let a = s0; a < e0; a++) {
      count[a]!++;
      for (let b = a + 1; b < e0; b++) {
        const d = sqDist(coords, dims, a, b);
        if (d <= r2) {
          count[a]!++;
          count[b]!++;
        } else if (d <= tieBound) ties.push(order[a]!, order[b]!);
      }
    }
    for (let t = c * 9; t < c * 9 + 9; t++) {
      const c2 = nbr[t]!;
      if (c2 <= c) continue;
      const s1 = cellStart[c2]!,
        e1 = cellStart[c2 + 1]!;
      for (let a = s0; a < e0; a++) {
        for (let b = s1; b < e1; b++) {
          const d = sqDist(coords, dims, a, b);
          if (d <= r2) {
            count[a]!++;
            count[b]!++;
          } else if (d <= tieBound) ties.push(order[a]!, order[b]!);
        }
      }
    }
  }

  // sqrt-tie pairs (only with non-integer data): directed extra edges, decided as sklearn's KD-tree does.
  const extra = new Map<number, number[]>();
  if (ties.length > 0) {
    const edges = resolveSqrtTies(pts, dims, n, ties, tieBound);
    for (let t = 0; t < edges.length; t += 2) {
      const from = pos[edges[t]!]!,
        to = pos[edges[t + 1]!]!;
      count[from]!++;
      const list = extra.get(from);
      if (list) list.push(to);
      else extra.set(from, [to]);
    }
  }

  const core = new Uint8Array(n); // by sorted position
  for (let a = 0; a < n; a++) core[a] = count[a]! >= minSamples ? 1 : 0;

  // Pass 2: sklearn's dbscan_inner, seeds in original index order.
  const lab = new Int32Array(n).fill(-1); // by sorted position
  const stack = new Int32Array(n);
  let k = 0;
  for (let seed = 0; seed < n; seed++) {
    const s = pos[seed]!;
    if (lab[s] !== -1 || !core[s]) continue;
    lab[s] = k;
    let top = 0;
    stack[top++] = s;
    while (top > 0) {
      const a = stack[--top]!;
      const c = cellOfPos[a]!;
      for (let t = c * 9; t < c * 9 + 9; t++) {
        const c2 = nbr[t]!;
        if (c2 < 0) continue;
        for (let b = cellStart[c2]!, e1 = cellStart[c2 + 1]!; b < e1; b++) {
          if (lab[b] !== -1 || sqDist(coords, dims, a, b) > r2) continue;
          lab[b] = k;
          if (core[b]) stack[top++] = b;
        }
      }
      const more = extra.size > 0 ? extra.get(a) : undefined;
      if (more) {
        for (const b of more) {
          if (lab[b] !== -1) continue;
          lab[b] = k;
          if (core[b]) stack[top++] = b;
        }
      }
    }
    k++;
  }

  const labels = new Int32Array(n);
  const coreOut = new Uint8Array(n);
  for (let a = 0; a < n; a++) {
    labels[order[a]!] = lab[a]!;
    coreOut[order[a]!] = core[a]!;
  }
  return { labels, core: coreOut, clusters: k };
}
