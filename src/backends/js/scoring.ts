/**
 * The COCO scoring kernels of the js backend (`cocoEval`, `cocoEvalPrepare`, `cocoPolygons`, `vocAp`), registered by the Node entry only:
 * their inputs come from Node's file loaders, and cocoEval yields to the event loop with setImmediate.
 */
import type { KernelList } from '../registry.js';
import { cocoEval } from './cocoEval.js';
import { cocoRleFromPolygon } from './cocoPoly.js';
import { cocoRleMerge, type CocoRle } from './cocoRle.js';
import { vocAp } from './vocAp.js';
import { prepareCocoEval, type CocoEvalPrepareArgs } from '../../ops/cocoEvalPrepare.js';

export const jsScoringKernels: KernelList<null> = [
  { op: 'cocoEval', backend: 'js', run: cocoEval },
  { op: 'cocoPolygons', backend: 'js', run: cocoPolygons },
  // The spec of native/cpu/cocoEvalPrepare.cc lives with its op (it also serves every other backend).
  { op: 'cocoEvalPrepare', backend: 'js', run: (a: CocoEvalPrepareArgs) => prepareCocoEval(a.gt, a.dt, a.params) },
  { op: 'vocAp', backend: 'js', run: vocAp },
];

/** Ground-truth polygons of many masks, flat (the `cocoPolygons` op, src/ops/cocoEvalPrepare.ts). */
export interface CocoPolygonsArgs {
  /** Every polygon's x, y values, concatenated. */
  coords: Float64Array;
  /** [P + 1]: polygon p is coords[polyStart[p], polyStart[p + 1]). */
  polyStart: Int32Array;
  /** [M + 1]: mask j is the union of polygons maskStart[j] .. maskStart[j + 1]. */
  maskStart: Int32Array;
  height: Int32Array;
  width: Int32Array;
}
export interface CocoPolygonsResult {
  /** Every mask's COCO counts, concatenated; mask j is counts[start[j], start[j + 1]). */
  counts: Uint32Array;
  start: Int32Array;
}

/**
 * Kernel `cocoPolygons` (the spec of native/cpu/cocoEvalPolygons.cc): mask j is the union (cocoRleMerge)
 * of polygons maskStart[j]..maskStart[j+1] of `coords`, each rasterised by cocoRleFromPolygon.
 */
export function cocoPolygons(a: CocoPolygonsArgs): CocoPolygonsResult {
  const masks: Uint32Array[] = [];
  for (let j = 0; j < a.height.length; j++) {
    const parts: CocoRle[] = [];
    for (let p = a.maskStart[j]!; p < a.maskStart[j + 1]!; p++)
      parts.push(
        cocoRleFromPolygon(a.coords.subarray(a.polyStart[p]!, a.polyStart[p + 1]!), a.height[j]!, a.width[j]!),
      );
    masks.push(cocoRleMerge(parts).counts);
  }
  const start = new Int32Array(masks.length + 1);
  masks.forEach((m, j) => (start[j + 1] = start[j]! + m.length));
  const counts = new Uint32Array(start[masks.length]!);
  masks.forEach((m, j) => counts.set(m, start[j]!));
  return { counts, start };
}
