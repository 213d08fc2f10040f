/**
 * Preprocessing: letterbox of a 2048x2048 RGB uint8 image to a 640x640 CHW float32 model input, and the
 * hand-bone bilinear resize of logits [29, 512, 512] -> [29, 2048, 2048].
 * Peers: sharp (libvips resize + extend, then a JS HWC->CHW /255 loop; libvips antialiases on downscale,
 * so its pixels differ) and @tensorflow/tfjs-core's CPU resizeBilinear (halfPixelCenters, NHWC layout;
 * its values are checked against maskbox's within 1e-4 before timing).
 * The cpu backend's letterbox is also set against sharp's own decode of the same 2048x2048 picture (a
 * synthetic radiograph-like image encoded once as PNG and as JPEG q90, not timed), since the target is
 * that letterboxing adds at most 25% to decoding; sharp's operation cache is off so repeats really decode.
 * Run: npx tsx benchmarks/preprocess.bench.ts
 */
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { letterbox } from '../src/ops/letterbox.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { availableBackends } from '../test/helpers.js';
import { getKernel } from '../src/backends/registry.js';
import { machine, table, timeit } from './harness.js';

const rows: (string | number)[][] = [];
const notes: string[] = [];
await tf.setBackend('cpu');
sharp.cache(false);

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
const lbPeers: [string, () => Promise<unknown>][] = [
  ['sharp resize(linear)+extend, JS CHW /255', viaSharp],
  ...availableBackends()
    .filter((b) => getKernel('letterbox', b))
    .map(
      (b) =>
        [`maskbox ${b}`, () => letterbox({ data: img, width: W, height: H, channels: 3 }, { backend: b })] as [
          string,
          () => Promise<unknown>,
        ],
    ),
];
const lbMedians = new Map<string, number>();
for (const [name, fn] of lbPeers) {
  const t = await timeit(fn, 7);
  lbMedians.set(name, t.median);
  rows.push(['letterbox 2048x2048x3 u8 -> 3x640x640 f32', name, t.median, t.min, (lbOut / t.median / 1e3).toFixed(0)]);
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
    // Decode and letterbox alternate, so that both see the same machine load (wall times; the process's
    // CPU time is not attributable here: libvips and V8's GC threads run on across the two calls).
    const picOut = new Float32Array(lbOut);
    const wall = async (fn: () => Promise<unknown>) => {
      const t0 = process.hrtime.bigint();
      const r = await fn();
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, r };
    };
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    for (const [kind, file] of files) {
      const dec: number[] = [],
        lb: number[] = [];
      for (let i = 0; i < 27; i++) {
        const d = await wall(() => sharp(file).raw().toBuffer({ resolveWithObject: true }));
        const { data, info } = d.r as { data: Buffer; info: { width: number; height: number; channels: number } };
        const l = await wall(() =>
          letterbox(
            { data, width: info.width, height: info.height, channels: info.channels },
            { backend: 'cpu', out: picOut },
          ),
        );
        if (i < 2) continue; // warm-up
        dec.push(d.ms);
        lb.push(l.ms);
      }
      rows.push([
        `decode 2048x2048 ${kind} (${(file.length / 1e6).toFixed(1)} MB) -> raw RGB`,
        'sharp (libvips)',
        med(dec),
        Math.min(...dec),
        ((W * H * 3) / med(dec) / 1e3).toFixed(0),
      ]);
      rows.push([
        `  then letterbox those pixels -> 3x640x640 f32`,
        'maskbox cpu',
        med(lb),
        Math.min(...lb),
        (lbOut / med(lb) / 1e3).toFixed(0),
      ]);
      notes.push(
        `${kind}: the cpu letterbox adds ${((100 * med(lb)) / med(dec)).toFixed(0)}% to sharp's decode by median wall time, ` +
          `${((100 * Math.min(...lb)) / Math.min(...dec)).toFixed(0)}% by best times (target <= 25%)`,
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
{
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
}
const rzPeers: [string, () => Promise<unknown>][] = [
  ['tfjs-core cpu resizeBilinear (NHWC, halfPixelCenters)', runTf],
  ...availableBackends()
    .filter((b) => getKernel('resize', b))
    .map(
      (b) =>
        [`maskbox ${b}`, () => resizeBilinear(logits, [C, h, w], [OH, OW], { backend: b, out })] as [
          string,
          () => Promise<unknown>,
        ],
    ),
];
for (const [name, fn] of rzPeers) {
  const t = await timeit(fn, 3);
  rows.push(['resize 29x512x512 -> 29x2048x2048 f32', name, t.median, t.min, (outN / t.median / 1e3).toFixed(0)]);
}
input.dispose();

console.log(`Preprocessing — ${machine()}\n`);
console.log(table(['task', 'implementation', 'median ms', 'min ms', 'M outputs/s'], rows));
if (notes.length) console.log('\n' + notes.map((n) => `- ${n}`).join('\n'));
