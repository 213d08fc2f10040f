/**
 * Inputs and checks shared by the preprocessing tests (letterbox, webgpuPreprocess, preprocessNative):
 * random images, the cases of the letterbox and resize sweeps against the js reference, and the
 * bit-for-bit comparison. Seeded: each test passes its own rng, so its inputs do not depend on another's.
 */
import { expect } from 'vitest';
import type { BackendName } from '../src/backends/registry.js';
import type { RawImage } from '../src/ops/letterbox.js';
import { resizeBilinear } from '../src/ops/resize.js';
import { rng } from './helpers.js';

/** An HWC image of random samples: each `floor(level() * max)` (max 256 or 65536), at most max - 1. */
export function randomImage(
  level: () => number,
  width: number,
  height: number,
  channels: number,
  depth: 8 | 16 = 8,
): RawImage {
  const n = width * height * channels;
  const data = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  const max = depth === 8 ? 256 : 65536;
  for (let i = 0; i < n; i++) data[i] = Math.min(max - 1, Math.floor(level() * max));
  return { data, width, height, channels };
}

/** Index of the first element whose bits differ (NaN-safe, -0 != +0), or -1; 0 when the lengths differ. */
export function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/**
 * Case k of a letterbox sweep: an image of 1 to `maxSide` pixels a side (samples from `level`), the
 * target a random rectangle every fourth case and 160 otherwise, `auto` every fifth. Callers add the
 * options their backend varies (percentiles, scaleUp, padValue) after this, drawing from the same rng.
 */
export function letterboxCase(
  r: () => number,
  k: number,
  image: { maxSide: number; channels: number; depth: 8 | 16; level: () => number },
): { img: RawImage; size: number | [number, number]; auto: boolean } {
  const width = 1 + Math.floor(r() * image.maxSide);
  const height = 1 + Math.floor(r() * image.maxSide);
  const img = randomImage(image.level, width, height, image.channels, image.depth);
  const size: number | [number, number] = k % 4 === 0 ? [64 + Math.floor(r() * 200), 64 + Math.floor(r() * 200)] : 160;
  return { img, size, auto: k % 5 === 1 };
}

/** A resize case: input shape [C, h, w] and output size [H, W]. */
export type ResizeCase = [[number, number, number], [number, number]];

/**
 * Resize cases: up, down and mixed scales, an unchanged axis, 1-pixel sides, and one 128x128 plane
 * resized to `large` (where a backend splits rows into blocks: big on cpu, smaller on lavapipe).
 */
export function resizeCases(large: [number, number]): ResizeCase[] {
  return [
    [
      [29, 16, 16],
      [64, 64],
    ],
    [
      [3, 64, 48],
      [17, 200],
    ],
    [
      [2, 1, 9],
      [7, 9],
    ],
    [
      [2, 9, 1],
      [9, 33],
    ],
    [
      [1, 40, 40],
      [40, 40],
    ],
    [[1, 128, 128], large],
    [
      [2, 100, 70],
      [31, 29],
    ],
    [
      [1, 1, 1],
      [3, 5],
    ],
  ];
}

/**
 * Resizes random logit-like planes (a tenth zeros, the rest over eleven decades, both signs) of each
 * case on `backend` and on js, and expects the two outputs bit for bit equal.
 */
export async function expectResizeLikeJs(backend: BackendName, seed: number, cases: ResizeCase[]): Promise<void> {
  const r = rng(seed);
  for (const [shape, size] of cases) {
    const n = shape[0] * shape[1] * shape[2];
    const x = Float32Array.from({ length: n }, () => (r() < 0.1 ? 0 : (r() - 0.5) * 10 ** (r() * 8 - 3)));
    const js = await resizeBilinear(x, shape, size, { backend: 'js' });
    const out = await resizeBilinear(x, shape, size, { backend });
    expect(out.backend).toBe(backend);
    expect(firstBitDiff(out.data, js.data), `${shape} -> ${size}`).toBe(-1);
  }
}
