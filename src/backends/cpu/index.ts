/**
 * The native CPU kernels (C++ in native/cpu/<op>.cc, loaded by bindings/native.ts), registered
 * explicitly (one entry per op) when the addon loads. Each wrapper allocates outputs of known size in
 * JS, calls the addon with the op's argument object, and says in `supports()` when this build lacks
 * the op. `minWork` is the measured crossover below which `auto` keeps the work in JS (a native call
 * costs a thread-pool round trip, ~20-40 µs).
 */
import { BackendUnavailableError } from '../../errors.js';
import type { Kernel } from '../registry.js';
import type { IouArgs } from '../../ops/iou.js';
import type { NmsArgs } from '../js/nms.js';
import { loadNative, nativeHasOp, nativeStatus, type NativeAddon } from '../../../bindings/native.js';

function addon(): NativeAddon {
  const a = loadNative();
  if (!a) throw new BackendUnavailableError('cpu', nativeStatus().reason);
  return a;
}

export const cpuKernels: Kernel<any, any>[] = [
  {
    op: 'iou',
    backend: 'cpu',
    minWork: 4096, // nA * nB
    supports: () => nativeHasOp('iou'),
    async run({ a, b }: IouArgs): Promise<Float32Array> {
      const out = new Float32Array((a.length / 4) * (b.length / 4));
      await addon().iou({ a, b, out });
      return out;
    },
  },
  {
    op: 'nms',
    backend: 'cpu',
    minWork: 64, // boxes
    supports: () => nativeHasOp('nms'),
    run: (args: NmsArgs): Promise<Int32Array> => addon().nms(args),
  },
];
