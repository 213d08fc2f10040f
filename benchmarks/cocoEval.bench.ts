/**
 * COCO evaluation (pycocotools semantics), bbox and segm, on
 * - the 100-image COCO fixture (../shared/fixtures/coco, when present), and
 * - a synthetic set: 5000 images 640x480, ~7 ground truths and ~20 detections per image over 10
 *   categories (detections: jittered copies of the ground truth plus random boxes), masks as
 *   12-vertex ellipse polygons (ground truth) and compressed RLE strings (results).
 * Times reading/validating the results (`parseCocoResults`: for segm this decodes every RLE) and
 * `cocoEval` separately; medians of repeated runs.
 * Run: npx tsx benchmarks/cocoEval.bench.ts [--images 5000] [--repeats 3]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cocoRleFromPolygon, cocoRleToString } from '../src/backends/js/cocoRle.js';
import { parseCocoGroundTruth, parseCocoResults, type CocoGroundTruth } from '../src/io/cocoJson.js';
import { cocoEval, prepareCocoEval, resolveCocoParams } from '../src/ops/cocoEval.js';
import { computeIous } from '../src/backends/js/cocoEval.js';
import { evaluateCells } from '../src/backends/js/cocoMatch.js';
import { accumulateCoco } from '../src/backends/js/cocoAccumulate.js';
import { HAS_SHARED, SHARED } from '../test/helpers.js';
import { machine, table, timeit } from './harness.js';

const { values } = parseArgs({ options: { images: { type: 'string' }, repeats: { type: 'string' } } });
const NUM_IMAGES = Number(values.images ?? 5000);
const REPEATS = Number(values.repeats ?? 3);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ellipse(x: number, y: number, w: number, h: number): number[] {
  const p: number[] = [];
  for (let j = 0; j < 12; j++) {
    const a = (j / 12) * 2 * Math.PI;
    p.push(+(x + w / 2 + (w / 2) * Math.cos(a)).toFixed(2), +(y + h / 2 + (h / 2) * Math.sin(a)).toFixed(2));
  }
  return p;
}

/** Synthetic ground truth (JSON objects) and bbox + segm results. */
function synthetic(n: number, seed = 7) {
  const r = prng(seed);
  const W = 640, H = 480;
  const images = Array.from({ length: n }, (_, i) => ({ id: i + 1, width: W, height: H }));
  const categories = Array.from({ length: 10 }, (_, k) => ({ id: k + 1, name: `c${k + 1}` }));
  const annotations: object[] = [];
  const bboxRes: object[] = [];
  const segmRes: object[] = [];
  let annId = 1;
  const addDet = (imageId: number, cat: number, b: number[], score: number) => {
    const [x, y, w, h] = b as [number, number, number, number];
    bboxRes.push({ image_id: imageId, category_id: cat, bbox: b, score });
    const rle = cocoRleFromPolygon(ellipse(x, y, w, h), H, W);
    segmRes.push({ image_id: imageId, category_id: cat, segmentation: { size: [H, W], counts: cocoRleToString(rle.counts) }, score });
  };
  for (const im of images) {
    const ng = 4 + Math.floor(r() * 7); // 4..10, mean 7
    const gts: [number, number[]][] = [];
    for (let g = 0; g < ng; g++) {
      const w = 8 + r() * 150, h = 8 + r() * 150;
      const b = [+(r() * (W - w)).toFixed(2), +(r() * (H - h)).toFixed(2), +w.toFixed(2), +h.toFixed(2)];
      const cat = 1 + Math.floor(r() * 10);
      const seg = ellipse(b[0]!, b[1]!, b[2]!, b[3]!);
      annotations.push({ id: annId++, image_id: im.id, category_id: cat, bbox: b, area: +(Math.PI * (w / 2) * (h / 2)).toFixed(2), iscrowd: r() < 0.02 ? 1 : 0, segmentation: [seg] });
      gts.push([cat, b]);
    }
    const nd = 14 + Math.floor(r() * 13); // 14..26, mean 20
    for (let d = 0; d < nd; d++) {
      if (d < gts.length * 2 && r() < 0.8) {
        const [cat, b] = gts[d % gts.length]!;
        const j = (v: number, s: number) => +(v + (r() - 0.5) * s * 0.3).toFixed(2);
        const w = Math.max(1, j(b[2]!, b[2]!)), h = Math.max(1, j(b[3]!, b[3]!));
        addDet(im.id, r() < 0.9 ? cat : 1 + Math.floor(r() * 10), [j(b[0]!, b[2]!), j(b[1]!, b[3]!), w, h], +r().toFixed(4));
      } else {
        const w = 8 + r() * 150, h = 8 + r() * 150;
        addDet(im.id, 1 + Math.floor(r() * 10), [+(r() * (W - w)).toFixed(2), +(r() * (H - h)).toFixed(2), +w.toFixed(2), +h.toFixed(2)], +(r() * 0.6).toFixed(4));
      }
    }
  }
  return { gt: { images, categories, annotations }, bbox: bboxRes, segm: segmRes };
}

interface Case {
  name: string;
  gt: CocoGroundTruth;
  dtJson: Record<'bbox' | 'segm', unknown>;
  counts: string;
}

const cases: Case[] = [];
if (HAS_SHARED) {
  const dir = join(SHARED, 'fixtures', 'coco');
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  if (existsSync(join(dir, 'instances_val2014_100.json'))) {
    const gt = parseCocoGroundTruth(read('instances_val2014_100.json'), 'instances_val2014_100.json');
    const dtJson = { bbox: read('instances_val2014_fakebbox100_results.json'), segm: read('instances_val2014_fakesegm100_results.json') };
    cases.push({ name: 'COCO fixture (100 images)', gt, dtJson, counts: `${gt.annotations.length} gt / ${(dtJson.bbox as unknown[]).length} dt` });
  }
}
const t0 = performance.now();
const syn = synthetic(NUM_IMAGES);
console.error(`synthetic set: ${(performance.now() - t0).toFixed(0)} ms`);
const synGt = parseCocoGroundTruth(syn.gt, 'synthetic');
const setupMs = performance.now() - t0;
cases.push({ name: `synthetic (${NUM_IMAGES} images)`, gt: synGt, dtJson: { bbox: syn.bbox, segm: syn.segm }, counts: `${syn.gt.annotations.length} gt / ${syn.bbox.length} dt` });

const rows: (string | number)[][] = [];
for (const c of cases) {
  for (const iouType of ['bbox', 'segm'] as const) {
    const dt = parseCocoResults(c.dtJson[iouType], c.gt, iouType);
    const parse = await timeit(() => parseCocoResults(c.dtJson[iouType], c.gt, iouType), REPEATS, 0);
    let ap = 0;
    const ev = await timeit(async () => {
      ap = (await cocoEval(c.gt, dt, { iouType, backend: 'js' })).stats.AP;
    }, REPEATS, 1);
    // One run split into stages: prepare (group, sort, masks to RLE) | IoU | matching | accumulate.
    const ms = (f: () => void) => {
      const s = performance.now();
      f();
      return performance.now() - s;
    };
    let prep!: ReturnType<typeof prepareCocoEval>, ious!: ReturnType<typeof computeIous>, cells!: ReturnType<typeof evaluateCells>;
    const tPrep = ms(() => (prep = prepareCocoEval(c.gt, dt, resolveCocoParams(c.gt, { iouType }))));
    const tIou = ms(() => (ious = computeIous(prep.args)));
    const tMatch = ms(() => (cells = evaluateCells(prep.args, ious)));
    const tAcc = ms(() => accumulateCoco(prep.args, cells));
    const stages = [tPrep, tIou, tMatch, tAcc].map((x) => x.toFixed(0)).join(' / ');
    rows.push([c.name, c.counts, iouType, 'js', parse.median, ev.median, stages, ap.toFixed(4)]);
    console.error(`${c.name} ${iouType}: parse ${parse.median.toFixed(0)} ms, eval ${ev.median.toFixed(0)} ms (${stages})`);
  }
}
console.log(`# cocoEval benchmark\n\n${machine()}; synthetic set generated in ${setupMs.toFixed(0)} ms; medians of ${REPEATS} runs.\n`);
console.log(table(['data', 'size', 'iouType', 'backend', 'read results (ms)', 'cocoEval (ms)', 'prepare / IoU / match / accumulate (ms, one run)', 'AP'], rows));
