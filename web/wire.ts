/**
 * The page's backend wiring: the TypeScript reference kernels of the ops the page runs (YOLO NMS, box
 * scaling, RLE decode), imported one by one so the bundle holds nothing else. The page build maps the
 * ops' `backends/index.js` import here, so no Node code reaches the bundle.
 */
import { registerKernels, type Kernel } from '../src/backends/registry.js';
import { yoloNms } from '../src/backends/js/yoloNms.js';
import { nms } from '../src/backends/js/nms.js';
import { scaleBoxes } from '../src/backends/js/scaleBoxes.js';
import { rleDecode } from '../src/backends/js/rle.js';

let wired = false;

/** Register the page's kernels once (what `ensureBackends` does in Node). */
export function ensureBackends(): void {
  if (wired) return;
  wired = true;
  const kernels: Kernel<any, any>[] = [
    { op: 'yoloNms', backend: 'js', run: yoloNms },
    { op: 'nms', backend: 'js', run: nms },
    { op: 'scaleBoxes', backend: 'js', run: scaleBoxes },
    { op: 'rleDecode', backend: 'js', run: rleDecode },
  ];
  registerKernels(kernels);
}

/** Same as {@link ensureBackends}: the page has no probes to wire. */
export const wireBackends = ensureBackends;

/** Names of the backends the page runs its post-processing on. */
export function wiredBackends(): string[] {
  ensureBackends();
  return ['js'];
}
