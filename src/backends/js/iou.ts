/**
 * IoU on float32, every step rounded to float32 exactly as torchvision's CPU kernel, so that NMS
 * decisions are bit-identical across backends (native code builds with -ffp-contract=off).
 */
const f = Math.fround;

/** IoU of box i of `a` and box j of `b`, float32 arithmetic. */
export function iouF32(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const i4 = i * 4,
    j4 = j * 4;
  const ax1 = a[i4]!,
    ay1 = a[i4 + 1]!,
    ax2 = a[i4 + 2]!,
    ay2 = a[i4 + 3]!;
  const bx1 = b[j4]!,
    by1 = b[j4 + 1]!,
    bx2 = b[j4 + 2]!,
    by2 = b[j4 + 3]!;
  const areaA = f(f(ax2 - ax1) * f(ay2 - ay1));
  const areaB = f(f(bx2 - bx1) * f(by2 - by1));
  const w = Math.max(0, f(Math.min(ax2, bx2) - Math.max(ax1, bx1)));
  const h = Math.max(0, f(Math.min(ay2, by2) - Math.max(ay1, by1)));
  const inter = f(w * h);
  const union = f(f(areaA + areaB) - inter);
  return union > 0 ? f(inter / union) : 0;
}

/** Pairwise IoU matrix `[nA, nB]`. */
export function iou(args: { a: Float32Array; b: Float32Array }): Float32Array {
  const { a, b } = args;
  const n = a.length / 4,
    m = b.length / 4;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = iouF32(a, i, b, j);
  return out;
}
