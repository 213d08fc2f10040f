/**
 * The COCO scoring kernels of the js backend (`cocoEval`, `vocAp`), registered by the Node entry only:
 * their inputs come from Node's file loaders, and cocoEval yields to the event loop with setImmediate.
 */
import type { KernelList } from '../registry.js';
import { cocoEval } from './cocoEval.js';
import { vocAp } from './vocAp.js';

export const jsScoringKernels: KernelList<null> = [
  { op: 'cocoEval', backend: 'js', run: cocoEval },
  { op: 'vocAp', backend: 'js', run: vocAp },
];
