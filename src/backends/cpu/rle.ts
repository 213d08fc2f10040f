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
import { ParseError } from '../../errors.js';
import type { RleDecodeArgs, RleEncodeArgs, RleOrder, RleOverlapArgs } from '../../ops/rle.js';
import type { DiceArgs } from '../../ops/dice.js';
import { requireNative, type NativeAddon } from '../../../bindings/native.js';

/** Kernel `rleEncode`: runs of every channel (row or column order). */
export async function rleEncodeCpu(args: RleEncodeArgs, addon: NativeAddon = requireNative()): Promise<Uint32Array[]> {
  const { mask, channels, height, width, order } = args;
  return (await addon.rleEncode({ mask, channels, height, width, order })) as Uint32Array[];
}

/** Kernel `rleDecode`: `[C, H, W]` 0/1 mask from validated run lists. */
export async function rleDecodeCpu(args: RleDecodeArgs, addon: NativeAddon = requireNative()): Promise<Uint8Array> {
  const { runs, height, width, order } = args;
  const out = new Uint8Array(runs.length * height * width);
  await addon.rleDecode({ runs, height, width, order, out, zeroed: true });
  return out;
}

/** Kernel `rleOverlap`: `[n * 3]` intersection, area of a, area of b per pair. */
export async function rleOverlapCpu(args: RleOverlapArgs, addon: NativeAddon = requireNative()): Promise<Float64Array> {
  const out = new Float64Array(args.a.length * 3);
  await addon.rleOverlap({ a: args.a, b: args.b, out });
  return out;
}

/** Kernel `dice`: `[images * classes * 3]` intersection, |pred|, |truth|. */
export async function diceCpu(args: DiceArgs, addon: NativeAddon = requireNative()): Promise<Float64Array> {
  const { pred, truth, classes, pixels } = args;
  const out = new Float64Array(pred.length * classes * 3);
  await addon.dice({ pred, truth, classes, pixels, out });
  return out;
}

/** String formats the native encoder writes: competition RLE (`rle`, in `order`) or pycocotools' compressed counts. */
export type NativeRleFormat = 'rle' | 'cocoString';

/**
 * RLE strings of every channel of a validated `[C, H, W]` mask, formatted in C++: `rle` gives what
 * `encodeRle` gives (row or column order), `cocoString` what `encodeCocoRle(..., { compress: true })`
 * gives in `strings` (needs `order: 'col'`).
 */
export async function encodeStringsCpu(args: RleEncodeArgs, format: NativeRleFormat): Promise<string[]> {
  const { mask, channels, height, width, order } = args;
  return (await requireNative().rleEncode({ mask, channels, height, width, order, format })) as string[];
}

/** COCO counts of every channel (column order), as `encodeCocoRle` gives them. */
export async function encodeCocoCountsCpu(args: Omit<RleEncodeArgs, 'order'>): Promise<Uint32Array[]> {
  const { mask, channels, height, width } = args;
  return (await requireNative().rleEncode({
    mask,
    channels,
    height,
    width,
    order: 'col',
    format: 'coco',
  })) as Uint32Array[];
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
    await requireNative().rleDecode({ ...input, height, width, order, out, zeroed: true });
  } catch (err) {
    if (!isParseFailure(err)) throw err;
    throw new ParseError(typeof strings === 'string' ? source : `${source}[${err.channel}]`, err.reason);
  }
  return out;
}

/** Reads every byte of `mask` once on the native pool: the stream-read floor the benchmarks compare with. */
export function readFloorCpu(mask: Uint8Array): Promise<number> {
  return requireNative().readFloor({ mask });
}
