/**
 * The native COCO results loader (native/cpu/cocoJson.cc via src/io/cocoJsonNative.ts) gives exactly
 * the CocoResults of the JS path (parseCocoResults(JSON.parse(text))), or declines (null) and leaves
 * the file to the JS path: on the fixtures, on random results written with random JSON spellings
 * (whitespace, escapes, number forms, key order, duplicate and extra keys), and on malformed or
 * mutated files, where it must never accept what JSON.parse or the JS validation rejects.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeHasOp } from '../bindings/native.js';
import { cocoRleFromPolygon, cocoRleToString } from '../src/backends/js/cocoRle.js';
import { ParseError } from '../src/errors.js';
import {
  parseCocoGroundTruth,
  parseCocoResults,
  readCocoGroundTruth,
  readCocoResults,
  type CocoGroundTruth,
  type CocoResults,
} from '../src/io/cocoJson.js';
import { NATIVE_COCO_JSON_MIN_BYTES, parseCocoResultsNative } from '../src/io/cocoJsonNative.js';
import { describeShared, rng, SHARED } from './helpers.js';

const HAS_LOADER = nativeHasOp('parseCocoResults') === true;
const describeNative = HAS_LOADER
  ? describe
  : (name: string, fn: () => void) =>
      describe.skip(`${name} (skipped: ${String(nativeHasOp('parseCocoResults'))})`, fn);
const COCO = join(SHARED, 'fixtures', 'coco');

/** Comparable form: mask counts as plain arrays (the native path's are views into one buffer). */
const norm = (r: CocoResults) => ({
  ...r,
  detections: r.detections.map((d) => ({ ...d, rle: d.rle && { ...d.rle, counts: Array.from(d.rle.counts) } })),
});

/** The JS path's outcome: the results, or the ParseError's message. */
function jsPath(text: string, gt: CocoGroundTruth, source: string): CocoResults | string {
  try {
    return parseCocoResults(JSON.parse(text), gt, source);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Native result equals the JS path's (which must succeed) or is null (declined). */
async function expectSameOrDeclined(text: string, gt: CocoGroundTruth, mustAccept = false): Promise<void> {
  const why: { reason?: string } = {};
  const nat = await parseCocoResultsNative(Buffer.from(text, 'utf8'), gt, 'r.json', why);
  if (mustAccept) expect(nat === null ? `declined: ${why.reason}` : 'accepted', text.slice(0, 300)).toBe('accepted');
  if (nat === null) return;
  const js = jsPath(text, gt, 'r.json');
  expect(typeof js === 'string' ? `JS path failed: ${js}` : 'ok', text.slice(0, 300)).toBe('ok');
  expect(norm(nat)).toEqual(norm(js as CocoResults));
}

const W = 64,
  H = 48;
const GT = parseCocoGroundTruth(
  {
    images: [1, 2, 3]
      .map((id) => ({ id, width: W, height: H }))
      .concat([{ id: 4 } as { id: number; width: number; height: number }]),
    categories: [{ id: 1 }, { id: 2 }],
    annotations: [],
  },
  'gt.json',
);

/** Writes `v` as JSON with random spellings: whitespace, \u escapes, number forms, shuffled and extra keys. */
function spell(v: unknown, r: () => number): string {
  const ws = () => (r() < 0.25 ? [' ', '\n', '\t', '\r\n  '][Math.floor(r() * 4)]! : '');
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    let s = Object.is(v, -0) ? '-0' : JSON.stringify(v);
    if (r() < 0.3 && /^-?\d+$/.test(s)) s += ['.0', 'e0', 'E+0', '.000e-0'][Math.floor(r() * 4)]!;
    else if (r() < 0.2 && /^-?\d+\.\d+$/.test(s)) s += '00';
    return s;
  }
  if (typeof v === 'string') {
    let s = '"';
    for (const ch of v) {
      const c = ch.codePointAt(0)!;
      if (ch === '"' || ch === '\\') s += r() < 0.3 ? `\\u00${c.toString(16)}` : `\\${ch}`;
      else if (c < 0x20) s += `\\u${c.toString(16).padStart(4, '0')}`;
      else if (ch === '/' && r() < 0.5) s += '\\/';
      else if (c < 0x80 && r() < 0.05) s += `\\u${c.toString(16).padStart(4, '0').toUpperCase()}`;
      else s += ch;
    }
    return s + '"';
  }
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => spell(x, r)).join(`${ws()},${ws()}`)}${ws()}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const parts = entries.map(([k, x]) => `${spell(k, r)}${ws()}:${ws()}${spell(x, r)}`);
  if (r() < 0.3)
    parts.splice(
      Math.floor(r() * (parts.length + 1)),
      0,
      `"extra"${ws()}:${ws()}${spell({ a: [1.5e-3, 'é ✓ \u2028', true, null], b: { c: [] } }, r)}`,
    );
  return `{${ws()}${parts.join(`${ws()},${ws()}`)}${ws()}}`;
}

/** Random results of one kind, using every shape the loader handles. */
function randomResults(r: () => number, kind: 'bbox' | 'segm' | 'bbox+rle', n: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < n; i++) {
    const x = Math.round(r() * 40 * 100) / 100,
      y = Math.round(r() * 30 * 100) / 100;
    const w = Math.round((1 + r() * 20) * 100) / 100,
      h = Math.round((1 + r() * 15) * 100) / 100;
    const o: Record<string, unknown> = {
      image_id: 1 + Math.floor(r() * 3),
      category_id: r() < 0.5 ? 1 : 2,
      score: r() < 0.1 ? 1 : Math.round(r() * 1000) / 1000,
    };
    if (r() < 0.1) o.id = 99; // pycocotools' own keys are ignored
    const mask = () => {
      const m = cocoRleFromPolygon([x, y, x + w, y, x + w / 2, y + h], H, W);
      return { size: [H, W], counts: r() < 0.7 ? cocoRleToString(m.counts) : Array.from(m.counts) };
    };
    // Mask results: the first has no box (else the file is box results), the others may have one.
    if (kind !== 'segm' || r() < 0.3)
      o.bbox = kind === 'segm' && (i === 0 || r() < 0.5) ? [] : [r() < 0.1 ? -0 : x, y, w, h];
    if (kind !== 'bbox' || r() < 0.1) o.segmentation = mask();
    out.push(o);
  }
  return out;
}

describeNative('native COCO results loader', () => {
  for (const kind of ['bbox', 'segm', 'bbox+rle'] as const) {
    it(`gives the JS path's results on random ${kind} results in random spellings`, async () => {
      for (let seed = 1; seed <= 25; seed++) {
        const r = rng(seed * 7 + kind.length);
        const text = `${r() < 0.5 ? ' \n' : ''}${spell(randomResults(r, kind, 1 + Math.floor(r() * 12)), r)}\n`;
        await expectSameOrDeclined(text, GT, true);
      }
    });
  }

  it('duplicate keys: the last wins, as JSON.parse', async () => {
    const t =
      '[{"score":0.1,"image_id":9,"image_id":2,"category_id":1,"bbox":[1,1,1,1],"score":0.7,"bbox":[1,2,3,4],' +
      '"segmentation":{"size":[48,64],"counts":"xx"},"segmentation":{"size":[1,1],"counts":[0,1],"size":[48,64],"counts":[3072]}}]';
    await expectSameOrDeclined(t, GT, true);
    const nat = (await parseCocoResultsNative(Buffer.from(t), GT, 'r'))!;
    expect(nat.detections[0]).toMatchObject({ imageId: 2, score: 0.7, bbox: [1, 2, 3, 4] });
  });

  it('empty results, and mask results whose bbox is given, empty or derived', async () => {
    await expectSameOrDeclined('[]', GT, true);
    await expectSameOrDeclined(' [ ] ', GT, true);
    const m = cocoRleToString([5, 10, 3057]);
    const seg = { size: [H, W], counts: m };
    const t = JSON.stringify([
      { image_id: 1, category_id: 1, score: 1, segmentation: seg },
      { image_id: 2, category_id: 1, score: 1, segmentation: seg, bbox: [] },
      { image_id: 3, category_id: 2, score: 0, segmentation: seg, bbox: [7, 8, 9, 10] },
    ]);
    await expectSameOrDeclined(t, GT, true);
  });

  it('declines what JSON.parse rejects (syntax) and what the JS validation rejects', async () => {
    const ok = '{"image_id":1,"category_id":1,"score":0.5,"bbox":[1,2,3,4]}';
    const bad = [
      '',
      ' ',
      '[',
      '[,]',
      `[${ok},]`,
      `[${ok}] x`,
      `\uFEFF[${ok}]`,
      `/* c */[${ok}]`,
      `[${ok.replace('0.5', '.5')}]`,
      `[${ok.replace('0.5', '00.5')}]`,
      `[${ok.replace('0.5', '+0.5')}]`,
      `[${ok.replace('0.5', '0.')}]`,
      `[${ok.replace('0.5', '1e')}]`,
      `[${ok.replace('0.5', 'NaN')}]`,
      `[${ok.replace('0.5', 'Infinity')}]`,
      `[${ok.replace('0.5', '1e400')}]`,
      `[${ok.replace('"score"', "'score'")}]`,
      `[${ok.replace('}', ',"x":"a\u0001b"}')}]`,
      `[${ok.replace('}', ',"x":"\\x"}')}]`,
      `[${ok.replace('}', ',"x":"\\u12G4"}')}]`,
      `[${ok.replace('}', ',"x":tru}')}]`,
      `[${ok.replace('}', ',"x":[1,]}')}]`,
      `[${ok.replace('}', ',"x":{"a" 1}}')}]`,
      `[${ok.replace('}', ',"x":"unterminated}')}]`,
      `[${ok.replace(',"bbox":[1,2,3,4]', '')}]`,
      `[${ok.replace('"score":0.5,', '')}]`,
      `[${ok.replace('[1,2,3,4]', '[1,2,-3,4]')}]`,
      `[${ok.replace('[1,2,3,4]', '[1,2,3]')}]`,
      `[${ok.replace('[1,2,3,4]', 'null')}]`,
      `[${ok.replace('"image_id":1', '"image_id":"1"')}]`,
      `[${ok.replace('"image_id":1', '"image_id":77')}]`,
      `[${ok}, 5]`,
      `{"a":[${ok}]}`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48,64],"counts":"0:~1"}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48,64],"counts":"1"}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[20,5],"counts":[100]}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48,64],"counts":[3071]}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48,64],"counts":[-0, 3072]}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48.5,64],"counts":[]}}]`,
      `[{"image_id":1,"category_id":1,"score":1,"segmentation":{"size":[48,64]}}]`,
      `[{"image_id":1,"category_id":1,"score":1}]`,
      `[{"image_id":1,"category_id":1,"score":1,"bbox":[]}]`,
      '['.repeat(600) + ']'.repeat(600),
    ];
    for (const t of bad) {
      expect(await parseCocoResultsNative(Buffer.from(t, 'utf8'), GT, 'r.json'), t.slice(0, 120)).toBeNull();
      expect(
        typeof jsPath(t, GT, 'r.json') === 'string' || t.startsWith('[[') || t.includes('[-0'),
        t.slice(0, 120),
      ).toBe(true);
    }
    // Polygon segmentations are left to the JS path, which accepts them.
    const poly = `[{"image_id":1,"category_id":1,"score":1,"bbox":[1,2,3,4],"segmentation":[[1,1,5,1,5,5]]}]`;
    expect(await parseCocoResultsNative(Buffer.from(poly), GT, 'r.json')).toBeNull();
  });

  it('never accepts a mutated file the JS path rejects, and agrees where it accepts', async () => {
    const r = rng(99);
    const alphabet = ['[', ']', '{', '}', ',', ':', '"', '\\', '-', '0', '1', '.', 'e', ' ', 'n', 'u', '\u0001', 'é'];
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const kind = (['bbox', 'segm', 'bbox+rle'] as const)[i % 3]!;
      let t = spell(randomResults(r, kind, 1 + Math.floor(r() * 3)), r);
      for (let k = 0, edits = 1 + Math.floor(r() * 3); k < edits; k++) {
        const p = Math.floor(r() * (t.length + 1));
        const op = r();
        const c = alphabet[Math.floor(r() * alphabet.length)]!;
        t =
          op < 0.4
            ? t.slice(0, p) + t.slice(p + 1)
            : op < 0.7
              ? t.slice(0, p) + c + t.slice(p)
              : t.slice(0, p) + c + t.slice(p + 1);
      }
      const nat = await parseCocoResultsNative(Buffer.from(t, 'utf8'), GT, 'r.json');
      if (nat !== null) accepted++;
      await expectSameOrDeclined(t, GT);
    }
    expect(accepted).toBeGreaterThan(20); // the mutations also hit the accepting path
  });
});

describeNative('readCocoResults on large files (the native path)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maskbox-cocojson-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const big = (kind: 'bbox' | 'segm') => {
    const r = rng(kind.length);
    let res = randomResults(r, kind, 500);
    while (JSON.stringify(res).length < NATIVE_COCO_JSON_MIN_BYTES) res = res.concat(res);
    return res;
  };

  for (const kind of ['bbox', 'segm'] as const) {
    it(`${kind}: the same results as parsing the text in JS`, async () => {
      const text = JSON.stringify(big(kind));
      const path = join(dir, `${kind}.json`);
      writeFileSync(path, text);
      const got = await readCocoResults(path, GT);
      expect(norm(got)).toEqual(norm(parseCocoResults(JSON.parse(text), GT, path)));
      if (kind === 'segm') {
        const c = got.detections[0]!.rle!.counts;
        expect(c.buffer.byteLength).toBeGreaterThan(c.byteLength); // a view into the native loader's buffer
      }
    });
  }

  it("a malformed large file: the JS path's ParseError, naming the file and the entry", async () => {
    const res = big('bbox') as Record<string, unknown>[];
    res[res.length - 3] = { ...res[0], score: 'high' };
    const text = JSON.stringify(res);
    const path = join(dir, 'bad.json');
    writeFileSync(path, text);
    const want = jsPath(text, GT, path);
    expect(typeof want).toBe('string');
    const err = await readCocoResults(path, GT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as Error).message).toBe(want);
    expect((err as Error).message).toMatch(/bad\.json: results\[\d+\]: 'score' must be a finite number/);
    writeFileSync(path, text.slice(0, -10));
    await expect(readCocoResults(path, GT)).rejects.toThrow(/bad\.json: invalid JSON/);
  });

  it("mask results with a truncated or invalid RLE string or an unknown image: the JS path's ParseError", async () => {
    const path = join(dir, 'bad-segm.json');
    const cases: [string, (o: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
      ['truncated', (o) => ({ ...o, segmentation: { ...(o.segmentation as object), counts: 'P1' } }), /counts/],
      ['invalid', (o) => ({ ...o, segmentation: { ...(o.segmentation as object), counts: '0~~~~~~' } }), /counts/],
      ['unknown image', (o) => ({ ...o, image_id: 999 }), /image_id 999 is not an image/],
    ];
    for (const [name, change, message] of cases) {
      const res = big('segm') as Record<string, unknown>[];
      const j = res.findIndex((o) => typeof (o.segmentation as { counts?: unknown })?.counts === 'string');
      res[res.length - 2] = change(res[j]!);
      const text = JSON.stringify(res);
      writeFileSync(path, text);
      const want = jsPath(text, GT, path);
      expect(typeof want, name).toBe('string');
      const err = await readCocoResults(path, GT).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ParseError);
      expect((err as Error).message, name).toBe(want);
      expect((err as Error).message, name).toMatch(message);
    }
  });
});

describeShared('native COCO results loader on the fixtures', () => {
  it.skipIf(!HAS_LOADER)('bbox, segm (RLE strings with escapes) and polygon results', async () => {
    const gt = await readCocoGroundTruth(join(COCO, 'instances_val2014_100.json'));
    for (const f of ['instances_val2014_fakebbox100_results.json', 'instances_val2014_fakesegm100_results.json']) {
      const text = readFileSync(join(COCO, f), 'utf8');
      await expectSameOrDeclined(text, gt, true);
    }
    // Box results with polygon segmentations are declined (and read by the JS path).
    const gt2 = await readCocoGroundTruth(join(COCO, 'gt_dataset.json'));
    expect(await parseCocoResultsNative(readFileSync(join(COCO, 'dt_dataset.json')), gt2, 'dt')).toBeNull();
  });
});
