import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nms } from '../src/ops/nms.js';
import { nonMaxSuppression } from '../src/ops/yoloNms.js';
import { nms as nmsReference } from '../src/backends/js/nms.js';
import { InvalidArgumentError } from '../src/errors.js';
import { REPO, describeEachKernel, rng } from './helpers.js';

const golden = (name: string) => JSON.parse(readFileSync(join(REPO, 'test/goldens/nms', name), 'utf8'));
const tv = golden('torchvision_nms.json');
const y5 = golden('yolov5_nms.json');

function randomBoxes(r: () => number, n: number, grid = false): Float32Array {
  const b = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    let x = r() * 500,
      y = r() * 500,
      w = r() * 60,
      h = r() * 60;
    if (grid) [x, y, w, h] = [Math.round(x / 10), Math.round(y / 10), Math.round(w / 10), Math.round(h / 10)];
    b.set([x, y, x + w, y + h], i * 4);
  }
  return b;
}

describeEachKernel('nms', 'nms', (backend) => {
  it('matches torchvision.ops.nms / batched_nms goldens', async () => {
    for (const c of tv.nms) {
      const classes = c.classes ? Int32Array.from(c.classes) : undefined;
      const boxes = Float32Array.from(c.boxes.flat()),
        scores = Float32Array.from(c.scores);
      const { indices } = await nms(boxes, scores, { iouThreshold: c.iou, classes, backend });
      expect(Array.from(indices)).toEqual(c.keep);
    }
  });

  it('decides boxes planted exactly at the threshold as torchvision does', async () => {
    for (const c of tv.planted) {
      const { indices } = await nms(Float32Array.from(c.boxes.flat()), new Float32Array([0.9, 0.8]), {
        iouThreshold: c.iou,
        backend,
      });
      expect(Array.from(indices)).toEqual(c.keep);
    }
  });

  it('visits equal scores lower index first, and honours score threshold and caps', async () => {
    const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11, 100, 100, 110, 110, 0, 0, 10, 10]);
    const scores = new Float32Array([0.5, 0.5, 0.5, 0.9]);
    expect(Array.from((await nms(boxes, scores, { iouThreshold: 0.5, backend })).indices)).toEqual([3, 2]);
    expect(Array.from((await nms(boxes, scores, { iouThreshold: 0.5, scoreThreshold: 0.5, backend })).indices)).toEqual(
      [3],
    );
    expect(Array.from((await nms(boxes, scores, { iouThreshold: 1, maxDetections: 2, backend })).indices)).toEqual([
      3, 0,
    ]);
    expect(Array.from((await nms(boxes, scores, { iouThreshold: 1, maxCandidates: 2, backend })).indices)).toEqual([
      3, 0,
    ]);
  });

  it('handles empty input, a single box and degenerate boxes', async () => {
    expect((await nms(new Float32Array(0), new Float32Array(0), { backend })).indices.length).toBe(0);
    expect(
      Array.from((await nms(new Float32Array([1, 1, 1, 1]), new Float32Array([0.1]), { backend })).indices),
    ).toEqual([0]);
    const degenerate = new Float32Array([5, 5, 5, 5, 5, 5, 5, 5]);
    expect(
      Array.from((await nms(degenerate, new Float32Array([0.2, 0.3]), { iouThreshold: 0, backend })).indices),
    ).toEqual([1, 0]);
  });

  it('equals the reference on random inputs (grid-snapped coordinates, tied scores, classes)', async () => {
    const r = rng(42);
    for (let t = 0; t < 40; t++) {
      const n = 1 + Math.floor(r() * 400);
      const boxes = randomBoxes(r, n, t % 2 === 0);
      const scores = Float32Array.from({ length: n }, () => Math.round(r() * 20) / 20);
      const classes = t % 3 === 0 ? Int32Array.from({ length: n }, () => Math.floor(r() * 3)) : undefined;
      const iouThreshold = [0, 0.3, 0.45, 0.5, 0.7, 1][t % 6]!;
      const got = await nms(boxes, scores, {
        iouThreshold,
        classes,
        backend,
        scoreThreshold: t % 4 === 0 ? 0.3 : undefined,
      });
      const want = nmsReference({
        boxes,
        scores,
        classes: classes ?? null,
        iouThreshold,
        scoreThreshold: t % 4 === 0 ? 0.3 : -Infinity,
        maxCandidates: n,
        maxDetections: n,
      });
      expect(Array.from(got.indices)).toEqual(Array.from(want));
      expect(got.backend).toBe(backend);
    }
  });
});

describeEachKernel('yoloNms', 'nonMaxSuppression (YOLOv5 post-process)', (backend) => {
  it("reproduces YOLOv5's non_max_suppression outputs exactly", async () => {
    for (const c of y5.cases) {
      const [det] = await nonMaxSuppression(Float32Array.from(c.pred), c.shape, {
        conf: c.conf,
        iou: c.iou,
        agnostic: c.agnostic,
        classes: c.classes ?? undefined,
        maxDetections: c.max_det,
        backend,
      });
      expect(det!.scores.length).toBe(c.out.length);
      const rows = c.out.map((r: number[], i: number) => [
        ...det!.boxes.subarray(i * 4, i * 4 + 4),
        det!.scores[i],
        det!.classes[i],
      ]);
      expect(rows).toEqual(c.out.map((r: number[]) => r.map((v) => Math.fround(v))));
    }
  });

  it('decodes the YOLOv8 transposed layout like the row layout without objectness', async () => {
    const r = rng(3);
    const n = 300,
      nc = 4;
    const rows = new Float32Array(n * (5 + nc)),
      cols = new Float32Array((4 + nc) * n);
    for (let i = 0; i < n; i++) {
      const v = [r() * 640, r() * 640, 5 + r() * 50, 5 + r() * 50, 1, ...Array.from({ length: nc }, () => r())];
      rows.set(v, i * (5 + nc));
      [0, 1, 2, 3, 5, 6, 7, 8].forEach((k, ch) => (cols[ch * n + i] = v[k]!));
    }
    const [a] = await nonMaxSuppression(rows, [1, n, 5 + nc], { backend, conf: 0.3 });
    const [b] = await nonMaxSuppression(cols, [1, 4 + nc, n], { layout: 'yolov8', backend, conf: 0.3 });
    expect(Array.from(b!.rows)).toEqual(Array.from(a!.rows));
    expect(Array.from(b!.boxes)).toEqual(Array.from(a!.boxes));
  });

  it('returns one result per batch item and rejects inconsistent shapes', async () => {
    const pred = new Float32Array(2 * 3 * 6);
    expect((await nonMaxSuppression(pred, [2, 3, 6], { backend })).length).toBe(2);
    await expect(nonMaxSuppression(pred, [2, 3, 5], { backend })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(nonMaxSuppression(new Float32Array(8), [2, 4], { backend })).rejects.toThrow(/at least 6/);
    await expect(nonMaxSuppression(Float32Array.from([1, 1, 2, 2, NaN, 1]), [1, 6], { backend })).rejects.toThrow(
      /pred\[4\]/,
    );
    await expect(nonMaxSuppression(pred, [2, 3, 6], { conf: 2, backend })).rejects.toThrow(/conf/);
  });
});

describe('nms argument checks', () => {
  it('names the bad argument', async () => {
    await expect(nms(new Float32Array(8), new Float32Array(3))).rejects.toThrow(/scores/);
    await expect(nms(new Float32Array(4), new Float32Array([NaN]))).rejects.toThrow(/scores\[0\]/);
    await expect(nms(new Float32Array(4), new Float32Array(1), { iouThreshold: 1.5 })).rejects.toThrow(/iouThreshold/);
    await expect(nms(new Float32Array(4), new Float32Array(1), { classes: new Int32Array(2) })).rejects.toThrow(
      /classes/,
    );
    await expect(nms(new Float32Array([0, 0, -1, 1]), new Float32Array(1))).rejects.toThrow(/x2 >= x1/);
  });
});
