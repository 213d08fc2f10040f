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
import type { YoloDetections, YoloNmsArgs } from '../js/yoloNms.js';
import type { LetterboxArgs, LetterboxOutput } from '../js/letterbox.js';
import type { ResizeArgs } from '../js/resize.js';
import type { ScaleBoxesArgs } from '../js/scaleBoxes.js';
import type { LogitsToRleArgs, LogitsToRleOutput } from '../js/logitsToRle.js';
import { loadNative, nativeHasOp, nativeStatus, type NativeAddon } from '../../../bindings/native.js';
import { diceCpu, rleDecodeCpu, rleEncodeCpu, rleOverlapCpu } from './rle.js';
import { baselineCpu, dbscanCpu } from './dbscan.js';
import { cocoEvalCpu } from './cocoEval.js';
import type { SoftNmsArgs, SoftNmsOutput } from '../js/softNms.js';
import type { NmmArgs, NmmOutput } from '../js/nmm.js';
import type { WbfArgs, WbfOutput } from '../js/wbf.js';
import type { MaskIouArgs } from '../js/maskIou.js';

function addon(): NativeAddon {
  const a = loadNative();
  if (!a) throw new BackendUnavailableError('cpu', nativeStatus().reason);
  return a;
}

/** Call an addon op that bindings/native.ts does not type (each op's argument object is checked in C++). */
function call<R>(op: string, args: object): Promise<R> {
  return (addon()[op] as (a: object) => Promise<R>)(args);
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
  {
    op: 'yoloNms',
    backend: 'cpu',
    minWork: 2048, // prediction values (85 wide: js faster at 1360, cpu at 2720; 6 wide crosses ~400 but both < 60 µs there)
    supports: () => nativeHasOp('yoloNms'),
    run: (a: YoloNmsArgs): Promise<YoloDetections> => call<YoloDetections>('yoloNms', a),
  },
  {
    op: 'letterbox',
    backend: 'cpu',
    minWork: 3 * 32 * 32, // output samples (js was faster at 3x16x16, slower from 3x32x32)
    supports: () => nativeHasOp('letterbox'),
    async run(a: LetterboxArgs): Promise<LetterboxOutput> {
      const { data, percentiles: q } = a;
      const { low, high } = await call<{ low: number; high: number }>('letterbox', {
        ...a,
        data: data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data,
        stretch: q !== null,
        percentileLow: q?.[0] ?? 0,
        percentileHigh: q?.[1] ?? 100,
      });
      return { data: a.out, low, high };
    },
  },
  {
    op: 'resize',
    backend: 'cpu',
    minWork: 1024, // output elements (cpu was already faster at 256)
    supports: () => nativeHasOp('resize'),
    run: async (a: ResizeArgs): Promise<Float32Array> => (await call<void>('resize', a), a.out),
  },
  {
    op: 'scaleBoxes',
    backend: 'cpu',
    minWork: 2048, // boxes (js faster at 1024, slower at 4096)
    supports: () => nativeHasOp('scaleBoxes'),
    run: async (a: ScaleBoxesArgs): Promise<Float32Array> => (await call<void>('scaleBoxes', a), a.out),
  },
  {
    op: 'logitsToRle',
    backend: 'cpu',
    minWork: 1024, // output pixels, all channels (cpu was already faster at 256)
    supports: () => nativeHasOp('logitsToRle'),
    run: (a: LogitsToRleArgs): Promise<LogitsToRleOutput> => call<LogitsToRleOutput>('logitsToRle', a),
  },
  { op: 'rleEncode', backend: 'cpu', minWork: 1 << 17, supports: () => nativeHasOp('rleEncode'), run: rleEncodeCpu }, // mask bytes
  { op: 'rleDecode', backend: 'cpu', minWork: 1 << 20, supports: () => nativeHasOp('rleDecode'), run: rleDecodeCpu }, // mask bytes
  { op: 'rleOverlap', backend: 'cpu', minWork: 1 << 15, supports: () => nativeHasOp('rleOverlap'), run: rleOverlapCpu }, // run values
  { op: 'dice', backend: 'cpu', minWork: 1 << 17, supports: () => nativeHasOp('dice'), run: diceCpu }, // mask bytes per side
  { op: 'cocoEval', backend: 'cpu', minWork: 256, supports: () => nativeHasOp('cocoEval'), run: cocoEvalCpu }, // detections x ground truths (cpu as fast as js at 2 images / work 328, 3x at 100 images)
  { op: 'dbscan', backend: 'cpu', minWork: 128, supports: () => nativeHasOp('dbscan'), run: dbscanCpu }, // points (equal at 128, js 1.8x slower at 256)
  { op: 'baseline', backend: 'cpu', minWork: 256, supports: () => nativeHasOp('baseline'), run: baselineCpu }, // image pixels (js 2x slower at 8x8, 3x at 16x16)
  {
    op: 'softNms',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('softNms'),
    run: (a: SoftNmsArgs) => call<SoftNmsOutput>('softNms', a),
  }, // boxes
  {
    op: 'nmm',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('nmm'),
    run: (a: NmmArgs) => call<NmmOutput>('nmm', a),
  }, // boxes
  {
    op: 'wbf',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('wbf'),
    run: (a: WbfArgs) => call<WbfOutput>('wbf', a),
  }, // boxes, all models
  {
    op: 'maskIou',
    backend: 'cpu',
    minWork: 4096, // run values x counterpart masks
    supports: () => nativeHasOp('maskIou'),
    async run(a: MaskIouArgs): Promise<Float64Array> {
      const out = new Float64Array((a.dtOffsets.length - 1) * (a.gtOffsets.length - 1));
      await call<void>('maskIou', { ...a, out });
      return out;
    },
  },
];
