/** Every pure-TypeScript reference kernel, registered explicitly (one line per op). */
import type { Kernel } from '../registry.js';
import { iou } from './iou.js';
import { nms } from './nms.js';
import { yoloNms } from './yoloNms.js';
import { rleDecode, rleEncode, rleOverlap } from './rle.js';
import { dice } from './dice.js';

export const jsKernels: Kernel<any, any>[] = [
  { op: 'iou', backend: 'js', run: iou },
  { op: 'nms', backend: 'js', run: nms },
  { op: 'yoloNms', backend: 'js', run: yoloNms },
  { op: 'rleEncode', backend: 'js', run: rleEncode },
  { op: 'rleDecode', backend: 'js', run: rleDecode },
  { op: 'rleOverlap', backend: 'js', run: rleOverlap },
  { op: 'dice', backend: 'js', run: dice },
];
