import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  cocoCountsToRuns,
  decodeCocoRle,
  decodeRle,
  encodeCocoRle,
  encodeRle,
  formatRle,
  maskToRuns,
  parseRle,
  rleArea,
  rleIou,
  runsToCocoCounts,
  runsToMask,
} from '../src/ops/rle.js';
import { rleDice } from '../src/ops/dice.js';
import { cocoRleEncode } from '../src/backends/js/cocoRle.js';
import { transposeRuns } from '../src/backends/js/rle.js';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { REPO, SHARED, describeEachKernel, describeShared } from './helpers.js';

const fromRows = (rows: string[]) => Uint8Array.from(rows.join(''), (ch) => (ch === '1' ? 1 : 0));
const numpy = JSON.parse(readFileSync(join(REPO, 'test/goldens/rle/rle_numpy.json'), 'utf8'));

/** Row-major transpose of `[h, w]`. */
function transposed(m: Uint8Array, h: number, w: number): Uint8Array {
  const t = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) t[x * h + y] = m[y * w + x]!;
  return t;
}
const binary = (m: Uint8Array) => m.map((v) => (v !== 0 ? 1 : 0));
function sum(m: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i] !== 0 ? 1 : 0;
  return s;
}
/** Byte equality without vitest's slow deep diff of large typed arrays. */
const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  expect(
    a.length === b.length &&
      Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length)),
  ).toBe(true);

/** Masks of random shape (including 0, 1xN, Nx1) made of random-length runs of random non-zero values. */
const maskArb = fc
  .record({
    h: fc.integer({ min: 0, max: 23 }),
    w: fc.integer({ min: 0, max: 23 }),
    c: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer(),
    runScale: fc.constantFrom(1, 3, 17, 200),
    fill: fc.constantFrom(-1, 0, 0.5),
  })
  .map(({ h, w, c, seed, runScale, fill }) => {
    let s = seed >>> 0;
    const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const m = new Uint8Array(c * h * w);
    if (fill === -1)
      m.fill(r() < 0.5 ? 0 : 7); // empty or full
    else {
      let i = 0,
        on = r() < fill;
      while (i < m.length) {
        const len = 1 + Math.floor(r() * runScale);
        if (on) m.fill(1 + Math.floor(r() * 255), i, i + len);
        i += len;
        on = !on;
      }
    }
    return { h, w, c, m };
  });

describeShared('competition RLE golden (shared/fixtures/handbone/rle_golden.json)', () => {
  const golden = JSON.parse(readFileSync(join(SHARED, 'fixtures/handbone/rle_golden.json'), 'utf8'));
  for (const c of golden.cases as {
    name: string;
    height: number;
    width: number;
    mask_rows: string[] | null;
    rle: string;
    sum: number;
  }[]) {
    it(c.name, async () => {
      const shape = { height: c.height, width: c.width };
      const { mask } = await decodeRle(c.rle, shape);
      expect(sum(mask)).toBe(c.sum);
      expect(rleArea(c.rle, c.height * c.width)).toBe(c.sum);
      if (c.mask_rows) expect(mask).toEqual(fromRows(c.mask_rows));
      const src = c.mask_rows ? fromRows(c.mask_rows) : mask;
      expect((await encodeRle(src, shape)).rle).toEqual([c.rle]);
    });
  }
});

describe('competition RLE golden, copied cases (run without ../shared)', () => {
  const cases = [
    { h: 4, w: 5, rows: ['10000', '01110', '00000', '00001'], rle: '1 1 7 3 20 1' },
    { h: 4, w: 5, rows: ['00001', '00001', '00001', '00001'], rle: '5 1 10 1 15 1 20 1' },
    { h: 4, w: 5, rows: ['00000', '00001', '10000', '00000'], rle: '10 2' },
    { h: 3, w: 4, rows: ['1111', '1111', '1111'], rle: '1 12' },
    { h: 3, w: 4, rows: ['0000', '0000', '0000'], rle: '' },
  ];
  it.each(cases)('$rle', async ({ h, w, rows, rle }) => {
    expect((await encodeRle(fromRows(rows), { height: h, width: w })).rle).toEqual([rle]);
    expect((await decodeRle(rle, { height: h, width: w })).mask).toEqual(fromRows(rows));
  });
});

// The encoder alone, on every backend with an rleEncode kernel (webgpu has no decoder yet): the same
// numpy goldens and the reference's runs on random masks.
/** Property runs: fewer on cuda, which in tests is the CPU emulation (tens of ms per launch sequence on fibers). */
const propertyRuns = (backend: string, runs = 150): number => (backend === 'cuda' ? 30 : runs);

describeEachKernel('rleEncode', 'rle encode (numpy goldens, random masks against the reference)', (backend) => {
  it.each(numpy.cases as any[])('$name', async (c) => {
    const shape = { height: c.height, width: c.width };
    const m = fromRows(c.mask_rows);
    expect((await encodeRle(m, shape, { backend })).rle).toEqual([c.rle_row]);
    expect((await encodeRle(m, shape, { order: 'col', backend })).rle).toEqual([c.rle_col]);
    const coco = await encodeCocoRle(m, shape, { backend, compress: true });
    expect(Array.from(coco.counts[0]!)).toEqual(c.coco_counts);
    expect(coco.strings).toEqual([c.coco_string]);
  });

  it('encodes [C, H, W] channels independently, from an unaligned view', async () => {
    const buf = new Uint8Array(1 + 24);
    buf.set(
      fromRows(['1111', '0110', '0000', '1001', '0000', '1111']).map((v) => v * 255),
      1,
    );
    const mask = buf.subarray(1);
    const shape = { height: 2, width: 4 };
    expect((await encodeRle(mask, shape, { backend })).rle).toEqual(['1 4 6 2', '5 1 8 1', '5 4']);
    expect((await encodeRle(mask, shape, { order: 'col', backend })).rle).toEqual([
      '1 1 3 5',
      '2 1 8 1',
      '2 1 4 1 6 1 8 1',
    ]);
  });

  it('gives the reference runs on random masks in both orders (property)', async () => {
    await fc.assert(
      fc.asyncProperty(maskArb, async ({ h, w, m }) => {
        for (const order of ['row', 'col'] as const) {
          const got = await maskToRuns(m, { height: h, width: w }, { order, backend });
          const want = await maskToRuns(m, { height: h, width: w }, { order, backend: 'js' });
          expect(got.runs).toEqual(want.runs);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describeEachKernel(
  ['rleEncode', 'rleDecode', 'rleOverlap'],
  'rle (numpy goldens: competition encoder, order=F, COCO counts)',
  (backend) => {
    it.each(numpy.cases as any[])('$name', async (c) => {
      const shape = { height: c.height, width: c.width };
      const m = fromRows(c.mask_rows);
      expect((await encodeRle(m, shape, { backend })).rle).toEqual([c.rle_row]);
      expect((await encodeRle(m, shape, { order: 'col', backend })).rle).toEqual([c.rle_col]);
      const coco = await encodeCocoRle(m, shape, { backend, compress: true });
      expect(Array.from(coco.counts[0]!)).toEqual(c.coco_counts);
      expect(coco.strings).toEqual([c.coco_string]);
      expect((await decodeCocoRle(c.coco_string, shape, { backend })).mask).toEqual(m);
      expect((await decodeRle(c.rle_row, shape, { backend })).mask).toEqual(m);
      expect((await decodeRle(c.rle_col, shape, { order: 'col', backend })).mask).toEqual(m);
      expect((await decodeCocoRle(c.coco_counts, shape, { backend })).mask).toEqual(m);
      expect(rleArea(c.rle_row, m.length)).toBe(c.area);
    });

    it('encodes [C, H, W] channels independently, from an unaligned view', async () => {
      const rows = ['1111', '0110', '0000', '1001', '0000', '1111'];
      const buf = new Uint8Array(1 + 24);
      buf.set(
        fromRows(rows).map((v) => v * 255),
        1,
      );
      const mask = buf.subarray(1); // byteOffset 1: exercises the word-wise scan's head and tail
      const shape = { height: 2, width: 4 };
      expect((await encodeRle(mask, shape, { backend })).rle).toEqual(['1 4 6 2', '5 1 8 1', '5 4']);
      expect((await encodeRle(mask, shape, { order: 'col', backend })).rle).toEqual([
        '1 1 3 5',
        '2 1 8 1',
        '2 1 4 1 6 1 8 1',
      ]);
      expect((await decodeRle(['1 4 6 2', '5 1 8 1', '5 4'], shape, { backend })).mask).toEqual(binary(mask));
    });

    it('round-trips random masks in every order (property)', async () => {
      await fc.assert(
        fc.asyncProperty(maskArb, async ({ h, w, c, m }) => {
          const shape = { height: h, width: w };
          const bin = binary(m);
          for (const order of ['row', 'col'] as const) {
            const { rle } = await encodeRle(m, shape, { order, backend });
            expect(rle).toHaveLength(h * w === 0 ? 1 : c);
            if (h * w === 0) continue;
            expect((await decodeRle(rle, shape, { order, backend })).mask).toEqual(bin);
            const { runs } = await maskToRuns(m, shape, { order, backend });
            expect(runs.map((r) => parseRle(formatRle(r), h * w))).toEqual(runs);
            expect(runs.reduce((s, r) => s + rleArea(r), 0)).toBe(sum(m));
            expect((await runsToMask(runs, shape, { order, backend })).mask).toEqual(bin);
          }
          const { counts } = await encodeCocoRle(m, shape, { backend });
          expect((await decodeCocoRle(counts, shape, { backend })).mask).toEqual(bin);
        }),
        { numRuns: propertyRuns(backend) },
      );
    });

    it('column order and COCO counts are the row order of the transpose (property)', async () => {
      await fc.assert(
        fc.asyncProperty(maskArb, async ({ h, w, m }) => {
          const one = m.subarray(0, h * w);
          const col = (await maskToRuns(one, { height: h, width: w }, { order: 'col', backend })).runs[0]!;
          const rowT = (await maskToRuns(transposed(one, h, w), { height: w, width: h }, { backend })).runs[0]!;
          expect(col).toEqual(rowT);
          const counts = (await encodeCocoRle(one, { height: h, width: w }, { backend })).counts[0]!;
          expect(counts.reduce((s, x) => s + x, 0)).toBe(h * w);
          for (let i = 1; i < counts.length - 1; i++) expect(counts[i]).toBeGreaterThan(0); // canonical: only the first run may be 0
          expect(cocoCountsToRuns(counts, { height: h, width: w })).toEqual(col);
          expect(runsToCocoCounts(col, { height: h, width: w })).toEqual(counts);
          // The COCO module's own pixel-by-pixel encoder (src/backends/js/cocoRle.ts) agrees.
          expect(cocoRleEncode(one, h, w, 'row').counts).toEqual(counts);
        }),
        { numRuns: propertyRuns(backend) },
      );
    });

    it('transposeRuns (run-wise order change) equals the runs of the transposed mask, any density (property)', async () => {
      await fc.assert(
        fc.asyncProperty(maskArb, async ({ h, w, m }) => {
          const one = m.subarray(0, h * w);
          const row = (await maskToRuns(one, { height: h, width: w }, { backend })).runs[0]!;
          const rowT = (await maskToRuns(transposed(one, h, w), { height: w, width: h }, { backend })).runs[0]!;
          expect(transposeRuns(row, h, w)).toEqual(rowT);
          expect(transposeRuns(rowT, w, h)).toEqual(row);
        }),
        { numRuns: propertyRuns(backend, 200) },
      );
    });

    it('IoU and Dice on runs equal IoU and Dice on the decoded masks (property)', async () => {
      await fc.assert(
        fc.asyncProperty(maskArb, maskArb, async (x, y) => {
          const h = x.h,
            w = x.w,
            n = h * w;
          const a = x.m.subarray(0, n);
          const b = new Uint8Array(n);
          b.set(y.m.subarray(0, Math.min(n, y.m.length)));
          let inter = 0;
          for (let i = 0; i < n; i++) inter += a[i] !== 0 && b[i] !== 0 ? 1 : 0;
          const sa = sum(a),
            sb = sum(b),
            union = sa + sb - inter;
          for (const order of ['row', 'col'] as const) {
            const ra = (await maskToRuns(a, { height: h, width: w }, { order, backend })).runs[0]!;
            const rb = (await maskToRuns(b, { height: h, width: w }, { order, backend })).runs[0]!;
            const iou = await rleIou(ra, rb, { backend });
            expect([iou.intersection, iou.areaA, iou.areaB]).toEqual([inter, sa, sb]);
            expect(iou.iou).toBe(union > 0 ? inter / union : 0);
            expect((await rleDice(ra, rb, { backend })).dice).toBe((2 * inter + 1e-4) / (sa + sb + 1e-4));
          }
        }),
        { numRuns: propertyRuns(backend) },
      );
    });

    it('handles long runs crossing word boundaries on a large mask', async () => {
      const h = 257,
        w = 263,
        m = new Uint8Array(h * w);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          if ((x - 130) ** 2 / 90 ** 2 + (y - 120) ** 2 / 70 ** 2 <= 1 || (x + y) % 97 === 0) m[y * w + x] = 1;
      for (const order of ['row', 'col'] as const) {
        const { rle } = await encodeRle(m, { height: h, width: w }, { order, backend });
        sameBytes((await decodeRle(rle, { height: h, width: w }, { order, backend })).mask, m);
      }
    });
  },
);

describe('parseRle / decodeRle errors', () => {
  const shape = { height: 4, width: 5 };
  const bad: [string, RegExp][] = [
    ['1 2 3', /odd number of RLE tokens \(3\)/],
    ['1 2 x 3', /token 3 \('x', character 5\): not a non-negative integer/],
    ['1.5 2', /token 1 \('1.5'.*not a non-negative integer/],
    ['1 -2', /token 2 \('-2'.*not a non-negative integer/],
    ['1e1 2', /token 1 .*not a non-negative integer/],
    ['0 2', /token 1 \('0'.*start outside 1..20/],
    ['21 1', /token 1 .*start outside 1..20/],
    ['19 3', /token 2 .*ends past the last pixel 20/],
    ['5 3 6 1', /token 3 .*sorted and not overlap/],
    ['9 2 3 1', /token 3 .*sorted and not overlap/],
  ];
  it.each(bad)('%s', async (text, re) => {
    expect(() => parseRle(text, 20)).toThrow(ParseError);
    await expect(decodeRle(text, shape, { source: 'pred.csv' })).rejects.toThrow(re);
    await expect(decodeRle(text, shape, { source: 'pred.csv' })).rejects.toThrow(/^pred\.csv: /);
  });
  it('names the channel of an array and the line of a file', async () => {
    await expect(decodeRle(['1 1', '1 x'], shape)).rejects.toThrow(/^rle\[1\]: RLE token 2/);
    expect(() => parseRle('3', 20, 'sub.csv', 17)).toThrow(/^sub\.csv:17: odd number/);
  });
  it('accepts any whitespace, touching runs and zero-length runs as the competition decoder does', () => {
    expect(Array.from(parseRle('  1 2\t3\n1  ', 20))).toEqual([0, 2, 2, 1]);
    expect(Array.from(parseRle('1 0 1 1', 20))).toEqual([0, 1]);
    expect(Array.from(parseRle('', 0))).toEqual([]);
  });
  it('rejects bad arguments naming them', async () => {
    await expect(encodeRle(new Uint8Array(7), shape)).rejects.toThrow(InvalidArgumentError);
    await expect(encodeRle(new Uint8Array(20), { height: 4, width: -5 })).rejects.toThrow(/for width/);
    await expect(encodeRle(new Uint8Array(20), shape, { order: 'F' as never })).rejects.toThrow(/for order/);
    await expect(runsToMask(new Uint32Array([3, 2, 0, 1]), shape)).rejects.toThrow(/runs\[2\]/);
    await expect(runsToMask(new Uint32Array([18, 3]), shape)).rejects.toThrow(/ends at 21/);
    await expect(rleIou('1 2', '1 2')).rejects.toThrow(/for height/);
    expect(() => cocoCountsToRuns([3, 2], shape)).toThrow(/counts sum to 5, expected height \* width = 20/);
    expect(() => cocoCountsToRuns([3, -2, 19], shape)).toThrow(ParseError);
    await expect(decodeCocoRle('52', shape, { source: 'ann.json' })).rejects.toThrow(/^ann\.json: .*sum to 7/);
  });
  it('zero-sized masks', async () => {
    expect((await encodeRle(new Uint8Array(0), { height: 0, width: 5 })).rle).toEqual(['']);
    expect(Array.from((await encodeCocoRle(new Uint8Array(0), { height: 0, width: 0 })).counts[0]!)).toEqual([0]);
    expect((await decodeRle('', { height: 0, width: 3 })).mask).toHaveLength(0);
    expect((await rleIou('', '', { height: 2, width: 2 })).iou).toBe(0);
  });
});

describe('maskbox rle encode / decode (CLI)', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const { main } = await import('../src/cli/index.js');
    let out = '';
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      return { code: await main(args), out };
    } finally {
      spy.mockRestore();
    }
  }
  it('round-trips a PNG mask through row, col and COCO strings, and decodes CSV rows', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'maskbox-rle-cli-'));
    const png = join(dir, 'm.png');
    expect(
      (await cli(['rle', 'decode', '--rle', '1 1 7 3 20 1', '--height', '4', '--width', '5', '--out', png])).code,
    ).toBe(0);
    expect((await cli(['rle', 'encode', '--mask', png])).out).toBe('1 1 7 3 20 1\n');
    expect((await cli(['rle', 'encode', '--mask', png, '--order', 'col'])).out).toBe('1 1 6 1 10 1 14 1 20 1\n');
    const coco = (await cli(['rle', 'encode', '--mask', png, '--order', 'coco'])).out.trim();
    expect(coco).toBe('0140O00020');
    expect(
      JSON.parse((await cli(['rle', 'encode', '--mask', png, '--order', 'coco', '--uncompressed', '--json'])).out)
        .rle[0].counts,
    ).toEqual([0, 1, 4, 1, 3, 1, 3, 1, 5, 1]);
    const png2 = join(dir, 'm2.png');
    await cli(['rle', 'decode', '--rle', coco, '--order', 'coco', '--height', '4', '--width', '5', '--out', png2]);
    expect((await cli(['rle', 'encode', '--mask', png2])).out).toBe('1 1 7 3 20 1\n');
    await writeFile(join(dir, 'm.raw'), Uint8Array.from([0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1]));
    expect((await cli(['rle', 'encode', '--mask', join(dir, 'm.raw'), '--height', '2', '--width', '2'])).out).toBe(
      '2 2\n3 1\n1 4\n',
    );
    const csv = join(dir, 's.csv');
    await writeFile(csv, 'image_name,class,rle\na.png,finger-1,1 1 7 3 20 1\na.png,finger-2,2 2\n');
    const one = join(dir, 'one.png');
    await cli(['rle', 'decode', '--csv', csv, '--class', 'finger-1', '--height', '4', '--width', '5', '--out', one]);
    expect((await cli(['rle', 'encode', '--mask', one])).out).toBe('1 1 7 3 20 1\n');
    const { out } = await cli([
      'rle',
      'decode',
      '--csv',
      csv,
      '--height',
      '4',
      '--width',
      '5',
      '--out',
      join(dir, 'all'),
    ]);
    expect(
      out
        .trim()
        .split('\n')
        .map((p) => p.slice(dir.length + 1)),
    ).toEqual(['all/a_finger-1.png', 'all/a_finger-2.png']);
  });
});
