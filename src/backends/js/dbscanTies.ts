/**
 * How scikit-learn's DBSCAN (1.2, default `algorithm='auto'`, euclidean) decides the pairs that lie
 * on the eps boundary, reproduced so that our labels equal sklearn's there too.
 *
 * sklearn builds its neighbourhoods with `NearestNeighbors(radius=eps)` (n_neighbors left at 5), so:
 * - n <= 11 points (`5 >= n // 2`): brute force with the GEMM expansion
 *   `d2 = max(0, (|x|^2 + (-2 x.y)) + |y|^2)`, neighbour when `d2 <= eps*eps` ({@link bruteNeighbors});
 *   for float32 input the radius is cast to float32 and squared in float32;
 * - n >= 12: a KD-tree (leaf_size 30). A point is tested with the squared distance
 *   `S = dx*dx + dy*dy (+ ...) <= eps*eps`, *but* a whole tree node is taken without testing its points
 *   when the distance to the node box's far corner, `sqrt(U)`, is `<= eps`. That adds exactly the
 *   "sqrt-tie" pairs, `S > eps*eps` while `sqrt(S) <= eps` (e.g. offsets (0.3, 0.4) with eps 0.5), and
 *   only when the far corner of the leaf holding the neighbour passes ({@link resolveSqrtTies}).
 *   Such neighbourhoods are not symmetric; the labelling (sklearn's `dbscan_inner`) handles that.
 *
 * One residual: sklearn takes that root with glibc's `pow(U, 0.5)`, which is not correctly rounded when
 * `sqrt(U)` lies within ~1e-18 (relative) of a rounding midpoint; we use the correctly rounded
 * `Math.sqrt`. Those cases differ between sklearn builds too (glibc, macOS, musl), so no single
 * answer exists there.
 */

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** Largest double `u` with `Math.sqrt(u) <= eps` (eps finite > 0): pairs with `eps^2 < S <= u` are sqrt-ties. */
export function sqrtTieBound(eps: number): number {
  let u = eps * eps;
  if (!Number.isFinite(u)) return Infinity;
  for (let i = 0; i < 64; i++) {
    f64[0] = u;
    u64[0] = u64[0]! + 1n;
    const next = f64[0]!;
    if (Math.sqrt(next) <= eps) u = next;
    else break;
  }
  return u;
}

/** sklearn chooses brute force for n <= this (NearestNeighbors' default n_neighbors 5 >= n // 2). */
export const SKLEARN_BRUTE_MAX = 11;

/**
 * Directed neighbourhoods as sklearn's brute-force RadiusNeighbors computes them for small n: CSR
 * `start[n+1]`, `adj`. Row i lists every j (self included) with `max(0, (N_i + M_ij) + N_j) <= r2`,
 * `N_i = sum_k x_ik^2`, `M_ij = -2 * sum_k x_ik x_jk` (float64, sequential sums, no FMA: this matched
 * sklearn with OpenBLAS in 3000 random trials). `r2 = eps*eps`, or for float32 input
 * `fround(fround(eps)^2)` (sklearn's float32 path squares the radius in float32).
 */
export function bruteNeighbors(
  pts: ArrayLike<number>,
  dims: number,
  n: number,
  eps: number,
  float32: boolean,
): { start: Int32Array; adj: Int32Array } {
  const e32 = Math.fround(eps);
  const r2 = float32 ? Math.fround(e32 * e32) : eps * eps;
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dims; k++) s += pts[i * dims + k]! * pts[i * dims + k]!;
    norm[i] = s;
  }
  const start = new Int32Array(n + 1);
  const list: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < dims; k++) dot += pts[i * dims + k]! * pts[j * dims + k]!;
      const d2 = Math.max(0, norm[i]! + -2 * dot + norm[j]!);
      if (d2 <= r2) list.push(j);
    }
    start[i + 1] = list.length;
  }
  return { start, adj: Int32Array.from(list) };
}

/**
 * Leaves of the KD-tree sklearn builds (leaf_size 30): node i has children 2i+1, 2i+2; a node splits
 * on the dimension of largest spread (first on ties) into the floor(m/2) smallest points by (value,
 * index) and the rest. Returns each point's leaf and every leaf's bounding box (`lo`/`hi`, node*dims).
 */
export function sklearnKdLeaves(pts: ArrayLike<number>, dims: number, n: number, leafSize = 30) {
  const m = Math.max(1, Math.floor((n - 1) / leafSize));
  const nLevels = 31 - Math.clz32(m) + 1;
  const nNodes = 2 ** nLevels - 1;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const leafOf = new Int32Array(n);
  const lo = new Float64Array(nNodes * dims);
  const hi = new Float64Array(nNodes * dims);

  const less = (a: number, b: number, j: number): boolean => {
    const va = pts[a * dims + j]!,
      vb = pts[b * dims + j]!;
    return va < vb || (va === vb && a < b);
  };
  // Hoare quickselect: afterwards idx[s..s+k) holds the k smallest of idx[s..e) (any order).
  const select = (s: number, e: number, k: number, j: number): void => {
    let l = s,
      r = e - 1;
    const target = s + k;
    while (l < r) {
      const mid = (l + r) >>> 1;
      // median of three as pivot
      let a = idx[l]!,
        b = idx[mid]!,
        c = idx[r]!;
      if (less(b, a, j)) [a, b] = [b, a];
      if (less(c, b, j)) [b, c] = [c, b];
      if (less(b, a, j)) [a, b] = [b, a];
      const pivot = b;
      let i = l,
        t = r;
      while (i <= t) {
        while (less(idx[i]!, pivot, j)) i++;
        while (less(pivot, idx[t]!, j)) t--;
        if (i <= t) {
          const tmp = idx[i]!;
          idx[i] = idx[t]!;
          idx[t] = tmp;
          i++;
          t--;
        }
      }
      if (target <= t) r = t;
      else if (target >= i) l = i;
      else return;
    }
  };
  const build = (node: number, s: number, e: number): void => {
    if (2 * node + 1 >= nNodes || e - s < 2) {
      for (let k = 0; k < dims; k++) {
        let mn = Infinity,
          mx = -Infinity;
        for (let p = s; p < e; p++) {
          const v = pts[idx[p]! * dims + k]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        lo[node * dims + k] = mn;
        hi[node * dims + k] = mx;
      }
      for (let p = s; p < e; p++) leafOf[idx[p]!] = node;
      return;
    }
    let splitDim = 0,
      maxSpread = 0;
    for (let k = 0; k < dims; k++) {
      let mn = Infinity,
        mx = -Infinity;
      for (let p = s; p < e; p++) {
        const v = pts[idx[p]! * dims + k]!;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (mx - mn > maxSpread) {
        maxSpread = mx - mn;
        splitDim = k;
      }
    }
    const half = (e - s) >> 1;
    select(s, e, half, splitDim);
    build(2 * node + 1, s, s + half);
    build(2 * node + 2, s + half, e);
  };
  build(0, 0, n);
  return { leafOf, lo, hi };
}

/**
 * Decides the sqrt-tie pairs (original indices, flat `[p0, q0, p1, q1, ...]`) the way sklearn's KD-tree
 * does: q is in p's neighbourhood when the far corner of q's leaf box is within eps of p
 * (`sum_k max(|p_k - lo_k|, |p_k - hi_k|)^2 <= tieBound`), and likewise p in q's. Returns the directed
 * edges taken, flat `[from, to, ...]`.
 */
export function resolveSqrtTies(
  pts: ArrayLike<number>,
  dims: number,
  n: number,
  pairs: ArrayLike<number>,
  tieBound: number,
): number[] {
  const { leafOf, lo, hi } = sklearnKdLeaves(pts, dims, n);
  const within = (p: number, leaf: number): boolean => {
    let u = 0;
    for (let k = 0; k < dims; k++) {
      const v = pts[p * dims + k]!;
      const m = Math.max(Math.abs(v - lo[leaf * dims + k]!), Math.abs(v - hi[leaf * dims + k]!));
      u += m * m;
    }
    return u <= tieBound;
  };
  const edges: number[] = [];
  for (let t = 0; t < pairs.length; t += 2) {
    const p = pairs[t]!,
      q = pairs[t + 1]!;
    if (within(p, leafOf[q]!)) edges.push(p, q);
    if (within(q, leafOf[p]!)) edges.push(q, p);
  }
  return edges;
}
