/**
 * `maskbox rle encode` / `maskbox rle decode`: masks (PNG/TIFF/JPG via sharp, or raw uint8 bytes) to
 * and from RLE strings (competition row order, Kaggle column order) and COCO counts.
 */
import { stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { InvalidArgumentError, ParseError } from '../../errors.js';
import { OutputGuard, prepareOutput, readRegularFile, writeFileAtomic } from '../../io/files.js';
import { MAX_IMAGE_PIXELS, readImage } from '../../io/image.js';
import { outputStems } from '../../pipeline/detectionSinks.js';
import { readSubmissionRows } from '../../io/submissionCsv.js';
import { decodeCocoRle, decodeRle, encodeCocoRle, encodeRle, type RleOrder } from '../../ops/rle.js';
import { checkOneOf } from '../../validate.js';
import { parseArgs } from 'node:util';
import { backendSummary } from '../backend.js';
import { intFlag, parseFlags, printJson, requireFlag, type Command } from '../command.js';
import { checkOutputFile } from '../outputs.js';

/**
 * Mask size flags, checked before anything is allocated: integers >= 1 (0 only with `allowZero`, for raw
 * input), and at most {@link MAX_IMAGE_PIXELS} pixels (the same limit as images; PNG output needs it).
 */
function maskSize(h: string | undefined, w: string | undefined, allowZero = false): { height: number; width: number } {
  const height = intFlag('height', h, undefined, allowZero ? 0 : 1, 1 << 30);
  const width = intFlag('width', w, undefined, allowZero ? 0 : 1, 1 << 30);
  if (height * width > MAX_IMAGE_PIXELS)
    throw new InvalidArgumentError(
      'height',
      `--height ${height} --width ${width} = ${height * width} pixels exceeds the limit of ${MAX_IMAGE_PIXELS} (16383 x 16383)`,
    );
  return { height, width };
}

const ORDERS = ['row', 'col', 'coco'] as const;
type CliOrder = (typeof ORDERS)[number];

/** A mask file as `[C, H, W]` bytes: an image (a pixel is set when any colour channel is non-zero) or raw bytes with --height/--width. */
async function readMask(
  path: string,
  height?: number,
  width?: number,
): Promise<{ mask: Uint8Array; height: number; width: number }> {
  const raw =
    height !== undefined || width !== undefined || ['.raw', '.bin', '.u8'].includes(extname(path).toLowerCase());
  if (raw) {
    if (height === undefined || width === undefined)
      throw new InvalidArgumentError('height', `raw mask ${path}: --height and --width are required`);
    const bytes = await readRegularFile(path, { argument: 'mask' });
    if (height * width === 0 ? bytes.length !== 0 : bytes.length % (height * width) !== 0) {
      throw new ParseError(path, `${bytes.length} bytes is not a multiple of height * width = ${height * width}`);
    }
    return { mask: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), height, width };
  }
  const img = await readImage(path);
  const n = img.width * img.height,
    ch = img.channels,
    d = img.data;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let on = 0;
    for (let k = 0; k < ch; k++) on |= d[i * ch + k]!;
    mask[i] = on !== 0 ? 1 : 0;
  }
  return { mask, height: img.height, width: img.width };
}

/** Writes one `[H, W]` 0/1 mask as an 8-bit grey PNG (0 / 255), atomically. */
async function writeMaskPng(path: string, mask: Uint8Array, height: number, width: number): Promise<void> {
  const px = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  const png = await sharp(px, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
  await writeFileAtomic(path, png);
}

export const rleEncodeCommand: Command = {
  path: ['rle', 'encode'],
  summary: 'encode a mask image (or raw bytes) as RLE',
  usage:
    'maskbox rle encode --mask MASK.png|MASK.raw [--order row|col|coco] [--uncompressed] [--height H --width W] [--json]\n' +
    '  row: the competition RLE (row-major, 1-based "start length" pairs); col: Kaggle order=F; coco: pycocotools\'\n' +
    '  compressed counts string (--uncompressed: the counts, space-separated).\n' +
    '  Images: a pixel is 1 when any colour channel is non-zero (alpha ignored). Raw files (.raw/.bin/.u8, or with\n' +
    '  --height/--width): uint8 [C, H, W], one output line per channel.',
  async run(argv) {
    const { values: v } = parseFlags(() =>
      parseArgs({
        args: argv,
        strict: true,
        options: {
          mask: { type: 'string' },
          order: { type: 'string' },
          height: { type: 'string' },
          width: { type: 'string' },
          uncompressed: { type: 'boolean' },
          json: { type: 'boolean' },
        },
      }),
    );
    const path = requireFlag('mask', v.mask);
    const order = checkOneOf<CliOrder>('order', v.order ?? 'row', ORDERS);
    const size = v.height === undefined && v.width === undefined ? undefined : maskSize(v.height, v.width, true);
    const { mask, height, width } = await readMask(path, size?.height, size?.width);
    const shape = { height, width };
    if (order === 'coco') {
      const { counts, strings } = await encodeCocoRle(mask, shape, { compress: true });
      const plain = v.uncompressed === true;
      const rle = counts.map((c, i) => ({ size: [height, width], counts: plain ? Array.from(c) : strings![i]! }));
      if (v.json) printJson({ mask: path, height, width, order, rle, backend: backendSummary() });
      else for (const r of rle) process.stdout.write((Array.isArray(r.counts) ? r.counts.join(' ') : r.counts) + '\n');
      return 0;
    }
    const { rle, backend } = await encodeRle(mask, shape, { order });
    if (v.json) printJson({ mask: path, height, width, order, rle, backend: backendSummary([backend]) });
    else for (const s of rle) process.stdout.write(s + '\n');
    return 0;
  },
};

export const rleDecodeCommand: Command = {
  path: ['rle', 'decode'],
  summary: 'decode an RLE string or submission CSV rows to mask PNGs',
  usage:
    'maskbox rle decode (--rle STRING | --csv FILE [--image NAME] [--class NAME]) --height H --width W --out OUT\n' +
    '    [--order row|col|coco]\n' +
    "  --rle: one mask written to OUT (a PNG, 0/255). With --order coco, STRING is pycocotools' compressed\n" +
    '  counts string, or the counts separated by spaces or commas.\n' +
    '  --csv: the selected rows of a submission CSV; one row -> OUT is the PNG, several -> OUT is a folder of\n' +
    '  <image>_<class>.png.',
  async run(argv) {
    const { values: v } = parseFlags(() =>
      parseArgs({
        args: argv,
        strict: true,
        options: {
          rle: { type: 'string' },
          csv: { type: 'string' },
          image: { type: 'string' },
          class: { type: 'string' },
          height: { type: 'string' },
          width: { type: 'string' },
          out: { type: 'string' },
          order: { type: 'string' },
          overwrite: { type: 'boolean' },
        },
      }),
    );
    const { height, width } = maskSize(v.height, v.width);
    const out = requireFlag('out', v.out);
    const order = checkOneOf<CliOrder>('order', v.order ?? 'row', ORDERS);
    const shape = { height, width };
    if ((v.rle === undefined) === (v.csv === undefined))
      throw new InvalidArgumentError('rle', 'pass exactly one of --rle STRING or --csv FILE');
    const guard = new OutputGuard(v.overwrite ?? false);
    if (v.csv !== undefined) await guard.addInputs([v.csv]);
    if (v.rle !== undefined) {
      await checkOutputFile(guard, out, 'out');
      let mask: Uint8Array;
      if (order === 'coco') {
        // Integers separated by spaces/commas (or a JSON array) are counts; one token is a compressed string.
        const t = v.rle.trim();
        const counts = /^\[|[\s,]/.test(t)
          ? t
              .replace(/^\[|\]$/g, '')
              .trim()
              .split(/[\s,]+/)
              .map(Number)
          : t;
        mask = (await decodeCocoRle(counts, shape, { source: '--rle' })).mask;
      } else mask = (await decodeRle(v.rle, shape, { order: order as RleOrder, source: '--rle' })).mask;
      await writeMaskPng(out, mask, height, width);
      process.stdout.write(`${out}\n`);
      return 0;
    }
    if (order === 'coco')
      throw new InvalidArgumentError('order', 'submission CSVs hold row or col RLE strings, not COCO counts');
    if (await guard.inputFor(out))
      throw new InvalidArgumentError('out', `--out ${out} is the input file ${v.csv}: refusing to overwrite an input`);
    const rows = [];
    for await (const r of readSubmissionRows(v.csv!)) {
      if ((v.image === undefined || r.image_name === v.image) && (v.class === undefined || r.class === v.class))
        rows.push(r);
    }
    if (rows.length === 0)
      throw new InvalidArgumentError(
        'image',
        `${v.csv}: no row matches${v.image ? ` --image ${v.image}` : ''}${v.class ? ` --class ${v.class}` : ''}`,
      );
    let files: string[];
    if (rows.length > 1) {
      const st = await stat(out).catch(() => null);
      if (st && !st.isDirectory())
        throw new InvalidArgumentError(
          'out',
          `${rows.length} rows selected: --out must be a folder, but ${out} is a file`,
        );
      await prepareOutput(out, 'dir', 'out');
      // One file per row: <image stem>_<class>.png, made unique and safe like the batch outputs.
      const keys = rows.map((r) => `${basename(r.image_name, extname(r.image_name))}_${r.class}.png`);
      const seen = new Set<string>();
      const dup = keys.find((k) => (seen.has(k) ? true : (seen.add(k), false)));
      if (dup !== undefined)
        throw new InvalidArgumentError('out', `two selected rows would both be written to ${join(out, dup)}`);
      const stems = outputStems(keys);
      files = keys.map((k) => join(out, `${stems.get(k)!}.png`));
    } else files = [out];
    for (const f of files) await checkOutputFile(guard, f, 'out');
    for (const [i, r] of rows.entries()) {
      const { mask } = await decodeRle(r.rle, shape, { order: order as RleOrder, source: `${v.csv}:${r.line}` });
      await writeMaskPng(files[i]!, mask, height, width);
      guard.markCreated(files[i]!);
      process.stdout.write(`${files[i]}\n`);
    }
    return 0;
  },
};
