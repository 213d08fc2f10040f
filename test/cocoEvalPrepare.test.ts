/**
 * The native preparation of COCO evaluation (native/cpu/cocoEvalPrepare.cc, fed by the native results
 * loader's flat arrays) gives the `cocoEval` kernel exactly the arguments of the spec, prepareCocoEval
 * (src/ops/cocoEvalPrepare.ts, on the JS loader's objects): every array value for value, on the pycocotools
 * fixture and on random sets (ties, maxDets cuts, crowd, RLE ground truth, unknown categories, subsets of
 * images and categories, useCats off), and without building the results' detection objects. Errors stay
 * the spec's typed ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeHasOp } from '../bindings/native.js';
import { cocoRleFromPolygon, cocoRleToString } from '../src/backends/js/cocoRle.js';
import { ensureBackends } from '../src/backends/index.js';
import { getKernel } from '../src/backends/registry.js';
import { ParseError } from '../src/errors.js';
import { parseCocoGroundTruth, parseCocoResults, type CocoGroundTruth, type CocoResults } from '../src/io/cocoJson.js';
import { nativeResultsFlat, parseCocoResultsNative } from '../src/io/cocoJsonNative.js';
import { cocoEval, resolveCocoParams, type CocoEvalArgs, type CocoEvalOptions } from '../src/ops/cocoEval.js';
import {
  groundTruthMasksFlat,
  prepareCocoEval,
  rasteriseGroundTruth,
  type PreparedCocoEval,
} from '../src/ops/cocoEvalPrepare.js';
import { describeShared, rng, SHARED } from './helpers.js';

ensureBackends();
const HAS = nativeHasOp('cocoEvalPrepare') === true;
const describeNative = HAS
  ? describe
  : (name: string, fn: () => void) => describe.skip(`${name} (skipped: ${String(nativeHasOp('cocoEvalPrepare'))})`, fn);
const COCO = join(SHARED, 'fixtures', 'coco');

/** Results parsed twice: by the JS path (objects, the spec's input) and by the native loader (flat). */
async function bothPaths(json: unknown[], gt: CocoGroundTruth): Promise<[CocoResults, CocoResults]> {
  const text = JSON.stringify(json);
  const why: { reason?: string } = {};
  const nat = await parseCocoResultsNative(Buffer.from(text), gt, 'r.json', why);
  expect(nat === null ? `declined: ${why.reason}` : 'accepted').toBe('accepted');
  return [parseCocoResults(JSON.parse(text), gt, 'r.json'), nat!];
}

/** The first difference between two kernel argument sets ('' when equal value for value). */
function argsDiff(a: CocoEvalArgs, b: CocoEvalArgs): string {
  const keys = Object.keys(b).sort();
  if (Object.keys(a).sort().join() !== keys.join()) return `keys ${Object.keys(a)} vs ${keys}`;
  for (const k of keys) {
    const x = (a as unknown as Record<string, unknown>)[k],
      y = (b as unknown as Record<string, unknown>)[k];
    if (x === null || y === null || typeof x !== 'object') {
      if (!Object.is(x, y)) return `${k}: ${String(x)} vs ${String(y)}`;
      continue;
    }
    const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = ArrayBuffer.isView(x)
      ? [[k, x as unknown as ArrayLike<number>, y as ArrayLike<number>]]
      : ['counts', 'start', 'height', 'width'].map((f) => [
          `${k}.${f}`,
          (x as Record<string, ArrayLike<number>>)[f]!,
          (y as Record<string, ArrayLike<number>>)[f]!,
        ]);
    for (const [name, u, v] of pairs) {
      if (u.constructor !== v.constructor) return `${name}: ${u.constructor.name} vs ${v.constructor.name}`;
      if (u.length !== v.length) return `${name}: length ${u.length} vs ${v.length}`;
      for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) return `${name}[${i}]: ${u[i]} vs ${v[i]}`;
    }
  }
  return '';
}

/** Native-prepared arguments equal the spec's; the results' detection objects stay unbuilt. */
async function expectSamePrepared(
  gt: CocoGroundTruth,
  js: CocoResults,
  nat: CocoResults,
  opts: CocoEvalOptions,
): Promise<void> {
  const params = resolveCocoParams(gt, opts);
  if (params.iouType === 'segm') await rasteriseGroundTruth(gt, 'cpu');
  const cpu = getKernel('cocoEvalPrepare', 'cpu')!;
  expect(cpu.supports!({ gt, dt: nat, params })).toBe(true);
  const got = (await cpu.run({ gt, dt: nat, params })) as PreparedCocoEval;
  const want = prepareCocoEval(gt, js, params);
  expect(argsDiff(got.args, want.args), JSON.stringify(opts)).toBe('');
  expect(got.ignoredDetections).toBe(want.ignoredDetections);
  expect(nativeResultsFlat(nat)).toBeDefined();
}

/** Option sets: defaults, useCats off, small maxDets, every third image and every other category. */
const variants = (gt: CocoGroundTruth): CocoEvalOptions[] => [
  {},
  { useCats: false },
  { maxDets: [1, 3, 7], summary: 'largest' },
  {
    imgIds: gt.images.filter((_, i) => i % 3 === 0).map((im) => im.id),
    catIds: gt.categories.filter((_, k) => k % 2 === 1).map((c) => c.id),
    summary: 'largest',
  },
];

/**
 * Random ground truth (polygons, some crowd RLE masks, duplicated boxes) and mask results with coarse
 * scores (ties), up to ~120 per image (past maxDets), categories the ground truth lacks, images without
 * ground truth or results; masks as compressed strings, a few as uncompressed counts, some results with
 * boxes of their own.
 */
function randomSet(seed: number, n: number, rleGt = true) {
  const r = rng(seed);
  const W = 90,
    H = 70;
  const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const box = () => {
    const w = 2 + r() * 60,
      h = 2 + r() * 50;
    return [r() * (W - w), r() * (H - h), w, h].map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
  };
  const poly = (b: number[]) => [b[0]!, b[1]!, b[0]! + b[2]!, b[1]!, b[0]! + b[2]! / 2, b[1]! + b[3]!];
  const annotations: object[] = [];
  const segm: object[] = [];
  for (let im = 1; im <= n; im++) {
    let last: number[] | null = null;
    for (let g = r() < 0.2 ? 0 : ri(1, 8); g > 0; g--) {
      const b: number[] = last && r() < 0.15 ? last : box();
      last = b;
      const crowdRle = rleGt && r() < 0.08;
      annotations.push({
        id: annotations.length + 1,
        image_id: im,
        category_id: ri(1, 4),
        bbox: b,
        area: r() < 0.2 ? r() * 3000 : b[2]! * b[3]!,
        iscrowd: crowdRle || r() < 0.05 ? 1 : 0,
        segmentation: crowdRle
          ? { size: [H, W], counts: Array.from(cocoRleFromPolygon(poly(b), H, W).counts) }
          : [poly(b)],
      });
    }
    for (let d = r() < 0.1 ? 0 : r() < 0.15 ? ri(100, 125) : ri(1, 30); d > 0; d--) {
      const counts = cocoRleFromPolygon(poly(box()), H, W).counts;
      segm.push({
        image_id: im,
        category_id: ri(1, 5), // 5: not a category of the ground truth
        segmentation: { size: [H, W], counts: r() < 0.1 ? Array.from(counts) : cocoRleToString(counts) },
        score: Math.round(r() * 10) / 10,
        // A box of its own (not the mask's: segm must still use the mask's toBbox).
        ...(segm.length > 0 && r() < 0.2 ? { bbox: box() } : {}), // (a first one would make box results)
      });
    }
  }
  const gtJson = {
    images: Array.from({ length: n }, (_, i) => ({ id: i + 1, width: W, height: H })),
    categories: [1, 2, 3, 4].map((id) => ({ id, name: `c${id}` })),
    annotations,
  };
  // Box results from the mask results (pycocotools' box of each mask is not needed: any boxes do).
  const bbox = segm.map((o, j) => {
    const { segmentation: _, ...rest } = o as Record<string, unknown>;
    return {
      ...rest,
      bbox: box(),
      ...(j % 7 === 0 ? { segmentation: (o as { segmentation: unknown }).segmentation } : {}),
    };
  });
  return { gtJson, bbox, segm };
}

describeNative('cocoEvalPrepare on the cpu backend equals the spec', () => {
  for (const seed of [1, 2, 3]) {
    // Set 3: polygons only, so one cocoPolygons call makes every mask and the preparation reads its buffer.
    it(`random set ${seed}: bbox and segm, every variant`, async () => {
      const set = randomSet(seed, 30, seed !== 3);
      const gt = parseCocoGroundTruth(set.gtJson, 'gt');
      for (const iouType of ['bbox', 'segm'] as const) {
        const [js, nat] = await bothPaths(set[iouType], gt);
        for (const opts of variants(gt)) await expectSamePrepared(gt, js, nat, { ...opts, iouType });
      }
      expect(groundTruthMasksFlat(gt) !== undefined).toBe(seed === 3);
      // Box results evaluated as bbox read from mask results (boxes and areas from the masks).
      const [js, nat] = await bothPaths(set.segm, gt);
      await expectSamePrepared(gt, js, nat, { iouType: 'bbox' });
    });
  }

  it('cocoEval on natively read results: the stats and arrays of the js backend, no detection objects built', async () => {
    const set = randomSet(4, 40);
    const gt = parseCocoGroundTruth(set.gtJson, 'gt');
    for (const iouType of ['bbox', 'segm'] as const) {
      const [js, nat] = await bothPaths(set[iouType], gt);
      for (const opts of variants(gt)) {
        const a = await cocoEval(gt, nat, { ...opts, iouType, backend: 'cpu' });
        const b = await cocoEval(gt, js, { ...opts, iouType, backend: 'js' });
        expect(a.stats).toEqual(b.stats);
        expect(a.ignoredDetections).toBe(b.ignoredDetections);
        expect(Array.from(a.precision)).toEqual(Array.from(b.precision));
        expect(Array.from(a.recall)).toEqual(Array.from(b.recall));
      }
      expect(nativeResultsFlat(nat)).toBeDefined();
      // Reading `detections` builds the objects (the JS path's) and leaves the flat arrays behind.
      expect(nat.detections.length).toBe(js.detections.length);
      expect(nativeResultsFlat(nat)).toBeUndefined();
      expect(
        getKernel('cocoEvalPrepare', 'cpu')!.supports!({ gt, dt: nat, params: resolveCocoParams(gt, {}) }),
      ).not.toBe(true);
    }
  });

  it('segm of box results and results the JS loader read go to the spec', async () => {
    const set = randomSet(5, 10);
    const gt = parseCocoGroundTruth(set.gtJson, 'gt');
    const [js, nat] = await bothPaths(set.bbox, gt);
    const params = resolveCocoParams(gt, { iouType: 'segm' });
    const cpu = getKernel('cocoEvalPrepare', 'cpu')!;
    expect(cpu.supports!({ gt, dt: nat, params })).toMatch(/box results/);
    expect(cpu.supports!({ gt, dt: js, params })).toMatch(/native loader/);
    const a = await cocoEval(gt, nat, { iouType: 'segm', backend: 'cpu' });
    expect(a.stats).toEqual((await cocoEval(gt, js, { iouType: 'segm', backend: 'js' })).stats);
  });

  it('an evaluated annotation without a mask is the spec ParseError, naming it', async () => {
    const set = randomSet(6, 10);
    const anns = set.gtJson.annotations as Record<string, unknown>[];
    delete anns[anns.length - 1]!.segmentation;
    const gt = parseCocoGroundTruth(set.gtJson, 'gt');
    const [, nat] = await bothPaths(set.segm, gt);
    const err = await cocoEval(gt, nat, { iouType: 'segm', backend: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as Error).message).toMatch(new RegExp(`annotations\\[${anns.length - 1}\\].*missing 'segmentation'`));
    // Not evaluated (its image left out): no error, the arguments of the spec.
    const last = anns[anns.length - 1]!.image_id as number;
    const imgIds = gt.images.map((im) => im.id).filter((id) => id !== last);
    const [js2, nat2] = await bothPaths(set.segm, gt);
    await expectSamePrepared(gt, js2, nat2, { iouType: 'segm', imgIds });
  });

  it('throws a RangeError naming a bad argument (defence behind the TS checks)', async () => {
    const addon = (await import('../bindings/native.js')).requireNative();
    const side = { imageId: new Float64Array(1), categoryId: new Float64Array(1), area: new Float64Array(1) };
    const base = {
      iouType: 'bbox' as const,
      useCats: true,
      maxDet: 10,
      imgIds: Float64Array.of(2, 1),
      catIds: Float64Array.of(1),
      gt: { ...side, bbox: new Float64Array(4), crowd: new Uint8Array(1) },
      dt: { ...side, bbox: new Float64Array(4), score: new Float64Array(1) },
      out: {
        gtStart: new Int32Array(3),
        dtStart: new Int32Array(3),
        gtBox: new Float64Array(4),
        gtArea: new Float64Array(1),
        gtCrowd: new Uint8Array(1),
        dtBox: new Float64Array(4),
        dtArea: new Float64Array(1),
        dtScore: new Float64Array(1),
        gtRle: null,
        dtRle: null,
      },
    };
    expect(() => addon.cocoEvalPrepare(base)).toThrow(RangeError);
    expect(() => addon.cocoEvalPrepare(base)).toThrow(/imgIds/);
    const ok = { ...base, imgIds: Float64Array.of(1, 2) };
    expect(() => addon.cocoEvalPrepare({ ...ok, dt: { ...base.dt, bbox: new Float64Array(3) } })).toThrow(/dt\.bbox/);
    expect(() => addon.cocoEvalPrepare({ ...ok, dt: { ...base.dt, score: Float64Array.of(NaN) } })).toThrow(
      /dt\.score/,
    );
    expect(() => addon.cocoEvalPrepare({ ...ok, out: { ...base.out, dtScore: new Float64Array(0) } })).toThrow(
      /out\.dtScore/,
    );
    await expect(addon.cocoEvalPrepare(ok)).resolves.toMatchObject({ numGt: 0, numDt: 0, ignored: 1, missingMask: -1 }); // image 0: not evaluated;
  });
});

describeShared('cocoEvalPrepare on the pycocotools fixture (../shared/fixtures/coco)', () => {
  const read = (f: string) => JSON.parse(readFileSync(join(COCO, f), 'utf8'));
  for (const [iouType, file] of [
    ['bbox', 'instances_val2014_fakebbox100_results.json'],
    ['segm', 'instances_val2014_fakesegm100_results.json'],
  ] as const) {
    (HAS ? it : it.skip)(`${iouType}: the native arguments equal the spec's, every variant`, async () => {
      const gt = parseCocoGroundTruth(read('instances_val2014_100.json'), 'gt');
      const [js, nat] = await bothPaths(read(file), gt);
      for (const opts of variants(gt)) await expectSamePrepared(gt, js, nat, { ...opts, iouType });
    });
  }
});
