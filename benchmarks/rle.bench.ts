/**
 * RLE encode/decode and Dice on hand-bone-sized masks (29 x 2048 x 2048, bone-like blobs, ~1 % of each
 * channel set), against a "stream-read floor": the time to read every byte of the masks once in a
 * tight JS loop, measured in the same run. Run: npx tsx benchmarks/rle.bench.ts [--repeats 5]
 *
 * With the native addon built (npm run build:native) it adds the cpu backend's rows and a native floor
 * (`readFloor`: every byte read once, 64 bytes a step, on the same thread pool as the kernels), checks
 * that every cpu output is identical to the JS kernel's before timing, and prints the ratios to both
 * floors. MASKBOX_THREADS=1 gives the single-thread native numbers.
 */
import { decodeRle, encodeCocoRle, encodeRle, maskToRuns, parseRle, rleOverlap } from '../src/ops/rle.js';
import { dice } from '../src/ops/dice.js';
import { loadavg } from 'node:os';
import { nativeStatus } from '../bindings/native.js';
import { decodeStringsCpu, encodeStringsCpu, readFloorCpu } from '../src/backends/cpu/rle.js';
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
  // Written in full first: a large fresh Uint8Array is lazily zeroed memory (every untouched page maps the
  // kernel's one shared zero page, which stays in cache), so reading it would be far faster than reading a
  // real model's thresholded output. Filling it backs every page with its own memory.
  const m = new Uint8Array(C * N).fill(0);
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
/** The JS rows run the reference kernels explicitly (`auto` would pick the cpu backend when it is built). */
const JS = { backend: 'js' as const };
const { rle } = await encodeRle(truth, shape, JS);
const { rle: predRle } = await encodeRle(pred, shape, JS);
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
await add('maskToRuns, row order', () => maskToRuns(truth, shape, JS), MB);
const enc = await add('encodeRle, row order (strings)', () => encodeRle(truth, shape, JS), MB);
await add('encodeRle, col order (strings)', () => encodeRle(truth, shape, { order: 'col', ...JS }), MB);
await add('encodeCocoRle (counts)', () => encodeCocoRle(truth, shape, JS), MB);
await add('decodeRle, row order (strings -> mask)', () => decodeRle(rle, shape, JS), MB);
const dm = await add(
  'dice on masks (pred + truth read)',
  () => dice([pred], [truth], { classes: C, ...shape }, JS),
  2 * MB,
);
await add(
  'dice on runs (parse 2x29 strings + merge walk)',
  async () => {
    const a = predRle.map((s) => parseRle(s, N)),
      b = rle.map((s) => parseRle(s, N));
    await rleOverlap(a, b, JS);
  },
  2 * MB,
);
await add('overlap on runs only (merge walk)', () => rleOverlap(runsP, runsT, JS), 2 * MB);

// Worst case: one 2048x2048 channel of 50 % salt-and-pepper noise (~1M runs, ~10 MB of RLE text).
const noise = new Uint8Array(N);
{
  let x = 7;
  for (let i = 0; i < N; i++) noise[i] = (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 31;
}
const noiseRle = (await encodeRle(noise, shape, JS)).rle;
const noiseCol = (await encodeRle(noise, shape, { order: 'col', ...JS })).rle;
await add('worst case, 1 noise channel: encodeRle row', () => encodeRle(noise, shape, JS), N);
await add('worst case, 1 noise channel: encodeRle col', () => encodeRle(noise, shape, { order: 'col', ...JS }), N);
await add('worst case, 1 noise channel: decodeRle row', () => decodeRle(noiseRle, shape, JS), N);
await add('worst case, 1 noise channel: decodeRle col', () => decodeRle(noiseCol, shape, { order: 'col', ...JS }), N);

// ---- cpu backend (native addon) ----
const native = nativeStatus();
const cpuNotes: string[] = [];
if (native.available && native.info!.ops.includes('rleEncode')) {
  const cpu = { backend: 'cpu' as const };
  const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const check = (what: string, ok: boolean) => {
    if (!ok) throw new Error(`cpu output differs from the JS kernel: ${what}`);
  };
  // Identical outputs first (the JS backend is the reference).
  const js = JS;
  for (const order of ['row', 'col'] as const) {
    const a = (await maskToRuns(truth, shape, { order, ...js })).runs,
      b = (await maskToRuns(truth, shape, { order, ...cpu })).runs;
    check(`runs ${order}`, a.length === b.length && a.every((r, i) => sameBytes(r, b[i]!)));
  }
  check('rle strings', (await encodeRle(truth, shape, cpu)).rle.join('|') === rle.join('|'));
  const nativeArgs = { mask: truth, channels: C, height: H, width: W };
  check(
    'native rle strings',
    (await encodeStringsCpu({ ...nativeArgs, order: 'row' }, 'rle')).join('|') === rle.join('|'),
  );
  const coco = await encodeCocoRle(truth, shape, { compress: true, ...js });
  check(
    'coco strings',
    (await encodeStringsCpu({ ...nativeArgs, order: 'col' }, 'cocoString')).join('|') === coco.strings!.join('|'),
  );
  const decJs = (await decodeRle(rle, shape, js)).mask;
  check('decodeRle', sameBytes((await decodeRle(rle, shape, cpu)).mask, decJs));
  check('native string decode', sameBytes(await decodeStringsCpu(rle, shape, { kind: 'rle' }), decJs));
  const dj = (await dice([pred], [truth], { classes: C, ...shape }, js)).counts;
  const dc = (await dice([pred], [truth], { classes: C, ...shape }, cpu)).counts;
  check(
    'dice counts',
    dj.every((v, i) => v === dc[i]),
  );
  check(
    'noise runs',
    sameBytes((await maskToRuns(noise, shape, cpu)).runs[0]!, (await maskToRuns(noise, shape, js)).runs[0]!),
  );

  const nf = await add('cpu floor: read every byte once (native, 64 B a step, pool)', () => readFloorCpu(truth), MB);
  const nf2 = await add(
    'cpu floor: read both mask sets once (native)',
    async () => (await readFloorCpu(pred)) | (await readFloorCpu(truth)),
    2 * MB,
  );
  const ce = await add('cpu maskToRuns, row order', () => maskToRuns(truth, shape, cpu), MB);
  await add('cpu maskToRuns, col order', () => maskToRuns(truth, shape, { order: 'col', ...cpu }), MB);
  const cs = await add('cpu encodeRle, row order (strings; formatted in JS)', () => encodeRle(truth, shape, cpu), MB);
  await add(
    'cpu native strings, row order (formatted in C++)',
    () => encodeStringsCpu({ ...nativeArgs, order: 'row' }, 'rle'),
    MB,
  );
  await add(
    'cpu native COCO compressed strings',
    () => encodeStringsCpu({ ...nativeArgs, order: 'col' }, 'cocoString'),
    MB,
  );
  await add('cpu decodeRle, row order (strings parsed in JS)', () => decodeRle(rle, shape, cpu), MB);
  await add(
    'cpu native string decode, row order (parsed in C++)',
    () => decodeStringsCpu(rle, shape, { kind: 'rle' }),
    MB,
  );
  const cd = await add(
    'cpu dice on masks (pred + truth read)',
    () => dice([pred], [truth], { classes: C, ...shape }, cpu),
    2 * MB,
  );
  await add('cpu overlap on runs only (merge walk)', () => rleOverlap(runsP, runsT, cpu), 2 * MB);
  await add('cpu worst case, 1 noise channel: encodeRle row', () => encodeRle(noise, shape, cpu), N);
  await add(
    'cpu worst case, 1 noise channel: encodeRle col',
    () => encodeRle(noise, shape, { order: 'col', ...cpu }),
    N,
  );
  await add('cpu worst case, 1 noise channel: decodeRle row', () => decodeRle(noiseRle, shape, cpu), N);
  await add(
    'cpu worst case, 1 noise channel: decodeRle col',
    () => decodeRle(noiseCol, shape, { order: 'col', ...cpu }),
    N,
  );
  const noiseArgs = { mask: noise, channels: 1, height: H, width: W };
  await add(
    'cpu worst case, 1 noise channel: native strings row (C++ formatting)',
    () => encodeStringsCpu({ ...noiseArgs, order: 'row' }, 'rle'),
    N,
  );
  await add(
    'cpu worst case, 1 noise channel: native strings col (C++ formatting)',
    () => encodeStringsCpu({ ...noiseArgs, order: 'col' }, 'rle'),
    N,
  );
  await add(
    'cpu worst case, 1 noise channel: native string decode row (C++ parsing)',
    () => decodeStringsCpu(noiseRle, shape, { kind: 'rle' }),
    N,
  );
  await add(
    'cpu worst case, 1 noise channel: native string decode col (C++ parsing)',
    () => decodeStringsCpu(noiseCol, shape, { kind: 'rle', order: 'col' }),
    N,
  );
  // Paired ratios: on a loaded machine the floor and a kernel timed minutes apart see different loads, so
  // each repetition times the floor and the kernels back to back, and the ratios' medians are reported.
  const paired: Record<string, number[]> = { encode: [], strings: [], dice: [] };
  const ms = async (fn: () => unknown) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < 2 * repeats + 1; i++) {
    const f1 = await ms(() => readFloorCpu(truth));
    paired.encode!.push((await ms(() => maskToRuns(truth, shape, cpu))) / f1);
    paired.strings!.push((await ms(() => encodeStringsCpu({ ...nativeArgs, order: 'row' }, 'rle'))) / f1);
    const f2 = (await ms(() => readFloorCpu(pred))) + (await ms(() => readFloorCpu(truth)));
    paired.dice!.push((await ms(() => dice([pred], [truth], { classes: C, ...shape }, cpu))) / f2);
  }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  const fw = rows.find((r) => String(r[0]).includes('Uint32 loop'))![1] as number;
  cpuNotes.push(
    `cpu backend (${native.info!.compiler}, ${native.info!.threads} threads): outputs identical to the JS kernels (runs, strings, COCO strings, masks, Dice counts).`,
    `Paired ratios (floor timed right before each kernel, median of ${2 * repeats + 1}): cpu maskToRuns (row) = ${med(paired.encode!).toFixed(2)}x the native floor; ` +
      `native RLE strings = ${med(paired.strings!).toFixed(2)}x; cpu dice on masks = ${med(paired.dice!).toFixed(2)}x the native floor of reading both mask sets.`,
    `From the table (medians; mins in brackets): cpu maskToRuns (row) = ${(ce.median / nf.median).toFixed(2)}x [${(ce.min / nf.min).toFixed(2)}x] the native floor, ${(ce.median / fw).toFixed(2)}x the JS Uint32 floor; ` +
      `cpu encodeRle (strings) = ${(cs.median / nf.median).toFixed(2)}x the native floor.`,
    `cpu dice on masks = ${(cd.median / nf2.median).toFixed(2)}x [${(cd.min / nf2.min).toFixed(2)}x] the native floor for both mask sets, ${(cd.median / (2 * fw)).toFixed(2)}x twice the JS Uint32 floor.`,
  );
} else {
  cpuNotes.push(`cpu backend not measured: ${native.available ? 'this build has no rleEncode' : native.reason}`);
}

const runs = runsT.reduce((s, r) => s + r.length / 2, 0);
const chars = rle.reduce((s, r) => s + r.length, 0);
console.log(`# RLE / Dice, ${C}x${H}x${W} masks (${(MB / 2 ** 20).toFixed(0)} MiB per mask set)\n`);
console.log(
  `Machine: ${machine()}, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(
      ' ',
    )} at the end. Medians of ${repeats} runs after 1 warm-up; JS rows single thread, cpu rows on the native pool.`,
);
console.log(
  `Masks: ${((setBytes / C / N) * 100).toFixed(2)} % of pixels set per channel; ${runs} runs, ${chars} RLE characters in all.\n`,
);
console.log(table(['what', 'median ms', 'min ms', 'MiB/s of mask read'], rows));
console.log(
  `\nencodeRle (row) = ${(enc.median / fb.median).toFixed(2)}x the byte-loop floor; dice on masks = ${(dm.median / (2 * fb.median)).toFixed(2)}x the floor for two mask sets.`,
);
for (const n of cpuNotes) console.log(n);
if (sink === 42) console.log('');
