/**
 * Optional fast path of `readCocoResults` (src/io/cocoJson.ts): the native loader
 * (native/cpu/cocoJson.cc) tokenizes a results file's bytes in C++ — no JS string, no JSON.parse tree —
 * into flat arrays (and decodes mask results' compressed RLE strings in parallel), and this module
 * builds from them exactly the `CocoResults` that `parseCocoResults(JSON.parse(text))` gives.
 *
 * The native parser is at least as strict as JSON.parse and declines whatever it does not handle itself
 * (malformed JSON, any unexpected type or value, polygon segmentations, ...); so does this module when a
 * result names an image the ground truth lacks or an RLE size differs from its image's. Declining
 * returns `null`, and the caller runs the JS path, which gives the result or the exact ParseError
 * naming the file. Differences that remain: a mask result's `rle.counts` is a view into one shared
 * buffer (same values), and files past V8's string limit (~512 MB), which the JS path cannot read,
 * load here. The `detections` objects are built on first use only: `cocoEval` on the cpu backend reads the
 * flat arrays instead (`nativeResultsFlat`, native/cpu/cocoEvalPrepare.cc).
 */
import { requireNative, nativeHasOp } from '../../bindings/native.js';
import { backendStatus, getDefaultBackend, type BackendChoice } from '../backends/registry.js';
import type { NativeCocoResults } from '../ops/nativeTable.js';
import type { CocoRle } from '../backends/js/cocoRle.js';
import type { CocoBbox, CocoDetection, CocoGroundTruth, CocoResults, CocoSegmentation } from './cocoJson.js';

/**
 * Files smaller than this stay on the JS path. Measured: equal at ~26 KB of box results (300), 3.5x
 * faster at 260 KB (bbox) and 3x at 80 KB (masks).
 */
export const NATIVE_COCO_JSON_MIN_BYTES = 64 * 1024;

/**
 * Whether `readCocoResults` takes the native path for a file of `size` bytes: the backend asked for
 * (the global default unless given) is `auto` or `cpu`, the registry's cpu backend is available and
 * its addon has the loader, and the file reaches NATIVE_COCO_JSON_MIN_BYTES.
 */
export function useNativeCocoJson(size: number, backend: BackendChoice = getDefaultBackend()): boolean {
  return (
    size >= NATIVE_COCO_JSON_MIN_BYTES &&
    (backend === 'auto' || backend === 'cpu') &&
    backendStatus('cpu').available &&
    nativeHasOp('parseCocoResults') === true
  );
}

/**
 * Parses a results file's bytes natively. Returns `null` when the native loader is unavailable or
 * declines (then `parseCocoResults` on the JS side decides: a result or a ParseError); `why.reason`
 * then says why (for tests and debugging).
 */
export async function parseCocoResultsNative(
  bytes: Uint8Array,
  gt: CocoGroundTruth,
  source: string,
  why: { reason?: string } = {},
): Promise<CocoResults | null> {
  if (nativeHasOp('parseCocoResults') !== true) {
    why.reason = 'no native loader';
    return null;
  }
  let r: NativeCocoResults;
  try {
    r = await requireNative().parseCocoResults({ bytes });
  } catch (err) {
    why.reason = (err as Error).message;
    return null; // out of memory and the like: the JS path reports what it can
  }
  if (r.error !== undefined) {
    why.reason = r.error;
    return null;
  }
  const n = r.score.length;
  const segm = r.kind === 'segm';
  const { imageId, segKind, segSize } = r;
  // The JS path's checks, on the flat arrays (no per-detection objects yet).
  for (let i = 0; i < n; i++) {
    const image = gt.imageById.get(imageId[i]!);
    if (!image) {
      why.reason = `results[${i}]: image_id ${imageId[i]} is not an image of the ground truth`;
      return null;
    }
    if (segm && segKind[i] !== 0) {
      const h = segSize[2 * i]!,
        w = segSize[2 * i + 1]!;
      if ((image.height !== null && image.height !== h) || (image.width !== null && image.width !== w)) {
        why.reason = `results[${i}]: segmentation.size differs from the image's`;
        return null;
      }
    }
  }
  const results = { source, kind: r.kind } as CocoResults;
  flatResults.set(results, r);
  // `detections` is built on first use; from then on the objects (which callers may change) are the data.
  const settle = (detections: CocoDetection[]) => {
    flatResults.delete(results);
    Object.defineProperty(results, 'detections', {
      value: detections,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  };
  Object.defineProperty(results, 'detections', {
    enumerable: true,
    configurable: true,
    get: () => {
      const detections = detectionObjects(r);
      settle(detections);
      return detections;
    },
    set: settle,
  });
  return results;
}

/** Results read by the native loader whose `detections` were never built: their flat arrays (else undefined). */
const flatResults = new WeakMap<CocoResults, NativeCocoResults>();

/**
 * The native loader's flat arrays behind `dt` while its `detections` array has not been built (reading
 * `dt.detections` builds it and ends this): the input of the native `cocoEvalPrepare`.
 */
export function nativeResultsFlat(dt: CocoResults): NativeCocoResults | undefined {
  return flatResults.get(dt);
}

/** The `CocoDetection` objects of checked native results (what parseCocoResults gives). */
function detectionObjects(r: NativeCocoResults): CocoDetection[] {
  const n = r.score.length;
  const segm = r.kind === 'segm';
  const { imageId, categoryId, score, bbox: b, area, segKind, segSize, text, textStart, counts, countsStart } = r;
  const detections: CocoDetection[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const bbox: CocoBbox = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
    let segmentation: CocoSegmentation | null = null;
    let rle: CocoRle | null = null;
    const kind = segKind[i]!;
    if (kind !== 0) {
      const h = segSize[2 * i]!,
        w = segSize[2 * i + 1]!;
      const c0 = countsStart[i]!,
        c1 = countsStart[i + 1]!;
      segmentation = {
        size: [h, w],
        counts: kind === 1 ? latin1(text, textStart[i]!, textStart[i + 1]!) : Array.from(counts.subarray(c0, c1)),
      };
      if (segm) rle = { height: h, width: w, counts: counts.subarray(c0, c1) };
    }
    detections[i] = {
      id: i + 1,
      imageId: imageId[i]!,
      categoryId: categoryId[i]!,
      score: score[i]!,
      bbox,
      area: area[i]!,
      segmentation,
      rle,
    };
  }
  return detections;
}

/** Bytes `[start, end)` of the addon's text buffer as a Latin-1 string (COCO counts strings are ASCII). */
function latin1(text: Uint8Array, start: number, end: number): string {
  return Buffer.from(text.buffer, text.byteOffset + start, end - start).toString('latin1');
}
