import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { dice, diceScore, rleDice } from '../src/ops/dice.js';
import { diceFromCsv } from '../src/ops/diceCsv.js';
import { encodeRle } from '../src/ops/rle.js';
import { formatSubmissionCsv, type SubmissionRow } from '../src/io/submissionCsv.js';
import { HANDBONE_CLASSES, HANDBONE_CLASS_INDEX } from '../src/model/classes.js';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { REPO, describeEachKernel, rng } from './helpers.js';

const golden = JSON.parse(readFileSync(join(REPO, 'test/goldens/rle/dice_numpy.json'), 'utf8'));
const fromRows = (rows: string[]) => Uint8Array.from(rows.join(''), (ch) => (ch === '1' ? 1 : 0));
const multi = golden.multi;
const stack = (imgs: string[][][]) =>
  imgs.map((chs) => {
    const m = new Uint8Array(chs.length * multi.height * multi.width);
    chs.forEach((rows, c) => m.set(fromRows(rows), c * multi.height * multi.width));
    return m;
  });
const shape = { classes: multi.classes, height: multi.height, width: multi.width };

/** Rows of a submission for the golden's images (`img<i>.png`, classes c0..). */
function csvRows(rle: string[][], classes = (c: number) => `c${c}`): SubmissionRow[] {
  return rle.flatMap((chs, i) => chs.map((r, c) => ({ image_name: `img${i}.png`, class: classes(c), rle: r })));
}

describe('hand-bone classes', () => {
  it('has the 29 classes in model order', () => {
    expect(HANDBONE_CLASSES).toHaveLength(29);
    expect(HANDBONE_CLASSES.slice(0, 2)).toEqual(['finger-1', 'finger-2']);
    expect(HANDBONE_CLASSES[18]).toBe('finger-19');
    expect(HANDBONE_CLASSES.slice(19)).toEqual([
      'Trapezium',
      'Trapezoid',
      'Capitate',
      'Hamate',
      'Scaphoid',
      'Lunate',
      'Triquetrum',
      'Pisiform',
      'Radius',
      'Ulna',
    ]);
    expect(HANDBONE_CLASS_INDEX.get('Ulna')).toBe(28);
  });
});

describeEachKernel('dice', 'dice on masks (numpy goldens)', (backend) => {
  it('per image, per class and mean with the competition eps', async () => {
    const r = await dice(stack(multi.pred), stack(multi.truth), shape, { backend });
    expect(r.backend).toBe(backend);
    expect([r.images, r.classes]).toEqual([multi.images, multi.classes]);
    Array.from(r.perImage).forEach((d, k) =>
      expect(d).toBeCloseTo(multi.per_image[Math.floor(k / multi.classes)][k % multi.classes], 12),
    );
    Array.from(r.perClass).forEach((d, c) => expect(d).toBeCloseTo(multi.per_class[c], 12));
    expect(r.mean).toBeCloseTo(multi.mean, 12);
    expect(r.perClass[3]).toBe(1); // a class empty in both everywhere scores 1 with smoothing
  });

  it('with an explicit empty-mask score and no smoothing', async () => {
    const r = await dice(stack(multi.pred), stack(multi.truth), shape, { backend, emptyScore: 1 });
    Array.from(r.perClass).forEach((d, c) => expect(d).toBeCloseTo(multi.empty1_per_class[c], 12));
    expect(r.mean).toBeCloseTo(multi.empty1_mean, 12);
    const r0 = await dice(stack(multi.pred), stack(multi.truth), shape, { backend, emptyScore: 0 });
    expect(r0.perClass[3]).toBe(0);
  });

  it('takes [N, C, H, W] as one Uint8Array, unaligned, non-zero = 1', async () => {
    const p = stack(multi.pred),
      t = stack(multi.truth);
    const per = p[0]!.length;
    const bufP = new Uint8Array(per * p.length + 3),
      bufT = new Uint8Array(per * p.length + 1);
    p.forEach((m, i) =>
      bufP.set(
        m.map((v) => v * 200),
        3 + i * per,
      ),
    );
    t.forEach((m, i) => bufT.set(m, 1 + i * per));
    const r = await dice(bufP.subarray(3), bufT.subarray(1), shape, { backend });
    expect(r.mean).toBeCloseTo(multi.mean, 12);
  });
});

describeEachKernel(['dice', 'rleOverlap'], 'dice on runs (numpy goldens)', (backend) => {
  it('on run pairs (numpy goldens)', async () => {
    for (const c of golden.pairs) {
      const r = await rleDice(c.a_rle, c.b_rle, { height: c.height, width: c.width, backend });
      expect([r.intersection, r.areaA, r.areaB]).toEqual([c.intersection, c.area_a, c.area_b]);
      expect(r.dice).toBeCloseTo(c.dice, 14);
      const m = await dice(
        [fromRows(c.a_rows)],
        [fromRows(c.b_rows)],
        { classes: 1, height: c.height, width: c.width },
        { backend },
      );
      expect(m.perImage[0]).toBe(r.dice);
    }
  });

  it('on masks equals dice on runs (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer(),
        async (n, c, h, w, seed) => {
          const r = rng(seed),
            size = n * c * h * w;
          const density = r();
          const p = Uint8Array.from({ length: size }, () => (r() < density ? 1 + Math.floor(r() * 255) : 0));
          const t = Uint8Array.from({ length: size }, () => (r() < density ? 1 : 0));
          const byMask = await dice(p, t, { classes: c, height: h, width: w }, { backend });
          const { rle: pr } = await encodeRle(p, { height: h, width: w });
          const { rle: tr } = await encodeRle(t, { height: h, width: w });
          for (let k = 0; k < n * c; k++) {
            expect((await rleDice(pr[k]!, tr[k]!, { height: h, width: w, backend })).dice).toBe(byMask.perImage[k]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('dice options and arguments', () => {
  it('scores from counts', () => {
    expect(diceScore(0, 0, 0)).toBe(1);
    expect(diceScore(0, 5, 0)).toBeCloseTo(1e-4 / 5.0001, 15);
    expect(diceScore(0, 0, 0, { eps: 0, emptyScore: 0.5 })).toBe(0.5);
    expect(diceScore(3, 4, 4, { eps: 0, emptyScore: 1 })).toBe(0.75);
  });
  it('rejects bad options and sizes naming the argument', async () => {
    const m = new Uint8Array(8);
    await expect(dice(m, m, { classes: 2, height: 2, width: 2 }, { eps: 0 })).rejects.toThrow(/for eps/);
    await expect(dice(m, m, { classes: 2, height: 2, width: 2 }, { eps: 1e-4, emptyScore: 1 })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(dice(m, m, { classes: 2, height: 2, width: 2 }, { emptyScore: 2 })).rejects.toThrow(/for emptyScore/);
    await expect(dice(m, new Uint8Array(16), { classes: 2, height: 2, width: 2 })).rejects.toThrow(
      /1 images for truth .* received 2/,
    );
    await expect(dice(m, m, { classes: 3, height: 2, width: 2 })).rejects.toThrow(/for pred/);
    await expect(dice([m], [new Uint8Array(7)], { classes: 2, height: 2, width: 2 })).rejects.toThrow(/truth\[0\]/);
  });
  it('zero images give NaN means', async () => {
    const r = await dice([], [], { classes: 2, height: 2, width: 2 });
    expect(r.perImage).toHaveLength(0);
    expect(Number.isNaN(r.mean)).toBe(true);
  });
});

describe('diceFromCsv', () => {
  const truthRows = csvRows(multi.truth_rle);
  const predRows = csvRows(multi.pred_rle);
  const opts = { height: multi.height, width: multi.width };
  const truth = { name: 'truth.csv', text: formatSubmissionCsv(truthRows) };

  it('equals the numpy golden with rows in any order', async () => {
    const shuffled = [...predRows];
    const r = rng(5);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const res = await diceFromCsv({ name: 'pred.csv', text: formatSubmissionCsv(shuffled) }, truth, opts);
    expect(res.classes).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(res.images).toEqual(['img0.png', 'img1.png', 'img2.png']);
    Array.from(res.perClass).forEach((d, c) => expect(d).toBeCloseTo(multi.per_class[c], 12));
    expect(res.mean).toBeCloseTo(multi.mean, 12);
    expect(Array.from(res.imagesPerClass)).toEqual([3, 3, 3, 3]);
    const row = res.rows.find((x) => x.image_name === 'img1.png' && x.class === 'c2')!;
    expect(row.dice).toBeCloseTo(multi.per_image[1][2], 12);
    const e = await diceFromCsv({ name: 'pred.csv', text: formatSubmissionCsv(shuffled) }, truth, {
      ...opts,
      emptyScore: 1,
    });
    expect(e.mean).toBeCloseTo(multi.empty1_mean, 12);
  });

  it('reads files, and equals dice on the decoded masks', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'maskbox-dice-'));
    await writeFile(join(dir, 'p.csv'), formatSubmissionCsv(predRows));
    await writeFile(join(dir, 't.csv'), formatSubmissionCsv(truthRows));
    const res = await diceFromCsv(join(dir, 'p.csv'), join(dir, 't.csv'), opts);
    const byMask = await dice(stack(multi.pred), stack(multi.truth), shape);
    expect(Array.from(res.perClass)).toEqual(Array.from(byMask.perClass));
  });

  it('names a missing row, a duplicate, and a bad RLE with file and line', async () => {
    const pred = (rows: SubmissionRow[]) => ({ name: 'pred.csv', text: formatSubmissionCsv(rows) });
    await expect(diceFromCsv(pred(predRows.slice(1)), truth, opts)).rejects.toThrow(
      /^truth\.csv:2: row for image 'img0\.png', class 'c0' has no matching row in pred\.csv/,
    );
    await expect(
      diceFromCsv(pred([...predRows, { image_name: 'x.png', class: 'c0', rle: '' }]), truth, opts),
    ).rejects.toThrow(/^pred\.csv:14: row for image 'x\.png', class 'c0' has no matching row in truth\.csv/);
    await expect(diceFromCsv(pred([...predRows, predRows[5]!]), truth, opts)).rejects.toThrow(
      /^pred\.csv:14: duplicate row for image 'img1\.png', class 'c1' \(first at line 7\)/,
    );
    await expect(
      diceFromCsv(pred(predRows), { name: 't.csv', text: formatSubmissionCsv([...truthRows, truthRows[0]!]) }, opts),
    ).rejects.toThrow(/^t\.csv:14: duplicate/);
    const bad = predRows.map((r, i) => (i === 4 ? { ...r, rle: '3 1 1 1' } : r));
    await expect(diceFromCsv(pred(bad), truth, opts)).rejects.toThrow(/^pred\.csv:6: RLE token 3/);
    await expect(diceFromCsv(pred(predRows), truth, { height: 2, width: 2 })).rejects.toThrow(ParseError);
  });

  it('scores hand-bone submissions with the class names', async () => {
    const rows = (rle: string) => HANDBONE_CLASSES.map((c) => ({ image_name: 'a.png', class: c, rle }));
    const res = await diceFromCsv(
      { text: formatSubmissionCsv(rows('1 10')) },
      { text: formatSubmissionCsv(rows('6 10')) },
    );
    expect(res.classes).toEqual(HANDBONE_CLASSES);
    expect(res.mean).toBeCloseTo((10 + 1e-4) / (20 + 1e-4), 14);
  });
});

describe('maskbox eval dice (CLI)', () => {
  it('prints per-class Dice and the mean, as a table or JSON', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { main } = await import('../src/cli/index.js');
    const dir = await mkdtemp(join(tmpdir(), 'maskbox-dice-cli-'));
    await writeFile(join(dir, 'p.csv'), formatSubmissionCsv(csvRows(multi.pred_rle)));
    await writeFile(join(dir, 't.csv'), formatSubmissionCsv(csvRows(multi.truth_rle)));
    let out = '';
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      const args = [
        'eval',
        'dice',
        '--pred',
        join(dir, 'p.csv'),
        '--truth',
        join(dir, 't.csv'),
        '--height',
        '12',
        '--width',
        '10',
      ];
      expect(await main([...args, '--json'])).toBe(0);
      const j = JSON.parse(out);
      expect(j.mean).toBeCloseTo(multi.mean, 12);
      expect(j.perClass.map((c: { class: string }) => c.class)).toEqual(['c0', 'c1', 'c2', 'c3']);
      out = '';
      expect(await main(args)).toBe(0);
      expect(out.split('\n')[0]).toMatch(/^class\s+dice\s+images$/);
      expect(out).toMatch(new RegExp(`mean\\s+${multi.mean.toFixed(4)}\\s+3`));
    } finally {
      spy.mockRestore();
    }
  });
});
