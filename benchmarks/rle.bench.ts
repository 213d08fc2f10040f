/**
 * RLE encode/decode and Dice on hand-bone-sized masks (29 x 2048 x 2048, bone-like blobs, ~1 % of each
 * channel set), against a "stream-read floor": the time to read every byte of the masks once in a
 * tight JS loop, measured in the same run. Run: npx tsx benchmarks/rle.bench.ts [--repeats 5]
 */
import { decodeRle, encodeCocoRle, encodeRle, maskToRuns, parseRle, rleOverlap } from '../src/ops/rle.js';
import { dice } from '../src/ops/dice.js';
import { loadavg } from 'node:os';
import { machine, table, timeit } from './harness.js';

const C = 29,
  H = 2048,
  W = 2048,
  N = H * W;
const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 5;

/** Bone-like masks: per class two or three overlapping ellipses (shifted by `shift` pixels for the "prediction"). */
function bones(seed: number, shift: number): Uint8Array {
  let s = seed;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const m = new Uint8Array(C * N);
  for (let c = 0; c < C; c++) {
    const ch = m.subarray(c * N, (c + 1) * N);
    const parts = 2 + Math.floor(r() * 2);
    const cx0 = 300 + r() * 1400,
      cy0 = 300 + r() * 1400;
    for (let p = 0; p < parts; p++) {
      const cx = cx0 + (r() - 0.5) * 120 + shift,
        cy = cy0 + p * 90 + shift;
      const rx = 30 + r() * 60,
        ry = 60 + r() * 90;
      for (let y = Math.max(0, Math.ceil(cy - ry)); y <= Math.min(H - 1, Math.floor(cy + ry)); y++) {
        const dx = rx * Math.sqrt(Math.max(0, 1 - ((y - cy) / ry) ** 2));
        const x0 = Math.max(0, Math.ceil(cx - dx)),
          x1 = Math.min(W - 1, Math.floor(cx + dx));
        if (x1 >= x0) ch.fill(1, y * W + x0, y * W + x1 + 1);
      }
    }
  }
  return m;
}

const truth = bones(1, 0);
const pred = bones(1, 3);
let setBytes = 0;
for (let i = 0; i < truth.length; i++) setBytes += truth[i]!;

// Floor: read every byte once (the cheapest thing any encoder must do), byte-wise and word-wise.
let sink = 0;
function readBytes(m: Uint8Array): number {
  let acc = 0;
  for (let i = 0, n = m.length; i < n; i++) acc += m[i]!;
  return acc;
}
function readWords(m: Uint8Array): number {
  const w = new Uint32Array(m.buffer, m.byteOffset, m.length >>> 2);
  let acc = 0;
  for (let i = 0, n = w.length; i < n; i++) acc |= w[i]!;
  return acc;
}
/** A straightforward JS port of the competition's encoder (per-byte transitions, number[] joined): a baseline. */
function naiveEncode(m: Uint8Array): string[] {
  const out: string[] = [];
  for (let c = 0; c < C; c++) {
    const parts: number[] = [];
    let prev = 0;
    for (let i = 0; i < N; i++) {
      const v = m[c * N + i] !== 0 ? 1 : 0;
      if (v !== prev) {
        if (v) parts.push(i + 1);
        else parts.push(i + 1 - parts[parts.length - 1]!);
        prev = v;
      }
    }
    if (prev) parts.push(N + 1 - parts[parts.length - 1]!);
    out.push(parts.join(' '));
  }
  return out;
}
const floorByte = () => (sink += readBytes(truth));
const floorWord = () => (sink += readWords(truth));

const shape = { height: H, width: W };
const { rle } = await encodeRle(truth, shape);
const { rle: predRle } = await encodeRle(pred, shape);
const runsT = rle.map((s) => parseRle(s, N));
if (naiveEncode(truth).join('|') !== rle.join('|')) throw new Error('naive baseline disagrees with encodeRle');
const runsP = predRle.map((s) => parseRle(s, N));

const rows: (string | number)[][] = [];
const add = async (name: string, fn: () => unknown, bytes: number) => {
  const t = await timeit(fn, repeats, 1);
  rows.push([name, t.median, t.min, bytes / 2 ** 20 / (t.median / 1e3)]);
  return t;
};
const MB = truth.length;
const fb = await add('floor: read every byte once (byte loop)', floorByte, MB);
await add('floor: read every byte once (Uint32 loop)', floorWord, MB);
await add('baseline: naive JS port of encode_mask_to_rle', () => naiveEncode(truth), MB);
await add('maskToRuns, row order', () => maskToRuns(truth, shape), MB);
const enc = await add('encodeRle, row order (strings)', () => encodeRle(truth, shape), MB);
await add('encodeRle, col order (strings)', () => encodeRle(truth, shape, { order: 'col' }), MB);
await add('encodeCocoRle (counts)', () => encodeCocoRle(truth, shape), MB);
await add('decodeRle, row order (strings -> mask)', () => decodeRle(rle, shape), MB);
const dm = await add(
  'dice on masks (pred + truth read)',
  () => dice([pred], [truth], { classes: C, ...shape }),
  2 * MB,
);
await add(
  'dice on runs (parse 2x29 strings + merge walk)',
  async () => {
    const a = predRle.map((s) => parseRle(s, N)),
      b = rle.map((s) => parseRle(s, N));
    await rleOverlap(a, b);
  },
  2 * MB,
);
await add('overlap on runs only (merge walk)', () => rleOverlap(runsP, runsT), 2 * MB);

// Worst case: one 2048x2048 channel of 50 % salt-and-pepper noise (~1M runs, ~10 MB of RLE text).
const noise = new Uint8Array(N);
{
  let x = 7;
  for (let i = 0; i < N; i++) noise[i] = (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 31;
}
const noiseRle = (await encodeRle(noise, shape)).rle;
const noiseCol = (await encodeRle(noise, shape, { order: 'col' })).rle;
await add('worst case, 1 noise channel: encodeRle row', () => encodeRle(noise, shape), N);
await add('worst case, 1 noise channel: encodeRle col', () => encodeRle(noise, shape, { order: 'col' }), N);
await add('worst case, 1 noise channel: decodeRle row', () => decodeRle(noiseRle, shape), N);
await add('worst case, 1 noise channel: decodeRle col', () => decodeRle(noiseCol, shape, { order: 'col' }), N);

const runs = runsT.reduce((s, r) => s + r.length / 2, 0);
const chars = rle.reduce((s, r) => s + r.length, 0);
console.log(`# RLE / Dice, ${C}x${H}x${W} masks (${(MB / 2 ** 20).toFixed(0)} MiB per mask set)\n`);
console.log(
  `Machine: ${machine()}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} at the end. Medians of ${repeats} runs after 1 warm-up, single thread.`,
);
console.log(
  `Masks: ${((setBytes / C / N) * 100).toFixed(2)} % of pixels set per channel; ${runs} runs, ${chars} RLE characters in all.\n`,
);
console.log(table(['what', 'median ms', 'min ms', 'MiB/s of mask read'], rows));
console.log(
  `\nencodeRle (row) = ${(enc.median / fb.median).toFixed(2)}x the byte-loop floor; dice on masks = ${(dm.median / (2 * fb.median)).toFixed(2)}x the floor for two mask sets.`,
);
if (sink === 42) console.log('');
