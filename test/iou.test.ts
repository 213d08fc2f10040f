import { describe, expect, it } from 'vitest';
import { boxIou } from '../src/ops/iou.js';
import { InvalidArgumentError } from '../src/errors.js';

describe('boxIou', () => {
  it('computes IoU with no +1 and 0 for an empty union', async () => {
    const a = new Float32Array([0, 0, 10, 10, 5, 5, 5, 5]);
    const b = new Float32Array([5, 0, 15, 10, 5, 5, 5, 5]);
    const { iou, rows, cols, backend } = await boxIou(a, b, { backend: 'js' });
    expect([rows, cols, backend]).toEqual([2, 2, 'js']);
    expect(iou[0]).toBeCloseTo(50 / 150, 6);
    expect(iou[3]).toBe(0);
  });
  it('rejects bad input naming the argument', async () => {
    await expect(boxIou(new Float32Array(3), new Float32Array(4))).rejects.toThrow(
      /for a but received Float32Array of length 3/,
    );
    await expect(boxIou(new Float32Array([0, 0, NaN, 1]), new Float32Array(4))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(boxIou(new Float32Array(4), new Float32Array(4), { backend: 'cuda' })).rejects.toThrow(/cuda/);
  });
});
