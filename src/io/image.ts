/**
 * Image decoding with sharp: JPG, PNG, TIFF (8- and 16-bit, grey or colour) into raw interleaved
 * pixels. 16-bit images are read exactly (sharp's `toColourspace('grey16'|'rgb16').raw({depth:'ushort'})`,
 * the only path that does not round to 8 bits). The size is checked from the header before any
 * pixel is decoded, so a 30000x30000 file fails fast instead of allocating gigabytes. Plain PNGs
 * (8/16-bit grey, RGB, with or without alpha) at full size are decoded by the native addon instead
 * (src/io/pngNative.ts), with the same pixels; everything else, and every error, is sharp's.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';
import { readRegularFile } from './files.js';
import { decodePngNative, nativePngAvailable, nativePngFormat, pngHeader } from './pngNative.js';

/** Magic bytes of the formats sharp decodes here. */
const MAGIC: readonly [string, (b: Buffer) => boolean][] = [
  ['PNG', (b) => b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a],
  ['JPEG', (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  [
    'TIFF',
    (b) =>
      b.length >= 4 &&
      ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) ||
        (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43))),
  ],
  ['BMP', (b) => b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d],
  ['WebP', (b) => b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP'],
  ['GIF', (b) => b.length >= 6 && b.toString('latin1', 0, 4) === 'GIF8'],
];

/**
 * Check an image file's first bytes before its body is read (a 1.5 GB junk file is refused after 64
 * bytes, not after reading it whole).
 * @throws ParseError naming `source` when the header is no known image format
 */
export function checkImageHeader(head: Uint8Array, source: string): void {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length === 0) throw new ParseError(source, 'empty file (0 bytes), not an image');
  if (!MAGIC.some(([, test]) => test(b)))
    throw new ParseError(
      source,
      `not a readable image (JPG, PNG, TIFF…): the file does not start with the header of any of ${MAGIC.map(([n]) => n).join(', ')}`,
    );
}

/**
 * Read an image file's bytes safely: a regular file only (no FIFO, device or directory), its header
 * checked before the body, and at most the read cap (src/io/files.ts: 1 GiB, `MASKBOX_MAX_READ_BYTES`).
 */
export async function readImageFile(
  path: string,
  options: { maxBytes?: number; into?: (byteLength: number) => Buffer } = {},
): Promise<Buffer> {
  return readRegularFile(path, { ...options, argument: 'path', checkHeader: checkImageHeader });
}

/**
 * Default pixel limit (width x height) of {@link readImage}: 16383², the same as sharp's own
 * `limitInputPixels` default, about 268 megapixels (~805 MB of 8-bit RGB). Raise it per call with
 * `maxPixels`.
 */
export const MAX_IMAGE_PIXELS = 16383 * 16383;

/** A decoded image: interleaved (HWC) pixels, row-major, no alpha. */
export interface RawImage {
  /** `height * width * channels` samples; `Uint16Array` for 16-bit images. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB). Alpha is dropped. */
  channels: 1 | 3;
  /** 8 or 16 bits per sample (`Uint8Array` or `Uint16Array`). */
  bitDepth: 8 | 16;
  /** The file's own size, when `resize` decoded it smaller (`width`/`height` are then the decoded size). */
  source?: { width: number; height: number };
}

/** libvips kernels for {@link ReadImageOptions.resize}. */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3';

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Force 1 (grey) or 3 (RGB) channels. Default: the file's own (grey stays grey, colour becomes RGB). */
  channels?: 1 | 3;
  /** Reject images with more pixels than this (checked from the header). Default {@link MAX_IMAGE_PIXELS}. */
  maxPixels?: number;
  /** Name used in error messages when `input` is a Buffer. Default `'<buffer>'`. */
  name?: string;
  /**
   * Decode straight to a smaller size: called with the file's width and height (from the header),
   * returns the size to decode to, or null for the full size. libvips resizes while it decodes (a JPEG
   * is first decoded at 1/2, 1/4 or 1/8 by libjpeg's shrink-on-load), so the full-size pixels are never
   * held; the result's `source` is the file's size. The pixels differ from resizing the full-size image
   * (libvips' `resizeKernel` filters, antialiased).
   */
  resize?: (width: number, height: number) => { width: number; height: number } | null;
  /** Filter of `resize`. Default `'lanczos3'` (sharp's default). */
  resizeKernel?: ResizeKernel;
  /**
   * Memory for the decoded pixels, so that a caller can reuse it from image to image (fewer new
   * buffers: less GC and fewer page faults): called with the byte length the pixels need, it returns a
   * Uint8Array of at least that many bytes (at an even byteOffset for 16-bit images) that readImage may
   * overwrite; the result's `data` is a view of its first bytes. Called at most once per call in
   * practice (a PNG the native decoder declined reuses the memory for sharp's pixels), before the
   * pixels are decoded, so also for a file that then fails to decode; never for one refused by `maxPixels`.
   * Plain PNGs are decoded straight into it; other images are decoded by sharp and copied into it.
   */
  into?: (byteLength: number) => Uint8Array;
}

const GREY_SPACES = new Set(['b-w', 'grey16']);

/**
 * Decode an image file or buffer.
 * @param input a file path, or the encoded bytes (Buffer / Uint8Array)
 * @param options `channels` (1 | 3, default the file's own), `maxPixels` (default {@link MAX_IMAGE_PIXELS}), `name`
 * @returns interleaved pixels; `Uint16Array` with `bitDepth: 16` for 16-bit files
 * @throws InvalidArgumentError when the path does not exist or the image has more than `maxPixels` pixels
 * @throws ParseError naming the file when it is empty, not an image, or truncated/corrupt
 * @example const img = await readImage('frame.tif'); // { data: Uint16Array, width, height, channels: 1, bitDepth: 16 }
 */
export async function readImage(input: string | Uint8Array, options: ReadImageOptions = {}): Promise<RawImage> {
  const maxPixels = checkInteger('maxPixels', options.maxPixels ?? MAX_IMAGE_PIXELS, 1);
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) {
    invalid('channels', '1 or 3', options.channels);
  }
  let source: string;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    source = input;
    bytes = await readImageFile(input);
  } else if (input instanceof Uint8Array) {
    source = options.name ?? '<buffer>';
    if (input.length === 0) throw new ParseError(source, 'empty buffer (0 bytes), not an image');
    bytes = input;
  } else {
    invalid('input', 'a file path or a Buffer/Uint8Array of encoded image bytes', input);
  }
  if (options.into !== undefined && typeof options.into !== 'function')
    invalid('into', 'a function (byteLength) => Uint8Array', options.into);
  const native = await readPngNative(bytes, maxPixels, options);
  if (native.image) return native.image;

  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ParseError(source, `not a readable image (JPG, PNG, TIFF…): ${(err as Error).message}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ParseError(source, 'image header has no width/height');
  if (width * height > maxPixels) {
    throw new InvalidArgumentError(
      'image',
      `${source}: ${width}x${height} = ${width * height} pixels exceeds the limit of ${maxPixels} (maxPixels); refusing to decode`,
    );
  }
  const sixteen = meta.depth === 'ushort';
  const fileGrey =
    meta.space !== undefined ? GREY_SPACES.has(meta.space) : (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0) === 1;
  const channels: 1 | 3 = options.channels ?? (fileGrey ? 1 : 3);
  const space = channels === 1 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  const target = checkResize(options, width, height);
  const [outW, outH] = target ? [target.width, target.height] : [width, height];

  let data: Buffer;
  let info: OutputInfo;
  try {
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' });
    if (target)
      pipeline = pipeline.resize(outW, outH, {
        fit: 'fill',
        kernel: options.resizeKernel ?? 'lanczos3',
        fastShrinkOnLoad: true,
      });
    pipeline = pipeline
      .toColourspace(space)
      .removeAlpha()
      .raw(sixteen ? { depth: 'ushort' } : {});
    ({ data, info } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new ParseError(source, `cannot decode image (truncated or corrupt?): ${(err as Error).message}`);
  }
  if (info.channels !== channels || info.width !== outW || info.height !== outH) {
    throw new ParseError(
      source,
      `decoded ${info.width}x${info.height}x${info.channels}, expected ${outW}x${outH}x${channels}`,
    );
  }
  const size = target ? { width: outW, height: outH, source: { width, height } } : { width, height };
  if (options.into) {
    const out = native.out?.length === data.length ? native.out : pixelMemory(options.into, data.length, sixteen);
    out.set(data);
    const pixels = sixteen ? new Uint16Array(out.buffer, out.byteOffset, data.length / 2) : out;
    return { data: pixels, ...size, channels, bitDepth: sixteen ? 16 : 8 };
  }
  if (!sixteen) {
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), ...size, channels, bitDepth: 8 };
  }
  // Uint16Array needs an even byte offset; copy only when the buffer is misaligned.
  const u16 =
    data.byteOffset % 2 === 0
      ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
      : new Uint16Array(new Uint8Array(data).buffer);
  return { data: u16, ...size, channels, bitDepth: 16 };
}

/**
 * The native PNG decode (src/io/pngNative.ts) when it applies: a PNG it handles, at full size, in the
 * file's own channels, within `maxPixels` (larger files go to sharp, which refuses them as before). On
 * a declined decode, `out` is the memory from `into` (if any), for the sharp path to reuse.
 */
async function readPngNative(
  bytes: Uint8Array,
  maxPixels: number,
  options: ReadImageOptions,
): Promise<{ image?: RawImage; out?: Uint8Array }> {
  if (options.resize !== undefined) return {};
  const header = pngHeader(bytes);
  const format = header && nativePngFormat(header);
  if (!header || !format || header.width * header.height > maxPixels) return {};
  if (options.channels !== undefined && options.channels !== format.channels) return {};
  if (!nativePngAvailable()) return {};
  const sixteen = format.bitDepth === 16;
  const byteLength = header.width * header.height * format.channels * (sixteen ? 2 : 1);
  let out: Uint8Array;
  if (options.into) out = pixelMemory(options.into, byteLength, sixteen);
  else {
    try {
      out = new Uint8Array(byteLength);
    } catch {
      return {}; // past the typed-array limit: sharp says what it can
    }
  }
  if (!(await decodePngNative(bytes, header, format, out))) return { out };
  const data = sixteen ? new Uint16Array(out.buffer, out.byteOffset, byteLength / 2) : out;
  const { width, height } = header;
  return { image: { data, width, height, channels: format.channels, bitDepth: format.bitDepth } };
}

/** `into(byteLength)`, checked, cut to `byteLength` bytes. */
function pixelMemory(into: (byteLength: number) => Uint8Array, byteLength: number, sixteen: boolean): Uint8Array {
  const m = into(byteLength);
  if (!(m instanceof Uint8Array) || m.length < byteLength || (sixteen && m.byteOffset % 2 !== 0))
    invalid(
      'into',
      `to return a Uint8Array of at least ${byteLength} bytes${sixteen ? ' at an even byteOffset' : ''}`,
      m,
    );
  return m.length === byteLength ? m : m.subarray(0, byteLength);
}

/** The checked size `options.resize` asks for, or null for the full size. */
function checkResize(
  options: ReadImageOptions,
  width: number,
  height: number,
): { width: number; height: number } | null {
  if (options.resize === undefined) return null;
  if (typeof options.resize !== 'function')
    invalid('resize', 'a function (width, height) => { width, height } | null', options.resize);
  if (options.resizeKernel !== undefined && !['nearest', 'linear', 'cubic', 'lanczos3'].includes(options.resizeKernel))
    invalid('resizeKernel', "'nearest', 'linear', 'cubic' or 'lanczos3'", options.resizeKernel);
  const t = options.resize(width, height);
  if (t === null) return null;
  if (typeof t !== 'object') invalid('resize', 'to return { width, height } or null', t);
  const w = checkInteger('resize().width', t.width, 1);
  const h = checkInteger('resize().height', t.height, 1);
  return w === width && h === height ? null : { width: w, height: h };
}

/**
 * Check that `image` is a well-formed {@link RawImage}-like object (`data` length equals
 * `width * height * channels`). Returns its channel count.
 * @throws InvalidArgumentError naming `name` and what is wrong
 */
export function checkRawImage(name: string, image: unknown): number {
  if (typeof image !== 'object' || image === null) invalid(name, 'an image { data, width, height, channels }', image);
  const img = image as Partial<RawImage>;
  if (!(img.data instanceof Uint8Array) && !(img.data instanceof Uint16Array))
    invalid(`${name}.data`, 'a Uint8Array or Uint16Array', img.data);
  const w = checkInteger(`${name}.width`, img.width, 1);
  const h = checkInteger(`${name}.height`, img.height, 1);
  const c = checkInteger(`${name}.channels`, img.channels, 1, 4);
  if (img.data.length !== w * h * c) {
    throw new InvalidArgumentError(
      `${name}.data`,
      `Expected ${w * h * c} samples (${w}x${h}x${c}) for ${name}.data but received ${img.data.length}`,
    );
  }
  return c;
}
