// Shared by the kernels that `// #include "bilinear.wgsl"` (appended by scripts/gen-wgsl.mjs):
// bilinear(c, y, x), output value (y, x) of channel c of float32 planes [C, in_h, in_w], as the
// reference's resize (DESIGN.md "Bilinear resize of logits"): the host's per-axis taps and float32
// weights, width first, then height, each lerp `fma(a, wa, f32(b * wb))`.
// Needs the kernel's uniform `p` (in_h, in_w, never) and the bindings
// data: array<f32>, taps_y, taps_x: array<vec2<u32>>, weights_y, weights_x: array<vec2<f32>>.
// #include "fmaExact.wgsl"
// #include "opaque.wgsl"

fn bilinear(c: u32, y: u32, x: u32) -> f32 {
  let ty = taps_y[y];
  let wy = weights_y[y];
  let tx = taps_x[x];
  let wx = weights_x[x];
  let plane = c * p.in_h * p.in_w;
  let a = plane + ty.x * p.in_w;
  let b = plane + ty.y * p.in_w;
  let r0 = fma_exact(data[a + tx.x], wx.x, opaque(data[a + tx.y] * wx.y));
  let r1 = fma_exact(data[b + tx.x], wx.x, opaque(data[b + tx.y] * wx.y));
  return fma_exact(r0, wy.x, opaque(r1 * wy.y));
}
