import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { letterboxTransform, scaleBoxes } from '../src/ops/scaleBoxes.js';
import { letterboxParams } from '../src/ops/letterbox.js';
import { InvalidArgumentError } from '../src/errors.js';
import { getKernel, type BackendName } from '../src/backends/registry.js';
import { REPO, describeEachKernel, rng } from './helpers.js';

const cases = JSON.parse(readFileSync(join(REPO, 'test/goldens/preprocess/scale_boxes.json'), 'utf8')).cases as any[];

describe('letterboxTransform (YOLOv5 scale_boxes with ratio_pad=None)', () => {
  it('recomputes gain and fractional pad from the two shapes as YOLOv5 does', () => {
    for (const c of cases.filter((c) => !c.ratioPad)) {
      const t = letterboxTransform(c.inputWidth, c.inputHeight, c.imageWidth, c.imageHeight);
      expect([t.gain, t.padX, t.padY, t.imageWidth, t.imageHeight]).toEqual([
        c.gain,
        c.padX,
        c.padY,
        c.imageWidth,
        c.imageHeight,
      ]);
    }
  });
  it('agrees with letterboxParams for a full and an auto letterbox', () => {
    for (const auto of [false, true]) {
      const p = letterboxParams(1000, 2048, { size: 640, auto });
      const t = letterboxTransform(p.width, p.height, 1000, 2048);
      expect([t.gain, t.padX, t.padY]).toEqual([p.gain, p.padX, p.padY]);
    }
  });
});

describeEachKernel('scaleBoxes', 'scaleBoxes', (backend) => {
  it('is bit-identical to YOLOv5 scale_boxes + clip_boxes on float32 torch tensors', async () => {
    for (const c of cases) {
      const t = { gain: c.gain, padX: c.padX, padY: c.padY, imageWidth: c.imageWidth, imageHeight: c.imageHeight };
      const { boxes } = await scaleBoxes(Float32Array.from(c.boxes), t, { backend });
      expect(Array.from(boxes), JSON.stringify([c.imageHeight, c.imageWidth, c.inputHeight, c.inputWidth])).toEqual(
        c.expected.map(Math.fround),
      );
    }
  });

  it('returns a new array by default and writes in place on request', async () => {
    const t = letterboxTransform(640, 640, 1000, 2048);
    const b = new Float32Array([200, 10, 300, 100]);
    const copy = b.slice();
    const res = await scaleBoxes(b, t, { backend });
    expect(res.boxes).not.toBe(b);
    expect(Array.from(b)).toEqual(Array.from(copy));
    const inPlace = await scaleBoxes(b, t, { inPlace: true, backend });
    expect(inPlace.boxes).toBe(b);
    expect(Array.from(b)).toEqual(Array.from(res.boxes));
  });

  it('clips to the image unless clip is false', async () => {
    const t = { gain: 0.5, padX: 10, padY: 20, imageWidth: 100, imageHeight: 50 };
    const b = new Float32Array([0, 0, 200, 200]);
    expect(Array.from((await scaleBoxes(b, t, { backend })).boxes)).toEqual([0, 0, 100, 50]);
    expect(Array.from((await scaleBoxes(b, t, { clip: false, backend })).boxes)).toEqual([-20, -40, 380, 360]);
  });

  it('undoes letterbox geometry: image boxes -> input -> back within float32 rounding', async () => {
    const r = rng(8);
    for (const [w, h, auto] of [
      [1000, 2048, false],
      [1920, 1080, true],
      [333, 777, false],
    ] as const) {
      const p = letterboxParams(w, h, { size: 640, auto });
      const img = new Float32Array(40);
      for (let i = 0; i < 40; i += 4) {
        const x = r() * w * 0.8,
          y = r() * h * 0.8;
        img.set([x, y, x + r() * w * 0.2, y + r() * h * 0.2], i);
      }
      const input = img.map((v, i) => v * p.gain + (i % 2 === 0 ? p.padX : p.padY));
      const back = (await scaleBoxes(input, p, { backend })).boxes;
      for (let i = 0; i < 40; i++) expect(Math.abs(back[i]! - img[i]!)).toBeLessThan(2e-3);
    }
  });

  it('accepts zero boxes', async () => {
    expect(
      (await scaleBoxes(new Float32Array(0), letterboxTransform(640, 640, 10, 10), { backend })).boxes.length,
    ).toBe(0);
  });
});

describe('scaleBoxes argument checks', () => {
  const t = { gain: 0.5, padX: 1, padY: 2, imageWidth: 100, imageHeight: 50 };
  it('rejects bad boxes naming the element', async () => {
    await expect(scaleBoxes(new Float32Array(5), t)).rejects.toThrow(/multiple of 4/);
    const nan = new Float32Array(8);
    nan[6] = NaN;
    await expect(scaleBoxes(nan, t)).rejects.toThrow(/boxes\[6\]/);
    await expect(scaleBoxes([1, 2, 3, 4] as never, t)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
  it('rejects a bad transform naming the field', async () => {
    const b = new Float32Array(4);
    await expect(scaleBoxes(b, { ...t, gain: 0 })).rejects.toThrow(/transform\.gain/);
    await expect(scaleBoxes(b, { ...t, padX: NaN })).rejects.toThrow(/transform\.padX/);
    await expect(scaleBoxes(b, { ...t, imageWidth: 0 })).rejects.toThrow(/transform\.imageWidth/);
    await expect(scaleBoxes(b, { ...t, imageHeight: 1.5 })).rejects.toThrow(/transform\.imageHeight/);
    await expect(scaleBoxes(b, null as never)).rejects.toThrow(/for transform/);
    expect(() => letterboxTransform(0, 640, 10, 10)).toThrow(/inputWidth/);
  });
});
