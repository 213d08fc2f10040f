import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/index.js';
import { parseCocoGroundTruth, parseCocoResults } from '../src/io/cocoJson.js';
import { capOverflow, capWarning, classCurves, confusionMatrix, recallBySize } from '../src/metrics/detectionReport.js';
import { cocoEval } from '../src/ops/cocoEval.js';

/**
 * Two images, classes a (1) and b (2). Image 1: a at (0,0,10,10), b at (20,0,10,10), a at (40,0,40,40).
 * Image 2: 150 small a boxes in a row (more than maxDets 100).
 */
function fixture() {
  const annotations: object[] = [];
  let id = 1;
  const ann = (imageId: number, categoryId: number, bbox: number[]) =>
    annotations.push({
      id: id++,
      image_id: imageId,
      category_id: categoryId,
      bbox,
      area: bbox[2]! * bbox[3]!,
      iscrowd: 0,
    });
  ann(1, 1, [0, 0, 10, 10]);
  ann(1, 2, [20, 0, 10, 10]);
  ann(1, 1, [40, 0, 40, 40]);
  for (let i = 0; i < 150; i++) ann(2, 1, [(i % 15) * 12, Math.floor(i / 15) * 12, 10, 10]);
  const gtJson = {
    images: [
      { id: 1, width: 200, height: 200 },
      { id: 2, width: 200, height: 200 },
    ],
    categories: [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ],
    annotations,
  };
  const dtJson = [
    { image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 }, // TP a
    { image_id: 1, category_id: 1, bbox: [20, 0, 10, 10], score: 0.8 }, // b predicted as a
    { image_id: 1, category_id: 2, bbox: [100, 100, 10, 10], score: 0.7 }, // FP b (background)
    { image_id: 1, category_id: 1, bbox: [40, 0, 40, 40], score: 0.1 }, // TP a below conf 0.25
    ...Array.from({ length: 150 }, (_, i) => ({
      image_id: 2,
      category_id: 1,
      bbox: [(i % 15) * 12, Math.floor(i / 15) * 12, 10, 10],
      score: 0.5,
    })),
  ];
  const gt = parseCocoGroundTruth(gtJson);
  return { gtJson, dtJson, gt, dt: parseCocoResults(dtJson, gt) };
}

describe('evaluation report', () => {
  it('warns when an image has more ground truths or detections than maxDets', () => {
    const { gt, dt } = fixture();
    const o = capOverflow(gt, dt, 100);
    expect(o).toEqual({ maxDets: 100, gtImages: 1, dtImages: 1, maxGt: 150, maxDt: 150 });
    expect(capWarning(o)).toMatch(/1 image\(s\) have more ground truths than maxDets 100 \(up to 150\)/);
    expect(capWarning(capOverflow(gt, dt, 10000))).toBeNull();
  });

  it('confusion matrix: rows predicted, columns true, background last', () => {
    const { gt, dt } = fixture();
    const cm = confusionMatrix(gt, dt, 0.25, 0.5);
    expect(cm.labels).toEqual(['a', 'b', 'background']);
    // a->a: 1 (image 1) + 150 (image 2); a predicted for true b: 1; b predicted on background: 1;
    // the large a (score 0.1 < conf) is missed: background row, column a.
    expect(Array.from(cm.counts)).toEqual([151, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('per-class precision / recall / F1 against confidence', () => {
    const { gt, dt } = fixture();
    const [a, b] = classCurves(gt, dt);
    expect(a!.gt).toBe(152);
    // at conf 0: 153 a-detections, 152 true (the one on b's box is false)
    expect(a!.precision[0]).toBeCloseTo(152 / 153, 12);
    expect(a!.recall[0]).toBe(1);
    // at conf 0.5 (scores >= 0.5): 0.9, 0.8 and the 150 at 0.5 -> 151 TP of 152 detections
    expect(a!.recall[50]).toBeCloseTo(151 / 152, 12);
    expect(a!.precision[50]).toBeCloseTo(151 / 152, 12);
    // above 0.5: only 0.9 (TP) and 0.8 (FP)
    expect(a!.precision[51]).toBe(0.5);
    expect(a!.recall[100]).toBe(0);
    expect(a!.precision[100]).toBe(1); // no detection passes
    expect(a!.best.conf).toBe(0);
    expect(b!.gt).toBe(1);
    expect(Math.max(...b!.recall)).toBe(0);
    expect(Math.max(...b!.f1)).toBe(0);
  });

  it('recall by size from the cocoEval result', async () => {
    const { gt, dt } = fixture();
    const r = await cocoEval(gt, dt, { maxDets: [1, 100, 10000], summary: 'largest' });
    const s = recallBySize(r, gt);
    expect(s.map((x) => [x.area, x.gt])).toEqual([
      ['all', 153],
      ['small', 152],
      ['medium', 1],
      ['large', 0],
    ]);
    // small: a all found (152/152), b missed (0/1): mean over categories 0.5; medium: the 40x40 a found
    expect(s[1]!.recall50).toBe(0.5);
    expect(s[2]!.recall50).toBe(1);
    expect(s[3]!.recall50).toBe(-1);
  });

  it('maskbox eval coco --dense --plots DIR: warning, table, PNGs', async () => {
    const { gtJson, dtJson } = fixture();
    const d = mkdtempSync(join(tmpdir(), 'maskbox-evalreport-'));
    writeFileSync(join(d, 'gt.json'), JSON.stringify(gtJson));
    writeFileSync(join(d, 'dt.json'), JSON.stringify(dtJson));
    const out: string[] = [],
      err: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const se = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    let plain: number, dense: number;
    let denseOut: string;
    try {
      plain = await main(['eval', 'coco', '--gt', join(d, 'gt.json'), '--dt', join(d, 'dt.json')]);
      const plainErr = err.join('');
      expect(plainErr).toMatch(/more ground truths than maxDets 100/);
      expect(plainErr).toMatch(/--dense/);
      out.length = 0;
      err.length = 0;
      dense = await main([
        'eval',
        'coco',
        '--gt',
        join(d, 'gt.json'),
        '--dt',
        join(d, 'dt.json'),
        '--dense',
        '--plots',
        join(d, 'plots'),
        '--per-class',
        '--json',
      ]);
      denseOut = out.join('');
      expect(err.join('')).toBe('');
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    expect(plain).toBe(0);
    expect(dense).toBe(0);
    const j = JSON.parse(denseOut);
    expect(j.maxDets).toEqual([1, 100, 10000]);
    expect(j.summary).toBe('largest');
    expect(j.confusion.counts).toEqual([151, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect(j.perClass[0].bestF1.f1).toBeGreaterThan(0.99);
    for (const name of ['pr_curve', 'f1_curve', 'confusion_matrix', 'recall_by_size']) {
      const png = readFileSync(join(d, 'plots', `${name}.png`));
      const m = await sharp(png).metadata();
      expect(m.format).toBe('png');
      expect(m.width).toBeGreaterThan(300);
      // not blank: the plot draws more than its white background
      const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
      expect(data.some((v) => v < 128)).toBe(true);
    }
  });
});
