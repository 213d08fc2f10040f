// Bilinear resize of float32 planes [C, h, w] -> [C, H, W] (DESIGN.md "Bilinear resize of logits"):
// torch's half-pixel taps with float32 scale and weights (made on the host by linearTaps, exact in
// f32), width first, then height, each lerp `fma(a, wa, f32(b * wb))` as the reference's lerpF32.
// WGSL's fma() may be unfused and a * b + c may be contracted into one, so the fused multiply-add is
// emulated exactly (the same fma_exact as kernels/logitsToRle.wgsl): bit-identical to the reference
// on any conforming adapter whose f32 add and multiply are correctly rounded (lavapipe, NVIDIA, AMD).
//   resize   one invocation per output value

override WG: u32 = 64u;

struct Params {
  channels: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  never: u32, // always 0: see opaque()
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> taps_y: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights_y: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> taps_x: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read> weights_x: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// x, hidden from the shader compiler's algebra (no contraction, no reassociation).
fn opaque(x: f32) -> f32 {
  return select(x, 0.0, p.never != 0u);
}

// A float32 as two halves of at most 12 significant bits each (masking, which cannot be simplified away).
fn split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return vec2<f32>(hi, opaque(a - hi));
}

// a * b + c with the product exact (Dekker's two-product, Knuth's two-sum), rounded once more.
fn fma_exact(a: f32, b: f32, c: f32) -> f32 {
  let prod = opaque(a * b);
  let sa = split(a);
  let sb = split(b);
  let e1 = opaque(opaque(sa.x * sb.x) - prod);
  let e2 = opaque(e1 + opaque(sa.x * sb.y));
  let e3 = opaque(e2 + opaque(sa.y * sb.x));
  let err = opaque(e3 + opaque(sa.y * sb.y));
  let s = opaque(prod + c);
  let bb = opaque(s - prod);
  let t = opaque(opaque(prod - opaque(s - bb)) + opaque(c - bb));
  return s + opaque(t + err);
}

@compute @workgroup_size(WG)
fn resize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  let n = p.out_h * p.out_w;
  if (i >= p.channels * n) { return; }
  let c = i / n;
  let y = (i % n) / p.out_w;
  let x = i % p.out_w;
  let ty = taps_y[y];
  let wy = weights_y[y];
  let tx = taps_x[x];
  let wx = weights_x[x];
  let plane = c * p.in_h * p.in_w;
  let a = plane + ty.x * p.in_w;
  let b = plane + ty.y * p.in_w;
  let r0 = fma_exact(data[a + tx.x], wx.x, opaque(data[a + tx.y] * wx.y));
  let r1 = fma_exact(data[b + tx.x], wx.x, opaque(data[b + tx.y] * wx.y));
  out[i] = fma_exact(r0, wy.x, opaque(r1 * wy.y));
}
