/**
 * readImage's native PNG path (native/cpu/pngDecode.cc via src/io/pngNative.ts) gives exactly the
 * pixels of the sharp path, and declines everything it does not handle so that sharp decides (same
 * pixels, same errors): hand-made PNGs with every filter type, every colour type and depth, IDAT split
 * at random places; PNGs written by sharp at several compression levels and filter modes; extra chunks;
 * palette, low bit depths and interlacing; truncated and corrupted files; huge IHDR sizes; the `into`
 * option; and a process without the addon. The sharp path is readImage under setDefaultBackend('js').
 * With MASKBOX_REQUIRE_NATIVE=1 a missing decoder is a failure, not a skip.
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nativeHasOp } from '../bindings/native.js';
import { getDefaultBackend, setDefaultBackend } from '../src/backends/registry.js';
import { InvalidArgumentError } from '../src/errors.js';
import { readImage, type RawImage, type ReadImageOptions } from '../src/io/image.js';
import { decodePngNative, nativePngAvailable, nativePngFormat, pngHeader } from '../src/io/pngNative.js';
import { pngChunk, pngHeaderOnly, rng } from './helpers.js';

const HAS = nativeHasOp('pngDecode') === true && nativePngAvailable();
if (process.env.MASKBOX_REQUIRE_NATIVE === '1' && !HAS)
  throw new Error(`native PNG decoder unavailable: ${String(nativeHasOp('pngDecode'))}`);
const describeNative = HAS ? describe : describe.skip;

// ---- a small PNG encoder with explicit filters, chunk order and IDAT splits ----
const chunk = pngChunk;
const SIG = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const FILE_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

interface PngSpec {
  width: number;
  height: number;
  colourType: 0 | 2 | 4 | 6;
  bitDepth: 8 | 16;
  /** Filter type of each row. */
  filter: (row: number) => number;
  level?: number;
  /** Split the zlib stream into IDAT chunks of these sizes (the rest in the last one). */
  split?: number[];
  before?: Buffer[];
  after?: Buffer[];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encode random samples; returns the file and the raw file-layout bytes. */
function makePng(spec: PngSpec, random: () => number): Buffer {
  const bpp = FILE_CHANNELS[spec.colourType]! * (spec.bitDepth / 8);
  const rowBytes = spec.width * bpp;
  const raw = new Uint8Array(rowBytes * spec.height).map(() => Math.floor(random() * 256));
  const filtered = new Uint8Array((rowBytes + 1) * spec.height);
  for (let y = 0; y < spec.height; y++) {
    const t = spec.filter(y);
    filtered[y * (rowBytes + 1)] = t;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[y * rowBytes + i]!;
      const a = i >= bpp ? raw[y * rowBytes + i - bpp]! : 0;
      const b = y > 0 ? raw[(y - 1) * rowBytes + i]! : 0;
      const c = y > 0 && i >= bpp ? raw[(y - 1) * rowBytes + i - bpp]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][t]!;
      filtered[y * (rowBytes + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const z = deflateSync(filtered, { level: spec.level ?? 6 });
  const idats: Buffer[] = [];
  let pos = 0;
  for (const n of spec.split ?? []) {
    idats.push(chunk('IDAT', z.subarray(pos, Math.min(z.length, pos + n))));
    pos = Math.min(z.length, pos + n);
  }
  idats.push(chunk('IDAT', z.subarray(pos)));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr.set([spec.bitDepth, spec.colourType, 0, 0, 0], 8);
  return Buffer.concat([
    SIG,
    chunk('IHDR', ihdr),
    ...(spec.before ?? []),
    ...idats,
    ...(spec.after ?? []),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** readImage on the sharp path: its pixels, or the error's class and message. */
async function viaSharp(bytes: Uint8Array, options: ReadImageOptions = {}): Promise<RawImage | string> {
  const before = getDefaultBackend();
  setDefaultBackend('js');
  try {
    return await readImage(bytes, options);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  } finally {
    setDefaultBackend(before);
  }
}
async function viaDefault(bytes: Uint8Array, options: ReadImageOptions = {}): Promise<RawImage | string> {
  try {
    return await readImage(bytes, options);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}
/** Why the native decoder declines `bytes` ('' = it decodes them). */
async function nativeReason(bytes: Uint8Array): Promise<string> {
  const h = pngHeader(bytes);
  const f = h && nativePngFormat(h);
  if (!h || !f) return 'format';
  const why: { reason?: string } = {};
  await decodePngNative(bytes, h, f, new Uint8Array(h.width * h.height * f.channels * (f.bitDepth / 8)), why);
  return why.reason!;
}
async function expectSame(bytes: Uint8Array, options: ReadImageOptions = {}): Promise<void> {
  const [a, b] = [await viaDefault(bytes, options), await viaSharp(bytes, options)];
  if (typeof a === 'string' || typeof b === 'string') expect(a).toEqual(b);
  else {
    expect(a.data.constructor).toBe(b.data.constructor);
    expect({ ...a, data: undefined }).toEqual({ ...b, data: undefined });
    const bytesOf = (d: RawImage['data']) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    expect(bytesOf(a.data).equals(bytesOf(b.data)), 'pixels differ').toBe(true);
  }
}

afterEach(() => setDefaultBackend('auto'));

describeNative('native PNG decode equals sharp', () => {
  const sizes: [number, number][] = [
    [1, 1],
    [1, 7],
    [5, 1],
    [3, 4],
    [17, 9],
    [64, 31],
    [301, 5],
  ];
  for (const colourType of [0, 2, 4, 6] as const)
    for (const bitDepth of [8, 16] as const)
      it(`hand-made: colour type ${colourType}, ${bitDepth}-bit, every filter, split IDAT`, async () => {
        const random = rng(colourType * 100 + bitDepth);
        for (const [width, height] of sizes) {
          for (const mode of ['cycle', 'random'] as const) {
            const filter = mode === 'cycle' ? (y: number) => y % 5 : () => Math.floor(random() * 5);
            const split = Array.from({ length: 4 }, () => Math.floor(random() * 40));
            const level = [0, 1, 6, 9][Math.floor(random() * 4)]!;
            const png = makePng({ width, height, colourType, bitDepth, filter, split, level }, random);
            expect(await nativeReason(png)).toBe('');
            await expectSame(png);
          }
        }
      });

  it('PNGs written by sharp: every channel count and depth, compression levels, adaptive filtering', async () => {
    const random = rng(7);
    for (const channels of [1, 2, 3, 4] as const)
      for (const sixteen of [false, true])
        for (const [width, height] of [
          [1, 1],
          [33, 17],
          [128, 65],
        ] as const)
          for (const [level, adaptive] of [
            [0, false],
            [6, true],
            [9, true],
          ] as const) {
            const n = width * height * channels;
            const raw = sixteen
              ? new Uint16Array(n).map((_, i) => (i % 7 === 0 ? 65535 : Math.floor(random() * 65536)))
              : new Uint8Array(n).map(() => Math.floor(random() * 256));
            let p = sharp(Buffer.from(raw.buffer), {
              raw: { width, height, channels, ...(sixteen ? { depth: 'ushort' as const } : {}) },
            });
            if (sixteen) p = p.toColourspace(channels <= 2 ? 'grey16' : 'rgb16');
            const png = await p.png({ compressionLevel: level, adaptiveFiltering: adaptive }).toBuffer();
            const h = pngHeader(png)!;
            expect(h.bitDepth).toBe(sixteen ? 16 : 8);
            expect(await nativeReason(png)).toBe('');
            await expectSame(png);
            await expectSame(png, { channels: channels <= 2 ? 1 : 3 });
          }
  });

  it('a larger frame with a noisy background (the detect workload)', async () => {
    const w = 512,
      h = 384;
    const random = rng(3);
    const raw = new Uint8Array(w * h * 3).map((_, i) => (i % 3 === 0 ? 20 : 0) + Math.floor(random() * 40));
    // As `maskbox simulate` writes it (src/sim/cdvDataset.ts): libvips adds a pHYs chunk.
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png({ compressionLevel: 6 })
      .toBuffer();
    expect(png.includes(Buffer.from('pHYs'))).toBe(true);
    expect(await nativeReason(png)).toBe('');
    // With metadata kept, libvips embeds an sRGB ICC profile: declined, sharp decodes it.
    const icc = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .withMetadata({ density: 300 })
      .toBuffer();
    expect(await nativeReason(icc)).toMatch(/iCCP/);
    await expectSame(icc);
    await expectSame(png);
  });

  it('accepts pHYs, tIME and tEXt; declines colour-management, palette and unknown chunks (sharp decodes those)', async () => {
    const random = rng(11);
    const spec = { width: 9, height: 5, colourType: 2 as const, bitDepth: 8 as const, filter: (y: number) => y % 5 };
    const phys = chunk('pHYs', Buffer.from([0, 0, 11, 19, 0, 0, 11, 19, 1]));
    const time = chunk('tIME', Buffer.from([7, 232, 12, 2, 15, 30, 0]));
    const text = chunk('tEXt', Buffer.from('Software\0maskbox test', 'latin1'));
    for (const png of [
      makePng({ ...spec, before: [phys, time, text] }, random),
      makePng({ ...spec, before: [phys], after: [text, time] }, random),
    ]) {
      expect(await nativeReason(png)).toBe('');
      await expectSame(png);
    }
    const declined: [Buffer, RegExp][] = [
      [chunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])), /gAMA/],
      [chunk('sRGB', Buffer.from([0])), /sRGB/],
      [chunk('cHRM', Buffer.alloc(32, 1)), /cHRM/],
      [chunk('sBIT', Buffer.from([5, 6, 5])), /sBIT/],
      [chunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3])), /tRNS/],
      [chunk('bKGD', Buffer.from([0, 1, 0, 2, 0, 3])), /bKGD/],
      [chunk('PLTE', Buffer.from([1, 2, 3])), /PLTE/],
      [chunk('zTXt', Buffer.from('a\0\0x', 'latin1')), /zTXt/],
      [chunk('tEXt', Buffer.from(' bad key\0x', 'latin1')), /tEXt/],
      [chunk('pHYs', Buffer.from([0, 0, 1, 0, 0, 0, 1, 0, 2])), /pHYs/],
      [chunk('ABCD', Buffer.from([1])), /ABCD/],
    ];
    for (const [c, re] of declined) {
      const png = makePng({ ...spec, before: [c] }, random);
      expect(await nativeReason(png)).toMatch(re);
      await expectSame(png);
    }
    // An ICC profile: sharp converts with it; declined.
    const withIcc = await sharp(Buffer.alloc(8 * 8 * 3, 90), { raw: { width: 8, height: 8, channels: 3 } })
      .withIccProfile('p3')
      .png()
      .toBuffer();
    expect(await nativeReason(withIcc)).toMatch(/iCCP/);
    await expectSame(withIcc);
  });

  it('declines palette, low bit depths and interlaced files; readImage then equals sharp', async () => {
    const rgb = new Uint8Array(40 * 30 * 3).map((_, i) => (i * 37) & 0xff);
    const src = () => sharp(rgb, { raw: { width: 40, height: 30, channels: 3 } });
    const palette = await src().png({ palette: true, colours: 16 }).toBuffer();
    // 4-bit grey, by hand: 6x3, rows of 3 bytes behind filter byte 0.
    const ihdr = Buffer.from([0, 0, 0, 6, 0, 0, 0, 3, 4, 0, 0, 0, 0]);
    const rows = Buffer.from([0, 0x01, 0x23, 0x45, 0, 0x67, 0x89, 0xab, 0, 0xcd, 0xef, 0x10]);
    const fourBit = Buffer.concat([
      SIG,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', new Uint8Array(0)),
    ]);
    const interlaced = await src().png({ progressive: true }).toBuffer();
    for (const png of [palette, fourBit, interlaced]) {
      expect(nativePngFormat(pngHeader(png)!)).toBeNull();
      await expectSame(png);
      await expectSame(png, { channels: 1 });
    }
    // Another channel count than the file's: sharp converts (grey -> RGB, RGB -> grey).
    const grey = makePng({ width: 6, height: 6, colourType: 0, bitDepth: 8, filter: () => 4 }, rng(1));
    await expectSame(grey, { channels: 3 });
    await expectSame(await src().png().toBuffer(), { channels: 1 });
  });

  it('truncated and corrupted files: the same outcome (pixels or typed error) as the sharp path', async () => {
    const random = rng(5);
    const png = makePng(
      { width: 40, height: 12, colourType: 6, bitDepth: 8, filter: (y) => y % 5, split: [50, 0, 1, 100] },
      random,
    );
    for (let cut = 1; cut < png.length; cut += Math.max(1, Math.floor(png.length / 60))) {
      const bytes = png.subarray(0, cut);
      expect(await nativeReason(bytes)).not.toBe('');
      await expectSame(bytes);
    }
    for (let k = 0; k < 80; k++) {
      const bytes = Buffer.from(png);
      const at = 8 + Math.floor(random() * (png.length - 8));
      bytes[at] = bytes[at]! ^ (1 + Math.floor(random() * 255));
      if (at >= 33) expect(await nativeReason(bytes)).not.toBe(''); // every byte after IHDR is CRC-covered
      await expectSame(bytes);
    }
    // CRCs fixed up after corrupting the zlib data: inflate itself must reject it (or sharp agrees).
    const bad = makePng({ width: 8, height: 8, colourType: 0, bitDepth: 8, filter: () => 7 }, random); // filter 7
    expect(await nativeReason(bad)).toMatch(/filter/);
    await expectSame(bad);
  });

  it('refuses a huge IHDR by maxPixels before decoding, as before', async () => {
    const into = vi.fn((n: number) => new Uint8Array(n));
    const bomb = pngHeaderOnly(60000, 60000);
    const a = await viaDefault(bomb, { into });
    expect(a).toMatch(/^InvalidArgumentError: .*exceeds the limit/);
    expect(a).toEqual(await viaSharp(bomb));
    expect(into).not.toHaveBeenCalled();
    const small = makePng({ width: 20, height: 20, colourType: 2, bitDepth: 8, filter: () => 1 }, rng(2));
    await expectSame(small, { maxPixels: 399 });
    expect(await viaDefault(small, { maxPixels: 399, into })).toMatch(/InvalidArgumentError/);
    expect(into).not.toHaveBeenCalled();
  });
});

describeNative('readImage into', () => {
  it('decodes into the caller memory (8- and 16-bit), also on the sharp path', async () => {
    const random = rng(9);
    for (const bitDepth of [8, 16] as const) {
      const png = makePng({ width: 13, height: 7, colourType: 6, bitDepth, filter: (y) => y % 5 }, random);
      const mem = new Uint8Array(4096);
      const into = vi.fn(() => mem);
      const img = await readImage(png, { into });
      expect(into).toHaveBeenCalledWith(13 * 7 * 3 * (bitDepth / 8));
      expect(img.data.buffer).toBe(mem.buffer);
      const ref = (await viaSharp(png)) as RawImage;
      expect(Array.from(img.data)).toEqual(Array.from(ref.data));
    }
    const jpeg = await sharp(Buffer.alloc(16 * 16 * 3, 77), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg()
      .toBuffer();
    const mem = new Uint8Array(16 * 16 * 3);
    const img = await readImage(jpeg, { into: () => mem });
    expect(img.data.buffer).toBe(mem.buffer);
    expect(Array.from(img.data)).toEqual(Array.from(((await viaSharp(jpeg)) as RawImage).data));
  });

  it('rejects memory that is too small or misaligned for 16-bit', async () => {
    const png16 = makePng({ width: 4, height: 4, colourType: 0, bitDepth: 16, filter: () => 0 }, rng(4));
    await expect(readImage(png16, { into: () => new Uint8Array(31) })).rejects.toThrow(InvalidArgumentError);
    await expect(readImage(png16, { into: () => new Uint8Array(64).subarray(1) })).rejects.toThrow(/even byteOffset/);
    await expect(readImage(png16, { into: 5 as never })).rejects.toThrow(/into/);
  });
});

describe('readImage without the native decoder', () => {
  afterEach(() => {
    vi.doUnmock('../bindings/native.js');
    vi.resetModules();
  });
  const png = makePng({ width: 11, height: 6, colourType: 2, bitDepth: 8, filter: (y) => y % 5 }, rng(8));

  for (const [name, mock] of [
    ['no addon', { nativeHasOp: () => 'the native addon was not built', requireNative: () => ({}) }],
    ['no zlib in the process', { nativeHasOp: () => true, requireNative: () => ({ pngZlib: () => null }) }],
  ] as const) {
    it(`${name}: sharp decodes, same pixels`, async () => {
      vi.resetModules();
      vi.doMock('../bindings/native.js', async (orig) => ({ ...(await orig<object>()), ...mock }));
      const image = await import('../src/io/image.js');
      const native = await import('../src/io/pngNative.js');
      expect(native.nativePngAvailable()).toBe(false);
      const a = await image.readImage(png);
      const b = (await viaSharp(png)) as RawImage;
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    });
  }
});
