/**
 * Host side of the native DBSCAN kernels (native/cpu/dbscan.cc, dbscanTies.cc, baseline.cc,
 * filter3x3.cc): the `dbscan` and `baseline` ops, same arguments and results as
 * src/backends/js/dbscan.ts and baseline.ts.
 *
 * The native DBSCAN handles every input itself, scikit-learn's boundary rules included (n <= 11 brute
 * force, float32 radius rounding, sqrt-tie pairs decided as its KD-tree does): no JS fallback, so a
 * result that says `cpu` was computed in C++.
 */
import type { DbscanArgs, DbscanKernelResult } from '../../ops/dbscan.js';
import type { BaselineArgs, BaselineKernelResult } from '../../ops/baseline.js';
import { requireNative, type NativeAddon } from '../../../bindings/native.js';

/** Kernel `dbscan`: labels, core flags and cluster count; outputs allocated here. */
export async function dbscanCpu(args: DbscanArgs, addon: NativeAddon = requireNative()): Promise<DbscanKernelResult> {
  const n = args.points.length / args.dims;
  const labels = new Int32Array(n);
  const core = new Uint8Array(n);
  const { points, dims, eps, minSamples } = args;
  const clusters = await addon.dbscan({ points, dims, eps, minSamples, labels, core });
  return { labels, core, clusters };
}

/** Kernel `baseline`: the whole detector (filter chain, DBSCAN, boxes) in one native call. */
export function baselineCpu(args: BaselineArgs, addon: NativeAddon = requireNative()): Promise<BaselineKernelResult> {
  const { data, width, height, channels, eps, minSamples, passes } = args;
  return addon.baseline({
    data,
    width,
    height,
    channels,
    eps,
    minSamples,
    passes,
    unit: args.scale === 'unit',
    edges: args.box === 'edges',
  });
}
