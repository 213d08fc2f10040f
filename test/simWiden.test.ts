import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { CDV_PRESETS, HELD_OUT_PRESETS, resolveCdvParams, simulateCdv, type CdvParams } from '../src/sim/cdv.js';
import { applyColormap } from '../src/sim/cdvDataset.js';

const small = (o: Partial<CdvParams>, preset: keyof typeof CDV_PRESETS = 'lab') =>
  resolveCdvParams({ width: 384, height: 384, ...o }, preset);
const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;

describe('simulator: wider settings (issue 15)', () => {
  it('colour maps: grey, inverted, red, green, hot', () => {
    const g = Uint8Array.from([0, 85, 170, 255]);
    expect(Array.from(applyColormap(g, 'grey'))).toEqual([0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
    expect(Array.from(applyColormap(g, 'inverted'))).toEqual([255, 255, 255, 170, 170, 170, 85, 85, 85, 0, 0, 0]);
    expect(Array.from(applyColormap(g, 'red'))).toEqual([0, 0, 0, 85, 0, 0, 170, 0, 0, 255, 0, 0]);
    expect(Array.from(applyColormap(g, 'green'))).toEqual([0, 0, 0, 0, 85, 0, 0, 170, 0, 0, 255, 0]);
    expect(Array.from(applyColormap(g, 'hot'))).toEqual([0, 0, 0, 255, 0, 0, 255, 255, 0, 255, 255, 255]);
    const imgs = Array.from({ length: 12 }, (_, i) => simulateCdv(small({ density: [1, 1] }, 'train'), 1, i));
    expect(new Set(imgs.map((x) => x.colormap)).size).toBeGreaterThanOrEqual(3);
    expect(simulateCdv(small({}), 1, 0).colormap).toBe('grey');
  });

  it('camera gain dims the signal and offset lifts the floor', () => {
    // same scene (gain is drawn after it), no noise: the signal scales by the gain
    const quiet = { offset: [0, 0], haze: [0, 0], readNoise: [0, 0], shotNoise: [0, 0] } as const;
    const bright = simulateCdv(small({ ...quiet, gain: [1, 1] }), 4, 0);
    const dim = simulateCdv(small({ ...quiet, gain: [0.3, 0.3] }), 4, 0);
    const ratio = mean(dim.pixels) / mean(bright.pixels); // 0.3, more where the bright frame clips at 255
    expect(ratio).toBeGreaterThan(0.29);
    expect(ratio).toBeLessThan(0.5);
    const off = simulateCdv(small({}, 'eval-smalldim'), 4, 0);
    const sorted = Float32Array.from(off.pixels).sort();
    expect(sorted[Math.floor(sorted.length * 0.01)]).toBeGreaterThan(35); // the offset floor (50..90) minus noise
  });

  it('unequal touching pairs: a touching vesicle is 0.5-0.9 of its neighbour', () => {
    const img = simulateCdv(
      small({
        width: 1024,
        height: 1024,
        density: [60, 60],
        touching: [0.8, 0.8],
        unequalPairs: [0.5, 0.9],
        minGap: 0,
      }),
      9,
      0,
    );
    const ratios: number[] = [];
    for (const a of img.vesicles)
      for (const b of img.vesicles) {
        const gap = Math.hypot(a.cx - b.cx, a.cy - b.cy) - a.radius - b.radius;
        if (a !== b && gap >= -1e-9 && gap <= 2 && a.radius < b.radius) ratios.push(a.radius / b.radius);
      }
    expect(ratios.length).toBeGreaterThan(5);
    expect(ratios.filter((r) => r >= 0.45 && r <= 0.95).length / ratios.length).toBeGreaterThan(0.6);
  });

  it('blinking adds localizations; EMCCD adds clock-induced-charge spikes', () => {
    const locs = (b: [number, number]) =>
      simulateCdv(small({ density: [80, 80], blinking: b }), 2, 0).vesicles.reduce((s, v) => s + v.localizations, 0);
    expect(locs([0.5, 0.5])).toBeGreaterThan(1.5 * locs([0, 0]));
    const flat = {
      density: [0, 0],
      bgDensity: [0, 0],
      clutter: [0, 0],
      haze: [0, 0],
      readNoise: [0, 0],
      offset: [0, 0],
    } as const;
    const em = simulateCdv(small({ ...flat, emccd: 1 }), 3, 0);
    const plain = simulateCdv(small({ ...flat, emccd: 0 }), 3, 0);
    expect(plain.pixels.filter((v) => v > 5).length).toBe(0);
    expect(em.pixels.filter((v) => v > 5).length).toBeGreaterThan(10); // ~5e-4 of 147k pixels
  });

  it('held-out presets exist, differ from the training preset, and check their values', () => {
    for (const p of HELD_OUT_PRESETS) expect(CDV_PRESETS[p]).not.toEqual(CDV_PRESETS.train);
    const tiny = simulateCdv(resolveCdvParams({}, 'eval-smalldim'), 5, 0);
    const sides = tiny.vesicles.map((v) => Math.max(v.box[2] - v.box[0], v.box[3] - v.box[1]));
    expect(Math.max(...sides)).toBeLessThan(0.01 * 2048 + 12); // outer diameter + spot margin
    expect(() => resolveCdvParams({ colormaps: ['viridis' as never] })).toThrow(InvalidArgumentError);
    expect(() => resolveCdvParams({ emccd: 2 })).toThrow(/emccd/);
    expect(() => resolveCdvParams({ gain: [0, 1] })).toThrow(/gain/);
  });
});
