/**
 * Weighted boxes fusion reference, the algorithm of ensemble_boxes' `weighted_boxes_fusion` (Solovyev
 * et al. 2021) with its float32 steps, made deterministic:
 * 1. keep boxes with `score >= skipBoxThreshold` and a non-zero area; a box's weighted score is
 *    `score * weights[model]` (float64);
 * 2. per class (ascending), visit boxes by weighted score descending (equal: lower index first); match
 *    each to the fused box of its class with the highest IoU `> iouThreshold` (float64 IoU against
 *    the fused box; equal IoUs: the earlier cluster), else start a new cluster;
 * 3. a cluster's fused box is `Σ wsᵢ·boxᵢ / Σ wsᵢ`, accumulated in float32 as numpy does
 *    (`f32(acc + wsᵢ·boxᵢ)`, then `f32(acc / f32(Σws))`: numpy divides a float32 array by a Python float in float32); its score `f32(Σws / n)` (`avg`) or
 *    `f32(max ws)` (`max`); a one-box cluster is the box and its weighted score, unrounded;
 * 4. rescale: `avg`: `score · min(M, n) / Σweights` (`n / Σweights` with `allowsOverflow`); `max`:
 *    `score / max(weights)`; M = number of models, n = boxes in the cluster;
 * 5. all clusters by score descending (stable: class order, then cluster order).
 * Differences from ensemble_boxes: any coordinates (it clips to [0, 1]), stable sorts (numpy's
 * `argsort()[::-1]` puts equal scores in reverse order).
 */
import type { WbfConfType, WbfArgs, WbfOutput } from '../../ops/wbf.js';
const f = Math.fround;

function iou64(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const w = Math.min(a[ai + 2]!, b[bi + 2]!) - Math.max(a[ai]!, b[bi]!);
  const h = Math.min(a[ai + 3]!, b[bi + 3]!) - Math.max(a[ai + 1]!, b[bi + 1]!);
  const inter = Math.max(0, w) * Math.max(0, h);
  if (inter === 0) return 0;
  const areaA = (a[ai + 2]! - a[ai]!) * (a[ai + 3]! - a[ai + 1]!);
  const areaB = (b[bi + 2]! - b[bi]!) * (b[bi + 3]! - b[bi + 1]!);
  return inter / (areaA + areaB - inter);
}

export function wbf(args: WbfArgs): WbfOutput {
  const { boxes, scores, classes, models, weights, iouThreshold, skipBoxThreshold, confType } = args;
  const M = weights.length;
  let wSum = 0,
    wMax = 0;
  for (let m = 0; m < M; m++) {
    wSum += weights[m]!;
    wMax = Math.max(wMax, weights[m]!);
  }
  const ws = new Float64Array(scores.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    if (!(scores[i]! >= skipBoxThreshold)) continue;
    if ((boxes[4 * i + 2]! - boxes[4 * i]!) * (boxes[4 * i + 3]! - boxes[4 * i + 1]!) === 0) continue;
    ws[i] = scores[i]! * weights[models[i]!]!;
    const c = classes[i]!;
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const out: { box: Float64Array; score: number; cls: number; n: number }[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(c)!.sort((a, b) => ws[b]! - ws[a]! || a - b);
    const acc: Float64Array[] = [],
      fused: Float64Array[] = [],
      conf: number[] = [],
      top: number[] = [],
      count: number[] = [];
    for (const i of list) {
      let best = -1,
        bestIou = iouThreshold;
      for (let k = 0; k < fused.length; k++) {
        const v = iou64(fused[k]!, 0, boxes, 4 * i);
        if (v > bestIou) {
          bestIou = v;
          best = k;
        }
      }
      if (best < 0) {
        best = fused.length;
        acc.push(new Float64Array(4));
        fused.push(new Float64Array(4));
        conf.push(0);
        top.push(0);
        count.push(0);
      }
      const a = acc[best]!,
        fb = fused[best]!;
      for (let q = 0; q < 4; q++) a[q] = f(a[q]! + ws[i]! * boxes[4 * i + q]!);
      conf[best] = conf[best]! + ws[i]!;
      top[best] = Math.max(top[best]!, ws[i]!);
      count[best]!++;
      // A one-box cluster is that box (ensemble_boxes stores the row itself, unrounded).
      for (let q = 0; q < 4; q++) fb[q] = count[best] === 1 ? boxes[4 * i + q]! : f(a[q]! / f(conf[best]!));
    }
    for (let k = 0; k < fused.length; k++) {
      const n = count[k]!;
      const raw = n === 1 ? conf[k]! : f(confType === 'max' ? top[k]! : conf[k]! / n);
      const score = confType === 'max' ? raw / wMax : (raw * (args.allowsOverflow ? n : Math.min(M, n))) / wSum;
      out.push({ box: fused[k]!, score, cls: c, n });
    }
  }
  const order = out.map((_, i) => i).sort((a, b) => out[b]!.score - out[a]!.score || a - b);
  const res: WbfOutput = {
    boxes: new Float32Array(4 * out.length),
    scores: new Float32Array(out.length),
    classes: new Int32Array(out.length),
    counts: new Int32Array(out.length),
  };
  order.forEach((k, r) => {
    const o = out[k]!;
    res.boxes.set(o.box, 4 * r);
    res.scores[r] = o.score;
    res.classes[r] = o.cls;
    res.counts[r] = o.n;
  });
  return res;
}
