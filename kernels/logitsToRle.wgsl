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
  never: u32,   // always 0: see opaque()
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> taps_y: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights_y: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> taps_x: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read> weights_x: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> mask: array<u32>;

fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// x, hidden from the shader compiler's algebra: an addition of a product is otherwise free to become
// one fused multiply-add (WGSL allows contraction), which would change the rounding the reference has.
fn opaque(x: f32) -> f32 {
  return select(x, 0.0, p.never != 0u);
}

// A float32 as two halves of at most 12 significant bits each (the high one by masking the low 12
// mantissa bits: a bit operation the shader compiler cannot simplify away, unlike Veltkamp's split).
fn split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return vec2<f32>(hi, opaque(a - hi));
}

// a * b + c with the product exact (Dekker's two-product, then Knuth's two-sum), rounded once more:
// the reference's lerpF32 (an fma bar double-rounding ties). WGSL's fma() may be unfused.
fn fma_exact(a: f32, b: f32, c: f32) -> f32 {
  // Every intermediate goes through opaque(): the compiler's algebra would otherwise cancel the
  // error terms (a - (a - b) = b, ...), which are the whole point.
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

fn logit(c: u32, y: u32, x: u32) -> f32 {
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
    if (logit(c, i / p.out_w, i % p.out_w) > p.cutoff) { bits |= 1u << b; }
  }
  mask[t] = bits;
}
