/**
 * The CUDA backend: kernels in native/cuda/<op>.cu, loaded by bindings/cuda.ts — the GPU build, or the
 * CPU emulation of CUDA (../shared/CUDA-TESTING.md) under tests/CI. Its context is the loaded addon's
 * `cuda` object; arguments and results are the op table's (the addon reuses the cpu argument parsing).
 * The emulated build reports `software: true`, so `auto` never picks it; `backend: 'cuda'` still runs it.
 */
import type { Backend, KernelList } from '../registry.js';
import type { NmsArgs } from '../../ops/nms.js';
import type { YoloDetections, YoloNmsArgs } from '../../ops/yoloNms.js';
import type { LogitsToRleOutput } from '../../ops/logitsToRle.js';
import type { DiceArgs } from '../../ops/dice.js';
import type { LetterboxArgs, LetterboxOutput } from '../../ops/letterbox.js';
import type { ResizeArgs } from '../../ops/resize.js';
import { cudaHasOp, cudaStatus, loadCuda, type CudaAddon } from '../../../bindings/cuda.js';
import type { NativeAddon } from '../../../bindings/native.js';
import { baselineCpu, dbscanCpu } from '../cpu/dbscan.js';
import { letterboxAddonArgs, letterboxNative } from '../cpu/letterbox.js';
import { CudaTensor, cudaHandle, type CudaTensorAddon, type CudaTensorHandle } from './tensor.js';
import { rleDecodeCpu, rleOverlapCpu } from '../cpu/rle.js';

export const cudaBackend: Backend<CudaAddon> = {
  name: 'cuda',
  autoInit: true,
  status() {
    const s = cudaStatus();
    const d = s.device;
    return {
      name: 'cuda',
      available: s.available,
      reason: s.reason,
      software: s.emulated,
      ...(d && d.count > 0 ? { device: `${d.name} (sm_${d.major}${d.minor})` } : {}),
    };
  },
  init: async () => loadCuda(),
  dispose: () => {}, // the addon stays loaded for the life of the process (Node cannot unload it)
};

function call<R>(addon: CudaAddon, op: string, args: object): Promise<R> {
  return (addon[op] as (a: object) => Promise<R>)(args);
}

/** The bindings below take the cpu bindings' arguments (addon_cuda.cc), so the cpu wrappers serve them. */
const asNative = (addon: CudaAddon) => addon as unknown as NativeAddon;
/** The device-tensor bindings (addon_tensor.cc). */
const asTensors = (addon: CudaAddon) => addon as unknown as CudaTensorAddon;

/** NMS on device-resident boxes/scores: only the kept indices come back. */
async function nmsOnDevice(args: NmsArgs, addon: CudaAddon): Promise<Int32Array> {
  const { boxes, scores } = args.device!;
  return call<Int32Array>(addon, 'nmsOnDevice', {
    boxes: cudaHandle('boxes', boxes),
    scores: cudaHandle('scores', scores),
    classes: args.classes,
    iouThreshold: args.iouThreshold,
    scoreThreshold: args.scoreThreshold,
    maxCandidates: args.maxCandidates,
    maxDetections: args.maxDetections,
  });
}

/** Letterbox into a device tensor (`output: 'gpu'`): the planes stay on the device. */
async function letterboxToDevice(a: LetterboxArgs, addon: CudaAddon): Promise<LetterboxOutput> {
  const r = await call<{ low: number; high: number; tensor: CudaTensorHandle }>(
    addon,
    'letterboxToDevice',
    letterboxAddonArgs(a),
  );
  return { data: a.out, low: r.low, high: r.high, device: new CudaTensor(asTensors(addon), r.tensor) };
}

export const cudaKernels: KernelList<CudaAddon> = [
  {
    op: 'nms',
    backend: 'cuda',
    minWork: 4096, // boxes: below this a GPU round trip (~50 µs) costs more than the cpu kernel
    supports: () => cudaHasOp('nms'),
    run: (args: NmsArgs, addon) => (args.device ? nmsOnDevice(args, addon) : call<Int32Array>(addon, 'nms', args)),
  },
  {
    op: 'yoloNms',
    backend: 'cuda',
    minWork: 1 << 16, // prediction values
    supports: () => cudaHasOp('yoloNms'),
    run: (args: YoloNmsArgs, addon) => call<YoloDetections>(addon, 'yoloNms', args),
  },
  {
    op: 'rleEncode',
    backend: 'cuda',
    minWork: 1 << 22, // mask bytes (the mask crosses PCIe once; runs come back)
    supports: () => cudaHasOp('rleEncode'),
    run: ({ mask, channels, height, width, order }, addon) =>
      call<Uint32Array[]>(addon, 'rleEncode', { mask, channels, height, width, order }),
  },
  {
    op: 'logitsToRle',
    backend: 'cuda',
    minWork: 1 << 20, // output pixels, all channels
    supports: () => cudaHasOp('logitsToRle'),
    run: (args, addon) => call<LogitsToRleOutput>(addon, 'logitsToRle', args),
  },
  {
    op: 'dice',
    backend: 'cuda',
    minWork: 1 << 24, // mask bytes per side (both mask sets cross PCIe; 3 counts per pair come back)
    supports: () => cudaHasOp('dice'),
    async run({ pred, truth, classes, pixels }: DiceArgs, addon) {
      const out = new Float64Array(pred.length * classes * 3);
      await call<void>(addon, 'dice', { pred, truth, classes, pixels, out });
      return out;
    },
  },
  {
    op: 'resize',
    backend: 'cuda',
    minWork: 1 << 20, // output elements (input and output cross PCIe)
    supports: () => cudaHasOp('resize'),
    run: async (a: ResizeArgs, addon) => (await call<void>(addon, 'resize', a), a.out),
  },
  {
    op: 'letterbox',
    backend: 'cuda',
    minWork: 1 << 20, // output samples
    supports: () => cudaHasOp('letterbox'),
    run: (a: LetterboxArgs, addon) =>
      a.keepOnDevice ? letterboxToDevice(a, addon) : letterboxNative(a, asNative(addon)),
  },
  {
    op: 'rleDecode',
    backend: 'cuda',
    minWork: 1 << 24, // mask bytes (the mask crosses PCIe back)
    supports: () => cudaHasOp('rleDecode'),
    run: (a, addon) => rleDecodeCpu(a, asNative(addon)),
  },
  {
    op: 'rleOverlap',
    backend: 'cuda',
    minWork: 1 << 22, // run values
    supports: () => cudaHasOp('rleOverlap'),
    run: (a, addon) => rleOverlapCpu(a, asNative(addon)),
  },
  {
    op: 'dbscan',
    backend: 'cuda',
    // points: ~12 launches and 4 host syncs (~0.3 ms) plus the points over PCIe; the cpu grid kernel
    // takes about that for 10-20k points on 2 cores, so the GPU pays off from ~64k
    minWork: 1 << 16,
    supports: () => cudaHasOp('dbscan'),
    run: (a, addon) => dbscanCpu(a, asNative(addon)),
  },
  {
    op: 'baseline',
    backend: 'cuda',
    minWork: 1 << 20, // image pixels (the image crosses PCIe once; points, labels and boxes come back)
    supports: () => cudaHasOp('baseline'),
    run: (a, addon) => baselineCpu(a, asNative(addon)),
  },
];
