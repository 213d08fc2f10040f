// Bilinear resize of float32 planes [C, h, w] -> [C, H, W] (DESIGN.md "Bilinear resize of logits"):
// torch's half-pixel taps with float32 scale and weights (made on the host by linearTaps, exact in
// f32), width first, then height, each lerp `fma(a, wa, f32(b * wb))` as the reference's lerpF32.
// WGSL's fma() may be unfused and a * b + c may be contracted into one, so the fused multiply-add is
// emulated exactly (kernels/common/fmaExact.wgsl, as in kernels/logitsToRle.wgsl): bit-identical to
// the reference on any conforming adapter whose f32 add and multiply are correctly rounded.
//   resize   one invocation per output value

override WG: u32 = 64u;

struct Params {
  channels: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  never: u32, // always 0: see kernels/common/opaque.wgsl
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> taps_y: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights_y: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> taps_x: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read> weights_x: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch
// #include "bilinear.wgsl": bilinear(c, y, x), one output value (with fma_exact and opaque)

@compute @workgroup_size(WG)
fn resize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  let n = p.out_h * p.out_w;
  if (i >= p.channels * n) { return; }
  out[i] = bilinear(i / n, (i % n) / p.out_w, i % p.out_w);
}
