/**
 * RLE encode/decode and Dice on hand-bone-sized masks (29 x 2048 x 2048, bone-like blobs, ~1 % of each
 * channel set). Run: npx tsx benchmarks/rle.bench.ts [--repeats 5] [--rounds 9]
 *
 * The floor is a real one: benchmarks/peers/readFloor.c, plain C compiled here with `cc -O2`, summing
 * every byte of the same masks (copied to /dev/shm) as 64-bit words, or memcpy-ing them, on as many
 * threads as the cpu backend's pool — not a maskbox op. With the native addon built, every cpu output
 * is checked identical to the JS kernel's first; then the floor and the cpu kernels are alternated
 * round by round (harness.alternate: wall and process CPU time, medians with min-max) and the ratios
 * to the floor come from that table. The per-row table below it times each row alone (medians of
 * --repeats). MASKBOX_THREADS=1 gives the single-thread numbers (the floor follows).
 */
import { decodeRle, encodeCocoRle, encodeRle, maskToRuns, parseRle, rleOverlap } from '../src/ops/rle.js';
import { dice } from '../src/ops/dice.js';
import { loadavg } from 'node:os';
import { nativeStatus } from '../bindings/native.js';
import { ensureBackends } from '../src/backends/index.js';
import { decodeStringsCpu, encodeStringsCpu } from '../src/backends/cpu/rle.js';
import { alternate, cFloor, fmtSpread, load1, machine, methodLine, table, timeit, type Impl } from './harness.js';

const C = 29,
  H = 2048,
  W = 2048,
  N = H * W;
const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 5;
const ROUNDS = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 9;
const loadStart = load1();
ensureBackends();

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
const floorRows: (string | number)[][] = [];
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
  // The floor and the kernels alternated round by round, same threads, on the same bytes.
  const threads = native.info!.threads;
  const both = new Uint8Array(2 * MB);
  both.set(pred, 0);
  both.set(truth, MB);
  const f1 = cFloor(truth, threads),
    f2 = cFloor(both, threads);
  if ('error' in f1 || 'error' in f2) {
    cpuNotes.push(`C floor not built: ${'error' in f1 ? f1.error : (f2 as { error: string }).error}`);
  } else {
    const impls: (Impl & { bytes: number })[] = [
      { name: 'C floor: sum every byte of one mask set', threads, bytes: MB, run: () => f1.peer.timed('sum') },
      { name: 'C floor: memcpy one mask set', threads, bytes: MB, run: () => f1.peer.timed('copy') },
      { name: 'C floor: sum both mask sets', threads, bytes: 2 * MB, run: () => f2.peer.timed('sum') },
      { name: 'cpu maskToRuns, row order (one set)', threads, bytes: MB, run: () => maskToRuns(truth, shape, cpu) },
      {
        name: 'cpu native RLE strings, row order (one set)',
        threads,
        bytes: MB,
        run: () => encodeStringsCpu({ ...nativeArgs, order: 'row' }, 'rle'),
      },
      {
        name: 'cpu dice on masks (both sets)',
        threads,
        bytes: 2 * MB,
        run: () => dice([pred], [truth], { classes: C, ...shape }, cpu),
      },
    ];
    const m = await alternate(impls, ROUNDS, 2);
    f1.done();
    f2.done();
    const floorOf = (bytes: number) => m[bytes === MB ? 0 : 2]!;
    floorRows.push(
      ...m.map((r, k) => {
        const fl = floorOf(impls[k]!.bytes);
        return [
          r.name,
          r.threads,
          fmtSpread(r.wall),
          fmtSpread(r.cpu),
          (impls[k]!.bytes / 1e9 / (r.wall.median / 1e3)).toFixed(1),
          k === 0 || k === 2 ? '1 (floor)' : (r.wall.median / fl.wall.median).toFixed(2) + 'x',
          k === 0 || k === 2 ? '1 (floor)' : (r.cpu.median / fl.cpu.median).toFixed(2) + 'x',
        ];
      }),
    );
  }
  cpuNotes.push(
    `cpu backend (${native.info!.compiler}, ${native.info!.threads} threads): outputs identical to the JS kernels (runs, strings, COCO strings, masks, Dice counts).`,
  );
} else {
  cpuNotes.push(`cpu backend not measured: ${native.available ? 'this build has no rleEncode' : native.reason}`);
}

const runs = runsT.reduce((s, r) => s + r.length / 2, 0);
const chars = rle.reduce((s, r) => s + r.length, 0);
console.log(`# RLE / Dice, ${C}x${H}x${W} masks (${(MB / 2 ** 20).toFixed(0)} MiB per mask set)\n`);
console.log(`${methodLine(ROUNDS)}. Load average (1 min): ${loadStart} at the start, ${load1()} at the end.\n`);
if (floorRows.length)
  console.log(
    table(
      [
        'alternated with the floor',
        'threads',
        'wall ms, median (min-max)',
        'CPU ms, median (min-max)',
        'GB/s (wall)',
        'wall / floor',
        'CPU / floor',
      ],
      floorRows,
    ) + '\n',
  );
console.log(
  `Per-row table (${machine()}): each row timed alone, medians of ${repeats} runs after 1 warm-up; JS rows single thread, cpu rows on the native pool.`,
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
