/**
 * Host side of the native RLE and Dice kernels (native/cpu/rleEncode.cc, rleDecode.cc, rleOverlap.cc,
 * cocoRle.cc, dice.cc): the kernels registered for the `rleEncode`, `rleDecode`, `rleOverlap` and
 * `dice` ops (same arguments and results as src/backends/js/rle.ts and dice.ts), plus string-level entry
 * points the native addon offers beyond the ops (formatting and parsing in C++, off the JS thread).
 *
 * Outputs of known size are allocated here and passed in (masks as fresh, all-zero arrays, which the
 * decoder is told, so it writes only the 1s); run lists and strings come back as new JS values. A string the native parser rejects becomes the same `ParseError` the JS parser throws
 * (`parseRle`, `cocoRleFromString`): message, token and position, naming the source.
 */
import { BackendUnavailableError, ParseError } from '../../errors.js';
import type { RleDecodeArgs, RleEncodeArgs, RleOrder, RleOverlapArgs } from '../js/rle.js';
import type { DiceArgs } from '../js/dice.js';
import { loadNative, nativeStatus } from '../../../bindings/native.js';

/** What the addon's RLE functions take (see the headers of the native/cpu files). */
interface RleAddon {
  rleEncode(args: RleEncodeArgs & { format?: 'runs' | 'coco' }): Promise<Uint32Array[]>;
  rleEncode(args: RleEncodeArgs & { format: 'rle' | 'cocoString' }): Promise<string[]>;
  rleDecode(
    args: { height: number; width: number; order: RleOrder; out: Uint8Array; zeroed?: boolean } & (
      { runs: readonly Uint32Array[] } | { rle: readonly string[] } | { coco: readonly string[] }
    ),
  ): Promise<void>;
  rleOverlap(args: RleOverlapArgs & { out: Float64Array }): Promise<void>;
  dice(args: DiceArgs & { out: Float64Array }): Promise<void>;
  readFloor(args: { mask: Uint8Array }): Promise<number>;
}

function addon(): RleAddon {
  const a = loadNative();
  if (!a) throw new BackendUnavailableError('cpu', nativeStatus().reason);
  return a as unknown as RleAddon;
}

/** Kernel `rleEncode`: runs of every channel (row or column order). */
export function rleEncodeCpu(args: RleEncodeArgs): Promise<Uint32Array[]> {
  const { mask, channels, height, width, order } = args;
  return addon().rleEncode({ mask, channels, height, width, order });
}

/** Kernel `rleDecode`: `[C, H, W]` 0/1 mask from validated run lists. */
export async function rleDecodeCpu(args: RleDecodeArgs): Promise<Uint8Array> {
  const { runs, height, width, order } = args;
  const out = new Uint8Array(runs.length * height * width);
  await addon().rleDecode({ runs, height, width, order, out, zeroed: true });
  return out;
}

/** Kernel `rleOverlap`: `[n * 3]` intersection, area of a, area of b per pair. */
export async function rleOverlapCpu(args: RleOverlapArgs): Promise<Float64Array> {
  const out = new Float64Array(args.a.length * 3);
  await addon().rleOverlap({ a: args.a, b: args.b, out });
  return out;
}

/** Kernel `dice`: `[images * classes * 3]` intersection, |pred|, |truth|. */
export async function diceCpu(args: DiceArgs): Promise<Float64Array> {
  const { pred, truth, classes, pixels } = args;
  const out = new Float64Array(pred.length * classes * 3);
  await addon().dice({ pred, truth, classes, pixels, out });
  return out;
}

/** String formats the native encoder writes: competition RLE (`rle`, in `order`) or pycocotools' compressed counts. */
export type NativeRleFormat = 'rle' | 'cocoString';

/**
 * RLE strings of every channel of a validated `[C, H, W]` mask, formatted in C++: `rle` gives what
 * `encodeRle` gives (row or column order), `cocoString` what `encodeCocoRle(..., { compress: true })`
 * gives in `strings` (needs `order: 'col'`).
 */
export function encodeStringsCpu(args: RleEncodeArgs, format: NativeRleFormat): Promise<string[]> {
  const { mask, channels, height, width, order } = args;
  return addon().rleEncode({ mask, channels, height, width, order, format });
}

/** COCO counts of every channel (column order), as `encodeCocoRle` gives them. */
export function encodeCocoCountsCpu(args: Omit<RleEncodeArgs, 'order'>): Promise<Uint32Array[]> {
  const { mask, channels, height, width } = args;
  return addon().rleEncode({ mask, channels, height, width, order: 'col', format: 'coco' });
}

/** Native parse failures carry the failing channel and the JS parser's message. */
interface NativeParseFailure {
  code: 'ERR_MASKBOX_NATIVE_PARSE';
  channel: number;
  reason: string;
}

function isParseFailure(err: unknown): err is NativeParseFailure {
  const e = err as Partial<NativeParseFailure> | null;
  return !!e && e.code === 'ERR_MASKBOX_NATIVE_PARSE' && typeof e.channel === 'number' && typeof e.reason === 'string';
}

/**
 * Decodes RLE strings (one per channel) into a `[C, H, W]` 0/1 mask, parsing and filling in C++.
 * `kind: 'rle'` takes competition strings in `order` (as `decodeRle`); `kind: 'coco'` pycocotools'
 * compressed counts strings (as `decodeCocoRle`; column order).
 * @param source names the input in errors as `decodeRle` does: `source` for one string, `source[c]` for channel c of an array
 * @throws ParseError with the JS parser's message for the first malformed channel
 */
export async function decodeStringsCpu(
  strings: string | readonly string[],
  shape: { height: number; width: number },
  options: { kind: 'rle' | 'coco'; order?: RleOrder; source?: string },
): Promise<Uint8Array> {
  const list = typeof strings === 'string' ? [strings] : strings;
  const source = options.source ?? (options.kind === 'rle' ? 'rle' : 'counts');
  const { height, width } = shape;
  const out = new Uint8Array(list.length * height * width);
  const order = options.kind === 'coco' ? 'col' : (options.order ?? 'row');
  const input = options.kind === 'rle' ? { rle: list } : { coco: list };
  try {
    await addon().rleDecode({ ...input, height, width, order, out, zeroed: true });
  } catch (err) {
    if (!isParseFailure(err)) throw err;
    throw new ParseError(typeof strings === 'string' ? source : `${source}[${err.channel}]`, err.reason);
  }
  return out;
}

/** Reads every byte of `mask` once on the native pool: the stream-read floor the benchmarks compare with. */
export function readFloorCpu(mask: Uint8Array): Promise<number> {
  return addon().readFloor({ mask });
}
