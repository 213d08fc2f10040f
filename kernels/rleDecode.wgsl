// RLE decode (src/ops/rle.ts): per-channel run lists (start, length; sorted, non-overlapping, checked
// on the host) -> [C, H, W] bytes, 0/1, four per u32 word. One invocation per word; each of its bytes
// finds the last run starting at or before its pixel (binary search) and is 1 when inside it. Column
// order (`col` 1) searches the pixel's column-major position, so no transpose is needed. Integer only.

override WG: u32 = 64u;

struct Params {
  channels: u32,
  height: u32,
  width: u32,
  col: u32,     // 1: runs are in column-major (Fortran) order
  words: u32,   // ceil(channels * height * width / 4)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> runs: array<vec2<u32>>;   // all channels' (start, length)
@group(0) @binding(2) var<storage, read> first: array<u32>;        // channels + 1 offsets into runs
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

// 1 when position `pos` of channel c is inside one of its runs.
fn covered(c: u32, pos: u32) -> u32 {
  var lo = first[c];
  var hi = first[c + 1u]; // search [lo, hi) for the first run starting after pos
  let begin = lo;
  while (lo < hi) {
    let mid = lo + (hi - lo) / 2u;
    if (runs[mid].x <= pos) { lo = mid + 1u; } else { hi = mid; }
  }
  if (lo == begin) { return 0u; }
  let r = runs[lo - 1u];
  return select(0u, 1u, pos - r.x < r.y);
}

@compute @workgroup_size(WG)
fn decode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = linear(gid, nwg);
  if (w >= p.words) { return; }
  let n = p.height * p.width;
  var bits = 0u;
  for (var b = 0u; b < 4u; b++) {
    let g = w * 4u + b;
    if (g >= p.channels * n) { break; }
    let c = g / n;
    let k = g % n;
    var pos = k;
    if (p.col != 0u) { pos = (k % p.width) * p.height + k / p.width; }
    bits |= covered(c, pos) << (b * 8u);
  }
  mask[w] = bits;
}
