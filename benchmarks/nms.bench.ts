/**
 * NMS: maskbox backends vs ONNX Runtime's NonMaxSuppression op (onnxruntime-node) and
 * @tensorflow/tfjs-core's CPU nonMaxSuppression, on YOLO-like boxes (clusters of jittered boxes around
 * objects in a 2048 image), iou 0.45. Outputs are checked identical before timing.
 * Run: npx tsx benchmarks/nms.bench.ts
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { join } from 'node:path';
import { nms } from '../src/ops/nms.js';
import { availableBackends } from '../test/helpers.js';
import { machine, table, timeit, yoloLikeBoxes } from './harness.js';

const sizes = [10_000, 100_000];
const iou = 0.45;
const session = await ort.InferenceSession.create(join(import.meta.dirname, 'models', 'nms.onnx'));
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
    const idx = await tf.image.nonMaxSuppressionAsync(
      tf.tensor2d(yxyx, [n, 4]),
      tf.tensor1d(scores),
      n,
      iou,
      -Infinity,
    );
    const v = (await idx.data()) as Int32Array;
    idx.dispose();
    return v;
  };
  const reference = (await nms(boxes, scores, { iouThreshold: iou, backend: 'js' })).indices;
  const same = (a: Int32Array) => a.length === reference.length && a.every((v, i) => v === reference[i]);
  const peers: [string, () => Promise<Int32Array>][] = [
    ['onnxruntime-node NonMaxSuppression', runOrt],
    ['tfjs-core cpu nonMaxSuppression', runTf],
    ...availableBackends().map(
      (b) =>
        [`maskbox ${b}`, async () => (await nms(boxes, scores, { iouThreshold: iou, backend: b })).indices] as [
          string,
          () => Promise<Int32Array>,
        ],
    ),
  ];
  const results: [string, number, boolean][] = [];
  for (const [name, fn] of peers) {
    const ok = same(await fn());
    const repeats = name.startsWith('tfjs') && n > 20_000 ? 3 : 7;
    results.push([name, (await timeit(fn, repeats)).median, ok]);
  }
  const ortMs = results[0]![1];
  for (const [name, ms, ok] of results) rows.push([n, name, ms, (ortMs / ms).toFixed(2) + 'x', ok ? 'yes' : 'NO']);
}
console.log(`NMS, iou ${iou}, YOLO-like boxes — ${machine()}\n`);
console.log(table(['boxes', 'implementation', 'median ms', 'speed vs ORT', 'same indices as reference'], rows));
