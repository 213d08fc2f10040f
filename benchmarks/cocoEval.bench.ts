/**
 * COCO evaluation (pycocotools semantics), bbox and segm, on
 * - the 100-image COCO fixture (../shared/fixtures/coco, when present), and
 * - a synthetic set: 5000 images 640x480, ~7 ground truths and ~20 detections per image over 10
 *   categories (detections: jittered copies of the ground truth plus random boxes, ~2% crowd ground
 *   truth). Ground-truth masks are 12-vertex ellipse polygons (rasterised by cocoEval, as pycocotools
 *   does); result masks are ellipses as compressed RLE strings (made directly, so setup stays quick).
 * One row per backend (js = the reference kernel, cpu = native/cpu/cocoEval.cc), in the same run.
 * Columns: reading the results file's bytes (js: JSON.parse + `parseCocoResults`; cpu: the native
 * loader, native/cpu/cocoJson.cc — for segm both decode every RLE; the native path builds no detection
 * objects: the cpu rows evaluate those flat arrays, as `readCocoResults` gives them for a large file,
 * and prepare them natively, native/cpu/cocoEvalPrepare.cc); `cocoEval` cold (fresh
 * ground-truth object: polygons rasterised) and warm (same object: masks cached), each with its process
 * CPU time beside (all threads; the dev machine is shared: under load wall time exceeds it); one warm
 * run split into stages (js: prepare / IoU / matching / accumulate; cpu: the native prepare / the
 * native kernel); whether stats, precision and recall equal the js row's exactly. Medians.
 * Then a second table: the warm runs of every backend and of pycocotools (Debian's /usr/bin/python3, when
 * it can import pycocotools; its evaluate() rasterises the ground truth each time, so it compares with
 * cold) alternated round by round (harness.alternate: wall and process CPU time, median (min-max)),
 * pycocotools' 12 stats checked equal to ours in the run. faster-coco-eval is not run here: any figure
 * for it is quoted, with its machine.
 * Run: npx tsx benchmarks/cocoEval.bench.ts [--images 5000] [--repeats 3] [--rounds 5] [--types bbox,segm]
 *      [--backends js,cpu] [--no-fixture]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cocoRleToString } from '../src/backends/js/cocoRle.js';
import { computeIous } from '../src/backends/js/cocoEval.js';
import { evaluateCells } from '../src/backends/js/cocoMatch.js';
import { accumulateCoco } from '../src/backends/js/cocoAccumulate.js';
import { parseCocoGroundTruth, parseCocoResults } from '../src/io/cocoJson.js';
import { cocoEval, prepareCocoEval, resolveCocoParams } from '../src/ops/cocoEval.js';
import { COCO_STAT_NAMES } from '../src/ops/cocoSummary.js';
import { HAS_SHARED, SHARED } from '../test/helpers.js';
import { ensureBackends } from '../src/backends/index.js';
import { getKernel } from '../src/backends/registry.js';
import { cocoEvalCpu } from '../src/backends/cpu/cocoEval.js';
import { parseCocoResultsNative } from '../src/io/cocoJsonNative.js';
import { nativeStatus } from '../bindings/native.js';
import {
  alternate,
  fmtSpread,
  load1,
  machine,
  methodLine,
  pythonHas,
  PythonPeer,
  table,
  type Impl,
} from './harness.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rng } from '../test/helpers.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    repeats: { type: 'string' },
    rounds: { type: 'string' },
    types: { type: 'string' },
    'no-fixture': { type: 'boolean' },
    backends: { type: 'string' },
  },
});
const TYPES = (values.types ?? 'bbox,segm').split(',') as ('bbox' | 'segm')[];
const NUM_IMAGES = Number(values.images ?? 5000);
const REPEATS = Number(values.repeats ?? 3);
const ROUNDS = Number(values.rounds ?? 5);
const loadStart = load1();
const PYCOCO = pythonHas('pycocotools', 'numpy');
ensureBackends();
const BACKENDS = (values.backends ?? 'js,cpu')
  .split(',')
  .filter((b) => b === 'js' || (b === 'cpu' && getKernel('cocoEval', 'cpu') !== undefined)) as ('js' | 'cpu')[];

const round2 = (v: number) => Math.round(v * 100) / 100;

function ellipsePolygon(x: number, y: number, w: number, h: number): number[] {
  const p: number[] = [];
  for (let j = 0; j < 12; j++) {
    const a = (j / 12) * 2 * Math.PI;
    p.push(round2(x + w / 2 + (w / 2) * Math.cos(a)), round2(y + h / 2 + (h / 2) * Math.sin(a)));
  }
  return p;
}

/** COCO counts of the ellipse inscribed in [x, y, w, h] (pixel centres inside), column by column. */
function ellipseCounts(x: number, y: number, w: number, h: number, H: number, W: number): number[] {
  const cx = x + w / 2,
    cy = y + h / 2,
    rx = w / 2,
    ry = h / 2;
  const counts: number[] = [];
  let pos = 0;
  for (let col = Math.max(0, Math.floor(x)); col < Math.min(W, Math.ceil(x + w)); col++) {
    const u = (col + 0.5 - cx) / rx;
    if (u * u >= 1) continue;
    const dy = ry * Math.sqrt(1 - u * u);
    const y0 = Math.max(0, Math.ceil(cy - dy - 0.5)),
      y1 = Math.min(H - 1, Math.floor(cy + dy - 0.5));
    if (y0 > y1) continue;
    const start = col * H + y0;
    if (start === pos && counts.length > 0) counts[counts.length - 1]! += y1 - y0 + 1;
    else counts.push(start - pos, y1 - y0 + 1);
    pos = col * H + y1 + 1;
  }
  counts.push(H * W - pos);
  return counts;
}

/** Synthetic ground truth (JSON) and bbox + segm results (JSON). */
function synthetic(n: number, seed = 7) {
  const r = rng(seed);
  const W = 640,
    H = 480;
  const images = Array.from({ length: n }, (_, i) => ({ id: i + 1, width: W, height: H }));
  const categories = Array.from({ length: 10 }, (_, k) => ({ id: k + 1, name: `c${k + 1}` }));
  const annotations: object[] = [];
  const bbox: object[] = [];
  const segm: object[] = [];
  const randomBox = () => {
    const w = 8 + r() * 150,
      h = 8 + r() * 150;
    return [round2(r() * (W - w)), round2(r() * (H - h)), round2(w), round2(h)] as [number, number, number, number];
  };
  const addDet = (image_id: number, category_id: number, b: [number, number, number, number], score: number) => {
    bbox.push({ image_id, category_id, bbox: b, score });
    const counts = cocoRleToString(ellipseCounts(...b, H, W));
    segm.push({ image_id, category_id, segmentation: { size: [H, W], counts }, score });
  };
  for (const im of images) {
    const gts: [number, [number, number, number, number]][] = [];
    const ng = 4 + Math.floor(r() * 7); // 4..10, mean 7
    for (let g = 0; g < ng; g++) {
      const b = randomBox();
      const cat = 1 + Math.floor(r() * 10);
      annotations.push({
        id: annotations.length + 1,
        image_id: im.id,
        category_id: cat,
        bbox: b,
        area: round2((Math.PI * b[2] * b[3]) / 4),
        iscrowd: r() < 0.02 ? 1 : 0,
        segmentation: [ellipsePolygon(...b)],
      });
      gts.push([cat, b]);
    }
    const nd = 14 + Math.floor(r() * 13); // 14..26, mean 20
    for (let d = 0; d < nd; d++) {
      if (d < gts.length * 2 && r() < 0.8) {
        const [cat, b] = gts[d % gts.length]!;
        const jit = (v: number, s: number) => round2(v + (r() - 0.5) * s * 0.3);
        const box: [number, number, number, number] = [
          jit(b[0], b[2]),
          jit(b[1], b[3]),
          Math.max(1, jit(b[2], b[2])),
          Math.max(1, jit(b[3], b[3])),
        ];
        addDet(im.id, r() < 0.9 ? cat : 1 + Math.floor(r() * 10), box, round2(r() * 10000) / 10000);
      } else addDet(im.id, 1 + Math.floor(r() * 10), randomBox(), round2(r() * 6000) / 10000);
    }
  }
  return { gt: { images, categories, annotations }, bbox, segm };
}

interface Case {
  name: string;
  gtJson: unknown;
  dtJson: Record<'bbox' | 'segm', unknown[]>;
}

const cases: Case[] = [];
const dir = join(SHARED, 'fixtures', 'coco');
if (!values['no-fixture'] && HAS_SHARED && existsSync(join(dir, 'instances_val2014_100.json'))) {
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  cases.push({
    name: 'COCO fixture (100 images)',
    gtJson: read('instances_val2014_100.json'),
    dtJson: {
      bbox: read('instances_val2014_fakebbox100_results.json'),
      segm: read('instances_val2014_fakesegm100_results.json'),
    },
  });
}
const t0 = performance.now();
const syn = synthetic(NUM_IMAGES);
const setupMs = performance.now() - t0;
cases.push({ name: `synthetic (${NUM_IMAGES} images)`, gtJson: syn.gt, dtJson: { bbox: syn.bbox, segm: syn.segm } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function ms(f: () => unknown): Promise<number> {
  const s = performance.now();
  await f();
  return performance.now() - s;
}

const rows: (string | number)[][] = [];
const altRows: (string | number)[][] = [];
const tmp = mkdtempSync(join(tmpdir(), 'maskbox-coco-bench-'));
for (const c of cases) {
  for (const iouType of TYPES) {
    const bytes = Buffer.from(JSON.stringify(c.dtJson[iouType]));
    const gt = parseCocoGroundTruth(c.gtJson, c.name);
    const dtJs = parseCocoResults(c.dtJson[iouType], gt, iouType);
    // cpu: the results as readCocoResults gives them for a large file (the native loader's flat arrays,
    // which the native preparation reads; no detection objects).
    const dtNative = await parseCocoResultsNative(bytes, gt, iouType);
    if (!dtNative) throw new Error('native loader declined');
    let reference: Awaited<ReturnType<typeof cocoEval>> | undefined;
    for (const backend of BACKENDS) {
      const dt = backend === 'cpu' ? dtNative : dtJs;
      const warmCpu: number[] = [],
        coldCpu: number[] = [];
      const parse: number[] = [],
        cold: number[] = [],
        warm: number[] = [];
      let result!: Awaited<ReturnType<typeof cocoEval>>;
      await cocoEval(gt, dt, { iouType, backend }); // JIT warm-up (also fills gt's mask cache)
      // Reading results from the file's bytes: JS = JSON.parse + parseCocoResults; cpu = the native loader.
      const read =
        backend === 'js'
          ? () => parseCocoResults(JSON.parse(bytes.toString('utf8')), gt, iouType)
          : async () => {
              if (!(await parseCocoResultsNative(bytes, gt, iouType))) throw new Error('native loader declined');
            };
      for (let rep = 0; rep < REPEATS; rep++) {
        parse.push(await ms(read));
        const fresh = parseCocoGroundTruth(c.gtJson, c.name);
        const cpuCold0 = process.cpuUsage();
        cold.push(await ms(async () => (result = await cocoEval(fresh, dt, { iouType, backend }))));
        const cpuCold = process.cpuUsage(cpuCold0);
        coldCpu.push((cpuCold.user + cpuCold.system) / 1000);
        const cpu0 = process.cpuUsage();
        warm.push(await ms(() => cocoEval(gt, dt, { iouType, backend })));
        const cpu = process.cpuUsage(cpu0);
        warmCpu.push((cpu.user + cpu.system) / 1000);
      }
      // One warm run split into stages.
      let prep!: ReturnType<typeof prepareCocoEval>,
        ious!: ReturnType<typeof computeIous>,
        cells!: ReturnType<typeof evaluateCells>;
      const params = resolveCocoParams(gt, { iouType });
      const p = await ms(
        async () =>
          (prep =
            backend === 'js'
              ? prepareCocoEval(gt, dt, params)
              : await getKernel('cocoEvalPrepare', 'cpu')!.run({ gt, dt, params })),
      );
      const stages =
        backend === 'js'
          ? [
              p,
              await ms(() => (ious = computeIous(prep.args))),
              await ms(() => (cells = evaluateCells(prep.args, ious))),
              await ms(() => accumulateCoco(prep.args, cells)),
            ]
          : [p, await ms(() => cocoEvalCpu(prep.args))];
      reference ??= result;
      const same =
        JSON.stringify(result.stats) === JSON.stringify(reference.stats) &&
        result.precision.every((v, i) => Object.is(v, reference!.precision[i])) &&
        result.recall.every((v, i) => Object.is(v, reference!.recall[i]));
      const size = `${gt.annotations.length} gt / ${dtJs.detections.length} dt`;
      const split = stages.map((x) => x.toFixed(0)).join(' / ');
      rows.push([
        c.name,
        size,
        iouType,
        result.backend,
        median(parse),
        median(cold),
        median(coldCpu),
        median(warm),
        median(warmCpu),
        `${backend === 'js' ? 'prepare / IoU / match / accumulate' : 'native prepare / native kernel'}: ${split}`,
        result.stats.AP.toFixed(4),
        same ? 'yes' : 'NO',
      ]);
      console.error(
        `${c.name} ${iouType} ${backend}: read ${median(parse).toFixed(0)} ms, eval cold ${median(cold).toFixed(0)} ms (cpu ${median(coldCpu).toFixed(0)} ms), warm ${median(warm).toFixed(0)} ms (cpu ${median(warmCpu).toFixed(0)} ms; ${split})`,
      );
    }
    // Warm runs of every backend (and pycocotools) alternated round by round.
    const impls: Impl[] = BACKENDS.map((backend) => ({
      name: `maskbox ${backend}`,
      threads: backend === 'cpu' ? (nativeStatus().info?.threads ?? 1) : 1,
      run: () => cocoEval(gt, backend === 'cpu' ? dtNative : dtJs, { iouType, backend }),
    }));
    let pyCheck = 'pycocotools not installed (Debian has no python3-pycocotools candidate here; pip not used)';
    let peer: PythonPeer | null = null;
    if (PYCOCO) {
      const gtPath = join(tmp, 'gt.json'),
        dtPath = join(tmp, 'dt.json');
      writeFileSync(gtPath, JSON.stringify(c.gtJson));
      writeFileSync(dtPath, JSON.stringify(c.dtJson[iouType]));
      peer = new PythonPeer(
        `import io, contextlib, numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    G = COCO(${JSON.stringify(gtPath)}); D = G.loadRes(${JSON.stringify(dtPath)})`,
        `global stats
with contextlib.redirect_stdout(io.StringIO()):
    E = COCOeval(G, D, ${JSON.stringify(iouType)}); E.evaluate(); E.accumulate(); E.summarize()
stats = np.array(E.stats, dtype=np.float64)`,
        'stats',
      );
      await peer.round();
      const statsPath = join(tmp, 'stats.bin');
      await peer.dump(statsPath);
      const b = readFileSync(statsPath);
      const theirs = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      const ours = COCO_STAT_NAMES.map((k) => reference!.stats[k]);
      const same = theirs.length === ours.length && ours.every((v, k) => Object.is(v, theirs[k]));
      pyCheck = `12 stats = pycocotools: ${same ? 'yes' : `NO (${Array.from(theirs).join(',')})`}`;
      impls.push({ name: 'pycocotools COCOeval (rasterises gt each time)', threads: 1, run: () => peer!.round() });
    }
    const m = await alternate(impls, ROUNDS, 1);
    peer?.close();
    for (const r of m)
      altRows.push([
        c.name,
        iouType,
        r.name,
        r.threads,
        fmtSpread(r.wall),
        fmtSpread(r.cpu),
        r === m[0] ? pyCheck : '',
      ]);
  }
}
rmSync(tmp, { recursive: true, force: true });
console.log(
  `# cocoEval benchmark\n\n${machine()}; native thread budget ${nativeStatus().info?.threads ?? '-'}; synthetic set generated in ${setupMs.toFixed(0)} ms; medians of ${REPEATS} runs; load average ${loadavg()[0]!.toFixed(1)} at the end.\n`,
);
console.log(
  table(
    [
      'data',
      'size',
      'iouType',
      'backend',
      'read results from bytes (ms)',
      'cocoEval cold (ms)',
      'cold, CPU time (ms)',
      'cocoEval warm (ms)',
      'warm, CPU time (ms)',
      'one warm run, stages (ms)',
      'AP',
      'stats + arrays identical to js',
    ],
    rows,
  ),
);
console.log(`\n${methodLine(ROUNDS)}. Load average (1 min): ${loadStart} at the start, ${load1()} at the end.\n`);
console.log(
  table(
    [
      'data',
      'iouType',
      'implementation (warm)',
      'threads',
      'wall ms, median (min-max)',
      'CPU ms, median (min-max)',
      'checked',
    ],
    altRows,
  ),
);
