/**
 * Checks the exported vesicle detector from Node (run with `npx tsx training/check_onnx.ts`):
 *  1. onnxruntime-node loads it; input `images` [B,3,640,640] gives `[B,8400,6]` for B = 1 and 2;
 *  2. optionally (`--data DIR --results FILE`) runs maskbox's own Detector (letterbox, decode, NMS,
 *     scale back) over DIR/annotations.json's images and writes COCO results JSON, which
 *     `train_cdv.py evalres` scores, so the reported AP is that of the shipped pipeline.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/cdv-yolov6-tiny.onnx' },
    data: { type: 'string' },
    results: { type: 'string' },
    conf: { type: 'string', default: '0.001' },
  },
});
const model = values.model!;

const session = await ort.InferenceSession.create(model);
console.log('inputs', session.inputNames, 'outputs', session.outputNames);
for (const b of [1, 2]) {
  const x = new ort.Tensor('float32', new Float32Array(b * 3 * 640 * 640).fill(114 / 255), [b, 3, 640, 640]);
  const out = (await session.run({ images: x }))[session.outputNames[0]!]!;
  const d = out.data as Float32Array;
  let maxScore = 0;
  for (let i = 5; i < d.length; i += 6) maxScore = Math.max(maxScore, d[i]!);
  console.log(`batch ${b}: output dims [${out.dims.join(', ')}], max class score on a grey image ${maxScore.toFixed(4)}`);
  if (out.dims.join(',') !== `${b},8400,6`) throw new Error(`unexpected output dims ${out.dims}`);
}

if (values.data && values.results) {
  const { Detector } = await import('../src/model/detector.js');
  const { readImage } = await import('../src/io/image.js');
  const det = await Detector.load(model);
  const coco = JSON.parse(readFileSync(join(values.data, 'annotations.json'), 'utf8')) as { images: { id: number; file_name: string }[] };
  const results: { image_id: number; category_id: number; bbox: number[]; score: number }[] = [];
  let ms = 0;
  for (const im of coco.images) {
    const img = await readImage(join(values.data, 'images', im.file_name));
    const t0 = performance.now();
    const r = await det.detect(img, { conf: Number(values.conf), iou: 0.45, maxDetections: 1000 });
    ms += performance.now() - t0;
    for (let i = 0; i < r.scores.length; i++) {
      const [x1, y1, x2, y2] = r.boxes.subarray(4 * i, 4 * i + 4);
      results.push({ image_id: im.id, category_id: 1, bbox: [x1!, y1!, x2! - x1!, y2! - y1!], score: r.scores[i]! });
    }
  }
  await writeFile(values.results, JSON.stringify(results));
  console.log(`${coco.images.length} images, ${results.length} detections, ${(ms / coco.images.length).toFixed(0)} ms/image (Detector.detect)`);
}
