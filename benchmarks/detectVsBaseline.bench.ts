/**
 * The bundled vesicle detector against the lab's DBSCAN baseline (issue 4), in one run:
 *
 * 1. Simulated CDV sets (`maskbox simulate cdv`, lab preset, fixed seed, cached under /tmp) at three
 *    densities x three minimum gaps (apart / close / touching): COCO AP@[.5:.95] and AP50, recall of
 *    neighbour pairs (at the touching level: touching pairs, gap <= 2 px), pairs merged into one box,
 *    and images/s from the decoded image to boxes.
 * 2. Third-party SMLM movies (/work/shared/fixtures/smlm, skipped when absent): emitter detection as
 *    point detection (box centre within R px of a reference emitter) — precision, recall, F1.
 *
 * Usage: npx tsx benchmarks/detectVsBaseline.bench.ts [--quick] [--n IMAGES] [--no-write]
 *   --quick: 1 image per set (the full run uses 5) and the first 20 frames of each movie.
 * Writes benchmarks/results/detectVsBaseline.md unless --quick or --no-write.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { readCocoGroundTruth, parseCocoResults, type CocoGroundTruth } from '../src/io/cocoJson.js';
import { readImage, type RawImage } from '../src/io/image.js';
import { touchingPairRecall, touchingPairs, TOUCHING_GAP_PX, type VesicleDisc } from '../src/metrics/touchingRecall.js';
import { Detector, type Detections } from '../src/model/detector.js';
import { dbscanBaseline, type BaselineResult } from '../src/ops/baseline.js';
import { cocoEval } from '../src/ops/cocoEval.js';
import { resolveCdvParams } from '../src/sim/cdv.js';
import { writeCdvDataset } from '../src/sim/cdvDataset.js';
import { machine, table } from './harness.js';
import { addCounts, boxCentres, fragmented, matchPoints, prf, type PointCounts } from './metrics.js';
import { moviePercentiles, picassoStructures, readTiffFrames, SMLM_SETS, stretchTo8bit } from './smlmFrames.js';
import { ensureBackends } from '../src/backends/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(REPO, 'models/cdv-yolov6-tiny.onnx');
const SHARED_SMLM = resolve(process.env.MASKBOX_SHARED ?? resolve(REPO, '..', 'shared'), 'fixtures/smlm');
const CACHE = '/tmp/maskbox-bench/detectVsBaseline';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const nArg = argv.indexOf('--n');
const N_IMAGES = nArg >= 0 ? Number(argv[nArg + 1]) : QUICK ? 1 : 5;
const WRITE = !QUICK && !argv.includes('--no-write');
const MAX_FRAMES = QUICK ? 20 : Infinity;

const SEED = 4040;
const DENSITIES = [10, 30, 60]; // vesicles per megapixel: 42, 126, 252 per 2048² image (lab range 8–40)
const GAPS = [
  { level: 'apart', minGap: 8 },
  { level: 'close', minGap: 3 },
  { level: 'touching', minGap: 0 },
] as const;
/** Probability that a vesicle is placed next to an earlier one, at a gap in [minGap, minGap + 2]. */
const PAIRED = 0.3;
const DET = { conf: 0.4, iou: 0.45 } as const; // the lab's operating point (boxes, pair recall, timing)
const DET_EVAL = { conf: 0.001, iou: 0.45, maxDetections: 5000 } as const; // for AP, as YOLO's val.py
const MAX_DETS = [1, 100, 10000]; // COCO maxDets; summary 'largest' (hundreds of vesicles per image)
const SMLM_R = 2; // px (camera pixels) for point matching

const METHOD = `
## Method

**Simulated sets.** \`writeCdvDataset\` (= \`maskbox simulate cdv\`), lab preset, 2048x2048 8-bit PNG, ${N_IMAGES}
image(s) per set, seed ${SEED} + set index, written once to ${CACHE}/ and reused when seed, count and
parameters match. Each set fixes \`density\` (${DENSITIES.join(', ')} vesicles per megapixel) and \`minGap\`
(${GAPS.map((g) => `${g.level} ${g.minGap} px`).join(', ')}), with \`touching\` = ${PAIRED}: that fraction of vesicles is
placed next to an earlier one at an edge gap drawn in [minGap, minGap + 2] px; the rest are uniform with
gap >= minGap. Everything else is the lab preset's ranges (box side 1.2–2 % of the image, noise, clutter…).

**Methods.** Detector: \`Detector.load('${MODEL.slice(REPO.length + 1)}')\`, CPU, letterbox 640. Boxes, pair
recall and speed at the lab's operating point (conf ${DET.conf}, iou ${DET.iou}); AP from a second, untimed pass
at conf ${DET_EVAL.conf} (as YOLO's val.py), up to ${DET_EVAL.maxDetections} boxes. Baseline: \`dbscanBaseline(image)\`
with the lab's settings (BASELINE_DEFAULTS: scale 'unit', 5 passes, DBSCAN eps 3 / min_samples 2, box
\`[min, max + 1]\` of the cluster's pixels), on the backend the registry picks (reported above). Its score is
the cluster's size n as n/(n+100) (\`baselineScore\`; a second table ranks by the raw size, the same order).

**AP, AP50.** \`cocoEval\` (pycocotools semantics), bbox, per set, maxDets ${JSON.stringify(MAX_DETS)} with summary
'largest' (AP uses ${MAX_DETS[2]} detections per image: with 100, as pycocotools' default, dense images
could not reach full recall and the baseline's clusters would be cut in raster order).

**Pair recall.** \`touchingPairRecall\` (src/metrics/touchingRecall.ts). A pair is two ground-truth
vesicles whose gap (centre distance minus both outer radii, the simulator's definition) is
<= minGap + 2 px — the band the paired vesicles are placed in; at the touching level (minGap 0) this is
exactly the **touching pairs** (gap <= 2 px, the simulator's \`touching\` flag). Detections are matched
one-to-one at IoU >= 0.5 (pycocotools' greedy matching, by score); a pair is recalled when both of its
vesicles are matched (hence by two distinct detections). *Merged*: one detection covers >= 50 % of each of
the two ground-truth boxes. *Split GT*: share of vesicles with two or more box centres inside their box
(fragmented into several detections).

**images/s.** Wall time of \`detect(image)\` / \`dbscanBaseline(image)\` from the decoded RGB image to
boxes (letterbox, inference, NMS, un-letterbox; resp. filter, DBSCAN, boxes), one timed pass per image
after one untimed warm-up, 1000 / median ms. The machine is shared and heavily loaded: rough numbers.

**SMLM movies** (/work/shared/fixtures/smlm): raw camera frames of single emitters, a different modality
(the model was trained on renderings of vesicles). Each 16-bit frame is read with sharp (\`{ page: i }\`,
\`grey16\`), stretched to 8 bits with one fixed linear map per movie (median -> 0, 99.9th percentile -> 255),
and given to both methods as a 1-channel image (the detector letterboxes it up to 640). A reference
emitter is found when a box centre lies within ${SMLM_R} camera px (one-to-one, nearest first); the mean offset of the matched pairs (prediction
minus reference) shows any systematic shift. Reference positions: Picasso — its *binding
sites* file has no frames (93 sites, each blinking in a few frames; Picasso's reference localizations run
to frame 990, this movie holds frames 0–99), so per-frame scoring uses Picasso's own localizations
(testdata_locs_reference.csv, frames 0–99: 30 localizations; a reference algorithm, not ground truth),
and a second table scores all frames pooled against the 9 DNA-origami structures the sites sit on
(each under a pixel across, so one point per structure); Deep-STORM — positions_demo1.csv
(nm / 100 nm px, 1-based frames, ~250 emitters per 64x64 frame: very dense); storm-analysis —
*_groundtruth.csv (0-based px, pixel centre at the integer). The coordinate conventions were checked on
the frames (intensity centroid within 0.01 px of each converted reference position).
`;

interface SetSpec {
  name: string;
  density: number;
  level: string;
  minGap: number;
  dir: string;
}

interface Geometry {
  seed: number;
  n: number;
  params: unknown;
  /** Per image, the vesicles' discs in annotation order. */
  images: VesicleDisc[][];
}

/** Backends the baseline ran on (reported). */
const baselineBackends = new Set<string>();

const sets: SetSpec[] = DENSITIES.flatMap((density) =>
  GAPS.map(({ level, minGap }) => ({
    name: `d${density}/${level}`,
    density,
    level,
    minGap,
    dir: join(CACHE, `d${density}-gap${minGap}-p${PAIRED}-s${SEED}-n${N_IMAGES}`),
  })),
);

/** Simulate a set into /tmp once; later runs reuse it when seed, size and parameters match. */
async function ensureSet(s: SetSpec, setIndex: number): Promise<Geometry> {
  const params = resolveCdvParams({ density: [s.density, s.density], minGap: s.minGap, touching: [PAIRED, PAIRED] });
  const seed = SEED + setIndex;
  const geoPath = join(s.dir, 'geometry.json');
  if (existsSync(geoPath)) {
    const g = JSON.parse(await readFile(geoPath, 'utf8')) as Geometry;
    if (g.seed === seed && g.n === N_IMAGES && JSON.stringify(g.params) === JSON.stringify(params)) return g;
  }
  await rm(s.dir, { recursive: true, force: true });
  await mkdir(s.dir, { recursive: true });
  const images: VesicleDisc[][] = [];
  const t = performance.now();
  await writeCdvDataset(params, {
    n: N_IMAGES,
    out: s.dir,
    seed,
    format: 'png',
    onImage: (_, img) => images.push(img.vesicles.map(({ cx, cy, radius }) => ({ cx, cy, radius }))),
  });
  const g: Geometry = { seed, n: N_IMAGES, params, images };
  await writeFile(geoPath, JSON.stringify(g));
  console.error(`simulated ${s.name} (${N_IMAGES} images) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return g;
}

function xyxyToCoco(boxes: Float32Array, scores: ArrayLike<number>, imageId: number) {
  const out = [];
  for (let i = 0; i < boxes.length / 4; i++) {
    const [x1, y1, x2, y2] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
    out.push({ image_id: imageId, category_id: 1, bbox: [x1, y1, x2 - x1, y2 - y1], score: scores[i]! });
  }
  return out;
}

function gtBoxes(gt: CocoGroundTruth, imageId: number): Float32Array {
  const anns = gt.annotations.filter((a) => a.imageId === imageId);
  return Float32Array.from(anns.flatMap((a) => [a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, d = 3) => (Number.isNaN(x) ? '–' : x.toFixed(d));

interface MethodStats {
  ap: number;
  ap50: number;
  pairs: number;
  recalled: number;
  merged: number;
  ms: number[];
  boxes: number;
  /** Fraction of ground-truth vesicles with >= 2 box centres inside. */
  split: number;
}

async function evalSet(s: SetSpec, setIndex: number, det: Detector) {
  const geo = await ensureSet(s, setIndex);
  const gt = await readCocoGroundTruth(join(s.dir, 'annotations.json'));
  const maxGap = s.minGap + TOUCHING_GAP_PX; // the band pairs are placed in; = touching threshold at minGap 0
  const acc = {
    det: { ms: [] as number[], pairs: 0, recalled: 0, merged: 0, boxes: 0, split: 0, res: [] as object[] },
    base: {
      ms: [] as number[],
      pairs: 0,
      recalled: 0,
      merged: 0,
      boxes: 0,
      split: 0,
      res: [] as object[],
      bySize: [] as object[],
    },
  };
  let touchingPairsAll = 0;
  for (const im of gt.images) {
    const img: RawImage = await readImage(join(s.dir, 'images', im.fileName!));
    if (img.bitDepth !== 8) throw new Error(`${im.fileName}: expected an 8-bit PNG`);
    const discs = geo.images[im.id - 1]!;
    const g = gtBoxes(gt, im.id);
    if (g.length / 4 !== discs.length)
      throw new Error(`${s.name}: geometry and annotations disagree on image ${im.id}`);
    const pairs = touchingPairs(discs, maxGap);
    touchingPairsAll += touchingPairs(discs, TOUCHING_GAP_PX).length / 2;

    let t = performance.now();
    const d: Detections = await det.detect(img, DET);
    acc.det.ms.push(performance.now() - t);
    const dEval = await det.detect(img, DET_EVAL);
    acc.det.res.push(...xyxyToCoco(dEval.boxes, dEval.scores, im.id));
    acc.det.boxes += d.scores.length;
    const rd = touchingPairRecall(g, pairs, d.boxes, d.scores);
    acc.det.pairs += rd.pairs;
    acc.det.recalled += rd.recalled;
    acc.det.merged += rd.merged;
    acc.det.split += fragmented(g, boxCentres(d.boxes));

    t = performance.now();
    const b: BaselineResult = await dbscanBaseline({
      data: img.data as Uint8Array,
      width: img.width,
      height: img.height,
      channels: img.channels,
    });
    acc.base.ms.push(performance.now() - t);
    baselineBackends.add(b.backend);
    const K = b.sizes.length;
    acc.base.res.push(...xyxyToCoco(b.boxes, b.scores, im.id));
    acc.base.bySize.push(...xyxyToCoco(b.boxes, b.sizes, im.id));
    acc.base.boxes += K;
    const rb = touchingPairRecall(g, pairs, b.boxes);
    acc.base.pairs += rb.pairs;
    acc.base.recalled += rb.recalled;
    acc.base.merged += rb.merged;
    acc.base.split += fragmented(g, boxCentres(b.boxes));
  }
  const coco = async (res: object[], label: string) =>
    (await cocoEval(gt, parseCocoResults(res, gt, label), { maxDets: MAX_DETS, summary: 'largest' })).stats;
  const dStats = await coco(acc.det.res, 'detector');
  const bStats = await coco(acc.base.res, 'baseline');
  const sStats = await coco(acc.base.bySize, 'baseline by size');
  const n = gt.images.length;
  const stat = (a: typeof acc.det, st: { AP: number; AP50: number }): MethodStats => ({
    ap: st.AP,
    ap50: st.AP50,
    pairs: a.pairs,
    recalled: a.recalled,
    merged: a.merged,
    ms: a.ms,
    boxes: a.boxes / n,
    split: a.split / (gt.annotations.length || 1),
  });
  return {
    set: s,
    images: n,
    gtPerImage: gt.annotations.length / n,
    touchingPairs: touchingPairsAll,
    maxGap,
    det: stat(acc.det, dStats),
    base: stat(acc.base, bStats),
    bySize: { ap: sStats.AP, ap50: sStats.AP50 },
  };
}

interface SmlmRow {
  name: string;
  size: string;
  frames: number;
  refs: number;
  truth: string;
  det: PointCounts & { boxes: number };
  base: PointCounts & { boxes: number };
  stretch: [number, number];
}

/** Point detection on one movie: detector at the operating point and the baseline, per frame. */
async function evalMovie(dir: string, spec: (typeof SMLM_SETS)[number], det: Detector, structures?: Float64Array) {
  const movie = await readTiffFrames(join(dir, spec.tif), MAX_FRAMES);
  const refs = await spec.load(dir, movie.frames.length);
  const [lo, hi] = moviePercentiles(movie, [50, 99.9]) as [number, number];
  const frames8 = stretchTo8bit(movie, lo, hi);
  const row: SmlmRow = {
    name: spec.name,
    size: `${movie.width}x${movie.height}`,
    frames: movie.frames.length,
    refs: refs.reduce((s, p) => s + p.length / 2, 0),
    truth: spec.truth,
    det: { tp: 0, fp: 0, fn: 0, dx: 0, dy: 0, boxes: 0 },
    base: { tp: 0, fp: 0, fn: 0, dx: 0, dy: 0, boxes: 0 },
    stretch: [lo, hi],
  };
  const allDet: number[] = [];
  const allBase: number[] = [];
  for (let k = 0; k < frames8.length; k++) {
    const img = { data: frames8[k]!, width: movie.width, height: movie.height, channels: 1 as const };
    const d = await det.detect(img, DET);
    const pd = boxCentres(d.boxes);
    addCounts(row.det, matchPoints(pd, refs[k]!, SMLM_R));
    row.det.boxes += d.scores.length;
    const b = await dbscanBaseline(img);
    const pb = boxCentres(b.boxes); // [min, max + 1] boxes: centres are pixel centres already
    addCounts(row.base, matchPoints(pb, refs[k]!, SMLM_R));
    row.base.boxes += b.sizes.length;
    allDet.push(...pd);
    allBase.push(...pb);
  }
  let siteCheck: string | undefined;
  if (structures) siteCheck = structureCheck(structures, refs, allDet, allBase);
  return { row, siteCheck };
}

/** Distance from each point to the nearest of `targets` is <= r? */
function within(points: ArrayLike<number>, targets: ArrayLike<number>, r: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < points.length; i += 2) {
    let hit = false;
    for (let j = 0; j < targets.length && !hit; j += 2)
      hit = Math.hypot(points[i]! - targets[j]!, points[i + 1]! - targets[j + 1]!) <= r;
    out.push(hit);
  }
  return out;
}

/**
 * Picasso's ground truth is 93 binding sites on 9 DNA-origami structures (each under a pixel across)
 * and has no frames. Scored over the whole movie, pooled: precision = points within R of a structure;
 * structures found = structures within R of some point in some frame, next to the same numbers for
 * Picasso's own localizations (what was on in these frames).
 */
function structureCheck(structures: Float64Array, refs: Float64Array[], det: number[], base: number[]): string {
  const locs = refs.flatMap((r) => [...r]);
  const frac = (xs: boolean[]) => (xs.length ? xs.filter(Boolean).length / xs.length : NaN);
  const found = (pts: number[]) => within(structures, pts, SMLM_R).filter(Boolean).length;
  const n = structures.length / 2;
  return table(
    [
      'points (all frames)',
      'count',
      `within ${SMLM_R} px of a structure`,
      `structures with a point within ${SMLM_R} px`,
    ],
    [
      [
        "Picasso's localizations",
        String(locs.length / 2),
        fmt(frac(within(locs, structures, SMLM_R))),
        `${found(locs)} / ${n}`,
      ],
      [
        'detector box centres',
        String(det.length / 2),
        fmt(frac(within(det, structures, SMLM_R))),
        `${found(det)} / ${n}`,
      ],
      [
        'baseline box centres',
        String(base.length / 2),
        fmt(frac(within(base, structures, SMLM_R))),
        `${found(base)} / ${n}`,
      ],
    ],
  );
}

ensureBackends();

async function main() {
  const started = performance.now();
  const load0 = loadavg()[0]!;
  const modelBytes = await readFile(MODEL);
  const modelId = `${MODEL.slice(REPO.length + 1)} (${(modelBytes.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(modelBytes).digest('hex').slice(0, 12)}, modified ${(await stat(MODEL)).mtime.toISOString().slice(0, 16)}Z)`;
  // Load the very bytes fingerprinted above (the model file may be replaced while this runs).
  const det = await Detector.load(modelBytes);
  const results: Awaited<ReturnType<typeof evalSet>>[] = [];
  for (let i = 0; i < sets.length; i++) {
    if (i === 0) {
      // Warm-up (session, thread pool) on the first set's first image, untimed.
      await ensureSet(sets[0]!, 0);
      const gt0 = await readCocoGroundTruth(join(sets[0]!.dir, 'annotations.json'));
      const img = await readImage(join(sets[0]!.dir, 'images', gt0.images[0]!.fileName!));
      await det.detect(img, DET);
    }
    const r = await evalSet(sets[i]!, i, det);
    results.push(r);
    console.error(
      `${r.set.name}: det AP ${fmt(r.det.ap)} base AP ${fmt(r.base.ap)} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }

  const rows: (string | number)[][] = [];
  for (const r of results) {
    for (const [method, m] of [
      ['detector', r.det],
      ['DBSCAN baseline', r.base],
    ] as const) {
      rows.push([
        r.set.name,
        r.gtPerImage.toFixed(0),
        `≤ ${r.maxGap} px: ${m.pairs}`,
        method,
        m.boxes.toFixed(0),
        fmt(m.ap),
        fmt(m.ap50),
        `${fmt(m.pairs ? m.recalled / m.pairs : NaN, 2)} (${m.recalled}/${m.pairs})`,
        `${m.merged}`,
        `${(100 * m.split).toFixed(0)} %`,
        (1000 / median(m.ms)).toFixed(2),
      ]);
    }
  }
  const header = [
    'set (density/gap)',
    'GT/img',
    'pairs (gap band)',
    'method',
    'boxes/img',
    'AP',
    'AP50',
    'pair recall',
    'merged pairs',
    'split GT',
    'images/s',
  ];
  const mainTable = table(header, rows);
  const sizeTable = table(
    ['set', 'baseline AP (score n/(n+100))', 'AP50', 'baseline AP (score = cluster pixels n)', 'AP50'],
    results.map((r) => [r.set.name, fmt(r.base.ap), fmt(r.base.ap50), fmt(r.bySize.ap), fmt(r.bySize.ap50)]),
  );
  const touchRows = results
    .filter((r) => r.set.minGap === 0)
    .map((r) => [
      r.set.name,
      String(r.touchingPairs),
      `${fmt(r.det.recalled / r.det.pairs, 2)} (${r.det.recalled}/${r.det.pairs})`,
      `${fmt(r.base.recalled / r.base.pairs, 2)} (${r.base.recalled}/${r.base.pairs})`,
      `${r.det.merged} / ${r.base.merged}`,
    ]);
  const touchTable = table(
    ['set', 'touching pairs (gap ≤ 2 px)', 'detector recall', 'baseline recall', 'merged: detector / baseline'],
    touchRows,
  );
  const allMs = (k: 'det' | 'base') => results.flatMap((r) => r[k].ms);
  const speed = table(
    ['method', 'images', 'median ms/image', 'images/s (median)', 'images/s (total)'],
    (['det', 'base'] as const).map((k) => {
      const ms = allMs(k);
      return [
        k === 'det' ? 'detector (conf 0.4)' : 'DBSCAN baseline',
        String(ms.length),
        median(ms).toFixed(0),
        (1000 / median(ms)).toFixed(2),
        ((1000 * ms.length) / ms.reduce((a, b) => a + b, 0)).toFixed(2),
      ];
    }),
  );

  let smlm = '';
  if (!existsSync(SHARED_SMLM)) {
    smlm = `SMLM check skipped: ${SHARED_SMLM} not found.\n`;
  } else {
    const smlmRows: (string | number)[][] = [];
    let siteTable = '';
    for (const spec of SMLM_SETS) {
      if (!existsSync(join(SHARED_SMLM, spec.tif))) {
        smlmRows.push([spec.name, '–', '–', '–', 'skipped: file absent', '', '', '', '', '']);
        continue;
      }
      const isPicasso = spec.name.startsWith('picasso');
      const { row, siteCheck } = await evalMovie(
        SHARED_SMLM,
        spec,
        det,
        isPicasso ? (await picassoStructures(SHARED_SMLM)).centres : undefined,
      );
      if (siteCheck) siteTable = siteCheck;
      for (const [method, c] of [
        ['detector', row.det],
        ['DBSCAN baseline', row.base],
      ] as const) {
        const p = prf(c);
        const off = c.tp ? `${(c.dx / c.tp).toFixed(2)}, ${(c.dy / c.tp).toFixed(2)}` : '–';
        smlmRows.push([
          row.name,
          `${row.size}x${row.frames}`,
          String(row.refs),
          method,
          String(c.boxes),
          String(c.tp),
          fmt(p.precision),
          fmt(p.recall),
          fmt(p.f1),
          off,
        ]);
      }
      console.error(`${spec.name}: done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    smlm =
      table(
        [
          'movie',
          'size x frames',
          'reference emitters',
          'method',
          'boxes',
          `matched (≤ ${SMLM_R} px)`,
          'precision',
          'recall',
          'F1',
          'mean offset x, y (px)',
        ],
        smlmRows,
      ) +
      (siteTable
        ? `\n\nPicasso against its ground truth (93 binding sites on 9 structures), all ${QUICK ? MAX_FRAMES : 100} frames pooled:\n\n${siteTable}`
        : '');
  }

  const load1 = loadavg()[0]!;
  const elapsed = (performance.now() - started) / 1000;
  const head = [
    `${machine()}; load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end; onnxruntime-node ${det.provider}; baseline backend ${[...baselineBackends].join(', ')}; ${elapsed.toFixed(0)} s in all.`,
    `${N_IMAGES} image(s) per set, 2048x2048 PNG (lab preset), seed ${SEED}+set; model ${modelId}.`,
  ].join('\n');
  const report = [
    head,
    '',
    mainTable,
    '',
    "Touching pairs (gap ≤ 2 px, the simulator's `touching` flag), at the touching level:",
    '',
    touchTable,
    '',
    'Baseline AP by score: \`baselineScore\` n/(n+100) (above) and the raw cluster size n rank clusters the same way, so the two must agree:',
    '',
    sizeTable,
    '',
    'Speed over all sets (decoded image -> boxes, one timed pass per image):',
    '',
    speed,
    '',
    'SMLM movies (point detection, box centre within 2 camera px, one-to-one):',
    '',
    smlm,
  ].join('\n');
  console.log(report);
  if (WRITE) await writeResults(report);
  await det.dispose();
}

async function writeResults(report: string) {
  const path = join(REPO, 'benchmarks/results/detectVsBaseline.md');
  await writeFile(
    path,
    `# Detector vs DBSCAN baseline\n\nGenerated by \`npx tsx benchmarks/detectVsBaseline.bench.ts\`.\n\n${report}\n${METHOD}`,
  );
  console.error(`wrote ${path}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
