/**
 * NMS: maskbox backends vs ONNX Runtime's NonMaxSuppression op (onnxruntime-node, intraOpNumThreads and
 * interOpNumThreads 1: the op is single-threaded, and maskbox's CPU NMS runs on one thread too) and
 * @tensorflow/tfjs-core's CPU nonMaxSuppression, on YOLO-like boxes (clusters of jittered boxes around
 * objects in a 2048 image), iou 0.45. Every implementation's indices are checked equal to the JS
 * reference in this run before timing; then they are alternated round by round (harness.alternate),
 * wall and process CPU time, medians (min-max).
 * Run: npx tsx benchmarks/nms.bench.ts [--rounds 11]
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nms } from '../src/ops/nms.js';
import { availableBackends } from '../test/helpers.js';
import { ensureBackends } from '../src/backends/index.js';
import { alternate, fmtSpread, load1, methodLine, table, yoloLikeBoxes, type Impl } from './harness.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 11);
const sizes = [1_000, 10_000, 100_000];
const iou = 0.45;
ensureBackends();
const loadStart = load1();
const session = await ort.InferenceSession.create(join(import.meta.dirname, 'models', 'nms.onnx'), {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
await tf.setBackend('cpu');
const rows: (string | number)[][] = [];
for (const n of sizes) {
  const { boxes, scores } = yoloLikeBoxes(n);
  const yxyx = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) yxyx.set([boxes[i * 4 + 1]!, boxes[i * 4]!, boxes[i * 4 + 3]!, boxes[i * 4 + 2]!], i * 4);
  const feeds = {
    boxes: new ort.Tensor('float32', yxyx, [1, n, 4]),
    scores: new ort.Tensor('float32', scores, [1, 1, n]),
    max_out: new ort.Tensor('int64', BigInt64Array.from([BigInt(n)]), [1]),
    iou: new ort.Tensor('float32', Float32Array.from([iou]), [1]),
    score: new ort.Tensor('float32', Float32Array.from([-1]), [1]),
  };
  const runOrt = async () => {
    const out = await session.run(feeds);
    const sel = out.selected!.data as BigInt64Array;
    return Int32Array.from({ length: sel.length / 3 }, (_, i) => Number(sel[i * 3 + 2]));
  };
  const runTf = async () => {
    const b = tf.tensor2d(yxyx, [n, 4]),
      s = tf.tensor1d(scores);
    const idx = await tf.image.nonMaxSuppressionAsync(b, s, n, iou, -Infinity);
    const v = (await idx.data()) as Int32Array;
    tf.dispose([b, s, idx]);
    return v;
  };
  const reference = (await nms(boxes, scores, { iouThreshold: iou, backend: 'js' })).indices;
  const same = (a: Int32Array) => a.length === reference.length && a.every((v, i) => v === reference[i]);
  const impls: (Impl & { run: () => Promise<Int32Array> })[] = [
    { name: 'onnxruntime-node NonMaxSuppression', threads: 1, run: runOrt },
    ...availableBackends()
      .filter((b) => b === 'cpu' || (b === 'js' && n <= 20_000)) // js at 100k: ~4 s a round
      .map((b) => ({
        name: `maskbox ${b}`,
        threads: 1,
        run: async () => (await nms(boxes, scores, { iouThreshold: iou, backend: b })).indices,
      })),
  ];
  if (n <= 20_000) impls.push({ name: 'tfjs-core cpu nonMaxSuppression', threads: 1, run: runTf });
  const ok = new Map<string, boolean>();
  for (const im of impls) ok.set(im.name, same((await im.run()) as Int32Array));
  const measured = await alternate(impls, ROUNDS, 2);
  const ortM = measured[0]!;
  for (const m of measured)
    rows.push([
      n,
      m.name,
      m.threads,
      fmtSpread(m.wall),
      fmtSpread(m.cpu),
      (ortM.wall.median / m.wall.median).toFixed(2) + 'x',
      (ortM.cpu.median / m.cpu.median).toFixed(2) + 'x',
      ok.get(m.name) ? 'yes' : 'NO',
    ]);
}
console.log(`NMS, iou ${iou}, YOLO-like boxes (clusters of ~30 jittered boxes, 2048² frame, random scores)\n`);
console.log(`${methodLine(ROUNDS)}. Load average (1 min): ${loadStart} at the start, ${load1()} at the end.\n`);
console.log(
  table(
    [
      'boxes',
      'implementation',
      'threads',
      'wall ms, median (min-max)',
      'CPU ms, median (min-max)',
      'wall: ORT / this',
      'CPU: ORT / this',
      'same indices as the JS reference',
    ],
    rows,
  ),
);
