/**
 * The native preprocessing kernels (native/cpu/letterbox.cc, resize.cc, scaleBoxes.cc) against the JS
 * reference: bit-identical outputs on random inputs, and bad arguments handed straight to the addon
 * coming back as JS exceptions. (The op specs in letterbox/resize/scaleBoxes.test.ts also run on cpu.)
 */
import { describe, expect, it } from 'vitest';
import { letterbox } from '../src/ops/letterbox.js';
import { scaleBoxes } from '../src/ops/scaleBoxes.js';
import { loadNative } from '../bindings/native.js';
import { getKernel } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { rng } from './helpers.js';
import { expectResizeLikeJs, firstBitDiff, letterboxCase, randomImage, resizeCases } from './preprocessFixtures.js';

ensureBackends();

/** Levels per colour channel somewhere in [0, max], a degenerate one (high < low) now and then. */
function randomLevels(r: () => number, colours: number, max: number): { low: number[]; high: number[] } {
  const low = Array.from({ length: colours }, () => r() * max * 0.5);
  const high = low.map((l) => (r() < 0.2 ? l - r() * 10 : l + r() * max * 0.5));
  return { low, high };
}

const has = (op: string) => Boolean(loadNative() && getKernel(op, 'cpu'));
const addon = () => loadNative()! as unknown as Record<string, (a: unknown) => Promise<unknown>>;

describe.runIf(has('letterbox'))('letterbox: cpu is bit-identical to js', () => {
  it('on random 8/16-bit grey/RGB/RGBA images, sizes, auto, percentiles, per-channel levels', async () => {
    const r = rng(5);
    for (let k = 0; k < 24; k++) {
      const depth = k % 3 === 2 ? 16 : 8;
      const channels = [1, 3, 4][k % 3]!;
      const level = () => r() ** 2;
      const { img, size, auto } = letterboxCase(r, k, { maxSide: 300, channels, depth, level });
      const opts = {
        size,
        auto,
        scaleUp: k % 7 !== 3,
        percentiles: k % 4 === 1 ? ([r() * 10, 90 + r() * 10] as [number, number]) : undefined,
        padValue: k % 6 === 0 ? 0 : 114,
        levels: k % 4 === 3 ? randomLevels(r, channels === 1 ? 1 : 3, depth === 8 ? 255 : 65535) : undefined,
      };
      const js = await letterbox(img, { ...opts, backend: 'js' });
      const cpu = await letterbox(img, { ...opts, backend: 'cpu' });
      const label = `${img.width}x${img.height}x${channels} ${depth}-bit ${JSON.stringify(opts)}`;
      expect(cpu.backend).toBe('cpu');
      expect([cpu.low, cpu.high], label).toEqual([js.low, js.high]);
      expect(firstBitDiff(cpu.data, js.data), label).toBe(-1);
    }
  });

  it('on a 2048x2048 RGB image to 640 (rows split across threads), Uint8ClampedArray input, out slice', async () => {
    const r = rng(8);
    const img = randomImage(() => r() ** 2, 2048, 1400, 3);
    const js = await letterbox(img, { backend: 'js' });
    const out = new Float32Array(2 + 3 * 640 * 640).subarray(1, 1 + 3 * 640 * 640);
    const clamped = { ...img, data: new Uint8ClampedArray(img.data.buffer) };
    const cpu = await letterbox(clamped, { backend: 'cpu', out });
    expect(cpu.data).toBe(out);
    expect(firstBitDiff(cpu.data, js.data)).toBe(-1);
  });
});

describe.runIf(has('resize'))('resize: cpu is bit-identical to js', () => {
  it('on random shapes (up, down, mixed, unchanged axes, 1-pixel sides) and values', async () => {
    await expectResizeLikeJs('cpu', 6, resizeCases([2048, 512]));
  });
});

describe.runIf(has('scaleBoxes'))('scaleBoxes: cpu is bit-identical to js', () => {
  it('on random boxes incl. -0, the image edges and in place', async () => {
    const r = rng(7);
    const boxes = Float32Array.from({ length: 4 * 5000 }, () => (r() - 0.2) * 800);
    boxes.set([-0, -0, 0, 0, 163.75, 0, 640, 640, 10, 10, 10, 10], 0);
    const t = { gain: 0.3125, padX: 163.75, padY: 0, imageWidth: 1000, imageHeight: 2048 };
    for (const clip of [true, false]) {
      const js = await scaleBoxes(boxes, t, { clip, backend: 'js' });
      const cpu = await scaleBoxes(boxes, t, { clip, backend: 'cpu' });
      expect(firstBitDiff(cpu.boxes, js.boxes), `clip ${clip}`).toBe(-1);
      const copy = boxes.slice();
      const inPlace = await scaleBoxes(copy, { ...t, padX: -0 }, { clip, inPlace: true, backend: 'cpu' });
      expect(inPlace.boxes).toBe(copy);
      expect(firstBitDiff(copy, (await scaleBoxes(boxes, { ...t, padX: -0 }, { clip, backend: 'js' })).boxes)).toBe(-1);
    }
  });
});

describe.runIf(has('letterbox') && has('resize') && has('scaleBoxes'))('native preprocessing argument checks', () => {
  const expectNamed = (fn: () => unknown, argument: string, message: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err, argument).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as { code?: string }).code).toBe('ERR_MASKBOX_NATIVE_ARGUMENT');
    expect((err as { argument?: string }).argument).toBe(argument);
  };

  it('letterbox: every length, size and type is checked before use', async () => {
    const ok = {
      data: new Uint8Array(5 * 4 * 3),
      maxValue: 255,
      width: 5,
      height: 4,
      channels: 3,
      newWidth: 8,
      newHeight: 6,
      left: 0,
      top: 1,
      outWidth: 8,
      outHeight: 8,
      pad: 114 / 255,
      stretch: false,
      percentileLow: 0,
      percentileHigh: 100,
      levelLow: new Float64Array(3),
      levelHigh: Float64Array.of(255, 255, 255),
      out: new Float32Array(3 * 64),
    };
    await expect(addon().letterbox!(ok)).resolves.toEqual({ low: 0, high: 255 });
    const bad = (patch: object) => () => addon().letterbox!({ ...ok, ...patch });
    expectNamed(
      bad({ data: new Uint8Array(59) }),
      'data',
      /width \* height \* channels samples \(length 60\) for data but received length 59/,
    );
    expectNamed(bad({ data: new Uint16Array(60) }), 'data', /Uint8Array for data but received Uint16Array/);
    expectNamed(bad({ maxValue: 65535 }), 'data', /Uint16Array for data/);
    expectNamed(bad({ maxValue: 1000 }), 'maxValue', /255 or 65535/);
    expectNamed(bad({ out: new Float32Array(191) }), 'out', /length 192/);
    expectNamed(bad({ channels: 2 }), 'channels', /1, 3 or 4/);
    expectNamed(bad({ newWidth: 9 }), 'newWidth', /at most outWidth/);
    expectNamed(bad({ top: 3 }), 'top', /between 0 and 2/);
    expectNamed(bad({ width: 2 ** 31 - 1, height: 2 ** 31 - 1 }), 'data', /length/);
    expectNamed(bad({ stretch: true, percentileLow: 50, percentileHigh: 50 }), 'percentileHigh', /above percentileLow/);
    expectNamed(
      bad({ levelLow: new Float64Array(1) }),
      'levelLow',
      /levels for R, G and B \(length 3\) for levelLow but received length 1/,
    );
    expectNamed(bad({ levelHigh: [255, 255, 255] }), 'levelHigh', /Float64Array for levelHigh/);
    expectNamed(bad({ levelHigh: Float64Array.of(255, NaN, 255) }), 'levelHigh', /finite levels/);
    expectNamed(bad({ levelLow: Float64Array.of(0, 0, -Infinity), stretch: true }), 'levelLow', /finite levels/);
    const shared = new ArrayBuffer(60 + 4 * 192);
    expectNamed(bad({ data: new Uint8Array(shared, 0, 60), out: new Float32Array(shared, 56, 192) }), 'out', /overlap/);
  });

  it('channelPercentiles: every length and range is checked before use', async () => {
    const ok = {
      data: new Uint16Array(5 * 4 * 3).fill(7),
      maxValue: 65535,
      channels: 3,
      percentileLow: 1,
      percentileHigh: 99,
      low: new Float64Array(3),
      high: new Float64Array(3),
    };
    await expect(addon().channelPercentiles!(ok)).resolves.toBeUndefined();
    expect([Array.from(ok.low), Array.from(ok.high)]).toEqual([
      [7, 7, 7],
      [7, 7, 7],
    ]);
    const bad = (patch: object) => () => addon().channelPercentiles!({ ...ok, ...patch });
    expectNamed(bad({ data: new Uint8Array(60) }), 'data', /Uint16Array for data/);
    expectNamed(bad({ data: new Uint16Array(59) }), 'data', /whole pixels/);
    expectNamed(bad({ data: new Uint16Array(0) }), 'data', /at least one pixel/);
    expectNamed(bad({ channels: 2 }), 'channels', /1, 3 or 4/);
    expectNamed(bad({ maxValue: 4095 }), 'maxValue', /255 or 65535/);
    expectNamed(bad({ percentileLow: 50, percentileHigh: 50 }), 'percentileHigh', /above percentileLow/);
    expectNamed(bad({ percentileHigh: 101 }), 'percentileHigh', /100/);
    expectNamed(
      bad({ low: new Float64Array(4) }),
      'low',
      /one entry per colour channel \(length 3\) for low but received length 4/,
    );
    expectNamed(bad({ channels: 4, high: new Float64Array(4) }), 'high', /one entry per colour channel/);
    expectNamed(bad({ high: new Float32Array(3) }), 'high', /Float64Array for high/);
  });

  it('resize and scaleBoxes: lengths, overlap and numbers', () => {
    const ok = {
      data: new Float32Array(24),
      channels: 2,
      inHeight: 3,
      inWidth: 4,
      outHeight: 5,
      outWidth: 5,
      out: new Float32Array(50),
    };
    const bad = (patch: object) => () => addon().resize!({ ...ok, ...patch });
    expectNamed(bad({ data: new Float32Array(25) }), 'data', /length 24/);
    expectNamed(bad({ out: new Float32Array(49) }), 'out', /length 50/);
    expectNamed(bad({ inHeight: 0 }), 'inHeight', /between 1/);
    expectNamed(
      bad({ channels: 2 ** 31 - 1, outHeight: 2 ** 31 - 1, outWidth: 2 ** 31 - 1 }),
      'channels',
      /fits in memory/,
    );
    const buf = new Float32Array(80);
    expectNamed(bad({ data: buf.subarray(0, 24), out: buf.subarray(20, 70) }), 'out', /overlap/);

    const sb = {
      boxes: new Float32Array(8),
      out: new Float32Array(8),
      gain: 1,
      padX: 0,
      padY: 0,
      imageWidth: 10,
      imageHeight: 10,
      clip: true,
    };
    const badSb = (patch: object) => () => addon().scaleBoxes!({ ...sb, ...patch });
    expectNamed(badSb({ boxes: new Float32Array(7), out: new Float32Array(7) }), 'boxes', /multiple of 4/);
    expectNamed(badSb({ out: new Float32Array(4) }), 'out', /length 8/);
    expectNamed(badSb({ gain: 0 }), 'gain', /> 0/);
    expectNamed(badSb({ clip: 1 }), 'clip', /boolean/);
    const b2 = new Float32Array(12);
    expectNamed(badSb({ boxes: b2.subarray(0, 8), out: b2.subarray(4, 12) }), 'out', /partly overlapping/);
    expect(() => addon().scaleBoxes!(null)).toThrow(TypeError);
  });
});
