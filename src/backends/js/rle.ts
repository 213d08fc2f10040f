/**
 * Run-length reference kernels. A mask channel's runs are a `Uint32Array` of pairs
 * `start, length` (0-based start in the flattened order, length >= 1), sorted and non-overlapping.
 * Row order flattens `[H, W]` row-major (the competition's RLE); column order flattens it
 * column-major (Kaggle `order='F'`, and COCO's counts).
 *
 * Encoding scans bytes word-wise (four at a time) wherever a run continues, so it costs little more
 * than reading the mask once; column order goes through a cache-blocked transpose first.
 */

export type RleOrder = 'row' | 'col';

export interface RleEncodeArgs {
  /** `[C, H, W]` row-major, non-zero = 1. */
  mask: Uint8Array;
  channels: number;
  height: number;
  width: number;
  order: RleOrder;
}

export interface RleDecodeArgs {
  /** One run list per channel (validated: sorted, non-overlapping, inside `height*width`). */
  runs: readonly Uint32Array[];
  height: number;
  width: number;
  order: RleOrder;
}

export interface RleOverlapArgs {
  a: readonly Uint32Array[];
  b: readonly Uint32Array[];
}

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

/** Cache-blocked transpose of `src[off .. off + rows*cols)` (`[rows, cols]`) into `dst` (`[cols, rows]`). */
export function transpose(src: Uint8Array, off: number, rows: number, cols: number, dst: Uint8Array): void {
  const B = 64;
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

/** Runs of every channel of a `[C, H, W]` mask, in row or column order. */
export function rleEncode(args: RleEncodeArgs): Uint32Array[] {
  const { mask, channels, height, width, order } = args;
  const n = height * width;
  const list = new RunList();
  const out: Uint32Array[] = [];
  if (order === 'row' || height === 1 || width === 1) {
    // A 1xN or Nx1 mask flattens identically in both orders.
    const words = wordView(mask);
    for (let c = 0; c < channels; c++) {
      scanRuns(mask, words, c * n, n, list);
      out.push(list.take());
    }
    return out;
  }
  const t = new Uint8Array(n);
  const words = wordView(t);
  for (let c = 0; c < channels; c++) {
    transpose(mask, c * n, height, width, t);
    scanRuns(t, words, 0, n, list);
    out.push(list.take());
  }
  return out;
}

/** `[C, H, W]` 0/1 mask from run lists. */
export function rleDecode(args: RleDecodeArgs): Uint8Array {
  const { runs, height, width, order } = args;
  const n = height * width;
  const out = new Uint8Array(runs.length * n);
  const colMajor = order === 'col' && height !== 1 && width !== 1;
  const t = colMajor ? new Uint8Array(n) : out;
  for (let c = 0; c < runs.length; c++) {
    const r = runs[c]!;
    const off = colMajor ? 0 : c * n;
    if (colMajor) t.fill(0);
    for (let k = 0; k < r.length; k += 2) t.fill(1, off + r[k]!, off + r[k]! + r[k + 1]!);
    if (colMajor) transpose(t, 0, width, height, out.subarray(c * n, (c + 1) * n));
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
  let i = 0, j = 0, inter = 0;
  const na = a.length, nb = b.length;
  while (i < na && j < nb) {
    const as = a[i]!, ae = as + a[i + 1]!, bs = b[j]!, be = bs + b[j + 1]!;
    const lo = as > bs ? as : bs, hi = ae < be ? ae : be;
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
  let k = 0, pos = 0;
  for (let i = 0; i < r.length; i += 2) {
    const s = r[i]!, l = r[i + 1]!;
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
  let k = 0, pos = 0;
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
