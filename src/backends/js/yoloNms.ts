/**
 * YOLOv5's non_max_suppression, step by step, for one image's raw prediction:
 * candidates by objectness (`obj > conf`), score = obj * cls (float32), best class (lowest index on a
 * tie), keep `score > conf`, cxcywh -> xyxy, optional class filter, top `maxCandidates` by score,
 * boxes offset by `class * maxWh` (so one agnostic NMS separates classes, exactly as YOLOv5 does, with
 * the same float32 rounding), greedy NMS, at most `maxDetections` out.
 * For layouts without objectness (YOLOv8/11) the score is the best class score.
 */
import type { YoloNmsArgs, YoloDetections } from '../../ops/yoloNms.js';
export type { YoloNmsArgs, YoloDetections } from '../../ops/yoloNms.js';
import { nms } from './nms.js';

const f = Math.fround;

export function yoloNms(a: YoloNmsArgs): YoloDetections {
  const { pred, count, layout, hasObjectness, numClasses } = a;
  const width = 4 + (hasObjectness ? 1 : 0) + numClasses;
  // Element (row r, channel k) of the prediction, whatever the layout.
  const at =
    layout === 'rows' ? (r: number, k: number) => pred[r * width + k]! : (r: number, k: number) => pred[k * count + r]!;
  const clsStart = hasObjectness ? 5 : 4;
  const cand: { row: number; score: number; cls: number }[] = [];
  for (let r = 0; r < count; r++) {
    const obj = hasObjectness ? at(r, 4) : 1;
    if (hasObjectness && !(obj > a.conf)) continue;
    let best = -Infinity,
      bestC = 0;
    for (let c = 0; c < numClasses; c++) {
      const s = hasObjectness ? f(at(r, clsStart + c) * obj) : at(r, clsStart + c);
      if (s > best) {
        best = s;
        bestC = c;
      }
    }
    if (!(best > a.conf)) continue;
    if (a.classFilter !== null && !a.classFilter.includes(bestC)) continue;
    cand.push({ row: r, score: best, cls: bestC });
  }
  cand.sort((p, q) => q.score - p.score || p.row - q.row);
  if (cand.length > a.maxCandidates) cand.length = a.maxCandidates;

  const n = cand.length;
  const boxes = new Float32Array(n * 4),
    shifted = new Float32Array(n * 4),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const { row, score, cls } = cand[i]!;
    const cx = at(row, 0),
      cy = at(row, 1),
      hw = f(at(row, 2) / 2),
      hh = f(at(row, 3) / 2);
    boxes[i * 4] = f(cx - hw);
    boxes[i * 4 + 1] = f(cy - hh);
    boxes[i * 4 + 2] = f(cx + hw);
    boxes[i * 4 + 3] = f(cy + hh);
    const off = a.agnostic ? 0 : f(cls * a.maxWh);
    for (let k = 0; k < 4; k++) shifted[i * 4 + k] = f(boxes[i * 4 + k]! + off);
    scores[i] = score;
  }
  const keep = nms({
    boxes: shifted,
    scores,
    classes: null,
    iouThreshold: a.iou,
    scoreThreshold: -Infinity,
    maxCandidates: n,
    maxDetections: a.maxDetections,
  });
  const k = keep.length;
  const out: YoloDetections = {
    boxes: new Float32Array(k * 4),
    scores: new Float32Array(k),
    classes: new Int32Array(k),
    rows: new Int32Array(k),
  };
  for (let o = 0; o < k; o++) {
    const i = keep[o]!;
    out.boxes.set(boxes.subarray(i * 4, i * 4 + 4), o * 4);
    out.scores[o] = scores[i]!;
    out.classes[o] = cand[i]!.cls;
    out.rows[o] = cand[i]!.row;
  }
  return out;
}
