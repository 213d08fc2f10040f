import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { letterbox, letterboxParams, pythonRound, type ChannelLevels, type RawImage } from '../src/ops/letterbox.js';
import { InvalidArgumentError } from '../src/errors.js';
import { getKernel, type BackendName } from '../src/backends/registry.js';
import { REPO, describeEachKernel, rng } from './helpers.js';
import { firstBitDiff, randomImage } from './preprocessFixtures.js';

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

  /**
   * How far each output plane of this backend may be from the js reference with these levels (one
   * entry per colour channel): nothing (js, cpu, cuda compute the same float64 steps), or on webgpu
   * (float32) the documented 1e-6, which grows as maxValue / (2 * range) for a channel whose range is
   * narrower than the image's contrast.
   */
  const levelsTolerance = (maxValue: number, low: readonly number[], high: readonly number[]): number[] => {
    const tol = low.map((l, c) => 1e-6 * Math.max(1, maxValue / (2 * (high[c]! > l ? high[c]! - l : 1))));
    if (backend !== 'webgpu') return [0, 0, 0];
    return tol.length === 1 ? [tol[0]!, tol[0]!, tol[0]!] : tol;
  };
  const expectClose = (got: Float32Array, want: Float32Array, tol: readonly number[], label: string) => {
    if (tol.every((t) => t === 0)) {
      expect(firstBitDiff(got, want), label).toBe(-1);
      return;
    }
    expect(got.length, label).toBe(want.length);
    const plane = want.length / 3;
    for (let c = 0; c < 3; c++) {
      let err = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err, `${label} plane ${c}`).toBeLessThanOrEqual(tol[c]!);
    }
  };

  it('levels: equal the js reference on random 8/16-bit grey/RGB/RGBA images (degenerate and all-zero channels)', async () => {
    const r = rng(61);
    for (let k = 0; k < 12; k++) {
      const depth = k % 2 === 0 ? 8 : 16;
      const channels = [1, 3, 4][k % 3]!;
      const maxValue = depth === 8 ? 255 : 65535;
      const img = randomImage(r, 20 + Math.floor(r() * 90), 20 + Math.floor(r() * 90), channels, depth);
      const colours = channels === 4 ? 3 : channels;
      if (colours === 3 && k % 4 < 2) for (let i = 1; i < img.data.length; i += channels) img.data[i] = 0; // green all zero
      const low = Array.from({ length: colours }, () => Math.floor(r() * maxValue * 0.4) + r());
      const high = low.map((l) => l + maxValue * (0.3 + 0.5 * r()));
      if (k % 3 === 1) high[colours - 1] = low[colours - 1]!; // degenerate: range 1
      if (k % 3 === 2) high[0] = low[0]! - 17; // degenerate: high < low
      const opts = {
        size: k % 4 === 0 ? ([64, 96] as [number, number]) : 80,
        auto: k % 5 === 1,
        levels: { low, high },
      };
      const label = `${img.width}x${img.height}x${channels} ${depth}-bit ${JSON.stringify(opts)}`;
      const js = await letterbox(img, { ...opts, backend: 'js' });
      const got = await letterbox(img, { ...opts, backend });
      expect(got.backend).toBe(backend);
      expect([got.low, got.high], label).toEqual([low[0], high[0]]);
      expect(got.levels, label).toEqual({ low, high });
      expectClose(got.data, js.data, levelsTolerance(maxValue, low, high), label);
    }
  });

  it('levels: [0, maxValue] on every channel gives the default output bit for bit', async () => {
    const r = rng(62);
    for (const [channels, depth] of [
      [1, 8],
      [3, 8],
      [4, 16],
      [3, 16],
    ] as const) {
      const img = randomImage(r, 37, 23, channels, depth);
      const max = depth === 8 ? 255 : 65535;
      const colours = channels === 4 ? 3 : channels;
      const plain = await letterbox(img, { size: 48, backend });
      const levels = { low: new Array<number>(colours).fill(0), high: new Array<number>(colours).fill(max) };
      const lv = await letterbox(img, { size: 48, levels, backend });
      expect(firstBitDiff(lv.data, plain.data), `${channels} channels ${depth}-bit`).toBe(-1);
      expect(plain.levels).toEqual(levels);
      expect([plain.low, plain.high]).toEqual([0, max]);
    }
  });

  it('levels: each channel is the affine map of its own input channel, clamped', async () => {
    const r = rng(63);
    for (const depth of [8, 16] as const) {
      const max = depth === 8 ? 255 : 65535;
      const img = randomImage(r, 19, 13, 4, depth);
      const low = [0.25 * max, 0.1 * max + 0.5, 0.4 * max];
      const high = [0.75 * max, 0.9 * max, 0.4 * max - 3]; // blue degenerate: (v - low) / 1
      // unscaled (the image fits, scaleUp false): each output sample is the formula on one input sample
      const out = await letterbox(img, { size: [13, 19], scaleUp: false, levels: { low, high }, backend });
      const plane = 19 * 13;
      const want = new Float32Array(3 * plane);
      for (let c = 0; c < 3; c++) {
        const range = high[c]! > low[c]! ? high[c]! - low[c]! : 1;
        for (let p = 0; p < plane; p++) {
          const v = (img.data[p * 4 + c]! - low[c]!) / range;
          want[c * plane + p] = v <= 0 ? 0 : v >= 1 ? 1 : v;
        }
      }
      expectClose(out.data, want, levelsTolerance(max, low, high), `identity ${depth}-bit`);
      // resized: channel c of an RGB letterbox equals the letterbox of channel c alone with its levels
      const rgb = await letterbox(img, { size: 32, levels: { low, high }, backend });
      const n = rgb.width * rgb.height;
      for (let c = 0; c < 3; c++) {
        const grey = { ...img, channels: 1, data: img.data.filter((_, i) => i % 4 === c) };
        const one = await letterbox(grey, { size: 32, levels: { low: [low[c]!], high: [high[c]!] }, backend });
        expect(one.levels).toEqual({ low: [low[c]], high: [high[c]] });
        const label = `resized ${depth}-bit channel ${c}`;
        expect(firstBitDiff(rgb.data.subarray(c * n, (c + 1) * n), one.data.subarray(0, n)), label).toBe(-1);
      }
    }
  });

  it('levels: a grey image uses its one entry for all three planes; percentiles report their pooled values as levels', async () => {
    const r = rng(64);
    const grey = randomImage(r, 21, 17, 1, 16);
    const g = await letterbox(grey, { size: 24, levels: { low: [1000], high: [30000] }, backend });
    const n = g.width * g.height;
    expect(firstBitDiff(g.data.subarray(n, 2 * n), g.data.subarray(0, n))).toBe(-1);
    expect(firstBitDiff(g.data.subarray(2 * n), g.data.subarray(0, n))).toBe(-1);
    expect(g.levels).toEqual({ low: [1000], high: [30000] });
    const rgba = randomImage(r, 21, 17, 4);
    const p = await letterbox(rgba, { size: 24, percentiles: [5, 95], backend });
    expect(p.levels).toEqual({ low: [p.low, p.low, p.low], high: [p.high, p.high, p.high] });
    // the pooled stretch is the same function as levels set to its values
    const same = await letterbox(rgba, { size: 24, levels: p.levels, backend });
    expect(firstBitDiff(same.data, p.data)).toBe(-1);
  });

  if (backend === 'webgpu' || backend === 'cuda') {
    it("levels: output 'gpu' holds exactly the planes the host output gets", async () => {
      const img = randomImage(rng(65), 90, 70, 3, 16);
      const levels = { low: [1000, 20000, 5], high: [50000, 20000, 60000] };
      const host = await letterbox(img, { size: 64, levels, backend });
      const dev = await letterbox(img, { size: 64, levels, output: 'gpu', backend });
      expect(dev.backend).toBe(backend);
      expect(dev.levels).toEqual(levels);
      expect(firstBitDiff(await dev.device!.read(), host.data)).toBe(-1);
      dev.device!.dispose();
    });
  }

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
  it('rejects bad levels, naming the argument', async () => {
    const grey = { data: new Uint16Array(12), width: 4, height: 3, channels: 1 };
    const rgba = { data: new Uint8Array(48), width: 4, height: 3, channels: 4 };
    const levels = { low: [0, 0, 0], high: [1, 1, 1] };
    await reject(img, { levels, percentiles: [1, 99] }, /levels or percentiles but received both/);
    await reject(img, { levels: [0, 1] }, /\{ low, high \} for levels/);
    await reject(img, { levels: null }, /\{ low, high \} for levels/);
    await reject(
      img,
      { levels: { low: [0, 0], high: [1, 1, 1] } },
      /array of 3 numbers \(one per channel\) for levels\.low but received Array of length 2/,
    );
    await reject(
      img,
      { levels: { low: [0, 0, 0], high: 1 } },
      /array of 3 numbers for levels\.high but received 1 of type number/,
    );
    await reject(
      grey,
      { levels },
      /array of 1 number \(one per channel\) for levels\.low but received Array of length 3/,
    );
    await reject(
      rgba,
      { levels: { low: [0, 0, 0, 0], high: [1, 1, 1, 1] } },
      /3 numbers \(one per colour channel of a 4-channel image, alpha excluded\) for levels\.low/,
    );
    await reject(
      img,
      { levels: { low: [0, NaN, 0], high: [1, 1, 1] } },
      /finite number for levels\.low\[1\] but received NaN/,
    );
    await reject(img, { levels: { low: [0, 0, 0], high: [1, 1, Infinity] } }, /finite number for levels\.high\[2\]/);
    await reject(img, { levels: { low: [0, '1', 0], high: [1, 1, 1] } }, /finite number for levels\.low\[1\]/);
    const err = await letterbox(img, { levels: { low: [0], high: [1] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('levels.low');
    // typed arrays are taken too (at run time)
    const typed = { low: new Float64Array(3), high: Float64Array.of(255, 255, 255) } as unknown as ChannelLevels;
    const ok = await letterbox(img, { size: 8, levels: typed });
    expect(ok.levels).toEqual({ low: [0, 0, 0], high: [255, 255, 255] });
  });
  it('rejects an aspect ratio that would resize a side to 0 pixels', async () => {
    expect(() => letterboxParams(1, 100000, { size: 640 })).toThrow(/at least 1 pixel per side/);
  });
});
