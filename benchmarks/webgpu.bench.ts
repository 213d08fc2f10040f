/**
 * WebGPU kernels beside the js and cpu backends, at the cpu targets' sizes where the adapter allows,
 * with upload, kernel and readback reported separately. The end-to-end time is measured; upload is
 * the time to write the op's inputs to the device (queue.writeBuffer + onSubmittedWorkDone) and
 * readback the time to copy and map what the op reads back (its kept indices or runs), each measured
 * alone on the same byte counts; kernel = end-to-end - upload - readback (it includes the small
 * count readbacks between stages and the host-side formatting). Outputs are checked equal to the
 * js reference before timing. Run: VK_DRIVER_FILES=... npx tsx benchmarks/webgpu.bench.ts [--quick]
 * (scripts/setup-lavapipe.sh prints the file on a machine without a GPU). `--large`: only NMS 100k
 * boxes and DBSCAN 1M points (pixel-like and fractional), each timed once (minutes on lavapipe).
 */
import { backendStatus, getKernel, initBackends } from '../src/backends/registry.js';
import { wireBackends } from '../src/backends/index.js';
import type { GpuContext } from '../src/backends/webgpu/context.js';
import { registerKernels } from '../src/backends/registry.js';
import { sigmoidCutoff } from '../src/ops/logitsToRle.js';
import { machine, table, timeit, yoloLikeBoxes } from './harness.js';

wireBackends();
await initBackends();
const gpu = backendStatus('webgpu');
if (!gpu.available) {
  console.log(`webgpu unavailable: ${gpu.reason}`);
  process.exit(0);
}
const quick = process.argv.includes('--quick');
/** `--new`: only the preprocessing / baseline section (short runs on a shared machine). */
const onlyNew = process.argv.includes('--new');
/** `--large`: only the 100k-box NMS and 1M-point DBSCAN rows, one timed run each (`--no-nms`: DBSCAN only). */
const onlyLarge = process.argv.includes('--large');
const skipNms = process.argv.includes('--no-nms');

// The device context, reached through a kernel (the registry hands contexts to kernels only).
let ctx: GpuContext | null = null;
registerKernels([
  { op: 'iou', backend: 'webgpu', run: (_a: unknown, c: GpuContext) => ((ctx = c), new Float32Array(0)) },
]);
await getKernel('iou', 'webgpu')!.run({ a: new Float32Array(0), b: new Float32Array(0) });
const dev = ctx!;

async function uploadMs(bytes: number): Promise<number> {
  const data = new Uint8Array(bytes);
  return (
    await timeit(async () => {
      const b = dev.upload(data);
      await dev.device.queue.onSubmittedWorkDone();
      dev.release(b);
    }, 5)
  ).median;
}

async function readbackMs(bytes: number): Promise<number> {
  const b = dev.scratch(Math.max(4, bytes));
  const t = (await timeit(() => dev.read(b, Math.max(4, bytes)), 5)).median;
  dev.release(b);
  return t;
}

const rows: (string | number)[][] = [];
/** One row: end-to-end times per backend, and the webgpu time split into upload, kernel, readback. */
function addRow(label: string, t: { js: number; cpu: number; webgpu: number }, up: number, down: number): void {
  rows.push([label, t.js, t.cpu, t.webgpu, up, t.webgpu - up - down, down]);
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

for (const n of onlyNew || skipNms ? [] : onlyLarge ? [100_000] : quick ? [2_000] : [10_000]) {
  const { boxes, scores } = yoloLikeBoxes(n);
  const args = {
    boxes,
    scores,
    classes: null,
    iouThreshold: 0.45,
    scoreThreshold: -Infinity,
    maxCandidates: n,
    maxDetections: n,
  };
  const ref = await getKernel('nms', onlyLarge ? 'cpu' : 'js')!.run(args);
  const got = await getKernel('nms', 'webgpu')!.run(args);
  if (!same(Array.from(ref), Array.from(got))) throw new Error(`nms ${n}: webgpu differs from js`);
  const repeats = onlyLarge ? 1 : 3;
  const t = {
    js: onlyLarge ? NaN : (await timeit(() => getKernel('nms', 'js')!.run(args), repeats)).median,
    cpu: (await timeit(() => getKernel('nms', 'cpu')!.run(args), repeats, onlyLarge ? 0 : 1)).median,
    webgpu: (await timeit(() => getKernel('nms', 'webgpu')!.run(args), repeats, onlyLarge ? 0 : 1)).median,
  };
  const up = await uploadMs(n * 20);
  const down = await readbackMs((got.length + 1) * 4);
  addRow(`nms ${n} boxes (${got.length} kept)`, t, up, down);
}

const segSizes: [number, number, number, number][] = quick
  ? [[29, 64, 64, 256]]
  : [
      [29, 128, 128, 512],
      [29, 512, 512, 2048],
    ];
for (const [c, h, w, out] of onlyNew || onlyLarge ? [] : segSizes) {
  let s = 7;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 4294967296);
  const data = new Float32Array(c * h * w);
  // Smooth blobs: a few bright discs per class, so masks have realistic runs.
  for (let k = 0; k < c; k++)
    for (let b = 0; b < 3; b++) {
      const cx = r() * w,
        cy = r() * h,
        rad = (0.05 + r() * 0.1) * w;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          data[k * h * w + y * w + x]! += Math.max(-1, 4 * (1 - Math.hypot(x - cx, y - cy) / rad)) - 0.5;
    }
  const args = {
    data,
    channels: c,
    inHeight: h,
    inWidth: w,
    outHeight: out,
    outWidth: out,
    cutoff: sigmoidCutoff(0.5),
  };
  const ref = await getKernel('logitsToRle', 'cpu')!.run(args);
  const got = await getKernel('logitsToRle', 'webgpu')!.run(args);
  if (!same(ref, got)) throw new Error(`logitsToRle ${c}x${h}x${w}: webgpu differs from cpu`);
  const repeats = out >= 2048 ? 1 : 3;
  const t = {
    js: out >= 2048 ? NaN : (await timeit(() => getKernel('logitsToRle', 'js')!.run(args), repeats)).median,
    cpu: (await timeit(() => getKernel('logitsToRle', 'cpu')!.run(args), repeats)).median,
    webgpu: (await timeit(() => getKernel('logitsToRle', 'webgpu')!.run(args), repeats, out >= 2048 ? 0 : 1)).median,
  };
  const runs = got.rle.reduce((a, x) => a + (x === '' ? 0 : x.split(' ').length / 2), 0);
  const up = await uploadMs(data.byteLength + 16 * out);
  const down = await readbackMs(runs * 8 + c * 8);
  addRow(`logitsToRle [${c},${h},${w}] -> ${out}² (${runs} runs)`, t, up, down);
}

// Masks with round blobs: dice (pred vs a shifted truth) and rleEncode, 29 classes.
for (const side of onlyNew || onlyLarge ? [] : quick ? [256] : [512, 2048]) {
  const classes = 29,
    pixels = side * side;
  const pred = new Uint8Array(classes * pixels),
    truth = new Uint8Array(classes * pixels);
  for (let c = 0; c < classes; c++) {
    const cx = ((c * 37) % 29) / 29,
      cy = ((c * 11) % 29) / 29,
      rad = 0.05 + (c % 5) * 0.02;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const d = Math.hypot(x / side - cx, y / side - cy);
        if (d < rad) pred[c * pixels + y * side + x] = 1;
        if (Math.hypot(x / side - cx - 0.01, y / side - cy) < rad) truth[c * pixels + y * side + x] = 1;
      }
  }
  const dargs = { pred: [pred], truth: [truth], classes, pixels };
  if (
    !same(
      Array.from(await getKernel('dice', 'cpu')!.run(dargs)),
      Array.from(await getKernel('dice', 'webgpu')!.run(dargs)),
    )
  )
    throw new Error('dice: webgpu differs from cpu');
  const reps = side >= 2048 ? 3 : 5;
  const dt = {
    js: (await timeit(() => getKernel('dice', 'js')!.run(dargs), reps)).median,
    cpu: (await timeit(() => getKernel('dice', 'cpu')!.run(dargs), reps)).median,
    webgpu: (await timeit(() => getKernel('dice', 'webgpu')!.run(dargs), reps)).median,
  };
  const dup = await uploadMs(2 * pred.length);
  const ddown = await readbackMs(classes * 12);
  addRow(`dice ${classes}x${side}²`, dt, dup, ddown);
  const rargs = { mask: pred, channels: classes, height: side, width: side, order: 'row' as const };
  const rref = await getKernel('rleEncode', 'cpu')!.run(rargs);
  const rgot = await getKernel('rleEncode', 'webgpu')!.run(rargs);
  if (
    !same(
      rref.map((r) => Array.from(r)),
      rgot.map((r) => Array.from(r)),
    )
  )
    throw new Error('rleEncode: webgpu differs');
  const nruns = rgot.reduce((acc, r) => acc + r.length / 2, 0);
  const rt = {
    js: (await timeit(() => getKernel('rleEncode', 'js')!.run(rargs), reps)).median,
    cpu: (await timeit(() => getKernel('rleEncode', 'cpu')!.run(rargs), reps)).median,
    webgpu: (await timeit(() => getKernel('rleEncode', 'webgpu')!.run(rargs), reps)).median,
  };
  const rup = await uploadMs(pred.length);
  const rdown = await readbackMs(nruns * 8 + classes * 8);
  addRow(`rleEncode ${classes}x${side}² (${nruns} runs)`, rt, rup, rdown);
}

// DBSCAN, 1M points off the pixel grid (./dbscanPoints.ts): pixel-like (integer blobs in a sparse
// 8192² frame, eps 3: every pair exactly 3 apart is ambiguous in f32 and decided on the host) and
// fractional (uniform, ~8 neighbours each). One timed run each after a checked one.
for (const kind of onlyLarge ? (['pixel-like', 'fractional'] as const) : []) {
  const { dbscanPointsStats } = await import('../src/backends/webgpu/dbscanPoints.js');
  // mulberry32: consecutive outputs of a plain LCG lie on a few lines in 2-D (no pair near eps)
  let s = 17;
  const r = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = quick ? 100_000 : 1_000_000;
  const pts = new Float64Array(2 * n);
  if (kind === 'fractional') {
    const side = Math.sqrt(n / 10);
    for (let i = 0; i < 2 * n; i++) pts[i] = r() * side;
  } else {
    const frame = quick ? 2048 : 8192;
    const seen = new Set<number>();
    for (let k = 0; k < n;) {
      const cx = r() * frame,
        cy = r() * frame,
        rad = 4 + r() * 12;
      for (let y = Math.max(0, Math.floor(cy - rad)); y < Math.min(frame, cy + rad) && k < n; y++)
        for (let x = Math.max(0, Math.floor(cx - rad)); x < Math.min(frame, cx + rad) && k < n; x++)
          if (Math.hypot(x - cx, y - cy) < rad && !seen.has(y * frame + x)) {
            seen.add(y * frame + x);
            pts[2 * k] = x;
            pts[2 * k + 1] = y;
            k++;
          }
    }
  }
  const args = {
    points: pts,
    dims: 2,
    eps: kind === 'fractional' ? 0.5 : 3,
    minSamples: kind === 'fractional' ? 5 : 2,
  };
  const ref = await getKernel('dbscan', 'cpu')!.run(args);
  const got = await getKernel('dbscan', 'webgpu')!.run(args);
  if (!same(Array.from(ref.labels), Array.from(got.labels))) throw new Error(`dbscan ${kind}: webgpu differs from cpu`);
  const st = { ...dbscanPointsStats };
  if (st.host !== '') throw new Error(`dbscan ${kind}: decided on the host (${st.host})`);
  const t = {
    js: (await timeit(() => getKernel('dbscan', 'js')!.run(args), 1, 0)).median,
    cpu: (await timeit(() => getKernel('dbscan', 'cpu')!.run(args), 1, 0)).median,
    webgpu: (await timeit(() => getKernel('dbscan', 'webgpu')!.run(args), 1, 0)).median,
  };
  // rel + perr + cell + cell starts + neighbour table + origin offsets; labels, result, ambiguous pairs
  const up = await uploadMs(16 * n + 4 + 72 * st.cells);
  const down = await readbackMs(8 * n + 8 * st.ambiguous);
  addRow(
    `dbscan ${n / 1e6}M ${kind} points, eps ${args.eps} (${ref.clusters} clusters, ${st.cells} cells, ${st.ambiguous} ambiguous pairs)`,
    t,
    up,
    down,
  );
}

// Preprocessing: letterbox (8-bit RGB HWC -> [3,640,640] float32), resize of float32 planes, and the
// DBSCAN baseline (filter chain + clustering on the image grid) on a blob image.
if (!onlyLarge) {
  let s = 11;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 4294967296);
  const side = quick ? 512 : 2048;
  const img = {
    data: new Uint8Array(side * side * 3).map(() => Math.floor(r() * 256)),
    width: side,
    height: side,
    channels: 3,
  };
  const geo = { newWidth: 640, newHeight: 640, left: 0, top: 0, outWidth: 640, outHeight: 640 };
  const largs = {
    ...img,
    maxValue: 255,
    ...geo,
    pad: 114 / 255,
    percentiles: null,
    levels: { low: [0, 0, 0], high: [255, 255, 255] },
    out: new Float32Array(3 * 640 * 640),
  };
  const ref = (
    await getKernel('letterbox', 'js')!.run({ ...largs, out: new Float32Array(3 * 640 * 640) })
  ).data.slice();
  const got = (await getKernel('letterbox', 'webgpu')!.run(largs)).data;
  let err = 0;
  for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(ref[i]! - got[i]!));
  if (err >= 1e-6) throw new Error(`letterbox: webgpu differs from js by ${err}`);
  const t = {
    js: (await timeit(() => getKernel('letterbox', 'js')!.run(largs), 3)).median,
    cpu: (await timeit(() => getKernel('letterbox', 'cpu')!.run(largs), 3)).median,
    webgpu: (await timeit(() => getKernel('letterbox', 'webgpu')!.run(largs), 3)).median,
  };
  const up = await uploadMs(img.data.length);
  const down = await readbackMs(largs.out.byteLength);
  addRow(`letterbox ${side}² RGB -> 640 (max diff ${err.toExponential(1)})`, t, up, down);
  // The device-resident variant: the same kernel with the planes left on the GPU (no readback).
  const { letterboxOnGpu } = await import('../src/backends/webgpu/letterbox.js');
  const kept = (
    await timeit(async () => {
      const g = await letterboxOnGpu(largs, dev);
      await dev.device.queue.onSubmittedWorkDone();
      dev.release(g.buffer);
    }, 3)
  ).median;
  rows.push([`letterbox ${side}² -> 640, output left on the GPU`, NaN, NaN, kept, up, kept - up, 0]);

  const [c, h, w, out] = quick ? [29, 32, 32, 128] : [29, 128, 128, 512];
  const x = Float32Array.from({ length: c * h * w }, () => (r() - 0.5) * 20);
  const rargs = {
    data: x,
    channels: c,
    inHeight: h,
    inWidth: w,
    outHeight: out,
    outWidth: out,
    out: new Float32Array(c * out * out),
  };
  const rref = (await getKernel('resize', 'js')!.run(rargs)).slice();
  const rgot = await getKernel('resize', 'webgpu')!.run(rargs);
  if (!rref.every((v, i) => Object.is(v, rgot[i]))) throw new Error('resize: webgpu differs from js');
  const rt = {
    js: (await timeit(() => getKernel('resize', 'js')!.run(rargs), 3)).median,
    cpu: (await timeit(() => getKernel('resize', 'cpu')!.run(rargs), 3)).median,
    webgpu: (await timeit(() => getKernel('resize', 'webgpu')!.run(rargs), 3)).median,
  };
  const rup = await uploadMs(x.byteLength + 16 * out);
  const rdown = await readbackMs(rargs.out.byteLength);
  addRow(`resize [${c},${h},${w}] -> ${out}²`, rt, rup, rdown);

  // Baseline: bright discs on a dark noisy background, ~1/4 of the pixels kept.
  const bs = quick ? 256 : 1024;
  const grey = new Uint8Array(bs * bs);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.floor(r() * 60);
  for (let k = 0; k < (bs * bs) / 1500; k++) {
    const cx = r() * bs,
      cy = r() * bs,
      rad = 4 + r() * 12;
    for (let y = Math.max(0, Math.floor(cy - rad)); y < Math.min(bs, cy + rad); y++)
      for (let xx = Math.max(0, Math.floor(cx - rad)); xx < Math.min(bs, cx + rad); xx++)
        if (Math.hypot(xx - cx, y - cy) < rad) grey[y * bs + xx] = 200;
  }
  const bargs = {
    data: grey,
    width: bs,
    height: bs,
    channels: 1,
    eps: 3,
    minSamples: 2,
    passes: 5,
    scale: 'unit' as const,
    box: 'edges' as const,
  };
  const bref = await getKernel('baseline', 'cpu')!.run(bargs);
  const bgot = await getKernel('baseline', 'webgpu')!.run(bargs);
  if (!same(Array.from(bref.labels), Array.from(bgot.labels)) || !same(Array.from(bref.boxes), Array.from(bgot.boxes)))
    throw new Error('baseline: webgpu differs from cpu');
  const bt = {
    js: (await timeit(() => getKernel('baseline', 'js')!.run(bargs), 1)).median,
    cpu: (await timeit(() => getKernel('baseline', 'cpu')!.run(bargs), 3)).median,
    webgpu: (await timeit(() => getKernel('baseline', 'webgpu')!.run(bargs), 3)).median,
  };
  const bup = await uploadMs(grey.length);
  const bdown = await readbackMs(4 * bs * bs);
  addRow(`baseline ${bs}² grey (${bref.labels.length} points, ${bref.sizes.length} clusters)`, bt, bup, bdown);
}

console.log(`\n## WebGPU kernels (${gpu.device}${gpu.software ? ', software adapter' : ''})\n`);
console.log(`${machine()}; ms, medians\n`);
console.log(table(['case', 'js', 'cpu', 'webgpu total', 'upload', 'kernel', 'readback'], rows));
