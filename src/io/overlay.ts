/**
 * Overlays: the image with its boxes drawn on it, as PNG. The boxes (and optional score labels) are an
 * SVG composed over the image by sharp. Pixels are brought to 8 bits for display with a percentile
 * stretch (0.1 % .. 99.9 % of the samples map to 0 .. 255), as microscopy viewers do, since a plain
 * `/257` (or the raw 8-bit values) leaves a dim EMCCD rendering almost black; `stretch: false` keeps them.
 */
import sharp from 'sharp';
import { writeFileAtomic } from './files.js';
import { checkFloat32Array, invalid } from '../validate.js';

/** An image as `readImage` returns it (interleaved samples). */
export interface OverlayImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
}

/** Options of {@link renderOverlay}. */
export interface OverlayOptions {
  /** Scores, one per box; drawn as labels when `labels` is true. */
  scores?: ArrayLike<number>;
  /** Class index per box: picks the colour (palette below). */
  classes?: ArrayLike<number>;
  /** Draw the score above each box (default true when scores are given). */
  labels?: boolean;
  /** Line width in pixels (default: 1 per 1000 px of the shorter side, at least 1). */
  lineWidth?: number;
  /** CSS colours by class index (default: a 10-colour palette starting with lime green). */
  palette?: readonly string[];
  /** Percentile contrast stretch for display (default true); see {@link toDisplay8}. */
  stretch?: boolean;
}

const PALETTE = [
  '#00ff00',
  '#ff3b30',
  '#00c7ff',
  '#ffcc00',
  '#ff2dd4',
  '#ff9500',
  '#34c759',
  '#5856d6',
  '#ffffff',
  '#a2845e',
];

/**
 * Bring samples to 8 bits for display with a linear stretch: the 0.1th percentile of all samples maps to
 * 0 and the 99.9th to 255 (one histogram over every channel, so colours keep their balance; a flat
 * image is left as is). With `stretch: false`, 8-bit data is returned as is and 16-bit data is divided by 257.
 */
export function toDisplay8(data: Uint8Array | Uint16Array, stretch = true): Uint8Array {
  const eight = data instanceof Uint8Array;
  if (!stretch) return eight ? data : Uint8Array.from(data, (v) => Math.round(v / 257));
  const hist = new Uint32Array(eight ? 256 : 65536);
  for (let i = 0; i < data.length; i++) hist[data[i]!]!++;
  const lo = percentile(hist, data.length, 0.001);
  const hi = percentile(hist, data.length, 0.999);
  if (hi <= lo) return toDisplay8(data, false); // flat: nothing to stretch
  const out = new Uint8Array(data.length);
  const lut = new Uint8Array(hist.length);
  for (let v = 0; v < lut.length; v++) lut[v] = Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / (hi - lo))));
  for (let i = 0; i < data.length; i++) out[i] = lut[data[i]!]!;
  return out;
}

function percentile(hist: Uint32Array, n: number, q: number): number {
  const target = Math.max(0, Math.min(n - 1, Math.floor(q * (n - 1))));
  let acc = 0;
  for (let v = 0; v < hist.length; v++) {
    acc += hist[v]!;
    if (acc > target) return v;
  }
  return hist.length - 1;
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

/**
 * The SVG drawn over the image: one unfilled rectangle per box, plus score labels.
 * @param boxes xyxy pixels, length 4N
 */
export function overlaySvg(width: number, height: number, boxes: Float32Array, options: OverlayOptions = {}): string {
  checkFloat32Array('boxes', boxes);
  const n = boxes.length / 4;
  if (!Number.isInteger(n)) invalid('boxes', 'a Float32Array whose length is a multiple of 4', boxes);
  if (options.scores && options.scores.length !== n) invalid('options.scores', `${n} scores`, options.scores);
  if (options.classes && options.classes.length !== n)
    invalid('options.classes', `${n} class indices`, options.classes);
  const lw = options.lineWidth ?? Math.max(1, Math.round(Math.min(width, height) / 1000));
  const palette = options.palette ?? PALETTE;
  const labels = (options.labels ?? true) && options.scores !== undefined;
  const font = Math.max(10, Math.round(Math.min(width, height) / 100));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`];
  for (let i = 0; i < n; i++) {
    const x1 = boxes[4 * i]!;
    const y1 = boxes[4 * i + 1]!;
    const w = boxes[4 * i + 2]! - x1;
    const h = boxes[4 * i + 3]! - y1;
    const color = palette[(((options.classes?.[i] ?? 0) % palette.length) + palette.length) % palette.length]!;
    parts.push(
      `<rect x="${fmt(x1)}" y="${fmt(y1)}" width="${fmt(Math.max(0, w))}" height="${fmt(Math.max(0, h))}" fill="none" stroke="${color}" stroke-width="${lw}"/>`,
    );
    if (labels) {
      const ty = y1 - lw - 1 >= font ? y1 - lw - 1 : y1 + h + font;
      parts.push(
        `<text x="${fmt(x1)}" y="${fmt(ty)}" font-family="sans-serif" font-size="${font}" fill="${color}">${options.scores![i]!.toFixed(2)}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Render the image with its boxes drawn, as PNG bytes (8-bit; grey images become RGB so the boxes have
 * colour).
 * @example const png = await renderOverlay(await readImage('a.png'), det.boxes, { scores: det.scores });
 */
export async function renderOverlay(
  image: OverlayImage,
  boxes: Float32Array,
  options: OverlayOptions = {},
): Promise<Buffer> {
  const { width, height, channels } = image;
  if (!Number.isInteger(width) || width <= 0) invalid('image.width', 'a positive integer', width);
  if (!Number.isInteger(height) || height <= 0) invalid('image.height', 'a positive integer', height);
  if (![1, 2, 3, 4].includes(channels)) invalid('image.channels', '1, 2, 3 or 4', channels);
  if (image.data.length !== width * height * channels)
    invalid('image.data', `${width * height * channels} samples`, image.data);
  const px = toDisplay8(image.data, options.stretch ?? true);
  const svg = overlaySvg(width, height, boxes, options);
  return sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), {
    raw: { width, height, channels: channels as 1 | 2 | 3 | 4 },
  })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** Render and write an overlay PNG (written to a temporary name, then renamed: never a half file). */
export async function writeOverlay(
  path: string,
  image: OverlayImage,
  boxes: Float32Array,
  options: OverlayOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await renderOverlay(image, boxes, options));
}
