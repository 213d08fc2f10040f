/**
 * Host side of the native `cocoEvalPrepare` kernel (native/cpu/cocoEvalPrepare.cc): the `cocoEval` kernel's
 * arguments that the spec (prepareCocoEval, src/ops/cocoEvalPrepare.ts) builds from objects, built in C++
 * from flat arrays: the results' as the native loader left them (src/io/cocoJsonNative.ts: no detection
 * objects) and the ground truth's, flattened once per ground-truth object. Outputs are allocated here at
 * their sizes with nothing left out and cut to what the kernel filled.
 */
import { requireNative, type NativeAddon } from '../../../bindings/native.js';
import type { CocoEvalArgs, FlatRles } from '../../ops/cocoEval.js';
import {
  groundTruthMask,
  groundTruthMasksFlat,
  prepareCocoEval,
  type CocoEvalPrepareArgs,
  type PreparedCocoEval,
} from '../../ops/cocoEvalPrepare.js';
import type { CocoGroundTruth } from '../../io/cocoJson.js';
import { nativeResultsFlat } from '../../io/cocoJsonNative.js';

/** One side's entries in input order, flat. */
interface FlatCocoSide {
  imageId: Float64Array;
  categoryId: Float64Array;
  area: Float64Array;
  /** `[x, y, w, h]` per entry. */
  bbox: Float64Array;
  /** segm: entry j's mask is `counts[countsStart[j], countsStart[j + 1])` of size `size[2j] x size[2j + 1]`. */
  counts?: Uint32Array;
  countsStart?: Float64Array;
  size?: Float64Array;
}
interface FlatCocoGroundTruth extends FlatCocoSide {
  crowd: Uint8Array;
  /** segm: 0 where an annotation has no mask (`groundTruthMask` gave null). */
  present?: Uint8Array;
}
interface FlatCocoDetections extends FlatCocoSide {
  score: Float64Array;
  /** segm, optional: 1 where `bbox` already is the mask's toBbox (the native loader's, not computed again). */
  boxFromMask?: Uint8Array;
}

/** The kernel arguments the native side fills (`cocoEval`'s, at their upper bounds). */
type PrepareOut = Omit<
  CocoEvalArgs,
  'iouType' | 'numImages' | 'numCategories' | 'iouThrs' | 'recThrs' | 'areaRanges' | 'maxDets'
>;

export interface NativeCocoPrepareArgs {
  iouType: 'bbox' | 'segm';
  useCats: boolean;
  /** The largest maxDets. */
  maxDet: number;
  /** Ascending. */
  imgIds: Float64Array;
  /** Ascending. */
  catIds: Float64Array;
  gt: FlatCocoGroundTruth;
  dt: FlatCocoDetections;
  out: PrepareOut;
}

export interface NativeCocoPrepareResult {
  numGt: number;
  numDt: number;
  gtCounts: number;
  dtCounts: number;
  ignored: number;
  /** An evaluated annotation without a mask (index in gt.annotations; nothing filled), else -1. */
  missingMask: number;
}

/**
 * The count buffers of the last finished evaluation against a ground truth, kept with it for the next
 * (freed with it): a new buffer costs a page fault per 4 KiB on first write, ~3x the rest of a warm call's
 * CPU (the masks' counts are ~90 MB at 5,000 images).
 */
const spare = new WeakMap<CocoGroundTruth, Uint32Array[]>();

/** A buffer of at least `n` counts (a spare one of `gt`'s when one is large enough). */
function takeCounts(gt: CocoGroundTruth, n: number): Uint32Array {
  const list = spare.get(gt) ?? [];
  let best = -1;
  list.forEach((b, i) => {
    if (b.length >= n && (best < 0 || b.length < list[best]!.length)) best = i;
  });
  return best >= 0 ? list.splice(best, 1)[0]! : new Uint32Array(n);
}

function giveBack(gt: CocoGroundTruth, buffers: Uint32Array[]): void {
  const list = [...(spare.get(gt) ?? []), ...buffers].sort((x, y) => y.length - x.length);
  spare.set(gt, list.slice(0, 2)); // one per side
}

/** A ground truth's flat arrays (masks: from the first segm evaluation), cached per object. */
const flatCache = new WeakMap<CocoGroundTruth, { count: number; flat: FlatCocoGroundTruth }>();

function flatGroundTruth(gt: CocoGroundTruth, segm: boolean): FlatCocoGroundTruth {
  const anns = gt.annotations;
  let c = flatCache.get(gt);
  if (!c || c.count !== anns.length) {
    const bbox = new Float64Array(4 * anns.length);
    anns.forEach((a, j) => bbox.set(a.bbox, 4 * j));
    const flat: FlatCocoGroundTruth = {
      imageId: Float64Array.from(anns, (a) => a.imageId),
      categoryId: Float64Array.from(anns, (a) => a.categoryId),
      area: Float64Array.from(anns, (a) => a.area),
      bbox,
      crowd: Uint8Array.from(anns, (a) => (a.iscrowd ? 1 : 0)),
    };
    c = { count: anns.length, flat };
    flatCache.set(gt, c);
  }
  const flat = c.flat;
  const whole = segm && !flat.counts ? groundTruthMasksFlat(gt) : undefined;
  if (whole) {
    // One buffer of every mask already (rasteriseGroundTruth): offsets and sizes only.
    const size = new Float64Array(2 * anns.length);
    for (let j = 0; j < anns.length; j++) ((size[2 * j] = whole.height[j]!), (size[2 * j + 1] = whole.width[j]!));
    const present = new Uint8Array(anns.length).fill(1);
    Object.assign(flat, { counts: whole.counts, countsStart: Float64Array.from(whole.start), size, present });
  } else if (segm && !flat.counts) {
    const masks = anns.map((a) => groundTruthMask(gt, a));
    const countsStart = new Float64Array(anns.length + 1);
    masks.forEach((m, j) => (countsStart[j + 1] = countsStart[j]! + (m ? m.counts.length : 0)));
    const counts = new Uint32Array(countsStart[anns.length]!);
    const size = new Float64Array(2 * anns.length);
    masks.forEach((m, j) => {
      if (!m) return;
      counts.set(m.counts, countsStart[j]!);
      size[2 * j] = m.height;
      size[2 * j + 1] = m.width;
    });
    Object.assign(flat, { counts, countsStart, size, present: Uint8Array.from(masks, (m) => (m ? 1 : 0)) });
  }
  return flat;
}

/** Whether the kernel takes these arguments: results read by the native loader (with masks for segm). */
export function cocoEvalPrepareCpuSupports(a: CocoEvalPrepareArgs): true | string {
  const flat = nativeResultsFlat(a.dt);
  if (!flat) return 'the results were not read by the native loader (or their detections were built)';
  if (a.params.iouType === 'segm' && flat.kind !== 'segm') return 'segm evaluation of box results';
  return true;
}

/** Kernel `cocoEvalPrepare` on the native CPU backend (see the module comment). */
export async function cocoEvalPrepareCpu(
  a: CocoEvalPrepareArgs,
  addon: NativeAddon = requireNative(),
): Promise<PreparedCocoEval> {
  const { gt: gtObj, dt: dtObj, params: p } = a;
  const r = nativeResultsFlat(dtObj)!;
  const segm = p.iouType === 'segm';
  const gt = flatGroundTruth(gtObj, segm);
  const dt: FlatCocoDetections = {
    imageId: r.imageId,
    categoryId: r.categoryId,
    score: r.score,
    area: r.area,
    bbox: r.bbox,
    ...(segm ? { counts: r.counts, countsStart: r.countsStart, size: r.segSize, boxFromMask: r.boxFromMask } : {}),
  };
  const G = gt.imageId.length,
    N = dt.imageId.length;
  const cells = (p.useCats ? p.catIds.length : 1) * p.imgIds.length;
  const rles = (n: number, counts: number): FlatRles => ({
    counts: takeCounts(gtObj, counts),
    start: new Int32Array(n + 1),
    height: new Int32Array(n),
    width: new Int32Array(n),
  });
  const out: PrepareOut = {
    gtStart: new Int32Array(cells + 1),
    gtBox: new Float64Array(4 * G),
    gtArea: new Float64Array(G),
    gtCrowd: new Uint8Array(G),
    dtStart: new Int32Array(cells + 1),
    dtBox: new Float64Array(4 * N),
    dtArea: new Float64Array(N),
    dtScore: new Float64Array(N),
    gtRle: segm ? rles(G, gt.countsStart![G]!) : null,
    dtRle: segm ? rles(N, dt.countsStart![N]!) : null,
  };
  const res = await addon.cocoEvalPrepare({
    iouType: p.iouType,
    useCats: p.useCats,
    maxDet: p.maxDets[p.maxDets.length - 1]!,
    imgIds: Float64Array.from(p.imgIds),
    catIds: Float64Array.from(p.catIds),
    gt,
    dt,
    out,
  });
  if (res.missingMask >= 0) {
    giveBack(
      gtObj,
      [out.gtRle, out.dtRle].flatMap((f) => (f ? [f.counts] : [])),
    );
    return prepareCocoEval(gtObj, dtObj, p); // the spec names the annotation (ParseError)
  }
  const g = res.numGt,
    n = res.numDt;
  const cut = (f: FlatRles | null, k: number, counts: number): FlatRles | null =>
    f && {
      counts: f.counts.subarray(0, counts),
      start: f.start.subarray(0, k + 1),
      height: f.height.subarray(0, k),
      width: f.width.subarray(0, k),
    };
  const areaRanges = new Float64Array(p.areaRanges.length * 2);
  p.areaRanges.forEach((ar, k) => areaRanges.set(ar.range, 2 * k));
  return {
    args: {
      iouType: p.iouType,
      numImages: p.imgIds.length,
      numCategories: p.useCats ? p.catIds.length : 1,
      iouThrs: Float64Array.from(p.iouThrs),
      recThrs: Float64Array.from(p.recThrs),
      areaRanges,
      maxDets: Int32Array.from(p.maxDets),
      gtStart: out.gtStart,
      gtBox: out.gtBox.subarray(0, 4 * g),
      gtArea: out.gtArea.subarray(0, g),
      gtCrowd: out.gtCrowd.subarray(0, g),
      dtStart: out.dtStart,
      dtBox: out.dtBox.subarray(0, 4 * n),
      dtArea: out.dtArea.subarray(0, n),
      dtScore: out.dtScore.subarray(0, n),
      gtRle: cut(out.gtRle, g, res.gtCounts),
      dtRle: cut(out.dtRle, n, res.dtCounts),
    },
    ignoredDetections: res.ignored,
    release: () =>
      giveBack(
        gtObj,
        [out.gtRle, out.dtRle].flatMap((f) => (f ? [f.counts] : [])),
      ),
  };
}
