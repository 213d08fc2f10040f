// YOLO post-process, first stage (YOLOv5's non_max_suppression, DESIGN.md): per prediction row, the
// objectness filter (obj > conf), score = obj * cls in f32, best class (lowest index on a tie), the
// score filter (score > conf), the optional class filter, cxcywh -> xyxy, and the sort key. The rest
// (sort, gather with the class offset, IoU mask, greedy scan) is kernels/nms.wgsl.

override WG: u32 = 64u;

struct Params {
  count: u32,       // prediction rows
  p2: u32,          // keys length: count rounded up to a power of two
  width: u32,       // values per row: 4 (+1 objectness) + classes
  rows_layout: u32, // 1: [count, width] (YOLOv5/6); 0: [width, count] (YOLOv8/11)
  has_obj: u32,
  num_classes: u32,
  use_filter: u32,  // 1: only classes whose bit is set in `allowed`
  conf: f32,        // largest f32 <= the confidence threshold
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> allowed: array<u32>;
@group(0) @binding(3) var<storage, read_write> keys: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> counter: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> boxes: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> classes: array<i32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

// #include "scoreKey.wgsl": score_key(s), the same sort key as kernels/nms.wgsl

fn at(r: u32, k: u32) -> f32 {
  if (p.rows_layout != 0u) { return pred[r * p.width + k]; }
  return pred[k * p.count + r];
}

// A class's score: cls * obj in f32 with objectness, the class score without.
fn class_score(r: u32, k: u32, obj: f32) -> f32 {
  if (p.has_obj != 0u) { return at(r, k) * obj; }
  return at(r, k);
}

@compute @workgroup_size(WG)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = linear(gid, nwg);
  if (r >= p.p2) { return; }
  keys[r] = vec2<u32>(0xffffffffu, 0xffffffffu);
  if (r >= p.count) { return; }
  var obj = 1.0;
  if (p.has_obj != 0u) {
    obj = at(r, 4u);
    if (!(obj > p.conf)) { return; }
  }
  if (p.num_classes == 0u) { return; }
  let cls0 = 4u + p.has_obj;
  var best = class_score(r, cls0, obj);
  var best_c = 0u;
  for (var c = 1u; c < p.num_classes; c++) {
    let s = class_score(r, cls0 + c, obj);
    if (s > best) {
      best = s;
      best_c = c;
    }
  }
  if (!(best > p.conf)) { return; }
  if (p.use_filter != 0u && ((allowed[best_c / 32u] >> (best_c % 32u)) & 1u) == 0u) { return; }
  keys[r] = vec2<u32>(score_key(best), r);
  atomicAdd(&counter[0], 1u);
  let cx = at(r, 0u);
  let cy = at(r, 1u);
  let hw = at(r, 2u) / 2.0;
  let hh = at(r, 3u) / 2.0;
  boxes[r] = vec4<f32>(cx - hw, cy - hh, cx + hw, cy + hh);
  classes[r] = i32(best_c);
}
