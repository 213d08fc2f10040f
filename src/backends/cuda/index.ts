/**
 * The CUDA kernels (native/cuda/<op>.cu, loaded by bindings/cuda.ts), registered explicitly (one entry
 * per op) when a CUDA build is usable: the GPU build, or the CPU emulation under tests/CI. Arguments and
 * results are the cpu kernels' (the addon reuses their argument parsing). On the emulated build every
 * kernel has `minWork: Infinity`, so `auto` never picks it; `backend: 'cuda'` still runs it.
 */
import { BackendUnavailableError } from '../../errors.js';
import type { Kernel } from '../registry.js';
import type { NmsArgs } from '../js/nms.js';
import type { YoloDetections, YoloNmsArgs } from '../js/yoloNms.js';
import { cudaHasOp, cudaStatus, loadCuda, type CudaAddon } from '../../../bindings/cuda.js';

function addon(): CudaAddon {
  const a = loadCuda();
  if (!a) throw new BackendUnavailableError('cuda', cudaStatus().reason);
  return a;
}

function call<R>(op: string, args: object): Promise<R> {
  return (addon()[op] as (a: object) => Promise<R>)(args);
}

/** Below this work `auto` keeps to the cpu/js kernels (a GPU round trip costs ~50 µs); Infinity when emulated. */
function minWork(gpu: number): number {
  return cudaStatus().emulated ? Infinity : gpu;
}

/** The cuda backend's kernels; `minWork` is read when they are registered (after the build is chosen). */
export function cudaKernels(): Kernel<any, any>[] {
  return [
    {
      op: 'nms',
      backend: 'cuda',
      minWork: minWork(4096), // boxes
      supports: () => cudaHasOp('nms'),
      run: (args: NmsArgs): Promise<Int32Array> => call<Int32Array>('nms', args),
    },
    {
      op: 'yoloNms',
      backend: 'cuda',
      minWork: minWork(1 << 16), // prediction values
      supports: () => cudaHasOp('yoloNms'),
      run: (a: YoloNmsArgs): Promise<YoloDetections> => call<YoloDetections>('yoloNms', a),
    },
  ];
}
