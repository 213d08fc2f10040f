// Run-list overlap (src/ops/rle.ts): per channel, |A ∩ B|, |A| and |B| of two run lists (start,
// length; sorted, non-overlapping) by a two-pointer merge. One invocation per channel: the lists are
// short next to the masks they stand for, and the merge is sequential by nature. Integer only
// (every count is at most H * W < 2^32).

override WG: u32 = 64u;

struct Params {
  channels: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> runs_a: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> first_a: array<u32>;
@group(0) @binding(3) var<storage, read> runs_b: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> first_b: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;   // 3 per channel

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

@compute @workgroup_size(WG)
fn overlap(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = linear(gid, nwg);
  if (c >= p.channels) { return; }
  var i = first_a[c];
  var j = first_b[c];
  let ia = first_a[c + 1u];
  let jb = first_b[c + 1u];
  var area_a = 0u;
  var area_b = 0u;
  for (var k = i; k < ia; k++) { area_a += runs_a[k].y; }
  for (var k = j; k < jb; k++) { area_b += runs_b[k].y; }
  var inter = 0u;
  while (i < ia && j < jb) {
    let a = runs_a[i];
    let b = runs_b[j];
    let ea = a.x + a.y;
    let eb = b.x + b.y;
    let s = max(a.x, b.x);
    let e = min(ea, eb);
    if (e > s) { inter += e - s; }
    if (ea <= eb) { i++; } else { j++; }
  }
  out[3u * c] = inter;
  out[3u * c + 1u] = area_a;
  out[3u * c + 2u] = area_b;
}
