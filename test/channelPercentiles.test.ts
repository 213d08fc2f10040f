/**
 * channelPercentiles: numpy's goldens (scripts/goldens/channelPercentiles.py) on every backend with a
 * kernel (js, cpu), js and cpu equal on random inputs, and the argument checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelPercentiles } from '../src/ops/channelPercentiles.js';
import { letterbox, type RawImage } from '../src/ops/letterbox.js';
import { InvalidArgumentError } from '../src/errors.js';
import { backendStatus } from '../src/backends/registry.js';
import { REPO, describeEachKernel, rng } from './helpers.js';
import { randomImage } from './preprocessFixtures.js';

interface GoldenCase {
  width: number;
  height: number;
  channels: number;
  depth: 8 | 16;
  kind: string;
  q: [number, number];
  data: number[];
  low: number[];
  high: number[];
}
const golden = JSON.parse(
  readFileSync(join(REPO, 'test/goldens/channelPercentiles/channel_percentiles.json'), 'utf8'),
) as { cases: GoldenCase[] };

const imageOf = (c: GoldenCase): RawImage => ({
  data: c.depth === 16 ? Uint16Array.from(c.data) : Uint8Array.from(c.data),
  width: c.width,
  height: c.height,
  channels: c.channels,
});

describeEachKernel('channelPercentiles', 'channelPercentiles', (backend) => {
  it("equals numpy.percentile(channel, q, method='linear') per colour channel on the goldens", async () => {
    expect(golden.cases.length).toBeGreaterThan(20);
    for (const c of golden.cases) {
      const res = await channelPercentiles(imageOf(c), c.q, { backend });
      const label = `${c.height}x${c.width}x${c.channels} ${c.depth}-bit ${c.kind} q=${JSON.stringify(c.q)}`;
      expect(res.backend).toBe(backend);
      expect({ low: res.low, high: res.high }, label).toEqual({ low: c.low, high: c.high });
    }
  });

  it('reads Uint8ClampedArray like Uint8Array, ignores alpha, and gives levels letterbox takes as they are', async () => {
    const r = rng(71);
    const rgba = randomImage(r, 33, 21, 4);
    const a = await channelPercentiles(rgba, [1, 99], { backend });
    const clamped = { ...rgba, data: new Uint8ClampedArray(rgba.data) };
    const b = await channelPercentiles(clamped, [1, 99], { backend });
    expect([b.low, b.high]).toEqual([a.low, a.high]);
    expect(a.low.length).toBe(3);
    const alpha = Uint8Array.from(rgba.data, (v, i) => (i % 4 === 3 ? 255 - v : v));
    const c = await channelPercentiles({ ...rgba, data: alpha }, [1, 99], { backend });
    expect([c.low, c.high]).toEqual([a.low, a.high]);
    const lb = await letterbox(rgba, { size: 16, levels: a, backend: 'js' });
    expect(lb.levels).toEqual({ low: a.low, high: a.high });
  });
});

const cpu = backendStatus('cpu').available ? describe : describe.skip;

cpu('channelPercentiles: cpu equals js', () => {
  it('on random 8/16-bit grey/RGB/RGBA images, random q, a constant channel, a large frame', async () => {
    const r = rng(72);
    for (let k = 0; k < 18; k++) {
      const depth = k % 2 === 0 ? 8 : 16;
      const channels = [1, 3, 4][k % 3]!;
      const spread = k % 4 === 3 ? 0.01 : 1; // a narrow distribution: many equal samples
      const img = randomImage(
        () => 0.5 + (r() - 0.5) * spread,
        1 + Math.floor(r() * 120),
        1 + Math.floor(r() * 120),
        channels,
        depth,
      );
      if (channels > 1 && k % 5 === 0) for (let i = 1; i < img.data.length; i += channels) img.data[i] = 42;
      const lo = r() * 50;
      const q: [number, number] = [lo, lo + 1e-3 + r() * (100 - lo - 1e-3)];
      const js = await channelPercentiles(img, q, { backend: 'js' });
      const native = await channelPercentiles(img, q, { backend: 'cpu' });
      const label = `${img.width}x${img.height}x${channels} ${depth}-bit q=${JSON.stringify(q)}`;
      expect({ low: native.low, high: native.high }, label).toEqual({ low: js.low, high: js.high });
    }
    // a 2048x2048 16-bit RGB frame: several histogram chunks on the pool, summed
    const frame = randomImage(r, 2048, 2048, 3, 16);
    const [js, native] = await Promise.all([
      channelPercentiles(frame, [0.5, 99.5], { backend: 'js' }),
      channelPercentiles(frame, [0.5, 99.5], { backend: 'cpu' }),
    ]);
    expect([native.low, native.high]).toEqual([js.low, js.high]);
  });
});

describe('channelPercentiles argument checks', () => {
  const img = { data: new Uint8Array(4 * 3 * 3), width: 4, height: 3, channels: 3 };
  const reject = (image: unknown, q: unknown, re: RegExp) =>
    expect(channelPercentiles(image as RawImage, q as [number, number])).rejects.toThrow(re);
  it('rejects bad images as letterbox does', async () => {
    await reject({ ...img, width: 0 }, [1, 99], /image\.width/);
    await reject({ ...img, channels: 2 }, [1, 99], /1, 3 or 4 for image\.channels/);
    await reject({ ...img, data: new Uint8Array(35) }, [1, 99], /Expected 36 samples \(3x4x3\) for image\.data/);
    await reject({ ...img, data: new Float32Array(36) }, [1, 99], /Uint8Array, Uint8ClampedArray or Uint16Array/);
    await reject(null, [1, 99], /for image/);
  });
  it('rejects percentiles out of [0, 100] or not increasing, naming q', async () => {
    await reject(img, [50, 10], /low < high for q/);
    await reject(img, [5, 5], /low < high for q/);
    await reject(img, [-1, 10], /between 0 and 100 for q\[0\]/);
    await reject(img, [1, 100.5], /between 0 and 100 for q\[1\]/);
    await reject(img, [1, NaN], /q\[1\]/);
    await reject(img, [1], /\[low, high\] in percent for q/);
    await reject(img, undefined, /\[low, high\] in percent for q/);
    const err = await channelPercentiles(img, [2, 1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('q');
  });
});
