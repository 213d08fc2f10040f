/**
 * Image decoding with sharp: JPG, PNG, TIFF (8- and 16-bit, grey or colour) into raw interleaved
 * pixels. 16-bit images are read exactly (sharp's `toColourspace('grey16'|'rgb16').raw({depth:'ushort'})`,
 * the only path that does not round to 8 bits). The size is checked from the header before any
 * pixel is decoded, so a 30000x30000 file fails fast instead of allocating gigabytes.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';

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
}

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Force 1 (grey) or 3 (RGB) channels. Default: the file's own (grey stays grey, colour becomes RGB). */
  channels?: 1 | 3;
  /** Reject images with more pixels than this (checked from the header). Default {@link MAX_IMAGE_PIXELS}. */
  maxPixels?: number;
  /** Name used in error messages when `input` is a Buffer. Default `'<buffer>'`. */
  name?: string;
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
    let size: number;
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new InvalidArgumentError('path', `${input}: not a regular file`);
      size = st.size;
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError(
        'path',
        `${input}: cannot read image (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    if (size === 0) throw new ParseError(source, 'empty file (0 bytes), not an image');
    bytes = await readFile(input);
  } else if (input instanceof Uint8Array) {
    source = options.name ?? '<buffer>';
    if (input.length === 0) throw new ParseError(source, 'empty buffer (0 bytes), not an image');
    bytes = input;
  } else {
    invalid('input', 'a file path or a Buffer/Uint8Array of encoded image bytes', input);
  }

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

  let data: Buffer;
  let info: OutputInfo;
  try {
    const pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .toColourspace(space)
      .removeAlpha()
      .raw(sixteen ? { depth: 'ushort' } : {});
    ({ data, info } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new ParseError(source, `cannot decode image (truncated or corrupt?): ${(err as Error).message}`);
  }
  if (info.channels !== channels || info.width !== width || info.height !== height) {
    throw new ParseError(
      source,
      `decoded ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x${channels}`,
    );
  }
  if (!sixteen) {
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels, bitDepth: 8 };
  }
  // Uint16Array needs an even byte offset; copy only when the buffer is misaligned.
  const u16 =
    data.byteOffset % 2 === 0
      ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2)
      : new Uint16Array(new Uint8Array(data).buffer);
  return { data: u16, width, height, channels, bitDepth: 16 };
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
