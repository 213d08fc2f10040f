/**
 * The CUDA kernels (native/cuda/<op>.cu, loaded by bindings/cuda.ts), registered explicitly (one entry
 * per op) when a CUDA build is usable: the GPU build, or the CPU emulation under tests/CI. Arguments and
 * results are the cpu kernels' (the addon reuses their argument parsing). On the emulated build every
 * kernel has `minWork: Infinity`, so `auto` never picks it; `backend: 'cuda'` still runs it.
 */
import type { Backend, KernelList } from '../registry.js';
import { cudaHasOp, cudaStatus, loadCuda, type CudaAddon } from '../../../bindings/cuda.js';
import type { OpArgs, OpResult } from '../../ops/table.js';

/** The cuda backend; its context is the CUDA build in use. The emulated build is `software`: `auto` never picks it. */
export const cudaBackend: Backend<CudaAddon> = {
  name: 'cuda',
  autoInit: true,
  status() {
    const s = cudaStatus();
    return {
      name: 'cuda',
      available: s.available,
      reason: s.reason,
      ...(s.device && s.available ? { device: s.device.name } : {}),
      ...(s.emulated && s.available ? { software: true } : {}),
    };
  },
  init: async () => loadCuda(),
  dispose: () => {},
};

/** A kernel of the CUDA build (its functions take the cpu kernels' arguments; see native/cuda/addon_cuda.cc). */
function call<Op extends 'nms' | 'yoloNms'>(op: Op) {
  return (args: OpArgs<Op>, addon: CudaAddon) => (addon[op] as (a: OpArgs<Op>) => Promise<OpResult<Op>>)(args);
}

/** Below this work `auto` keeps to the cpu/js kernels (a GPU round trip costs ~50 µs); Infinity when emulated. */
function minWork(gpu: number): number {
  return cudaStatus().emulated ? Infinity : gpu;
}

/** The cuda backend's kernels; `minWork` is read when they are registered (after the build is chosen). */
export function cudaKernels(): KernelList<CudaAddon> {
  return [
    {
      op: 'nms',
      backend: 'cuda',
      minWork: minWork(4096), // boxes
      supports: () => cudaHasOp('nms'),
      run: call('nms'),
    },
    {
      op: 'yoloNms',
      backend: 'cuda',
      minWork: minWork(1 << 16), // prediction values
      supports: () => cudaHasOp('yoloNms'),
      run: call('yoloNms'),
    },
  ];
}
