import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { dbscan } from '../src/ops/dbscan.js';
import { sklearnKdLeaves, sqrtTieBound } from '../src/backends/js/dbscanTies.js';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { parsePoints } from '../src/cli/commands/dbscan.js';
import { main } from '../src/cli/index.js';
import { REPO, describeEachKernel, rng } from './helpers.js';
import { getKernel } from '../src/backends/registry.js';
import { dbscanPointsStats } from '../src/backends/webgpu/dbscanPoints.js';

interface Golden {
  name: string;
  dtype: 'float64' | 'float32';
  dims: number;
  eps: number;
  minSamples: number;
  points: number[];
  labels: number[];
  sklearnLabels?: number[];
  libmSensitive?: boolean;
  note?: string;
}
const goldens: Golden[] = JSON.parse(readFileSync(join(REPO, 'test/goldens/dbscan/sklearn_dbscan.json'), 'utf8')).cases;

/** DESIGN's definition, O(n^2), with the plain `S <= eps^2` test (exact for data without sqrt-ties). */
function reference(p: ArrayLike<number>, dims: number, eps: number, minSamples: number): Int32Array {
  const n = p.length / dims;
  const nb: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dims; k++) s += (p[i * dims + k]! - p[j * dims + k]!) ** 2;
      if (s <= eps * eps) row.push(j);
    }
    nb.push(row);
  }
  const core = nb.map((r) => r.length >= minSamples);
  // union-find over core points, clusters numbered by lowest core index
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  for (let i = 0; i < n; i++)
    if (core[i]) for (const j of nb[i]!) if (core[j]) parent[Math.max(find(i), find(j))] = Math.min(find(i), find(j));
  const labels = new Int32Array(n).fill(-1);
  const id = new Map<number, number>();
  for (let i = 0; i < n; i++) if (core[i] && !id.has(find(i))) id.set(find(i), id.size);
  for (let i = 0; i < n; i++) if (core[i]) labels[i] = id.get(find(i))!;
  for (let i = 0; i < n; i++) {
    if (core[i]) continue;
    let best = -1;
    for (const j of nb[i]!) if (core[j] && (best < 0 || labels[j]! < best)) best = labels[j]!;
    labels[i] = best;
  }
  return labels;
}

describeEachKernel('dbscan', 'dbscan: scikit-learn goldens', (backend) => {
  for (const c of goldens) {
    it(`${c.name} (n=${c.labels.length}, eps=${c.eps}, min=${c.minSamples}, ${c.dtype})`, async () => {
      const pts = c.dtype === 'float32' ? Float32Array.from(c.points) : Float64Array.from(c.points);
      const r = await dbscan(pts, { eps: c.eps, minSamples: c.minSamples, dims: c.dims, backend });
      expect(Array.from(r.labels)).toEqual(c.labels);
      expect(r.clusters).toBe(Math.max(-1, ...c.labels) + 1);
      expect(r.backend).toBe(backend);
      if (c.libmSensitive) {
        // sklearn on glibc answers differently here (its pow(U, 0.5) is not correctly rounded); documented
        expect(Array.from(r.labels)).not.toEqual(c.sklearnLabels);
      }
    });
  }
});

describeEachKernel('dbscan', 'dbscan: definition', (backend) => {
  it('matches the O(n^2) definition on random integer points (grid and brute-force paths)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })), {
          minLength: 0,
          maxLength: 120,
        }),
        fc.constantFrom(1, 1.5, 2, 3, 4.2),
        fc.integer({ min: 1, max: 7 }),
        async (pairs, eps, minSamples) => {
          const pts = Float64Array.from(pairs.flat());
          const { labels } = await dbscan(pts, { eps, minSamples, backend });
          expect(Array.from(labels)).toEqual(Array.from(reference(pts, 2, eps, minSamples)));
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it('matches the definition on random floats, 1-D, 3-D, sparse and huge spreads', async () => {
    const r = rng(5);
    const cases: [Float64Array, number, number, number][] = [];
    const blob = (n: number, dims: number, scale: number, spread: number) =>
      Float64Array.from(
        { length: n * dims },
        (_, i) => (i % dims === 0 ? Math.floor(r() * 4) * spread : 0) + r() * scale,
      );
    cases.push([blob(2000, 2, 10, 100), 2, 0.4, 4]);
    cases.push([blob(800, 1, 30, 1e6), 1, 0.05, 3]);
    cases.push([blob(900, 3, 3, 50), 3, 0.5, 5]);
    cases.push([blob(600, 2, 1, 1e12), 2, 0.05, 2]); // sparse grid (hash map of cells)
    cases.push([blob(300, 2, 1, 1e300), 2, 0.2, 2]); // spread beyond a double: one cell
    for (const [pts, dims, eps, m] of cases) {
      const { labels } = await dbscan(pts, { eps, minSamples: m, dims, backend });
      expect(Array.from(labels)).toEqual(Array.from(reference(pts, dims, eps, m)));
    }
  });

  it('matches the definition on random fractional 2-D and 3-D points (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 12, max: 400 }),
        fc.constantFrom(2, 3),
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.constantFrom(0, 1e3, -1e6, 1e9),
        async (n, dims, eps, minSamples, seed, offset) => {
          const r = rng(seed);
          const side = Math.sqrt(n) * eps * 0.6; // a few neighbours each
          const pts = Float64Array.from({ length: n * dims }, () => offset + r() * side);
          const { labels } = await dbscan(pts, { eps, minSamples, dims, backend });
          expect(Array.from(labels)).toEqual(Array.from(reference(pts, dims, eps, minSamples)));
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('decides pairs planted exactly at eps and within 1e-9 of it either side as sklearn does', async () => {
    // Pairs far apart from each other, fractional positions; offsets with S == eps^2 exactly (dyadic),
    // and eps (1 -/+ 2^-30) along a diagonal: too close to eps for float32, decided in float64.
    const r = rng(12);
    const eps = 0.625;
    const pts: number[] = [];
    for (let k = 0; k < 400; k++) {
      const x = (k % 20) * 4 + Math.floor(r() * 512) / 1024 + 0.1,
        y = Math.floor(k / 20) * 4 + r();
      const near = eps * (k % 4 === 2 ? 1 - 2 ** -30 : 1 + 2 ** -30) * Math.SQRT1_2;
      const [dx, dy] = k % 4 === 0 ? [0.375, 0.5] : k % 4 === 1 ? [0, eps] : [near, near];
      pts.push(x, y, x + dx, y + dy);
    }
    const p = Float64Array.from(pts);
    const { labels, clusters } = await dbscan(p, { eps, minSamples: 2, backend });
    const want = reference(p, 2, eps, 2);
    expect(Array.from(labels)).toEqual(Array.from(want));
    expect(clusters).toBeGreaterThan(250); // the in-pairs cluster, the out-pairs are noise
    expect(clusters).toBeLessThan(350);
    if (backend === 'webgpu') {
      expect(dbscanPointsStats.host).toBe(''); // the GPU ran it, the host decided only the ambiguous pairs
      expect(dbscanPointsStats.ambiguous).toBeGreaterThanOrEqual(200);
      expect(dbscanPointsStats.extraEdges).toBeGreaterThan(100);
    }
  });

  it('joins components and labels border points through pairs only the host can decide', async () => {
    // Per group: a core triad A (min 3); a triad C whose only link to A is A0-C0, eps (1 - 2^-30) or
    // exactly eps apart; a border point B within eps (1 - 2^-30) of A0 only; a point just beyond.
    const eps = 0.625,
      inside = eps * (1 - 2 ** -30),
      beyond = eps * (1 + 2 ** -30);
    const r = rng(15);
    const pts: number[] = [];
    for (let g = 0; g < 200; g++) {
      const x = (g % 20) * 5 + 0.3 + Math.floor(r() * 256) / 1024,
        y = Math.floor(g / 20) * 5 + 0.7 + Math.floor(r() * 256) / 1024;
      const cx = x - (g % 2 === 0 ? inside : eps);
      pts.push(x, y, x + 0.05, y, x, y + 0.05); // A0, A1, A2
      pts.push(cx, y, cx - 0.05, y, cx - 0.03, y - 0.04); // C0, C1, C2
      pts.push(x, y - inside, x + beyond, y); // B, and a point just beyond A0
    }
    const p = Float64Array.from(pts);
    const { labels, clusters } = await dbscan(p, { eps, minSamples: 3, backend });
    expect(Array.from(labels)).toEqual(Array.from(reference(p, 2, eps, 3)));
    expect(clusters).toBe(200);
    if (backend === 'webgpu') {
      expect(dbscanPointsStats.host).toBe('');
      expect(dbscanPointsStats.extraEdges).toBeGreaterThanOrEqual(300);
    }
  });

  it('handles eps at the ends of the float64 range and coordinates past the second spread over 1e200', async () => {
    const r = rng(14);
    const make = (n: number, dims: number, f: (k: number) => number) =>
      Float64Array.from({ length: n * dims }, (_, i) => f(i % dims));
    const cases: [Float64Array, number, number][] = [
      [make(200, 2, () => r() * 1e-299), 2, 1e-300], // eps^2 underflows to 0 in float64
      [make(200, 2, () => Math.floor(r() * 20) * 5e-324), 2, 1e-323], // subnormal coordinates
      [make(200, 2, () => r() * 1e308), 2, 1.5e307], // eps^2 overflows: every pair is within
      [make(300, 3, (k) => (k === 2 ? Math.floor(r() * 3) * 1e200 + r() : r() * 5)), 3, 0.5],
    ];
    for (const [pts, dims, eps] of cases) {
      const { labels } = await dbscan(pts, { eps, minSamples: 3, dims, backend });
      expect(Array.from(labels)).toEqual(Array.from(reference(pts, dims, eps, 3)));
    }
  });

  it('labels inputs with sqrt-tie pairs as the reference (sklearn KD-tree) does', async () => {
    // offsets (0.3, 0.4) with eps 0.5: S = 0.25000000000000006 > eps^2, sqrt(S) == eps
    const r = rng(13);
    const pts: number[] = [];
    for (let k = 0; k < 60; k++) {
      const x = (k % 8) * 3 + r(),
        y = Math.floor(k / 8) * 3 + r();
      pts.push(x, y, x + 0.3, y + 0.4, x + 0.6, y + 0.8);
    }
    const p = Float64Array.from(pts);
    const { labels } = await dbscan(p, { eps: 0.5, minSamples: 2, backend });
    const want = getKernel('dbscan', 'js')!.run({ points: p, dims: 2, eps: 0.5, minSamples: 2 });
    expect(Array.from(labels)).toEqual(Array.from((want as { labels: Int32Array }).labels));
    if (backend === 'webgpu') expect(dbscanPointsStats.host).toMatch(/sqrt-tie/);
  });

  it('handles empty input, duplicates and float32', async () => {
    expect((await dbscan(new Float64Array(0), { eps: 1, minSamples: 1, backend })).clusters).toBe(0);
    const whole = new Float32Array(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : -2)));
    const w = await dbscan(whole, { eps: 1e-9, minSamples: 20, backend });
    expect(Array.from(w.labels)).toEqual(new Array(20).fill(0));
    const dup = new Float32Array(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1.5 : -2)));
    const r = await dbscan(dup, { eps: 1e-9, minSamples: 20, backend });
    expect(Array.from(r.labels)).toEqual(new Array(20).fill(0));
    expect(Array.from(r.core)).toEqual(new Array(20).fill(1));
  });

  it('rejects bad arguments naming them', async () => {
    const p = new Float64Array([0, 0, 1, 1]);
    const bad = async (pts: unknown, o: object) => dbscan(pts as Float64Array, { backend, ...o });
    for (const eps of [0, -1, NaN, Infinity]) await expect(bad(p, { eps })).rejects.toThrow(/for eps/);
    for (const minSamples of [0, 1.5, NaN, -3])
      await expect(bad(p, { eps: 1, minSamples })).rejects.toThrow(/for minSamples/);
    await expect(bad(new Float64Array(3), { eps: 1 })).rejects.toThrow(/multiple of 2/);
    await expect(bad(new Float64Array([0, 0, 1, NaN]), { eps: 1 })).rejects.toThrow(
      /point 1, coordinate 1\) for points\[3\]/,
    );
    await expect(bad([0, 0], { eps: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bad(p, { eps: 1, dims: 0 })).rejects.toThrow(/for dims/);
  });
});

describe('dbscan: sklearn emulation details', () => {
  it('sqrt-tie bound: pairs with S in (eps^2, bound] have sqrt(S) == eps', () => {
    expect(sqrtTieBound(0.5)).toBe(0.25000000000000006);
    expect(sqrtTieBound(1)).toBeGreaterThan(1);
    expect(Math.sqrt(sqrtTieBound(0.3))).toBeLessThanOrEqual(0.3);
    expect(sqrtTieBound(3)).toBeLessThan(9 + 1e-12); // integer data never ties
  });
  it('KD-tree leaves: 2^k leaves of consecutive (value, index) ranks on the widest dimension', () => {
    const r = rng(3);
    const n = 500;
    const pts = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? Math.floor(r() * 5) : r() * 100));
    const { leafOf } = sklearnKdLeaves(pts, 2, n);
    const leaves = new Set(leafOf);
    expect(leaves.size).toBe(16); // n_levels = floor(log2(499/30)) + 1 = 5
    // the root splits on x (widest): the first 250 by (x, index) go left (leaves 15..22)
    const byX = Array.from({ length: n }, (_, i) => i).sort((a, b) => pts[2 * a]! - pts[2 * b]! || a - b);
    for (let k = 0; k < n; k++) expect(leafOf[byX[k]!]! < 23).toBe(k < 250);
  });
});

describe('maskbox dbscan (CLI)', () => {
  it('parses JSON arrays, {points}, CSV with and without header', () => {
    expect(Array.from(parsePoints('[[1,2],[3,4.5]]', 'a.json'))).toEqual([1, 2, 3, 4.5]);
    expect(Array.from(parsePoints('{"points": [[1,2]]}', 'p.txt'))).toEqual([1, 2]);
    expect(Array.from(parsePoints('x,y\n1,2\r\n3,4\n\n', 'a.csv'))).toEqual([1, 2, 3, 4]);
    expect(Array.from(parsePoints('id,y,x\n7,2,1\n', 'a.csv'))).toEqual([1, 2]);
    expect(Array.from(parsePoints('1,2\n3,4', 'a.csv'))).toEqual([1, 2, 3, 4]);
  });
  it('reports malformed input with a ParseError and its line', () => {
    const err = (text: string, src: string) => {
      try {
        parsePoints(text, src);
      } catch (e) {
        return e as ParseError;
      }
      throw new Error('no error');
    };
    expect(err('1,2\n3,x\n', 'p.csv')).toMatchObject({ line: 2, source: 'p.csv' });
    expect(err('x,y\n1,2\n3\n', 'p.csv')).toMatchObject({ line: 3 });
    expect(err('a,b\n1,2\n', 'p.csv').message).toMatch(/x and y/);
    expect(err('[[1,2],\n[3,"4"]]', 'p.json').message).toMatch(/points\[1\]/);
    expect(err('[[1,2],\n[3,4]', 'p.json')).toBeInstanceOf(ParseError);
    expect(err('{"pts": []}', 'p.json').message).toMatch(/points/);
  });
  it('prints labels as JSON and as a table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maskbox-dbscan-'));
    const file = join(dir, 'p.csv');
    writeFileSync(file, 'x,y\n0,0\n0,1\n1,0\n10,10\n');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      expect(await main(['dbscan', '--points', file, '--eps', '1', '--min-samples', '3', '--json'])).toBe(0);
      expect(JSON.parse(out.join(''))).toMatchObject({ labels: [0, 0, 0, -1], clusters: 1, noise: 1 });
      out.length = 0;
      expect(await main(['dbscan', '--points', file, '--eps', '1', '--min-samples', '3'])).toBe(0);
      expect(out.join('')).toMatch(/index\s+x\s+y\s+label\n0\s+0\s+0\s+0\n/);
    } finally {
      spy.mockRestore();
    }
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['dbscan', '--points', file, '--eps', '0', '--min-samples', '3'])).toBe(2);
      writeFileSync(file, 'x,y\n0,zero\n');
      expect(await main(['dbscan', '--points', file, '--eps', '1', '--min-samples', '3'])).toBe(1);
      expect(String(errSpy.mock.calls.at(-1)?.[0])).toMatch(/p\.csv:2:/);
    } finally {
      errSpy.mockRestore();
    }
  });
});
