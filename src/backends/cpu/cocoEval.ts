/**
 * Host side of the native `cocoEval` kernel (native/cpu/cocoEval.cc): the same flat arguments as the
 * reference kernel (src/backends/js/cocoEval.ts), outputs allocated here and filled in C++ (bit-identical
 * precision and recall arrays).
 */
import type { CocoEvalArgs, CocoEvalOutput } from '../../ops/cocoEval.js';
import { requireNative, type NativeAddon } from '../../../bindings/native.js';

/** Kernel `cocoEval` on the native CPU backend. */
export async function cocoEvalCpu(args: CocoEvalArgs, addon: NativeAddon = requireNative()): Promise<CocoEvalOutput> {
  const T = args.iouThrs.length,
    R = args.recThrs.length,
    K = args.numCategories,
    A = args.areaRanges.length / 2,
    M = args.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M);
  const recall = new Float64Array(T * K * A * M);
  await addon.cocoEval({ ...args, precision, recall });
  return { precision, recall };
}
