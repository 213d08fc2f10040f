import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dbscanBaseline, MAX_BASELINE_PIXELS } from '../src/ops/baseline.js';
import { baselineFilter } from '../src/backends/js/filter3x3.js';
import { BackendUnavailableError, InvalidArgumentError } from '../src/errors.js';
import { REPO, describeEachKernel } from './helpers.js';

interface LabResult {
  points: number;
  labels: number[];
  boxes: number[][];
  sizes: number[];
  firstPassTies: number;
}
interface Golden {
  name: string;
  width: number;
  height: number;
  channels: number;
  data: string;
  raw: LabResult;
  unit: LabResult;
}
const goldens: Golden[] = JSON.parse(readFileSync(join(REPO, 'test/goldens/baseline/lab_baseline.json'), 'utf8')).cases;

/** torch conv2d(padding=1) written out: weights 1, centre 10, bias -11, summed over channels, then > 0. */
function naiveFilter(data: Uint8Array, w: number, h: number, ch: number, passes: number, unit: boolean): Uint8Array {
  let img = Float64Array.from({ length: w * h }, (_, i) => {
    if (ch === 1) return 3 * data[i]!;
    return data[i * ch]! + data[i * ch + 1]! + data[i * ch + 2]!;
  });
  if (unit) img = img.map((v) => v / 255);
  for (let p = 0; p < passes; p++) {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = -11;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy,
              xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
            s += (dy === 0 && dx === 0 ? 10 : 1) * img[yy * w + xx]!;
          }
        }
        out[y * w + x] = s > 1e-9 ? 1 : 0; // the exact integer rule, away from float noise
      }
    }
    img = out;
  }
  return Uint8Array.from(img);
}

describeEachKernel('baseline', 'dbscanBaseline: torch conv2d + sklearn DBSCAN goldens', (backend) => {
  for (const g of goldens) {
    for (const scale of ['raw', 'unit'] as const) {
      it(`${g.name} (${g.width}x${g.height}x${g.channels}, ${scale})`, async () => {
        const data = new Uint8Array(Buffer.from(g.data, 'base64'));
        const want = g[scale];
        const r = await dbscanBaseline(
          { data, width: g.width, height: g.height, channels: g.channels },
          { scale, box: 'minmax', backend },
        );
        expect(r.labels.length).toBe(want.points);
        expect(Array.from(r.labels)).toEqual(want.labels);
        expect(Array.from(r.sizes)).toEqual(want.sizes);
        expect(Array.from(r.boxes)).toEqual(want.boxes.flat());
        expect(r.backend).toBe(backend);
        const edges = await dbscanBaseline(
          { data, width: g.width, height: g.height, channels: g.channels },
          { scale, box: 'edges', backend },
        );
        expect(Array.from(edges.boxes)).toEqual(want.boxes.flat().map((v, i) => (i % 4 >= 2 ? v + 1 : v)));
      });
    }
  }
});

describeEachKernel('baseline', 'dbscanBaseline: behaviour', (backend) => {
  it('merges two touching blobs into one box, drops isolated pixels, reports x,y points', async () => {
    const w = 20,
      h = 10;
    const data = new Uint8Array(w * h);
    for (let y = 3; y <= 6; y++) for (let x = 2; x <= 11; x++) data[y * w + x] = 200; // two 4x5 blobs touching at x=6/7
    data[0 * w + 19] = 255; // isolated: removed by passes 2..5
    const r = await dbscanBaseline({ data, width: w, height: h, channels: 1 }, { backend });
    expect(Array.from(r.boxes)).toEqual([2, 3, 12, 7]); // default box: [min, max + 1] (the lab's)
    expect(Array.from(r.sizes)).toEqual([40]);
    expect(Array.from(r.scores)).toEqual([Math.fround(40 / 140)]); // n / (n + 100)
    expect(Array.from(r.points.subarray(0, 4))).toEqual([2, 3, 3, 3]);
    // with 0..255 values the first pass keeps every pixel next to a non-zero one: it dilates
    const raw = await dbscanBaseline(
      { data, width: w, height: h, channels: 1 },
      { scale: 'raw', box: 'minmax', backend },
    );
    expect(Array.from(raw.boxes)).toEqual([18, 0, 19, 1, 1, 2, 12, 7]);
  });
  it('treats grey as R = G = B and ignores alpha', async () => {
    const w = 16,
      h = 12;
    const grey = Uint8Array.from({ length: w * h }, (_, i) => ((i * 37) % 11 < 4 ? 90 : 0));
    const rgb = new Uint8Array(w * h * 3),
      rgba = new Uint8Array(w * h * 4);
    grey.forEach((v, i) => (rgb.fill(v, 3 * i, 3 * i + 3), rgba.fill(v, 4 * i, 4 * i + 3), (rgba[4 * i + 3] = 77)));
    const a = await dbscanBaseline({ data: grey, width: w, height: h, channels: 1 }, { backend });
    const b = await dbscanBaseline({ data: rgb, width: w, height: h, channels: 3 }, { backend });
    const c = await dbscanBaseline({ data: rgba, width: w, height: h, channels: 4 }, { backend });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(c.boxes)).toEqual(Array.from(b.boxes));
  });
  it('rejects bad images and options', async () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    const run = (i: object, o: object = {}) => dbscanBaseline(i as typeof img, { backend, ...o });
    await expect(run({ ...img, data: new Uint8Array(11) })).rejects.toThrow(
      /length width\*height\*channels = 2\*2\*3 = 12 for image\.data/,
    );
    await expect(run({ ...img, channels: 2 })).rejects.toThrow(/image\.channels/);
    await expect(run({ ...img, width: 1.5 })).rejects.toThrow(/image\.width/);
    await expect(run({ ...img, data: [1, 2] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(run({ data: new Uint8Array(0), width: 10000, height: 10000, channels: 1 })).rejects.toThrow(
      new RegExp(`at most ${MAX_BASELINE_PIXELS} pixels.*10000x10000`),
    );
    await expect(run(img, { eps: 0 })).rejects.toThrow(/for eps/);
    await expect(run(img, { passes: 0 })).rejects.toThrow(/for passes/);
    await expect(run(img, { scale: 'float' })).rejects.toThrow(/for scale/);
    await expect(run(img, { box: 'xywh' })).rejects.toThrow(/for box/);
  });
});

describe('baseline filter chain', () => {
  it('equals torch conv2d (zero padding, same size) written out, for any image and pass count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(1, 3, 4),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.infiniteStream(fc.constantFrom(0, 0, 0, 1, 2, 5, 40, 90, 255)),
        (w, h, ch, passes, unit, values) => {
          const data = Uint8Array.from(values.take(w * h * ch));
          expect(Array.from(baselineFilter(data, w, h, ch, passes, unit ? 'unit' : 'raw'))).toEqual(
            Array.from(naiveFilter(data, w, h, ch, passes, unit)),
          );
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
  it('on a binary mask keeps a pixel when it and >= 2 of its 8 neighbours are on', () => {
    const m = Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]); // 4x3
    // pass 1 on raw values 1 (sum 3 per pixel as grey): then binary passes prune
    expect(Array.from(baselineFilter(m, 4, 3, 1, 1, 'raw'))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(baselineFilter(m, 4, 3, 1, 2, 'raw'))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(baselineFilter(m, 4, 3, 1, 3, 'raw'))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
    const line = Uint8Array.from([1, 1, 1, 1, 1]);
    expect(Array.from(baselineFilter(line, 5, 1, 1, 2, 'raw'))).toEqual([0, 1, 1, 1, 0]);
  });
});

it('golden images exercise the edge cases they claim', () => {
  expect(goldens.some((g) => g.channels === 1)).toBe(true);
  expect(goldens.some((g) => g.width !== g.height)).toBe(true);
  expect(goldens.some((g) => g.raw.firstPassTies > 0)).toBe(true); // exact 0 at the bias, integer-exact in torch too
});

it('an explicit backend that cannot run baseline is an error, not a silent fallback', async () => {
  // Every backend has a baseline kernel now (cuda since issue 17); webgpu declines eps with a sqrt-tie.
  const img = { data: new Uint8Array(4), width: 2, height: 2, channels: 1 };
  const run = () => dbscanBaseline(img, { backend: 'webgpu', eps: Math.sqrt(13) });
  await expect(run()).rejects.toBeInstanceOf(BackendUnavailableError);
  await expect(run()).rejects.toThrow(/sqrt-tie/);
});
