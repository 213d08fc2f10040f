/**
 * Writes a simulated CDV dataset: `images/`, YOLO txt in `labels/`, COCO JSON `annotations.json`,
 * and `simulation.json` (the resolved parameters and seed, for reproducibility).
 */
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/files.js';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkInteger, checkOneOf } from '../validate.js';
import { simulateCdv, type CdvImage, type CdvParams, type Colormap } from './cdv.js';

export type CdvFormat = 'png' | 'tif' | 'jpg';
export const CDV_FORMATS: readonly CdvFormat[] = ['png', 'tif', 'jpg'];

export interface CdvDatasetOptions {
  n: number;
  out: string;
  seed: number;
  format: CdvFormat;
  /** Index of the first image (so a dataset can be written in parts); default 0. */
  start?: number;
  /** Called after each image is written. */
  onImage?: (index: number, image: CdvImage) => void;
}

export interface CdvDatasetSummary {
  out: string;
  images: number;
  boxes: number;
  touching: number;
  seed: number;
  format: CdvFormat;
}

interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}
interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  /** Extra fields (pycocotools ignores them): vesicle shape and gap to its nearest neighbour. */
  attributes: { shape: string; nearest_gap_px: number | null; touching: boolean; localizations: number };
}

/** A vesicle counts as touching when its outline is within this many pixels of another one. */
export const TOUCHING_GAP_PX = 2;

const round = (x: number, d: number) => Number(x.toFixed(d));

/** Simulate `n` images with `params` and write them with their ground truth under `out`. */
export async function writeCdvDataset(params: CdvParams, options: CdvDatasetOptions): Promise<CdvDatasetSummary> {
  checkInteger('n', options.n, 0, 1_000_000);
  checkInteger('seed', options.seed, 0, 0xffffffff);
  const start = checkInteger('start', options.start ?? 0, 0, 1_000_000);
  const format = checkOneOf('format', options.format, CDV_FORMATS);
  const { out } = options;
  await mkdir(join(out, 'images'), { recursive: true });
  await mkdir(join(out, 'labels'), { recursive: true });
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  let touching = 0;
  for (let k = 0; k < options.n; k++) {
    const index = start + k;
    const img = simulateCdv(params, options.seed, index);
    const stem = `cdv_${String(index).padStart(5, '0')}`;
    const fileName = `${stem}.${format}`;
    await writeFileAtomic(join(out, 'images', fileName), await encodeImage(img, format, params));
    const { width: W, height: H } = img;
    const lines: string[] = [];
    images.push({ id: index + 1, file_name: fileName, width: W, height: H });
    for (const v of img.vesicles) {
      const [x1, y1, x2, y2] = v.box;
      const w = x2 - x1;
      const h = y2 - y1;
      lines.push(
        `0 ${((x1 + w / 2) / W).toFixed(6)} ${((y1 + h / 2) / H).toFixed(6)} ${(w / W).toFixed(6)} ${(h / H).toFixed(6)}`,
      );
      const isTouching = v.nearestGap <= TOUCHING_GAP_PX;
      if (isTouching) touching++;
      const bbox: [number, number, number, number] = [round(x1, 2), round(y1, 2), round(w, 2), round(h, 2)];
      annotations.push({
        id: annotations.length + 1,
        image_id: index + 1,
        category_id: 1,
        bbox,
        area: round(bbox[2] * bbox[3], 4),
        iscrowd: 0,
        attributes: {
          shape: v.shape,
          nearest_gap_px: Number.isFinite(v.nearestGap) ? round(v.nearestGap, 2) : null,
          touching: isTouching,
          localizations: v.localizations,
        },
      });
    }
    await writeFileAtomic(join(out, 'labels', `${stem}.txt`), lines.length ? lines.join('\n') + '\n' : '');
    options.onImage?.(index, img);
  }
  const coco = { images, annotations, categories: [{ id: 1, name: 'cluster', supercategory: 'vesicle' }] };
  await writeFileAtomic(join(out, 'annotations.json'), JSON.stringify(coco));
  const meta = { simulator: 'maskbox simulate cdv', seed: options.seed, start, n: options.n, format, params };
  await writeFileAtomic(join(out, 'simulation.json'), JSON.stringify(meta, null, 2) + '\n');
  return { out, images: options.n, boxes: annotations.length, touching, seed: options.seed, format };
}

/** 8-bit grey to interleaved RGB through a colour map (`hot`: matplotlib's, r, g, b ramps over thirds). */
export function applyColormap(grey: Uint8Array, map: Colormap): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  const c = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(255 * v));
  for (let i = 0, j = 0; i < grey.length; i++, j += 3) {
    const v = grey[i]!;
    if (map === 'grey') rgb[j] = rgb[j + 1] = rgb[j + 2] = v;
    else if (map === 'inverted') rgb[j] = rgb[j + 1] = rgb[j + 2] = 255 - v;
    else if (map === 'red') rgb[j] = v;
    else if (map === 'green') rgb[j + 1] = v;
    else {
      const t = (3 * v) / 255;
      rgb[j] = c(t);
      rgb[j + 1] = c(t - 1);
      rgb[j + 2] = c(t - 2);
    }
  }
  return rgb;
}

/**
 * Encode one simulated image: 8-bit grey through the image's colour map to RGB for PNG/JPG (after the optional JPEG
 * round trip that adds artefacts), 16-bit single-channel for TIFF.
 */
export async function encodeImage(img: CdvImage, format: CdvFormat, params: CdvParams): Promise<Buffer> {
  const { width, height, pixels } = img;
  if (format === 'tif') {
    const u16 = new Uint16Array(width * height);
    for (let i = 0; i < u16.length; i++) u16[i] = Math.round(pixels[i]! * 257);
    return sharp(u16, { raw: { width, height, channels: 1 } })
      .toColourspace('grey16')
      .tiff({ compression: 'deflate' })
      .toBuffer();
  }
  let grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(pixels[i]!);
  if (img.jpeg !== undefined) {
    const jpg = await sharp(grey, { raw: { width, height, channels: 1 } })
      .jpeg({ quality: img.jpeg })
      .toBuffer();
    grey = new Uint8Array(await sharp(jpg).extractChannel(0).raw().toBuffer());
  }
  const rgb = applyColormap(grey, img.colormap);
  const s = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (format === 'png') return s.png({ compressionLevel: 6 }).toBuffer();
  const quality = img.jpeg ?? Math.round((params.jpegQuality[0] + params.jpegQuality[1]) / 2);
  return s.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}
