import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelError, ParseError } from '../src/errors.js';
import { readImage, type RawImage } from '../src/io/image.js';
import { formatSubmissionCsv, readSubmissionCsv } from '../src/io/submissionCsv.js';
import { HANDBONE_CLASSES } from '../src/model/classes.js';
import { hardVoteCsv, hardVoteRows, voteRuns } from '../src/model/ensemble.js';
import { Segmenter } from '../src/model/segmenter.js';
import { encodeRle, parseRle } from '../src/ops/rle.js';
import { REPO, rng } from './helpers.js';

const FIX = join(REPO, 'test/fixtures/models');
const fold = (k: number) => join(FIX, `tiny_seg_fold${k}.onnx`);
const G = JSON.parse(readFileSync(join(REPO, 'test/goldens/models/tiny_seg.json'), 'utf8'));
const TMP = mkdtempSync(join(tmpdir(), 'maskbox-segmenter-'));

function decode(rle: string, pixels: number): Uint8Array {
  const m = new Uint8Array(pixels);
  const r = parseRle(rle, pixels);
  for (let k = 0; k < r.length; k += 2) m.fill(1, r[k]!, r[k]! + r[k + 1]!);
  return m;
}

/** Masks equal the golden's except at pixels the golden lists as ties (probability within 2.5e-5 of 0.5). */
function expectMasks(rle: string[], want: { rle: string[]; ties: number[][]; area: number[] }): void {
  const P = G.height * G.width;
  expect(rle).toHaveLength(29);
  for (let c = 0; c < 29; c++) {
    const a = decode(rle[c]!, P),
      b = decode(want.rle[c]!, P);
    const ties = new Set(want.ties[c]);
    const diff: number[] = [];
    for (let i = 0; i < P; i++) if (a[i] !== b[i] && !ties.has(i)) diff.push(i);
    expect(diff, `class ${c}`).toEqual([]);
  }
}

let image: RawImage;
beforeAll(async () => {
  image = await readImage(join(FIX, 'seg.png'));
});

describe('Segmenter (goldens: torch F.interpolate + sigmoid + competition RLE in Python)', () => {
  it('one model: resize in, logits back to the image size, > 0.5, RLE rows per hand-bone class', async () => {
    const seg = await Segmenter.load(fold(0));
    expect(seg.classes).toEqual(HANDBONE_CLASSES);
    expect(seg.provider).toBe('cpu');
    const r = await seg.segment(image, { name: 'some/dir/image1.png', masks: true });
    expectMasks(r.rle, G.cases.single);
    expect(r.rows.map((x) => x.class)).toEqual([...HANDBONE_CLASSES]);
    expect(new Set(r.rows.map((x) => x.image_name))).toEqual(new Set(['image1.png']));
    expect(r.rows.map((x) => x.rle)).toEqual(r.rle);
    // areas and masks agree with the RLE strings
    const P = G.height * G.width;
    r.rle.forEach((s, c) => {
      const m = decode(s, P);
      expect(r.areas[c]).toBe(m.reduce((a, v) => a + v, 0));
      expect(r.masks!.subarray(c * P, (c + 1) * P)).toEqual(m);
    });
    await seg.dispose();
    await expect(seg.segment(image)).rejects.toThrow(/disposed/);
  });

  it('K-fold soft ensemble averages probabilities; flip TTA averages flipped-back logits', async () => {
    const seg = await Segmenter.load([fold(0), fold(1)]);
    expect(seg.models).toBe(2);
    expectMasks((await seg.segment(image)).rle, G.cases.ensemble);
    expectMasks((await seg.segment(image, { flip: true })).rle, G.cases.ensemble_flip);
    await seg.dispose();
    const flipped = await Segmenter.load([fold(0), fold(1)], { flip: true });
    expectMasks((await flipped.segment(image)).rle, G.cases.ensemble_flip);
    await flipped.dispose();
  });

  it('threshold and class names', async () => {
    const seg = await Segmenter.load(fold(0), { threshold: 0.999999 });
    const r = await seg.segment(image);
    const one = await Segmenter.load(fold(0));
    const base = await one.segment(image);
    r.areas.forEach((a, c) => expect(a).toBeLessThanOrEqual(base.areas[c]!));
    expect(r.areas.reduce((a, b) => a + b)).toBeLessThan(base.areas.reduce((a, b) => a + b));
    await seg.dispose();
    await one.dispose();
    await expect(Segmenter.load(fold(0), { classes: ['a', 'b'] })).rejects.toThrow(
      /outputs 29 classes but 2 class names/,
    );
    await expect(Segmenter.load(fold(0), { inputSize: 64 })).rejects.toMatchObject({ argument: 'inputSize' }); // fixed 32x32
  });

  it('errors: not an image model, not ONNX, empty list', async () => {
    await expect(Segmenter.load(join(FIX, 'not_detector.onnx'))).rejects.toThrow(/not an image segmenter/);
    await expect(Segmenter.load(join(FIX, 'tiny_yolov8.onnx'))).rejects.toThrow(/logits \[B,C,h,w\]/);
    const bad = join(TMP, 'bad.onnx');
    writeFileSync(bad, 'nope');
    await expect(Segmenter.load([fold(0), bad])).rejects.toThrow(ModelError);
    await expect(Segmenter.load([])).rejects.toMatchObject({ argument: 'models' });
  });
});

describe('hard voting across submission CSVs', () => {
  const P = 40 * 30;
  const randomMask = (r: () => number) => {
    const m = new Uint8Array(P);
    let on = r() < 0.5;
    for (let i = 0; i < P; i++) {
      if (r() < 0.08) on = !on;
      m[i] = on ? 1 : 0;
    }
    return m;
  };
  const rle = async (m: Uint8Array) => (await encodeRle(m, { height: 30, width: 40 })).rle[0]!;

  it('voteRuns equals a per-pixel majority (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const r = rng(seed);
        const masks = Array.from({ length: n }, () => randomMask(r));
        const lists = masks.map((m) => {
          const out: number[] = [];
          for (let i = 0; i < P;) {
            if (!m[i]) {
              i++;
              continue;
            }
            let j = i;
            while (j < P && m[j]) j++;
            out.push(i, j - i);
            i = j;
          }
          return Uint32Array.from(out);
        });
        for (let k = 1; k <= n; k++) {
          const got = new Uint8Array(P);
          const v = voteRuns(lists, k);
          for (let q = 0; q < v.length; q += 2) got.fill(1, v[q]!, v[q]! + v[q + 1]!);
          for (let i = 0; i < P; i++) if (got[i] !== (masks.reduce((a, m) => a + m[i]!, 0) >= k ? 1 : 0)) return false;
          for (let q = 2; q < v.length; q += 2) if (v[q]! <= v[q - 2]! + v[q - 1]!) return false; // maximal runs
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });

  it('votes three CSVs per (image, class), in any row order, and writes a submission', async () => {
    const r = rng(7);
    const names = ['a.png', 'b.png'];
    const classes = HANDBONE_CLASSES.slice(0, 3);
    const masks = [0, 1, 2].map(() => names.map(() => classes.map(() => randomMask(r))));
    const csvs = await Promise.all(
      masks.map(async (perFile, f) => {
        const rows = [];
        for (let i = 0; i < names.length; i++)
          for (let c = 0; c < classes.length; c++)
            rows.push({ image_name: names[i]!, class: classes[c]!, rle: await rle(perFile[i]![c]!) });
        if (f === 2) rows.reverse(); // a different order: matched by key
        const path = join(TMP, `sub${f}.csv`);
        writeFileSync(path, formatSubmissionCsv(rows));
        return path;
      }),
    );
    const out = join(TMP, 'vote.csv');
    expect(await hardVoteCsv(csvs, out, { height: 30, width: 40 })).toEqual({ rows: 6 });
    const voted = await readSubmissionCsv(out);
    expect(voted.map((v) => `${v.image_name}/${v.class}`)).toEqual(
      names.flatMap((n) => classes.map((c) => `${n}/${c}`)),
    );
    for (const v of voted) {
      const i = names.indexOf(v.image_name),
        c = classes.indexOf(v.class);
      const want = new Uint8Array(P).map((_, p) => (masks.reduce((a, f) => a + f[i]![c]![p]!, 0) >= 2 ? 1 : 0));
      expect(v.rle).toBe(await rle(want));
    }
    // unanimity
    const all = [];
    for await (const row of hardVoteRows(csvs, { minVotes: 3 })) all.push(row);
    expect(all).toHaveLength(6);
  });

  it('a row missing from one input, a bad RLE, too few inputs', async () => {
    const a = { text: 'image_name,class,rle\nx.png,Radius,1 3\ny.png,Radius,\n', name: 'a.csv' };
    const b = { text: 'image_name,class,rle\nx.png,Radius,2 3\n', name: 'b.csv' };
    const c = { text: 'image_name,class,rle\nx.png,Radius,1 oops\ny.png,Radius,\n', name: 'c.csv' };
    const drain = async (inputs: Parameters<typeof hardVoteRows>[0]) => {
      for await (const _ of hardVoteRows(inputs)) void _;
    };
    await expect(drain([a, b])).rejects.toThrow(/b\.csv: no row for image 'y\.png', class 'Radius'/);
    await expect(drain([b, a])).rejects.toThrow(/no row for image 'y\.png'.*present in a\.csv/);
    await expect(drain([a, c])).rejects.toThrow(ParseError);
    await expect(drain([a, c])).rejects.toThrow(/c\.csv:2:/);
    await expect(drain([a])).rejects.toMatchObject({ argument: 'inputs' });
    await expect(drain([a, a, a].map((x) => ({ ...x })) as never)).resolves.toBeUndefined();
  });
});
