/**
 * Rendering half of the CDV simulator: Gaussian spots added into a float image, then haze, display
 * gamma and camera noise (docs/simulator.md, steps 3–5).
 */
import type { Prng } from './prng.js';

type Range = readonly [number, number];
const draw = (rng: Prng, r: Range) => rng.uniform(r[0], r[1]);

/** The parameter ranges `develop` draws from (a subset of CdvParams). */
export interface DevelopRanges {
  gamma: Range;
  offset: Range;
  shotNoise: Range;
  haze: Range;
  /** Camera gain on the signal (after gamma, before offset and noise); `[1, 1]` or absent: none. */
  gain?: Range;
  /** Probability of an EMCCD frame: shot-noise variance doubled (excess noise factor 2) and clock-induced-charge spikes. */
  emccd?: number;
}

/** Clock-induced charge on an EMCCD frame: spikes per pixel, and their mean height (grey levels). */
const CIC_RATE = 5e-4;
const CIC_LEVEL = 25;

/** Adds Gaussian spots (peak = amplitude) into a float image, with separable weights. */
export class Splatter {
  private wx = new Float64Array(256);
  private wy = new Float64Array(256);
  constructor(
    private readonly img: Float32Array,
    private readonly W: number,
    private readonly H: number,
  ) {}

  add(x: number, y: number, sigma: number, amplitude: number): void {
    const R = Math.min(100, Math.ceil(3 * sigma));
    // Pixel (i, j) covers [i, i+1): its centre is at i + 0.5.
    const ix = Math.floor(x);
    const iy = Math.floor(y);
    const x0 = Math.max(0, ix - R);
    const x1 = Math.min(this.W - 1, ix + R);
    const y0 = Math.max(0, iy - R);
    const y1 = Math.min(this.H - 1, iy + R);
    const k = -1 / (2 * sigma * sigma);
    for (let i = x0; i <= x1; i++) {
      const d = i + 0.5 - x;
      this.wx[i - x0] = Math.exp(k * d * d);
    }
    for (let j = y0; j <= y1; j++) {
      const d = j + 0.5 - y;
      this.wy[j - y0] = amplitude * Math.exp(k * d * d);
    }
    for (let j = y0; j <= y1; j++) {
      const wy = this.wy[j - y0]!;
      const row = j * this.W;
      for (let i = x0; i <= x1; i++) this.img[row + i]! += wy * this.wx[i - x0]!;
    }
  }
}

/** Haze, gamma, camera offset, shot and read noise; returns grey levels clipped to [0, 255]. */
export function develop(
  rng: Prng,
  p: DevelopRanges,
  signal: Float32Array,
  W: number,
  H: number,
  read: number,
): Float32Array {
  const gamma = draw(rng, p.gamma);
  const offset = draw(rng, p.offset);
  const shot = draw(rng, p.shotNoise);
  const haze = draw(rng, p.haze);
  // Draws only when enabled, so presets without them render the same images as before.
  const gain = p.gain && (p.gain[0] !== 1 || p.gain[1] !== 1) ? draw(rng, p.gain) : 1;
  const em = p.emccd ? rng.chance(p.emccd) : false;
  const excess = em ? 2 : 1;
  // Haze: a 5x5 grid of random levels, bilinearly interpolated.
  const G = 5;
  const grid = new Float64Array(G * G);
  for (let i = 0; i < grid.length; i++) grid[i] = haze * rng.next();
  const out = signal;
  for (let y = 0; y < H; y++) {
    const gy = (y / Math.max(1, H - 1)) * (G - 1);
    const j0 = Math.min(G - 2, Math.floor(gy));
    const fy = gy - j0;
    for (let x = 0; x < W; x++) {
      const gx = (x / Math.max(1, W - 1)) * (G - 1);
      const i0 = Math.min(G - 2, Math.floor(gx));
      const fx = gx - i0;
      const h =
        (1 - fy) * ((1 - fx) * grid[j0 * G + i0]! + fx * grid[j0 * G + i0 + 1]!) +
        fy * ((1 - fx) * grid[(j0 + 1) * G + i0]! + fx * grid[(j0 + 1) * G + i0 + 1]!);
      const k = y * W + x;
      let s = out[k]! + h;
      s = s <= 0 ? 0 : 255 * Math.pow(Math.min(s, 1e6) / 255, gamma);
      s *= gain;
      let v = offset + s;
      const sd = Math.sqrt(read * read + excess * shot * s);
      if (sd > 0) v += sd * rng.normal();
      if (em && rng.next() < CIC_RATE) v += CIC_LEVEL * -Math.log(1 - rng.next());
      out[k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
