/**
 * Batch runner throughput and memory: `maskbox detect`'s pipeline with an instant fake model on 50
 * 2048x2048 PNGs (simulated CDV renderings: 10 simulated images, each copied 5 times), writing the lab's
 * CSV per image. Decode-bound: compares with sequential `readImage` alone (the floor the runner must not
 * fall below), shows the overlap of decoding with a 100 ms "inference" (off-thread, like onnxruntime),
 * and checks that peak memory does not grow with the number of images (10, 50, 150; one fresh process
 * each), and with `--trace N` prints memory every 50 images of one N-image run.
 * Run: node --expose-gc --import tsx benchmarks/runnerMemory.bench.ts [--repeats 3] [--trace 300]
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { main } from '../src/cli/index.js';
import { readImage } from '../src/io/image.js';
import { perImageCsvSink } from '../src/pipeline/detectionSinks.js';
import type { ImageInput } from '../src/pipeline/inputs.js';
import { runBatch, type DecodedImage } from '../src/pipeline/runner.js';
import { machine, table } from './harness.js';

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 3;
const DIR = join(tmpdir(), 'maskbox-bench-pipeline');
const IMAGES = join(DIR, 'png50');

async function prepare(): Promise<string[]> {
  if (!existsSync(IMAGES) || readdirSync(IMAGES).length < 50) {
    const sim = join(DIR, 'sim');
    const quiet = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await main(['simulate', 'cdv', '--n', '10', '--format', 'png', '--seed', '7', '--out', sim]);
    } finally {
      process.stdout.write = quiet;
    }
    mkdirSync(IMAGES, { recursive: true });
    const src = readdirSync(join(sim, 'images')).sort();
    for (let k = 0; k < 50; k++)
      copyFileSync(join(sim, 'images', src[k % src.length]!), join(IMAGES, `img_${String(k).padStart(3, '0')}.png`));
  }
  return readdirSync(IMAGES)
    .sort()
    .slice(0, 50)
    .map((f) => join(IMAGES, f));
}

const instant = { detect: async (im: DecodedImage) => fake(im) };
const slow = (ms: number) => ({
  detect: async (im: DecodedImage) => (await new Promise((r) => setTimeout(r, ms)), fake(im)),
});
function fake(im: DecodedImage) {
  // 100 boxes, like a dense vesicle image
  const boxes = new Float32Array(400);
  for (let i = 0; i < 100; i++) boxes.set([i * 20, i * 20, i * 20 + 30.5, i * 20 + 29.5], 4 * i);
  return { boxes: boxes.map((v) => Math.min(v, im.width)), scores: new Float32Array(100).fill(0.75) };
}

/** Run the pipeline; returns images/s and memory peaks (MiB) sampled every 10 ms. */
async function run(
  inputs: () => AsyncIterable<ImageInput> | ImageInput[],
  det: typeof instant,
  prefetch: number,
  concurrency = 1,
) {
  const out = join(DIR, 'out');
  rmSync(out, { recursive: true, force: true });
  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakExt = base.external + base.arrayBuffers;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakExt = Math.max(peakExt, m.external + m.arrayBuffers);
  }, 10);
  const s = await runBatch({
    inputs: inputs(),
    processor: { process: (j) => det.detect(j.image) },
    sinks: [perImageCsvSink(out)],
    prefetch,
    concurrency,
    progress: false,
  });
  clearInterval(timer);
  if (s.failed) throw new Error(`${s.failed} failed: ${s.failures[0]?.message}`);
  return {
    ips: s.imagesPerSecond,
    n: s.processed,
    baseRss: base.rss / 2 ** 20,
    peakRss: peakRss / 2 ** 20,
    peakExt: peakExt / 2 ** 20,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const files = await prepare();
/** `n` inputs: the 50 files cycled under distinct names (distinct outputs). */
const inputsN = (n: number) => () =>
  Array.from({ length: n }, (_, k): ImageInput => {
    const p = files[k % files.length]!;
    return { name: `r${Math.floor(k / files.length)}/${k}.png`, origin: p, path: p, read: () => readFile(p) };
  });

const traceArg = process.argv.indexOf('--trace');
if (traceArg >= 0) {
  // Memory over one long run: RSS / JS heap / external buffers every 50 images (flat = no growth with n).
  const n = Number(process.argv[traceArg + 1]) || 300;
  const out = join(DIR, 'out-trace');
  rmSync(out, { recursive: true, force: true });
  const rowsT: (string | number)[][] = [];
  const mb = (b: number) => b / 2 ** 20;
  let done = 0;
  await runBatch({
    inputs: inputsN(n)(),
    processor: { process: (j) => instant.detect(j.image) },
    sinks: [perImageCsvSink(out)],
    progress: false,
    onResult: () => {
      if (++done % 50 === 0) {
        const m = process.memoryUsage();
        rowsT.push([done, mb(m.rss), mb(m.heapUsed), mb(m.external + m.arrayBuffers)]);
      }
    },
  });
  console.log(table(['images done', 'RSS MiB', 'JS heap used MiB', 'external MiB'], rowsT));
  process.exit(0);
}

const memArg = process.argv.indexOf('--mem');
if (memArg >= 0) {
  // Child mode: one fresh process per input count, so RSS is not inherited from earlier runs.
  const n = Number(process.argv[memArg + 1]);
  const r = await run(inputsN(n), instant, 2);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

// Floor: sequential decode only.
const floor: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  for (const f of files) await readImage(f);
  floor.push((files.length * 1000) / (performance.now() - t));
}

const rows: (string | number)[][] = [['readImage alone, sequential (floor)', '-', median(floor), '-', '-']];
for (const [label, det, prefetch] of [
  ['runner, instant model', instant, 0],
  ['runner, instant model', instant, 2],
  ['runner, instant model', instant, 4],
  ['runner, 100 ms model', slow(100), 0],
  ['runner, 100 ms model', slow(100), 2],
] as const) {
  const res = [];
  for (let r = 0; r < repeats; r++) res.push(await run(inputsN(50), det, prefetch));
  rows.push([
    label,
    prefetch,
    median(res.map((x) => x.ips)),
    Math.max(...res.map((x) => x.peakRss)),
    Math.max(...res.map((x) => x.peakExt)),
  ]);
}
const mem: (string | number)[][] = [];
for (const n of [10, 50, 150]) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--mem', String(n)], {
    encoding: 'utf8',
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  const r = JSON.parse(line) as Awaited<ReturnType<typeof run>>;
  mem.push([n, r.n, r.ips, r.baseRss, r.peakRss, r.peakExt]);
}

console.log(
  `## Batch runner (detect pipeline), ${files.length} PNGs 2048x2048 RGB (~3.3 MB each)\n\n${machine()}; load average ${loadavg()[0]!.toFixed(1)}; medians of ${repeats} runs; concurrency 1\n`,
);
console.log(table(['mode', 'prefetch', 'images/s', 'peak RSS MiB', 'peak external MiB'], rows));
console.log('\n### Memory vs number of images (instant model, prefetch 2, one fresh process per row)\n');
console.log(table(['inputs', 'processed', 'images/s', 'RSS before MiB', 'peak RSS MiB', 'peak external MiB'], mem));
