import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { parseCocoGroundTruth, parseCocoResults, readCocoGroundTruth, readCocoResults } from '../src/io/cocoJson.js';
import { vocAp } from '../src/ops/vocAp.js';
import { describeShared, REPO, SHARED } from './helpers.js';

type Box = [number, number, number, number];

function setup(
  gts: { cat?: number; bbox: Box; crowd?: boolean }[],
  dets: { cat?: number; bbox: Box; score: number; image?: number }[],
) {
  const gt = parseCocoGroundTruth({
    images: [{ id: 1 }, { id: 2 }],
    categories: [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ],
    annotations: gts.map((g, i) => ({
      id: i + 1,
      image_id: 1,
      category_id: g.cat ?? 1,
      bbox: g.bbox,
      area: g.bbox[2] * g.bbox[3],
      iscrowd: g.crowd ? 1 : 0,
    })),
  });
  const dt = parseCocoResults(
    dets.map((d) => ({ image_id: d.image ?? 1, category_id: d.cat ?? 1, bbox: d.bbox, score: d.score })),
    gt,
  );
  return { gt, dt };
}

describe('vocAp: hand-checked cases', () => {
  const two: { bbox: Box }[] = [{ bbox: [0, 0, 10, 10] }, { bbox: [50, 50, 10, 10] }];
  const dets = [
    { bbox: [0, 0, 10, 10] as Box, score: 0.9 }, // TP
    { bbox: [80, 80, 10, 10] as Box, score: 0.8 }, // FP
    { bbox: [50, 50, 10, 10] as Box, score: 0.7 }, // TP
  ];

  it('all-point AP: 0.5 * 1 + 0.5 * 2/3; curves per detection by score', async () => {
    const { gt, dt } = setup(two, dets);
    const r = await vocAp(gt, dt, { backend: 'js' });
    const a = r.classes[0]!;
    expect(a.ap).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);
    expect(Array.from(a.recall)).toEqual([0.5, 0.5, 1]);
    expect(Array.from(a.precision)).toEqual([1, 0.5, 2 / 3]);
    expect(Array.from(a.scores)).toEqual([0.9, 0.8, 0.7]);
    expect(Array.from(a.state)).toEqual([1, 0, 1]);
    expect([a.numGt, a.numDetections, a.truePositives]).toEqual([2, 3, 2]);
    // class b has no ground truth: NaN, left out of the mean
    expect(r.classes[1]!.ap).toBeNaN();
    expect(r.mAP).toBe(a.ap);
    expect(r.backend).toBe('js');
  });

  it('11-point AP (VOC2007)', async () => {
    const { gt, dt } = setup(two, dets);
    const r = await vocAp(gt, dt, { interpolation: '11-point' });
    expect(r.classes[0]!.ap).toBeCloseTo((6 * 1 + 5 * (2 / 3)) / 11, 15);
  });

  it('duplicates are false positives; IoU must exceed the threshold; difficult (crowd) is ignored', async () => {
    const { gt, dt } = setup(
      [{ bbox: [0, 0, 10, 10] }, { bbox: [50, 50, 20, 20], crowd: true }],
      [
        { bbox: [0, 0, 10, 10], score: 0.9 },
        { bbox: [0, 0, 10, 10], score: 0.8 }, // duplicate -> FP
        { bbox: [0, 0, 10, 5], score: 0.7 }, // IoU exactly 0.5 with the taken GT -> FP anyway
        { bbox: [50, 50, 20, 20], score: 0.95 }, // crowd -> ignored
      ],
    );
    const a = (await vocAp(gt, dt)).classes[0]!;
    expect(Array.from(a.state)).toEqual([2, 1, 0, 0]);
    expect(a.numGt).toBe(1);
    expect(a.ap).toBe(1);
    const exact = setup([{ bbox: [0, 0, 10, 10] }], [{ bbox: [0, 0, 10, 5], score: 1 }]);
    expect((await vocAp(exact.gt, exact.dt)).classes[0]!.ap).toBe(0); // 0.5 is not > 0.5
    expect((await vocAp(exact.gt, exact.dt, { iouThreshold: 0.49 })).classes[0]!.ap).toBe(1);
    const notDifficult = await vocAp(gt, dt, { crowdAsDifficult: false });
    expect(notDifficult.classes[0]!.numGt).toBe(2);
  });

  it('detections on other images or classes do not match', async () => {
    const { gt, dt } = setup(
      [{ bbox: [0, 0, 10, 10] }],
      [
        { bbox: [0, 0, 10, 10], score: 1, image: 2 },
        { bbox: [0, 0, 10, 10], score: 1, cat: 2 },
      ],
    );
    const r = await vocAp(gt, dt);
    expect(r.classes[0]!.ap).toBe(0);
    expect(r.classes[1]!.numDetections).toBe(1);
  });

  it('rejects bad options', async () => {
    const { gt, dt } = setup(two, dets);
    await expect(vocAp(gt, dt, { iouThreshold: 2 })).rejects.toThrow(InvalidArgumentError);
    await expect(vocAp(gt, dt, { interpolation: '101-point' as 'all-point' })).rejects.toThrow(/interpolation/);
  });
});

describe('vocAp: goldens from the VOC devkit algorithm (scripts/goldens/vocAp.py)', () => {
  const golden = JSON.parse(readFileSync(join(REPO, 'test', 'goldens', 'vocAp', 'voc_eval.json'), 'utf8')) as {
    cases: {
      gt: unknown;
      results: unknown[];
      iouThreshold: number;
      interpolation: 'all-point' | '11-point';
      classes: ({ ap: number; recall: number[]; precision: number[] } | null)[];
      mAP: number | null;
    }[];
  };
  golden.cases.forEach((c, i) => {
    it(`case ${i} (${c.interpolation}, IoU > ${c.iouThreshold})`, async () => {
      const gt = parseCocoGroundTruth(c.gt, `case ${i}`);
      const dt = parseCocoResults(c.results, gt, `case ${i}`);
      const r = await vocAp(gt, dt, { iouThreshold: c.iouThreshold, interpolation: c.interpolation });
      c.classes.forEach((want, k) => {
        const got = r.classes[k]!;
        if (want === null) return expect(got.ap).toBeNaN();
        expect(Math.abs(got.ap - want.ap)).toBeLessThan(1e-12);
        expect(Array.from(got.recall)).toEqual(want.recall);
        expect(Array.from(got.precision)).toEqual(want.precision);
      });
      if (c.mAP === null) expect(r.mAP).toBeNaN();
      else expect(Math.abs(r.mAP - c.mAP)).toBeLessThan(1e-12);
    });
  });
});

describeShared('vocAp on the COCO fixture', () => {
  it('runs per class on 80 categories', async () => {
    const dir = join(SHARED, 'fixtures', 'coco');
    const gt = await readCocoGroundTruth(join(dir, 'instances_val2014_100.json'));
    const dt = await readCocoResults(join(dir, 'instances_val2014_fakebbox100_results.json'), gt);
    const r = await vocAp(gt, dt);
    expect(r.classes).toHaveLength(80);
    expect(r.mAP).toBeGreaterThan(0.5);
    expect(r.mAP).toBeLessThan(1);
  });
});
