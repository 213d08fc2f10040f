import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { cocoRleFromPolygon, cocoRleMerge, cocoRleToString } from '../src/backends/js/cocoRle.js';
import { main } from '../src/cli/index.js';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { parseCocoGroundTruth, parseCocoResults, readCocoGroundTruth, readCocoResults } from '../src/io/cocoJson.js';
import { COCO_IOU_THRS, COCO_REC_THRS, cocoEval, cocoPerClass } from '../src/ops/cocoEval.js';
import { COCO_STAT_NAMES, formatCocoSummary, pairwiseSum } from '../src/ops/cocoSummary.js';
import { availableBackends, describeEachKernel, describeShared, rng, SHARED } from './helpers.js';

const COCO = join(SHARED, 'fixtures', 'coco');

type Box = [number, number, number, number];
interface G {
  image?: number;
  cat?: number;
  bbox: Box;
  crowd?: boolean;
  area?: number;
}
interface D {
  image?: number;
  cat?: number;
  bbox: Box;
  score: number;
}

/** A small ground truth: images 1..n of 100x100, categories 1..3. */
function makeGt(anns: G[], images = 2) {
  return parseCocoGroundTruth(
    {
      images: Array.from({ length: images }, (_, i) => ({ id: i + 1, width: 100, height: 100 })),
      categories: [1, 2, 3].map((id) => ({ id, name: `c${id}` })),
      annotations: anns.map((a, j) => ({
        id: j + 1,
        image_id: a.image ?? 1,
        category_id: a.cat ?? 1,
        bbox: a.bbox,
        area: a.area ?? a.bbox[2] * a.bbox[3],
        iscrowd: a.crowd ? 1 : 0,
        segmentation: [
          [
            a.bbox[0],
            a.bbox[1],
            a.bbox[0],
            a.bbox[1] + a.bbox[3],
            a.bbox[0] + a.bbox[2],
            a.bbox[1] + a.bbox[3],
            a.bbox[0] + a.bbox[2],
            a.bbox[1],
          ],
        ],
      })),
    },
    'gt.json',
  );
}
/** Stats equal to `want` within 1e-12 (pycocotools' "1" is 1 / (1 + eps) = 0.9999999999999998). */
function expectStats(got: Record<string, number>, want: Record<string, number>): void {
  for (const [k, v] of Object.entries(want))
    expect(Math.abs(got[k]! - v), `${k}: ${got[k]} vs ${v}`).toBeLessThan(1e-12);
}

const makeDt = (gt: ReturnType<typeof makeGt>, dets: D[]) =>
  parseCocoResults(
    dets.map((d) => ({ image_id: d.image ?? 1, category_id: d.cat ?? 1, bbox: d.bbox, score: d.score })),
    gt,
    'dt.json',
  );

describe('COCO eval parameters', () => {
  it('uses numpy linspace values for the thresholds', () => {
    expect(COCO_IOU_THRS).toHaveLength(10);
    expect(COCO_IOU_THRS[8]).toBe(0.8999999999999999);
    expect([COCO_IOU_THRS[0], COCO_IOU_THRS[5], COCO_IOU_THRS[9]]).toEqual([0.5, 0.75, 0.95]);
    expect(COCO_REC_THRS).toHaveLength(101);
    expect([COCO_REC_THRS[1], COCO_REC_THRS[99], COCO_REC_THRS[100]]).toEqual([0.01, 0.99, 1]);
  });

  it('sums like numpy (pairwise)', () => {
    const a = Float64Array.from({ length: 1000 }, (_, i) => 1 / (i + 1));
    let naive = 0;
    for (const x of a) naive += x;
    expect(Math.abs(pairwiseSum(a) - naive)).toBeLessThan(1e-12);
    expect(pairwiseSum([1, 2, 3])).toBe(6);
  });
});

describe('cocoEval: hand-checked cases', () => {
  const gtBoxes: G[] = [
    { bbox: [10, 10, 40, 40] },
    { bbox: [60, 10, 30, 30], cat: 2 },
    { image: 2, bbox: [5, 5, 50, 60] },
  ];

  it('perfect detections give AP 1 and AR 1 (bbox and segm); area ranges without ground truth give -1', async () => {
    const gt = makeGt(gtBoxes);
    const dt = makeDt(
      gt,
      gtBoxes.map((g, i) => ({ image: g.image, cat: g.cat, bbox: g.bbox, score: 0.9 - i * 0.1 })),
    );
    for (const iouType of ['bbox', 'segm'] as const) {
      const r = await cocoEval(gt, dt, { iouType, backend: 'js' });
      expect(r.backend).toBe('js');
      // All three boxes are medium (32² <= area <= 96²) except 30x30 = 900 (small).
      expectStats(r.stats, {
        AP: 1,
        AP50: 1,
        AP75: 1,
        APs: 1,
        APm: 1,
        APl: -1,
        AR1: 1,
        AR10: 1,
        AR100: 1,
        ARs: 1,
        ARm: 1,
        ARl: -1,
      });
      expect(r.dims).toEqual({ T: 10, R: 101, K: 3, A: 4, M: 3 });
    }
  });

  it('no detections: AP and AR 0 where there is ground truth, -1 elsewhere; no ground truth at all: -1', async () => {
    const gt = makeGt(gtBoxes);
    const r = await cocoEval(gt, makeDt(gt, []));
    expectStats(r.stats, {
      AP: 0,
      AP50: 0,
      AP75: 0,
      APs: 0,
      APm: 0,
      APl: -1,
      AR1: 0,
      AR10: 0,
      AR100: 0,
      ARs: 0,
      ARm: 0,
      ARl: -1,
    });
    const empty = makeGt([]);
    const r2 = await cocoEval(empty, makeDt(empty, [{ bbox: [0, 0, 10, 10], score: 1 }]));
    for (const name of COCO_STAT_NAMES) expect(r2.stats[name]).toBe(-1);
  });

  it('matches at IoU >= threshold: IoU exactly 0.5 is a match at 0.5 only', async () => {
    const gt = makeGt([{ bbox: [0, 0, 40, 40] }]);
    const r = await cocoEval(gt, makeDt(gt, [{ bbox: [0, 0, 40, 20], score: 1 }]));
    expectStats(r.stats, { AP50: 1, AP75: 0, AP: 0.1 });
  });

  it('detections on a crowd region are ignored, however many', async () => {
    const gt = makeGt([{ bbox: [0, 0, 40, 40] }, { bbox: [50, 50, 45, 45], crowd: true }]);
    const dets: D[] = [
      { bbox: [55, 55, 20, 20], score: 0.99 }, // inside the crowd box: IoU = inter / det area = 1
      { bbox: [60, 60, 30, 30], score: 0.98 },
      { bbox: [0, 0, 40, 40], score: 0.5 },
    ];
    const r = await cocoEval(gt, makeDt(gt, dets));
    expectStats(r.stats, { AP: 1 });
    // Without the crowd flag the two high-scoring detections are false positives ahead of the true one.
    const notCrowd = makeGt([{ bbox: [0, 0, 40, 40] }, { bbox: [50, 50, 45, 45] }]);
    const r2 = await cocoEval(notCrowd, makeDt(notCrowd, dets));
    expect(r2.stats.AP50).toBeLessThan(1);
  });

  it('a detection outside the area range is ignored only when unmatched', async () => {
    // Small GT (area 400); a big false positive (area 2500) must not hurt APs, a small one must.
    const gt = makeGt([{ bbox: [0, 0, 20, 20] }]);
    const big = await cocoEval(
      gt,
      makeDt(gt, [
        { bbox: [50, 50, 50, 50], score: 0.9 },
        { bbox: [0, 0, 20, 20], score: 0.5 },
      ]),
    );
    expectStats(big.stats, { APs: 1 });
    expect(big.stats.AP).toBeLessThan(1);
    const small = await cocoEval(
      gt,
      makeDt(gt, [
        { bbox: [50, 50, 10, 10], score: 0.9 },
        { bbox: [0, 0, 20, 20], score: 0.5 },
      ]),
    );
    expect(small.stats.APs).toBeLessThan(1);
  });

  it('the area range uses the annotation area field, both ends inclusive', async () => {
    const gt = makeGt([{ bbox: [0, 0, 90, 90], area: 32 ** 2 }]); // says small and medium
    const r = await cocoEval(gt, makeDt(gt, [{ bbox: [0, 0, 90, 90], score: 1 }]));
    expectStats(r.stats, { APs: 1, APm: 1, APl: -1 });
  });

  it('maxDets limits detections per image; summary modes say which maxDets they used', async () => {
    const three: G[] = [{ bbox: [0, 0, 40, 40] }, { bbox: [50, 0, 40, 40] }, { bbox: [0, 50, 40, 40] }];
    const gt = makeGt(three);
    const dt = makeDt(
      gt,
      three.map((g, i) => ({ bbox: g.bbox, score: 1 - i / 10 })),
    );
    const r = await cocoEval(gt, dt, { maxDets: [2, 1, 3], summary: 'largest' });
    expect(r.params.maxDets).toEqual([1, 2, 3]);
    expectStats(r.stats, { AR1: 1 / 3, AR10: 2 / 3, AR100: 1, AP: 1 });
    expect(r.statSpecs.map((s) => s.maxDets)).toEqual([3, 3, 3, 3, 3, 3, 1, 2, 3, 3, 3, 3]);
    // pycocotools' summarize(): AP reads the literal maxDets=100, which is absent here.
    const p = await cocoEval(gt, dt, { maxDets: [1, 2, 3] });
    expectStats(p.stats, { AP: -1, AP50: 1 });
    await expect(cocoEval(gt, dt, { maxDets: [1, 10] })).rejects.toThrow(/at least 3 maxDets/);
  });

  it('useCats: false matches across categories', async () => {
    const gt = makeGt([{ bbox: [0, 0, 40, 40], cat: 1 }]);
    const dt = makeDt(gt, [{ bbox: [0, 0, 40, 40], cat: 2, score: 1 }]);
    expect((await cocoEval(gt, dt)).stats.AP).toBe(0);
    const r = await cocoEval(gt, dt, { useCats: false });
    expectStats(r.stats, { AP: 1 });
    expect(r.params.catIds).toEqual([-1]);
  });

  it("useCats: false, equal scores: pycocotools' order (categories in id order, then file order)", async () => {
    // pycocotools concatenates an image's detections category by category and sorts them with a stable
    // sort, so of two equal scores the one of category 1 goes first although it comes later in the file.
    const gt = makeGt([{ bbox: [0, 0, 10, 10], cat: 1 }]);
    const dt = makeDt(gt, [
      { bbox: [0, 0, 10, 7.2], cat: 2, score: 0.5 }, // IoU 0.72
      { bbox: [0, 0, 10, 9], cat: 1, score: 0.5 }, // IoU 0.9: matched first at every threshold up to 0.9
    ]);
    for (const backend of availableBackends().filter((b) => b === 'js' || b === 'cpu')) {
      // File order would give (5 x 1 + 4 x 0.5 + 0) / 10 = 0.7.
      expectStats((await cocoEval(gt, dt, { useCats: false, backend })).stats, { AP: 0.9 });
    }
  });

  it('ignores detections of categories the ground truth lacks, and counts them', async () => {
    const gt = makeGt([{ bbox: [0, 0, 40, 40] }]);
    const r = await cocoEval(
      gt,
      makeDt(gt, [
        { bbox: [0, 0, 40, 40], cat: 77, score: 1 },
        { bbox: [0, 0, 40, 40], score: 0.5 },
      ]),
    );
    expectStats(r.stats, { AP: 1 });
    expect(r.ignoredDetections).toBe(1);
  });

  it('per-class results and precision curve', async () => {
    const gt = makeGt(gtBoxes);
    const dt = makeDt(gt, [
      { bbox: [10, 10, 40, 40], score: 1 },
      { bbox: [0, 0, 5, 5], score: 0.9, cat: 2 },
    ]);
    const pc = cocoPerClass(await cocoEval(gt, dt));
    expect(pc.map((c) => [c.categoryId, c.name])).toEqual([
      [1, 'c1'],
      [2, 'c2'],
      [3, 'c3'],
    ]);
    expect(pc[0]!.AP50).toBeCloseTo(0.504950495049505, 12); // recall 0.5: precision 1 up to r = 0.50
    expect(pc[1]!.AP).toBe(0);
    expect(pc[2]!.AP).toBe(-1);
    expect(pc[0]!.precision50).toHaveLength(101);
  });

  it('rejects bad options naming them', async () => {
    const gt = makeGt(gtBoxes);
    const dt = makeDt(gt, []);
    await expect(cocoEval(gt, dt, { iouType: 'keypoints' as 'bbox' })).rejects.toThrow(InvalidArgumentError);
    await expect(cocoEval(gt, dt, { recThrs: [0.5, 0.1] })).rejects.toThrow(/recThrs/);
    await expect(cocoEval(gt, dt, { imgIds: [99] })).rejects.toThrow(/imgIds: 99 is not an image id/);
    await expect(cocoEval(gt, dt, { maxDets: [0, 1, 2] })).rejects.toThrow(/maxDets\[0\]/);
  });
});

describe('COCO JSON validation', () => {
  const img = [{ id: 1, width: 10, height: 10 }];
  const cats = [{ id: 1, name: 'a' }];
  const ann = { id: 5, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0 };
  const gtOf = (a: object[]) => parseCocoGroundTruth({ images: img, categories: cats, annotations: a }, 'GT.json');

  it('ground truth: missing fields, NaN, negative sizes and duplicates name the entry', () => {
    expect(() => parseCocoGroundTruth([], 'GT.json')).toThrow(ParseError);
    expect(() => parseCocoGroundTruth({ images: img, categories: cats }, 'GT.json')).toThrow(
      /GT.json: 'annotations' must be an array/,
    );
    expect(() => gtOf([{ ...ann, area: undefined }])).toThrow(/GT.json: annotations\[0\] \(id 5\): missing 'area'/);
    expect(() => gtOf([{ ...ann, bbox: [0, NaN, 1, 1] }])).toThrow(
      /annotations\[0\] \(id 5\): bbox\[1\] must be a finite number/,
    );
    expect(() => gtOf([{ ...ann, bbox: [0, 0, -1, 1] }])).toThrow(/negative width/);
    expect(() => gtOf([ann, ann])).toThrow(/annotations\[1\] \(id 5\): duplicate annotation id 5/);
    expect(() => gtOf([{ ...ann, segmentation: [[0, 0, 1]] }])).toThrow(/segmentation\[0\]/);
    expect(() => gtOf([{ ...ann, segmentation: { size: [10, 10], counts: 'xx' } }])).not.toThrow();
    expect(() => gtOf([{ ...ann, iscrowd: 2 }])).toThrow(/iscrowd/);
  });

  it('results: unknown images, missing fields, NaN and negative boxes, bad RLE name the entry', () => {
    const gt = gtOf([ann]);
    const det = { image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], score: 0.5 };
    const res = (a: unknown) => parseCocoResults(a, gt, 'DT.json');
    expect(() => res({})).toThrow(/DT.json: results must be an array/);
    expect(() => res([det, { ...det, image_id: 42 }])).toThrow(
      /DT.json: results\[1\]: image_id 42 is not an image of GT.json/,
    );
    expect(() => res([det, { ...det, score: undefined }])).toThrow(/results\[1\]: missing 'score'/);
    expect(() => res([det, { ...det, bbox: [0, 0, NaN, 1] }])).toThrow(
      /results\[1\]: bbox\[2\] must be a finite number/,
    );
    expect(() => res([det, { ...det, bbox: [0, 0, 1, -3] }])).toThrow(/results\[1\]: 'bbox' has a negative height/);
    expect(() => res([det, { image_id: 1, category_id: 1, score: 1 }])).toThrow(/results\[1\]: missing 'bbox'/);
    expect(() => res([{ image_id: 1, category_id: 1, score: 1 }])).toThrow(/results\[0\]: has neither/);
    const seg = (counts: unknown, size = [10, 10]) => ({
      image_id: 1,
      category_id: 1,
      score: 1,
      segmentation: { size, counts },
    });
    expect(() => res([seg('0:~1')])).toThrow(/results\[0\]: segmentation.counts: .*invalid char '~'/);
    expect(() => res([seg('1')])).toThrow(/sum to 1 but size \[10, 10\]/);
    expect(() => res([seg([100], [20, 5])])).toThrow(/size \[20, 5\] differs from image 1/);
    const ok = res([seg(cocoRleToString([10, 20, 70]))]);
    expect(ok.kind).toBe('segm');
    expect(ok.detections[0]).toMatchObject({ id: 1, area: 20, bbox: [1, 0, 2, 10] });
  });

  it('box results get area w*h and ids 1..N; mask results get area and bbox from the RLE', () => {
    const gt = gtOf([ann]);
    const r = parseCocoResults([{ image_id: 1, category_id: 1, bbox: [1, 2, 3, 4], score: 0.1 }], gt);
    expect(r.detections[0]).toMatchObject({ id: 1, area: 12, bbox: [1, 2, 3, 4], segmentation: null });
    expect(r.kind).toBe('bbox');
  });

  it('segm needs a segmentation on every evaluated ground truth', async () => {
    const gt = gtOf([ann]);
    const dt = parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], score: 0.5 }], gt, 'DT.json');
    await expect(cocoEval(gt, dt, { iouType: 'segm' })).rejects.toThrow(
      /GT.json: annotations\[0\] \(id 5\): missing 'segmentation'/,
    );
    expectStats((await cocoEval(gt, dt)).stats, { AP: 1 });
  });

  it('reading a missing or invalid file is a ParseError naming it', async () => {
    await expect(readCocoGroundTruth('/nonexistent/gt.json')).rejects.toThrow(
      /\/nonexistent\/gt.json: cannot read file/,
    );
  });
});

describeShared('cocoEval on pycocotools test data (../shared/fixtures/coco)', () => {
  const expected = () => JSON.parse(readFileSync(join(COCO, 'expected.json'), 'utf8'));

  describeEachKernel('cocoEval', 'the fixture', (backend) => {
    for (const iouType of ['bbox', 'segm'] as const) {
      it(`reproduces pycocotools' 12 ${iouType} stats to 1e-9, and the reference's arrays exactly`, async () => {
        const exp = expected();
        const gt = await readCocoGroundTruth(join(COCO, exp.gt));
        const dt = await readCocoResults(join(COCO, exp[iouType].dt), gt);
        const r = await cocoEval(gt, dt, { iouType, backend });
        expect(r.backend).toBe(backend);
        for (const name of COCO_STAT_NAMES)
          expect(Math.abs(r.stats[name] - exp[iouType].stats[name]), name).toBeLessThan(1e-9);
        expectSameAsReference(r, await cocoEval(gt, dt, { iouType, backend: 'js' }));
      });
    }
  });

  it("prints pycocotools' summary lines (cocoapi's own printed results)", async () => {
    const printed = readFileSync(join(COCO, 'cocoapi_val2014_fake_eval_res.txt'), 'utf8').split('\n');
    const exp = expected();
    const gt = await readCocoGroundTruth(join(COCO, exp.gt));
    for (const iouType of ['bbox', 'segm'] as const) {
      const r = await cocoEval(gt, await readCocoResults(join(COCO, exp[iouType].dt), gt), { iouType });
      const start = printed.indexOf(`type=${iouType}`) + 3;
      // Today's pycocotools pads the title to 18 chars before '(AP)'; this older print has one space less.
      const squash = (t: string) => t.replace(/ +/g, ' ');
      expect(squash(formatCocoSummary(r.stats, r.statSpecs, r.params.iouThrs))).toBe(
        squash(printed.slice(start, start + 12).join('\n')),
      );
    }
  });

  it("reproduces faster_coco_eval's test_coco_eval (segm, results as merged RLE without bbox)", async () => {
    const gt = await readCocoGroundTruth(join(COCO, 'gt_dataset.json'));
    const raw = JSON.parse(readFileSync(join(COCO, 'dt_dataset.json'), 'utf8')) as {
      image_id: number;
      category_id: number;
      score: number;
      segmentation: number[][];
    }[];
    const asRle = raw.map((a) => {
      const im = gt.imageById.get(a.image_id)!;
      const r = cocoRleMerge(a.segmentation.map((p) => cocoRleFromPolygon(p, im.height!, im.width!)));
      return {
        image_id: a.image_id,
        category_id: a.category_id,
        score: a.score,
        segmentation: { size: [r.height, r.width], counts: cocoRleToString(r.counts) },
      };
    });
    const r = await cocoEval(gt, parseCocoResults(asRle, gt, 'dt_dataset.json (RLE)'), { iouType: 'segm' });
    expect(r.stats).toEqual({
      AP: 0.6947194719471946,
      AP50: 0.6947194719471946,
      AP75: 0.6947194719471946,
      APs: -1,
      APm: 0.7367986798679867,
      APl: 0,
      AR1: 0.6666666666666666,
      AR10: 0.75,
      AR100: 0.75,
      ARs: -1,
      ARm: 0.7916666666666666,
      ARl: 0,
    });
    // The raw file (bbox + polygons): box results, segm from the polygons with area w*h. Runs for both types.
    const dt = await readCocoResults(join(COCO, 'dt_dataset.json'), gt);
    for (const iouType of ['bbox', 'segm'] as const) {
      const s = (await cocoEval(gt, dt, { iouType })).stats;
      expect(s.AP).toBeGreaterThan(0.5);
      expect(s.APs).toBe(-1);
    }
  });

  it('maskbox eval coco prints the 12 stats (--json)', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    let code: number;
    try {
      code = await main([
        'eval',
        'coco',
        '--gt',
        join(COCO, 'instances_val2014_100.json'),
        '--dt',
        join(COCO, 'instances_val2014_fakebbox100_results.json'),
        '--json',
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(j.stats.AP).toBeCloseTo(expected().bbox.stats.AP, 12);
    expect(availableBackends()).toContain(j.backend); // 'auto': cpu when the addon is built
  });
});

/** Same 12 stats and the same precision / recall arrays, value for value (Object.is), as the JS reference. */
function expectSameAsReference(
  r: Awaited<ReturnType<typeof cocoEval>>,
  ref: Awaited<ReturnType<typeof cocoEval>>,
): void {
  expect(r.stats).toEqual(ref.stats);
  expect(r.dims).toEqual(ref.dims);
  for (const key of ['precision', 'recall'] as const) {
    const a = r[key],
      b = ref[key];
    expect(a.length, key).toBe(b.length);
    let bad = -1;
    for (let i = 0; i < a.length && bad < 0; i++) if (!Object.is(a[i], b[i])) bad = i;
    expect(bad === -1 ? 'equal' : `${key}[${bad}]: ${a[bad]} vs ${b[bad]}`).toBe('equal');
  }
}

/**
 * A random ground truth and box + mask results: `n` images of 200x160, 4 categories, boxes from 3 to
 * 150 px (every area range), ~10% crowd, annotation areas that sometimes differ from the box's,
 * duplicated ground truths (equal IoUs), coarse scores (many ties), up to ~120 detections per image
 * (past maxDets 100), some images without ground truth or without detections.
 */
function randomCoco(seed: number, n: number) {
  const r = rng(seed);
  const W = 200,
    H = 160;
  const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const box = (): Box => {
    const w = 3 + r() * 147,
      h = 3 + r() * 120;
    return [r() * (W - w), r() * (H - h), w, h].map((v) => Math.round(v * 100) / 100) as Box;
  };
  const poly = (b: Box) => {
    const p: number[] = [];
    for (let j = 0; j < 10; j++) {
      const a = (j / 10) * 2 * Math.PI;
      p.push(b[0] + (b[2] / 2) * (1 + Math.cos(a)), b[1] + (b[3] / 2) * (1 + Math.sin(a)));
    }
    return p;
  };
  const annotations: object[] = [];
  const bboxRes: object[] = [];
  const segmRes: object[] = [];
  for (let im = 1; im <= n; im++) {
    const gts: [number, Box][] = [];
    const ng = r() < 0.15 ? 0 : ri(1, 9);
    for (let g = 0; g < ng; g++) {
      const b = r() < 0.1 && gts.length ? gts[gts.length - 1]![1] : box();
      const cat = ri(1, 4);
      gts.push([cat, b]);
      annotations.push({
        id: annotations.length + 1,
        image_id: im,
        category_id: cat,
        bbox: b,
        area: r() < 0.2 ? r() * 12000 : b[2] * b[3],
        iscrowd: r() < 0.1 ? 1 : 0,
        segmentation: [poly(b)],
      });
    }
    const nd = r() < 0.1 ? 0 : r() < 0.1 ? ri(100, 125) : ri(1, 25);
    for (let d = 0; d < nd; d++) {
      let cat = ri(1, 4),
        b = box();
      if (gts.length && r() < 0.7) {
        const [c, g] = gts[ri(0, gts.length - 1)]!;
        const j = (v: number, s: number) => Math.round((v + (r() - 0.5) * s * 0.4) * 100) / 100;
        cat = r() < 0.9 ? c : cat;
        b = [j(g[0], g[2]), j(g[1], g[3]), Math.max(1, j(g[2], g[2])), Math.max(1, j(g[3], g[3]))];
      }
      const score = Math.round(r() * 20) / 20;
      bboxRes.push({ image_id: im, category_id: cat, bbox: b, score });
      const m = cocoRleFromPolygon(poly(b), H, W);
      segmRes.push({
        image_id: im,
        category_id: cat,
        segmentation: { size: [H, W], counts: cocoRleToString(m.counts) },
        score,
      });
    }
  }
  const gt = parseCocoGroundTruth(
    {
      images: Array.from({ length: n }, (_, i) => ({ id: i + 1, width: W, height: H })),
      categories: [1, 2, 3, 4].map((id) => ({ id, name: `c${id}` })),
      annotations,
    },
    'random gt',
  );
  return { gt, bbox: parseCocoResults(bboxRes, gt, 'bbox'), segm: parseCocoResults(segmRes, gt, 'segm') };
}

describeEachKernel('cocoEval', 'cocoEval on random sets equals the reference exactly', (backend) => {
  const variants: [string, Parameters<typeof cocoEval>[2]][] = [
    ['defaults', {}],
    ['useCats off', { useCats: false }],
    ['maxDets 1/5/20, largest', { maxDets: [1, 5, 20], summary: 'largest' }],
    [
      'custom thresholds and area ranges, some images and categories',
      {
        iouThrs: [0.3, 0.5, 0.7],
        recThrs: [0, 0.25, 0.5, 0.75, 1],
        areaRanges: [
          { label: 'all', range: [0, 1e10] },
          { label: 'mid', range: [400, 4000] },
        ],
        imgIds: [1, 2, 3, 5, 8, 13, 21, 34],
        catIds: [2, 4],
        summary: 'largest',
      },
    ],
  ];
  for (const seed of [1, 2]) {
    const set = randomCoco(seed, 40);
    for (const iouType of ['bbox', 'segm'] as const) {
      for (const [name, opts] of variants) {
        it(`seed ${seed}, ${iouType}, ${name}`, async () => {
          const r = await cocoEval(set.gt, set[iouType === 'bbox' ? 'bbox' : 'segm'], { ...opts, iouType, backend });
          expect(r.backend).toBe(backend);
          expectSameAsReference(r, await cocoEval(set.gt, set[iouType], { ...opts, iouType, backend: 'js' }));
        });
      }
    }
  }

  it('edge cases: no detections, no ground truth, all scores equal', async () => {
    const { gt, bbox } = randomCoco(3, 12);
    const same = parseCocoResults(
      bbox.detections.map((d) => ({ image_id: d.imageId, category_id: d.categoryId, bbox: d.bbox, score: 0.5 })),
      gt,
    );
    const empty = parseCocoGroundTruth({
      images: [{ id: 1, width: 9, height: 9 }],
      categories: [{ id: 1 }],
      annotations: [],
    });
    const cases: [typeof gt, typeof bbox][] = [
      [gt, parseCocoResults([], gt)],
      [gt, same],
      [empty, parseCocoResults([{ image_id: 1, category_id: 1, bbox: [0, 0, 3, 3], score: 1 }], empty)],
    ];
    for (const [g, d] of cases) {
      for (const iouType of ['bbox', 'segm'] as const) {
        const opts = { iouType, useCats: g !== empty };
        expectSameAsReference(
          await cocoEval(g, d, { ...opts, backend }),
          await cocoEval(g, d, { ...opts, backend: 'js' }),
        );
      }
    }
  });
});
