/**
 * Host side of kernels/yoloNms.wgsl: the fused YOLO post-process on the GPU. The prediction goes up
 * once; the decode kernel filters, scores and converts every row and writes its sort key; the keys are
 * sorted and suppressed by the kernels of kernels/nms.wgsl (class-offset boxes, as YOLOv5); only the
 * kept rows come back, and their boxes, scores and classes are read off the prediction on the host
 * with the same float32 steps as the reference (src/backends/js/yoloNms.ts).
 */
import type { YoloDetections, YoloNmsArgs } from '../../ops/yoloNms.js';
import { GpuContext, f32Below } from './context.js';
import { encodeSort, pow2, readCount, suppress } from './nms.js';
import { WGSL } from './wgsl.js';

const f = Math.fround;

/** Kernel `yoloNms` on WebGPU: same arguments and result as the reference. */
export async function yoloNmsWebgpu(a: YoloNmsArgs, ctx: GpuContext): Promise<YoloDetections> {
  const { pred, count, numClasses } = a;
  const width = 4 + (a.hasObjectness ? 1 : 0) + numClasses;
  if (count === 0 || a.maxCandidates === 0 || a.maxDetections === 0) return assemble(a, width, new Int32Array(0));
  const p2 = pow2(count);
  const allowed = new Uint32Array(Math.max(1, Math.ceil(numClasses / 32)));
  for (const c of a.classFilter ?? []) if (c >= 0 && c < numClasses) allowed[c >>> 5]! |= 1 << (c & 31);
  const predBuf = ctx.upload(pred);
  const allowedBuf = ctx.upload(allowed);
  const keys = ctx.scratch(p2 * 8);
  const counter = ctx.zeros(4);
  const boxes = ctx.scratch(count * 16);
  const classes = ctx.scratch(count * 4);
  const u = ctx.uniforms([
    { u32: count },
    { u32: p2 },
    { u32: width },
    { u32: a.layout === 'rows' ? 1 : 0 },
    { u32: a.hasObjectness ? 1 : 0 },
    { u32: numClasses },
    { u32: a.classFilter !== null ? 1 : 0 },
    { f32: f32Below(a.conf) },
  ]);
  let sortUniforms: GPUBuffer | null = null;
  try {
    const decode = await ctx.pipeline('yoloNms', WGSL.yoloNms, 'decode');
    const enc = ctx.device.createCommandEncoder({ label: 'yoloNms:decode' });
    const pass = enc.beginComputePass();
    const bind = ctx.bind(decode, { 0: u, 1: predBuf, 2: allowedBuf, 3: keys, 4: counter, 5: boxes, 6: classes });
    GpuContext.dispatch(pass, decode, bind, ctx.cover(p2));
    pass.end();
    sortUniforms = await encodeSort(ctx, enc, keys, p2);
    ctx.device.queue.submit([enc.finish()]);
    const m = Math.min(await readCount(ctx, counter), a.maxCandidates);
    const rows = await suppress(ctx, {
      keys,
      boxes,
      classes,
      m,
      iouThreshold: a.iou,
      maxDetections: a.maxDetections,
      useClasses: false,
      offset: a.agnostic ? 0 : a.maxWh,
    });
    return assemble(a, width, rows);
  } finally {
    ctx.release(predBuf, allowedBuf, keys, counter, boxes, classes, u);
    if (sortUniforms) ctx.release(sortUniforms);
  }
}

/** Detections for the kept prediction rows, computed as the reference computes them. */
function assemble(a: YoloNmsArgs, width: number, rows: Int32Array): YoloDetections {
  const { pred, count, hasObjectness, numClasses } = a;
  const at =
    a.layout === 'rows'
      ? (r: number, k: number) => pred[r * width + k]!
      : (r: number, k: number) => pred[k * count + r]!;
  const clsStart = hasObjectness ? 5 : 4;
  const k = rows.length;
  const out: YoloDetections = {
    boxes: new Float32Array(k * 4),
    scores: new Float32Array(k),
    classes: new Int32Array(k),
    rows,
  };
  for (let o = 0; o < k; o++) {
    const r = rows[o]!;
    const obj = hasObjectness ? at(r, 4) : 1;
    let best = -Infinity,
      bestC = 0;
    for (let c = 0; c < numClasses; c++) {
      const s = hasObjectness ? f(at(r, clsStart + c) * obj) : at(r, clsStart + c);
      if (s > best) {
        best = s;
        bestC = c;
      }
    }
    const cx = at(r, 0),
      cy = at(r, 1),
      hw = f(at(r, 2) / 2),
      hh = f(at(r, 3) / 2);
    out.boxes[o * 4] = f(cx - hw);
    out.boxes[o * 4 + 1] = f(cy - hh);
    out.boxes[o * 4 + 2] = f(cx + hw);
    out.boxes[o * 4 + 3] = f(cy + hh);
    out.scores[o] = best;
    out.classes[o] = bestC;
  }
  return out;
}
