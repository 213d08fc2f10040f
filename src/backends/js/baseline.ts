/**
 * The lab's DBSCAN baseline detector, pure TypeScript: filter chain (./filter3x3.ts) -> coordinates
 * of the remaining pixels in row-major order -> DBSCAN -> one box per cluster.
 */
import type { BaselineArgs, BaselineKernelResult } from '../../ops/baseline.js';
export type { BaselineArgs, BaselineKernelResult } from '../../ops/baseline.js';
import { dbscan } from './dbscan.js';
import { baselineFilter } from './filter3x3.js';

export function baseline(args: BaselineArgs): BaselineKernelResult {
  const { width, height } = args;
  const mask = baselineFilter(args.data, width, height, args.channels, args.passes, args.scale);
  let m = 0;
  for (let i = 0; i < mask.length; i++) m += mask[i]!;
  // (row, col) pairs as the lab's np.argwhere gave them to sklearn; `points` reports (x, y).
  const rc = new Float64Array(2 * m);
  const points = new Int32Array(2 * m);
  for (let i = 0, k = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const y = Math.floor(i / width),
      x = i - y * width;
    rc[2 * k] = y;
    rc[2 * k + 1] = x;
    points[2 * k] = x;
    points[2 * k + 1] = y;
    k++;
  }
  const { labels, clusters } = dbscan({ points: rc, dims: 2, eps: args.eps, minSamples: args.minSamples });
  const boxes = new Float32Array(4 * clusters);
  const sizes = new Int32Array(clusters);
  for (let c = 0; c < clusters; c++) {
    boxes[4 * c] = boxes[4 * c + 1] = Infinity;
    boxes[4 * c + 2] = boxes[4 * c + 3] = -Infinity;
  }
  for (let k = 0; k < m; k++) {
    const c = labels[k]!;
    if (c < 0) continue;
    const x = points[2 * k]!,
      y = points[2 * k + 1]!;
    sizes[c]!++;
    if (x < boxes[4 * c]!) boxes[4 * c] = x;
    if (y < boxes[4 * c + 1]!) boxes[4 * c + 1] = y;
    if (x > boxes[4 * c + 2]!) boxes[4 * c + 2] = x;
    if (y > boxes[4 * c + 3]!) boxes[4 * c + 3] = y;
  }
  if (args.box === 'edges') {
    for (let c = 0; c < clusters; c++) {
      boxes[4 * c + 2]!++;
      boxes[4 * c + 3]!++;
    }
  }
  return { boxes, sizes, points, labels };
}
