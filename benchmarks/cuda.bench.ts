/**
 * The cuda backend against cpu, same inputs, same process (the ratios issue 17 asks for), end to end
 * from host arrays (every op uploads its inputs and downloads its outputs; device-resident chaining is
 * not in these numbers). Sizes are the targets: NMS 10k and 100k YOLO-like boxes, logits
 * [29, 512, 512] -> 2048² RLE, letterbox 2048² RGB -> 640, resize [29, 512, 512] -> 2048², dbscan 1M 2-D
 * points (blobs + noise), the DBSCAN baseline on a 2048² RGB image.
 * Meaningful only on a GPU build: on the CPU emulation (maskbox-emu.node) it refuses to time cuda unless
 * MASKBOX_BENCH_EMU=1 (the emulation's speed says nothing about a GPU's). native/cuda/test/gpu-check.sh
 * runs it on a lent GPU.
 * Run: npx tsx benchmarks/cuda.bench.ts [--quick]
 */
import { nms } from '../src/ops/nms.js';
import { logitsToRle } from '../src/ops/logitsToRle.js';
import { letterbox } from '../src/ops/letterbox.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { dbscan } from '../src/ops/dbscan.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { backendStatus } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { machine, table, timeit, yoloLikeBoxes } from './harness.js';
import { rng } from '../test/helpers.js';

const quick = process.argv.includes('--quick');
ensureBackends();
const st = backendStatus('cuda');
const emulated = st.software === true;
if (!st.available || (emulated && process.env.MASKBOX_BENCH_EMU !== '1')) {
  console.log(`cuda benchmark skipped: ${st.available ? 'the cuda backend is the CPU emulation' : st.reason}`);
  process.exit(0);
}
const backends = ['cpu', 'cuda'] as const;
const repeats = quick ? 3 : 7;
const r = rng(17);

const cases: { name: string; run: (b: (typeof backends)[number]) => Promise<unknown> }[] = [];
for (const n of quick ? [10_000] : [10_000, 100_000]) {
  const { boxes, scores } = yoloLikeBoxes(n, 3);
  cases.push({ name: `nms ${n} boxes`, run: (backend) => nms(boxes, scores, { iouThreshold: 0.5, backend }) });
}
const [C, h, w, H, W] = quick ? [4, 128, 128, 512, 512] : [29, 512, 512, 2048, 2048];
const logits = Float32Array.from({ length: C * h * w }, () => r() * 20 - 10);
cases.push({
  name: `logitsToRle [${C},${h},${w}] -> ${H}²`,
  run: (backend) => logitsToRle(logits, [C, h, w], [H, W], { backend }),
});
cases.push({
  name: `resize [${C},${h},${w}] -> ${H}²`,
  run: (backend) => resizeBilinear(logits, [C, h, w], [H, W], { backend }),
});
const side = quick ? 512 : 2048;
const image = {
  data: Uint8Array.from({ length: side * side * 3 }, () => Math.floor(r() * 256)),
  width: side,
  height: side,
  channels: 3,
};
cases.push({ name: `letterbox ${side}² RGB -> 640`, run: (backend) => letterbox(image, { size: 640, backend }) });

// DBSCAN: blobs of float64 points plus uniform noise (eps 0.5, minSamples 5, ~20 neighbours per blob point).
const points = quick ? 100_000 : 1_000_000;
const pts = new Float64Array(2 * points);
for (let i = 0; i < points; i++) {
  const blob = i % 5 !== 0;
  const cx = blob ? Math.floor(r() * 200) * 10 : 0;
  const cy = blob ? Math.floor(r() * 200) * 10 : 0;
  pts[2 * i] = cx + (blob ? r() * 3 : r() * 2000);
  pts[2 * i + 1] = cy + (blob ? r() * 3 : r() * 2000);
}
cases.push({ name: `dbscan ${points} points`, run: (backend) => dbscan(pts, { eps: 0.5, minSamples: 5, backend }) });
// The baseline: bright discs on a dark, noisy background (the image above is uniform noise: no blobs).
const blobs = Uint8Array.from({ length: side * side * 3 }, () => Math.floor(r() * 24));
for (let b = 0; b < 400; b++) {
  const cx = Math.floor(r() * side),
    cy = Math.floor(r() * side),
    rad = 2 + Math.floor(r() * 12);
  for (let y = Math.max(0, cy - rad); y < Math.min(side, cy + rad); y++)
    for (let x = Math.max(0, cx - rad); x < Math.min(side, cx + rad); x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) blobs.fill(220, 3 * (y * side + x), 3 * (y * side + x) + 3);
}
const blobImage = { data: blobs, width: side, height: side, channels: 3 };
cases.push({ name: `baseline ${side}² RGB, 400 discs`, run: (backend) => dbscanBaseline(blobImage, { backend }) });

const rows: (string | number)[][] = [];
for (const c of cases) {
  const t: number[] = [];
  for (const b of backends) t.push((await timeit(() => c.run(b), repeats)).median);
  rows.push([c.name, t[0]!, t[1]!, t[0]! / t[1]!]);
}
console.log(`Machine: ${machine()}; cuda: ${st.device ?? st.reason}${emulated ? ' (EMULATED: not GPU speed)' : ''}`);
console.log(`Median of ${repeats} runs, ms, end to end from host arrays.\n`);
console.log(table(['case', 'cpu ms', 'cuda ms', 'cpu / cuda'], rows));
