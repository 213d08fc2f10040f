import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { letterbox, letterboxParams, pythonRound, type RawImage } from '../src/ops/letterbox.js';
import { InvalidArgumentError } from '../src/errors.js';
import { getKernel, type BackendName } from '../src/backends/registry.js';
import { REPO, describeEachKernel, rng } from './helpers.js';
import { randomImage } from './preprocessFixtures.js';

const golden = (name: string) => JSON.parse(readFileSync(join(REPO, 'test/goldens/preprocess', name), 'utf8'));
const geometry = golden('letterbox_params.json').cases as any[];
const pixels = golden('letterbox_pixels.json').cases as any[];

describe('pythonRound', () => {
  it("rounds halves to even like Python 3's round()", () => {
    const cases: [number, number][] = [
      [312.5, 312],
      [313.5, 314],
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-0.5, 0],
      [-1.5, -2],
      [2.4999999999999996, 2],
      [163.9, 164],
      [0.4, 0],
      [0.6, 1],
      [7, 7],
    ];
    for (const [x, y] of cases) expect(pythonRound(x) === y, `round(${x})`).toBe(true);
  });
});

describe('letterboxParams (YOLOv5 letterbox geometry)', () => {
  it('matches YOLOv5 for the table of sizes (incl. 2048x1000 -> 312, auto, no scale-up)', () => {
    for (const c of geometry) {
      const p = letterboxParams(c.imageWidth, c.imageHeight, {
        size: c.size,
        auto: c.auto,
        scaleUp: c.scaleUp,
        stride: c.stride,
      });
      const e = c.expected;
      const label = JSON.stringify([c.imageHeight, c.imageWidth, c.size, c.auto, c.scaleUp, c.stride]);
      expect({ ...p }, label).toEqual({
        width: e.width,
        height: e.height,
        ratio: e.ratio,
        newWidth: e.newWidth,
        newHeight: e.newHeight,
        left: e.left,
        top: e.top,
        gain: e.gain,
        padX: e.padX,
        padY: e.padY,
        imageWidth: c.imageWidth,
        imageHeight: c.imageHeight,
      });
    }
  });
  it('gives width 312 for a 1000x2048 image (312.5 rounds to even), left 164 and fractional pad 163.75', () => {
    const p = letterboxParams(1000, 2048, { size: 640 });
    expect([p.newWidth, p.newHeight, p.left, p.top, p.width, p.height, p.padX]).toEqual([
      312, 640, 164, 0, 640, 640, 163.75,
    ]);
    const a = letterboxParams(1000, 2048, { size: 640, auto: true });
    expect([a.width, a.height, a.left, a.padX]).toEqual([320, 640, 4, 3.75]);
  });
  it('covers the auto-mode cases where the gain differs from the ratio', () => {
    expect(geometry.some((c) => c.expected.gain !== c.expected.ratio && c.auto)).toBe(true);
  });
});

describeEachKernel('letterbox', 'letterbox', (backend) => {
  it('matches the golden pixels (torch bilinear, /255, /65535, percentile stretch, pad 114) within 1e-5', async () => {
    for (const c of pixels) {
      const data = c.depth === 16 ? Uint16Array.from(c.data) : Uint8Array.from(c.data);
      const res = await letterbox(
        { data, width: c.width, height: c.height, channels: c.channels },
        { size: c.size, auto: c.auto, scaleUp: c.scaleUp, percentiles: c.percentiles ?? undefined, backend },
      );
      const label = JSON.stringify([c.height, c.width, c.channels, c.depth, c.size, c.auto, c.percentiles]);
      expect([res.width, res.height, res.params.left, res.params.top, res.params.newWidth], label).toEqual([
        c.params.width,
        c.params.height,
        c.params.left,
        c.params.top,
        c.params.newWidth,
      ]);
      expect([res.low, res.high], label).toEqual([c.low, c.high]);
      expect(res.data.length).toBe(c.output.length);
      let err = 0;
      for (let i = 0; i < c.output.length; i++) err = Math.max(err, Math.abs(res.data[i]! - Math.fround(c.output[i])));
      expect(err, label).toBeLessThan(1e-5);
    }
  });

  it('pads with exactly 114/255 and places the image at (left, top)', async () => {
    const img = { data: new Uint8Array(10 * 4 * 3).fill(255), width: 10, height: 4, channels: 3 };
    const { data, width, height, params } = await letterbox(img, { size: 20, backend });
    expect([width, height, params.newWidth, params.newHeight, params.left, params.top]).toEqual([20, 20, 20, 8, 0, 6]);
    const pad = Math.fround(114 / 255);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 20; y++) {
        const inside = y >= 6 && y < 14;
        for (let x = 0; x < 20; x++) expect(data[c * 400 + y * 20 + x]).toBe(inside ? 1 : pad);
      }
    }
    const custom = await letterbox(img, { size: 20, padValue: 0, backend });
    expect(custom.data[0]).toBe(0);
  });

  it('replicates grey to RGB, ignores alpha, reads Uint8ClampedArray like Uint8Array', async () => {
    const r = rng(9);
    const grey = randomImage(r, 13, 9, 1);
    const g = await letterbox(grey, { size: 16, backend });
    const plane = g.width * g.height;
    expect(Array.from(g.data.subarray(plane, 2 * plane))).toEqual(Array.from(g.data.subarray(0, plane)));
    expect(Array.from(g.data.subarray(2 * plane))).toEqual(Array.from(g.data.subarray(0, plane)));

    const rgba = randomImage(r, 11, 7, 4);
    const rgb = new Uint8Array(11 * 7 * 3);
    for (let i = 0; i < 77; i++) rgb.set(rgba.data.subarray(i * 4, i * 4 + 3), i * 3);
    const a = await letterbox(rgba, { size: [12, 20], backend });
    const b = await letterbox({ data: rgb, width: 11, height: 7, channels: 3 }, { size: [12, 20], backend });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const c = await letterbox(
      { data: new Uint8ClampedArray(rgb), width: 11, height: 7, channels: 3 },
      { size: [12, 20], backend },
    );
    expect(Array.from(c.data)).toEqual(Array.from(b.data));
  });

  it('normalises 16-bit by 65535 and keeps outputs in [0, 1] with a percentile stretch', async () => {
    const r = rng(4);
    const img16 = randomImage(r, 17, 23, 1, 16);
    const scaled = await letterbox(img16, { size: 23, backend });
    expect([scaled.low, scaled.high]).toEqual([0, 65535]);
    const st = await letterbox(img16, { size: 23, percentiles: [5, 95], backend });
    expect(st.low).toBeGreaterThan(0);
    expect(st.high).toBeLessThan(65535);
    let zeros = 0,
      ones = 0;
    for (const v of st.data) {
      expect(v >= 0 && v <= 1).toBe(true);
      if (v === 0) zeros++;
      if (v === 1) ones++;
    }
    expect(zeros).toBeGreaterThan(0);
    expect(ones).toBeGreaterThan(0);
    // a constant image: low == high, the range is taken as 1, everything maps to 0
    const flat = await letterbox(
      { data: new Uint16Array(30).fill(500), width: 6, height: 5, channels: 1 },
      { size: 6, percentiles: [1, 99], backend },
    );
    expect([flat.low, flat.high]).toEqual([500, 500]);
    expect(flat.data[3 * 6 + 2]).toBe(0);
  });

  it('does not enlarge with scaleUp false, and writes into a batch slice', async () => {
    const r = rng(2);
    const img = randomImage(r, 5, 3, 3);
    const batch = new Float32Array(2 * 3 * 16 * 16);
    const res = await letterbox(img, { size: 16, scaleUp: false, out: batch.subarray(3 * 256), backend });
    expect(res.data.buffer).toBe(batch.buffer);
    expect([res.params.ratio, res.params.newWidth, res.params.newHeight, res.params.left, res.params.top]).toEqual([
      1, 5, 3, 5, 6,
    ]);
    expect([res.params.gain, res.params.padX, res.params.padY]).toEqual([1, 5.5, 6.5]);
    // unscaled: the pixels are copied exactly (v / 255)
    expect(batch[3 * 256 + 6 * 16 + 5]).toBe(Math.fround(img.data[0]! / 255));
    expect(batch[0]).toBe(0);
  });

  it('letterboxes a 2048x2048 RGB image to 640 with the expected geometry', async () => {
    const img = randomImage(rng(1), 2048, 2048, 3);
    const res = await letterbox(img, { backend });
    expect([res.width, res.height, res.data.length, res.params.ratio]).toEqual([640, 640, 3 * 640 * 640, 0.3125]);
  });
});

describe('letterbox argument checks', () => {
  const img = { data: new Uint8Array(4 * 3 * 3), width: 4, height: 3, channels: 3 };
  const reject = (image: unknown, options: object, re: RegExp) =>
    expect(letterbox(image as RawImage, options)).rejects.toThrow(re);
  it('rejects bad image sizes, channel counts and lengths, naming the argument', async () => {
    await reject({ ...img, width: 0 }, {}, /image\.width/);
    await reject({ ...img, height: 2.5 }, {}, /image\.height/);
    await reject({ ...img, width: -4 }, {}, /image\.width/);
    await reject({ ...img, channels: 2 }, {}, /1, 3 or 4 for image\.channels/);
    await reject({ ...img, data: new Uint8Array(35) }, {}, /Expected 36 samples \(3x4x3\) for image\.data/);
    await reject(
      { ...img, data: new Float32Array(36) },
      {},
      /Uint8Array, Uint8ClampedArray or Uint16Array for image\.data/,
    );
    await reject(null, {}, /for image/);
    await expect(letterbox({ ...img, data: new Uint8Array(35) })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
  it('rejects images above MAX_PIXELS (2^28) before touching the data', async () => {
    await reject({ ...img, width: 32768, height: 16384 }, {}, /at most 268435456 pixels/);
  });
  it('rejects bad options', async () => {
    await reject(img, { size: 0 }, /for size/);
    await reject(img, { size: 640.5 }, /for size/);
    await reject(img, { size: [640] }, /\[height, width\] for size/);
    await reject(img, { size: [640, -1] }, /size\[1\]/);
    await reject(img, { stride: 0 }, /stride/);
    await reject(img, { auto: 'yes' }, /boolean for auto/);
    await reject(img, { padValue: 300 }, /padValue/);
    await reject(img, { percentiles: [50, 10] }, /low < high/);
    await reject(img, { percentiles: [-1, 10] }, /percentiles\[0\]/);
    await reject(img, { out: new Float32Array(10) }, /length 1228800 for out/);
  });
  it('rejects an aspect ratio that would resize a side to 0 pixels', async () => {
    expect(() => letterboxParams(1, 100000, { size: 640 })).toThrow(/at least 1 pixel per side/);
  });
});
