/**
 * Third-party single-molecule (SMLM) fixtures for the detector-vs-baseline benchmark: multi-frame TIFF
 * movies read frame by frame with sharp (`{ page: i }`; 16-bit exactly through
 * `toColourspace('grey16').raw({ depth: 'ushort' })`, DESIGN.md), their ground-truth emitter positions
 * per frame, and one fixed display stretch to 8 bits so the detector and the DBSCAN baseline see the
 * same pixels.
 *
 * Coordinates: every position returned here is in the pixel-edge frame of the image (pixel `i` covers
 * `[i, i + 1)`, its centre at `i + 0.5`), the frame the detector's boxes are in. Each source's own
 * convention is converted (see `SMLM_SETS`); `offsetCheck` measures it on the data.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ParseError } from '../src/errors.js';

/** A movie: `frames[i]` is frame i, row-major, one channel. */
export interface Movie {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  frames: (Uint8Array | Uint16Array)[];
}

/**
 * Read every page of a (multi-frame) TIFF. 16-bit pages come back as `Uint16Array` (exact), 8-bit as
 * `Uint8Array`. `maxFrames` reads only the first ones.
 * @throws ParseError naming the file when a page cannot be decoded or the pages differ in size
 */
export async function readTiffFrames(path: string, maxFrames = Infinity): Promise<Movie> {
  const meta = await sharp(path).metadata();
  const pages = Math.min(meta.pages ?? 1, maxFrames);
  const sixteen = meta.depth === 'ushort';
  const frames: (Uint8Array | Uint16Array)[] = [];
  let width = 0;
  let height = 0;
  for (let i = 0; i < pages; i++) {
    const s = sharp(path, { page: i })
      .toColourspace(sixteen ? 'grey16' : 'b-w')
      .raw(sixteen ? { depth: 'ushort' } : {});
    const { data, info } = await s.toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new ParseError(path, `page ${i}: expected 1 channel, got ${info.channels}`);
    if (i === 0) ({ width, height } = info);
    else if (info.width !== width || info.height !== height)
      throw new ParseError(path, `page ${i} is ${info.width}x${info.height}, page 0 is ${width}x${height}`);
    const bytes = new Uint8Array(data); // own, aligned copy
    frames.push(sixteen ? new Uint16Array(bytes.buffer, 0, bytes.length / 2) : bytes);
  }
  return { width, height, bitDepth: sixteen ? 16 : 8, frames };
}

/** numpy.percentile (linear) of the samples of every frame together. */
export function moviePercentiles(movie: Movie, ps: readonly number[]): number[] {
  const n = movie.frames.reduce((s, f) => s + f.length, 0);
  const all = new Float64Array(n);
  let k = 0;
  for (const f of movie.frames) for (let i = 0; i < f.length; i++) all[k++] = f[i]!;
  all.sort();
  return ps.map((p) => {
    const pos = (p / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return all[lo]! + (all[hi]! - all[lo]!) * (pos - lo);
  });
}

/**
 * One linear display stretch for the whole movie (like a viewer's fixed contrast): `lo` -> 0,
 * `hi` -> 255, clamped, rounded. Returns 8-bit grey frames.
 */
export function stretchTo8bit(movie: Movie, lo: number, hi: number): Uint8Array[] {
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return movie.frames.map((f) => {
    const out = new Uint8Array(f.length);
    for (let i = 0; i < f.length; i++) {
      const v = (f[i]! - lo) * scale;
      out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
    return out;
  });
}

/** Minimal CSV reader: header names (quotes stripped) and numeric rows. */
export async function readNumericCsv(path: string): Promise<{ header: string[]; rows: number[][] }> {
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]!.split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const rows = lines.slice(1).map((l, i) => {
    const r = l.split(',').map(Number);
    if (r.length !== header.length || r.some((v) => !Number.isFinite(v)))
      throw new ParseError(path, `row ${i + 2}: expected ${header.length} numbers`, i + 2);
    return r;
  });
  return { header, rows };
}

function column(csv: { header: string[] }, name: string, path: string): number {
  const i = csv.header.indexOf(name);
  if (i < 0) throw new ParseError(path, `no column '${name}' (header: ${csv.header.join(',')})`);
  return i;
}

/** Ground-truth points `[x, y, ...]` (pixel-edge frame) per frame. */
export type PointsPerFrame = Float64Array[];

/** An SMLM fixture: the movie file, how to read its ground truth, and what that truth is. */
export interface SmlmSet {
  name: string;
  tif: string;
  /** What the reference points are (ground truth or another program's output). */
  truth: string;
  /** Loads the reference points per frame (length = frame count). */
  load(dir: string, frames: number): Promise<PointsPerFrame>;
}

function perFrame(
  frames: number,
  rows: number[][],
  f: number,
  x: number,
  y: number,
  frameBase: number,
  toEdge: (v: number) => number,
): PointsPerFrame {
  const lists: number[][] = Array.from({ length: frames }, () => []);
  for (const r of rows) {
    const k = r[f]! - frameBase;
    if (k >= 0 && k < frames) lists[k]!.push(toEdge(r[x]!), toEdge(r[y]!));
  }
  return lists.map((l) => Float64Array.from(l));
}

/**
 * The fixtures in /work/shared/fixtures/smlm, with each source's coordinate convention:
 * - picasso: `testdata_locs_reference.csv` (Picasso's own localizations; `frame` 0-based, x/y in px with
 *   the pixel centre at the integer, so +0.5). The binding-site file has no frame column; it is scored
 *   separately over the whole movie (see the benchmark).
 * - deepstorm: `positions_demo1.csv`, `frame` 1-based, x/y in nm with 100 nm pixels and the origin at
 *   the image corner (ThunderSTORM), so x/100.
 * - storm-analysis: `*_groundtruth.csv`, `frame_1based`, `x_px_0based`/`y_px_0based` with the pixel
 *   centre at the integer, so +0.5.
 * `offsetCheck` in the benchmark verifies these on the frames (intensity centroid around each point).
 */
export const SMLM_SETS: readonly SmlmSet[] = [
  {
    name: 'picasso testdata_100f',
    tif: 'picasso/testdata_100f.tif',
    truth: "Picasso's own per-frame localizations (testdata_locs_reference.csv)",
    async load(dir, frames) {
      const p = join(dir, 'picasso/testdata_locs_reference.csv');
      const c = await readNumericCsv(p);
      return perFrame(frames, c.rows, column(c, 'frame', p), column(c, 'x', p), column(c, 'y', p), 0, (v) => v + 0.5);
    },
  },
  {
    name: 'deepstorm demo1',
    tif: 'deepstorm/ArtificialDataset_demo1.tif',
    truth: 'simulated emitters (positions_demo1.csv, nm / 100)',
    async load(dir, frames) {
      const p = join(dir, 'deepstorm/positions_demo1.csv');
      const c = await readNumericCsv(p);
      return perFrame(
        frames,
        c.rows,
        column(c, 'frame', p),
        column(c, 'x [nm]', p),
        column(c, 'y [nm]', p),
        1,
        (v) => v / 100,
      );
    },
  },
  ...(['test', 'test_300x200', 'test_low_snr'] as const).map((stem): SmlmSet => ({
    name: `storm-analysis ${stem}`,
    tif: `storm-analysis/${stem}.tif`,
    truth: `simulated emitters (${stem}_groundtruth.csv)`,
    async load(dir, frames) {
      const p = join(dir, `storm-analysis/${stem}_groundtruth.csv`);
      const c = await readNumericCsv(p);
      const [f, x, y] = [column(c, 'frame_1based', p), column(c, 'x_px_0based', p), column(c, 'y_px_0based', p)];
      return perFrame(frames, c.rows, f, x, y, 1, (v) => v + 0.5);
    },
  })),
];

/**
 * Picasso's ground truth: binding sites (`structure, x_px, y_px`, pixel centre at the integer) grouped
 * by structure. The sites of one structure lie within a fraction of a pixel (DNA origami seen at 160 nm
 * px), so each structure is one point here: the mean of its sites, in the pixel-edge frame.
 */
export async function picassoStructures(dir: string): Promise<{ centres: Float64Array; sites: number }> {
  const p = join(dir, 'picasso/ground_truth_binding_sites_px.csv');
  const c = await readNumericCsv(p);
  const [s, x, y] = [column(c, 'structure', p), column(c, 'x_px', p), column(c, 'y_px', p)];
  const acc = new Map<number, [number, number, number]>();
  for (const r of c.rows) {
    const a = acc.get(r[s]!) ?? [0, 0, 0];
    acc.set(r[s]!, [a[0] + r[x]!, a[1] + r[y]!, a[2] + 1]);
  }
  const keys = [...acc.keys()].sort((a, b) => a - b);
  const centres = Float64Array.from(
    keys.flatMap((k) => {
      const [sx, sy, n] = acc.get(k)!;
      return [sx / n + 0.5, sy / n + 0.5];
    }),
  );
  return { centres, sites: c.rows.length };
}

/**
 * Mean offset between reference points and the intensity centroid of the background-subtracted frame
 * in a (2r+1)² window around each (r = 2): near (0, 0) when the coordinate convention is right, near
 * (-0.5, -0.5) or (+0.5, +0.5) when it is off by half a pixel.
 */
export function offsetCheck(
  movie: Movie,
  points: PointsPerFrame,
  background: number,
  r = 2,
): { dx: number; dy: number; n: number } {
  let sx = 0;
  let sy = 0;
  let n = 0;
  const { width: W, height: H } = movie;
  movie.frames.forEach((f, k) => {
    const pts = points[k]!;
    for (let p = 0; p < pts.length; p += 2) {
      const px = Math.floor(pts[p]!);
      const py = Math.floor(pts[p + 1]!);
      if (px - r < 0 || py - r < 0 || px + r >= W || py + r >= H) continue;
      let m = 0;
      let mx = 0;
      let my = 0;
      for (let y = py - r; y <= py + r; y++)
        for (let x = px - r; x <= px + r; x++) {
          const v = Math.max(0, f[y * W + x]! - background);
          m += v;
          mx += v * (x + 0.5);
          my += v * (y + 0.5);
        }
      if (m <= 0) continue;
      sx += mx / m - pts[p]!;
      sy += my / m - pts[p + 1]!;
      n++;
    }
  });
  return { dx: n ? sx / n : NaN, dy: n ? sy / n : NaN, n };
}
