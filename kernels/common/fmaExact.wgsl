// Shared by the kernels that `// #include "fmaExact.wgsl"` (appended by scripts/gen-wgsl.mjs):
// fma_exact(a, b, c), the reference's lerpF32 (an fma bar double-rounding ties), since WGSL's fma()
// may be unfused and a * b + c may be contracted into one. Exact on any adapter whose f32 add and
// multiply are correctly rounded (lavapipe, NVIDIA, AMD).
// #include "opaque.wgsl"

// A float32 as two halves of at most 12 significant bits each (the high one by masking the low 12
// mantissa bits: a bit operation the shader compiler cannot simplify away, unlike Veltkamp's split).
fn split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  return vec2<f32>(hi, opaque(a - hi));
}

// a * b + c with the product exact (Dekker's two-product, then Knuth's two-sum), rounded once more.
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
