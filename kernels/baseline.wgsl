// The DBSCAN baseline (src/ops/baseline.ts, src/backends/js/filter3x3.ts), on the image itself:
//   filter_first the first 3x3 filter pass over the RGB sums: on = 9 * sum + box3(sum) > t0
//   filter_pass one binary pass: on stays on when >= 2 of its 8 neighbours are on (box3 >= 3)
//   core_flags  DBSCAN core flags: the kept pixels are the points (row-major = the reference's point
//               order); neighbours are the kept pixels of the (2r+1)^2 window with dx^2 + dy^2 <= max_d2
//               (integer: exact, as the reference decides integer distances); label = own index or NONE
//   propagate   one round of minimum-label propagation between core neighbours
//   jump        pointer jumping (label = label of label); both repeat until nothing changes
//   border      the result per pixel: the cluster root (the lowest core pixel index of the cluster) for
//               core pixels, the smallest adjacent root for border pixels, NOISE, or OFF (not kept)
// Clusters numbered by root index are the reference's numbering (lowest-index core point first), and a
// border pixel's smallest root is its smallest cluster (sklearn's first-reached). All integer: the
// result equals the reference's on every adapter.

override WG: u32 = 64u;

const NONE: u32 = 0xffffffffu;   // label of a pixel that is not core / result: not kept
const NOISE: u32 = 0xfffffffeu;

struct Params {
  width: u32,
  height: u32,
  channels: u32,
  t0: u32,         // first pass threshold: 11 * 255 ('unit') or 11 ('raw')
  r: u32,          // window radius: floor(sqrt(max_d2))
  max_d2: u32,     // largest squared integer distance within eps
  min_samples: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read> on_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> on_out: array<u32>;
@group(0) @binding(4) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> changed: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> result: array<u32>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

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

// The window of pixel i clipped to the image: (y0, y1, x0, x1), inclusive.
fn window(i: u32) -> vec4<i32> {
  let y = i32(i / p.width);
  let x = i32(i % p.width);
  let r = i32(p.r);
  return vec4<i32>(max(y - r, 0), min(y + r, i32(p.height) - 1), max(x - r, 0), min(x + r, i32(p.width) - 1));
}

fn within(i: u32, yy: i32, xx: i32) -> bool {
  let dy = yy - i32(i / p.width);
  let dx = xx - i32(i % p.width);
  return u32(dy * dy + dx * dx) <= p.max_d2;
}

@compute @workgroup_size(WG)
fn core_flags(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  var count = 0u;
  if (on_in[i] != 0u) {
    let w = window(i);
    for (var yy = w.x; yy <= w.y; yy++) {
      for (var xx = w.z; xx <= w.w; xx++) {
        if (within(i, yy, xx)) { count += on_in[u32(yy) * p.width + u32(xx)]; }
      }
    }
  }
  atomicStore(&labels[i], select(NONE, i, on_in[i] != 0u && count >= p.min_samples));
}

@compute @workgroup_size(WG)
fn propagate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  let own = atomicLoad(&labels[i]);
  if (own == NONE) { return; }
  var m = own;
  let w = window(i);
  for (var yy = w.x; yy <= w.y; yy++) {
    for (var xx = w.z; xx <= w.w; xx++) {
      if (within(i, yy, xx)) { m = min(m, atomicLoad(&labels[u32(yy) * p.width + u32(xx)])); }
    }
  }
  if (m < own) {
    atomicMin(&labels[i], m);
    atomicMin(&labels[own], m); // hook the old root too: components merge faster
    atomicStore(&changed[0], 1u);
  }
}

@compute @workgroup_size(WG)
fn jump(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  let own = atomicLoad(&labels[i]);
  if (own == NONE) { return; }
  let up = atomicLoad(&labels[own]);
  if (up < own) {
    atomicMin(&labels[i], up);
    atomicStore(&changed[0], 1u);
  }
}

@compute @workgroup_size(WG)
fn border(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  if (on_in[i] == 0u) {
    result[i] = NONE;
    return;
  }
  let own = atomicLoad(&labels[i]);
  if (own != NONE) {
    result[i] = own;
    return;
  }
  var m = NONE;
  let w = window(i);
  for (var yy = w.x; yy <= w.y; yy++) {
    for (var xx = w.z; xx <= w.w; xx++) {
      if (within(i, yy, xx)) { m = min(m, atomicLoad(&labels[u32(yy) * p.width + u32(xx)])); }
    }
  }
  result[i] = select(m, NOISE, m == NONE);
}
