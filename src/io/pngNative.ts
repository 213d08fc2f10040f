/**
 * Fast path of `readImage` (src/io/image.ts) for plain PNGs: the native decoder (native/cpu/pngDecode.cc)
 * inflates with the zlib inside the node binary and unfilters on the addon's worker threads, straight
 * into a buffer the caller may reuse (`ReadImageOptions.into`), instead of sharp/libvips allocating a
 * new Buffer per image.
 *
 * Handled: 8- and 16-bit grey, grey+alpha, RGB and RGBA, not interlaced, with only IHDR, IDAT, IEND,
 * pHYs, tIME and tEXt chunks, decoded to the file's own channels (alpha dropped). The pixels equal
 * sharp's `toColourspace(...).removeAlpha().raw()` bit for bit (test/pngDecode.test.ts). Everything else
 * — palette, bit depths below 8, interlacing, colour-management chunks (iCCP, sRGB, gAMA, ...), other
 * channel counts, a bad CRC, truncated or corrupt data — is declined, and sharp decodes the file, so
 * its results and error messages stay sharp's.
 */
import { nativeHasOp, requireNative } from '../../bindings/native.js';
import { getDefaultBackend } from '../backends/registry.js';

/** The fields of a PNG's IHDR chunk that decide whether the native decoder can take it. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlace: number;
}

/** The IHDR of a PNG (signature, then a 13-byte IHDR first), or null when `bytes` do not start so. */
export function pngHeader(bytes: Uint8Array): PngHeader | null {
  if (bytes.length < 33) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 33);
  if (v.getUint32(0) !== 0x89504e47 || v.getUint32(4) !== 0x0d0a1a0a) return null;
  if (v.getUint32(8) !== 13 || v.getUint32(12) !== 0x49484452) return null; // length 13, 'IHDR'
  return {
    width: v.getUint32(16),
    height: v.getUint32(20),
    bitDepth: v.getUint8(24),
    colourType: v.getUint8(25),
    interlace: v.getUint8(28),
  };
}

/**
 * What the native decoder would produce for this header: the output channels (alpha dropped) and bit
 * depth, or null when it does not handle the format (sharp decodes it).
 */
export function nativePngFormat(h: PngHeader): { channels: 1 | 3; bitDepth: 8 | 16 } | null {
  if (h.width < 1 || h.height < 1 || h.width > 0x7fffffff || h.height > 0x7fffffff) return null;
  if ((h.bitDepth !== 8 && h.bitDepth !== 16) || h.interlace !== 0) return null;
  if (h.colourType !== 0 && h.colourType !== 2 && h.colourType !== 4 && h.colourType !== 6) return null;
  return { channels: h.colourType === 0 || h.colourType === 4 ? 1 : 3, bitDepth: h.bitDepth };
}

/**
 * Whether readImage may use the native decoder: the default backend is `auto` or `cpu` (a process
 * that chose `js` runs no native code) and the loaded addon has the decoder (MASKBOX_NO_NATIVE=1 or an
 * unbuilt addon: no), with a zlib found in the process.
 */
export function nativePngAvailable(): boolean {
  return pngDecoderStatus().decoder === 'native';
}
let zlib: string | null | undefined;

/** Which PNG decoder `readImage` uses here (also for `maskbox doctor`): native with its zlib, or sharp and why. */
export function pngDecoderStatus(): { decoder: 'native' | 'sharp'; detail: string } {
  const choice = getDefaultBackend();
  if (choice !== 'auto' && choice !== 'cpu') return { decoder: 'sharp', detail: `default backend is ${choice}` };
  if (nativeHasOp('pngDecode') !== true)
    return { decoder: 'sharp', detail: 'the native addon is not loaded or has no pngDecode' };
  zlib ??= requireNative().pngZlib?.() ?? null;
  if (zlib === null) return { decoder: 'sharp', detail: 'no zlib symbols in this node binary' };
  return {
    decoder: 'native',
    detail: `inflate from the node binary's zlib (${zlib}inflate); plain PNGs natively, the rest by sharp`,
  };
}

/**
 * Decode `bytes` (whose IHDR is `h`) into `out` (exactly `width * height * channels * bitDepth / 8`
 * bytes). Resolves `true` when `out` holds the pixels, `false` when the decoder declined (`why.reason`
 * says why; `out` may then hold partial rows) — the caller then decodes with sharp.
 */
export async function decodePngNative(
  bytes: Uint8Array,
  h: PngHeader,
  format: { channels: 1 | 3; bitDepth: 8 | 16 },
  out: Uint8Array,
  why: { reason?: string } = {},
): Promise<boolean> {
  try {
    why.reason = await requireNative().pngDecode({
      bytes,
      out,
      width: h.width,
      height: h.height,
      channels: format.channels,
      bitDepth: format.bitDepth,
    });
  } catch (err) {
    why.reason = (err as Error).message; // out of memory and the like: sharp reports what it can
  }
  return why.reason === '';
}
