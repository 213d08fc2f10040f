/**
 * Post-processing defaults chosen by measurement (issue 15): the bundled detector on the held-out
 * simulator presets (the same images as detectVsBaselineHeldout.bench.ts: seed 1515 + preset index)
 * for every combination of tiling (`full`, `auto`, `auto+full`), NMS IoU and confidence threshold.
 *
 * Per combination: AP, AP50, AP75 from a pass at conf 0.001 with up to 10000 boxes, AP50 when each
 * image keeps only its top 1000 / 300 / 100 boxes (the `--max-det` question), and at each operating
 * conf (a real `detect()` at that conf, since tile merging depends on which boxes pass it) precision,
 * recall and F1 at IoU 0.5 and the recall of touching pairs.
 *
 * Usage: npx tsx benchmarks/postprocessSweep.bench.ts [--n IMAGES] [--model M.onnx] [--out FILE.md]
 *   [--configs full,auto,auto+full] [--ious 0.3,0.45,0.6] [--confs 0.1,0.25,0.4]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseCocoGroundTruth, parseCocoResults } from '../src/io/cocoJson.js';
import { classCurves } from '../src/metrics/detectionReport.js';
import { touchingPairRecall, touchingPairs } from '../src/metrics/touchingRecall.js';
import { Detector, type DetectorDetectOptions } from '../src/model/detector.js';
import { cocoEval } from '../src/ops/cocoEval.js';
import { HELD_OUT_PRESETS, resolveCdvParams, simulateCdv } from '../src/sim/cdv.js';
import { encodeImage } from '../src/sim/cdvDataset.js';
import { machine, table } from './harness.js';
import { ensureBackends } from '../src/backends/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const N = Number(arg('--n') ?? 3);
const MODEL = arg('--model') ?? join(REPO, 'models/cdv-yolov6-tiny.onnx');
const OUT = arg('--out');
const SEED = 1515; // detectVsBaselineHeldout.bench.ts's images
const CONFIGS: Record<string, DetectorDetectOptions> = {
  full: {},
  auto: { tile: 'auto' },
  'auto+full': { tile: 'auto', fullFrame: true },
};
const configs = (arg('--configs') ?? 'full,auto,auto+full').split(',');
const ious = (arg('--ious') ?? '0.3,0.45,0.6').split(',').map(Number);
const confs = (arg('--confs') ?? '0.1,0.25,0.4').split(',').map(Number);
const CAPS = [1000, 300, 100];

interface Image {
  id: number;
  img: { data: Uint8Array; width: number; height: number; channels: number };
  gt: Float32Array;
  pairs: Int32Array;
}

function toCoco(boxes: Float32Array, scores: ArrayLike<number>, imageId: number, cap = Infinity): object[] {
  const out: object[] = [];
  for (let i = 0; i < Math.min(scores.length, cap); i++) {
    const [x1, y1, x2, y2] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
    out.push({ image_id: imageId, category_id: 1, bbox: [x1, y1, x2 - x1, y2 - y1], score: scores[i]! });
  }
  return out;
}

ensureBackends();

async function main(): Promise<void> {
  const det = await Detector.load(MODEL);
  const rows: (string | number)[][] = [];
  const started = performance.now();
  const only = arg('--presets')?.split(',');
  for (const [pi, preset] of HELD_OUT_PRESETS.entries()) {
    if (only && !only.includes(preset)) continue;
    const params = resolveCdvParams({}, preset);
    const images: Image[] = [];
    const cocoImages: object[] = [],
      annotations: object[] = [];
    for (let k = 0; k < N; k++) {
      const sim = simulateCdv(params, SEED + pi, k);
      const enc = await encodeImage(sim, sim.jpeg !== undefined ? 'jpg' : 'png', params);
      const { data, info } = await sharp(enc).raw().toBuffer({ resolveWithObject: true });
      const id = k + 1;
      cocoImages.push({ id, width: sim.width, height: sim.height });
      for (const v of sim.vesicles) {
        const [x1, y1, x2, y2] = v.box;
        const bbox = [x1, y1, x2 - x1, y2 - y1];
        annotations.push({
          id: annotations.length + 1,
          image_id: id,
          category_id: 1,
          bbox,
          area: bbox[2]! * bbox[3]!,
          iscrowd: 0,
        });
      }
      images.push({
        id,
        img: { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels },
        gt: Float32Array.from(sim.vesicles.flatMap((v) => v.box)),
        pairs: touchingPairs(sim.vesicles),
      });
    }
    const gt = parseCocoGroundTruth(
      { images: cocoImages, annotations, categories: [{ id: 1, name: 'cluster' }] },
      preset,
    );
    for (const c of configs)
      for (const iou of ious) {
        const res: object[] = [];
        const capped: object[][] = CAPS.map(() => []);
        const ms: number[] = [];
        const at = confs.map(() => ({ res: [] as object[], pairs: 0, recalled: 0 }));
        for (const im of images) {
          const t0 = performance.now();
          const d = await det.detect(im.img, { ...CONFIGS[c], iou, conf: 0.001, maxDetections: 10000 });
          ms.push(performance.now() - t0);
          res.push(...toCoco(d.boxes, d.scores, im.id));
          CAPS.forEach((cap, j) => capped[j]!.push(...toCoco(d.boxes, d.scores, im.id, cap)));
          for (const [j, conf] of confs.entries()) {
            const o = await det.detect(im.img, { ...CONFIGS[c], iou, conf });
            at[j]!.res.push(...toCoco(o.boxes, o.scores, im.id));
            const r = touchingPairRecall(im.gt, im.pairs, o.boxes, o.scores);
            at[j]!.pairs += r.pairs;
            at[j]!.recalled += r.recalled;
          }
        }
        const s = (await cocoEval(gt, parseCocoResults(res, gt, c), { maxDets: [1, 100, 10000], summary: 'largest' }))
          .stats;
        const capAp50: string[] = [];
        for (const [j, cap] of CAPS.entries()) {
          const st = (
            await cocoEval(gt, parseCocoResults(capped[j]!, gt, c), { maxDets: [1, 100, 10000], summary: 'largest' })
          ).stats;
          capAp50.push(`${st.AP50.toFixed(3)}`);
          void cap;
        }
        const op = at.map((a, j) => {
          const cc = classCurves(gt, parseCocoResults(a.res, gt, c))[0]!;
          const f1 = cc.f1[0]!; // every detection here passed conf already: threshold 0
          const pr = a.pairs ? (a.recalled / a.pairs).toFixed(2) : '–';
          return `${confs[j]}: ${f1.toFixed(2)} / ${cc.recall[0]!.toFixed(2)} / ${pr}`;
        });
        const sorted = [...ms].sort((x, y) => x - y);
        rows.push([
          preset,
          c,
          String(iou),
          s.AP.toFixed(3),
          s.AP50.toFixed(3),
          s.AP75.toFixed(3),
          capAp50.join(' / '),
          op.join('; '),
          (1000 / sorted[Math.floor(sorted.length / 2)]!).toFixed(2),
        ]);
        process.stderr.write(`${rows.at(-1)!.join(' | ')}\n`);
      }
  }
  await det.dispose();
  const header = [
    'preset',
    'tiling',
    'NMS IoU',
    'AP',
    'AP50',
    'AP75',
    `AP50 top ${CAPS.join(' / ')}`,
    'conf: F1 / recall / touching pairs',
    'images/s (conf 0.001)',
  ];
  const text = [
    '# Post-processing sweep on the held-out presets',
    '',
    `${machine()}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(
        ' ',
      )}; ${((performance.now() - started) / 1000).toFixed(0)} s; model ${MODEL.startsWith(REPO) ? MODEL.slice(REPO.length + 1) : MODEL}.`,
    `${N} image(s) per preset (seed ${SEED} + preset index, as detectVsBaselineHeldout.bench.ts). AP columns: conf 0.001,`,
    "up to 10000 boxes, cocoEval maxDets [1, 100, 10000], summary 'largest'; `AP50 top K`: each image keeps its",
    'K best boxes (`--max-det K`). Operating points: `detect()` at that conf; F1 and recall at IoU 0.5, touching',
    'pairs (gap <= 2 px) recalled at IoU 0.5.',
    '',
    table(header, rows),
    '',
  ].join('\n');
  process.stdout.write(text);
  if (OUT) {
    await mkdir(dirname(resolve(OUT)), { recursive: true });
    await writeFile(OUT, text);
  }
}

await main();
