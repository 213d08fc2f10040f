// Greedy non-maximum suppression (torchvision's rule, DESIGN.md "NMS"), in five entry points that the
// host (src/backends/webgpu/nms.ts) chains in one submission:
//   keys   score filter (score > threshold) -> sort key per box, and the candidate count
//   sort   one bitonic merge step over the keys (score descending, then index ascending)
//   gather the first m sorted boxes (plus a class offset, for yoloNms) into a dense array
//   mask   64-bit-style IoU bitmask over score-sorted boxes, 32 columns per u32, one block of rows
//   scan   the greedy pass over one block of rows (one workgroup), appending kept indices
// Only `out` (count + kept indices) is read back.
//
// IoU is computed as torchvision does, each step rounded to f32, and compared as `iou > thr` where
// thr is the largest f32 <= the double threshold (equivalent to comparing with the double).

override WG: u32 = 64u;

struct Params {
  n: u32,           // input boxes (keys: boxes scored)
  p2: u32,          // keys length: n rounded up to a power of two
  m: u32,           // candidates entering NMS (sorted, capped)
  words: u32,       // ceil(m / 32): u32 words per mask row
  row0: u32,        // first row of this mask block
  rows: u32,        // rows in this block (a multiple of 32, or up to m)
  max_det: u32,
  use_classes: u32, // 1: boxes of different classes never suppress each other
  score_thr: f32,   // largest f32 <= the score threshold
  iou_thr: f32,     // largest f32 <= the IoU threshold
  offset: f32,      // gather: class offset (YOLOv5's max_wh trick), 0 for plain NMS
  k: u32,           // sort: bitonic sequence size
  j: u32,           // sort: compare distance
  never: u32,       // always 0: see kernels/common/opaque.wgsl
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> keys: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read_write> counter: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read> boxes: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> classes: array<i32>;
@group(0) @binding(6) var<storage, read_write> sorted_boxes: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> sorted_classes: array<i32>;
@group(0) @binding(8) var<storage, read_write> mask: array<u32>;
@group(0) @binding(9) var<storage, read_write> removed: array<u32>;
@group(0) @binding(10) var<storage, read_write> out: array<u32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

// #include "scoreKey.wgsl": score_key(s), the sort key (score descending, -0 as +0)

@compute @workgroup_size(WG)
fn make_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.p2) { return; }
  if (i < p.n && scores[i] > p.score_thr) {
    keys[i] = vec2<u32>(score_key(scores[i]), i);
    atomicAdd(&counter[0], 1u);
  } else {
    keys[i] = vec2<u32>(0xffffffffu, 0xffffffffu);
  }
}

@compute @workgroup_size(WG)
fn sort(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.p2 / 2u) { return; }
  let i = (t / p.j) * 2u * p.j + t % p.j;
  let l = i + p.j;
  let a = keys[i];
  let b = keys[l];
  let a_after_b = a.x > b.x || (a.x == b.x && a.y > b.y);
  let ascending = (i & p.k) == 0u;
  if (a_after_b == ascending) {
    keys[i] = b;
    keys[l] = a;
  }
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.m) { return; }
  let idx = keys[i].y;
  let c = classes[select(0u, idx, p.use_classes != 0u || p.offset != 0.0)];
  let off = f32(c) * p.offset;
  sorted_boxes[i] = boxes[idx] + vec4<f32>(off, off, off, off);
  sorted_classes[i] = c;
}

// #include "opaque.wgsl": opaque(x), x hidden from the compiler's algebra, so that no product is
// fused into the addition that uses it: torchvision's IoU rounds each step to f32

fn iou(a: vec4<f32>, b: vec4<f32>) -> f32 {
  let area_a = opaque((a.z - a.x) * (a.w - a.y));
  let area_b = opaque((b.z - b.x) * (b.w - b.y));
  let w = max(0.0, min(a.z, b.z) - max(a.x, b.x));
  let h = max(0.0, min(a.w, b.w) - max(a.y, b.y));
  let inter = opaque(w * h);
  let uni = opaque(area_a + area_b) - inter;
  return select(0.0, inter / uni, uni > 0.0);
}

@compute @workgroup_size(WG)
fn build_mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.rows * p.words) { return; }
  let w = t % p.words;
  let i = p.row0 + t / p.words;
  if (i >= p.m || w < i / 32u) { return; } // left of the diagonal: never read
  let a = sorted_boxes[i];
  let ca = sorted_classes[i];
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) {
    let j = w * 32u + b;
    if (j >= p.m) { break; }
    if (j <= i) { continue; }
    if (p.use_classes != 0u && sorted_classes[j] != ca) { continue; }
    if (iou(a, sorted_boxes[j]) > p.iou_thr) { bits |= 1u << b; }
  }
  mask[t] = bits;
}

var<workgroup> kept_bits: u32;
var<workgroup> kept_count: u32;

// One workgroup. For each 32 rows: thread 0 resolves them in order against `removed` and the
// diagonal mask word, then every thread ORs the kept rows' masks into the words to the right.
@compute @workgroup_size(WG)
fn scan(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { kept_count = out[0]; }
  workgroupBarrier();
  let r1 = min(p.row0 + p.rows, p.m);
  for (var base = p.row0; base < r1; base += 32u) {
    if (lid == 0u) {
      var c = kept_count;
      var rem = removed[base / 32u];
      var kb = 0u;
      for (var b = 0u; b < 32u; b++) {
        let r = base + b;
        if (r >= r1 || c >= p.max_det) { break; }
        if (((rem >> b) & 1u) == 0u) {
          kb |= 1u << b;
          out[1u + c] = keys[r].y;
          c += 1u;
          rem |= mask[(r - p.row0) * p.words + base / 32u];
        }
      }
      removed[base / 32u] = rem;
      kept_bits = kb;
      kept_count = c;
    }
    let bits = workgroupUniformLoad(&kept_bits);
    if (bits != 0u) {
      for (var w = base / 32u + 1u + lid; w < p.words; w += WG) {
        var acc = removed[w];
        var bb = bits;
        while (bb != 0u) {
          let b = firstTrailingBit(bb);
          bb &= bb - 1u;
          acc |= mask[(base + b - p.row0) * p.words + w];
        }
        removed[w] = acc;
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = kept_count; }
}
