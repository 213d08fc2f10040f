import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/index.js';
import { InvalidArgumentError } from '../src/errors.js';
import { resolveCdvParams, simulateCdv } from '../src/sim/cdv.js';
import { writeCdvDataset } from '../src/sim/cdvDataset.js';
import { Prng } from '../src/sim/prng.js';

const small = resolveCdvParams({ width: 256, height: 256, boxFrac: [0.06, 0.1], density: [250, 350] });
const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'maskbox-sim-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('Prng', () => {
  it('is deterministic and uniform-ish', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});

describe('simulateCdv', () => {
  it('is deterministic for a seed and differs across seeds and indices', () => {
    const a = simulateCdv(small, 7, 0);
    const b = simulateCdv(small, 7, 0);
    expect(b.pixels).toEqual(a.pixels);
    expect(b.vesicles).toEqual(a.vesicles);
    expect(simulateCdv(small, 8, 0).pixels).not.toEqual(a.pixels);
    expect(simulateCdv(small, 7, 1).pixels).not.toEqual(a.pixels);
  });

  it('puts boxes inside the image, around vesicles of the requested size', () => {
    for (let i = 0; i < 5; i++) {
      const img = simulateCdv(small, 3, i);
      expect(img.vesicles.length).toBeGreaterThan(3);
      for (const v of img.vesicles) {
        const [x1, y1, x2, y2] = v.box;
        expect(x1).toBeGreaterThanOrEqual(0);
        expect(y1).toBeGreaterThanOrEqual(0);
        expect(x2).toBeLessThanOrEqual(256);
        expect(y2).toBeLessThanOrEqual(256);
        expect(x2 - x1).toBeGreaterThanOrEqual(1);
        expect(Math.max(x2 - x1, y2 - y1)).toBeLessThan(0.1 * 256 + 8);
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of img.pixels) {
        lo = Math.min(lo, p);
        hi = Math.max(hi, p);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(255);
    }
  });

  it('keeps vesicle outlines at least minGap apart', () => {
    const p = resolveCdvParams({ ...small, minGap: 6, touching: [0.5, 0.5] });
    for (let i = 0; i < 3; i++)
      for (const v of simulateCdv(p, 11, i).vesicles) expect(v.nearestGap).toBeGreaterThanOrEqual(6 - 1e-9);
  });

  it('names the bad parameter', () => {
    expect(() => resolveCdvParams({ density: [5, 1] })).toThrow(InvalidArgumentError);
    expect(() => resolveCdvParams({ boxFrac: [0.01, 0.9] })).toThrow(/boxFrac/);
    expect(() => resolveCdvParams({ width: 0 })).toThrow(/width/);
    expect(() => resolveCdvParams({ shapes: ['square' as never] })).toThrow(/shapes/);
  });
});

describe('writeCdvDataset', () => {
  it('writes images, YOLO labels and COCO JSON that agree', async () => {
    const out = await tmp();
    const summary = await writeCdvDataset(small, { n: 3, out, seed: 5, format: 'png' });
    const images = (await readdir(join(out, 'images'))).sort();
    const labels = (await readdir(join(out, 'labels'))).sort();
    expect(images).toEqual(['cdv_00000.png', 'cdv_00001.png', 'cdv_00002.png']);
    expect(labels).toEqual(['cdv_00000.txt', 'cdv_00001.txt', 'cdv_00002.txt']);
    const coco = JSON.parse(await readFile(join(out, 'annotations.json'), 'utf8'));
    expect(coco.categories).toEqual([{ id: 1, name: 'cluster', supercategory: 'vesicle' }]);
    expect(coco.images).toHaveLength(3);
    expect(coco.annotations).toHaveLength(summary.boxes);
    let total = 0;
    for (const im of coco.images) {
      const lines = (await readFile(join(out, 'labels', im.file_name.replace('.png', '.txt')), 'utf8'))
        .trim()
        .split('\n');
      const anns = coco.annotations.filter((a: { image_id: number }) => a.image_id === im.id);
      expect(lines).toHaveLength(anns.length);
      total += lines.length;
      lines.forEach((line, k) => {
        const [c, xc, yc, w, h] = line.split(' ').map(Number) as [number, number, number, number, number];
        expect(c).toBe(0);
        expect(xc - w / 2).toBeGreaterThanOrEqual(-1e-6);
        expect(yc - h / 2).toBeGreaterThanOrEqual(-1e-6);
        expect(xc + w / 2).toBeLessThanOrEqual(1 + 1e-6);
        expect(yc + h / 2).toBeLessThanOrEqual(1 + 1e-6);
        const a = anns[k];
        expect(a.category_id).toBe(1);
        expect(a.iscrowd).toBe(0);
        expect(a.area).toBeCloseTo(a.bbox[2] * a.bbox[3], 3);
        expect(a.bbox[0] + a.bbox[2] / 2).toBeCloseTo(xc * 256, 1);
        expect(a.bbox[3]).toBeCloseTo(h * 256, 1);
      });
      const meta = await sharp(join(out, 'images', im.file_name)).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([256, 256, 3]);
    }
    expect(total).toBe(summary.boxes);
  });

  it('writes image i identically whatever n and start are', async () => {
    const a = await tmp();
    const b = await tmp();
    await writeCdvDataset(small, { n: 3, out: a, seed: 9, format: 'png' });
    await writeCdvDataset(small, { n: 1, start: 2, out: b, seed: 9, format: 'png' });
    expect(await readFile(join(b, 'images', 'cdv_00002.png'))).toEqual(
      await readFile(join(a, 'images', 'cdv_00002.png')),
    );
    expect(await readFile(join(b, 'labels', 'cdv_00002.txt'), 'utf8')).toBe(
      await readFile(join(a, 'labels', 'cdv_00002.txt'), 'utf8'),
    );
  });

  it('writes 16-bit TIFF and JPEG', async () => {
    const out = await tmp();
    await writeCdvDataset(small, { n: 1, out, seed: 1, format: 'tif' });
    const tif = await sharp(join(out, 'images', 'cdv_00000.tif')).metadata();
    expect([tif.width, tif.channels, tif.depth]).toEqual([256, 1, 'ushort']);
    const out2 = await tmp();
    await writeCdvDataset(resolveCdvParams({ ...small, jpegProb: 1 }), { n: 1, out: out2, seed: 1, format: 'jpg' });
    expect((await sharp(join(out2, 'images', 'cdv_00000.jpg')).metadata()).format).toBe('jpeg');
  });
});

describe('maskbox simulate cdv', () => {
  it('runs from the CLI and rejects bad flags', async () => {
    const out = await tmp();
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    const err = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(
        await main([
          'simulate',
          'cdv',
          '--n',
          '2',
          '--out',
          out,
          '--size',
          '256',
          '--box-frac',
          '0.06:0.1',
          '--density',
          '300',
          '--seed',
          '4',
          '--json',
        ]),
      ).toBe(0);
      expect(await main(['simulate', 'cdv', '--n', '1', '--out', out, '--density', '5:1'])).toBe(2);
      expect(await main(['simulate', 'cdv', '--n', '1', '--out', out, '--format', 'gif'])).toBe(2);
      expect(await main(['simulate', 'cdv', '--out', out])).toBe(2);
    } finally {
      process.stdout.write = write;
      process.stderr.write = err;
    }
    const summary = JSON.parse(printed);
    expect(summary.images).toBe(2);
    expect(summary.boxes).toBeGreaterThan(4);
    expect((await readdir(join(out, 'images'))).length).toBe(2);
  });
});
