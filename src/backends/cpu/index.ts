/**
 * The native CPU backend: C++ kernels in native/cpu/<op>.cc, loaded by bindings/native.ts. Its context
 * is the loaded addon (typed from the op table, src/ops/table.ts). Each wrapper allocates outputs of
 * known size in JS, calls the addon with the op's argument object, and says in `supports()` when this
 * build lacks the op. `minWork` is the measured crossover below which `auto` keeps the work in JS (a
 * native call costs a thread-pool round trip, ~20-40 µs).
 */
import type { Backend, KernelList } from '../registry.js';
import { loadNative, nativeHasOp, nativeStatus, type NativeAddon } from '../../../bindings/native.js';
import { diceCpu, rleDecodeCpu, rleEncodeCpu, rleOverlapCpu } from './rle.js';
import { baselineCpu, dbscanCpu } from './dbscan.js';
import { cocoEvalCpu } from './cocoEval.js';
import { cocoEvalPrepareCpu, cocoEvalPrepareCpuSupports } from './cocoEvalPrepare.js';
import { letterboxNative } from './letterbox.js';
import { channelPercentilesCpu } from './channelPercentiles.js';

/** The cpu backend: available when the addon loads; the exact loader's reason when it does not. */
export const cpuBackend: Backend<NativeAddon> = {
  name: 'cpu',
  autoInit: true,
  status() {
    const s = nativeStatus();
    return { name: 'cpu', available: s.available, reason: s.reason };
  },
  async init() {
    const addon = loadNative();
    if (!addon) noticeFallback(nativeStatus().reason);
    return addon;
  },
  dispose: () => {}, // the addon stays loaded for the life of the process (Node cannot unload it)
};

export const cpuKernels: KernelList<NativeAddon> = [
  {
    op: 'iou',
    backend: 'cpu',
    minWork: 4096, // nA * nB
    supports: () => nativeHasOp('iou'),
    async run({ a, b }, addon) {
      const out = new Float32Array((a.length / 4) * (b.length / 4));
      await addon.iou({ a, b, out });
      return out;
    },
  },
  {
    op: 'nms',
    backend: 'cpu',
    minWork: 64, // boxes
    supports: () => nativeHasOp('nms'),
    run: (args, addon) => addon.nms(args),
  },
  {
    op: 'yoloNms',
    backend: 'cpu',
    minWork: 2048, // prediction values (85 wide: js faster at 1360, cpu at 2720; 6 wide crosses ~400 but both < 60 µs there)
    supports: () => nativeHasOp('yoloNms'),
    run: (args, addon) => addon.yoloNms(args),
  },
  {
    op: 'letterbox',
    backend: 'cpu',
    minWork: 3 * 32 * 32, // output samples (js was faster at 3x16x16, slower from 3x32x32)
    supports: () => nativeHasOp('letterbox'),
    run: letterboxNative,
  },
  {
    op: 'channelPercentiles',
    backend: 'cpu',
    minWork: 1 << 14, // samples (8-bit: js as fast at 6k, 2.5x slower at 24k; 16-bit: js slower at every size)
    supports: () => nativeHasOp('channelPercentiles'),
    run: channelPercentilesCpu,
  },
  {
    op: 'resize',
    backend: 'cpu',
    minWork: 1024, // output elements (cpu was already faster at 256)
    supports: () => nativeHasOp('resize'),
    run: async (a, addon) => (await addon.resize(a), a.out),
  },
  {
    op: 'scaleBoxes',
    backend: 'cpu',
    minWork: 2048, // boxes (js faster at 1024, slower at 4096)
    supports: () => nativeHasOp('scaleBoxes'),
    run: async (a, addon) => (await addon.scaleBoxes(a), a.out),
  },
  {
    op: 'logitsToRle',
    backend: 'cpu',
    minWork: 1024, // output pixels, all channels (cpu was already faster at 256)
    supports: () => nativeHasOp('logitsToRle'),
    run: (a, addon) => addon.logitsToRle(a),
  },
  { op: 'rleEncode', backend: 'cpu', minWork: 1 << 17, supports: () => nativeHasOp('rleEncode'), run: rleEncodeCpu }, // mask bytes
  { op: 'rleDecode', backend: 'cpu', minWork: 1 << 20, supports: () => nativeHasOp('rleDecode'), run: rleDecodeCpu }, // mask bytes
  { op: 'rleOverlap', backend: 'cpu', minWork: 1 << 15, supports: () => nativeHasOp('rleOverlap'), run: rleOverlapCpu }, // run values
  { op: 'dice', backend: 'cpu', minWork: 1 << 17, supports: () => nativeHasOp('dice'), run: diceCpu }, // mask bytes per side
  { op: 'cocoEval', backend: 'cpu', minWork: 256, supports: () => nativeHasOp('cocoEval'), run: cocoEvalCpu }, // detections x ground truths (cpu as fast as js at 2 images / work 328, 3x at 100 images)
  {
    op: 'cocoEvalPrepare',
    backend: 'cpu',
    supports: (a) => {
      const ok = nativeHasOp('cocoEvalPrepare');
      return ok === true ? cocoEvalPrepareCpuSupports(a) : ok;
    },
    run: cocoEvalPrepareCpu,
  },
  {
    op: 'cocoPolygons',
    backend: 'cpu',
    minWork: 64, // masks (JS rasterises ~30k polygons a second: a native call pays from a few dozen)
    supports: () => nativeHasOp('cocoPolygons'),
    run: (a, addon) => addon.cocoPolygons(a),
  },
  { op: 'dbscan', backend: 'cpu', minWork: 128, supports: () => nativeHasOp('dbscan'), run: dbscanCpu }, // points (equal at 128, js 1.8x slower at 256)
  { op: 'baseline', backend: 'cpu', minWork: 256, supports: () => nativeHasOp('baseline'), run: baselineCpu }, // image pixels (js 2x slower at 8x8, 3x at 16x16)
  {
    op: 'softNms',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('softNms'),
    run: (a, addon) => addon.softNms(a),
  }, // boxes
  {
    op: 'nmm',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('nmm'),
    run: (a, addon) => addon.nmm(a),
  }, // boxes
  {
    op: 'wbf',
    backend: 'cpu',
    minWork: 64,
    supports: () => nativeHasOp('wbf'),
    run: (a, addon) => addon.wbf(a),
  }, // boxes, all models
  {
    op: 'maskIou',
    backend: 'cpu',
    minWork: 4096, // run values x counterpart masks
    supports: () => nativeHasOp('maskIou'),
    async run(a, addon) {
      const out = new Float64Array((a.dtOffsets.length - 1) * (a.gtOffsets.length - 1));
      await addon.maskIou({ ...a, out });
      return out;
    },
  },
];

const NOTICE = Symbol.for('maskbox.nativeFallbackNotice');

/** One line on stderr, once per process, saying that `auto` runs JS and why (not with MASKBOX_QUIET, nor under vitest). */
function noticeFallback(reason: string): void {
  const g = globalThis as { [NOTICE]?: boolean };
  if (g[NOTICE]) return;
  g[NOTICE] = true;
  const quiet = process.env.MASKBOX_QUIET;
  if ((quiet !== undefined && quiet !== '' && quiet !== '0') || process.env.VITEST) return;
  process.stderr.write(
    `maskbox: native CPU backend unavailable, using JavaScript kernels: ${reason} (set MASKBOX_QUIET=1 to hide this)\n`,
  );
}
