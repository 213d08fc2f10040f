// The DBSCAN baseline (src/ops/baseline.ts, src/backends/js/filter3x3.ts), on the image itself:
//   filter_first the first 3x3 filter pass over the RGB sums: on = 9 * sum + box3(sum) > t0
//   filter_pass one binary pass: on stays on when >= 2 of its 8 neighbours are on (box3 >= 3)
// then the kept pixels (row-major, the reference's point order) are clustered on the image grid by
// kernels/dbscan.wgsl. All integer: the result equals the reference's on every adapter.

override WG: u32 = 64u;

struct Params {
  width: u32,
  height: u32,
  channels: u32,
  t0: u32,         // first pass threshold: 11 * 255 ('unit') or 11 ('raw')
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read> on_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> on_out: array<u32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

fn byte_at(k: u32) -> u32 {
  return (pixels[k / 4u] >> ((k % 4u) * 8u)) & 0xffu;
}

// R + G + B of pixel i (grey counts three times).
fn rgb_sum(i: u32) -> u32 {
  if (p.channels == 1u) { return 3u * byte_at(i); }
  let k = i * p.channels;
  return byte_at(k) + byte_at(k + 1u) + byte_at(k + 2u);
}

@compute @workgroup_size(WG)
fn filter_first(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  let y = i32(i / p.width);
  let x = i32(i % p.width);
  var conv = 9u * rgb_sum(i);
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      let yy = y + dy;
      let xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= i32(p.height) || xx >= i32(p.width)) { continue; }
      conv += rgb_sum(u32(yy) * p.width + u32(xx));
    }
  }
  on_out[i] = select(0u, 1u, conv > p.t0);
}

@compute @workgroup_size(WG)
fn filter_pass(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  if (on_in[i] == 0u) {
    on_out[i] = 0u;
    return;
  }
  let y = i32(i / p.width);
  let x = i32(i % p.width);
  var box = 0u;
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      let yy = y + dy;
      let xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= i32(p.height) || xx >= i32(p.width)) { continue; }
      box += on_in[u32(yy) * p.width + u32(xx)];
    }
  }
  on_out[i] = select(0u, 1u, box >= 3u);
}

