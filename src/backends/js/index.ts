/** Every pure-TypeScript reference kernel, registered explicitly (one line per op). */
import type { Kernel } from '../registry.js';
import { iou } from './iou.js';

export const jsKernels: Kernel<any, any>[] = [
  { op: 'iou', backend: 'js', run: iou },
];
