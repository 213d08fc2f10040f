/**
 * The native RLE / Dice kernels beyond the shared specs (test/rle.test.ts and test/dice.test.ts run on
 * the cpu backend through describeEachKernel): string formatting and parsing in C++ (identical strings,
 * identical ParseError messages), channels split into pieces across threads (runs crossing a seam),
 * dense and sparse column-order paths, and argument errors as JS exceptions, never crashes.
 *
 * With MASKBOX_REQUIRE_NATIVE=1 a missing addon is a failure, not a skip.
 */
import { describe, expect, it } from 'vitest';
import { loadNative, nativeStatus } from '../bindings/native.js';
import { rleDecode as jsDecode, rleEncode as jsEncode, rleOverlap as jsOverlap } from '../src/backends/js/rle.js';
import { dice as jsDice } from '../src/backends/js/dice.js';
import { cocoRleFromString, cocoRleToString } from '../src/backends/js/cocoRle.js';
import {
  decodeStringsCpu,
  diceCpu,
  encodeCocoCountsCpu,
  encodeStringsCpu,
  readFloorCpu,
  rleDecodeCpu,
  rleEncodeCpu,
  rleOverlapCpu,
} from '../src/backends/cpu/rle.js';
import { decodeCocoRle, decodeRle, formatRle, runsToCocoCounts } from '../src/ops/rle.js';
import { ParseError } from '../src/errors.js';
import { rng } from './helpers.js';

const addon = loadNative() as unknown as Record<string, (args: unknown) => Promise<unknown>> | null;
const requireNative = process.env.MASKBOX_REQUIRE_NATIVE === '1';
const run = addon && typeof addon.rleEncode === 'function' ? describe : describe.skip;
const reason = addon ? 'this build has no rleEncode' : nativeStatus().reason;

it('the native RLE kernels are built (or the reason is known)', () => {
  if (requireNative) expect(addon?.rleEncode, reason).toBeTypeOf('function');
  else expect(reason.length).toBeGreaterThan(0);
});

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  a.byteLength === b.byteLength &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sameRuns = (a: Uint32Array[], b: Uint32Array[]) => a.length === b.length && a.every((r, i) => same(r, b[i]!));

/** `[C, H, W]` masks: blobs (sparse), noise (dense) or stripes, with random non-zero values. */
function masks(kind: 'blobs' | 'noise' | 'stripes', c: number, h: number, w: number, seed: number): Uint8Array {
  const r = rng(seed);
  const m = new Uint8Array(c * h * w);
  for (let k = 0; k < c; k++) {
    const off = k * h * w;
    if (kind === 'noise') for (let i = 0; i < h * w; i++) m[off + i] = r() < 0.5 ? 0 : 1 + Math.floor(r() * 255);
    else if (kind === 'stripes') for (let y = 0; y < h; y += 3) m.fill(200, off + y * w, off + y * w + w);
    else
      for (let b = 0; b < 4; b++) {
        const cx = r() * w,
          cy = r() * h,
          rx = 2 + r() * w * 0.2,
          ry = 2 + r() * h * 0.2;
        for (let y = Math.max(0, Math.ceil(cy - ry)); y < Math.min(h, cy + ry); y++) {
          const dx = rx * Math.sqrt(Math.max(0, 1 - ((y - cy) / ry) ** 2));
          const x0 = Math.max(0, Math.ceil(cx - dx)),
            x1 = Math.min(w, Math.floor(cx + dx) + 1);
          if (x1 > x0) m.fill(1 + Math.floor(r() * 255), off + y * w + x0, off + y * w + x1);
        }
      }
  }
  return m;
}

const SHAPES: [string, 'blobs' | 'noise' | 'stripes', number, number, number][] = [
  ['blobs 3x37x53', 'blobs', 3, 37, 53],
  ['noise 2x29x31 (dense column path)', 'noise', 2, 29, 31],
  ['stripes 1x64x64', 'stripes', 1, 64, 64],
  // 1100 x 1000 = 1.1 M pixels: two 1 MiB pieces per channel, runs crossing the seam at 1048576.
  ['blobs 2x1100x1000 (pieces)', 'blobs', 2, 1100, 1000],
  ['noise 1x1100x1000 (pieces, dense)', 'noise', 1, 1100, 1000],
  ['1xN', 'noise', 2, 1, 77],
  ['Nx1', 'noise', 2, 77, 1],
];

run('native RLE encode / decode', () => {
  it.each(SHAPES)('%s: runs, strings and COCO counts equal the JS kernels', async (_, kind, c, h, w) => {
    const mask = masks(kind, c, h, w, h * 31 + w);
    if (h * w > 1 << 20) mask.fill(9, (1 << 20) - 100, (1 << 20) + 100); // a run across the first seam
    const args = { mask, channels: c, height: h, width: w };
    for (const order of ['row', 'col'] as const) {
      const js = jsEncode({ ...args, order });
      expect(sameRuns(await rleEncodeCpu({ ...args, order }), js)).toBe(true);
      expect(await encodeStringsCpu({ ...args, order }, 'rle')).toEqual(js.map(formatRle));
      const back = await rleDecodeCpu({ runs: js, height: h, width: w, order });
      expect(same(back, jsDecode({ runs: js, height: h, width: w, order }))).toBe(true);
      const strings = js.map(formatRle);
      expect(same(await decodeStringsCpu(strings, { height: h, width: w }, { kind: 'rle', order }), back)).toBe(true);
    }
    const col = jsEncode({ ...args, order: 'col' });
    const counts = col.map((r) => runsToCocoCounts(r, { height: h, width: w }));
    expect(sameRuns(await encodeCocoCountsCpu(args), counts)).toBe(true);
    const cocoStrings = counts.map(cocoRleToString);
    expect(await encodeStringsCpu({ ...args, order: 'col' }, 'cocoString')).toEqual(cocoStrings);
    const fromCoco = await decodeStringsCpu(cocoStrings, { height: h, width: w }, { kind: 'coco' });
    expect(same(fromCoco, (await decodeCocoRle(cocoStrings, { height: h, width: w }, { backend: 'js' })).mask)).toBe(
      true,
    );
  });

  it('without zeroed: true every byte of out is written (a reused, dirty buffer)', async () => {
    for (const [kind, order] of [
      ['blobs', 'row'],
      ['blobs', 'col'],
      ['noise', 'col'],
    ] as const) {
      const mask = masks(kind, 2, 33, 47, 11);
      const runs = jsEncode({ mask, channels: 2, height: 33, width: 47, order });
      const out = new Uint8Array(mask.length).fill(7);
      await addon!.rleDecode!({ runs, height: 33, width: 47, order, out });
      expect(same(out, jsDecode({ runs, height: 33, width: 47, order }))).toBe(true);
    }
  });

  it('unaligned views, empty and full channels, zero-sized shapes', async () => {
    const buf = new Uint8Array(3 + 3 * 40 * 50);
    const mask = buf.subarray(3);
    mask.fill(5, 2000, 4000); // channel 1 full, channel 0 empty, channel 2 partial
    mask.fill(1, 4000, 4123);
    for (const order of ['row', 'col'] as const) {
      const args = { mask, channels: 3, height: 40, width: 50, order };
      expect(sameRuns(await rleEncodeCpu(args), jsEncode(args))).toBe(true);
    }
    for (const [h, w] of [
      [0, 5],
      [5, 0],
      [0, 0],
    ]) {
      const args = { mask: new Uint8Array(0), channels: 1, height: h!, width: w!, order: 'col' as const };
      expect(sameRuns(await rleEncodeCpu(args), jsEncode(args))).toBe(true);
      expect(await encodeStringsCpu(args, 'cocoString')).toEqual([cocoRleToString([0])]);
      expect(await rleDecodeCpu({ runs: [new Uint32Array(0)], height: h!, width: w!, order: 'row' })).toHaveLength(0);
      expect(await decodeStringsCpu('', { height: h!, width: w! }, { kind: 'rle' })).toHaveLength(0);
    }
  });
});

run('native RLE string errors equal the JS parsers', () => {
  const shape = { height: 4, width: 5 };
  const bad = [
    '1 2 3',
    '1 2 x 3',
    '1.5 2',
    '1 -2',
    '1e1 2',
    '0 2',
    '21 1',
    '19 3',
    '5 3 6 1',
    '9 2 3 1',
    '1 99999999999999999999999',
    '1 123456789012345678901234567890',
    '1 2 3 4444444444444444444444444444444444444',
    '18 9007199254740993',
    '1 2\u00a03 1',
    'ü 1',
    '1 2 \ud83d\ude00 3',
    '1 2 \ud83d 3',
    '3 1 7',
    '1 0 1 0 1 21',
  ];
  it.each(bad)('%j', async (text) => {
    let expected: unknown;
    try {
      await decodeRle(['1 1', text], shape, { source: 'pred.csv', backend: 'js' });
    } catch (e) {
      expected = e;
    }
    expect(expected).toBeInstanceOf(ParseError);
    const err = await decodeStringsCpu(['1 1', text], shape, { kind: 'rle', source: 'pred.csv' }).catch((e) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toBe((expected as Error).message);
    expect(err.source).toBe('pred.csv[1]');
    const one = await decodeStringsCpu(text, shape, { kind: 'rle', order: 'col' }).catch((e) => e);
    expect(one.message).toMatch(/^rle: /);
  });

  const badCoco: [string, number, number][] = [
    ['52', 4, 5], // sums to 7
    ['5', 4, 5],
    ['0140O0002', 4, 5], // a truncated valid string
    ['0140O0002p', 4, 5], // 'p' is past 'o'
    ['01 4', 4, 5],
    ['0\u00e9', 4, 5],
    ['0\ud83d', 4, 5],
    ['o', 4, 5], // ends inside a value (continuation bit set)
    ['ooooooo0', 4, 5], // eight groups: too long
    ['ooooooO', 4, 5], // 35 bits, negative
    ['0oooooo3', 4, 5], // 2^32 and more
    ['06:', 4, 5], // a negative count (delta below zero)
    ['00000004:', 1, 1], // delta from index 3 makes it negative
  ];
  it.each(badCoco)('coco %j at %ix%i', async (text, h, w) => {
    let expected: unknown;
    try {
      cocoRleFromString(text, h, w, 'ann.json');
    } catch (e) {
      expected = e;
    }
    expect(expected).toBeInstanceOf(ParseError);
    const err = await decodeStringsCpu(text, { height: h, width: w }, { kind: 'coco', source: 'ann.json' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ParseError);
    expect(err.message).toBe((expected as Error).message);
  });

  it('accepts any ASCII whitespace, touching and zero-length runs like the JS parser', async () => {
    const shape2 = { height: 4, width: 5 };
    for (const text of ['  1 2\t3\n1  ', '1 0 1 1', '\v1\f20\r', '']) {
      const js = (await decodeRle(text, shape2, { backend: 'js' })).mask;
      expect(same(await decodeStringsCpu(text, shape2, { kind: 'rle' }), js)).toBe(true);
    }
  });
});

run('native Dice and overlap', () => {
  it('dice counts equal the JS kernel on large unaligned channels (pieces across threads)', async () => {
    const h = 1500,
      w = 1500,
      c = 2; // 2.25 M pixels a channel: two 2 MiB pieces
    const p = masks('blobs', c, h, w, 3),
      t = masks('noise', c, h, w, 4);
    const pb = new Uint8Array(p.length + 5),
      tb = new Uint8Array(t.length + 2);
    pb.set(p, 5);
    tb.set(t, 2);
    const args = { pred: [pb.subarray(5), p], truth: [tb.subarray(2), t], classes: c, pixels: h * w };
    expect(Array.from(await diceCpu(args))).toEqual(Array.from(jsDice(args)));
  });

  it('overlap counts equal the JS kernel', async () => {
    const r = rng(9);
    const lists = () =>
      Array.from({ length: 50 }, () => {
        const m = masks(r() < 0.5 ? 'noise' : 'blobs', 1, 20, 30, Math.floor(r() * 1e6));
        return jsEncode({ mask: m, channels: 1, height: 20, width: 30, order: 'row' })[0]!;
      });
    const args = { a: lists(), b: lists() };
    expect(Array.from(await rleOverlapCpu(args))).toEqual(Array.from(jsOverlap(args)));
  });

  it('readFloor reads every byte', async () => {
    const m = new Uint8Array((3 << 21) + 17);
    expect(await readFloorCpu(m)).toBe(0);
    m[m.length - 1] = 0x40;
    m[5] = 3;
    expect(await readFloorCpu(m)).toBe(0x43);
  });
});

run('native argument errors are JS exceptions naming the argument', () => {
  const call = (op: string, args: unknown) => Promise.resolve().then(() => addon![op]!(args));
  const rejects = async (op: string, args: unknown, re: RegExp, name: 'TypeError' | 'RangeError' | 'Error') => {
    const err = (await call(op, args).catch((e: unknown) => e)) as Error;
    expect(err, `${op} should reject`).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.message).toMatch(re);
  };
  const mask = new Uint8Array(20);
  const u32 = (...v: number[]) => Uint32Array.from(v);

  it('rleEncode', async () => {
    const ok = { mask, channels: 1, height: 4, width: 5, order: 'row' };
    await rejects(
      'rleEncode',
      { ...ok, mask: new Uint8Array(19) },
      /length channels \* height \* width.*received length 19/,
      'RangeError',
    );
    await rejects('rleEncode', { ...ok, channels: 2 }, /for mask/, 'RangeError');
    await rejects(
      'rleEncode',
      { ...ok, mask: new Int8Array(20) },
      /Uint8Array for mask but received Int8Array/,
      'TypeError',
    );
    await rejects('rleEncode', { ...ok, height: 70000, width: 70000 }, /height \* width <= 4294967295/, 'RangeError');
    await rejects('rleEncode', { ...ok, height: -1 }, /for height/, 'RangeError');
    await rejects('rleEncode', { ...ok, order: 'F' }, /for order/, 'RangeError');
    await rejects('rleEncode', { ...ok, format: 'png' }, /for format/, 'RangeError');
    await rejects('rleEncode', { ...ok, format: 'coco' }, /'col' with a COCO format/, 'RangeError');
    await rejects('rleEncode', { ...ok, channels: 1e6, height: 0 }, /for channels/, 'RangeError');
    await rejects('rleEncode', 5, /options object for args/, 'TypeError');
  });

  it('rleDecode', async () => {
    const ok = { height: 4, width: 5, order: 'row', out: new Uint8Array(20) };
    await rejects('rleDecode', { ...ok, runs: [u32(0, 1)], out: new Uint8Array(21) }, /for out/, 'RangeError');
    await rejects('rleDecode', { ...ok, runs: [u32(0, 1)], rle: ['1 1'] }, /exactly one of runs/, 'TypeError');
    await rejects('rleDecode', { ...ok }, /exactly one of runs/, 'TypeError');
    await rejects('rleDecode', { ...ok, runs: [new Int32Array(2)] }, /Uint32Array for runs\[0\]/, 'TypeError');
    await rejects('rleDecode', { ...ok, runs: u32(0, 1) }, /an Array for runs/, 'TypeError');
    await rejects('rleDecode', { ...ok, rle: ['1 1', 7] }, /a string for rle\[1\]/, 'TypeError');
    await rejects('rleDecode', { ...ok, coco: ['52'] }, /'col' with coco strings/, 'RangeError');
    // Run lists are checked again in C++ (odd length, unsorted, overlapping, past the end): rejected, no crash.
    await rejects(
      'rleDecode',
      { ...ok, runs: [u32(0, 1, 5)] },
      /runs\[0\]: expected a Uint32Array of even length/,
      'Error',
    );
    await rejects('rleDecode', { ...ok, runs: [u32(5, 2, 3, 1)] }, /runs\[0\].*sorted/, 'Error');
    await rejects('rleDecode', { ...ok, runs: [u32(18, 3)] }, /ends at 21/, 'Error');
    await rejects('rleDecode', { ...ok, runs: [u32(0xffffffff, 0xffffffff)] }, /ends at 8589934590/, 'Error');
    await rejects(
      'rleDecode',
      { ...ok, order: 'col', runs: [u32(0, 1), u32(2, 1, 0, 1)], out: new Uint8Array(40) },
      /runs\[1\]/,
      'Error',
    );
  });

  it('rleOverlap, dice, readFloor', async () => {
    const out3 = new Float64Array(3);
    await rejects('rleOverlap', { a: [u32(0, 1)], b: [u32(0)], out: out3 }, /even length.*for b\[0\]/, 'RangeError');
    await rejects('rleOverlap', { a: [u32(0, 1)], b: [], out: out3 }, /as many run lists as a/, 'RangeError');
    await rejects(
      'rleOverlap',
      { a: [u32(0, 1)], b: [u32(0, 1)], out: new Float32Array(3) },
      /Float64Array for out/,
      'TypeError',
    );
    await rejects('rleOverlap', { a: [u32(0, 1)], b: [u32(0, 1)], out: new Float64Array(2) }, /for out/, 'RangeError');
    const okDice = { pred: [mask], truth: [mask], classes: 1, pixels: 20, out: out3 };
    await rejects('dice', { ...okDice, truth: [new Uint8Array(19)] }, /for truth\[0\]/, 'RangeError');
    await rejects('dice', { ...okDice, truth: [] }, /as many images as pred/, 'RangeError');
    await rejects('dice', { ...okDice, classes: 2 }, /for pred\[0\]/, 'RangeError');
    await rejects('dice', { ...okDice, out: new Float64Array(4) }, /for out/, 'RangeError');
    await rejects('dice', { ...okDice, pixels: 1.5 }, /for pixels/, 'RangeError');
    await rejects('readFloor', { mask: [1, 2] }, /Uint8Array for mask/, 'TypeError');
    // Overlap on unsorted or huge runs is memory-safe (TypeScript validates them; C++ only needs even lengths).
    await call('rleOverlap', { a: [u32(0xffffffff, 0xffffffff, 3, 1)], b: [u32(7, 0xffffffff)], out: out3 });
  });

  it('a detached buffer is refused', async () => {
    const m = new Uint8Array(20);
    structuredClone(m.buffer, { transfer: [m.buffer] });
    await rejects(
      'rleEncode',
      { mask: m, channels: 1, height: 4, width: 5, order: 'row' },
      /received length 0/,
      'RangeError',
    );
  });
});
