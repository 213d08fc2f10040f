// The hand-bone post-process, fused (DESIGN.md "Bilinear resize of logits", "RLE"): logits [C, h, w]
// -> bilinear [C, H, W] (torch's half-pixel taps, float32 weights, each lerp a fused multiply-add
// emulated exactly, as the reference's lerpF32) -> logit > cutoff -> runs of the row-major mask. The mask never leaves
// the GPU, not even as bytes: 32 pixels per u32 word.
//   mask_words  one invocation per word: 32 interpolated, thresholded pixels
// then the run stages of kernels/rleEncode.wgsl (count, scan, compact) on those words. The host reads
// the per-channel run counts, then only the runs' starts and ends.

override WG: u32 = 64u;

struct Params {
  channels: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  words: u32,   // u32 words per channel: ceil(out_h * out_w / 32)
  cutoff: f32,  // mask = logit > cutoff (float32, may be +infinity)
  never: u32,   // always 0: see kernels/common/opaque.wgsl
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> taps_y: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights_y: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> taps_x: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read> weights_x: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> mask: array<u32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch
// #include "bilinear.wgsl": bilinear(c, y, x), one interpolated logit (as kernels/resize.wgsl's)

@compute @workgroup_size(WG)
fn mask_words(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = linear(gid, nwg);
  if (t >= p.channels * p.words) { return; }
  let c = t / p.words;
  let w = t % p.words;
  let n = p.out_h * p.out_w;
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) {
    let i = w * 32u + b;
    if (i >= n) { break; }
    if (bilinear(c, i / p.out_w, i % p.out_w) > p.cutoff) { bits |= 1u << b; }
  }
  mask[t] = bits;
}
