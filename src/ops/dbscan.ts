/**
 * DBSCAN clustering with scikit-learn's exact labels (`sklearn.cluster.DBSCAN(eps, min_samples)`,
 * euclidean, default algorithm).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkInteger, checkNotShared, checkPositive, invalid } from '../validate.js';

export interface DbscanArgs {
  /** `[n * dims]` finite coordinates, point-major. */
  points: Float64Array | Float32Array;
  dims: number;
  eps: number;
  minSamples: number;
}

export interface DbscanKernelResult {
  /** Cluster per point, 0..clusters-1, or -1 for noise. */
  labels: Int32Array;
  /** 1 for core points. */
  core: Uint8Array;
  clusters: number;
}

export interface DbscanOptions {
  /** Neighbourhood radius, finite and > 0. Default 0.5 (scikit-learn's default). */
  eps?: number;
  /** Neighbours (self included) a point needs to be core; integer >= 1. Default 5 (scikit-learn's). */
  minSamples?: number;
  /** Coordinates per point, integer >= 1. Default 2. The grid index uses the first two. */
  dims?: number;
  backend?: BackendChoice;
}

export interface DbscanResult extends Ran {
  /** Cluster per point, numbered 0,1,… in order of each cluster's lowest-index core point; -1 = noise. */
  labels: Int32Array;
  /** 1 where the point is a core point (sklearn's `core_sample_indices_` as a mask). */
  core: Uint8Array;
  /** Number of clusters (max label + 1). */
  clusters: number;
}

/** Validates DBSCAN arguments into the kernel's argument object. */
export function dbscanArgs(points: Float64Array | Float32Array, options: DbscanOptions): DbscanArgs {
  if (!(points instanceof Float64Array) && !(points instanceof Float32Array)) {
    invalid('points', 'a Float64Array or Float32Array', points);
  }
  checkNotShared('points', points);
  const dims = checkInteger('dims', options.dims ?? 2, 1, 1 << 20);
  const eps = checkPositive('eps', options.eps ?? 0.5);
  const minSamples = checkInteger('minSamples', options.minSamples ?? 5, 1, 2 ** 31 - 1);
  if (points.length % dims !== 0) {
    invalid(
      'points',
      `a length that is a multiple of ${dims} (${dims === 2 ? 'x,y' : `${dims} coordinates`} per point)`,
      points,
    );
  }
  for (let i = 0; i < points.length; i++) {
    const v = points[i]!;
    if (v - v !== 0)
      invalid(`points[${i}]`, `a finite coordinate (point ${Math.floor(i / dims)}, coordinate ${i % dims})`, v);
  }
  return { points, dims, eps, minSamples };
}

/**
 * DBSCAN (DESIGN "Kernel contracts"): the neighbourhood of p is every q with distance(p, q) <= eps,
 * p included; p is core when it has at least `minSamples`; clusters are numbered in order of their
 * lowest-index core point; a non-core point within eps of a core point takes the smallest such
 * cluster; every other point is -1.
 *
 * "distance <= eps" is decided exactly as scikit-learn 1.2 decides it (squared distances against
 * `eps*eps`; for n <= 11 its brute-force `|x|^2 - 2x.y + |y|^2`; pairs with `S > eps^2` but
 * `sqrt(S) <= eps` as its KD-tree takes them) — see `backends/js/dbscanTies.ts`. Integer
 * coordinates (pixels) are exact everywhere.
 *
 * @param points `[n * dims]` coordinates (Float64Array or Float32Array, finite), point-major
 * @throws InvalidArgumentError when eps is not finite > 0, minSamples is not an integer >= 1, the length
 *   is not a multiple of dims, or a coordinate is NaN/infinite (the error names its index)
 * @example const { labels, clusters } = await dbscan(new Float64Array([0, 0, 0, 1, 9, 9]), { eps: 1.5, minSamples: 2 });
 *   // labels = [0, 0, -1], clusters = 1
 */
export async function dbscan(points: Float64Array | Float32Array, options: DbscanOptions = {}): Promise<DbscanResult> {
  const args = dbscanArgs(points, options);
  const n = points.length / args.dims;
  const { result, backend } = await dispatch('dbscan', args, options.backend, n);
  return { labels: result.labels, core: result.core, clusters: result.clusters, backend };
}
