/**
 * What a detector's ONNX graph looks like, from its input/output metadata alone: which input takes
 * the image, and which output layout the decoder must read.
 *
 * - `yolov5` / `yolov6`: one output `[B, N, 5+C]` (rows: cx, cy, w, h, objectness, C class scores;
 *   YOLOv6 heads write objectness 1.0). They decode identically; an inferred row layout is reported
 *   as `yolov5`.
 * - `yolov8`: one output `[B, 4+C, N]` with `4+C < N` (transposed, no objectness; YOLOv8/11).
 * - `end2end`: four outputs `num_dets, det_boxes, det_scores, det_classes` (NMS inside the graph).
 */
import { ModelError } from '../errors.js';
import { formatShape, type TensorInfo } from './session.js';

/** Output layouts the built-in decoders read. */
export type DetectorLayout = 'yolov5' | 'yolov6' | 'yolov8' | 'end2end';
/** Every {@link DetectorLayout}. */
export const DETECTOR_LAYOUTS: readonly DetectorLayout[] = ['yolov5', 'yolov6', 'yolov8', 'end2end'];

/** The image input of a detector: `[B, C, H, W]` float32, each dimension fixed (a number) or dynamic (null). */
export interface ImageInputSpec {
  name: string;
  /** Fixed batch size, or null when the batch dimension is dynamic. */
  batch: number | null;
  /** 1 (grey) or 3 (RGB/BGR). */
  channels: 1 | 3;
  /** Fixed height/width, or null when dynamic. */
  height: number | null;
  width: number | null;
}

/** The outputs a layout reads. */
export interface LayoutSpec {
  layout: DetectorLayout;
  /** Name of the prediction output (yolov5/6/8), or of `det_boxes` (end2end). */
  output: string;
  /** end2end only: output names by role. */
  end2end?: { numDets: string; boxes: string; scores: string; classes: string };
}

const END2END_ROLES = ['num_dets', 'det_boxes', 'det_scores', 'det_classes'] as const;
const HINT = "pass `layout` ('yolov5' | 'yolov6' | 'yolov8' | 'end2end') or a custom `decoder` to Detector.load";

const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

/**
 * Find the image input: exactly one input, rank 4 `[B, C, H, W]`, float32, C 1 or 3 (or dynamic).
 * @param inputs the model's inputs
 * @param source model path for messages
 * @param kind what the caller expected, for messages (`'detector'`, `'segmenter'`)
 * @throws ModelError when the model does not take one image tensor (it is not an image detector)
 */
export function imageInputSpec(inputs: readonly TensorInfo[], source: string, kind = 'detector'): ImageInputSpec {
  const list = inputs.map((i) => `${i.name} ${i.type}${formatShape(i.shape)}`).join(', ');
  if (inputs.length !== 1) {
    throw new ModelError(
      `${source}: not an image ${kind}: expected one image input [B,3,H,W], found ${inputs.length} inputs (${list})`,
    );
  }
  const inp = inputs[0]!;
  if (inp.shape.length !== 4) {
    throw new ModelError(
      `${source}: not an image ${kind}: input '${inp.name}' has shape ${formatShape(inp.shape)}, expected rank 4 [B,3,H,W]`,
    );
  }
  if (inp.type !== 'float32') {
    throw new ModelError(
      `${source}: input '${inp.name}' is ${inp.type}; maskbox feeds float32 images [B,3,H,W] (re-export the model with a float32 input)`,
    );
  }
  const c = fixed(inp.shape[1]);
  if (c !== null && c !== 1 && c !== 3) {
    throw new ModelError(
      `${source}: not an image ${kind}: input '${inp.name}' has ${c} channels (shape ${formatShape(inp.shape)}), expected 1 or 3 in NCHW order`,
    );
  }
  return {
    name: inp.name,
    batch: fixed(inp.shape[0]),
    channels: c === 1 ? 1 : 3,
    height: fixed(inp.shape[2]),
    width: fixed(inp.shape[3]),
  };
}

/** The role of an end2end output from its name (`num_dets`, `det_boxes`, … ; case-insensitive). */
function end2endRoles(outputs: readonly TensorInfo[]): LayoutSpec['end2end'] | null {
  const byRole = new Map<string, string>();
  for (const o of outputs) {
    const n = o.name.toLowerCase();
    const role = END2END_ROLES.find((r) => n === r || n.endsWith(`/${r}`) || n.endsWith(`:${r}`));
    if (role) byRole.set(role, o.name);
  }
  if (byRole.size !== 4) return null;
  return {
    numDets: byRole.get('num_dets')!,
    boxes: byRole.get('det_boxes')!,
    scores: byRole.get('det_scores')!,
    classes: byRole.get('det_classes')!,
  };
}

/**
 * Infer the output layout from output names and shapes.
 * @param outputs the model's outputs
 * @param source model path for messages
 * @returns the layout and the output(s) it reads
 * @throws ModelError when no rule matches, telling the user to pass `layout` or a decoder
 * @example inferLayout([{ name: 'output0', type: 'float32', shape: [1, 84, 8400] }], 'm.onnx').layout // 'yolov8'
 */
export function inferLayout(outputs: readonly TensorInfo[], source: string): LayoutSpec {
  const e2e = end2endRoles(outputs);
  if (e2e) return { layout: 'end2end', output: e2e.boxes, end2end: e2e };
  const describeOutputs = outputs.map((o) => `${o.name} ${formatShape(o.shape)}`).join(', ');
  const rank3 = outputs.filter((o) => o.shape.length === 3 && o.type === 'float32');
  if (rank3.length !== 1) {
    const why = rank3.length === 0 ? 'no float32 output of rank 3' : `${rank3.length} float32 outputs of rank 3`;
    throw new ModelError(`${source}: cannot infer the output layout (${why}; outputs: ${describeOutputs}); ${HINT}`);
  }
  const out = rank3[0]!;
  const a = fixed(out.shape[1]);
  const b = fixed(out.shape[2]);
  let layout: DetectorLayout | null = null;
  if (a !== null && b !== null) layout = b < a ? 'yolov5' : a < b ? 'yolov8' : null;
  else if (b !== null)
    layout = 'yolov5'; // [B, N?, 5+C]
  else if (a !== null) layout = 'yolov8'; // [B, 4+C, N?]
  if (layout === null) {
    throw new ModelError(
      `${source}: cannot infer the output layout from '${out.name}' ${formatShape(out.shape)} ` +
        `(need [B,N,5+C] rows or [B,4+C,N] columns with known sizes); ${HINT}`,
    );
  }
  return checkLayout(layout, outputs, source);
}

/**
 * Check that a layout named by the user fits the model's outputs and find the output it reads.
 * @throws ModelError when the outputs cannot hold that layout
 */
export function checkLayout(layout: DetectorLayout, outputs: readonly TensorInfo[], source: string): LayoutSpec {
  const describeOutputs = outputs.map((o) => `${o.name} ${formatShape(o.shape)}`).join(', ');
  if (layout === 'end2end') {
    const e2e = end2endRoles(outputs);
    if (!e2e)
      throw new ModelError(
        `${source}: layout 'end2end' needs outputs num_dets, det_boxes, det_scores, det_classes; found ${describeOutputs}`,
      );
    return { layout, output: e2e.boxes, end2end: e2e };
  }
  const rank3 = outputs.filter((o) => o.shape.length === 3 && o.type === 'float32');
  if (rank3.length !== 1) {
    throw new ModelError(
      `${source}: layout '${layout}' needs exactly one float32 output of rank 3; found ${describeOutputs}; pass a custom \`decoder\` instead`,
    );
  }
  const out = rank3[0]!;
  const width = fixed(layout === 'yolov8' ? out.shape[1] : out.shape[2]);
  const min = layout === 'yolov8' ? 5 : 6;
  if (width !== null && width < min) {
    const want = layout === 'yolov8' ? '[B,4+C,N]' : '[B,N,5+C]';
    throw new ModelError(
      `${source}: output '${out.name}' ${formatShape(out.shape)} is too narrow for layout '${layout}' ${want} with C >= 1`,
    );
  }
  return { layout, output: out.name };
}
