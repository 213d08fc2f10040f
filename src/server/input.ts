/**
 * Getting an image out of a request: a multipart upload (one file part, plus form fields) or a raw image
 * body; the magic bytes must say PNG, JPEG or TIFF whatever the declared type; the pixel count is checked
 * from the header before any pixel is decoded. Names from the client are only ever labels: reduced to a
 * safe basename, never joined to a path on this machine.
 */
import type { FastifyRequest } from 'fastify';
import { InvalidArgumentError, ParseError } from '../errors.js';
import { readImage, type RawImage } from '../io/image.js';
import { HttpError } from './httpError.js';

/** Raw body content types accepted by the image routes. */
export const IMAGE_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'application/octet-stream'] as const;

/** The format the first bytes announce, or null. */
export function sniffImage(b: Uint8Array): 'png' | 'jpeg' | 'tiff' | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))
  )
    return 'tiff';
  return null;
}

/**
 * A client-given file name as a label: the last path segment, characters outside `[A-Za-z0-9._ -]`
 * replaced by `_`, at most 128 characters, no leading dots. `'../../etc/passwd'` -> `'passwd'`.
 */
export function safeImageName(name: unknown, fallback = 'image'): string {
  if (typeof name !== 'string') return fallback;
  const last = name.split(/[\\/]/).pop() ?? '';
  const clean = last
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^[.\s]+/, '')
    .slice(0, 128)
    .trim();
  return clean === '' ? fallback : clean;
}

/** An uploaded image before decoding. */
export interface Upload {
  bytes: Buffer;
  /** Safe label (see {@link safeImageName}). */
  name: string;
  /** Form fields (multipart) — strings only. */
  fields: Record<string, string>;
}

/** File part field names accepted for the image. */
const FILE_FIELDS = new Set(['image', 'file', 'images']);

/**
 * Read the upload of an image route.
 * @throws HttpError 415 when the body is neither multipart nor an image type; 400 for a multipart body
 *   without exactly one image part; 413 (from the multipart limits) when the file is too large
 */
export async function readUpload(req: FastifyRequest): Promise<Upload> {
  const query = (req.query ?? {}) as Record<string, unknown>;
  if (req.isMultipart()) {
    let file: { bytes: Buffer; filename: string } | null = null;
    const fields: Record<string, string> = {};
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (!FILE_FIELDS.has(part.fieldname) || file !== null) {
          await part.toBuffer().catch(() => undefined); // drain
          throw new HttpError(
            400,
            'ERR_BAD_FORM',
            `expected one file part named 'image' (got '${safeImageName(part.fieldname, '?')}')`,
          );
        }
        file = { bytes: await part.toBuffer(), filename: part.filename };
      } else {
        fields[part.fieldname] = String(part.value);
      }
    }
    if (!file) throw new HttpError(400, 'ERR_BAD_FORM', "the form has no file part named 'image'");
    return { bytes: file.bytes, name: safeImageName(fields.name ?? file.filename), fields };
  }
  if (Buffer.isBuffer(req.body)) return { bytes: req.body, name: safeImageName(query.name), fields: {} };
  throw new HttpError(
    415,
    'ERR_UNSUPPORTED_MEDIA_TYPE',
    `send multipart/form-data with an 'image' file, or the image itself as ${IMAGE_CONTENT_TYPES.join(', ')}`,
  );
}

/**
 * Check the magic bytes and the pixel count, then decode.
 * @throws HttpError 400 (empty), 415 (not PNG/JPEG/TIFF), 413 (too many pixels), 422 (truncated/corrupt)
 */
export async function decodeUpload(bytes: Uint8Array, name: string, maxPixels: number): Promise<RawImage> {
  if (bytes.length === 0) throw new HttpError(400, 'ERR_EMPTY_UPLOAD', 'the upload is empty');
  if (sniffImage(bytes) === null)
    throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `${name}: not a PNG, JPEG or TIFF image (magic bytes)`);
  try {
    return await readImage(bytes, { maxPixels, name });
  } catch (err) {
    if (err instanceof InvalidArgumentError && err.argument === 'image')
      throw new HttpError(413, 'ERR_TOO_MANY_PIXELS', err.message);
    if (err instanceof ParseError) throw new HttpError(422, 'ERR_BAD_IMAGE', err.message);
    throw err;
  }
}

/**
 * Base64 text to bytes, strictly (standard or URL-safe alphabet, optional padding).
 * @throws HttpError 400 naming `what`
 */
export function decodeBase64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || text.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.replace(/\s+/g, '')))
    throw new HttpError(400, 'ERR_BAD_BASE64', `${what}: expected base64-encoded image bytes`);
  return Buffer.from(text.replace(/\s+/g, ''), text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
