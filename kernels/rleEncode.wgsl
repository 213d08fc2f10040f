// Run-length encoding of binary masks (DESIGN.md "RLE"): runs of 1s per channel, in row-major or
// column-major order, computed on the GPU from the mask packed 32 pixels per u32 word:
//   mask_bytes  one invocation per word: 32 mask bytes (non-zero = 1) in the chosen order -> bits
//   count_runs  one invocation per word: run starts and run ends in it (neighbour bits included)
//   scan        one workgroup per channel: exclusive prefix sums of both counts, and the totals
//   compact     one invocation per word: writes each run's start and end pixel at its rank
// The k-th start and the k-th end of a channel bound its k-th run. kernels/logitsToRle.wgsl makes
// the words from logits and reuses the three run stages. Only the per-channel counts and the runs'
// starts and ends are read back.

override WG: u32 = 64u;

struct Params {
  channels: u32,
  words: u32,   // u32 words per channel: ceil(height * width / 32)
  height: u32,
  width: u32,
  col: u32,     // 1: column-major order (Kaggle's order='F')
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bytes: array<u32>;
@group(0) @binding(6) var<storage, read_write> mask: array<u32>;
@group(0) @binding(7) var<storage, read_write> counts: array<vec2<u32>>;
@group(0) @binding(8) var<storage, read_write> offsets: array<vec2<u32>>;
@group(0) @binding(9) var<storage, read_write> totals: array<vec2<u32>>;
@group(0) @binding(10) var<storage, read> bases: array<u32>;
@group(0) @binding(11) var<storage, read_write> starts: array<u32>;
@group(0) @binding(12) var<storage, read_write> ends: array<u32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

fn mask_byte(k: u32) -> u32 {
  return (bytes[k / 4u] >> ((k % 4u) * 8u)) & 0xffu;
}

@compute @workgroup_size(WG)
fn mask_bytes(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.channels * p.words) { return; }
  let c = t / p.words;
  let w = t % p.words;
  let n = p.height * p.width;
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) {
    let i = w * 32u + b;
    if (i >= n) { break; }
    var k = i; // row-major position of the i-th pixel in the chosen order
    if (p.col != 0u) { k = (i % p.height) * p.width + i / p.height; }
    if (mask_byte(c * n + k) != 0u) { bits |= 1u << b; }
  }
  mask[t] = bits;
}

// Bits of word t where a run starts (x) and where one ends (y).
fn boundaries(t: u32) -> vec2<u32> {
  let w = t % p.words;
  let bits = mask[t];
  var prev = 0u;
  var next = 0u;
  if (w > 0u) { prev = mask[t - 1u] >> 31u; }
  if (w + 1u < p.words) { next = mask[t + 1u] & 1u; }
  return vec2<u32>(bits & ~((bits << 1u) | prev), bits & ~((bits >> 1u) | (next << 31u)));
}

@compute @workgroup_size(WG)
fn count_runs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.channels * p.words) { return; }
  counts[t] = countOneBits(boundaries(t));
}

var<workgroup> partial: array<vec2<u32>, 256>;

// One workgroup per channel (WG <= 256).
@compute @workgroup_size(WG)
fn scan(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  var carry = vec2<u32>(0u, 0u);
  for (var base = 0u; base < p.words; base += WG) {
    let w = base + lid;
    var v = vec2<u32>(0u, 0u);
    if (w < p.words) { v = counts[c * p.words + w]; }
    partial[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < WG; off *= 2u) {
      var add = vec2<u32>(0u, 0u);
      if (lid >= off) { add = partial[lid - off]; }
      workgroupBarrier();
      partial[lid] += add;
      workgroupBarrier();
    }
    if (w < p.words) { offsets[c * p.words + w] = partial[lid] - v + carry; }
    carry += partial[WG - 1u];
    workgroupBarrier();
  }
  if (lid == 0u) { totals[c] = carry; }
}

@compute @workgroup_size(WG)
fn compact(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.channels * p.words) { return; }
  let c = t / p.words;
  let first = (t % p.words) * 32u;
  let be = boundaries(t);
  let at = offsets[t] + vec2<u32>(bases[c], bases[c]);
  var s = be.x;
  var k = at.x;
  while (s != 0u) {
    starts[k] = first + firstTrailingBit(s);
    s &= s - 1u;
    k += 1u;
  }
  var e = be.y;
  k = at.y;
  while (e != 0u) {
    ends[k] = first + firstTrailingBit(e);
    e &= e - 1u;
    k += 1u;
  }
}
