/**
 * Run-length reference kernels. A mask channel's runs are a `Uint32Array` of pairs
 * `start, length` (0-based start in the flattened order, length >= 1), sorted and non-overlapping.
 * Row order flattens `[H, W]` row-major (the competition's RLE); column order flattens it
 * column-major (Kaggle `order='F'`, and COCO's counts).
 *
 * Encoding scans bytes word-wise (four at a time) wherever a run continues, so it costs little more
 * than reading the mask once; column order is derived from the row-order runs (`transposeRuns`), or
 * for noise-like masks from a byte transpose.
 */
import type { RleOrder, RleEncodeArgs, RleDecodeArgs, RleOverlapArgs } from '../../ops/rle.js';
export type { RleOrder, RleEncodeArgs, RleDecodeArgs, RleOverlapArgs } from '../../ops/rle.js';

const HI = 0x80808080 | 0;

/** High bit of each byte of `w` set where that byte is non-zero. */
export function nonZeroBytes(w: number): number {
  return (((w & 0x7f7f7f7f) + 0x7f7f7f7f) | w) & HI;
}

/** Number of high bits set in a word where only bits 7, 15, 23, 31 can be set. */
export function count4(m: number): number {
  return Math.imul(m >>> 7, 0x01010101) >>> 24;
}

/** A Uint32Array over the whole buffer of `a`, so that byte `a.byteOffset + i` (when a multiple of 4) is word `(a.byteOffset + i) >> 2`. */
export function wordView(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, 0, a.buffer.byteLength >>> 2);
}

/** Growable list of uint32 pairs. */
class RunList {
  data = new Uint32Array(256);
  n = 0;
  push(start: number, length: number): void {
    if (this.n + 2 > this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = start;
    this.data[this.n++] = length;
  }
  take(): Uint32Array {
    const out = this.data.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

/**
 * Runs of non-zero bytes of `m[off, off + n)`, starts relative to `off`. `words` is `wordView(m)`.
 */
function scanRuns(m: Uint8Array, words: Uint32Array, off: number, n: number, out: RunList): void {
  const end = off + n;
  const base = m.byteOffset; // byte index i of m is absolute byte base + i
  let i = off;
  for (;;) {
    // Skip zeros: byte-wise to a word boundary, then two words at a time, then byte-wise.
    while (i < end && ((base + i) & 3) !== 0 && m[i] === 0) i++;
    if (i < end && m[i] === 0) {
      let w = (base + i) >>> 2;
      const wEnd = (base + end) >>> 2;
      while (w + 1 < wEnd && (words[w]! | words[w + 1]!) === 0) w += 2;
      while (w < wEnd && words[w] === 0) w++;
      i = (w << 2) - base;
      while (i < end && m[i] === 0) i++;
    }
    if (i >= end) return;
    const start = i;
    // Skip non-zeros likewise.
    i++;
    while (i < end && ((base + i) & 3) !== 0 && m[i] !== 0) i++;
    if (i < end && m[i] !== 0) {
      let w = (base + i) >>> 2;
      const wEnd = (base + end) >>> 2;
      while (w < wEnd && nonZeroBytes(words[w]!) === HI) w++;
      i = (w << 2) - base;
      while (i < end && m[i] !== 0) i++;
    }
    out.push(start - off, i - start);
    if (i >= end) return;
  }
}

/** Growable int32 triples `(x, y0, y1)`: a vertical run in column x over rows [y0, y1). */
class Segments {
  data = new Int32Array(768);
  n = 0;
  push(x: number, y0: number, y1: number): void {
    if (this.n + 3 > this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = x;
    this.data[this.n++] = y0;
    this.data[this.n++] = y1;
  }
}

/** Calls `fn(x0, x1)` for each maximal column range in intervals `a` (pairs `[x0, x1)`) but not in `b`. */
function difference(a: Int32Array, na: number, b: Int32Array, nb: number, fn: (x0: number, x1: number) => void): void {
  let j = 0;
  for (let i = 0; i < na; i += 2) {
    const lo = a[i]!,
      hi = a[i + 1]!;
    while (j < nb && b[j + 1]! <= lo) j += 2;
    let x = lo;
    for (let k = j; x < hi; k += 2) {
      const bs = k < nb ? b[k]! : hi;
      if (bs >= hi) {
        fn(x, hi);
        break;
      }
      if (bs > x) fn(x, bs);
      x = Math.max(x, b[k + 1]!);
    }
  }
}

/**
 * Row-major runs of the transpose: given the runs of `[rows, cols]` flattened row-major, the runs of
 * the same mask flattened column-major (equivalently, of its `[cols, rows]` transpose row-major).
 * Works on runs only: a sweep over the rows finds where vertical runs start and end (columns set in
 * one row and not the previous), then a counting sort by column orders them. Cost: O(runs + rows +
 * cols + vertical runs), independent of the pixel count for blob-like masks.
 */
export function transposeRuns(r: Uint32Array, rows: number, cols: number): Uint32Array {
  const segs = new Segments();
  const open = new Int32Array(cols); // start row of the vertical run open in each column
  let prev = new Int32Array(64),
    np = 0,
    py = -2; // intervals [x0, x1) of the last row that had any
  let cur = new Int32Array(64),
    nc = 0;
  let k = 0,
    carry = 0; // run index, and pixels of run k already consumed (runs span rows)
  const closeAll = (at: number) => {
    for (let i = 0; i < np; i += 2) for (let x = prev[i]!; x < prev[i + 1]!; x++) segs.push(x, open[x]!, at);
  };
  while (k < r.length) {
    // Intervals of the next row that has any: split run k at row ends.
    const pos = r[k]! + carry;
    const y = Math.floor(pos / cols),
      rowEnd = (y + 1) * cols;
    nc = 0;
    while (k < r.length) {
      const s = r[k]! + carry,
        e = r[k]! + r[k + 1]!;
      if (s >= rowEnd) break;
      if (nc + 2 > cur.length) {
        const next = new Int32Array(cur.length * 2);
        next.set(cur);
        cur = next;
      }
      cur[nc++] = s - y * cols;
      cur[nc++] = Math.min(e, rowEnd) - y * cols;
      if (e > rowEnd) {
        carry = rowEnd - r[k]!;
        break;
      }
      carry = 0;
      k += 2;
    }
    if (y !== py + 1) {
      closeAll(py + 1);
      for (let i = 0; i < nc; i += 2) for (let x = cur[i]!; x < cur[i + 1]!; x++) open[x] = y;
    } else {
      // Columns only in the previous row end at y; columns only in this row start at y.
      difference(prev, np, cur, nc, (x0, x1) => {
        for (let x = x0; x < x1; x++) segs.push(x, open[x]!, y);
      });
      difference(cur, nc, prev, np, (x0, x1) => open.fill(y, x0, x1));
    }
    [prev, cur] = [cur, prev];
    np = nc;
    py = y;
  }
  closeAll(py + 1);
  // Counting sort by column (stable: within a column, segments were closed in row order).
  const n = segs.n / 3,
    d = segs.data;
  const first = new Int32Array(cols + 1);
  for (let i = 0; i < n; i++) first[d[3 * i]! + 1]!++;
  for (let c = 0; c < cols; c++) first[c + 1]! += first[c]!;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[first[d[3 * i]!]!++] = i;
  const out = new RunList();
  let lastEnd = -1;
  for (let t = 0; t < n; t++) {
    const i = order[t]!;
    const start = d[3 * i]! * rows + d[3 * i + 1]!,
      len = d[3 * i + 2]! - d[3 * i + 1]!;
    if (start === lastEnd)
      out.data[out.n - 1]! += len; // a run down one column's end and the next's top
    else out.push(start, len);
    lastEnd = start + len;
  }
  return out.take();
}

/** Cache-blocked byte transpose of `src[off .. off + rows*cols)` (`[rows, cols]`) into `dst` (`[cols, rows]`). */
export function transposeBytes(src: Uint8Array, off: number, rows: number, cols: number, dst: Uint8Array): void {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const s = off + r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[s + c]!;
      }
    }
  }
}

/**
 * Above this many runs per pixel, converting between orders run by run (about 1 µs a vertical run)
 * costs more than transposing the bytes (about 15 ns a pixel): noise-like masks take the byte path.
 */
const DENSE_RUNS_PER_PIXEL = 1 / 64;

/** Runs of every channel of a `[C, H, W]` mask, in row or column order. */
export function rleEncode(args: RleEncodeArgs): Uint32Array[] {
  const { mask, channels, height, width, order } = args;
  const n = height * width;
  const list = new RunList();
  const out: Uint32Array[] = [];
  // A 1xN or Nx1 mask flattens identically in both orders.
  const col = order === 'col' && height > 1 && width > 1;
  const words = wordView(mask);
  let t: Uint8Array | null = null;
  for (let c = 0; c < channels; c++) {
    scanRuns(mask, words, c * n, n, list);
    const r = list.take();
    if (!col) out.push(r);
    else if (r.length / 2 <= n * DENSE_RUNS_PER_PIXEL) out.push(transposeRuns(r, height, width));
    else {
      t ??= new Uint8Array(n);
      transposeBytes(mask, c * n, height, width, t);
      scanRuns(t, wordView(t), 0, n, list);
      out.push(list.take());
    }
  }
  return out;
}

/** `[C, H, W]` 0/1 mask from run lists. */
export function rleDecode(args: RleDecodeArgs): Uint8Array {
  const { runs, height, width, order } = args;
  const n = height * width;
  const out = new Uint8Array(runs.length * n);
  const col = order === 'col' && height > 1 && width > 1;
  let t: Uint8Array | null = null;
  for (let c = 0; c < runs.length; c++) {
    let r = runs[c]!;
    const off = c * n;
    if (col && r.length / 2 > n * DENSE_RUNS_PER_PIXEL) {
      // Dense: fill the [W, H] transpose, then transpose the bytes back.
      t ??= new Uint8Array(n);
      t.fill(0);
      for (let k = 0; k < r.length; k += 2) t.fill(1, r[k]!, r[k]! + r[k + 1]!);
      transposeBytes(t, 0, width, height, out.subarray(off, off + n));
      continue;
    }
    // Column-order runs of [H, W] are the row-order runs of its transpose [W, H].
    if (col) r = transposeRuns(r, width, height);
    for (let k = 0; k < r.length; k += 2) out.fill(1, off + r[k]!, off + r[k]! + r[k + 1]!);
  }
  return out;
}

/** Pixels covered by a run list. */
export function runsArea(r: Uint32Array): number {
  let s = 0;
  for (let k = 1; k < r.length; k += 2) s += r[k]!;
  return s;
}

/** Pixels covered by both run lists (same order and shape), by a merge walk. */
export function runsIntersection(a: Uint32Array, b: Uint32Array): number {
  let i = 0,
    j = 0,
    inter = 0;
  const na = a.length,
    nb = b.length;
  while (i < na && j < nb) {
    const as = a[i]!,
      ae = as + a[i + 1]!,
      bs = b[j]!,
      be = bs + b[j + 1]!;
    const lo = as > bs ? as : bs,
      hi = ae < be ? ae : be;
    if (hi > lo) inter += hi - lo;
    if (ae <= be) i += 2;
    else j += 2;
  }
  return inter;
}

/** For each pair `(a[k], b[k])`: intersection, area of a, area of b, as `[n*3]`. */
export function rleOverlap(args: RleOverlapArgs): Float64Array {
  const { a, b } = args;
  const out = new Float64Array(a.length * 3);
  for (let k = 0; k < a.length; k++) {
    out[3 * k] = runsIntersection(a[k]!, b[k]!);
    out[3 * k + 1] = runsArea(a[k]!);
    out[3 * k + 2] = runsArea(b[k]!);
  }
  return out;
}

/** COCO counts (alternating runs of 0s and 1s, starting with 0s, summing to `n`) from column-order runs; as pycocotools' rleEncode. */
export function runsToCounts(r: Uint32Array, n: number): Uint32Array {
  const out = new Uint32Array(r.length + 2);
  let k = 0,
    pos = 0;
  for (let i = 0; i < r.length; i += 2) {
    const s = r[i]!,
      l = r[i + 1]!;
    if (l === 0) continue;
    if (s === pos && k > 0) {
      out[k - 1]! += l; // touching runs merge (canonical counts)
    } else {
      out[k++] = s - pos;
      out[k++] = l;
    }
    pos = s + l;
  }
  if (pos < n || k === 0) out[k++] = n - pos;
  return out.slice(0, k);
}

/** Column-order runs from COCO counts (already validated to sum to the pixel count). */
export function countsToRuns(counts: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(counts.length + 1);
  let k = 0,
    pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (i & 1 && c > 0) {
      out[k++] = pos;
      out[k++] = c;
    }
    pos += c;
  }
  return out.slice(0, k);
}
