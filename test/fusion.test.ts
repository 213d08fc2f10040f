import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { nmm } from '../src/ops/nmm.js';
import { nms } from '../src/ops/nms.js';
import { softNms } from '../src/ops/softNms.js';
import { weightedBoxesFusion } from '../src/ops/wbf.js';
import { describeEachKernel, REPO, rng } from './helpers.js';

/** Goldens from scripts/goldens/fusion.py (numpy, the published algorithms). */
const G = JSON.parse(readFileSync(join(REPO, 'test/goldens/fusion/fusion.json'), 'utf8')) as {
  softNms: {
    boxes: number[][];
    scores: number[];
    classes: number[] | null;
    method: 'linear' | 'gaussian' | 'hard';
    iouThreshold: number;
    sigma: number;
    scoreThreshold: number;
    indices: number[];
    keptScores: number[];
  }[];
  nmm: {
    boxes: number[][];
    scores: number[];
    classes: number[] | null;
    metric: 'iou' | 'ios';
    matchThreshold: number;
    indices: number[];
    merged: number[];
    groups: number[];
  }[];
  wbf: {
    inputs: { boxes: number[][]; scores: number[]; classes: number[] }[];
    weights: number[];
    iouThreshold: number;
    skipBoxThreshold: number;
    confType: 'avg' | 'max';
    allowsOverflow: boolean;
    boxes: number[];
    scores: number[];
    classes: number[];
    counts: number[];
  }[];
};

const f32 = (a: number[][] | number[]) => Float32Array.from((a as number[][]).flat());

function randomBoxes(seed: number, n: number, size = 300): { boxes: Float32Array; scores: Float32Array } {
  const r = rng(seed);
  const boxes = new Float32Array(4 * n),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = r() * size,
      y = r() * size;
    boxes.set([x, y, x + 5 + r() * 40, y + 5 + r() * 40], 4 * i);
    scores[i] = Math.round(r() * 50) / 50; // many ties
  }
  return { boxes, scores };
}

describeEachKernel('softNms', 'softNms: goldens (Bodla et al., numpy)', (backend) => {
  G.softNms.forEach((g, k) => {
    it(`case ${k}: ${g.method}, ${g.scores.length} boxes${g.classes ? ', classes' : ''}`, async () => {
      const r = await softNms(f32(g.boxes), Float32Array.from(g.scores), {
        method: g.method,
        iouThreshold: g.iouThreshold,
        sigma: g.sigma,
        scoreThreshold: g.scoreThreshold,
        ...(g.classes ? { classes: Int32Array.from(g.classes) } : {}),
        backend,
      });
      expect(Array.from(r.indices)).toEqual(g.indices);
      expect(Array.from(r.scores)).toEqual(g.keptScores);
      expect(r.backend).toBe(backend);
    });
  });
  it("'hard' is greedy NMS; linear keeps a touching neighbour with a lower score", async () => {
    const { boxes, scores } = randomBoxes(3, 400);
    const hard = await softNms(boxes, scores, { method: 'hard', iouThreshold: 0.45, scoreThreshold: 0, backend });
    const ref = await nms(boxes, scores, { iouThreshold: 0.45, scoreThreshold: 0, backend: 'js' });
    expect(Array.from(hard.indices)).toEqual(Array.from(ref.indices));
    const pair = Float32Array.from([0, 0, 10, 10, 5, 0, 15, 10]); // IoU 1/3
    const s = await softNms(pair, Float32Array.from([0.9, 0.8]), { iouThreshold: 0.3, backend });
    expect(Array.from(s.indices)).toEqual([0, 1]);
    expect(s.scores[1]).toBeCloseTo(0.8 * (2 / 3), 6);
    const g = await softNms(pair, Float32Array.from([0.9, 0.8]), { method: 'gaussian', sigma: 0.5, backend });
    expect(g.scores[1]).toBeCloseTo(0.8 * Math.exp(-(1 / 9) / 0.5), 6);
    const none = await softNms(new Float32Array(0), new Float32Array(0), { backend });
    expect(none.indices.length).toBe(0);
    const capped = await softNms(boxes, scores, { maxDetections: 5, backend });
    expect(capped.indices.length).toBe(5);
  });
  it('random inputs with ties equal the JS reference (every method)', async () => {
    const { boxes, scores } = randomBoxes(5, 1500, 500);
    const classes = Int32Array.from({ length: 1500 }, (_, i) => i % 3);
    for (const method of ['linear', 'gaussian', 'hard'] as const) {
      const a = await softNms(boxes, scores, { method, classes, backend });
      const b = await softNms(boxes, scores, { method, classes, backend: 'js' });
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
      expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    }
  });
});

describeEachKernel('nmm', 'nmm: goldens (SAHI greedy_nmm, numpy)', (backend) => {
  G.nmm.forEach((g, k) => {
    it(`case ${k}: ${g.metric} > ${g.matchThreshold}, ${g.scores.length} boxes${g.classes ? ', classes' : ''}`, async () => {
      const r = await nmm(f32(g.boxes), Float32Array.from(g.scores), {
        metric: g.metric,
        matchThreshold: g.matchThreshold,
        ...(g.classes ? { classes: Int32Array.from(g.classes) } : {}),
        backend,
      });
      expect(Array.from(r.indices)).toEqual(g.indices);
      expect(Array.from(r.boxes)).toEqual(g.merged);
      expect(Array.from(r.groups)).toEqual(g.groups);
      expect(Array.from(r.scores)).toEqual(g.indices.map((i) => Math.fround(g.scores[i]!)));
    });
  });
  it('joins the two halves of a box cut by a seam into one, and leaves neighbours alone', async () => {
    // a vesicle [90,40,130,80] whole in the left tile and cut at x=115 by the right tile's edge,
    // plus a separate one touching it
    const boxes = Float32Array.from([90, 40, 130, 80, 115, 41, 130, 79, 131, 40, 160, 70]);
    const r = await nmm(boxes, Float32Array.from([0.8, 0.7, 0.9]), { backend });
    expect(Array.from(r.indices)).toEqual([2, 0]);
    expect(Array.from(r.boxes)).toEqual([131, 40, 160, 70, 90, 40, 130, 80]);
    expect(Array.from(r.groups)).toEqual([1, 1, 0]);
    // IoU of the whole and the cut part is 0.36: merging by IoU > 0.5 would keep both
    const byIou = await nmm(boxes, Float32Array.from([0.8, 0.7, 0.9]), { metric: 'iou', backend });
    expect(byIou.indices.length).toBe(3);
  });
  it('random inputs with ties equal the JS reference', async () => {
    const { boxes, scores } = randomBoxes(11, 2000, 600);
    const a = await nmm(boxes, scores, { backend });
    const b = await nmm(boxes, scores, { backend: 'js' });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.boxes)).toEqual(Array.from(b.boxes));
    expect(Array.from(a.groups)).toEqual(Array.from(b.groups));
  });
});

describeEachKernel('wbf', 'weightedBoxesFusion: goldens (ensemble_boxes algorithm, numpy)', (backend) => {
  G.wbf.forEach((g, k) => {
    it(`case ${k}: ${g.inputs.length} models, ${g.confType}${g.allowsOverflow ? ', overflow' : ''}`, async () => {
      const r = await weightedBoxesFusion(
        g.inputs.map((m) => ({
          boxes: f32(m.boxes),
          scores: Float32Array.from(m.scores),
          classes: Int32Array.from(m.classes),
        })),
        {
          weights: g.weights,
          iouThreshold: g.iouThreshold,
          skipBoxThreshold: g.skipBoxThreshold,
          confType: g.confType,
          allowsOverflow: g.allowsOverflow,
          backend,
        },
      );
      expect(Array.from(r.classes)).toEqual(g.classes);
      expect(Array.from(r.counts)).toEqual(g.counts);
      expect(Array.from(r.boxes)).toEqual(g.boxes.map(Math.fround));
      expect(Array.from(r.scores)).toEqual(g.scores.map(Math.fround));
    });
  });
  it('two equal models give back their boxes; weights pull the fused box', async () => {
    const a = { boxes: Float32Array.from([0, 0, 10, 10, 50, 50, 60, 70]), scores: Float32Array.from([0.9, 0.6]) };
    const same = await weightedBoxesFusion([a, a], { backend });
    [0, 0, 10, 10, 50, 50, 60, 70].forEach((v, i) => expect(same.boxes[i]).toBeCloseTo(v, 4)); // float32 steps
    expect(Array.from(same.counts)).toEqual([2, 2]);
    expect(same.scores[0]).toBeCloseTo(0.9, 6);
    const b = { boxes: Float32Array.from([2, 0, 12, 10]), scores: Float32Array.from([0.9]) };
    const w = await weightedBoxesFusion([{ ...a, boxes: a.boxes.subarray(0, 4), scores: a.scores.subarray(0, 1) }, b], {
      weights: [3, 1],
      backend,
    });
    expect(w.boxes[0]).toBeCloseTo(0.5, 5); // (3*0.9*0 + 0.9*2) / (3*0.9 + 0.9)
    expect(w.scores[0]).toBeCloseTo(((3 * 0.9 + 0.9) / 2) * (2 / 4), 6);
    // a box only one of two models found: half the score
    const lone = await weightedBoxesFusion([a, { boxes: new Float32Array(0), scores: new Float32Array(0) }], {
      backend,
    });
    expect(lone.scores[0]).toBeCloseTo(0.45, 6);
  });
  it('random inputs with ties equal the JS reference', async () => {
    const models = [1, 2, 3].map((s) => ({
      ...randomBoxes(20 + s, 600, 400),
      classes: Int32Array.from({ length: 600 }, (_, i) => (i * s) % 4),
    }));
    for (const confType of ['avg', 'max'] as const) {
      const opts = { weights: [1, 0.3, 2], confType, skipBoxThreshold: 0.1 };
      const a = await weightedBoxesFusion(models, { ...opts, backend });
      const b = await weightedBoxesFusion(models, { ...opts, backend: 'js' });
      expect(Array.from(a.boxes)).toEqual(Array.from(b.boxes));
      expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
      expect(Array.from(a.classes)).toEqual(Array.from(b.classes));
      expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
    }
  });
});

describe('fusion ops: argument errors name the argument', () => {
  const b = Float32Array.from([0, 0, 1, 1]);
  it.each([
    ['softNms scores', () => softNms(b, new Float32Array(2)), /scores/],
    ['softNms method', () => softNms(b, new Float32Array(1), { method: 'cubic' as never }), /method/],
    ['softNms sigma', () => softNms(b, new Float32Array(1), { sigma: 0 }), /sigma/],
    ['nmm metric', () => nmm(b, new Float32Array(1), { metric: 'giou' as never }), /metric/],
    ['nmm classes', () => nmm(b, new Float32Array(1), { classes: new Int32Array(2) }), /classes/],
    ['wbf inputs', () => weightedBoxesFusion([]), /inputs/],
    [
      'wbf weights',
      () => weightedBoxesFusion([{ boxes: b, scores: new Float32Array(1) }], { weights: [0] }),
      /weights\[0\]/,
    ],
    [
      'wbf boxes',
      () => weightedBoxesFusion([{ boxes: Float32Array.from([1, 1, 0, 0]), scores: new Float32Array(1) }]),
      /inputs\[0\]\.boxes/,
    ],
  ])('%s', async (_, call, re) => {
    const err = await (call as () => Promise<unknown>)().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(String((err as Error).message)).toMatch(re);
  });
});
