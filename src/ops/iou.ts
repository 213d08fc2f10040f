/**
 * IoU between two sets of boxes (`x1,y1,x2,y2`, area `(x2-x1)*(y2-y1)`, no +1; 0 when the union is 0).
 */
import { dispatch, type BackendChoice, type Ran } from '../backends/registry.js';
import { checkBoxes } from './boxes.js';

export interface IouArgs {
  a: Float32Array;
  b: Float32Array;
}

export interface IouResult extends Ran {
  /** Row-major `[nA, nB]` matrix, float32 values computed with every step rounded to float32. */
  iou: Float32Array;
  rows: number;
  cols: number;
}

export interface IouOptions {
  backend?: BackendChoice;
}

/**
 * Pairwise IoU matrix.
 * @param a boxes `[nA*4]` as `x1,y1,x2,y2` (finite, x2 >= x1, y2 >= y1)
 * @param b boxes `[nB*4]`
 * @throws InvalidArgumentError when a length is not a multiple of 4 or a coordinate is NaN/infinite
 * @example const { iou } = await boxIou(a, b); // iou[i * nB + j]
 */
export async function boxIou(a: Float32Array, b: Float32Array, options: IouOptions = {}): Promise<IouResult> {
  checkBoxes('a', a);
  checkBoxes('b', b);
  const rows = a.length / 4;
  const cols = b.length / 4;
  const { result, backend } = await dispatch('iou', { a, b }, options.backend, rows * cols);
  return { iou: result, rows, cols, backend };
}
