/**
 * Preprocessing: letterbox of a 2048x2048 RGB uint8 image to a 640x640 CHW float32 model input, and the
 * hand-bone bilinear resize of logits [29, 512, 512] -> [29, 2048, 2048].
 * Peers: sharp (libvips resize + extend, then a JS HWC->CHW /255 loop; libvips antialiases on downscale,
 * so its pixels differ: the largest difference to maskbox's is stated), torch F.interpolate (bilinear,
 * align_corners=False: the competition's resize, in a long-lived /usr/bin/python3 peer, harness.PythonPeer;
 * its output is checked bit for bit against maskbox's, by SHA-256) and @tensorflow/tfjs-core's CPU
 * resizeBilinear (halfPixelCenters, NHWC layout, one thread; checked within 1e-4).
 * The cpu backend's letterbox is also set against sharp's own decode of the same 2048x2048 picture (a
 * synthetic radiograph-like image encoded once as PNG and as JPEG q90, not timed), since the target is
 * that letterboxing adds at most 25% to decoding; sharp's operation cache is off so repeats really decode.
 * Threads: sharp.concurrency and torch.set_num_threads = the cpu backend's pool threads; js and tfjs one.
 * Outputs are checked before timing; then the sides of each task are alternated round by round
 * (harness.alternate): wall and process CPU time, medians (min-max).
 * Run: npx tsx benchmarks/preprocess.bench.ts [--rounds 7] [--no-python]
 */
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { letterbox } from '../src/ops/letterbox.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { availableBackends } from '../test/helpers.js';
import { getKernel } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { nativeStatus } from '../bindings/native.js';
import { alternate, benchStart, comparisonRows, printComparison, PythonPeer, type Impl } from './harness.js';

const start = benchStart(7, ['torch']);
const ROUNDS = start.rounds;
ensureBackends();
/** The cpu backend's pool threads; sharp (libvips) and torch get the same. */
const THREADS = nativeStatus().info?.threads ?? 1;
const rows: (string | number)[][] = [];
const notes: string[] = [];
await tf.setBackend('cpu');
sharp.cache(false);
sharp.concurrency(THREADS);
const threadsOf = (b: string) => (b === 'cpu' ? THREADS : 1);
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

// ---- letterbox 2048x2048x3 uint8 -> [3, 640, 640] float32
const W = 2048,
  H = 2048;
const img = new Uint8Array(W * H * 3);
for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 24;
const lbOut = 3 * 640 * 640;
const chw = new Float32Array(lbOut);
const viaSharp = async () => {
  const raw = await sharp(img, { raw: { width: W, height: H, channels: 3 } })
    .resize(640, 640, { fit: 'contain', background: { r: 114, g: 114, b: 114 }, kernel: 'linear' })
    .raw()
    .toBuffer();
  const plane = 640 * 640;
  for (let p = 0; p < plane; p++) {
    chw[p] = raw[p * 3]! / 255;
    chw[plane + p] = raw[p * 3 + 1]! / 255;
    chw[2 * plane + p] = raw[p * 3 + 2]! / 255;
  }
  return chw;
};
const SHARP = 'sharp resize(linear)+extend, JS CHW /255';
const lbBackends = availableBackends().filter((b) => getKernel('letterbox', b));
const lbImpls: Impl[] = [
  { name: SHARP, threads: THREADS, run: viaSharp },
  ...lbBackends.map((b) => ({
    name: `maskbox ${b}`,
    threads: threadsOf(b),
    run: () => letterbox({ data: img, width: W, height: H, channels: 3 }, { backend: b }),
  })),
];
{
  const lbRef = (await letterbox({ data: img, width: W, height: H, channels: 3 }, { backend: 'js' })).data;
  const checks = [
    `sharp differs by design (antialiased, uint8): largest abs. difference to js ${maxDiff(await viaSharp(), lbRef).toFixed(3)}`,
  ];
  for (const b of lbBackends.filter((b) => b !== 'js')) {
    const ours = (await letterbox({ data: img, width: W, height: H, channels: 3 }, { backend: b })).data;
    checks.push(`${b} = js bit for bit: ${sameBits(ours, lbRef) ? 'yes' : 'NO'}`);
  }
  const what = 'letterbox 2048x2048x3 u8 (pseudo-random pixels) -> 3x640x640 f32';
  rows.push(...comparisonRows(what, await alternate(lbImpls, ROUNDS, 1), SHARP, checks));
}

// ---- sharp's decode of a 2048x2048 RGB picture (PNG, JPEG q90) vs the cpu letterbox of its pixels
{
  // Radiograph-like: smooth background gradient, soft bright discs, mild noise (compresses like a photo).
  const pic = new Uint8Array(W * H * 3);
  const discs = Array.from({ length: 40 }, (_, k) => [
    ((k * 7919) % 97) / 97,
    ((k * 104729) % 89) / 89,
    20 + (k % 9) * 15,
  ]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 40 + (60 * (x + y)) / (W + H);
      for (const [cx, cy, r] of discs) {
        const d2 = (x - cx! * W) ** 2 + (y - cy! * H) ** 2;
        if (d2 < 9 * r! * r!) v += 120 * Math.exp(-d2 / (2 * r! * r!));
      }
      const n = (((x * 2654435761) ^ (y * 40503)) >>> 28) - 8;
      const p = (y * W + x) * 3;
      pic[p] = pic[p + 1] = pic[p + 2] = Math.max(0, Math.min(255, v + n));
      pic[p + 1] = Math.min(255, pic[p]! + 3);
    }
  }
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  const files: [string, Buffer][] = [
    ['PNG', await sharp(pic, raw).png().toBuffer()],
    ['JPEG q90', await sharp(pic, raw).jpeg({ quality: 90 }).toBuffer()],
  ];
  if (!(availableBackends().includes('cpu') && getKernel('letterbox', 'cpu'))) {
    notes.push('decode vs letterbox rows skipped: no cpu letterbox kernel (native addon not built)');
  } else {
    // Decode and letterbox alternate round by round, so that both see the same machine load.
    const picOut = new Float32Array(lbOut);
    for (const [kind, file] of files) {
      const DECODE = `sharp (libvips) decode -> raw RGB`;
      const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      const image = { data, width: info.width, height: info.height, channels: info.channels };
      const js = (await letterbox(image, { backend: 'js' })).data;
      const cpu = (await letterbox(image, { backend: 'cpu', out: picOut })).data;
      const checks = [`cpu letterbox = js bit for bit: ${sameBits(cpu, js) ? 'yes' : 'NO'}`];
      if (kind === 'PNG') checks.push(`decoded = encoded pixels: ${Buffer.from(pic).equals(data) ? 'yes' : 'NO'}`);
      const m = await alternate(
        [
          { name: DECODE, threads: THREADS, run: () => sharp(file).raw().toBuffer() },
          {
            name: 'then maskbox cpu letterbox of those pixels -> 3x640x640 f32',
            threads: THREADS,
            run: () => letterbox(image, { backend: 'cpu', out: picOut }),
          },
        ],
        ROUNDS,
        2,
      );
      const [dec, lb] = [m[0]!, m[1]!];
      rows.push(
        ...comparisonRows(`decode 2048x2048 ${kind} (${(file.length / 1e6).toFixed(1)} MB)`, m, DECODE, checks),
      );
      const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
      notes.push(
        `${kind}: the cpu letterbox adds ${pct(lb.wall.median, dec.wall.median)} to sharp's decode by median wall time, ` +
          `${pct(lb.wall.min, dec.wall.min)} by best wall times, ${pct(lb.cpu.median, dec.cpu.median)} by median CPU time (target <= 25%)`,
      );
    }
  }
}

// ---- resize [29, 512, 512] -> [29, 2048, 2048]
const C = 29,
  h = 512,
  w = 512,
  OH = 2048,
  OW = 2048;
const logits = new Float32Array(C * h * w);
for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i * 0.001) * 8 + Math.cos(i * 0.37);
const outN = C * OH * OW;
const out = new Float32Array(outN);
// tfjs wants NHWC; lay the same data out that way once (not timed)
const nhwc = new Float32Array(logits.length);
for (let c = 0; c < C; c++) for (let p = 0; p < h * w; p++) nhwc[p * C + c] = logits[c * h * w + p]!;
const input = tf.tensor4d(nhwc, [1, h, w, C]);
const runTf = async () => {
  const r = tf.image.resizeBilinear(input, [OH, OW], false, true);
  const d = (await r.data()) as Float32Array;
  r.dispose();
  return d;
};
const tfErr = await (async () => {
  // correctness check on a few pixels before timing
  const ours = (await resizeBilinear(logits, [C, h, w], [OH, OW], { backend: 'js', out })).data;
  const theirs = await runTf();
  let err = 0;
  for (let k = 0; k < 10000; k++) {
    const c = k % C,
      p = (k * 7919) % (OH * OW);
    err = Math.max(err, Math.abs(ours[c * OH * OW + p]! - theirs[p * C + c]!));
  }
  if (err > 1e-4) throw new Error(`tfjs and maskbox disagree by ${err}`);
  return err;
})();
const RZ_PEER = 'torch F.interpolate (bilinear, align_corners=False)';
const rzBackends = availableBackends().filter((b) => getKernel('resize', b));
const rzImpls: Impl[] = [
  { name: 'tfjs-core cpu resizeBilinear (NHWC, halfPixelCenters)', threads: 1, run: runTf },
  ...rzBackends.map((b) => ({
    name: `maskbox ${b}`,
    threads: threadsOf(b),
    run: () => resizeBilinear(logits, [C, h, w], [OH, OW], { backend: b, out }),
  })),
];
const rzChecks = [
  `tfjs = js within 1e-4 (10,000 pixels sampled): yes, largest abs. difference ${tfErr.toExponential(1)}`,
];
const rzRef = (await resizeBilinear(logits, [C, h, w], [OH, OW], { backend: 'js' })).data;
for (const b of rzBackends.filter((b) => b !== 'js'))
  rzChecks.push(
    `${b} = js bit for bit: ${sameBits((await resizeBilinear(logits, [C, h, w], [OH, OW], { backend: b, out })).data, rzRef) ? 'yes' : 'NO'}`,
  );
let peer: PythonPeer | null = null;
const dir = mkdtempSync(join(tmpdir(), 'maskbox-preprocess-bench-'));
if (start.python) {
  writeFileSync(join(dir, 'logits.f32'), logits);
  peer = new PythonPeer(
    `import hashlib, numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(${THREADS})
x = torch.from_numpy(np.fromfile(${JSON.stringify(join(dir, 'logits.f32'))}, dtype='<f4').reshape(1, ${C}, ${h}, ${w}))`,
    `global up
with torch.no_grad():
    up = F.interpolate(x, size=(${OH}, ${OW}), mode='bilinear', align_corners=False)`,
  );
  await peer.round();
  const theirs = JSON.parse((await peer.eval('hashlib.sha256(up.numpy().tobytes()).hexdigest()')).replace(/'/g, '"'));
  const ours = createHash('sha256')
    .update(Buffer.from(rzRef.buffer, rzRef.byteOffset, rzRef.byteLength))
    .digest('hex');
  rzChecks.push(`torch = js bit for bit (SHA-256 of the 486 MB): ${theirs === ours ? 'yes' : 'NO'}`);
  rzImpls.push({ name: RZ_PEER, threads: THREADS, run: () => peer!.round() });
} else notes.push('torch resize row skipped: --no-python, or /usr/bin/python3 has no torch');
const rzWhat = 'resize 29x512x512 -> 29x2048x2048 f32 (smooth logits)';
rows.push(...comparisonRows(rzWhat, await alternate(rzImpls, ROUNDS, 1), peer ? RZ_PEER : rzImpls[0]!.name, rzChecks));
peer?.close();
rmSync(dir, { recursive: true, force: true });
input.dispose();

printComparison(
  `Preprocessing; sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), tfjs-core ${tf.version_core}, torch 1.13 (/usr/bin/python3)`,
  start,
  { first: 'task', peer: 'peer' },
  rows,
  notes,
);
