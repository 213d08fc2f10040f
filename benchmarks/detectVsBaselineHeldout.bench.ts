/**
 * The bundled detector (and the DBSCAN baseline) on the held-out simulator presets of issue 15
 * (`eval-lab`, `eval-dense`, `eval-smalldim`: settings no training run uses), with and without sliced
 * inference: COCO AP, AP50, AP75 (maxDets 10000, summary 'largest'), recall of touching pairs at the
 * default operating point, and images/s.
 *
 * Usage: npx tsx benchmarks/detectVsBaselineHeldout.bench.ts [--n IMAGES] [--quick] [--no-write]
 *   [--model M.onnx] [--configs full,auto,auto+full,1024,full@896] [--presets eval-lab,eval-dense,eval-smalldim]
 *   [--no-baseline] [--empty FRAMES (default 4: false positives on frames without vesicles)]
 * A config `NAME@SIDE` runs NAME with the model's input at SIDE x SIDE (models exported with a free input
 * size, `train_cdv.py export --dynamic-size`): `full@896` sees a 2048² frame at 0.44, the tile scale. A suffix
 * `:raw` turns off the model's per-channel stretch (`channelStretch: null`), `:stretch` turns it on at [1, 99.99].
 * Writes benchmarks/results/detectVsBaselineHeldout.md unless --quick or --no-write.
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
import { dbscanBaseline } from '../src/ops/baseline.js';
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
const QUICK = argv.includes('--quick');
const N = Number(arg('--n') ?? (QUICK ? 1 : 4));
const WRITE = !QUICK && !argv.includes('--no-write');
const MODEL = arg('--model') ?? join(REPO, 'models/cdv-yolov6-tiny.onnx');
const SEED = 1515;
const CONF_AP = 0.001; // for AP, as YOLO's val.py
const CONF = 0.4; // the lab's (and the CLI's default) operating point
const MAX_DETS = [1, 100, 10000];

/** Detector configurations: the CLI's flags. */
const CONFIGS: Record<string, DetectorDetectOptions> = {
  full: {},
  auto: { tile: 'auto' },
  'auto+full': { tile: 'auto', fullFrame: true },
  '1024': { tile: 1024 },
  '640': { tile: 640 },
};
const chosen = (arg('--configs') ?? 'full,auto,auto+full,1024').split(',');
const BASELINE = !argv.includes('--no-baseline');
const EMPTY = Number(arg('--empty') ?? (QUICK ? 0 : 4));
const STRETCH: Record<string, [number, number] | null> = { raw: null, stretch: [1, 99.99] };
/** `NAME@SIDE:STRETCH` -> the config NAME, the input side and channel stretch (undefined: the model's own). */
const parseConfig = (c: string): { opts: DetectorDetectOptions; side?: number; stretch?: string } => {
  const [spec, stretch] = c.split(':');
  const [name, side] = spec!.split('@');
  const opts = CONFIGS[name!];
  if (!opts || (side !== undefined && !(Number(side) > 0)) || (stretch !== undefined && !(stretch in STRETCH)))
    throw new Error(`unknown config ${c}`);
  return { opts, side: side === undefined ? undefined : Number(side), stretch };
};
/** The detector a config runs on: one per input side and stretch. */
const detectorKey = (c: string) => {
  const { side, stretch } = parseConfig(c);
  return `${side ?? ''}:${stretch ?? ''}`;
};

interface Acc {
  res: object[];
  pairs: number;
  recalled: number;
  ms: number[];
  boxes: number;
}
const acc = (): Acc => ({ res: [], pairs: 0, recalled: 0, ms: [], boxes: 0 });

function toCoco(boxes: Float32Array, scores: ArrayLike<number>, imageId: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < scores.length; i++) {
    const [x1, y1, x2, y2] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
    out.push({ image_id: imageId, category_id: 1, bbox: [x1, y1, x2 - x1, y2 - y1], score: scores[i]! });
  }
  return out;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;

ensureBackends();

async function main(): Promise<void> {
  const detectors = new Map<string, Detector>();
  for (const c of chosen) {
    const { side, stretch } = parseConfig(c);
    if (detectors.has(detectorKey(c))) continue;
    const load = {
      ...(side ? { inputSize: side } : {}),
      ...(stretch !== undefined ? { channelStretch: STRETCH[stretch] } : {}),
    };
    detectors.set(detectorKey(c), await Detector.load(MODEL, load));
  }
  const rows: (string | number)[][] = [];
  const started = performance.now();
  const only = arg('--presets')?.split(',');
  for (const [pi, preset] of HELD_OUT_PRESETS.entries()) {
    if (only && !only.includes(preset)) continue;
    const params = resolveCdvParams({}, preset);
    const images: object[] = [],
      annotations: object[] = [];
    const per: Record<string, Acc> = Object.fromEntries(
      [...chosen, ...(BASELINE ? ['baseline'] : [])].map((c) => [c, acc()]),
    );
    for (let k = 0; k < N; k++) {
      const sim = simulateCdv(params, SEED + pi, k);
      // the bytes a user would have: the written PNG/JPG (colour map, JPEG artefacts), decoded
      const enc = await encodeImage(sim, sim.jpeg !== undefined ? 'jpg' : 'png', params);
      const { data, info } = await sharp(enc).raw().toBuffer({ resolveWithObject: true });
      const img = { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
      const id = k + 1;
      images.push({ id, width: sim.width, height: sim.height });
      const gt = Float32Array.from(sim.vesicles.flatMap((v) => v.box));
      sim.vesicles.forEach((v) => {
        const [x1, y1, x2, y2] = v.box;
        annotations.push({
          id: annotations.length + 1,
          image_id: id,
          category_id: 1,
          bbox: [x1, y1, x2 - x1, y2 - y1],
          area: (x2 - x1) * (y2 - y1),
          iscrowd: 0,
        });
      });
      const pairs = touchingPairs(sim.vesicles);
      for (const c of chosen) {
        const a = per[c]!;
        const { opts } = parseConfig(c);
        const det = detectors.get(detectorKey(c))!;
        const forAp = await det.detect(img, { ...opts, conf: CONF_AP, maxDetections: 10000 });
        a.res.push(...toCoco(forAp.boxes, forAp.scores, id));
        const t0 = performance.now();
        const d = await det.detect(img, { ...opts, conf: CONF });
        a.ms.push(performance.now() - t0);
        a.boxes += d.scores.length;
        const r = touchingPairRecall(gt, pairs, d.boxes, d.scores);
        a.pairs += r.pairs;
        a.recalled += r.recalled;
      }
      if (BASELINE) {
        const b = per.baseline!;
        const t0 = performance.now();
        const base = await dbscanBaseline(img);
        b.ms.push(performance.now() - t0);
        b.res.push(...toCoco(base.boxes, base.scores, id));
        b.boxes += base.scores.length;
        const rb = touchingPairRecall(gt, pairs, base.boxes, base.scores);
        b.pairs += rb.pairs;
        b.recalled += rb.recalled;
      }
      process.stderr.write(`${preset} ${k + 1}/${N}: ${sim.vesicles.length} vesicles, ${sim.colormap}\n`);
    }
    const gt = parseCocoGroundTruth({ images, annotations, categories: [{ id: 1, name: 'cluster' }] }, preset);
    for (const [name, a] of Object.entries(per)) {
      const dt = parseCocoResults(a.res, gt, name);
      const s = (await cocoEval(gt, dt, { maxDets: MAX_DETS, summary: 'largest' })).stats;
      const best = classCurves(gt, dt)[0]!.best; // the conf threshold with the best F1 (IoU 0.5)
      rows.push([
        preset,
        name === 'baseline' ? 'DBSCAN baseline' : `detector ${name}`,
        (annotations.length / N).toFixed(0),
        s.AP.toFixed(3),
        s.AP50.toFixed(3),
        s.AP75.toFixed(3),
        a.pairs ? `${(a.recalled / a.pairs).toFixed(2)} (${a.recalled}/${a.pairs})` : 'n/a',
        (a.boxes / N).toFixed(0),
        `${best.f1.toFixed(2)} @ ${best.conf.toFixed(2)}`,
        (1000 / median(a.ms)).toFixed(2),
      ]);
    }
  }
  // Empty frames (density 0: background, clutter and haze only): every box is a false positive.
  const emptyRows: (string | number)[][] = [];
  for (const [pi, preset] of HELD_OUT_PRESETS.entries()) {
    if (EMPTY === 0 || (only && !only.includes(preset))) continue;
    const params = resolveCdvParams({ density: [0, 0] }, preset);
    const boxes: Record<string, number[]> = Object.fromEntries(chosen.map((c) => [c, []]));
    for (let k = 0; k < EMPTY; k++) {
      const sim = simulateCdv(params, SEED + 100 + pi, k);
      const enc = await encodeImage(sim, sim.jpeg !== undefined ? 'jpg' : 'png', params);
      const { data, info } = await sharp(enc).raw().toBuffer({ resolveWithObject: true });
      const img = { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
      for (const c of chosen) {
        const d = await detectors.get(detectorKey(c))!.detect(img, { ...parseConfig(c).opts, conf: CONF });
        boxes[c]!.push(d.scores.length);
      }
    }
    for (const c of chosen) {
      const b = boxes[c]!;
      emptyRows.push([
        `${preset}, empty`,
        `detector ${c}`,
        (b.reduce((x, y) => x + y, 0) / b.length).toFixed(1),
        b.join(' '),
      ]);
    }
  }
  for (const det of detectors.values()) await det.dispose();
  const header = [
    'preset',
    'method',
    'GT/img',
    'AP',
    'AP50',
    'AP75',
    'touching pairs',
    'boxes/img',
    'best F1 @ conf',
    'images/s',
  ];
  const text = [
    `# Bundled detector on held-out presets, with and without tiles`,
    '',
    `${machine()}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ${((performance.now() - started) / 1000).toFixed(0)} s; model ${MODEL.slice(REPO.length + 1)}.`,
    '',
    `${N} image(s) of 2048x2048 per preset (\`simulateCdv(resolveCdvParams({}, preset), ${SEED} + preset index, k)\`, written`,
    'with its colour map and JPEG round trip, decoded as RGB). AP/AP50/AP75: `cocoEval` bbox, maxDets',
    `${JSON.stringify(MAX_DETS)}, summary 'largest', detections at conf ${CONF_AP} (up to 10000). Touching pairs`,
    `(gap <= 2 px) recalled at IoU 0.5 and boxes/img at conf ${CONF} (the CLI default), images/s = 1000 / median ms`,
    'of `detect()` at that conf (decoded image to boxes, one thread pool shared with other jobs).',
    'Best F1 @ conf: the confidence threshold with the best F1 at IoU 0.5 (`classCurves`, as `eval coco --per-class`).',
    'Configs: `full` one letterboxed pass; `auto` tiles of `autoTile` (1440 px for 640 input, 4 tiles);',
    '`auto+full` adds the full-frame pass; `1024` tiles of 1024 px (9 tiles). Overlap 0.2, NMM IoS 0.5.',
    '`NAME@SIDE`: NAME with the model run at a SIDE x SIDE input (a model exported with a free input size); `:raw` / `:stretch`: without / with the per-channel stretch [1, 99.99].',
    '',
    table(header, rows),
    '',
    ...(emptyRows.length
      ? [
          `Empty frames (\`--empty ${EMPTY}\`: the same presets with density 0, seed ${SEED + 100} + preset index; every box is a`,
          `false positive), boxes per frame at conf ${CONF}:`,
          '',
          table(['frames', 'method', 'boxes/frame', 'per frame'], emptyRows),
          '',
        ]
      : []),
  ].join('\n');
  process.stdout.write(text);
  if (WRITE) {
    const out = join(REPO, 'benchmarks/results/detectVsBaselineHeldout.md');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, text);
    process.stderr.write(`wrote ${out}\n`);
  }
}

await main();
