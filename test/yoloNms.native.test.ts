/**
 * The native yoloNms kernel (native/cpu/yoloNms.cc) against the JS reference (src/backends/js/yoloNms.ts):
 * bit-identical outputs on random predictions in both layouts (and the two layout/objectness pairings the
 * public op never passes), with tied scores, products that round to the same float32, grid-snapped
 * boxes, boxes planted exactly at the IoU threshold, truncation by maxCandidates inside a tie, class
 * filters, and inputs large enough for the thread pool (whose result must not depend on the thread
 * count). Then bad arguments handed straight to the addon: JS exceptions naming the argument.
 * The golden spec (YOLOv5's own outputs) is in test/nms.test.ts and runs on every backend.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../bindings/native.js';
import { ensureBackends } from '../src/backends/index.js';
import { getKernel } from '../src/backends/registry.js';
import type { YoloDetections, YoloNmsArgs } from '../src/backends/js/yoloNms.js';
import { nonMaxSuppression } from '../src/ops/yoloNms.js';
import { REPO, rng } from './helpers.js';

ensureBackends();
const addon = loadNative();
const cpu = getKernel<YoloNmsArgs, YoloDetections>('yoloNms', 'cpu');
const js = getKernel<YoloNmsArgs, YoloDetections>('yoloNms', 'js')!;
const describeNative = addon && cpu ? describe : describe.skip;

interface PredSpec {
  count: number;
  numClasses: number;
  hasObjectness: boolean;
  columns: boolean;
  /** Score levels (ties); 0 = continuous. */
  levels?: number;
  /** Snap box coordinates to multiples of this (ties in IoU arithmetic); 0 = continuous. */
  snap?: number;
  /** Class scores of a row are adjacent float32 values (products that round equal). */
  adjacent?: boolean;
  /** Objects the rows cluster around (overlapping boxes for NMS). */
  objects?: number;
}

/** A random raw prediction, row-major values transposed to [4+C, N] for the columns layout. */
function makePred(r: () => number, s: PredSpec): Float32Array {
  const width = 4 + (s.hasObjectness ? 1 : 0) + s.numClasses;
  const q = (v: number) => (s.levels ? Math.round(v * s.levels) / s.levels : v);
  const snap = (v: number) => (s.snap ? Math.round(v / s.snap) * s.snap : v);
  const objects = Array.from({ length: s.objects ?? 20 }, () => [r() * 640, r() * 640, 8 + r() * 80, 8 + r() * 80]);
  const rows = new Float32Array(s.count * width);
  for (let i = 0; i < s.count; i++) {
    const [ox, oy, ow, oh] = objects[Math.floor(r() * objects.length)]!;
    const v = [
      snap(ox! + (r() - 0.5) * 10),
      snap(oy! + (r() - 0.5) * 10),
      snap(ow! * (0.8 + 0.4 * r())),
      snap(oh! * (0.8 + 0.4 * r())),
    ];
    if (s.hasObjectness) v.push(q(r()));
    const base = Math.fround(r());
    for (let c = 0; c < s.numClasses; c++) {
      if (s.adjacent) {
        const f = new Float32Array([base]);
        new Uint32Array(f.buffer)[0]! += Math.floor(r() * 3); // base, base+1ulp or base+2ulp
        v.push(f[0]!);
      } else v.push(q(r()));
    }
    rows.set(v, i * width);
  }
  if (!s.columns) return rows;
  const cols = new Float32Array(rows.length);
  for (let i = 0; i < s.count; i++) for (let k = 0; k < width; k++) cols[k * s.count + i] = rows[i * width + k]!;
  return cols;
}

function args(pred: Float32Array, s: PredSpec, o: Partial<YoloNmsArgs> = {}): YoloNmsArgs {
  return {
    pred,
    count: s.count,
    layout: s.columns ? 'columns' : 'rows',
    hasObjectness: s.hasObjectness,
    numClasses: s.numClasses,
    conf: 0.25,
    iou: 0.45,
    classFilter: null,
    agnostic: false,
    maxCandidates: 30000,
    maxDetections: 1000,
    maxWh: 7680,
    ...o,
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

function expectSame(got: YoloDetections, want: YoloDetections, label: string): void {
  expect(Array.from(got.rows), label).toEqual(Array.from(want.rows));
  expect(Array.from(got.classes), label).toEqual(Array.from(want.classes));
  expect(bits(got.scores), label).toEqual(bits(want.scores));
  expect(bits(got.boxes), label).toEqual(bits(want.boxes));
}

describeNative('yoloNms native kernel equals the JS reference', () => {
  it('on random predictions: both layouts, with/without objectness, ties, filters and caps', async () => {
    const r = rng(2024);
    for (let t = 0; t < 48; t++) {
      const s: PredSpec = {
        count: [0, 1, 2, 37, 300, 1025, 2500][t % 7]!,
        numClasses: [1, 3, 7, 80][t % 4]!,
        hasObjectness: t % 2 === 0,
        columns: Math.floor(t / 2) % 2 === 1, // all four pairings, not only the public op's two
        levels: [0, 4, 10, 20][Math.floor(t / 4) % 4],
        snap: [0, 1, 0.5][t % 3],
        adjacent: t % 5 === 4,
        objects: 1 + (t % 9) * 4,
      };
      const pred = makePred(r, s);
      const o: Partial<YoloNmsArgs> = {
        conf: [0.25, 0.4, 0, 0.5, 0.1][t % 5]!,
        iou: [0.45, 0.5, 0, 1, 0.7, 0.3][t % 6]!,
        agnostic: t % 7 === 3,
        classFilter: t % 6 === 5 ? Int32Array.from([0, 2, 99, -1]) : t % 11 === 10 ? new Int32Array(0) : null,
        maxCandidates: t % 4 === 1 ? 1 + Math.floor(r() * 50) : 30000,
        maxDetections: t % 3 === 2 ? 1 + Math.floor(r() * 20) : 1000,
      };
      const a = args(pred, s, o);
      expectSame(
        await cpu!.run(a),
        await js.run(a),
        `case ${t} ${JSON.stringify({ ...s, ...o, classFilter: o.classFilter && Array.from(o.classFilter) })}`,
      );
    }
  });

  it('cuts maxCandidates inside a run of equal scores by row, and keeps score == conf out', async () => {
    const s: PredSpec = { count: 400, numClasses: 2, hasObjectness: true, columns: false, levels: 4, snap: 1 };
    const pred = makePred(rng(5), s);
    for (const maxCandidates of [1, 7, 50, 123]) {
      for (const conf of [0.25, 0.5, 0.75]) {
        const a = args(pred, s, { maxCandidates, conf, iou: 0.5 });
        expectSame(await cpu!.run(a), await js.run(a), `maxCandidates ${maxCandidates} conf ${conf}`);
      }
    }
  });

  it('picks the best class as the reference (first index among equal float32 products) for many classes', async () => {
    const r = rng(11);
    for (const numClasses of [8, 13, 80]) {
      for (const columns of [false, true]) {
        for (const spec of [{ adjacent: true }, { levels: 3 }, { levels: 0 }]) {
          const s: PredSpec = {
            count: 700,
            numClasses,
            hasObjectness: !columns || numClasses === 13,
            columns,
            ...spec,
          };
          const a = args(makePred(r, s), s, { conf: 0.05, iou: 0.6 });
          expectSame(await cpu!.run(a), await js.run(a), JSON.stringify(s));
        }
      }
    }
  });

  it('decides boxes planted exactly at the IoU threshold as the reference', async () => {
    // (cx, cy, w, h): [0,0,10,10] and [0,0,10,5] have IoU exactly 0.5; [0,0,3,3] and [1,0,4,3] exactly 0.5.
    const pairs = [
      [5, 5, 10, 10, 5, 2.5, 10, 5],
      [1.5, 1.5, 3, 3, 2.5, 1.5, 3, 3],
    ];
    for (const [ax, ay, aw, ah, bx, by, bw, bh] of pairs) {
      for (const columns of [false, true]) {
        const rows = [ax!, ay!, aw!, ah!, 0.9, bx!, by!, bw!, bh!, 0.8];
        const s: PredSpec = { count: 2, numClasses: 1, hasObjectness: false, columns };
        const pred = columns
          ? Float32Array.from([ax!, bx!, ay!, by!, aw!, bw!, ah!, bh!, 0.9, 0.8])
          : Float32Array.from(rows);
        for (const iou of [0.5, 0.49999, 0.45]) {
          const a = args(pred, s, { iou });
          const got = await cpu!.run(a);
          expectSame(got, await js.run(a), `iou ${iou}`);
          expect(got.rows.length).toBe(iou === 0.5 ? 2 : 1);
        }
      }
    }
  });

  it('through the public op: yolov5 rows and yolov8 columns, batches', async () => {
    const r = rng(77);
    for (const [layout, shape] of [
      ['yolov5', [2, 900, 85]],
      ['yolov8', [2, 84, 900]],
      ['yolov6', [1, 3000, 6]],
    ] as const) {
      const s: PredSpec = {
        count: layout === 'yolov8' ? shape[2] : shape[1],
        numClasses: layout === 'yolov6' ? 1 : 80,
        hasObjectness: layout !== 'yolov8',
        columns: layout === 'yolov8',
      };
      const pred = new Float32Array(shape[0] * shape[1] * shape[2]);
      for (let b = 0; b < shape[0]; b++) pred.set(makePred(r, s), b * shape[1] * shape[2]);
      const [x, y] = [
        await nonMaxSuppression(pred, shape, { layout, conf: 0.25, backend: 'js' }),
        await nonMaxSuppression(pred, shape, { layout, conf: 0.25, backend: 'cpu' }),
      ];
      expect(x.length).toBe(shape[0]);
      for (let b = 0; b < shape[0]; b++) {
        expect(y[b]!.backend).toBe('cpu');
        expectSame(y[b]!, x[b]!, `${layout} item ${b}`);
      }
    }
  });

  it('on inputs large enough for the thread pool (100k rows, [84, 8400], [8400, 85])', async () => {
    const r = rng(9);
    const specs: [PredSpec, Partial<YoloNmsArgs>][] = [
      [
        { count: 100_000, numClasses: 1, hasObjectness: true, columns: false, levels: 50, objects: 400 },
        { conf: 0.9, maxCandidates: 4000 },
      ],
      [{ count: 8400, numClasses: 80, hasObjectness: false, columns: true, objects: 50 }, { conf: 0.95 }],
      [{ count: 8400, numClasses: 80, hasObjectness: true, columns: false, levels: 20, objects: 50 }, { conf: 0.6 }],
    ];
    for (const [s, o] of specs) {
      const a = args(makePred(r, s), s, o);
      expectSame(await cpu!.run(a), await js.run(a), JSON.stringify(s));
    }
  });

  it('gives the same result whatever the thread count (MASKBOX_THREADS=1 and 3 in child processes)', () => {
    const script = `
      const { createHash } = await import('node:crypto');
      const { loadNative } = await import('./bindings/native.ts');
      const a = loadNative();
      let s = 12345;
      const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 4294967296);
      const out = [];
      for (const [count, width, layout, hasObjectness] of [[100000, 6, 'rows', true], [8400, 84, 'columns', false]]) {
        const pred = new Float32Array(count * width);
        const at = (i, k) => (layout === 'rows' ? i * width + k : k * count + i);
        for (let i = 0; i < count; i++) {
          pred[at(i, 0)] = r() * 640; pred[at(i, 1)] = r() * 640; pred[at(i, 2)] = 5 + r() * 60; pred[at(i, 3)] = 5 + r() * 60;
          for (let k = 4; k < width; k++) pred[at(i, k)] = Math.round(r() * 40) / 40;
        }
        const d = await a.yoloNms({ pred, count, layout, hasObjectness, numClasses: width - (hasObjectness ? 5 : 4), conf: 0.3, iou: 0.45,
          classFilter: null, agnostic: false, maxCandidates: 30000, maxDetections: 100000, maxWh: 7680 });
        const h = createHash('sha256');
        for (const v of [d.rows, d.classes, d.boxes, d.scores]) h.update(new Uint8Array(v.buffer));
        out.push([a.info().threads, d.rows.length, h.digest('hex')]);
      }
      console.log(JSON.stringify(out));`;
    const runs = ['1', '3'].map((threads) => {
      const p = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO,
        env: { ...process.env, MASKBOX_THREADS: threads },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(p.status, p.stderr).toBe(0);
      return JSON.parse(p.stdout) as [number, number, string][];
    });
    expect(runs[0]!.map((x) => x[0])).toEqual([1, 1]);
    expect(runs[1]!.map((x) => x[0])).toEqual([3, 3]);
    expect(runs[0]![0]![1]).toBeGreaterThan(1000);
    expect(runs[1]!.map((x) => x.slice(1))).toEqual(runs[0]!.map((x) => x.slice(1)));
  });
});

describeNative('yoloNms native argument checks', () => {
  const ok = () => ({
    pred: new Float32Array(2 * 6),
    count: 2,
    layout: 'rows',
    hasObjectness: true,
    numClasses: 1,
    conf: 0.25,
    iou: 0.45,
    classFilter: null,
    agnostic: false,
    maxCandidates: 10,
    maxDetections: 10,
    maxWh: 7680,
  });
  it('throws a TypeError/RangeError naming the argument for bad lengths, types and ranges', async () => {
    const call = addon!.yoloNms as (a: unknown) => Promise<unknown>;
    await expect(call(ok())).resolves.toBeTruthy();
    const cases: [unknown, string, RegExp][] = [
      [{ ...ok(), pred: new Float32Array(11) }, 'pred', /length 12\) for pred but received length 11/],
      [{ ...ok(), pred: new Float32Array(13) }, 'pred', /received length 13/],
      [{ ...ok(), hasObjectness: false }, 'pred', /received length 12/], // width 5 -> 10 values expected
      [{ ...ok(), layout: 'columns', numClasses: 2 }, 'pred', /length 14\)/],
      [{ ...ok(), pred: new Float64Array(12) }, 'pred', /Float32Array for pred but received Float64Array/],
      [{ ...ok(), count: -1 }, 'count', /an integer/],
      [{ ...ok(), count: 1.5 }, 'count', /an integer/],
      [{ ...ok(), count: 2 ** 31 }, 'count', /an integer/],
      [{ ...ok(), count: 2 ** 31 - 1, numClasses: 2 ** 31 - 1 }, 'pred', /for pred but received length 12/],
      [{ ...ok(), numClasses: 0 }, 'numClasses', /an integer between 1/],
      [{ ...ok(), layout: 'diagonal' }, 'layout', /'rows' or 'columns'/],
      [{ ...ok(), layout: 1 }, 'layout', /a string/],
      [{ ...ok(), hasObjectness: 1 }, 'hasObjectness', /a boolean/],
      [{ ...ok(), classFilter: [0] }, 'classFilter', /Int32Array for classFilter/],
      [{ ...ok(), conf: NaN }, 'conf', /received NaN/],
      [{ ...ok(), iou: 1.5 }, 'iou', /between 0 and 1/],
      [{ ...ok(), maxCandidates: -1 }, 'maxCandidates', /an integer/],
      [{ ...ok(), maxDetections: 0.5 }, 'maxDetections', /an integer/],
      [{ ...ok(), maxWh: 1e30 }, 'maxWh', /a number between/],
      [{ ...ok(), agnostic: undefined }, 'agnostic', /a boolean/],
    ];
    for (const [a, name, msg] of cases) {
      let err: any;
      try {
        void call(a);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(Error);
      expect(err.name).toMatch(/^(TypeError|RangeError)$/);
      expect(err.code).toBe('ERR_MASKBOX_NATIVE_ARGUMENT');
      expect(err.argument).toBe(name);
      expect(err.message).toMatch(/^maskbox native yoloNms: Expected /);
      expect(err.message, name).toMatch(msg);
    }
    expect(() => call(undefined)).toThrow(/options object for args/);
  });

  it('accepts empty input and NaN/Infinity values without crashing', async () => {
    const call = addon!.yoloNms as (a: unknown) => Promise<YoloDetections>;
    expect((await call({ ...ok(), pred: new Float32Array(0), count: 0 })).rows.length).toBe(0);
    const pred = Float32Array.from([NaN, 1, Infinity, 2, 0.9, 0.8, 1, 1, 2, 2, Infinity, 3e38]);
    const a = { ...ok(), pred, conf: -Infinity } as YoloNmsArgs;
    expectSame(await call(a), await js.run(a), 'non-finite');
  });
});
