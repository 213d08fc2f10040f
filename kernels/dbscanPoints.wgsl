// DBSCAN on any points (src/ops/dbscan.ts; host: src/backends/webgpu/dbscanPoints.ts). The host sorts
// the points into grid cells of side ~eps on the first two coordinates (the js reference's grid) and
// uploads, per point, its coordinates relative to an origin of its cell (float64 on the host, rounded
// to f32, scaled by a power of two so that eps is in [1, 2)) with a bound on that rounding; per cell,
// its 9 neighbouring cells and the offsets of their origins from its own.
//
// The reference decides `S <= eps^2` in float64 (S summed as sklearn does). f32 cannot reproduce that
// near the boundary, so every pair is classified with a rigorous error bound (`classify`):
//   IN          S <= eps^2 for sure          OUT   S > the sqrt-tie bound for sure
//   AMBIGUOUS   within the bound of eps^2: appended to `amb` (each pair once, by its lower position)
//               and decided by the host in float64 with the reference's own rule; the pairs it finds
//               within eps come back as `extra` edges (a sqrt-tie among them sends the input to the
//               host's sequential rule, see the host file).
// The bound holds for any evaluation order of the sums (reassociation, fused multiply-add), faithful
// rather than correctly rounded add/multiply (1 ulp each) and flushed denormals; no division is used
// (WGSL allows 2.5 ulp there).
//
// Entry points, in order:
//   count          neighbours within eps per point (self included); appends ambiguous pairs
//   count_extra    per extra edge: +1 on both ends
//   core_init      label = own position for core points, else NONE
//   propagate      minimum-label propagation between core neighbours (and hooking the old root);
//                  binds `rank` (unused: a dummy) as it shares its loop with `border`
//   propagate_extra  the same over the extra edges
//   jump           pointer jumping; propagate/jump repeat until nothing changes: every core point is
//                  then labelled with the lowest position of its component
//   border         per point: rank[root] for core points; for the others the smallest rank among core
//                  neighbours, or NONE (rank: clusters numbered by the host in point order)
//   border_extra   the same over the extra edges (atomicMin after `border`)

override WG: u32 = 64u;

const NONE: u32 = 0xffffffffu;
const IN: u32 = 0u;
const AMBIGUOUS: u32 = 1u;
const OUT: u32 = 2u;
// One ulp relative: WGSL's f32 add and multiply round to either neighbour.
const U: f32 = 1.1920929e-7;

struct Params {
  n: u32,
  dims: u32,
  cap: u32,          // ambiguous pairs `amb` holds
  min_samples: u32,
  edges: u32,        // extra edges
  r_lo: f32,         // largest f32 <= eps^2 (scaled): below it a pair is in
  r_hi: f32,         // smallest f32 >= the sqrt-tie bound (scaled): above it a pair is out
  err_delta: f32,    // bound on the error of every cell-origin offset
  abs_slack: f32,    // absolute error terms: float64 underflow in S, flushed f32 denormals
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rel: array<f32>;        // [n * dims], sorted positions
@group(0) @binding(2) var<storage, read> perr: array<f32>;       // [n] bound on each point's rounding
@group(0) @binding(3) var<storage, read> cell_of: array<u32>;    // [n]
@group(0) @binding(4) var<storage, read> cell_start: array<u32>; // [cells + 1]
@group(0) @binding(5) var<storage, read> nbr: array<u32>;        // [cells * 9], NONE where empty
@group(0) @binding(6) var<storage, read> delta: array<f32>;      // [cells * 4 * 2], see `offset`
@group(0) @binding(7) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(8) var<storage, read_write> amb_count: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> amb: array<u32>;  // [cap * 2]
@group(0) @binding(10) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(11) var<storage, read_write> changed: array<atomic<u32>>;
@group(0) @binding(12) var<storage, read> extra: array<u32>;     // [edges * 2]
@group(0) @binding(13) var<storage, read> rank: array<u32>;      // [n], by root position
@group(0) @binding(14) var<storage, read_write> result: array<atomic<u32>>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Pair (a, q) with q's cell origin at `dl` (first two coordinates) from a's. Both ends classify a pair
// identically: the computation always runs from the lower position, with the offset negated
// (exactly) when a is the higher one.
fn classify(a: u32, b: u32, dl: vec2<f32>) -> u32 {
  if (a == b) { return IN; }
  var lo = a;
  var hi = b;
  var off = dl;
  if (b < a) {
    lo = b;
    hi = a;
    off = -dl;
  }
  let e = perr[lo] + perr[hi] + p.err_delta;
  var d2 = 0.0;
  var err = 0.0;
  for (var k = 0u; k < p.dims; k++) {
    let x = rel[lo * p.dims + k];
    let y = rel[hi * p.dims + k];
    var o = 0.0;
    if (k < 2u) { o = off[k]; }
    let d = (y + o) - x;
    // the two roundings of d, whatever the order: each at most U * (|x| + |y| + |o|)
    let ek = e + 2.0 * U * (abs(x) + abs(y) + abs(o));
    d2 += d * d;
    err += 2.0 * abs(d) * ek + ek * ek;
  }
  // rounding of the sum of squares (and sklearn's float64 one), then a factor 2 for this bound's own
  // rounding, and a margin for the comparisons below
  let m = f32(p.dims + 2u);
  let bound = 2.0 * (err + 2.0 * m * U * d2) + p.abs_slack + 4.0 * U * p.r_hi;
  if (d2 + bound <= p.r_lo) { return IN; }
  if (d2 - bound > p.r_hi) { return OUT; }
  return AMBIGUOUS;
}

// The offset of cell c's neighbour j's origin from c's own (scaled, f32). Stored for j = 5..8 only:
// the others are the exact negation of their neighbour's reverse entry (8 - j).
fn offset(c: u32, j: u32) -> vec2<f32> {
  if (j == 4u) { return vec2<f32>(0.0, 0.0); }
  if (j > 4u) {
    let t = c * 4u + j - 5u;
    return vec2<f32>(delta[2u * t], delta[2u * t + 1u]);
  }
  let t = nbr[c * 9u + j] * 4u + 3u - j;
  return -vec2<f32>(delta[2u * t], delta[2u * t + 1u]);
}

@compute @workgroup_size(WG)
fn count(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = linear(gid, nwg);
  if (a >= p.n) { return; }
  let c = cell_of[a];
  var k = 0u;
  for (var j = 0u; j < 9u; j++) {
    let c2 = nbr[c * 9u + j];
    if (c2 == NONE) { continue; }
    let dl = offset(c, j);
    for (var b = cell_start[c2]; b < cell_start[c2 + 1u]; b++) {
      let cls = classify(a, b, dl);
      if (cls == IN) {
        k++;
      } else if (cls == AMBIGUOUS && a < b) {
        let slot = atomicAdd(&amb_count[0], 1u);
        if (slot < p.cap) {
          amb[2u * slot] = a;
          amb[2u * slot + 1u] = b;
        }
      }
    }
  }
  atomicStore(&counts[a], k);
}

@compute @workgroup_size(WG)
fn count_extra(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear(gid, nwg);
  if (e >= p.edges) { return; }
  atomicAdd(&counts[extra[2u * e]], 1u);
  atomicAdd(&counts[extra[2u * e + 1u]], 1u);
}

@compute @workgroup_size(WG)
fn core_init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = linear(gid, nwg);
  if (a >= p.n) { return; }
  atomicStore(&labels[a], select(NONE, a, atomicLoad(&counts[a]) >= p.min_samples));
}

// Lowers a's label (and its old root's) to m.
fn hook(a: u32, own: u32, m: u32) {
  atomicMin(&labels[a], m);
  atomicMin(&labels[own], m);
  atomicStore(&changed[0], 1u);
}

// The smallest key among a's core neighbours within eps that is below `start` (NONE: none), the key
// of core point b being its label (`ranked` false) or its cluster, rank[label] (`ranked` true).
fn smallest_core_neighbour(a: u32, start: u32, ranked: bool) -> u32 {
  let c = cell_of[a];
  var m = start;
  for (var j = 0u; j < 9u; j++) {
    let c2 = nbr[c * 9u + j];
    if (c2 == NONE) { continue; }
    let dl = offset(c, j);
    for (var b = cell_start[c2]; b < cell_start[c2 + 1u]; b++) {
      var key = atomicLoad(&labels[b]);
      if (key == NONE) { continue; }
      if (ranked) { key = rank[key]; }
      if (key < m && classify(a, b, dl) == IN) { m = key; }
    }
  }
  return m;
}

@compute @workgroup_size(WG)
fn propagate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = linear(gid, nwg);
  if (a >= p.n) { return; }
  let own = atomicLoad(&labels[a]);
  if (own == NONE) { return; }
  let m = smallest_core_neighbour(a, own, false);
  if (m < own) { hook(a, own, m); }
}

// Extra edge e's ends and their labels: (a, b, label a, label b).
fn extra_edge(e: u32) -> vec4<u32> {
  let a = extra[2u * e];
  let b = extra[2u * e + 1u];
  return vec4<u32>(a, b, atomicLoad(&labels[a]), atomicLoad(&labels[b]));
}

@compute @workgroup_size(WG)
fn propagate_extra(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear(gid, nwg);
  if (e >= p.edges) { return; }
  let x = extra_edge(e); // a, b, la, lb
  if (x.z == NONE || x.w == NONE || x.z == x.w) { return; }
  if (x.w < x.z) { hook(x.x, x.z, x.w); } else { hook(x.y, x.w, x.z); }
}

@compute @workgroup_size(WG)
fn jump(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = linear(gid, nwg);
  if (a >= p.n) { return; }
  let own = atomicLoad(&labels[a]);
  if (own == NONE) { return; }
  let up = atomicLoad(&labels[own]);
  if (up < own) {
    atomicMin(&labels[a], up);
    atomicStore(&changed[0], 1u);
  }
}

@compute @workgroup_size(WG)
fn border(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let a = linear(gid, nwg);
  if (a >= p.n) { return; }
  let own = atomicLoad(&labels[a]);
  if (own != NONE) {
    atomicStore(&result[a], rank[own]);
    return;
  }
  let m = smallest_core_neighbour(a, NONE, true);
  atomicStore(&result[a], m);
}

@compute @workgroup_size(WG)
fn border_extra(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = linear(gid, nwg);
  if (e >= p.edges) { return; }
  let x = extra_edge(e); // a, b, la, lb
  if (x.z == NONE && x.w != NONE) { atomicMin(&result[x.x], rank[x.w]); }
  if (x.w == NONE && x.z != NONE) { atomicMin(&result[x.y], rank[x.z]); }
}
