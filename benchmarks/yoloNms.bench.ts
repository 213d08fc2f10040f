/**
 * YOLO post-process over raw predictions (decode + score + class-offset NMS): maskbox js vs cpu vs
 * torch/torchvision running YOLOv5's non_max_suppression (Ultralytics 8's for the [4+C, N] layout),
 * benchmarks/peers/yolov5_nms.py in a long-lived /usr/bin/python3 peer (harness.PythonPeer) on the same
 * float32 input, at torch.set_num_threads = the cpu backend's pool threads (and at 1 thread). ONNX
 * Runtime has no YOLO decode op, so it has no row here. Outputs are checked before timing (boxes,
 * scores, classes bit for bit against the js reference; torch's rows as float32); then every side is
 * alternated round by round (harness.alternate): wall and process CPU time, medians (min-max).
 *
 * Inputs: YOLOv5 COCO [1,8400,85] and YOLOv8 COCO [1,84,8400], synthetic (anchor grid of strides
 * 8/16/32 over 640, 15 objects, cells near an object's centre at a matching stride score high, the rest
 * are background with sigmoid(N(-5, 1.2)) objectness and sigmoid(N(-6, 1)) class scores), plus a
 * "dense" YOLOv5 variant with uniform random values (most rows pass conf: worst case for NMS); and the
 * lab's YOLOv6 single class [1,8400,6]: the real output of models/cdv-yolov6-tiny.onnx on
 * samples/cdv/images/cdv_00000.jpg. iou 0.45, maxDetections 1000 (the op's default).
 *
 * Run: npx tsx benchmarks/yoloNms.bench.ts [--rounds 7] [--no-python] [--crossover]
 *   --crossover  instead time js vs cpu kernels on small inputs (the `minWork` of src/backends/cpu/index.ts;
 *                each kernel alone, medians of 41 calls: microseconds, where a forced GC per round would dominate)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBackends } from '../src/backends/index.js';
import { getKernel } from '../src/backends/registry.js';
import type { YoloDetections, YoloNmsArgs } from '../src/backends/js/yoloNms.js';
import { nonMaxSuppression, type YoloLayout } from '../src/ops/yoloNms.js';
import { Detector } from '../src/model/detector.js';
import { readImage } from '../src/io/image.js';
import { nativeStatus } from '../bindings/native.js';
import { availableBackends } from '../test/helpers.js';
import {
  alternate,
  benchStart,
  comparisonRows,
  printComparison,
  PythonPeer,
  readTyped,
  table,
  timeit,
  type Impl,
} from './harness.js';

const start = benchStart(7, ['torch', 'torchvision'], ['crossover']);
const crossover = start.flag('crossover');
const root = join(import.meta.dirname, '..');
ensureBackends(); // before the YOLOv6 input is captured: the detector dispatches its letterbox

function prng(seed: number): { r: () => number; gauss: () => number } {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), (s + 0.5) / 4294967296);
  return { r, gauss: () => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()) };
}
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Synthetic COCO-like raw output on the 8400-cell anchor-free grid; rows [N, 5+C] or columns [4+C, N]. */
function cocoLike(seed: number, columns: boolean, nc = 80): Float32Array {
  const { r, gauss } = prng(seed);
  const objects = Array.from({ length: 15 }, () => ({
    cx: 40 + r() * 560,
    cy: 40 + r() * 560,
    w: 16 + r() * 300,
    h: 16 + r() * 300,
    cls: Math.floor(r() * nc),
  }));
  const cells: [number, number, number][] = [];
  for (const stride of [8, 16, 32]) {
    for (let gy = 0; gy < 640 / stride; gy++)
      for (let gx = 0; gx < 640 / stride; gx++) cells.push([(gx + 0.5) * stride, (gy + 0.5) * stride, stride]);
  }
  const n = cells.length,
    width = columns ? 4 + nc : 5 + nc;
  const out = new Float32Array(n * width);
  const set = (i: number, k: number, v: number) => (out[columns ? k * n + i : i * width + k] = v);
  cells.forEach(([x, y, stride], i) => {
    let best: (typeof objects)[number] | null = null,
      bestQ = 0;
    for (const o of objects) {
      const scale = Math.max(o.w, o.h) / stride;
      if (scale < 2 || scale > 20) continue;
      const q = 1 - Math.hypot(o.cx - x, o.cy - y) / (2.5 * stride);
      if (q > bestQ) [best, bestQ] = [o, q];
    }
    let obj: number, box: number[];
    const cls = Array.from({ length: nc }, () => sigmoid(-6 + gauss()));
    if (best) {
      const j = 0.15 * (1 - bestQ);
      box = [
        best.cx + best.w * j * gauss(),
        best.cy + best.h * j * gauss(),
        best.w * (1 + j * gauss()),
        best.h * (1 + j * gauss()),
      ];
      obj = 0.15 + 0.8 * bestQ * (0.7 + 0.3 * r());
      cls[best.cls] = 0.5 + 0.45 * r();
      if (r() < 0.3) cls[Math.floor(r() * nc)] = 0.1 + 0.3 * r();
    } else {
      box = [x + stride * gauss(), y + stride * gauss(), stride * (1 + 3 * r()), stride * (1 + 3 * r())];
      obj = sigmoid(-5 + 1.2 * gauss());
    }
    box.forEach((v, k) => set(i, k, v));
    if (columns) cls.forEach((c, k) => set(i, 4 + k, Math.fround(obj) * Math.fround(c)));
    else {
      set(i, 4, obj);
      cls.forEach((c, k) => set(i, 5 + k, c));
    }
  });
  return out;
}

/** Uniform random rows [N, 5+C]: boxes anywhere in 640, objectness and class scores U(0, 1). */
function dense(seed: number, n: number, nc: number): Float32Array {
  const { r } = prng(seed);
  const out = new Float32Array(n * (5 + nc));
  for (let i = 0; i < n; i++) {
    out.set([r() * 640, r() * 640, 8 + r() * 120, 8 + r() * 120], i * (5 + nc));
    for (let k = 4; k < 5 + nc; k++) out[i * (5 + nc) + k] = r();
  }
  return out;
}

/** The bundled YOLOv6 CDV model's raw [1, 8400, 6] output on a sample frame (captured through a decoder). */
async function yolov6Output(): Promise<Float32Array> {
  let raw: Float32Array | null = null;
  const det = await Detector.load(join(root, 'models/cdv-yolov6-tiny.onnx'), {
    decoder: (outputs) => {
      raw = Float32Array.from(Object.values(outputs)[0]!.data as Float32Array);
      return { boxes: new Float32Array(0), scores: new Float32Array(0), classes: new Int32Array(0) };
    },
  });
  await det.detect(await readImage(join(root, 'samples/cdv/images/cdv_00000.jpg')));
  await det.dispose();
  return raw!;
}

interface Case {
  name: string;
  layout: YoloLayout;
  shape: [number, number, number];
  pred: Float32Array;
}

const cases: Case[] = crossover
  ? []
  : [
      { name: 'YOLOv5 COCO [1,8400,85]', layout: 'yolov5', shape: [1, 8400, 85], pred: cocoLike(1, false) },
      { name: 'YOLOv8 COCO [1,84,8400]', layout: 'yolov8', shape: [1, 84, 8400], pred: cocoLike(2, true) },
      {
        name: 'YOLOv6 CDV [1,8400,6] (real model output)',
        layout: 'yolov6',
        shape: [1, 8400, 6],
        pred: await yolov6Output(),
      },
      { name: 'YOLOv5 dense uniform [1,8400,85]', layout: 'yolov5', shape: [1, 8400, 85], pred: dense(3, 8400, 80) },
    ];
const iou = 0.45,
  maxDetections = 1000;
/** The yoloNms kernel's arguments: `count` predictions `width` wide (rows [count, 5+C] with objectness, or columns [4+C, count]). */
const kernelArgs = (
  pred: Float32Array,
  count: number,
  layout: 'rows' | 'columns',
  width: number,
  conf: number,
): YoloNmsArgs => ({
  pred,
  count,
  layout,
  hasObjectness: layout === 'rows',
  numClasses: width - (layout === 'rows' ? 5 : 4),
  conf,
  iou,
  classFilter: null,
  agnostic: false,
  maxCandidates: 30000,
  maxDetections,
  maxWh: 7680,
});
const backends = availableBackends().filter((b) => b === 'js' || b === 'cpu');
/** The cpu backend's pool threads; torch gets the same (and a second peer gets 1 thread). */
const THREADS = nativeStatus().info?.threads ?? 1;
const notes: string[] = [];

const f32bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const sameDet = (a: YoloDetections, b: YoloDetections) =>
  JSON.stringify([Array.from(a.rows), Array.from(a.classes), f32bits(a.scores), f32bits(a.boxes)]) ===
  JSON.stringify([Array.from(b.rows), Array.from(b.classes), f32bits(b.scores), f32bits(b.boxes)]);

/** Torch's [K, 6] float32 detections vs the reference: identical, or how many differ (torch's sorts are unstable at ties). */
function compareTorch(det: Float32Array, ref: YoloDetections): string {
  const k = det.length / 6;
  if (k !== ref.scores.length) return `NO (${k} vs ${ref.scores.length} detections)`;
  let diff = 0;
  for (let i = 0; i < k; i++) {
    const want = [...ref.boxes.subarray(i * 4, i * 4 + 4), ref.scores[i]!, ref.classes[i]!];
    if (want.some((v, j) => det[i * 6 + j] !== v)) diff++;
  }
  return diff === 0 ? 'yes' : `NO (${diff} rows differ)`;
}

/** Rows with best score > conf (the candidates NMS sees). */
function countCandidates(c: Case, conf: number): number {
  const count = c.layout === 'yolov8' ? c.shape[2] : c.shape[1];
  const w = c.shape[2];
  let m = 0;
  for (let i = 0; i < count; i++) {
    if (c.layout === 'yolov8') {
      let best = -Infinity;
      for (let k = 4; k < c.shape[1]; k++) best = Math.max(best, c.pred[k * count + i]!);
      if (best > conf) m++;
    } else {
      const obj = c.pred[i * w + 4]!;
      if (!(obj > conf)) continue;
      let best = -Infinity;
      for (let k = 5; k < w; k++) best = Math.max(best, Math.fround(c.pred[i * w + k]! * obj));
      if (best > conf) m++;
    }
  }
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'maskbox-yolo-bench-'));
/** One long-lived torch process per thread count; `case(...)` loads an input and a conf between comparisons. */
const torchPeer = (threads: number) =>
  new PythonPeer(
    `import sys, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(join(import.meta.dirname, 'peers'))})
from yolov5_nms import yolov5_nms, yolov8_nms
torch.set_num_threads(${threads})
def case(path, d1, d2, layout, c):
    global pred, fn, conf
    pred = torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(1, d1, d2))
    fn, conf = (yolov8_nms if layout == 'yolov8' else yolov5_nms), c
    return torch.get_num_threads()`,
    `global det
with torch.no_grad():
    det = fn(x, conf, ${iou}, None, False, ${maxDetections})[0]`,
    'det.numpy()',
    'global x\nx = pred.clone()  # yolov8_nms writes into its input (Ultralytics in_place=True)',
  );
const PY = !crossover && start.python;
if (!crossover && !PY) notes.push('torch rows skipped: --no-python, or /usr/bin/python3 lacks torch/torchvision');
const peers = PY ? [...new Set([THREADS, 1])].map((t) => ({ threads: t, peer: torchPeer(t) })) : [];
const torchName = (c: Case, threads: number) =>
  `torch ${c.layout === 'yolov8' ? 'Ultralytics 8' : 'YOLOv5'} non_max_suppression${threads === THREADS ? '' : `, ${threads} thread`}`;

const rows: (string | number)[][] = [];
try {
  for (const c of cases) {
    const predPath = join(dir, 'pred.f32');
    writeFileSync(predPath, c.pred);
    for (const conf of [0.25, 0.4]) {
      const opts = { layout: c.layout, conf, iou, maxDetections };
      const [ref] = await nonMaxSuppression(c.pred, c.shape, { ...opts, backend: 'js' });
      const count = c.layout === 'yolov8' ? c.shape[2] : c.shape[1];
      const columns = c.layout === 'yolov8';
      const kargs = kernelArgs(c.pred, count, columns ? 'columns' : 'rows', columns ? c.shape[1] : c.shape[2], conf);
      const impls: Impl[] = [];
      const checks: string[] = [];
      for (const b of backends) {
        const threads = b === 'cpu' ? THREADS : 1;
        const op = async () => (await nonMaxSuppression(c.pred, c.shape, { ...opts, backend: b }))[0]!;
        const kernel = async () => getKernel<YoloNmsArgs, YoloDetections>('yoloNms', b)!.run(kargs);
        impls.push({ name: `maskbox ${b} (nonMaxSuppression)`, threads, run: op });
        impls.push({ name: `maskbox ${b} kernel only`, threads, run: kernel });
        if (b !== 'js') checks.push(`${b} op = js: ${sameDet(await op(), ref!) ? 'yes' : 'NO'}`);
        checks.push(`${b} kernel = js: ${sameDet(await kernel(), ref!) ? 'yes' : 'NO'}`);
      }
      for (const { threads, peer } of peers) {
        await peer.eval(`case(${JSON.stringify(predPath)}, ${c.shape[1]}, ${c.shape[2]}, '${c.layout}', ${conf})`);
        await peer.round();
        await peer.dump(join(dir, 'det.f32'));
        checks.push(
          `torch (${threads} thr) = js: ${compareTorch(readTyped(join(dir, 'det.f32'), Float32Array), ref!)}`,
        );
        impls.push({ name: torchName(c, threads), threads, run: () => peer.round() });
      }
      const what = `${c.name}, conf ${conf}: ${countCandidates(c, conf)} candidates / ${ref!.scores.length} kept`;
      const peerName = peers.length ? torchName(c, THREADS) : 'maskbox js (nonMaxSuppression)';
      rows.push(...comparisonRows(what, await alternate(impls, start.rounds, 2), peerName, checks));
    }
  }
} finally {
  for (const p of peers) p.peer.close();
  rmSync(dir, { recursive: true, force: true });
}

if (!crossover)
  printComparison(
    `YOLO post-process (decode + NMS), iou ${iou}, maxDetections ${maxDetections}; torch 1.13 / torchvision 0.14 ` +
      `(/usr/bin/python3), torch.set_num_threads ${[...new Set([THREADS, 1])].join(' and ')}`,
    start,
    { first: 'input', peer: `torch (${THREADS} thr)` },
    rows,
    notes,
  );

if (crossover) {
  // Small inputs: where does the native call (thread-pool round trip) start to pay? Work = prediction values.
  const xs: (string | number)[][] = [];
  for (const [layout, w] of [
    ['rows', 6],
    ['rows', 85],
    ['columns', 84],
  ] as const) {
    for (const n of [8, 16, 32, 64, 128, 256, 1024]) {
      const pred = dense(n, n, w - 5).subarray(0, n * w); // columns: the same uniform values read as [w, n]
      const a = kernelArgs(pred, n, layout, w, 0.25);
      const [tj, tc] = [
        await timeit(() => getKernel<YoloNmsArgs, YoloDetections>('yoloNms', 'js')!.run(a), 41, 5),
        await timeit(() => getKernel<YoloNmsArgs, YoloDetections>('yoloNms', 'cpu')!.run(a), 41, 5),
      ];
      xs.push([
        `${layout} [${n}, ${w}]`,
        n * w,
        tj.median * 1e3,
        tc.median * 1e3,
        (tj.median / tc.median).toFixed(2) + 'x',
      ]);
    }
  }
  console.log('\nCrossover (kernel only, median µs)\n');
  console.log(table(['input', 'work (values)', 'js µs', 'cpu µs', 'cpu speed-up'], xs));
}
