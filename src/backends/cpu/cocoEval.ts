/**
 * Host side of the native `cocoEval` kernel (native/cpu/cocoEval.cc): the same flat arguments as the
 * reference kernel (src/backends/js/cocoEval.ts), outputs allocated here and filled in C++ (bit-identical
 * precision and recall arrays).
 */
import { BackendUnavailableError } from '../../errors.js';
import type { CocoEvalArgs, CocoEvalOutput } from '../js/cocoEval.js';
import { loadNative, nativeStatus } from '../../../bindings/native.js';

type CocoEvalAddon = {
  cocoEval(args: CocoEvalArgs & { precision: Float64Array; recall: Float64Array }): Promise<void>;
};

/** Kernel `cocoEval` on the native CPU backend. */
export async function cocoEvalCpu(args: CocoEvalArgs): Promise<CocoEvalOutput> {
  const a = loadNative();
  if (!a) throw new BackendUnavailableError('cpu', nativeStatus().reason);
  const T = args.iouThrs.length,
    R = args.recThrs.length,
    K = args.numCategories,
    A = args.areaRanges.length / 2,
    M = args.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M);
  const recall = new Float64Array(T * K * A * M);
  await (a as unknown as CocoEvalAddon).cocoEval({ ...args, precision, recall });
  return { precision, recall };
}
