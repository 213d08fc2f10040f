/** The pure-TypeScript reference backend: always available, no context; every kernel registered explicitly (one line per op). */
import type { Backend, KernelList } from '../registry.js';
import { iou } from './iou.js';
import { nms } from './nms.js';
import { yoloNms } from './yoloNms.js';
import { letterbox } from './letterbox.js';
import { channelPercentiles } from './channelPercentiles.js';
import { resize } from './resize.js';
import { scaleBoxes } from './scaleBoxes.js';
import { rleDecode, rleEncode, rleOverlap } from './rle.js';
import { dice } from './dice.js';
import { dbscan } from './dbscan.js';
import { baseline } from './baseline.js';
import { logitsToRle } from './logitsToRle.js';
import { softNms } from './softNms.js';
import { nmm } from './nmm.js';
import { wbf } from './wbf.js';
import { maskIou } from './maskIou.js';

/** The js backend: nothing to acquire or release. */
export const jsBackend: Backend<null> = {
  name: 'js',
  autoInit: true,
  status: () => ({ name: 'js', available: true, reason: 'pure TypeScript reference kernels' }),
  init: async () => null,
  dispose: () => {},
};

export const jsKernels: KernelList<null> = [
  { op: 'iou', backend: 'js', run: iou },
  { op: 'nms', backend: 'js', run: nms },
  { op: 'yoloNms', backend: 'js', run: yoloNms },
  { op: 'letterbox', backend: 'js', run: letterbox },
  { op: 'channelPercentiles', backend: 'js', run: channelPercentiles },
  { op: 'resize', backend: 'js', run: resize },
  { op: 'scaleBoxes', backend: 'js', run: scaleBoxes },
  { op: 'rleEncode', backend: 'js', run: rleEncode },
  { op: 'rleDecode', backend: 'js', run: rleDecode },
  { op: 'rleOverlap', backend: 'js', run: rleOverlap },
  { op: 'dice', backend: 'js', run: dice },
  { op: 'dbscan', backend: 'js', run: dbscan },
  { op: 'baseline', backend: 'js', run: baseline },
  { op: 'logitsToRle', backend: 'js', run: logitsToRle },
  { op: 'softNms', backend: 'js', run: softNms },
  { op: 'nmm', backend: 'js', run: nmm },
  { op: 'wbf', backend: 'js', run: wbf },
  { op: 'maskIou', backend: 'js', run: maskIou },
];
