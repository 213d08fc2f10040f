/**
 * `maskbox ensemble boxes`: weighted boxes fusion of detectors' written outputs. Expected values are
 * worked out by hand from ensemble_boxes' rules (coordinates weighted by score x model weight; the
 * `avg` score is the mean weighted score x min(models, boxes) / sum of weights).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, STACK_LINE } from './cliRun.js';

const dir = mkdtempSync(join(tmpdir(), 'maskbox-ens-boxes-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// model A (weight 2): one box overlapping B's (IoU 81/119 = 0.68) and one of its own
const cocoA = file(
  'a.json',
  JSON.stringify([
    { image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 },
    { image_id: 1, category_id: 1, bbox: [50, 50, 10, 10], score: 0.3 },
  ]),
);
// model B (weight 1): the overlapping box, and an image A found nothing in
const cocoB = file(
  'b.json',
  JSON.stringify([
    { image_id: 1, category_id: 1, bbox: [1, 1, 10, 10], score: 0.6 },
    { image_id: 2, category_id: 1, bbox: [100, 100, 20, 30], score: 0.5 },
  ]),
);

describe('maskbox ensemble boxes', () => {
  it('fuses COCO results with per-model weights', async () => {
    const out = join(dir, 'fused.json');
    const r = await cli(['ensemble', 'boxes', cocoA, cocoB, '--weights', '2,1', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ format: 'coco', images: 2, boxesIn: 4, boxesOut: 3, weights: [2, 1] });
    const got = JSON.parse(readFileSync(out, 'utf8'));
    expect(got).toEqual([
      // x1 = (1.8 * 0 + 0.6 * 1) / 2.4; score (1.8 + 0.6) / 2 * 2 / 3
      { image_id: 1, category_id: 1, bbox: [0.25, 0.25, 10, 10], score: 0.8 },
      // alone: 0.3 * 2 / 1 * 1 / 3
      { image_id: 1, category_id: 1, bbox: [50, 50, 10, 10], score: 0.2 },
      { image_id: 2, category_id: 1, bbox: [100, 100, 20, 30], score: 0.16667 },
    ]);
  });

  it('moves the fused box toward the heavier model when the weights swap', async () => {
    const out = join(dir, 'fused-swap.json');
    expect((await cli(['ensemble', 'boxes', cocoA, cocoB, '--weights', '1,3', '--out', out])).code).toBe(0);
    const got = JSON.parse(readFileSync(out, 'utf8'));
    // x1 = (0.9 * 0 + 1.8 * 1) / 2.7; score (0.9 + 1.8) / 2 * 2 / 4
    expect(got[0].bbox[0]).toBeCloseTo(2 / 3, 3);
    expect(got[0].score).toBeCloseTo(0.675, 5);
    expect(got.find((d: { image_id: number }) => d.image_id === 2).score).toBeCloseTo(1.5 / 4, 5);
  });

  it("fuses the lab's combined CSVs image by image and writes the same layout", async () => {
    const h = 'image,x_center,y_center,width,height,confidence,area\n';
    const a = file('a.csv', h + 'f1.png,5,5,10,10,0.9,100\nf2.png,40,40,8,8,0.5,64\n');
    const b = file('b.csv', h + 'f1.png,6,6,10,10,0.6,100\n');
    const out = join(dir, 'fused.csv');
    const r = await cli(['ensemble', 'boxes', a, b, '--out', out]);
    expect(r.code).toBe(0);
    // f1: x1 = (0.9 * 0 + 0.6 * 1) / 1.5 = 0.4 -> 0, x2 = 10.4 -> 10; score 0.75 * 2 / 2
    expect(readFileSync(out, 'utf8')).toBe(h + 'f1.png,5,5,10,10,0.75,100\nf2.png,40,40,8,8,0.25,64\n');
  });

  it('refuses bad input with a typed error and no stack trace', async () => {
    const csv = file('one.csv', 'x_center,y_center,width,height,confidence,area\n5,5,10,10,0.9,100\n');
    const noScore = file('noscore.json', JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }]));
    const negative = file('neg.json', JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, -1, 1], score: 1 }]));
    const other = file('other.csv', 'image_name,class,rle\na,1,1 2\n');
    const out = join(dir, 'bad.json');
    const cases: [string[], number, RegExp][] = [
      [[cocoA], 2, /at least 2 detection files/],
      [[cocoA, cocoB, '--weights', '1'], 2, /--weights needs 2/],
      [[cocoA, cocoB, '--weights', '1,0'], 2, /weights/],
      [[cocoA, cocoB, '--iou', '1.5'], 2, /--iou/],
      [[cocoA, cocoB, '--conf-type', 'sum'], 2, /--conf-type/],
      [[cocoA, csv], 1, /one\.csv: is csv but .*a\.json is coco/],
      [[cocoA, noScore], 1, /noscore\.json.*results\[0\]: score/],
      [[cocoA, negative], 1, /neg\.json.*negative width/],
      [[cocoA, other], 1, /other\.csv.*not a detections file/],
      [[cocoA, join(dir, 'missing.json')], 2, /missing\.json/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await cli(['ensemble', 'boxes', ...args, '--out', out]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect(readdirSync(dir)).not.toContain('bad.json');
  });

  it('never overwrites an input, replaces --out only with --overwrite and only when complete', async () => {
    const same = await cli(['ensemble', 'boxes', cocoA, cocoB, '--out', cocoA, '--overwrite']);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/is the input file/);
    const out = file('existing.json', 'keep me');
    const exists = await cli(['ensemble', 'boxes', cocoA, cocoB, '--out', out]);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/--overwrite/);
    const bad = file('broken.json', '[{"image_id": 1}]');
    expect((await cli(['ensemble', 'boxes', cocoA, bad, '--out', out, '--overwrite'])).code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
    expect((await cli(['ensemble', 'boxes', cocoA, cocoB, '--out', out, '--overwrite'])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveLength(3);
  });
});
