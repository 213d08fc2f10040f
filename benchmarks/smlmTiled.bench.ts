/**
 * The bundled detector on the third-party SMLM movies (/work/shared/fixtures/smlm; ../shared/SOURCES.md)
 * with and without sliced inference (issue 15): emitters found as point detection (a box centre within
 * 2 camera px of a reference emitter, one-to-one), per frame, with the frames read and stretched to 8 bits
 * as detectVsBaseline.bench.ts does (median -> 0, 99.9th percentile -> 255, one map per movie).
 *
 * These are raw camera frames of single emitters, not renderings of vesicles: a modality the model never
 * saw. A tile of T px is letterboxed to 640, so tiles set the zoom: `--tile 64` shows a 64 px window at
 * 10x, a 256 px frame in full at 2.5x.
 *
 * Usage: npx tsx benchmarks/smlmTiled.bench.ts [--model M.onnx] [--frames 20] [--configs full,auto,128,64]
 *   [--conf 0.4] [--out FILE.md]
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Detector, type DetectorDetectOptions } from '../src/model/detector.js';
import { machine, table } from './harness.js';
import { addCounts, boxCentres, matchPoints, prf } from './metrics.js';
import { moviePercentiles, readTiffFrames, SMLM_SETS, stretchTo8bit } from './smlmFrames.js';
import { ensureBackends } from '../src/backends/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_SMLM = resolve(process.env.MASKBOX_SHARED ?? resolve(REPO, '..', 'shared'), 'fixtures/smlm');
const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const MODEL = arg('--model') ?? join(REPO, 'models/cdv-yolov6-tiny.onnx');
const FRAMES = Number(arg('--frames') ?? 20);
const CONF = Number(arg('--conf') ?? 0.4);
const OUT = arg('--out');
const R = 2; // camera px
const configs = (arg('--configs') ?? 'full,auto,128,64').split(',');
const options = (c: string): DetectorDetectOptions =>
  c === 'full' ? {} : c === 'auto' ? { tile: 'auto' } : { tile: Number(c) };

ensureBackends();

async function main(): Promise<void> {
  if (!existsSync(SHARED_SMLM)) {
    process.stdout.write(`skipped: ${SHARED_SMLM} not found\n`);
    return;
  }
  const det = await Detector.load(MODEL);
  const rows: (string | number)[][] = [];
  const started = performance.now();
  for (const spec of SMLM_SETS) {
    if (!existsSync(join(SHARED_SMLM, spec.tif))) continue;
    const movie = await readTiffFrames(join(SHARED_SMLM, spec.tif), FRAMES);
    const refs = await spec.load(SHARED_SMLM, movie.frames.length);
    const [lo, hi] = moviePercentiles(movie, [50, 99.9]) as [number, number];
    const frames8 = stretchTo8bit(movie, lo, hi);
    const nRefs = refs.reduce((s, p) => s + p.length / 2, 0);
    for (const c of configs) {
      const counts = { tp: 0, fp: 0, fn: 0, dx: 0, dy: 0 };
      let boxes = 0;
      const ms: number[] = [];
      for (let k = 0; k < frames8.length; k++) {
        const img = { data: frames8[k]!, width: movie.width, height: movie.height, channels: 1 as const };
        const t0 = performance.now();
        const d = await det.detect(img, { ...options(c), conf: CONF });
        ms.push(performance.now() - t0);
        boxes += d.scores.length;
        addCounts(counts, matchPoints(boxCentres(d.boxes), refs[k]!, R));
      }
      const m = prf(counts);
      const sorted = ms.sort((a, b) => a - b);
      const f = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));
      rows.push([
        spec.name,
        `${movie.width}x${movie.height}x${frames8.length}`,
        String(nRefs),
        c,
        String(boxes),
        String(counts.tp),
        f(m.precision),
        f(m.recall),
        f(m.f1),
        (1000 / sorted[Math.floor(sorted.length / 2)]!).toFixed(1),
      ]);
      process.stderr.write(`${rows.at(-1)!.join(' | ')}\n`);
    }
  }
  await det.dispose();
  const text = [
    '# Bundled detector on third-party SMLM movies, with and without tiles',
    '',
    `${machine()}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(
        ' ',
      )}; ${((performance.now() - started) / 1000).toFixed(0)} s; model ${MODEL.startsWith(REPO) ? MODEL.slice(REPO.length + 1) : MODEL}; conf ${CONF}.`,
    `First ${FRAMES} frames of each movie; a reference emitter is found when a box centre lies within ${R} camera px`,
    '(one-to-one, nearest first). Configs: `full` one letterboxed pass; `auto` `--tile auto` (no tiles on',
    'frames this small: autoTile tiles only frames over 1.25 x 1440 px); `128`, `64` tiles of that many px.',
    '',
    table(['movie', 'size', 'references', 'tiling', 'boxes', 'matched', 'precision', 'recall', 'F1', 'frames/s'], rows),
    '',
  ].join('\n');
  process.stdout.write(text);
  if (OUT) {
    await mkdir(dirname(resolve(OUT)), { recursive: true });
    await writeFile(OUT, text);
  }
}

await main();
