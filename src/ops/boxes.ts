/** Shared argument checks for box tensors (`x1,y1,x2,y2` per box). */
import { checkFloat32Array, invalid } from '../validate.js';

/** Checks a Float32Array of 4N finite coordinates with x2 >= x1 and y2 >= y1. Returns N. */
export function checkBoxes(name: string, boxes: unknown): number {
  const b = checkFloat32Array(name, boxes);
  if (b.length % 4 !== 0) invalid(name, 'a Float32Array whose length is a multiple of 4 (x1,y1,x2,y2 per box)', b);
  for (let i = 0; i < b.length; i += 4) {
    const x1 = b[i]!,
      y1 = b[i + 1]!,
      x2 = b[i + 2]!,
      y2 = b[i + 3]!;
    if (x1 - x1 !== 0 || y1 - y1 !== 0 || x2 - x2 !== 0 || y2 - y2 !== 0) {
      invalid(`${name}[${i / 4}]`, 'finite box coordinates', `${x1},${y1},${x2},${y2}`);
    }
    if (x2 < x1 || y2 < y1) invalid(`${name}[${i / 4}]`, 'a box with x2 >= x1 and y2 >= y1', `${x1},${y1},${x2},${y2}`);
  }
  return b.length / 4;
}
