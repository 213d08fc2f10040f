// DBSCAN on an integer grid (src/ops/dbscan.ts): the points are the non-zero cells of `counts` (how
// many points sit on each cell: the baseline's kept pixels, or integer points rasterised by the host),
// so the grid is the image and no neighbour search structure is needed. All integer, exact:
//   core_flags  neighbours are the points of the (2r+1)^2 window with dx^2 + dy^2 <= max_d2 (the
//               reference's integer decision for eps); label = own cell index for core cells, else NONE
//   propagate   one round of minimum-label propagation between core neighbours
//   jump        pointer jumping (label = label of label); both repeat until nothing changes, leaving
//               every core cell labelled with its component's lowest cell index (its root)
//   border      per cell: the cluster of a core cell; for a non-core point cell the smallest cluster
//               among adjacent core cells (sklearn's first-reached), or NOISE; NONE for empty cells.
//               A cluster is the root itself (`ranked` 0: cell order is point order, the baseline) or
//               `rank[root]`, the cluster number the host gave it in point order (`ranked` 1).

override WG: u32 = 64u;

const NONE: u32 = 0xffffffffu;
const NOISE: u32 = 0xfffffffeu;

struct Params {
  width: u32,
  height: u32,
  r: u32,          // window radius: floor(sqrt(max_d2))
  max_d2: u32,     // largest squared integer distance within eps
  min_samples: u32,
  ranked: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> changed: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> result: array<u32>;
@group(0) @binding(5) var<storage, read> rank: array<u32>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
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
  if (counts[i] != 0u) {
    let w = window(i);
    for (var yy = w.x; yy <= w.y; yy++) {
      for (var xx = w.z; xx <= w.w; xx++) {
        if (within(i, yy, xx)) { count += counts[u32(yy) * p.width + u32(xx)]; }
      }
    }
  }
  atomicStore(&labels[i], select(NONE, i, counts[i] != 0u && count >= p.min_samples));
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

// The cluster number of a root cell.
fn cluster(root: u32) -> u32 {
  if (p.ranked != 0u) { return rank[root]; }
  return root;
}

@compute @workgroup_size(WG)
fn border(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  if (i >= p.width * p.height) { return; }
  if (counts[i] == 0u) {
    result[i] = NONE;
    return;
  }
  let own = atomicLoad(&labels[i]);
  if (own != NONE) {
    result[i] = cluster(own);
    return;
  }
  var m = NONE;
  let w = window(i);
  for (var yy = w.x; yy <= w.y; yy++) {
    for (var xx = w.z; xx <= w.w; xx++) {
      if (within(i, yy, xx)) {
        let root = atomicLoad(&labels[u32(yy) * p.width + u32(xx)]);
        if (root != NONE) { m = min(m, cluster(root)); }
      }
    }
  }
  result[i] = select(m, NOISE, m == NONE);
}
